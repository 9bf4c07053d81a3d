package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/slogwf/slogwf/internal/backoff"
	"github.com/slogwf/slogwf/internal/flock"
	"github.com/slogwf/slogwf/internal/otelspan"
	"github.com/slogwf/slogwf/internal/retention"
	"github.com/slogwf/slogwf/internal/tree"
	slogwfotel "github.com/slogwf/slogwf/otel"
)

// otlpBatch is the most spans one export call sends.
const otlpBatch = 512

// maxLate is how much a workflow's tree may grow after its end, as
// Tree.Size counts, while export -f keeps it for the lines that come late.
const maxLate = 8 << 20

// otlpOptions are the flags of export -otlp.
type otlpOptions struct {
	endpoint  string // the OTLP/HTTP endpoint's base URL, as OTEL_EXPORTER_OTLP_ENDPOINT
	follow    bool
	workflow  string // an ID or a name; "" for all
	content   bool
	maxEvents int
}

// exportOTLP sends the workflows of the journals named to an OTLP/HTTP
// endpoint, each scope as a span, as the live exporter of package otel
// sends them. With follow it keeps sending the scopes that end, and keeps
// what it sent in a state file, so that a restart sends no span twice.
func exportOTLP(ctx context.Context, o otlpOptions, names []string, stdout, stderr io.Writer) error {
	exp, traces, err := newOTLPHTTP(ctx, o.endpoint)
	if err != nil {
		return err
	}
	defer exp.Shutdown(context.Background())
	return ship(ctx, exp, traces, o, names, stdout, stderr)
}

// ship sends the workflows of the journals named to exp, whose traces URL
// is traces.
func ship(ctx context.Context, exp sdktrace.SpanExporter, traces string, o otlpOptions, names []string, stdout, stderr io.Writer) error {
	warn := func(err error) { fmt.Fprintf(stderr, "slogwf export: %s\n", message(err)) }
	if o.workflow != "" { // the start of an ID becomes the ID
		id, _, err := pickInJournals(o.workflow, names, o.follow, strings.Join(names, " "))
		if err != nil {
			return err
		}
		o.workflow = cmp.Or(id, o.workflow)
	}
	s := newShipper(exp, otelspan.Options{MaxEvents: o.maxEvents, Content: o.content, Resource: resource.Default()}, o.workflow, stdout, warn)
	if o.follow {
		var err error
		if s.state, err = loadShipState(stateFile(names, traces), traces, warn); err != nil {
			return err
		}
	}
	fl := newFollower(openFound(os.OpenFile, names, warn), s.line, warn)
	if err := s.read(fl, names); err != nil {
		return err
	}
	if !o.follow {
		fl.finish()
		s.take(true)
		if err := s.send(ctx); err != nil {
			return err
		}
		for _, wf := range slices.Sorted(maps.Keys(s.sent)) {
			fmt.Fprintf(stdout, "sent %s: %d spans, without the workflow's, whose start no journal holds\n", wf, s.sent[wf])
		}
		if s.spans == 0 {
			if o.workflow != "" {
				return fmt.Errorf("no workflow %s in %s", printable(o.workflow), printable(strings.Join(names, " ")))
			}
			return fmt.Errorf("no workflow in the journals of %s", printable(strings.Join(names, " ")))
		}
		return nil
	}
	round := func() error {
		s.round(ctx, fl.names)
		return nil
	}
	round()
	return fl.follow(ctx, round)
}

// liveExporter returns an Exporter that sends each scope, as it ends, to
// the OTLP/HTTP endpoint base; it reports its losses to errOut.
func liveExporter(ctx context.Context, base string, errOut io.Writer) (*slogwfotel.Exporter, error) {
	exp, _, err := newOTLPHTTP(ctx, base)
	if err != nil {
		return nil, err
	}
	return slogwfotel.New(exp, &slogwfotel.Options{ErrorOutput: errOut}), nil
}

