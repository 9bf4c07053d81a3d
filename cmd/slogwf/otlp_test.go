package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/slogwf/slogwf"
	"github.com/slogwf/slogwf/internal/otelspan"
	"github.com/slogwf/slogwf/internal/retention"
	"github.com/slogwf/slogwf/internal/tree"
	slogwfotel "github.com/slogwf/slogwf/otel"
)

// demoSpans is how many scopes, and so spans, the demo has: the workflow,
// its iterations, and in each a planner with its call, and workers with a
// call and a tool each; one worker's first call fails, and it tries again.
func demoSpans() int {
	return 1 + demoIterations*(1+2+3*len(demoWorkers())) + 2
}

// runDemoLive runs the demo fast in dir with the live exporter on, and
// returns its spans.
func runDemoLive(t *testing.T, dir string, opts *slogwfotel.Options) tracetest.SpanStubs {
	t.Helper()
	mem := tracetest.NewInMemoryExporter()
	x := slogwfotel.New(mem, opts)
	llm, stop, err := startLLM(1, true)
	require.NoError(t, err)
	defer stop()
	d := demo{seed: 1, fast: true, llm: llm}
	_, err = d.run(context.Background(), &slogwf.Options{Dir: dir, Console: io.Discard, Prices: demoPrices, Exporter: x})
	require.NoError(t, err)
	return sentLive(t, x, mem)
}

// sentLive shuts x down, and returns the spans it sent to mem.
func sentLive(t *testing.T, x *slogwfotel.Exporter, mem *tracetest.InMemoryExporter) tracetest.SpanStubs {
	t.Helper()
	require.NoError(t, x.ForceFlush(context.Background()))
	spans := mem.GetSpans() // before Shutdown, which empties mem
	require.NoError(t, x.Shutdown(context.Background()))
	require.Equal(t, slogwfotel.Stats{Exported: int64(len(spans))}, x.Stats(), "nothing lost")
	return spans
}

// shipTo sends the journals named to an in-memory exporter, as export
// -otlp does, and returns the spans and what it printed.
func shipTo(t *testing.T, o otlpOptions, names ...string) (spans tracetest.SpanStubs, stdout, stderr string) {
	t.Helper()
	mem := tracetest.NewInMemoryExporter()
	var out, errb bytes.Buffer
	require.NoError(t, ship(context.Background(), mem, "http://127.0.0.1:4318/v1/traces", o, names, &out, &errb), errb.String())
	return mem.GetSpans(), out.String(), errb.String()
}

func bySpanID(spans tracetest.SpanStubs) map[trace.SpanID]tracetest.SpanStub {
	m := map[trace.SpanID]tracetest.SpanStub{}
	for _, s := range spans {
		m[s.SpanContext.SpanID()] = s
	}
	return m
}

func TestTheDemoLiveAndFromItsJournalsIsTheSameTraceSpanForSpan(t *testing.T) {
	dir := t.TempDir()
	live := runDemoLive(t, dir, &slogwfotel.Options{Content: true})
	shipped, stdout, stderr := shipTo(t, otlpOptions{content: true}, dir)
	assert.Empty(t, stderr)
	require.Len(t, live, demoSpans(), "one span per scope")
	require.Len(t, shipped, demoSpans())
	assert.Regexp(t, fmt.Sprintf(`^sent research [0-9a-f-]{36}: %d spans\n$`, demoSpans()), stdout)

	want := bySpanID(live)
	for _, got := range shipped {
		w, ok := want[got.SpanContext.SpanID()]
		require.True(t, ok, "span %s %s", got.SpanContext.SpanID(), got.Name)
		assertSentAsLive(t, w, got)
	}
}

// A key the program logs that slogwf maps too goes out once, with slogwf's
// value, the same live and from the journals (both map scopes through
// internal/otelspan).
func TestAKeyTheProgramSetsAndSlogwfMapsGoesOutOnceLiveAndFromTheJournals(t *testing.T) {
	dir := t.TempDir()
	mem := tracetest.NewInMemoryExporter()
	x := slogwfotel.New(mem, nil)
	h, err := slogwf.New(&slogwf.Options{Dir: dir, Console: io.Discard, Exporter: x})
	require.NoError(t, err)
	ctx, wf := slogwf.StartWorkflow(slogwf.ContextWithLogger(context.Background(), slog.New(h)), "research")
	ctx, ia := slogwf.StartInteraction(ctx, "planner", "gen_ai.agent.name", "other", "gen_ai.operation.name", "x")
	_, a := slogwf.StartAction(ctx, "llm", slogwf.Model("gpt-4o"), "gen_ai.request.model", "gpt-5")
	a.End(slogwf.Tokens(10, 5), "gen_ai.usage.input_tokens", 99)
	ia.End()
	live, shipped := endAndShip(t, wf, h, x, mem, dir)
	require.Len(t, live, 3)
	require.Len(t, shipped, 3)

	want := map[string]map[attribute.Key]attribute.Value{
		"invoke_agent planner": {"gen_ai.agent.name": attribute.StringValue("planner"), "gen_ai.operation.name": attribute.StringValue("invoke_agent")},
		"chat gpt-4o":          {"gen_ai.request.model": attribute.StringValue("gpt-4o"), "gen_ai.usage.input_tokens": attribute.Int64Value(10)},
	}
	liveByID := bySpanID(live)
	for _, s := range shipped {
		assertSentAsLive(t, liveByID[s.SpanContext.SpanID()], s)
		got := attrs(s)
		assert.Len(t, got, len(s.Attributes), "%s: a key twice in %v", s.Name, s.Attributes)
		for k, v := range want[s.Name] {
			assert.Equal(t, v, got[k], "%s: %s", s.Name, k)
		}
	}
}

