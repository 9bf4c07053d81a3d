package slogwfotel

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"weak"

	"github.com/slogwf/slogwf/internal/tree"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

type nopExporter struct{}

func (nopExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (nopExporter) Shutdown(context.Context) error                             { return nil }

// blockedExporter blocks every export until released, or until the export's
// context is done.
type blockedExporter struct {
	entered chan struct{} // receives once per export that started
	release chan struct{}
	mu      sync.Mutex
	spans   int
}

func newBlockedExporter() *blockedExporter {
	return &blockedExporter{entered: make(chan struct{}, 100), release: make(chan struct{})}
}

func (b *blockedExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	b.entered <- struct{}{}
	select {
	case <-b.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	b.mu.Lock()
	b.spans += len(spans)
	b.mu.Unlock()
	return nil
}

func (b *blockedExporter) Shutdown(context.Context) error { return nil }

// scopes returns n actions of the demo workflow.
func scopes(n int) []*tree.Ended {
	out := make([]*tree.Ended, n)
	for i := range out {
		s := *demo()[1]
		out[i] = &s
	}
	return out
}

func TestABlockedExporterMakesTheQueueDropNotTheProducerWait(t *testing.T) {
	blocked := newBlockedExporter()
	var out strings.Builder
	e := New(blocked, &Options{QueueSize: 4, BatchSize: 1, ErrorOutput: &out})
	e.ExportScope(scopes(1)[0])
	<-blocked.entered // the worker holds one span in an export that does not return

	done := make(chan struct{})
	go func() { // the producer: a hundred scopes end while the backend hangs
		defer close(done)
		for _, s := range scopes(100) {
			e.ExportScope(s)
		}
	}()
	<-done // every export returned while the exporter was still blocked
	st := e.Stats()
	assert.Equal(t, int64(96), st.Dropped, "the queue holds 4")
	assert.Zero(t, st.Exported)

	close(blocked.release)
	require.NoError(t, e.Shutdown(context.Background()))
	assert.Equal(t, Stats{Exported: 5, Dropped: 96}, e.Stats(), "what was queued is sent at Shutdown")
	assert.Equal(t, 5, blocked.spans)
	assert.Equal(t, 1, strings.Count(out.String(), "\n"), "reported once: %q", out.String())
	assert.Contains(t, out.String(), "queue is full")
}

func TestScopesAfterShutdownAreDropped(t *testing.T) {
	var out strings.Builder
	e := New(nopExporter{}, &Options{ErrorOutput: &out})
	require.NoError(t, e.Shutdown(context.Background()))
	require.NoError(t, e.Shutdown(context.Background()), "again: nothing")
	e.ExportScope(scopes(1)[0])
	assert.Equal(t, Stats{Dropped: 1}, e.Stats())
	require.NoError(t, e.ForceFlush(context.Background()))
}

func TestShutdownGivesUpOnAHangingExportWhenItsContextEnds(t *testing.T) {
	blocked := newBlockedExporter()
	e := New(blocked, &Options{BatchSize: 1, ErrorOutput: &strings.Builder{}})
	e.ExportScope(scopes(1)[0])
	<-blocked.entered
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := e.Shutdown(ctx)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, Stats{Failed: 1}, e.Stats(), "the export under way is canceled") // and goleak sees no worker left
}

// A batch that never fills is sent all the same, without a flush, once
// BatchTimeout passes.
func TestABatchThatNeverFillsIsSentWithoutAFlush(t *testing.T) {
	mem := &countingExporter{exported: make(chan int, 10)}
	e := New(mem, &Options{BatchSize: 100, BatchTimeout: time.Millisecond})
	defer e.Shutdown(context.Background())
	for _, s := range scopes(3) {
		e.ExportScope(s)
	}
	n := 0
	for n < 3 {
		n += <-mem.exported // without a flush: the timer sends the batch
	}
	assert.Equal(t, 3, n)
}

type countingExporter struct{ exported chan int }

func (c *countingExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	c.exported <- len(spans)
	return nil
}
func (c *countingExporter) Shutdown(context.Context) error { return nil }

func TestAFailingBackendIsCountedAndReportedOnce(t *testing.T) {
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "backend down for maintenance", http.StatusInternalServerError)
	}))
	defer failing.Close()
	down, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	downURL := "http://" + down.Addr().String()
	require.NoError(t, down.Close()) // nothing listens there now

	tests := []struct {
		name, url, says string
	}{
		{"answering 500", failing.URL, "500"},
		{"down", downURL, "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp, err := otlptracehttp.New(context.Background(),
				otlptracehttp.WithEndpointURL(tt.url+"/v1/traces"),
				otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}))
			require.NoError(t, err)
			var out strings.Builder
			e := New(exp, &Options{BatchSize: 2, ErrorOutput: &out})
			for _, s := range scopes(6) {
				e.ExportScope(s)
				require.NoError(t, e.ForceFlush(context.Background()))
			}
			require.NoError(t, e.Shutdown(context.Background()))
			assert.Equal(t, Stats{Failed: 6}, e.Stats())
			assert.Equal(t, 1, strings.Count(out.String(), "\n"), "reported once: %q", out.String())
			assert.Contains(t, out.String(), tt.says)
		})
	}
}