// newOTLPHTTP returns an exporter to the traces URL of the OTLP/HTTP
// endpoint base, and that URL.
func newOTLPHTTP(ctx context.Context, base string) (sdktrace.SpanExporter, string, error) {
	traces, err := tracesURL(base)
	if err != nil {
		return nil, "", usageError{err}
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(traces))
	return exp, traces, err
}

// shutdownLive sends what x holds, waiting 10s at most, and returns what
// became of the spans.
func shutdownLive(x *slogwfotel.Exporter, base string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := x.Shutdown(ctx)
	st := x.Stats()
	msg := fmt.Sprintf("spans: %d sent to %s", st.Exported, printable(base))
	if st.Dropped+st.Failed > 0 || err != nil {
		msg += fmt.Sprintf(", %d lost (slogwf export -otlp sends them from the journals)", st.Dropped+st.Failed)
	}
	return msg
}

// tracesURL returns the URL of the traces of the OTLP/HTTP endpoint base:
// base + /v1/traces, as for OTEL_EXPORTER_OTLP_ENDPOINT, unless it names
// that path already, with a trailing slash or not.
func tracesURL(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("-otlp %s: want the URL of an OTLP/HTTP endpoint, such as http://127.0.0.1:4318", printable(base))
	}
	if u.Path = strings.TrimSuffix(u.Path, "/"); !strings.HasSuffix(u.Path, "/v1/traces") {
		u.Path += "/v1/traces"
	}
	return u.String(), nil
}

// stateFile returns the path of the state file of export -otlp -f to the
// traces URL: in the first DIR named, or the directory of the first
// journal, one per endpoint.
func stateFile(names []string, traces string) string {
	dir := names[0]
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		dir = filepath.Dir(dir)
	}
	return filepath.Join(dir, ".slogwf-export."+shortHash(traces)+".state")
}

// shipper turns the lines of journals into the spans of their scopes and
// sends each span once, in batches.
type shipper struct {
	exp     sdktrace.SpanExporter
	options otelspan.Options
	only    string // the workflow, by ID or name; "" for all
	stdout  io.Writer
	warn    func(error)
	state   *shipState // what was sent before; nil: nothing kept

	b        *tree.Builder        // the workflows not sent whole yet
	fresh    map[string]bool      // workflows that got lines since the last take
	lastLine map[string]time.Time // when take last found lines of each workflow not sent whole
	endSize  map[string]int       // the size of the tree of each that ended, when take first found it so
	closing  map[string]bool      // workflows to take whole, then forget (see checkWriters)
	checked  time.Time            // when the processes were last looked at
	journals []string             // the journals followed, as of the last release
	settled  bool                 // release let go of all it could as of journals
	seen     map[string]bool      // with a state: every workflow in the journals, while first read
	pending  []pendingSpan        // mapped, not sent yet
	sent     map[string]int       // spans sent, by workflow
	spans    int                  // spans sent in all
	lastErr  string               // the last fault reported
	now      func() time.Time     // time.Now, but in tests
	retryAt  time.Time            // after a failed send, none before
	backoff  time.Duration        // since the last failed send; 0 after one that went
}

// pendingSpan is a span and the scope it is of.
type pendingSpan struct {
	s    *tree.Ended
	span sdktrace.ReadOnlySpan
}

func newShipper(exp sdktrace.SpanExporter, o otelspan.Options, only string, stdout io.Writer, warn func(error)) *shipper {
	return &shipper{
		exp: exp, options: o, only: only, stdout: stdout, warn: warn,
		b: tree.NewBuilder(), fresh: map[string]bool{}, sent: map[string]int{},
		lastLine: map[string]time.Time{}, endSize: map[string]int{},
		closing: map[string]bool{}, now: time.Now,
	}
}

