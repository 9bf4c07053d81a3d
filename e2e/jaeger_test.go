// Package e2e tests slogwf against real backends. Its tests need a Jaeger v2
// whose query API SLOGWF_JAEGER names (http://127.0.0.1:16686) and whose
// OTLP/HTTP receiver SLOGWF_JAEGER_OTLP names (http://127.0.0.1:4318);
// scripts/jaeger.sh builds, starts and stops one. Without SLOGWF_JAEGER the
// tests are skipped, except in CI, where they fail.
package e2e

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/slogwf/slogwf/internal/otelspan"
	"github.com/slogwf/slogwf/internal/tree"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// jaeger returns the URLs of the Jaeger under test, skipping the test when
// there is none, or failing it in CI.
func jaeger(t *testing.T) (query, otlp string) {
	t.Helper()
	query = os.Getenv("SLOGWF_JAEGER")
	if query == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set but SLOGWF_JAEGER is not: .ci/run starts Jaeger with scripts/jaeger.sh")
		}
		t.Skip("no Jaeger: run scripts/jaeger.sh test")
	}
	otlp = os.Getenv("SLOGWF_JAEGER_OTLP")
	if otlp == "" {
		otlp = "http://127.0.0.1:4318"
	}
	return query, otlp
}

// otlpTrace is the part of Jaeger's /api/v3 answer, OTLP JSON, the tests read.
type otlpTrace struct {
	Result struct {
		ResourceSpans []struct {
			Resource struct {
				Attributes []otlpKV `json:"attributes"`
			} `json:"resource"`
			ScopeSpans []struct {
				Spans []otlpSpan `json:"spans"`
			} `json:"scopeSpans"`
		} `json:"resourceSpans"`
	} `json:"result"`
}