// endAndShip ends wf and closes h, and returns the spans x sent live to
// mem and those export sends from the journals of dir.
func endAndShip(t *testing.T, wf *slogwf.Scope, h *slogwf.Handler, x *slogwfotel.Exporter, mem *tracetest.InMemoryExporter, dir string) (live, shipped tracetest.SpanStubs) {
	t.Helper()
	wf.End()
	require.NoError(t, h.Close())
	live = sentLive(t, x, mem)
	shipped, _, stderr := shipTo(t, otlpOptions{}, dir)
	assert.Empty(t, stderr)
	return live, shipped
}

// assertSentAsLive asserts that a span sent from the journals is the one
// sent live, but for the resource: live, the program's, which names its
// host and process; from the journals, export's own, which cannot (the
// journals do not say them).
func assertSentAsLive(t *testing.T, live, shipped tracetest.SpanStub) {
	t.Helper()
	host, err := os.Hostname()
	require.NoError(t, err)
	assert.Equal(t, attribute.StringValue(host), resourceAttr(live, "host.name"), "live: %s", live.Name)
	assert.Equal(t, attribute.Int64Value(int64(os.Getpid())), resourceAttr(live, "process.pid"), "live: %s", live.Name)
	assert.Equal(t, resource.Default(), shipped.Resource, "from the journals: %s", shipped.Name)
	live.Resource, shipped.Resource = nil, nil
	assert.Equal(t, live, shipped, shipped.Name)
}

// resourceAttr returns the attribute key of the resource of s.
func resourceAttr(s tracetest.SpanStub, key attribute.Key) attribute.Value {
	v, _ := s.Resource.Set().Value(key)
	return v
}

// attrs returns the attributes of s by key.
func attrs(s tracetest.SpanStub) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, a := range s.Attributes {
		m[a.Key] = a.Value
	}
	return m
}

func TestTheDemoIsATreeOfSpansByTheGenAIConventions(t *testing.T) {
	spans := runDemoLive(t, t.TempDir(), nil)
	ids := bySpanID(spans)
	names := map[string]int{}
	var root tracetest.SpanStub
	for _, s := range spans {
		names[s.Name]++
		assert.Equal(t, spans[0].SpanContext.TraceID(), s.SpanContext.TraceID(), "one trace")
		if !s.Parent.IsValid() {
			root = s
			continue
		}
		_, ok := ids[s.Parent.SpanID()]
		assert.True(t, ok, "the parent of %s is a span of the trace", s.Name)
	}
	assert.Equal(t, map[string]int{
		"invoke_workflow research": 1,
		"iteration 1":              1, "iteration 2": 1, "iteration 3": 1,
		"invoke_agent planner":  3,
		"invoke_agent worker-1": 3, "invoke_agent worker-2": 4, "invoke_agent worker-3": 3,
		"chat gpt-4o-mini":        3 + 3*3 + 1,
		"execute_tool search_web": 3, "execute_tool read_file": 3, "execute_tool run_code": 3,
	}, names)
	assert.Equal(t, "invoke_workflow research", root.Name)
	assert.Equal(t, "research", attrs(root)["gen_ai.workflow.name"].AsString())

	var calls, failed int
	for _, s := range spans {
		if s.SpanKind == trace.SpanKindClient {
			calls++
			parent := ids[s.Parent.SpanID()]
			assert.True(t, strings.HasPrefix(parent.Name, "invoke_agent "), "a call's parent is its agent: %s", parent.Name)
		}
		if strings.HasPrefix(s.Name, "invoke_agent ") || s.SpanKind == trace.SpanKindClient {
			assert.Equal(t, "openai", attrs(s)["gen_ai.provider.name"].AsString(), "%s: required, of its calls for an agent", s.Name)
		}
		if attrs(s)["error.type"].AsString() == "429" {
			failed++
			assert.Equal(t, codes.Error, s.Status.Code)
			assert.Equal(t, trace.SpanKindClient, s.SpanKind)
		}
	}
	assert.Equal(t, 3+3*3+1, calls)
	assert.Equal(t, 1, failed, "the call rate limited")
}

func TestSpansTheLiveExportLostALaterExportSends(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down for maintenance", http.StatusInternalServerError)
	}))
	defer failing.Close()

	tests := []struct {
		name, url string
		lost      func(slogwfotel.Stats) int64
	}{
		{"answering 500", failing.URL, func(st slogwfotel.Stats) int64 { return st.Failed }},
		{"slow", slow.URL, func(st slogwfotel.Stats) int64 { return st.Dropped + st.Failed }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(tt.url+"/v1/traces"),
				otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}))
			require.NoError(t, err)
			var report bytes.Buffer
			x := slogwfotel.New(exp, &slogwfotel.Options{QueueSize: 4, BatchSize: 2, ErrorOutput: &report})
			dir := t.TempDir()
			llm, stop, err := startLLM(1, true)
			require.NoError(t, err)
			defer stop()
			_, err = demo{seed: 1, fast: true, llm: llm}.run(context.Background(), &slogwf.Options{Dir: dir, Console: io.Discard, Exporter: x})
			require.NoError(t, err, "logging goes on")
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			_ = x.Shutdown(ctx) // gives up on the slow one
			st := x.Stats()
			assert.Equal(t, int64(demoSpans()), st.Exported+st.Dropped+st.Failed, "each scope counted once: %+v", st)
			assert.Positive(t, tt.lost(st), "%+v", st)
			lines := strings.Split(strings.TrimSuffix(report.String(), "\n"), "\n")
			assert.NotEmpty(t, report.String())
			assert.LessOrEqual(t, len(lines), 2, "each kind of loss reported once (a full queue, a failed export): %q", lines)

			shipped, _, _ := shipTo(t, otlpOptions{}, dir)
			assert.Len(t, bySpanID(shipped), demoSpans(), "export sends the whole trace")
		})
	}
}

// newHandler returns a handler that logs in dir, and a context whose
// scopes log through it.
func newHandler(t *testing.T, dir string) (context.Context, *slogwf.Handler) {
	t.Helper()
	h, err := slogwf.New(&slogwf.Options{Dir: dir, Console: io.Discard})
	require.NoError(t, err)
	return slogwf.ContextWithLogger(context.Background(), slog.New(h)), h
}