// read reads the journals named with fl, and has fl tell the builder of
// the journals it finds renamed (see release). With a state, it skips the
// workflows sent whole, and forgets those that no journal holds any more.
func (s *shipper) read(fl *follower, names []string) error {
	if s.state != nil {
		for wf := range s.state.whole {
			s.b.Forget(wf) // sent whole before
		}
		s.seen = map[string]bool{}
	}
	fl.renamedTo = s.b.Renamed
	for _, name := range names {
		if err := fl.add(name); err != nil {
			return err
		}
	}
	if err := fl.readAll(); err != nil {
		return err
	}
	s.state.forgetUnseen(s.seen)
	s.seen = nil
	return nil
}

// line adds one journal line of file f to the tree of its workflow.
func (s *shipper) line(f *followedFile, line []byte, torn bool) {
	wf, err := s.b.AddLine(line, f.name, torn)
	if err != nil {
		s.warn(fmt.Errorf("%s:%d: %w", f.name, f.lines, err))
	}
	if s.seen != nil && wf != "" {
		s.seen[wf] = true
	}
	if s.b.Tree(wf) != nil {
		s.fresh[wf] = true
	}
}

// round takes and sends what ended since the last round, as export -f
// does at each poll of the journals. A failed send is sent again after a
// backoff (see backoff.Next), its fault reported once.
func (s *shipper) round(ctx context.Context, journals func() []string) {
	now := s.now()
	if now.Sub(s.checked) >= liveEvery {
		names := journals()
		s.release(names)
		s.checkWriters(names, now)
	}
	s.take(false)
	if now.Before(s.retryAt) {
		return
	}
	if err := s.send(ctx); err != nil && ctx.Err() == nil {
		s.fault(err)
		s.backoff = backoff.Next(s.backoff)
		s.retryAt = now.Add(s.backoff)
		return
	}
	s.backoff = 0
}

// checkWriters picks the workflows that the next take takes whole, their
// open scopes incomplete, as export without -f does, and that send then
// forgets. A workflow that ended still gets the lines of the processes it
// passed on to (see slogwf.Environ) and late records: it goes once
// retention.Grace passed without a line of it, or its tree grew by
// maxLate since its end. One that did not end goes once the processes that
// wrote it all died (see retention.Live; one lock taken per process, of
// the journals followed), where files are locked, which tells: the
// processes of the journals the builder read it in, under their names now
// (see Builder.Renamed), as serve tells. Not while spans wait to be sent
// again.
func (s *shipper) checkWriters(journals []string, now time.Time) {
	s.checked = now
	if len(s.pending) > 0 {
		return
	}
	var w *retention.Writers
	for _, id := range s.b.Workflows() {
		if s.closing[id] || s.leavesOut(id) {
			continue // -workflow leaves it out
		}
		if t := s.b.Tree(id); t.Ended(id) {
			if s.fresh[id] {
				continue // it got lines lately, which wait for take
			}
			if now.Sub(s.lastLine[id]) >= retention.Grace || t.Size()-s.endSize[id] > maxLate {
				s.closing[id], s.fresh[id] = true, true
			}
			continue
		}
		if !flock.Supported {
			continue
		}
		if w == nil {
			w = retention.NewWriters(journals, os.Open, os.Stat, now)
		}
		if !slices.ContainsFunc(s.b.Journals(id), w.Live) {
			s.closing[id], s.fresh[id] = true, true
		}
	}
}

// release lets go of the workflows sent whole that no journal followed
// holds any more, as retention or slogwf prune removes them, when the
// journals followed changed: their lines cannot be read again, by this
// export or by one restarted, so neither the builder nor the state need
// keep them. What -f keeps stays bounded by what is on disk. A journal
// gone counts as followed until the check after: one renamed, the
// follower may lose under its old name a tick before it finds it under
// the new one, and read on there.
func (s *shipper) release(journals []string) {
	same := s.journals != nil && slices.Equal(journals, s.journals)
	if same && s.settled {
		return
	}
	followed := make(map[string]bool, len(journals)+len(s.journals))
	for _, name := range slices.Concat(journals, s.journals) {
		followed[name] = true
	}
	s.journals, s.settled = journals, same
	for _, id := range s.b.Release(func(j string) bool { return followed[j] }) {
		s.state.forgetDone(id)
	}
}