type otlpSpan struct {
	TraceID      string   `json:"traceId"`
	SpanID       string   `json:"spanId"`
	ParentSpanID string   `json:"parentSpanId"`
	Name         string   `json:"name"`
	Kind         int      `json:"kind"`
	Attributes   []otlpKV `json:"attributes"`
	Events       []struct {
		Name       string   `json:"name"`
		Attributes []otlpKV `json:"attributes"`
	} `json:"events"`
	DroppedEventsCount int `json:"droppedEventsCount"`
	Status             struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"status"`
}

type otlpKV struct {
	Key   string         `json:"key"`
	Value map[string]any `json:"value"`
}

// values returns attributes as key → value, the value as OTLP JSON writes
// it: a string, a bool, an int64 as a string, a double as a number.
func values(kvs []otlpKV) map[string]any {
	m := map[string]any{}
	for _, kv := range kvs {
		for _, v := range kv.Value {
			m[kv.Key] = v
		}
	}
	return m
}

// fetchTrace polls Jaeger until the trace has want spans, or a deadline.
func fetchTrace(t *testing.T, query, traceID string, want int) []otlpSpan {
	t.Helper()
	var spans []otlpSpan
	deadline := time.Now().Add(30 * time.Second)
	for {
		spans = getTrace(t, query, traceID)
		if len(spans) >= want || time.Now().After(deadline) {
			return spans
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func getTrace(t *testing.T, query, traceID string) []otlpSpan {
	t.Helper()
	resp, err := http.Get(query + "/api/v3/traces/" + traceID)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if resp.StatusCode == http.StatusNotFound {
		return nil
	}
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var tr otlpTrace
	require.NoError(t, json.Unmarshal(body, &tr), string(body))
	var spans []otlpSpan
	for _, rs := range tr.Result.ResourceSpans {
		require.Equal(t, "slogwf-e2e", values(rs.Resource.Attributes)["service.name"])
		for _, ss := range rs.ScopeSpans {
			spans = append(spans, ss.Spans...)
		}
	}
	return spans
}

// newUUID returns a fresh UUIDv7-shaped ID, so that every run is a new trace
// in a Jaeger that keeps the last one's.
func newUUID(t *testing.T, seq byte) string {
	var b [16]byte
	binaryTime := uint64(time.Now().UnixMilli())
	for i := range 6 {
		b[i] = byte(binaryTime >> (40 - 8*i))
	}
	b[6], b[7] = 0x70, seq
	b[8] = 0x80
	now := time.Now().UnixNano()
	for i := 9; i < 16; i++ {
		b[i] = byte(now >> (8 * (i - 9)))
	}
	b[15] = seq
	h := hex.EncodeToString(b[:])
	return fmt.Sprintf("%s-%s-%s-%s-%s", h[:8], h[8:12], h[12:16], h[16:20], h[20:])
}

// TestAWorkflowIsOneTraceInJaeger sends the spans of a hand-built workflow
// through otlptracehttp to Jaeger and reads the trace back.
// Phase 2 of issue 13 replaces the hand-built scopes by the demo workflow,
// exported live and from its journals by two processes.
func TestAWorkflowIsOneTraceInJaeger(t *testing.T) {
	query, otlp := jaeger(t)
	wf, it, agent, call, tool := newUUID(t, 1), newUUID(t, 2), newUUID(t, 3), newUUID(t, 4), newUUID(t, 5)
	start := time.Now().Add(-time.Second).UTC()
	at := func(ms int) string { return start.Add(time.Duration(ms) * time.Millisecond).Format(time.RFC3339Nano) }
	scopes := []*tree.Ended{
		{Workflow: wf, Kind: tree.Action, ID: call, Parent: agent, Name: "llm.chat", Start: at(10), End: at(240), Status: "completed",
			StartAttrs: []byte(`{"provider":"openai","request_model":"gpt-4o-mini","model":"gpt-4o-mini-2024-07-18","http_status":200}`),
			Own:        tree.Usage{Calls: 1, In: 1063, Cached: 256, Out: 206, Cost: tree.ToNano(0.00028305)}},
		{Workflow: wf, Kind: tree.Action, ID: tool, Parent: agent, Name: "search_web", Start: at(241), End: at(250), Status: "failed", Error: "search engine down",
			Records: [][]byte{[]byte(`"time":"` + at(245) + `","level":"WARN","msg":"retrying","attrs":{"origin":"tool","attempt":2}`)}},
		{Workflow: wf, Kind: tree.Interaction, ID: agent, Parent: it, Name: "planner", Start: at(5), End: at(260), Status: "completed",
			Total: tree.Usage{Calls: 1, In: 1063, Out: 206}},
		{Workflow: wf, Kind: tree.Iteration, ID: it, Parent: wf, Number: 1, Start: at(1), End: at(300), Status: "completed"},
		{Workflow: wf, Kind: tree.Workflow, ID: wf, Name: "research", Start: at(0), End: at(310), Status: "completed",
			StartAttrs: []byte(`{"user":"ana"}`)},
	}

	exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(otlp+"/v1/traces"))
	require.NoError(t, err)
	opts := otelspan.Options{Resource: resource.NewSchemaless(attribute.String("service.name", "slogwf-e2e"))}
	var spans []sdktrace.ReadOnlySpan
	for _, s := range scopes {
		span, err := opts.Span(s)
		require.NoError(t, err)
		spans = append(spans, span)
	}
	require.NoError(t, exp.ExportSpans(context.Background(), spans))
	require.NoError(t, exp.Shutdown(context.Background()))

	traceID := strings.ReplaceAll(wf, "-", "")
	got := fetchTrace(t, query, traceID, len(scopes))
	require.Len(t, got, len(scopes), "one span per scope")
	byName := map[string]otlpSpan{}
	for _, s := range got {
		assert.Equal(t, traceID, s.TraceID)
		byName[s.Name] = s
	}
	spanID := func(uuid string) string { return strings.ReplaceAll(uuid, "-", "")[16:] }
	tests := []struct {
		name, id, parent string
		kind             int // OTLP: 1 internal, 3 client
		attrs            map[string]any
	}{
		{"invoke_workflow research", wf, "", 1, map[string]any{"gen_ai.operation.name": "invoke_workflow", "gen_ai.workflow.name": "research", "user": "ana"}},
		{"iteration 1", it, wf, 1, map[string]any{"slogwf.iteration.number": "1"}},
		{"invoke_agent planner", agent, it, 1, map[string]any{"gen_ai.agent.name": "planner", "slogwf.usage.input_tokens": "1063"}},
		{"chat gpt-4o-mini", call, agent, 3, map[string]any{"gen_ai.provider.name": "openai", "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
			"gen_ai.usage.input_tokens": "1063", "gen_ai.usage.cache_read.input_tokens": "256", "gen_ai.usage.cost": 0.00028305}},
		{"execute_tool search_web", tool, agent, 1, map[string]any{"gen_ai.tool.name": "search_web", "error.type": "_OTHER"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ok := byName[tt.name]
			require.True(t, ok, "a span %q", tt.name)
			assert.Equal(t, spanID(tt.id), s.SpanID)
			if tt.parent != "" {
				assert.Equal(t, spanID(tt.parent), s.ParentSpanID)
			} else {
				assert.Empty(t, s.ParentSpanID)
			}
			assert.Equal(t, tt.kind, s.Kind)
			a := values(s.Attributes)
			for k, v := range tt.attrs {
				assert.Equal(t, v, a[k], k)
			}
		})
	}
	failed := byName["execute_tool search_web"]
	assert.Equal(t, 2, failed.Status.Code, "error")
	assert.Equal(t, "search engine down", failed.Status.Message)
	require.Len(t, failed.Events, 1)
	assert.Equal(t, "retrying", failed.Events[0].Name)
	assert.Equal(t, map[string]any{"level": "WARN", "origin": "tool", "attempt": "2"}, values(failed.Events[0].Attributes))
}