// waitFor waits until cond holds, failing the test after a long while.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		require.True(t, time.Now().Before(deadline), "timed out")
		time.Sleep(20 * time.Millisecond)
	}
}

// follow runs export -otlp -f on dir to an in-memory exporter until the
// spans it sent satisfy until, then stops it, and returns them.
func follow(t *testing.T, dir string, until func(tracetest.SpanStubs) bool) tracetest.SpanStubs {
	t.Helper()
	mem := tracetest.NewInMemoryExporter()
	assert.Empty(t, shipUntil(t, mem, dir, func() bool { return until(mem.GetSpans()) }))
	return mem.GetSpans()
}

// shipUntil runs export -otlp -f on dir to exp until done holds, then
// stops it, and returns what it reported.
func shipUntil(t *testing.T, exp sdktrace.SpanExporter, dir string, done func() bool) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr tailBuffer
	shipped := make(chan error, 1)
	go func() {
		shipped <- ship(ctx, exp, "http://127.0.0.1:4318/v1/traces", otlpOptions{follow: true}, []string{dir}, io.Discard, &stderr)
	}()
	waitFor(t, func() bool { return len(shipped) > 0 || done() })
	cancel()
	require.NoError(t, <-shipped)
	return stderr.String()
}

// endedWorkflow logs a workflow "w" that ended in a new directory, and
// returns the directory and the workflow.
func endedWorkflow(t *testing.T) (string, *slogwf.Scope) {
	t.Helper()
	dir := t.TempDir()
	ctx, h := newHandler(t, dir)
	_, wf := slogwf.StartWorkflow(ctx, "w")
	wf.End()
	require.NoError(t, h.Close())
	return dir, wf
}

// spanContexts returns the trace and span IDs of spans.
func spanContexts(spans tracetest.SpanStubs) []trace.SpanContext {
	var ids []trace.SpanContext
	for _, s := range spans {
		ids = append(ids, s.SpanContext)
	}
	return ids
}

func spanNames(spans tracetest.SpanStubs) []string {
	var names []string
	for _, s := range spans {
		names = append(names, s.Name)
	}
	slices.Sort(names)
	return names
}

func TestAFollowingExportSendsEachScopeAsItEndsAndAfterARestartNoSpanTwice(t *testing.T) {
	dir := t.TempDir()
	ctx, h := newHandler(t, dir)
	defer h.Close()
	ctx, wf := slogwf.StartWorkflow(ctx, "long")
	_, first := slogwf.StartInteraction(ctx, "first")
	first.End()

	spans := follow(t, dir, func(s tracetest.SpanStubs) bool { return len(s) > 0 })
	assert.Equal(t, []string{"invoke_agent first"}, spanNames(spans), "long before the workflow's end")

	_, second := slogwf.StartInteraction(ctx, "second") // while no export runs
	second.End()
	wf.End()
	spans = follow(t, dir, func(s tracetest.SpanStubs) bool { return len(s) >= 2 })
	assert.Equal(t, []string{"invoke_agent second", "invoke_workflow long"}, spanNames(spans), "not the first again")

	states, err := filepath.Glob(filepath.Join(dir, ".slogwf-export.*.state"))
	require.NoError(t, err)
	require.Len(t, states, 1)
	data, err := os.ReadFile(states[0])
	require.NoError(t, err)
	sent, err := json.Marshal(map[string][]string{wf.ID(): slices.Sorted(slices.Values([]string{wf.ID(), first.ID(), second.ID()}))})
	require.NoError(t, err)
	assert.JSONEq(t, `{"endpoint":"http://127.0.0.1:4318/v1/traces","done":null,"sent":`+string(sent)+`}`, string(data), "by scope, while lines of it may come late")

	_, other := slogwf.StartWorkflow(ctx, "other")
	other.End()
	spans = follow(t, dir, func(s tracetest.SpanStubs) bool { return len(s) > 0 })
	assert.Equal(t, []string{"invoke_workflow other"}, spanNames(spans), "nothing of the workflow sent whole")
}

// A child process (see slogwf.Environ) may start scopes after its parent
// ended the workflow: a following export sends their spans too, as export
// without -f does, each once, whether it follows as they come or restarts
// (killed in between) after its parent's were sent.
func TestAFollowingExportSendsTheScopesOfAChildProcessThatOutlivesTheWorkflow(t *testing.T) {
	for _, restart := range []bool{false, true} {
		t.Run(fmt.Sprintf("restart=%v", restart), func(t *testing.T) {
			dir := t.TempDir()
			ctx, parent := newHandler(t, dir)
			defer parent.Close() // it waits for its child
			ctx, wf := slogwf.StartWorkflow(ctx, "xproc")
			ctx, it := slogwf.StartIteration(ctx)
			iaCtx, ia := slogwf.StartInteraction(ctx, "parent-agent")
			t.Setenv(slogwf.EnvParent, strings.TrimPrefix(slogwf.Environ(iaCtx)[0], slogwf.EnvParent+"="))
			ia.End()
			it.End()
			wf.End()
			child := func() {
				ctx, h := newHandler(t, dir)
				ctx, ia := slogwf.StartInteraction(slogwf.ContextFromEnv(ctx), "child-agent")
				_, llm := slogwf.StartAction(ctx, "llm")
				llm.End()
				_, grep := slogwf.StartAction(ctx, "grep")
				grep.Fail(errors.New("tool broke"))
				ia.End()
				require.NoError(t, h.Close())
			}
			parents := []string{"invoke_agent parent-agent", "invoke_workflow xproc", "iteration 1"}
			children := []string{"execute_tool grep", "execute_tool llm", "invoke_agent child-agent"}

			mem := tracetest.NewInMemoryExporter()
			logged := false
			assert.Empty(t, shipUntil(t, mem, dir, func() bool {
				if !logged && len(mem.GetSpans()) == len(parents) && !restart {
					logged = true
					child()
				}
				return len(mem.GetSpans()) >= len(parents)+len(children) || restart && len(mem.GetSpans()) >= len(parents)
			}))
			spans := mem.GetSpans()
			if restart {
				assert.ElementsMatch(t, parents, spanNames(spans))
				child()
				restarted := follow(t, dir, func(s tracetest.SpanStubs) bool { return len(s) >= len(children) })
				assert.Equal(t, children, spanNames(restarted), "the child's, not the parent's again")
				spans = append(spans, restarted...)
			}
			once, _, _ := shipTo(t, otlpOptions{}, dir)
			assert.ElementsMatch(t, spanContexts(once), spanContexts(spans), "the spans of export without -f, with their IDs")

			_, other := slogwf.StartWorkflow(ctx, "other")
			other.End()
			spans = follow(t, dir, func(s tracetest.SpanStubs) bool { return len(s) > 0 })
			assert.Equal(t, []string{"invoke_workflow other"}, spanNames(spans), "nothing of xproc again")
		})
	}
}