func TestAnExporterErrorIsCountedPerSpan(t *testing.T) {
	var out strings.Builder
	e := New(errExporter{}, &Options{BatchSize: 3, ErrorOutput: &out})
	for _, s := range scopes(7) {
		e.ExportScope(s)
	}
	require.NoError(t, e.Shutdown(context.Background()))
	assert.Equal(t, Stats{Failed: 7}, e.Stats())
	assert.Contains(t, out.String(), "slogwfotel: export: refused")
}

type errExporter struct{}

func (errExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error {
	return errors.New("refused")
}
func (errExporter) Shutdown(context.Context) error { return nil }

func TestTheRootPackageImportsNoOpenTelemetry(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/slogwf/slogwf").CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "github.com/google/uuid", "the list is of the root package's dependencies")
	for dep := range strings.Lines(string(out)) {
		assert.NotContains(t, dep, "opentelemetry", "a program that imports only slogwf compiles no OpenTelemetry")
	}
}

// switchExporter fails its exports until it is told to take them, and
// counts them.
type switchExporter struct {
	mu        sync.Mutex
	calls, ok int
	up        bool
}

func (s *switchExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if !s.up {
		return errors.New("down")
	}
	s.ok += len(spans)
	return nil
}
func (s *switchExporter) Shutdown(context.Context) error { return nil }

func (s *switchExporter) set(up bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.up = up
}

func (s *switchExporter) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func TestAfterAFailedExportScopesAreNotTriedForAWhileThatGrows(t *testing.T) {
	backend := &switchExporter{}
	e := New(backend, &Options{ErrorOutput: io.Discard})
	now := time.Unix(1000, 0)
	e.now = func() time.Time { return now } // read by e's goroutine after each flush
	export := func(n int) {
		for _, s := range scopes(n) {
			e.ExportScope(s)
		}
		require.NoError(t, e.ForceFlush(context.Background()))
	}
	tests := []struct {
		after time.Duration
		up    bool
		n     int
		calls int // in all, so far
	}{
		{0, false, 1, 1},                      // fails
		{999 * time.Millisecond, false, 5, 1}, // not tried
		{time.Millisecond, false, 1, 2},       // tried after 1s: fails again
		{1999 * time.Millisecond, true, 1, 2}, // not tried for 2s now
		{time.Millisecond, true, 2, 3},        // tried: sent
		{0, false, 1, 4},                      // a success tries the next at once
		{time.Second, false, 1, 5},            // and the backoff starts again at 1s
	}
	for i, tt := range tests {
		now = now.Add(tt.after)
		backend.set(tt.up)
		export(tt.n)
		require.Equal(t, tt.calls, backend.count(), "step %d", i)
	}
	require.NoError(t, e.Shutdown(context.Background()))
	assert.Equal(t, Stats{Exported: 2, Failed: 1 + 5 + 1 + 1 + 1 + 1}, e.Stats())
}

// A scope not tried in the backoff is let go at once: the queue, taken
// for the next scopes, keeps no pointer to it.
func TestScopesNotTriedInTheBackoffAreLetGo(t *testing.T) {
	backend := &switchExporter{}
	e := New(backend, &Options{ErrorOutput: io.Discard})
	defer e.Shutdown(context.Background())
	e.ExportScope(scopes(1)[0]) // fails: the backoff starts
	require.NoError(t, e.ForceFlush(context.Background()))
	var gone []weak.Pointer[tree.Ended]
	for _, s := range scopes(8) {
		gone = append(gone, weak.Make(s))
		e.ExportScope(s)
	}
	require.NoError(t, e.ForceFlush(context.Background()))
	require.Equal(t, 1, backend.count(), "not tried")
	runtime.GC()
	for i, p := range gone {
		assert.Nil(t, p.Value(), "scope %d is kept", i)
	}
}

// Losses are reported from the goroutines that end scopes and from the
// Exporter's own, each report whole, to any ErrorOutput.
func TestLossesAreReportedWholeFromAnyGoroutine(t *testing.T) {
	var out strings.Builder
	e := New(tracetest.NewInMemoryExporter(), &Options{ErrorOutput: &out})
	defer e.Shutdown(context.Background())
	var wg sync.WaitGroup
	for _, msg := range []string{"from a caller", "from the exporter"} {
		wg.Go(func() { e.report(msg) })
	}
	wg.Wait()
	assert.Equal(t, 2, strings.Count(out.String(), "\n"))
	assert.Contains(t, out.String(), "from a caller (counted")
	assert.Contains(t, out.String(), "from the exporter (counted")
}
