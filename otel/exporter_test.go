package slogwfotel

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"weak"

	"github.com/slogwf/slogwf/internal/tree"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
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
	require.EqualError(t, e.Shutdown(context.Background()), "slogwfotel: shutdown: 96 spans lost")
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
	require.EqualError(t, e.ForceFlush(context.Background()), "slogwfotel: flush: 1 span lost", "a flush sends nothing now, but says so")
	require.NoError(t, e.Shutdown(context.Background()), "said once")
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
			e := New(exp, &Options{BatchSize: 2, BatchTimeout: time.Hour, ErrorOutput: &out})
			for _, s := range scopes(6) {
				e.ExportScope(s)
				require.ErrorContains(t, e.ForceFlush(context.Background()), tt.says, "each flush tries")
			}
			require.NoError(t, e.Shutdown(context.Background()), "nothing left to send")
			assert.Equal(t, Stats{Failed: 6}, e.Stats())
			assert.Equal(t, 1, strings.Count(out.String(), "\n"), "reported once: %q", out.String())
			assert.Contains(t, out.String(), tt.says)
		})
	}
}

// An Exporter given no span exporter (nil, or a nil pointer) fails as one
// whose exports fail: it does not panic.
func TestAnExporterErrorIsCountedPerSpan(t *testing.T) {
	for _, tt := range []struct {
		name string
		exp  sdktrace.SpanExporter
		want error
	}{
		{"an error of the span exporter", errExporter{}, errRefused},
		{"no span exporter", nil, errNoExporter},
		{"a nil *otlptrace.Exporter, as otlptracehttp.New returns with its error", failedOTLP(t), errNoExporter},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			e := New(tt.exp, &Options{BatchSize: 3, ErrorOutput: &out})
			for _, s := range scopes(7) {
				e.ExportScope(s)
			}
			err := e.Shutdown(context.Background()) // whether it sent the last batch or the Exporter had
			require.EqualError(t, err, "slogwfotel: shutdown: 7 spans lost: "+tt.want.Error())
			require.ErrorIs(t, err, tt.want)
			assert.Equal(t, Stats{Failed: 7}, e.Stats())
			assert.Contains(t, out.String(), "slogwfotel: export: "+tt.want.Error())
		})
	}
}

// failedOTLP returns what otlptracehttp.New returns with its error: a
// SpanExporter that holds a nil *otlptrace.Exporter, not a nil one.
func failedOTLP(t *testing.T) sdktrace.SpanExporter {
	exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithInsecure(), otlptracehttp.WithTLSClientConfig(&tls.Config{}))
	require.Error(t, err)
	require.Nil(t, exp)
	return exp
}

type errExporter struct{}

var errRefused = errors.New("refused")

func (errExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error {
	return errRefused
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
		return errDown
	}
	s.ok += len(spans)
	return nil
}
func (s *switchExporter) Shutdown(context.Context) error { return nil }

var errDown = errors.New("down")

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

// settle waits until the Exporter has counted n scopes in all, then until
// its goroutine is done with them: a flush of the queue they left empty
// answers once it is. It returns the flush's error, which says how many of
// them were lost since the last flush.
func settle(t *testing.T, e *Exporter, n int64) error {
	t.Helper()
	require.Eventually(t, func() bool { st := e.Stats(); return st.Exported+st.Failed == n }, 10*time.Second, time.Millisecond)
	return e.ForceFlush(context.Background())
}