func TestAFollowingExportSendsAgainWhatTheBackendRefused(t *testing.T) {
	dir, _ := endedWorkflow(t)
	mem := &flakyExporter{InMemoryExporter: tracetest.NewInMemoryExporter(), failures: 1}
	stderr := shipUntil(t, mem, dir, func() bool { return len(mem.GetSpans()) > 0 })
	assert.Len(t, mem.GetSpans(), 1)
	assert.Equal(t, "slogwf export: send 1 spans: refused; trying again\nslogwf export: sending again\n", stderr, "the fault once, and its end")
}

// A backend that fails is tried again a second after, then after twice
// as long at each failure in a row (backoff.Next), and its fault reported
// once, not once per count of spans that wait.
func TestAFollowingExportReportsAFailingBackendOnceAndTriesItAgainAfterABackoff(t *testing.T) {
	dir, _, lines := journalOf(t)
	journal := filepath.Join(dir, tree.JournalDir, tree.JournalName(time.Now(), 4242, 1))
	tailWrite(t, journal, "")
	lockJournal(t, journal) // its process lives: the workflow is not taken whole
	f := &followedFile{name: journal}
	end := len(lines) - 2 // the workflow's end; the last is ""
	exp := &flakyExporter{InMemoryExporter: tracetest.NewInMemoryExporter(), failures: 3}
	var stderr strings.Builder
	s := newShipper(exp, otelspan.Options{}, "", io.Discard, func(err error) { fmt.Fprintln(&stderr, err) })
	start := time.Now()
	rounds := []struct {
		at    time.Duration
		lines []string // read before the round
		tries int      // in all, after the round
	}{
		{0, lines[:end], 1}, // invoke_agent a: fails
		{500 * time.Millisecond, lines[end : end+1], 1},
		{time.Second, nil, 2}, // and invoke_workflow w: fails
		{2 * time.Second, nil, 2},
		{3 * time.Second, nil, 3}, // fails
		{6 * time.Second, nil, 3},
		{7 * time.Second, nil, 4}, // sent
		{8 * time.Second, nil, 4},
	}
	for _, r := range rounds {
		for _, l := range r.lines {
			s.line(f, []byte(l), false)
		}
		s.now = func() time.Time { return start.Add(r.at) }
		s.round(context.Background(), func() []string { return []string{journal} })
		assert.Equal(t, r.tries, exp.tried(), "tries after %v", r.at)
	}
	assert.Equal(t, []string{"invoke_agent a", "invoke_workflow w"}, spanNames(exp.GetSpans()))
	assert.Equal(t, "send 1 spans: refused; trying again\nsending again\n", stderr.String(), "the fault once, and its end")
}

// flakyExporter refuses its first failures exports.
type flakyExporter struct {
	*tracetest.InMemoryExporter
	mu       sync.Mutex
	failures int
	tries    int
}

func (f *flakyExporter) tried() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tries
}

func (f *flakyExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tries++
	if f.failures > 0 {
		f.failures--
		return errors.New("refused")
	}
	return f.InMemoryExporter.ExportSpans(ctx, spans)
}

// otlpServer is an OTLP/HTTP endpoint that counts the spans it is sent.
type otlpServer struct {
	*httptest.Server
	mu    sync.Mutex
	spans []*tracepb.Span
}

func newOTLPServer(t *testing.T) *otlpServer {
	s := &otlpServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if err != nil || r.URL.Path != "/v1/traces" || proto.Unmarshal(body, &req) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				s.spans = append(s.spans, ss.Spans...)
			}
		}
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		b, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Write(b)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *otlpServer) names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for _, sp := range s.spans {
		names = append(names, sp.Name)
	}
	slices.Sort(names)
	return names
}

func TestDemoWithOTLPSendsEachScopeAsASpan(t *testing.T) {
	srv := newOTLPServer(t)
	code, stdout, stderr := runCLI(t, "demo", "-fast", "-dir", t.TempDir(), "-otlp", srv.URL)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, fmt.Sprintf("spans: %d sent to %s\n", demoSpans(), srv.URL))
	assert.Len(t, srv.names(), demoSpans())
	assert.Contains(t, srv.names(), "invoke_workflow research")
}

