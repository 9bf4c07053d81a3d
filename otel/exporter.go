package slogwfotel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/slogwf/slogwf"
	"github.com/slogwf/slogwf/internal/backoff"
	"github.com/slogwf/slogwf/internal/otelspan"
	"github.com/slogwf/slogwf/internal/tree"
)

// Options configure an [Exporter]. A nil *Options uses the defaults.
type Options struct {
	// MaxEvents is how many records of a scope become events of its span;
	// the rest are counted in the span's dropped events. Negative: none.
	// (Default: 128)
	MaxEvents int
	// Content sends the scopes' inputs and outputs, and the prompts and
	// completions slogwf.Transport captured, as the GenAI conventions'
	// opt-in attributes (gen_ai.input.messages, gen_ai.output.messages,
	// gen_ai.tool.call.arguments, gen_ai.tool.call.result). What goes out is
	// what the handler kept: redacted and cut. (Default: false)
	Content bool
	// QueueSize is how many ended scopes may wait for the exporter; past it,
	// scopes are dropped, not waited for. (Default: 2048)
	QueueSize int
	// BatchSize is the most spans one export call sends. (Default: 512)
	BatchSize int
	// BatchTimeout is the longest an ended scope waits for its batch to
	// fill before it is sent. (Default: 1s)
	BatchTimeout time.Duration
	// ExportTimeout bounds one export call. (Default: 30s)
	ExportTimeout time.Duration
	// ErrorOutput is where the first loss of each kind is reported: a full
	// queue, a failed export, an export canceled by the ctx of ForceFlush or
	// Shutdown, a scope that gives no span. (Default: os.Stderr)
	ErrorOutput io.Writer
	// Resource describes the program to the backend, as given. (Default:
	// resource.Default(), which reads OTEL_SERVICE_NAME and
	// OTEL_RESOURCE_ATTRIBUTES, with the host's name, host.name, and the
	// process's pid, executable name and Go runtime, process.*: spans of
	// several hosts and processes can be told apart; the environment's
	// attributes win)
	Resource *resource.Resource
}

// Exporter sends ended scopes as spans to a span exporter, in batches, from
// a goroutine of its own: the goroutine that ends a scope only queues it.
// When the queue is full or the backend fails, spans are dropped, counted
// ([Exporter.Stats]) and reported once; the journals still hold every scope.
// After a failed export, the scopes that end within a second are not even
// tried, then within 2s after a second failure in a row, and so on up to
// 30s: a backend that is down costs the program no work. [Exporter.ForceFlush]
// and [Exporter.Shutdown] try what is queued all the same, and fail when a
// span was lost since the last of them, whoever lost it.
//
// A nil *Exporter exports nothing, and its methods do nothing: a program
// may leave it nil when no backend is configured, as Options.Exporter.
type Exporter struct {
	exp   sdktrace.SpanExporter
	spans otelspan.Options

	batchSize     int
	batchTimeout  time.Duration
	exportTimeout time.Duration
	errOut        io.Writer
	errMu         sync.Mutex // reports come from callers and the Exporter's goroutine

	// The queue is a slice under a lock, not a channel: the goroutine that
	// ends a scope wakes the Exporter's once per batch, not once per scope.
	mu        sync.Mutex
	closed    bool
	queue     []*tree.Ended
	queueSize int
	ready     chan struct{} // a scope came to an empty queue, or a batch is full
	flush     chan flushRequest
	stop      chan struct{}
	done      chan struct{}
	shut      chan struct{}   // the first Shutdown returns
	ctx       context.Context // of every export; canceled when Shutdown gives up
	cancel    context.CancelFunc

	// After a failed export, the scopes that end before retryAt fail
	// without a try, for retryErr, the export's error; see backoff.Next.
	retryAt  time.Time
	retryErr error
	backoff  time.Duration
	now      func() time.Time // time.Now, but in tests

	exported, dropped, failed                     atomic.Int64
	fullOnce, failOnce, canceledOnce, invalidOnce sync.Once

	// The spans lost since ForceFlush or Shutdown last said how many, and
	// the first cause known of them.
	lossMu  sync.Mutex
	lost    int64
	lostErr error
}

var _ slogwf.ScopeExporter = (*Exporter)(nil)

// flushRequest asks the Exporter's goroutine to send what is queued, its
// exports bounded by ctx, and to close done.
type flushRequest struct {
	ctx  context.Context
	done chan struct{}
}

