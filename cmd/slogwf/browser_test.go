package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// The headless Chromium that the browser tests share, each in a tab of
// its own. It starts with the first test that needs it and stops after the
// last test (see TestMain).
var browser struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	err    error
}

// chromiumPath returns where Chromium is: $CHROMIUM, else chromium on the
// PATH.
func chromiumPath() (string, error) {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p, nil
	}
	return exec.LookPath("chromium")
}

// startBrowser starts the shared browser, with the flags that keep it off
// the network: this machine has none but loopback, and a page of slogwf
// needs none.
func startBrowser() {
	path, err := chromiumPath()
	if err != nil {
		browser.err = err
		return
	}
	dir, err := os.MkdirTemp("", "slogwf-chromium-")
	if err != nil {
		browser.err = err
		return
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(dir),
		// Chromium's own temporary files (its singleton socket's directory,
		// left behind when the browser is killed) go in dir too, removed
		// with it.
		chromedp.Env("TMPDIR="+dir),
		chromedp.NoSandbox, // tests run as root in CI
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(1400, 1600),
		// Scrollbars that take room, as on Windows and most Linux
		// desktops, rather than none: a layout must hold with them.
		chromedp.Flag("hide-scrollbars", false),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	browser.ctx = ctx
	browser.cancel = func() {
		cancel()
		cancelAlloc()
		os.RemoveAll(dir)
	}
	// The first action starts the browser, which lives as long as ctx.
	browser.err = chromedp.Do(ctx, chromedp.Navigate("about:blank"))
}

// stopBrowser stops the shared browser, if it started.
func stopBrowser() {
	if browser.cancel != nil {
		browser.cancel()
	}
}

// page is a tab of the shared browser, and what the page wrote to its
// console.
type page struct {
	t   *testing.T
	ctx context.Context

	mu       sync.Mutex
	messages []chromedp.ConsoleMessage
}

// openPage opens url in a new tab and waits until the report on it is
// ready. Without Chromium the test is skipped, unless $CI is set: in CI,
// .ci/run installs it, and a browser test never skips there.
func openPage(t *testing.T, url string) *page {
	t.Helper()
	browser.once.Do(startBrowser)
	if browser.err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("no headless Chromium (install the Debian package chromium): %v", browser.err)
		}
		t.Fatalf("no headless Chromium: %v", browser.err)
	}
	ctx, cancel := chromedp.NewContext(browser.ctx)
	t.Cleanup(cancel)
	p := &page{t: t, ctx: ctx}
	messages := chromedp.Console(ctx)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(url)))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.messages = append(p.messages, m)
			p.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	p.wait(`document.documentElement.dataset.readyMs !== undefined`)
	return p
}

// do runs actions in the page.
func (p *page) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	require.NoError(p.t, chromedp.Do(ctx, actions...))
}

// wait waits until the expression is true in the page.
func (p *page) wait(expr string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(10*time.Millisecond)))
	require.NoError(p.t, err, "waiting for %s", expr)
}

// eval evaluates expr in the page and decodes its value into v.
func (p *page) eval(expr string, v any) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr))
	require.NoError(p.t, err, expr)
	if v != nil {
		require.NoError(p.t, json.Unmarshal(raw, v), "%s: %s", expr, raw)
	}
}

// str returns the string value of expr in the page.
func (p *page) str(expr string) string {
	p.t.Helper()
	var s string
	p.eval(expr, &s)
	return s
}

// num returns the number value of expr in the page.
func (p *page) num(expr string) float64 {
	p.t.Helper()
	var n float64
	p.eval(expr, &n)
	return n
}

// keys types keys into the element in focus.
func (p *page) keys(keys string) {
	p.t.Helper()
	p.do(chromedp.KeyEvent(keys))
}

// noConsoleErrors checks that the page wrote no error, exception or
// violation of its Content-Security-Policy to its console.
func (p *page) noConsoleErrors() {
	p.t.Helper()
	// A round trip, so that what the page did before has been reported.
	p.eval(`1`, nil)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.messages {
		if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException || m.Type == chromedp.ConsoleWarning {
			p.t.Errorf("browser console: %s", m)
		}
	}
}