func TestExportOTLPSendsTheWorkflowsOfTheJournals(t *testing.T) {
	dir := filepath.Dir(runDemoDir(t))
	ctx, h := newHandler(t, dir)
	_, other := slogwf.StartWorkflow(ctx, "other")
	other.End()
	require.NoError(t, h.Close())

	tests := []struct {
		name  string
		args  []string
		spans int
		out   string
	}{
		{"all", nil, demoSpans() + 1, `(?s)sent research .*: 39 spans\n.*sent other `},
		{"one by name", []string{"-workflow", "other"}, 1, `^sent other [0-9a-f-]+: 1 spans\n$`},
		{"one by ID", []string{"-workflow", other.ID()}, 1, `^sent other ` + other.ID() + `: 1 spans\n$`},
		{"one by the start of its ID", []string{"-workflow", strings.ToUpper(other.ID()[:24])}, 1, `^sent other ` + other.ID() + `: 1 spans\n$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newOTLPServer(t)
			code, stdout, stderr := runCLI(t, append(append([]string{"export", "-otlp", srv.URL}, tt.args...), dir)...)
			require.Equal(t, 0, code, stderr)
			assert.Empty(t, stderr)
			assert.Len(t, srv.names(), tt.spans)
			assert.Regexp(t, tt.out, stdout)
		})
	}
}

func TestTheTracesURLIsTheEndpointsBaseWithV1TracesOnce(t *testing.T) {
	for _, tt := range []struct{ base, want string }{
		{"http://127.0.0.1:4318", "http://127.0.0.1:4318/v1/traces"},
		{"http://127.0.0.1:4318/", "http://127.0.0.1:4318/v1/traces"},
		{"http://127.0.0.1:4318/v1/traces", "http://127.0.0.1:4318/v1/traces"},
		{"http://127.0.0.1:4318/v1/traces/", "http://127.0.0.1:4318/v1/traces"},
		{"https://cloud.langfuse.com/api/public/otel", "https://cloud.langfuse.com/api/public/otel/v1/traces"},
		{"https://cloud.langfuse.com/api/public/otel/", "https://cloud.langfuse.com/api/public/otel/v1/traces"},
	} {
		t.Run(tt.base, func(t *testing.T) {
			traces, err := tracesURL(tt.base)
			require.NoError(t, err)
			assert.Equal(t, tt.want, traces)
		})
	}
}

func TestExportOTLPRejectsWhatItCannotSend(t *testing.T) {
	dir := t.TempDir()
	tree := filepath.Join(dir, "w-01234567.json")
	require.NoError(t, os.WriteFile(tree, []byte(`{"schema":"slogwf.tree/v1"}`), 0o600))
	empty := t.TempDir()
	srv := newOTLPServer(t)
	tests := []struct {
		name string
		args []string
		code int
		says string
	}{
		{"not a URL", []string{"-otlp", "127.0.0.1:4318", dir}, 2, "want the URL of an OTLP/HTTP endpoint"},
		{"not HTTP", []string{"-otlp", "ftp://127.0.0.1", dir}, 2, "want the URL of an OTLP/HTTP endpoint"},
		{"both formats", []string{"-otlp", srv.URL, "-format", "chrome", dir}, 2, "-format and -otlp: choose one"},
		{"-o", []string{"-otlp", srv.URL, "-o", "x", dir}, 2, "-o goes with -format, not -otlp"},
		{"-f alone", []string{"-f", dir}, 2, "-f needs -otlp"},
		{"no input", []string{"-otlp", srv.URL}, 2, "no input"},
		{"standard input", []string{"-otlp", srv.URL, "-"}, 2, `not "-"`},
		{"a tree file", []string{"-otlp", srv.URL, tree}, 2, "-otlp reads journals"},
		{"no journal", []string{"-otlp", srv.URL, empty}, 1, "no workflow in the journals of " + empty},
		{"no such workflow", []string{"-otlp", srv.URL, "-workflow", "nope", filepath.Dir(runDemoDir(t))}, 1, "no workflow nope in"},
		{"missing", []string{"-otlp", srv.URL, filepath.Join(dir, "gone")}, 1, "gone: no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, append([]string{"export"}, tt.args...)...)
			assert.Equal(t, tt.code, code, stderr)
			assert.Contains(t, stderr, tt.says)
			assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
		})
	}
	assert.Empty(t, srv.names(), "nothing sent")
}

func TestExportOTLPFailsWhenTheBackendFails(t *testing.T) {
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down for maintenance", http.StatusInternalServerError)
	}))
	defer failing.Close()
	code, stdout, stderr := runCLI(t, "export", "-otlp", failing.URL, filepath.Dir(runDemoDir(t)))
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, "send 39 spans")
	assert.Contains(t, stderr, "500 Internal Server Error")
}

func TestASpanSentWhoseStateCannotBeWrittenIsNotSentAgain(t *testing.T) {
	dir := t.TempDir()
	ctx, h := newHandler(t, dir)
	_, wf := slogwf.StartWorkflow(ctx, "w")
	wf.End()
	require.NoError(t, h.Close())
	notADir := h.TreeFile(wf) // a file: no state file can go under it

	mem := tracetest.NewInMemoryExporter()
	var errs []error
	s := newShipper(mem, otelspan.Options{}, "", io.Discard, func(err error) { errs = append(errs, err) })
	s.state = &shipState{path: filepath.Join(notADir, "x.state"), whole: map[string]bool{}, scopes: map[string]map[string]bool{}}
	fl := newFollower(os.Open, s.line, func(err error) { t.Error(err) })
	require.NoError(t, fl.add(dir))
	require.NoError(t, fl.readAll())
	s.take(false)
	require.Error(t, s.send(context.Background()), "the state is not written")
	s.take(false)
	require.Error(t, s.send(context.Background()), "the state is tried again, not forgotten")
	assert.Len(t, mem.GetSpans(), 1, "sent once")
}

// A state file that cannot be read (a crash before it reached the disk,
// say) is reported once, and the export starts afresh: it sends the spans
// again rather than never, and writes a state file it can read.
func TestAFollowingExportStartsAfreshFromAStateFileItCannotRead(t *testing.T) {
	for _, state := range []string{"", "{", "\x00\x00\x00\x00", `{"endpoint":5}`} {
		t.Run(fmt.Sprintf("%q", state), func(t *testing.T) {
			dir, wf := endedWorkflow(t)
			path := stateFile([]string{dir}, "http://127.0.0.1:4318/v1/traces")
			require.NoError(t, os.WriteFile(path, []byte(state), 0o600))

			mem := tracetest.NewInMemoryExporter()
			stderr := shipUntil(t, mem, dir, func() bool {
				data, _ := os.ReadFile(path)
				return len(mem.GetSpans()) > 0 && json.Valid(data)
			})
			assert.Len(t, mem.GetSpans(), 1)
			assert.Regexp(t, `^slogwf export: .*\.state: not a state file of slogwf export \(.*\): starting afresh, spans sent before may be sent again\n$`, stderr)
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.JSONEq(t, `{"endpoint":"http://127.0.0.1:4318/v1/traces","done":null,"sent":{"`+wf.ID()+`":["`+wf.ID()+`"]}}`, string(data))
		})
	}
}

// The state file replaces a symbolic link planted at its name, and writes
// nothing where it leads.
func TestTheStateFileReplacesASymlinkPlantedThere(t *testing.T) {
	dir, _ := endedWorkflow(t)
	path := stateFile([]string{dir}, "http://127.0.0.1:4318/v1/traces")
	victim := filepath.Join(t.TempDir(), "victim")
	require.NoError(t, os.Symlink(victim, path))

	written := func() bool {
		st, err := os.Lstat(path)
		_, verr := os.Stat(victim)
		return err == nil && st.Mode().IsRegular() || verr == nil
	}
	follow(t, dir, func(s tracetest.SpanStubs) bool { return len(s) > 0 && written() })
	assert.NoFileExists(t, victim)
	st, err := os.Lstat(path)
	require.NoError(t, err)
	assert.True(t, st.Mode().IsRegular(), "the link replaced")
}

// journalOf logs a workflow "w" with an interaction in a new directory,
// and returns the directory, the workflow's ID and the lines of its one
// journal, which it removes, with the tree file.
func journalOf(t *testing.T) (dir, id string, lines []string) {
	t.Helper()
	dir = t.TempDir()
	ctx, h := newHandler(t, dir)
	ctx, wf := slogwf.StartWorkflow(ctx, "w")
	_, ia := slogwf.StartInteraction(ctx, "a")
	ia.End()
	wf.End()
	require.NoError(t, h.Close())
	journals, err := filepath.Glob(filepath.Join(dir, tree.JournalDir, "*.jsonl"))
	require.NoError(t, err)
	require.Len(t, journals, 1)
	data, err := os.ReadFile(journals[0])
	require.NoError(t, err)
	require.NoError(t, os.Remove(journals[0]))
	require.NoError(t, os.Remove(h.TreeFile(wf)))
	return dir, wf.ID(), strings.SplitAfter(string(data), "\n")
}

func TestTheWorkflowSpanCountsTheLinesSkippedAsTheTreeDoes(t *testing.T) {
	tests := []struct {
		name   string
		damage func(id string, lines []string) string
	}{
		{"a line that names no workflow", func(_ string, lines []string) string {
			return lines[0] + "{not json}\n" + strings.Join(lines[1:], "")
		}},
		{"a line of the workflow that is not an event", func(id string, lines []string) string {
			return lines[0] + `{"ev":"record","wf":"` + id + `","time":}` + "\n" + strings.Join(lines[1:], "")
		}},
		{"a torn last line", func(id string, lines []string) string {
			return strings.Join(lines, "") + `{"ev":"record","wf":"` + id + `","ti`
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, id, lines := journalOf(t)
			journal := filepath.Join(dir, "damaged.jsonl")
			require.NoError(t, os.WriteFile(journal, []byte(tt.damage(id, lines)), 0o600))

			code, built, stderr := runCLI(t, "build", "-o", "-", journal)
			require.Equal(t, 0, code, stderr)
			var file struct{ Loss struct{ Dropped int64 } }
			require.NoError(t, json.Unmarshal([]byte(built), &file))
			require.Equal(t, int64(1), file.Loss.Dropped, "the tree counts the line")

			spans, _, shipErr := shipTo(t, otlpOptions{}, journal)
			assert.Equal(t, stderr, strings.ReplaceAll(shipErr, "slogwf export: ", "slogwf build: "), "the same warning")
			root := slices.IndexFunc(spans, func(s tracetest.SpanStub) bool { return !s.Parent.IsValid() })
			require.GreaterOrEqual(t, root, 0, "the workflow's span")
			assert.Equal(t, file.Loss.Dropped, attrs(spans[root])["slogwf.loss.dropped"].AsInt64())
		})
	}
}