// Stats counts what became of the scopes given to an [Exporter].
type Stats struct {
	Exported int64 // spans the exporter took
	Dropped  int64 // scopes never queued: the queue was full, or the Exporter shut down
	Failed   int64 // spans the exporter failed to send, or that were not tried (see Exporter), and scopes that give no span
}

// New returns an Exporter that sends spans to exp, which it shuts down in
// [Exporter.Shutdown]. A nil exp, or one that holds a nil pointer, fails
// every export, as a backend that is down does: each span is lost, counted
// and said.
func New(exp sdktrace.SpanExporter, opts *Options) *Exporter {
	var o Options
	if opts != nil {
		o = *opts
	}
	if v := reflect.ValueOf(exp); exp == nil || v.Kind() == reflect.Pointer && v.IsNil() {
		// A nil pointer too, as otlptracehttp.New returns with its error,
		// whose methods would crash the program from e's goroutine.
		exp = noExporter{}
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 2048
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 512
	}
	if o.BatchTimeout <= 0 {
		o.BatchTimeout = time.Second
	}
	if o.ExportTimeout <= 0 {
		o.ExportTimeout = 30 * time.Second
	}
	if o.ErrorOutput == nil {
		o.ErrorOutput = os.Stderr
	}
	if o.Resource == nil {
		o.Resource = defaultResource()
	}
	e := &Exporter{
		exp:           exp,
		spans:         otelspan.Options{MaxEvents: o.MaxEvents, Content: o.Content, Resource: o.Resource},
		batchSize:     o.BatchSize,
		batchTimeout:  o.BatchTimeout,
		exportTimeout: o.ExportTimeout,
		errOut:        o.ErrorOutput,
		queueSize:     o.QueueSize,
		ready:         make(chan struct{}, 1),
		flush:         make(chan flushRequest),
		stop:          make(chan struct{}),
		now:           time.Now,
		done:          make(chan struct{}),
		shut:          make(chan struct{}),
	}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	go e.run()
	return e
}

// noExporter is the span exporter of an Exporter given none.
type noExporter struct{}

var errNoExporter = errors.New("no span exporter: New was given nil")

func (noExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return errNoExporter }
func (noExporter) Shutdown(context.Context) error                             { return nil }

// ExportScope queues a scope that ended, or drops it if the queue is full:
// it never waits. A slogwf.Handler whose Options.Exporter is e calls it;
// its argument is internal to slogwf, so the Handler is its only caller.
func (e *Exporter) ExportScope(s *tree.Ended) {
	if e == nil {
		return
	}
	e.mu.Lock()
	queued := !e.closed && len(e.queue) < e.queueSize
	if queued {
		e.queue = append(e.queue, s)
		if n := len(e.queue); n == 1 || n == e.batchSize {
			select {
			case e.ready <- struct{}{}:
			default: // it will look anyway
			}
		}
	}
	e.mu.Unlock()
	if queued {
		return
	}
	e.lose(&e.dropped, 1, nil)
	e.fullOnce.Do(func() {
		e.report("slogwfotel: the export queue is full or shut down: spans are dropped")
	})
}

// Stats returns the counts so far.
func (e *Exporter) Stats() Stats {
	if e == nil {
		return Stats{}
	}
	return Stats{Exported: e.exported.Load(), Dropped: e.dropped.Load(), Failed: e.failed.Load()}
}

// ForceFlush sends every scope queued before it, even while the backoff
// after a failed export holds the Exporter's own batches back, and returns
// when they are sent. It returns nil only when every scope handed to the
// Exporter since the last ForceFlush or Shutdown that did not give up was
// exported; else an error that says how many were lost, by it or before it
// (dropped, failed or not tried in the backoff, as Stats counts them), and
// wraps the first error known to have lost one of them. When ctx is done
// first, it returns ctx's error, cancels its exports under way (no fault of
// the backend: they start no backoff) and leaves what was lost to the next
// ForceFlush or Shutdown to count. After Shutdown it sends nothing.
func (e *Exporter) ForceFlush(ctx context.Context) error {
	if e == nil {
		return nil
	}
	if err := ctx.Err(); err != nil { // before it takes the queue, whose spans would fail
		return fmt.Errorf("slogwfotel: flush: %w", err)
	}
	req := flushRequest{ctx: ctx, done: make(chan struct{})}
	select {
	case e.flush <- req:
		select {
		case <-req.done:
		case <-ctx.Done():
		}
	case <-e.done:
	case <-ctx.Done():
	}
	if err := ctx.Err(); err != nil { // its losses, if any, are left to the next
		return fmt.Errorf("slogwfotel: flush: %w", err)
	}
	if err := e.losses(); err != nil {
		return fmt.Errorf("slogwfotel: flush: %w", err)
	}
	return nil
}