// The Exporter's own batches wait out the backoff; a flush does not, and
// one that gets through ends it.
func TestAfterAFailedExportScopesAreNotTriedForAWhileThatGrowsButAFlushTriesThem(t *testing.T) {
	backend := &switchExporter{}
	e := New(backend, &Options{BatchSize: 2, BatchTimeout: time.Hour, ErrorOutput: io.Discard})
	now := time.Unix(1000, 0)
	e.now = func() time.Time { return now } // read by e's goroutine after each ExportScope
	tests := []struct {
		after time.Duration
		up    bool
		flush bool   // one scope, sent by ForceFlush; else a batch of two, sent by the Exporter
		calls int    // in all, so far
		lost  string // what the flush after the step says, "" for nil
	}{
		{0, false, false, 1, "2 spans lost: down"},                      // fails
		{999 * time.Millisecond, false, false, 1, "2 spans lost: down"}, // not tried
		{0, false, true, 2, "1 span lost: down"},                        // a flush tries: fails again
		{1999 * time.Millisecond, true, false, 2, "2 spans lost: down"}, // not tried for 2s now
		{0, true, true, 3, ""},                                          // a flush tries: sent
		{0, true, false, 4, ""},                                         // which ends the backoff
		{0, false, false, 5, "2 spans lost: down"},                      // fails
		{time.Second, false, false, 6, "2 spans lost: down"},            // and the backoff starts again at 1s
	}
	var n int64
	for i, tt := range tests {
		now = now.Add(tt.after)
		backend.set(tt.up)
		batch := 2
		if tt.flush {
			batch = 1
		}
		for _, s := range scopes(batch) {
			e.ExportScope(s)
		}
		n += int64(batch)
		var err error
		if tt.flush {
			err = e.ForceFlush(context.Background())
		} else {
			err = settle(t, e, n)
		}
		if tt.lost == "" {
			require.NoError(t, err, "step %d", i)
		} else {
			require.EqualError(t, err, "slogwfotel: flush: "+tt.lost, "step %d", i)
			require.ErrorIs(t, err, errDown, "step %d", i)
		}
		require.Equal(t, tt.calls, backend.count(), "step %d", i)
	}
	require.NoError(t, e.Shutdown(context.Background()))
	assert.Equal(t, Stats{Exported: 1 + 2, Failed: 2 + 2 + 1 + 2 + 2 + 2}, e.Stats())
}

// ForceFlush and Shutdown send what is queued though an export failed a
// moment ago, and say whether it went out, as the OpenTelemetry SDK's
// BatchSpanProcessor.ForceFlush and the log SDK's BatchProcessor.Shutdown
// do: a program that flushes before it exits learns that spans were lost.
func TestForceFlushAndShutdownTryWhatIsQueuedInTheBackoffAndReturnTheExportsError(t *testing.T) {
	for _, c := range flushAndShutdown {
		for _, up := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s, the backend up %v", c.name, up), func(t *testing.T) {
				backend := &switchExporter{}
				e := New(backend, &Options{BatchTimeout: time.Hour, ErrorOutput: io.Discard})
				defer e.Shutdown(context.Background())
				e.now = func() time.Time { return time.Unix(1000, 0) } // the backoff never ends by itself
				e.ExportScope(scopes(1)[0])
				err := e.ForceFlush(context.Background())
				require.ErrorIs(t, err, errDown)
				require.EqualError(t, err, "slogwfotel: flush: 1 span lost: down")

				backend.set(up)
				for _, s := range scopes(2) {
					e.ExportScope(s)
				}
				err = c.call(e)
				assert.Equal(t, 2, backend.count(), "tried in the backoff")
				if up {
					require.NoError(t, err)
					assert.Equal(t, Stats{Exported: 2, Failed: 1}, e.Stats())
				} else {
					require.ErrorIs(t, err, errDown)
					require.EqualError(t, err, "slogwfotel: "+c.name+": 2 spans lost: down")
					assert.Equal(t, Stats{Failed: 3}, e.Stats())
				}
			})
		}
	}
}

// flushAndShutdown are the calls that send what is queued and say what
// became of it.
var flushAndShutdown = []struct {
	name string
	call func(*Exporter) error
}{
	{"flush", func(e *Exporter) error { return e.ForceFlush(context.Background()) }},
	{"shutdown", func(e *Exporter) error { return e.Shutdown(context.Background()) }},
}