func TestAWorkflowWhoseStartIsLostIsPickedByTheNameOfItsJournal(t *testing.T) {
	dir, id, lines := journalOf(t)
	require.Contains(t, lines[0], `"id":"`+id+`"`, "the first line starts the workflow")
	// A journal of the earlier layout names its workflow.
	journal := filepath.Join(dir, "w-"+id[len(id)-8:]+".1.jsonl")
	require.NoError(t, os.WriteFile(journal, []byte(strings.Join(lines[1:], "")), 0o600))

	code, _, stderr := runCLI(t, "tree", "-workflow", "w", dir)
	require.Equal(t, 0, code, stderr)

	spans, stdout, stderr := shipTo(t, otlpOptions{workflow: "w"}, dir)
	assert.Empty(t, stderr)
	assert.Equal(t, []string{"invoke_agent a"}, spanNames(spans), "all but the workflow's, whose start is lost")
	assert.Equal(t, "sent "+id+": 1 spans, without the workflow's, whose start no journal holds\n", stdout)
}

// A workflow that ended is kept for the lines that come late (child
// processes, late records), and the spans of the scopes they start are
// sent, until a minute (retention.Grace) passes without a line of it, or
// its tree grew by maxLate since its end: then it is forgotten, sent
// whole in the state, and a line of it that comes later is not taken up.
func TestAFollowingExportSendsTheLateScopesOfAWorkflowThatEndedUntilItForgetsIt(t *testing.T) {
	big := `{"ev":"record","wf":"%s","scope":"%s","seq":%d,"time":"2026-01-01T00:00:00Z","level":"INFO","msg":"late","attrs":{"pad":"` + strings.Repeat("x", 64<<10) + `"}}` + "\n"
	for _, tt := range []struct {
		name  string
		after time.Duration // the last line, when the workflow is let go
		late  func(id string) []string
	}{
		{"a minute without a line", retention.Grace, func(string) []string { return nil }},
		{"its tree grew past maxLate", 0, func(id string) []string {
			var lines []string
			for i := range maxLate/(64<<10) + 1 {
				lines = append(lines, fmt.Sprintf(big, id, id, 100+i))
			}
			return lines
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir, id, lines := journalOf(t)
			mem := tracetest.NewInMemoryExporter()
			var stdout strings.Builder
			s := newShipper(mem, otelspan.Options{}, "", &stdout, func(err error) { t.Error(err) })
			var err error
			s.state, err = loadShipState(filepath.Join(dir, "state"), "http://127.0.0.1:4318/v1/traces", func(err error) { t.Error(err) })
			require.NoError(t, err)
			clock := time.Now()
			s.now = func() time.Time { return clock }
			f := &followedFile{name: "journal.jsonl"}
			read := func(lines ...string) {
				for _, l := range lines {
					s.line(f, []byte(l), false)
				}
				s.take(false)
				require.NoError(t, s.send(context.Background()))
			}
			read(lines[:len(lines)-1]...) // the last is ""
			assert.Equal(t, []string{"invoke_agent a", "invoke_workflow w"}, spanNames(mem.GetSpans()))
			assert.Equal(t, []string{id}, s.b.Workflows(), "kept after its end")

			late := `{"ev":"start","wf":"` + id + `","id":"01a22d0c-b986-766a-9246-9e1a5e142ff6","parent":"` + id + `","kind":"interaction","seq":7,"time":"2026-01-01T00:00:00Z","agent":"late"}` + "\n"
			read(append([]string{late}, tt.late(id)...)...)
			assert.Equal(t, []string{"invoke_agent a", "invoke_agent late", "invoke_workflow w"}, spanNames(mem.GetSpans()), "the late scope too")
			s.checkWriters(nil, clock.Add(tt.after-time.Nanosecond))
			read()
			if tt.after > 0 {
				assert.Equal(t, []string{id}, s.b.Workflows(), "kept a minute after its last line")
				s.checkWriters(nil, clock.Add(tt.after))
				read()
			}
			assert.Empty(t, s.b.Workflows(), "forgotten")
			assert.Len(t, mem.GetSpans(), 3, "each span once")
			assert.Equal(t, "sent w "+id+": 2 spans\nsent w "+id+": 1 spans more, of lines after its end\n", stdout.String())
			state, err := os.ReadFile(filepath.Join(dir, "state"))
			require.NoError(t, err)
			assert.JSONEq(t, `{"endpoint":"http://127.0.0.1:4318/v1/traces","done":["`+id+`"],"sent":{}}`, string(state), "sent whole")

			s.line(f, []byte(lines[0]), false) // a line that comes later, or again
			assert.Empty(t, s.b.Workflows(), "not taken up again")
		})
	}
}

