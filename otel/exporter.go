package slogwfotel

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
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
	// queue, a failed export, a scope that gives no span. (Default: os.Stderr)
	ErrorOutput io.Writer
	// Resource describes the program to the backend. (Default:
	// resource.Default(), which reads OTEL_SERVICE_NAME and
	// OTEL_RESOURCE_ATTRIBUTES)
	Resource *resource.Resource
}

// Exporter sends ended scopes as spans to a span exporter, in batches, from
// a goroutine of its own: the goroutine that ends a scope only queues it.
// When the queue is full or the backend fails, spans are dropped, counted
// ([Exporter.Stats]) and reported once; the journals still hold every scope.
// After a failed export, the scopes that end within a second are not even
// tried, then within 2s after a second failure in a row, and so on up to
// 30s: a backend that is down costs the program no work. [Exporter.ForceFlush]
// and [Exporter.Shutdown] try what is queued all the same, and return the
// export's error.
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
	stopErr   error           // of the exports at Shutdown, read once done is closed
	ctx       context.Context // of every export; canceled when Shutdown gives up
	cancel    context.CancelFunc

	// After a failed export, the scopes that end before retryAt fail
	// without a try; see backoff.Next.
	retryAt time.Time
	backoff time.Duration
	now     func() time.Time // time.Now, but in tests

	exported, dropped, failed                     atomic.Int64
	fullOnce, failOnce, canceledOnce, invalidOnce sync.Once
}

var _ slogwf.ScopeExporter = (*Exporter)(nil)

// flushRequest asks the Exporter's goroutine to send what is queued, its
// exports bounded by ctx, and to answer on done.
type flushRequest struct {
	ctx  context.Context
	done chan error // buffered: a ForceFlush that gave up does not read it
}

// Stats counts what became of the scopes given to an [Exporter].
type Stats struct {
	Exported int64 // spans the exporter took
	Dropped  int64 // scopes never queued: the queue was full, or the Exporter shut down
	Failed   int64 // spans the exporter failed to send, or that were not tried (see Exporter), and scopes that give no span
}

// New returns an Exporter that sends spans to exp, which it shuts down in
// [Exporter.Shutdown].
func New(exp sdktrace.SpanExporter, opts *Options) *Exporter {
	var o Options
	if opts != nil {
		o = *opts
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
		o.Resource = resource.Default()
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
	}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	go e.run()
	return e
}

// ExportScope queues a scope that ended, or drops it if the queue is full:
// it never waits. A slogwf.Handler whose Options.Exporter is e calls it;
// its argument is internal to slogwf, so the Handler is its only caller.
func (e *Exporter) ExportScope(s *tree.Ended) {
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
	e.dropped.Add(1)
	e.fullOnce.Do(func() {
		e.report("slogwfotel: the export queue is full or shut down: spans are dropped")
	})
}

// Stats returns the counts so far.
func (e *Exporter) Stats() Stats {
	return Stats{Exported: e.exported.Load(), Dropped: e.dropped.Load(), Failed: e.failed.Load()}
}

// ForceFlush sends every scope queued before it, even while the backoff
// after a failed export holds the Exporter's own batches back, and returns
// when they are sent, with the error of the first export that failed; or
// when ctx is done, which cancels the exports under way (no fault of the
// backend: they start no backoff). After Shutdown it does nothing.
func (e *Exporter) ForceFlush(ctx context.Context) error {
	if err := ctx.Err(); err != nil { // before it takes the queue, whose spans would fail
		return fmt.Errorf("slogwfotel: flush: %w", err)
	}
	req := flushRequest{ctx: ctx, done: make(chan error, 1)}
	var err error
	select {
	case e.flush <- req:
		select {
		case err = <-req.done:
		case <-ctx.Done():
			err = ctx.Err()
		}
	case <-e.done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		return fmt.Errorf("slogwfotel: flush: %w", err)
	}
	return nil
}