// ForceFlush and Shutdown fail when a scope handed to the Exporter since
// the last of them was lost, whoever lost it, saying how many and why: a
// program that flushes before it exits learns that spans were lost, also
// those the Exporter's own goroutine lost just before the flush, and finds
// the queue empty. Each loss is said once.
func TestForceFlushAndShutdownSayHowManyScopesWereLostSinceTheLastOfThem(t *testing.T) {
	waitFailed := func(t *testing.T, e *Exporter, n int64) {
		require.Eventually(t, func() bool { return e.Stats().Failed == n }, 10*time.Second, time.Millisecond)
	}
	tests := []struct {
		name  string
		lose  func(t *testing.T) *Exporter // loses spans before the call
		says  string                       // after "slogwfotel: flush: "
		cause error
	}{
		{"dropped untried in the backoff by the Exporter's goroutine", func(t *testing.T) *Exporter {
			backend := &switchExporter{}
			e := New(backend, &Options{BatchSize: 2, BatchTimeout: time.Hour, ErrorOutput: io.Discard})
			e.now = func() time.Time { return time.Unix(1000, 0) } // the backoff never ends by itself
			e.ExportScope(scopes(1)[0])
			require.ErrorIs(t, e.ForceFlush(context.Background()), errDown) // the backoff starts
			for _, s := range scopes(2) {                                   // a batch: the Exporter's goroutine takes it
				e.ExportScope(s)
			}
			waitFailed(t, e, 3)
			require.Equal(t, 1, backend.count(), "dropped untried")
			return e
		}, "2 spans lost: down", errDown},
		{"failed in an export of the Exporter's goroutine", func(t *testing.T) *Exporter {
			e := New(&switchExporter{}, &Options{BatchSize: 2, BatchTimeout: time.Hour, ErrorOutput: io.Discard})
			for _, s := range scopes(2) {
				e.ExportScope(s)
			}
			waitFailed(t, e, 2)
			return e
		}, "2 spans lost: down", errDown},
		{"dropped from a full queue", func(t *testing.T) *Exporter {
			blocked := newBlockedExporter()
			e := New(blocked, &Options{QueueSize: 1, BatchSize: 1, ErrorOutput: io.Discard})
			e.ExportScope(scopes(1)[0])
			<-blocked.entered
			for _, s := range scopes(2) { // the second finds the queue full
				e.ExportScope(s)
			}
			close(blocked.release)
			return e
		}, "1 span lost", nil},
		{"a scope that gives no span", func(t *testing.T) *Exporter {
			e := New(nopExporter{}, &Options{ErrorOutput: io.Discard})
			e.ExportScope(&tree.Ended{Workflow: "research", ID: chatID})
			return e
		}, `1 span lost: otelspan: workflow ID "research" is not a UUID`, nil},
	}
	for _, tt := range tests {
		for _, c := range flushAndShutdown {
			t.Run(tt.name+", "+c.name, func(t *testing.T) {
				e := tt.lose(t)
				defer e.Shutdown(context.Background())
				err := c.call(e)
				require.EqualError(t, err, "slogwfotel: "+c.name+": "+tt.says)
				if tt.cause != nil {
					require.ErrorIs(t, err, tt.cause)
				}
				require.NoError(t, c.call(e), "said once")
			})
		}
	}
}

// A flush whose context ends cancels its export, as Shutdown's does: no
// export outlives the ForceFlush that waited for it.
func TestAFlushGivenUpCancelsItsExport(t *testing.T) {
	blocked := newBlockedExporter()
	var out strings.Builder
	e := New(blocked, &Options{BatchTimeout: time.Hour, ExportTimeout: time.Hour, ErrorOutput: &out})
	e.ExportScope(scopes(1)[0])
	giveUpFlush(t, e, blocked.entered)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.EqualError(t, e.Shutdown(ctx), "slogwfotel: shutdown: 1 span lost", "the flush given up left it to Shutdown to say")
	require.NoError(t, ctx.Err(), "no export hangs on")
	assert.Equal(t, Stats{Failed: 1}, e.Stats())
	assert.Contains(t, out.String(), "slogwfotel: export: context canceled")
}

// A scope not tried in the backoff is let go at once: the queue, taken
// for the next scopes, keeps no pointer to it.
func TestScopesNotTriedInTheBackoffAreLetGo(t *testing.T) {
	backend := &switchExporter{}
	e := New(backend, &Options{BatchSize: 8, BatchTimeout: time.Hour, ErrorOutput: io.Discard})
	defer e.Shutdown(context.Background())
	e.ExportScope(scopes(1)[0]) // fails: the backoff starts
	require.ErrorIs(t, e.ForceFlush(context.Background()), errDown)
	var gone []weak.Pointer[tree.Ended]
	for _, s := range scopes(8) { // a batch: the Exporter's goroutine takes it
		gone = append(gone, weak.Make(s))
		e.ExportScope(s)
	}
	require.EqualError(t, settle(t, e, 9), "slogwfotel: flush: 8 spans lost: down")
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

// giveUpFlush calls ForceFlush and cancels it once its export entered.
func giveUpFlush(t *testing.T, e *Exporter, entered <-chan struct{}) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	flushed := make(chan error, 1)
	go func() { flushed <- e.ForceFlush(ctx) }()
	<-entered
	cancel()
	require.ErrorIs(t, <-flushed, context.Canceled)
}

// stallingExporter holds its first export until its context ends; the
// exports after it return then.
type stallingExporter struct {
	entered chan struct{}
	then    error
	mu      sync.Mutex
	calls   int
}