// Shutdown sends what is queued, as ForceFlush does, stops the Exporter and
// shuts its span exporter down. It returns the span exporter's error, and,
// as ForceFlush does, an error that says how many scopes were lost, if any.
// When ctx is done first, it cancels the exports under way, whose spans are
// lost, and returns ctx's error too. Later scopes are dropped; calling it
// again waits for the first call to return, then only says how many, or
// returns ctx's error when ctx is done first (it cancels nothing: the first
// call's ctx bounds the exports).
func (e *Exporter) Shutdown(ctx context.Context) error {
	if e == nil {
		return nil
	}
	e.mu.Lock()
	first := !e.closed
	e.closed = true
	e.mu.Unlock()
	var err error
	if first {
		close(e.stop)
		var gaveUp error
		select {
		case <-e.done:
		case <-ctx.Done():
			gaveUp = ctx.Err()
			e.cancel()
			<-e.done
		}
		e.cancel()
		err = e.exp.Shutdown(ctx)
		err = errors.Join(gaveUp, e.losses(), err)
		close(e.shut)
	} else {
		// As sync.Once does: a program that shuts down from two places
		// must not go on, from either, while spans are still being sent.
		select {
		case <-e.shut:
		case <-ctx.Done():
		}
		select {
		case <-e.shut: // also when ctx had ended too: select picks either
			err = e.losses()
		default:
			err = ctx.Err()
		}
	}
	if err != nil {
		return fmt.Errorf("slogwfotel: shutdown: %w", err)
	}
	return nil
}

// lose counts n spans lost in c, Dropped or Failed, for Stats and for the
// next ForceFlush or Shutdown; cause is why, if known.
func (e *Exporter) lose(c *atomic.Int64, n int64, cause error) {
	c.Add(n)
	e.lossMu.Lock()
	defer e.lossMu.Unlock()
	e.lost += n
	if e.lostErr == nil {
		e.lostErr = cause
	}
}

// losses returns an error that says how many spans were lost since it was
// last called, and the first cause known of them, or nil if none was.
func (e *Exporter) losses() error {
	e.lossMu.Lock()
	n, cause := e.lost, e.lostErr
	e.lost, e.lostErr = 0, nil
	e.lossMu.Unlock()
	msg := fmt.Sprintf("%d spans lost", n)
	if n == 1 {
		msg = "1 span lost"
	}
	switch {
	case n == 0:
		return nil
	case cause == nil:
		return errors.New(msg)
	}
	return fmt.Errorf("%s: %w", msg, cause)
}

// run turns queued scopes into spans and sends them in batches, until
// Shutdown.
func (e *Exporter) run() {
	defer close(e.done)
	var spare []*tree.Ended
	batch := make([]sdktrace.ReadOnlySpan, 0, e.batchSize)
	timer := time.NewTimer(e.batchTimeout)
	timer.Stop()
	armed := false
	for {
		select {
		case <-e.ready:
			if e.queued() < e.batchSize {
				if !armed {
					timer.Reset(e.batchTimeout)
					armed = true
				}
				continue
			}
		case <-timer.C:
		case req := <-e.flush:
			ctx, cancel := context.WithCancel(req.ctx)
			stop := context.AfterFunc(e.ctx, cancel) // Shutdown gave up
			spare, batch = e.sendQueued(ctx, true, spare, batch)
			stop()
			cancel()
			close(req.done)
			continue
		case <-e.stop:
			timer.Stop()
			e.sendQueued(e.ctx, true, spare, batch)
			return
		}
		timer.Stop()
		armed = false
		spare, batch = e.sendQueued(e.ctx, false, spare, batch)
	}
}

func (e *Exporter) queued() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.queue)
}