// A workflow without an end whose process died gets no more lines: a
// following export sends it whole, its open scopes incomplete, and
// forgets it, as sent whole. While its process lives, it sends only the
// scopes that ended.
func TestAFollowingExportSendsWholeTheWorkflowOfADeadProcess(t *testing.T) {
	for _, tt := range []struct {
		name   string
		writer func(t *testing.T, journal string)
		want   []string
		done   bool
	}{
		{"its process holds its journal locked", liveWriter, []string{"invoke_agent a"}, false},
		{"its process wrote its journal lately", recentWriter, []string{"invoke_agent a"}, false},
		{"its process died", deadWriter, []string{"invoke_agent a", "invoke_workflow w"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir, id, journal := unendedJournal(t)
			tt.writer(t, journal)
			mem := tracetest.NewInMemoryExporter()
			s := newShipper(mem, otelspan.Options{}, "", io.Discard, func(err error) { t.Error(err) })
			var err error
			s.state, err = loadShipState(filepath.Join(dir, "state"), "http://127.0.0.1:4318/v1/traces", func(err error) { t.Error(err) })
			require.NoError(t, err)
			f := &followedFile{name: journal}
			data, err := os.ReadFile(journal)
			require.NoError(t, err)
			for line := range strings.Lines(string(data)) {
				s.line(f, []byte(line), false)
			}

			s.checkWriters([]string{journal}, time.Now())
			s.take(false)
			require.NoError(t, s.send(context.Background()))
			assert.Equal(t, tt.want, spanNames(mem.GetSpans()))
			state, err := os.ReadFile(filepath.Join(dir, "state"))
			require.NoError(t, err)
			if tt.done {
				assert.Empty(t, s.b.Workflows(), "forgotten")
				assert.JSONEq(t, `{"endpoint":"http://127.0.0.1:4318/v1/traces","done":["`+id+`"],"sent":{}}`, string(state))
				for _, span := range mem.GetSpans() {
					if span.Name == "invoke_workflow w" {
						assert.Equal(t, codes.Error, span.Status.Code, "incomplete")
					}
				}
			} else {
				assert.Equal(t, []string{id}, s.b.Workflows(), "kept while it runs")
				assert.NotContains(t, string(state), `"done":["`)
			}
		})
	}
}

// export -otlp -f looks whether the processes of the workflows it keeps
// live, as it follows: it sends whole the workflow of one that died.
func TestExportOTLPFollowingSendsWholeTheWorkflowOfADeadProcess(t *testing.T) {
	dir, _, _ := unendedJournal(t)
	spans := follow(t, dir, func(s tracetest.SpanStubs) bool { return len(s) >= 2 })
	assert.Equal(t, []string{"invoke_agent a", "invoke_workflow w"}, spanNames(spans))
}