func (s *stallingExporter) ExportSpans(ctx context.Context, _ []sdktrace.ReadOnlySpan) error {
	s.mu.Lock()
	s.calls++
	first := s.calls == 1
	s.mu.Unlock()
	if first {
		close(s.entered)
		<-ctx.Done()
		return ctx.Err()
	}
	return s.then
}
func (s *stallingExporter) Shutdown(context.Context) error { return nil }

func (s *stallingExporter) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// A flush whose caller gave up says nothing of the backend: the scopes
// that end after it are tried at once, not held back by a backoff, and a
// backend that fails after it is reported, not hidden behind the report of
// the flush's cancel.
func TestAFlushGivenUpSaysNothingOfTheBackend(t *testing.T) {
	for _, tt := range []struct {
		name     string
		then     error
		stats    Stats
		lost     string // what the flush after says
		reported string
	}{
		{"the backend is up", nil, Stats{Exported: 2, Failed: 1}, "1 span lost", ""},
		{"the backend fails later", errDown, Stats{Failed: 3}, "3 spans lost: down", "slogwfotel: export: down"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			backend := &stallingExporter{entered: make(chan struct{}), then: tt.then}
			var out strings.Builder
			e := New(backend, &Options{BatchSize: 2, BatchTimeout: time.Hour, ExportTimeout: time.Hour, ErrorOutput: &out})
			e.now = func() time.Time { return time.Unix(1000, 0) } // a backoff would never end by itself
			e.ExportScope(scopes(1)[0])
			giveUpFlush(t, e, backend.entered)

			for _, s := range scopes(2) { // a batch: the Exporter's goroutine takes it
				e.ExportScope(s)
			}
			require.EqualError(t, settle(t, e, 3), "slogwfotel: flush: "+tt.lost, "the span of the flush given up, and the batch if it failed")
			assert.Equal(t, 2, backend.count(), "the batch after the flush is tried")
			require.NoError(t, e.Shutdown(context.Background()))
			assert.Equal(t, tt.stats, e.Stats())
			if tt.reported != "" {
				assert.Contains(t, out.String(), tt.reported)
			}
		})
	}
}

// downThenHangingExporter fails its first export, then holds the next one
// until its context ends.
type downThenHangingExporter struct {
	calls   atomic.Int32
	hanging chan struct{} // closed when the second export starts
}

func (d *downThenHangingExporter) ExportSpans(ctx context.Context, _ []sdktrace.ReadOnlySpan) error {
	if d.calls.Add(1) == 1 {
		return errDown
	}
	close(d.hanging)
	<-ctx.Done()
	return ctx.Err()
}
func (d *downThenHangingExporter) Shutdown(context.Context) error { return nil }

// A Shutdown whose ctx ends before its exports do says so, as ForceFlush
// does, also when spans lost before it keep another cause: errors.Is finds
// both.
func TestAShutdownGivenUpReturnsItsContextsErrorAlsoAfterALossWithAnotherCause(t *testing.T) {
	backend := &downThenHangingExporter{hanging: make(chan struct{})}
	e := New(backend, &Options{BatchSize: 2, BatchTimeout: time.Hour, ExportTimeout: time.Hour, ErrorOutput: io.Discard})
	e.now = func() time.Time { return time.Unix(1000, 0) } // the backoff never ends by itself
	for _, s := range scopes(2) {                          // a batch: the Exporter's goroutine sends it, and it fails
		e.ExportScope(s)
	}
	require.Eventually(t, func() bool { return e.Stats().Failed == 2 }, 10*time.Second, time.Millisecond)
	e.ExportScope(scopes(1)[0]) // Shutdown sends it, and its export hangs

	ctx, cancel := context.WithCancel(context.Background())
	shut := make(chan error, 1)
	go func() { shut <- e.Shutdown(ctx) }()
	<-backend.hanging
	cancel()
	err := <-shut
	require.ErrorIs(t, err, context.Canceled, "%v", err)
	require.ErrorIs(t, err, errDown)
	require.ErrorContains(t, err, "3 spans lost")
	assert.Equal(t, Stats{Failed: 3}, e.Stats())
}