// take maps the scopes that ended since the last take, of the workflows
// that got lines; final: every scope, those that never ended as
// incomplete.
func (s *shipper) take(final bool) {
	now := s.now()
	for _, id := range slices.Sorted(maps.Keys(s.fresh)) { // in the order they started
		t := s.b.Tree(id)
		if t == nil {
			continue // forgotten since
		}
		if s.leavesOut(id) {
			if _, known := t.Name(); known {
				s.forget(id) // -workflow leaves it out
			}
			continue // else its start may come
		}
		s.lastLine[id] = now
		t.Take(id, final || s.closing[id], func(e *tree.Ended) {
			if s.state.sent(e.Workflow, e.ID) {
				return
			}
			span, err := s.options.Span(e)
			if err != nil {
				s.warn(err)
				return
			}
			s.pending = append(s.pending, pendingSpan{e, span})
		})
		if _, ended := s.endSize[id]; !ended && t.Ended(id) {
			s.endSize[id] = t.Size()
		}
	}
	clear(s.fresh)
}

// send sends the pending spans in batches, and notes each batch sent in
// the state. When a batch fails, it and the spans after it stay pending.
func (s *shipper) send(ctx context.Context) error {
	batch := make([]sdktrace.ReadOnlySpan, 0, otlpBatch)
	for len(s.pending) > 0 {
		n := min(len(s.pending), otlpBatch)
		batch = batch[:0]
		for _, p := range s.pending[:n] {
			batch = append(batch, p.span)
		}
		if err := s.exp.ExportSpans(ctx, batch); err != nil {
			return fmt.Errorf("send %d spans: %w", len(s.pending), err)
		}
		for _, p := range s.pending[:n] {
			s.state.markSent(p.s.Workflow, p.s.ID)
			s.sent[p.s.Workflow]++
			s.spans++
			if p.s.Kind == tree.Workflow {
				s.done(p.s)
			}
		}
		s.pending = s.pending[n:]
		if err := s.state.save(); err != nil {
			return err // the spans are sent: only a restart would send them again
		}
		if s.lastErr != "" {
			s.warn(errors.New("sending again"))
			s.lastErr = ""
		}
	}
	s.pending = nil
	for id := range s.closing {
		if t := s.b.Tree(id); t != nil {
			if n := s.sent[id]; n > 0 && t.Ended(id) {
				fmt.Fprintf(s.stdout, "sent %s %s: %d spans more, of lines after its end\n", printable(s.b.Name(id)), id, n)
			}
			s.forget(id)
			s.state.markDone(id)
		}
	}
	clear(s.closing)
	return s.state.save() // also one that failed after a batch
}

// forget forgets workflow id: it gets no more lines.
func (s *shipper) forget(id string) {
	s.b.Forget(id)
	delete(s.lastLine, id)
	delete(s.endSize, id)
	delete(s.sent, id)
}

// leavesOut reports whether -workflow leaves workflow id out, as far as is
// known yet.
func (s *shipper) leavesOut(id string) bool {
	return s.only != "" && id != s.only && s.b.Name(id) != s.only
}

// done notes that the span of workflow wf was sent, and with it every
// scope of the workflow so far: the spans of scopes that come later are
// counted anew (see checkWriters).
func (s *shipper) done(wf *tree.Ended) {
	fmt.Fprintf(s.stdout, "sent %s %s: %d spans\n", printable(wf.Name), wf.ID, s.sent[wf.ID])
	delete(s.sent, wf.ID)
}

// fault reports err, unless it is the fault reported last, whatever the
// count of spans refused, which grows while a backend is down.
func (s *shipper) fault(err error) {
	msg := err.Error()
	if cause := errors.Unwrap(err); cause != nil {
		msg = cause.Error() // not "send n spans: "
	}
	if msg != s.lastErr {
		s.warn(fmt.Errorf("%w; trying again", err))
		s.lastErr = msg
	}
}