// Shutdown sends what is queued, as ForceFlush does, stops the Exporter and
// shuts its span exporter down; it returns the error of the first export
// that failed, if any, and the span exporter's. When ctx is done first, the
// exports under way are canceled and what is left counts as failed. Later
// scopes are dropped. Calling it again does nothing.
func (e *Exporter) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	e.mu.Unlock()
	close(e.stop)
	var err error
	select {
	case <-e.done:
		err = e.stopErr
	case <-ctx.Done():
		e.cancel()
		<-e.done
		err = ctx.Err()
	}
	e.cancel()
	if err := errors.Join(err, e.exp.Shutdown(ctx)); err != nil {
		return fmt.Errorf("slogwfotel: shutdown: %w", err)
	}
	return nil
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
			var err error
			spare, batch, err = e.sendQueued(ctx, true, spare, batch)
			stop()
			cancel()
			req.done <- err
			continue
		case <-e.stop:
			timer.Stop()
			_, _, e.stopErr = e.sendQueued(e.ctx, true, spare, batch)
			return
		}
		timer.Stop()
		armed = false
		spare, batch, _ = e.sendQueued(e.ctx, false, spare, batch) // its losses are counted and reported
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
// the next spare, the batch emptied, and the error of the first export
// that failed.
func (e *Exporter) sendQueued(ctx context.Context, forced bool, spare []*tree.Ended, batch []sdktrace.ReadOnlySpan) ([]*tree.Ended, []sdktrace.ReadOnlySpan, error) {
	e.mu.Lock()
	scopes := e.queue
	e.queue = spare[:0]
	e.mu.Unlock()
	var err error
	if !forced && e.now().Before(e.retryAt) {
		// The backend failed a moment ago: the spans would fail too, and
		// mapping them would cost the program CPU for nothing.
		e.failed.Add(int64(len(scopes)))
	} else {
		for _, s := range scopes {
			if batch = e.add(batch, s); len(batch) >= e.batchSize {
				batch, err = e.send(ctx, batch, err)
			}
		}
		batch, err = e.send(ctx, batch, err)
	}
	clear(scopes) // let the scopes go
	return scopes[:0], batch, err
}

// add adds the span of s to the batch.
func (e *Exporter) add(batch []sdktrace.ReadOnlySpan, s *tree.Ended) []sdktrace.ReadOnlySpan {
	span, err := e.spans.Span(s)
	if err != nil {
		e.failed.Add(1)
		e.invalidOnce.Do(func() { e.report(fmt.Sprintf("slogwfotel: a scope gives no span: %v", err)) })
		return batch
	}
	return append(batch, span)
}

// send exports the batch and returns it emptied, with first, the error of
// an export before it, or else its own.
func (e *Exporter) send(ctx context.Context, batch []sdktrace.ReadOnlySpan, first error) ([]sdktrace.ReadOnlySpan, error) {
	if len(batch) == 0 {
		return batch, first
	}
	exportCtx, cancel := context.WithTimeout(ctx, e.exportTimeout)
	err := e.exp.ExportSpans(exportCtx, batch)
	cancel()
	switch {
	case err != nil && ctx.Err() != nil:
		// The caller of ForceFlush or Shutdown gave up, which says nothing
		// of the backend: no backoff, and a fault of the backend's that
		// comes later is still reported.
		e.failed.Add(int64(len(batch)))
		e.canceledOnce.Do(func() { e.report(fmt.Sprintf("slogwfotel: export: %v: spans are dropped", err)) })
	case err != nil:
		e.failed.Add(int64(len(batch)))
		e.failOnce.Do(func() { e.report(fmt.Sprintf("slogwfotel: export: %v: spans are dropped", err)) })
		e.backoff = backoff.Next(e.backoff)
		e.retryAt = e.now().Add(e.backoff)
	default:
		e.backoff, e.retryAt = 0, time.Time{} // a flush that got through ends the backoff
		e.exported.Add(int64(len(batch)))
	}
	clear(batch) // let the spans go
	return batch[:0], cmp.Or(first, err)
}

// report writes the first loss of a kind to ErrorOutput.
func (e *Exporter) report(msg string) {
	e.errMu.Lock()
	defer e.errMu.Unlock()
	fmt.Fprintf(e.errOut, "%s (counted in Exporter.Stats; the journals keep every scope, for slogwf export; further losses are not reported)\n", msg)
}