// The batch timer may find the queue empty in the backoff, a flush having
// taken it: that loses no span, so it gives no cause to the next loss. A
// scope dropped after it is not said lost to the backend's error.
func TestAnEmptyBatchInTheBackoffGivesNoCauseToALaterLoss(t *testing.T) {
	now := time.Unix(1000, 0)
	e := &Exporter{ // no goroutine: the test is it
		errOut: io.Discard, closed: true,
		now: func() time.Time { return now }, retryAt: now.Add(time.Second), retryErr: errDown,
	}
	e.sendQueued(context.Background(), false, nil, nil) // the timer fires on an empty queue
	e.ExportScope(scopes(1)[0])                         // dropped: shut down
	err := e.losses()
	require.EqualError(t, err, "1 span lost")
	assert.NotErrorIs(t, err, errDown)
}

// flakyExporter fails every third export and honors its context.
type flakyExporter struct{ calls atomic.Int64 }

func (f *flakyExporter) ExportSpans(ctx context.Context, _ []sdktrace.ReadOnlySpan) error {
	if f.calls.Add(1)%3 == 0 {
		return errDown
	}
	return ctx.Err()
}
func (f *flakyExporter) Shutdown(context.Context) error { return nil }

// Whatever the order in which scopes end, flushes give up or not, the
// queue overflows, exports fail and Shutdown comes, each span lost is said
// once by a ForceFlush or Shutdown, and Stats counts what they said.
func TestEachSpanLostIsSaidOnceWhoeverLosesItAndWhenever(t *testing.T) {
	lostIn := regexp.MustCompile(`(\d+) spans? lost`)
	for round := range 10 {
		e := New(&flakyExporter{}, &Options{QueueSize: 64, BatchSize: 3, BatchTimeout: time.Nanosecond, ErrorOutput: io.Discard})
		var said atomic.Int64
		say := func(err error) {
			if m := lostIn.FindStringSubmatch(fmt.Sprint(err)); m != nil {
				n, _ := strconv.Atoi(m[1])
				said.Add(int64(n))
			}
		}
		var wg sync.WaitGroup
		halfway := make(chan struct{})
		for p := range 3 { // the goroutines that end scopes, some giving no span
			wg.Go(func() {
				for i := range 300 {
					if p == 0 && i == 150 {
						close(halfway)
					}
					s := scopes(1)[0]
					if i%50 == p {
						s = &tree.Ended{Workflow: "research", ID: chatID}
					}
					e.ExportScope(s)
				}
			})
		}
		for f := range 3 { // flushes, some given up
			wg.Go(func() {
				for i := range 100 {
					ctx, cancel := context.WithCancel(context.Background())
					if (i+f)%7 == 0 {
						cancel()
					}
					say(e.ForceFlush(ctx))
					cancel()
				}
			})
		}
		wg.Go(func() { // a Shutdown in their midst, given up every other round
			<-halfway
			ctx, cancel := context.WithCancel(context.Background())
			if round%2 == 0 {
				cancel()
			}
			say(e.Shutdown(ctx))
			cancel()
		})
		wg.Wait()
		say(e.Shutdown(context.Background()))
		st := e.Stats()
		require.Equal(t, int64(3*300), st.Exported+st.Dropped+st.Failed, "round %d: each scope counted once", round)
		require.Equal(t, st.Dropped+st.Failed, said.Load(), "round %d: %+v", round, st)
	}
}

// An export that fails starts the backoff for the rest of the scopes taken
// with it: against a backend that hangs, each batch would wait out
// ExportTimeout in turn, and a program that ends many scopes at once would
// keep the Exporter busy for minutes.
func TestTheBatchesTakenWithOneThatFailedAreNotTried(t *testing.T) {
	blocked := newBlockedExporter()
	e := New(blocked, &Options{BatchSize: 2, BatchTimeout: time.Hour, ExportTimeout: 10 * time.Millisecond, ErrorOutput: io.Discard})
	e.mu.Lock() // six scopes in the queue before the Exporter takes any: one take
	e.queue = append(e.queue, scopes(6)...)
	e.mu.Unlock()
	e.ready <- struct{}{}
	require.EqualError(t, settle(t, e, 6), "slogwfotel: flush: 6 spans lost: context deadline exceeded")
	require.NoError(t, e.Shutdown(context.Background()))
	assert.Equal(t, 1, len(blocked.entered), "exports tried")
	assert.Equal(t, Stats{Failed: 6}, e.Stats())
}