// A state that could not be written after a batch (a full disk, say) is
// written at the next round that can, not only after the next batch: a
// workflow that runs for hours may end no scope for long, and a restart
// meanwhile would send again what was sent.
func TestAFollowingExportWritesAStateItCouldNotWriteOnceItCan(t *testing.T) {
	dir, id, lines := journalOf(t)
	journal := filepath.Join(dir, tree.JournalDir, tree.JournalName(time.Now(), 4242, 1))
	tailWrite(t, journal, "")
	lockJournal(t, journal) // its process lives: the workflow is not taken whole
	path := filepath.Join(dir, "state")
	mem := tracetest.NewInMemoryExporter()
	var stderr strings.Builder
	s := newShipper(mem, otelspan.Options{}, "", io.Discard, func(err error) { fmt.Fprintln(&stderr, err) })
	var err error
	s.state, err = loadShipState(path, "http://127.0.0.1:4318/v1/traces", func(err error) { t.Error(err) })
	require.NoError(t, err)
	require.NoError(t, os.Mkdir(path, 0o700)) // the state cannot be written in its place
	start := time.Now()
	f := &followedFile{name: journal}
	for _, l := range lines[:len(lines)-2] { // up to the workflow's end
		s.line(f, []byte(l), false)
	}
	for i, at := range []time.Duration{0, time.Second, 2 * time.Second, 3 * time.Second} {
		if i == 1 {
			require.NoError(t, os.Remove(path)) // room again
		}
		s.now = func() time.Time { return start.Add(at) }
		s.round(context.Background(), func() []string { return []string{journal} })
	}
	require.Equal(t, []string{"invoke_agent a"}, spanNames(mem.GetSpans()))
	require.Contains(t, stderr.String(), "trying again", "the fault is reported")
	data, err := os.ReadFile(path)
	require.NoError(t, err, "the state is written once it can be")
	assert.Contains(t, string(data), `"sent":{"`+id+`":[`, "with the scope sent")
}

// gen_ai.provider.name is on the calls and the agents whose provider is
// known, and only on those, the same live and from the journals: of
// Transport's calls by the host, of the calls the program logs by the
// provider it names or by a model only one provider serves, of an agent by
// its calls when they agree.
func TestTheProvidersOfCallsAndAgentsAreTheSameLiveAndFromTheJournals(t *testing.T) {
	llm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"model":"gpt-4o","choices":[{"message":{"content":"ok"}}],"usage":{"prompt_tokens":3,"completion_tokens":1}}`)
	}))
	defer llm.Close()
	azure := &http.Client{Transport: slogwf.Transport(&http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, llm.Listener.Addr().String()) // the Azure host is the test server
	}})}
	defer azure.CloseIdleConnections()

	dir := t.TempDir()
	mem := tracetest.NewInMemoryExporter()
	x := slogwfotel.New(mem, nil)
	h, err := slogwf.New(&slogwf.Options{Dir: dir, Console: io.Discard, Exporter: x})
	require.NoError(t, err)
	ctx, wf := slogwf.StartWorkflow(slogwf.ContextWithLogger(context.Background(), slog.New(h)), "providers")
	agent := func(name string, calls ...func(context.Context)) {
		ictx, ia := slogwf.StartInteraction(ctx, name)
		for _, call := range calls {
			call(ictx)
		}
		ia.End()
	}
	logged := func(name string, args ...any) func(context.Context) {
		return func(ctx context.Context) {
			_, a := slogwf.StartAction(ctx, name, args...)
			a.End(slogwf.Tokens(10, 5))
		}
	}
	agent("azure", func(ctx context.Context) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://my-resource.openai.azure.com/openai/deployments/gpt4/chat/completions",
			strings.NewReader(`{"messages":[{"role":"user","content":"hi"}]}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		resp, err := azure.Do(req)
		require.NoError(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	})
	agent("gemini", logged("ask-gemini", slogwf.Model("gemini-2.0-flash")), func(ctx context.Context) {
		slog.New(h).InfoContext(ctx, "asked", slogwf.Model("gemini-2.0-flash-001"), slogwf.Tokens(1, 1)) // a call as a record
	})
	agent("named", logged("ask-claude", "provider", "anthropic", slogwf.Model("claude-sonnet-4")))
	agent("mixed", logged("ask-gpt", slogwf.Model("gpt-4o")), logged("ask-gemini-too", slogwf.Model("gemini-2.0-flash")))
	agent("unknown", func(ctx context.Context) {
		slog.New(h).InfoContext(ctx, "asked", slogwf.Model("gemini-2.0-flash"), slogwf.Tokens(1, 1))
		slog.New(h).InfoContext(ctx, "asked", slogwf.Tokens(1, 1)) // a call as a record, of no model
	})
	live, shipped := endAndShip(t, wf, h, x, mem, dir)
	require.Len(t, live, 11)
	require.Len(t, shipped, 11)

	want := map[string]any{ // by span name, a call's under its agent's; nil: none
		"invoke_agent azure": "azure.ai.openai", "invoke_agent azure > chat gpt-4o": "azure.ai.openai",
		"invoke_agent gemini": "gcp.gen_ai", "invoke_agent gemini > chat gemini-2.0-flash": "gcp.gen_ai",
		"invoke_agent named": "anthropic", "invoke_agent named > chat claude-sonnet-4": "anthropic",
		"invoke_agent mixed": nil, "invoke_agent mixed > chat gpt-4o": nil, "invoke_agent mixed > chat gemini-2.0-flash": "gcp.gen_ai",
		"invoke_agent unknown": nil, "invoke_workflow providers": nil,
	}
	liveByID, shippedByID := bySpanID(live), bySpanID(shipped)
	for _, s := range shipped {
		assertSentAsLive(t, liveByID[s.SpanContext.SpanID()], s)
		name := s.Name
		if s.SpanKind == trace.SpanKindClient {
			name = shippedByID[s.Parent.SpanID()].Name + " > " + name
		}
		w, ok := want[name]
		require.True(t, ok, name)
		if w == nil {
			assert.NotContains(t, attrs(s), attribute.Key("gen_ai.provider.name"), name)
			continue
		}
		assert.Equal(t, attribute.StringValue(w.(string)), attrs(s)["gen_ai.provider.name"], name)
	}
}