// sendQueued takes the queue, leaving spare in its place, and sends its
// scopes in batches, each export bounded by ctx; forced (a flush, a
// shutdown), even in the backoff. It returns the queue taken, emptied, as
// the next spare, and the batch emptied.
func (e *Exporter) sendQueued(ctx context.Context, forced bool, spare []*tree.Ended, batch []sdktrace.ReadOnlySpan) ([]*tree.Ended, []sdktrace.ReadOnlySpan) {
	e.mu.Lock()
	scopes := e.queue
	e.queue = spare[:0]
	e.mu.Unlock()
	batch = e.sendAll(ctx, forced, scopes, batch)
	clear(scopes) // let the scopes go
	return scopes[:0], batch
}

// sendAll is sendQueued for the scopes taken. Unless forced, it stops at a
// backoff, also one that an export of these scopes starts: the rest would
// fail too, each after ExportTimeout against a backend that hangs, and
// mapping them would cost the program CPU for nothing.
func (e *Exporter) sendAll(ctx context.Context, forced bool, scopes []*tree.Ended, batch []sdktrace.ReadOnlySpan) []sdktrace.ReadOnlySpan {
	for i, s := range scopes {
		if !forced && e.now().Before(e.retryAt) { // batch is empty: send empties it
			e.lose(&e.failed, int64(len(scopes)-i), e.retryErr)
			return batch
		}
		if batch = e.add(batch, s); len(batch) >= e.batchSize {
			batch = e.send(ctx, batch)
		}
	}
	return e.send(ctx, batch)
}

// add adds the span of s to the batch.
func (e *Exporter) add(batch []sdktrace.ReadOnlySpan, s *tree.Ended) []sdktrace.ReadOnlySpan {
	span, err := e.spans.Span(s)
	if err != nil {
		e.lose(&e.failed, 1, err)
		e.invalidOnce.Do(func() { e.report(fmt.Sprintf("slogwfotel: a scope gives no span: %v", err)) })
		return batch
	}
	return append(batch, span)
}

// send exports the batch and returns it emptied.
func (e *Exporter) send(ctx context.Context, batch []sdktrace.ReadOnlySpan) []sdktrace.ReadOnlySpan {
	if len(batch) == 0 {
		return batch
	}
	exportCtx, cancel := context.WithTimeout(ctx, e.exportTimeout)
	err := e.exp.ExportSpans(exportCtx, batch)
	cancel()
	switch {
	case err != nil && ctx.Err() != nil:
		// The caller of ForceFlush or Shutdown gave up, which says nothing
		// of the backend: no backoff, and a fault of the backend's that
		// comes later is still reported. Nor is it why they are lost: the
		// caller has ctx's error.
		e.lose(&e.failed, int64(len(batch)), nil)
		e.canceledOnce.Do(func() { e.report(fmt.Sprintf("slogwfotel: export: %v: spans are dropped", err)) })
	case err != nil:
		e.lose(&e.failed, int64(len(batch)), err)
		e.failOnce.Do(func() { e.report(fmt.Sprintf("slogwfotel: export: %v: spans are dropped", err)) })
		e.backoff = backoff.Next(e.backoff)
		e.retryAt, e.retryErr = e.now().Add(e.backoff), err
	default:
		e.backoff, e.retryAt, e.retryErr = 0, time.Time{}, nil // a flush that got through ends the backoff
		e.exported.Add(int64(len(batch)))
	}
	clear(batch) // let the spans go
	return batch[:0]
}

// report writes the first loss of a kind to ErrorOutput.
func (e *Exporter) report(msg string) {
	e.errMu.Lock()
	defer e.errMu.Unlock()
	fmt.Fprintf(e.errOut, "%s (counted in Exporter.Stats; the journals keep every scope, for slogwf export; further losses are not reported)\n", msg)
}

// defaultResource returns resource.Default() with the host's and the
// process's attributes. Not the process's command line or owner: its
// arguments may hold secrets, and the owner costs a look-up that fails in
// some containers.
var defaultResource = sync.OnceValue(func() *resource.Resource {
	// A detector that fails leaves its attribute out; the rest stand.
	r, _ := resource.New(context.Background(),
		resource.WithHost(),
		resource.WithProcessPID(),
		resource.WithProcessExecutableName(),
		resource.WithProcessRuntimeName(),
		resource.WithProcessRuntimeVersion(),
	)
	// Merge fails only on two schema URLs, which the SDK's own detectors
	// share; its resource would stand all the same, without one.
	merged, _ := resource.Merge(r, resource.Default())
	return merged
})