// shutdownUnderWay returns an Exporter whose first Shutdown, from another
// goroutine, waits on an export that blocked holds; first receives what
// it returns.
func shutdownUnderWay(t *testing.T) (*Exporter, *blockedExporter, <-chan error) {
	t.Helper()
	blocked := newBlockedExporter()
	e := New(blocked, &Options{BatchSize: 1, ErrorOutput: io.Discard})
	e.ExportScope(scopes(1)[0])
	<-blocked.entered
	first := make(chan error, 1)
	go func() { first <- e.Shutdown(context.Background()) }()
	require.Eventually(t, func() bool { e.mu.Lock(); defer e.mu.Unlock(); return e.closed }, 10*time.Second, time.Millisecond)
	return e, blocked, first
}

// A second Shutdown, from another goroutine while the first sends what is
// queued, returns once the first has, as sync.Once does: a program that
// shuts down from two places (a signal handler and main) does not exit
// from either while spans are still being sent.
func TestASecondShutdownReturnsOnceTheFirstHas(t *testing.T) {
	e, blocked, first := shutdownUnderWay(t)
	type result struct {
		err  error
		sent int
	}
	second := make(chan result, 1)
	go func() {
		err := e.Shutdown(context.Background())
		blocked.mu.Lock()
		defer blocked.mu.Unlock()
		second <- result{err, blocked.spans}
	}()
	time.Sleep(50 * time.Millisecond) // a second Shutdown that does not wait has returned by now
	close(blocked.release)
	require.NoError(t, <-first)
	r := <-second
	require.NoError(t, r.err)
	assert.Equal(t, 1, r.sent, "spans sent when the second Shutdown returned")
}

// A second Shutdown gives up when its context ends before the first
// returns.
func TestASecondShutdownGivesUpWhenItsContextEnds(t *testing.T) {
	e, blocked, first := shutdownUnderWay(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, e.Shutdown(ctx), context.Canceled)
	close(blocked.release)
	require.NoError(t, <-first)
}

// Spans of many hosts and processes can be told apart: the default
// resource names the host and the process, with what resource.Default()
// says; a resource given is the program's, as given.
func TestTheDefaultResourceNamesTheHostAndTheProcessAndAGivenOneIsKept(t *testing.T) {
	host, err := os.Hostname()
	require.NoError(t, err)
	exe, err := os.Executable()
	require.NoError(t, err)
	given := resource.NewSchemaless(attribute.String("service.name", "mine"))
	tests := []struct {
		name     string
		resource *resource.Resource
		want     map[attribute.Key]attribute.Value // nil: left out
	}{
		{"by default", nil, map[attribute.Key]attribute.Value{
			"host.name":               attribute.StringValue(host),
			"process.pid":             attribute.Int64Value(int64(os.Getpid())),
			"process.executable.name": attribute.StringValue(filepath.Base(exe)),
			"process.runtime.name":    attribute.StringValue("go"),
			"process.command_args":    {}, // they may hold secrets
			"telemetry.sdk.language":  attribute.StringValue("go"),
		}},
		{"given", given, map[attribute.Key]attribute.Value{
			"service.name": attribute.StringValue("mine"),
			"host.name":    {},
			"process.pid":  {},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := tracetest.NewInMemoryExporter()
			e := New(mem, &Options{Resource: tt.resource})
			e.ExportScope(demo()[0])
			require.NoError(t, e.ForceFlush(context.Background()))
			spans := mem.GetSpans()
			require.NoError(t, e.Shutdown(context.Background()))
			require.Len(t, spans, 1)
			for k, want := range tt.want {
				got, _ := spans[0].Resource.Set().Value(k)
				assert.Equal(t, want, got, k)
			}
			if tt.resource == nil {
				assert.Equal(t, resource.Default().SchemaURL(), spans[0].Resource.SchemaURL())
				svc, _ := spans[0].Resource.Set().Value("service.name")
				want, _ := resource.Default().Set().Value("service.name")
				assert.Equal(t, want, svc, "resource.Default()'s, of OTEL_SERVICE_NAME")
			}
		})
	}
}

// A Shutdown called once the first has returned has nothing to wait for:
// it says how many spans were lost since, whatever its context, as it did
// before a second Shutdown waited for the first.
func TestAShutdownAfterTheFirstReturnedSaysTheLossesAlsoWithAContextThatEnded(t *testing.T) {
	e := New(nopExporter{}, &Options{ErrorOutput: io.Discard})
	require.NoError(t, e.Shutdown(context.Background()))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i := range 64 { // of two cases ready, select picks either
		e.ExportScope(scopes(1)[0])
		require.EqualError(t, e.Shutdown(ctx), "slogwfotel: shutdown: 1 span lost", "Shutdown %d", i+2)
	}
}
