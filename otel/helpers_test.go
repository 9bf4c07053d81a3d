package slogwfotel

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slogwf/slogwf/internal/jsonenc"
	"github.com/slogwf/slogwf/internal/tree"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// IDs of the hand-built workflow: UUIDv7s, as slogwf makes them.
const (
	wfID      = "01a228b2-f766-720d-a5e8-93f4b9c26938"
	itID      = "01a228b2-f766-77a0-b15e-1938533dd501"
	plannerID = "01a228b2-f766-77d0-a969-404ecd814f80"
	chatID    = "01a228b2-f766-79e3-a6a8-2c96abb8ad76"
	searchID  = "01a228b2-f768-7b56-a230-59fbcba4d041"
	workerID  = "01a228b2-f769-712e-bb13-37069c8645da"
	failID    = "01a228b2-f769-7189-a227-c5ebfa458d8e"
	lateID    = "01a228b2-f769-79b8-993f-b1f647ee4987"
)

var t0 = time.Date(2026, 11, 29, 3, 33, 30, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// ts is at as the tree writes times.
func ts(ms int) string { return at(ms).Format(jsonenc.TimeLayout) }

// demo returns the scopes of a small workflow, in the order they end: a
// planner whose model call succeeds and who runs a tool, and a worker whose
// call fails with a 429 and whose tool never ends.
func demo() []*tree.Ended {
	return []*tree.Ended{
		{Workflow: wfID, Kind: tree.Action, ID: chatID, Parent: plannerID, Name: "llm.chat",
			Start: ts(10), End: ts(240), Status: "completed",
			StartAttrs: []byte(`{"provider":"openai","request_model":"gpt-4o-mini","server_address":"api.openai.com","server_port":8443,"http_status":200,"model":"gpt-4o-mini-2024-07-18",` +
				`"tokens":{"input":1063,"output":206},"cached_tokens":256,"ttfb":1006000,"stream":true,"attempt":1}`),
			Input:  []byte(`"system: You are one agent.\nuser: plan the research\n  and say why"`),
			Output: []byte(`"plan: search, read, chart"`),
			Own:    tree.Usage{Calls: 1, In: 1063, Cached: 256, Out: 206, Cost: tree.ToNano(0.00028305), Model: "gpt-4o-mini-2024-07-18"},
			Total:  tree.Usage{Calls: 1, In: 1063, Cached: 256, Out: 206, Cost: tree.ToNano(0.00028305)}},
		{Workflow: wfID, Kind: tree.Action, ID: searchID, Parent: plannerID, Name: "search_web",
			Start: ts(241), End: ts(250), Status: "completed",
			Input: []byte(`{"query":"transistor"}`), Output: []byte(`"2 items"`),
			Counts: tree.Counts{Records: 1},
			Records: [][]byte{
				[]byte(`"time":"2026-11-29T03:33:30.245Z","level":"INFO","msg":"tool done","attrs":{"origin":"tool","items":2,"hits":{"web":2,"cache":0}}`),
			}},
		{Workflow: wfID, Kind: tree.Interaction, ID: plannerID, Parent: itID, Name: "planner",
			Start: ts(5), End: ts(260), Status: "completed",
			StartAttrs: []byte(`{"attempt":1}`), Input: []byte(`"plan iteration 1"`), Output: []byte(`["search","read"]`),
			Total:  tree.Usage{Calls: 1, In: 1063, Cached: 256, Out: 206, Cost: tree.ToNano(0.00028305)},
			Counts: tree.Counts{Records: 2, Warnings: 1, Semantic: 1},
			Records: [][]byte{
				[]byte(`{"time":"2026-11-29T03:33:30.255Z","level":"WARN","msg":"plan contradicts the user's constraint","semantic":true,"attrs":{"step":"buy the report"}}`),
			}},
		{Workflow: wfID, Kind: tree.Action, ID: failID, Parent: workerID, Name: "llm.chat",
			Start: ts(300), End: ts(470), Status: "failed", Error: "HTTP 429: Rate limit reached",
			StartAttrs: []byte(`{"provider":"openai","request_model":"gpt-4o-mini","http_status":429,"model":"gpt-4o-mini","ttfb":169900000}`),
			Own:        tree.Usage{Calls: 1, Model: "gpt-4o-mini"}, Total: tree.Usage{Calls: 1},
			Counts: tree.Counts{Errors: 1}},
		{Workflow: wfID, Kind: tree.Action, ID: lateID, Parent: workerID, Name: "read_file",
			Start: ts(471), End: ts(480), Status: "incomplete"},
		{Workflow: wfID, Kind: tree.Interaction, ID: workerID, Parent: itID, Name: "worker-2",
			Start: ts(290), End: ts(480), Status: "failed", Error: "rate limited (429)",
			Total: tree.Usage{Calls: 1}, Counts: tree.Counts{Errors: 2}},
		{Workflow: wfID, Kind: tree.Iteration, ID: itID, Parent: wfID, Number: 1,
			Start: ts(1), End: ts(500), Status: "completed",
			Total:  tree.Usage{Calls: 2, In: 1063, Cached: 256, Out: 206, Cost: tree.ToNano(0.00028305)},
			Counts: tree.Counts{Records: 2, Warnings: 1, Semantic: 1, Errors: 2}},
		{Workflow: wfID, Kind: tree.Workflow, ID: wfID, Name: "research",
			Start: ts(0), End: ts(510), Status: "completed",
			StartAttrs: []byte(`{"user":"ana","model":"gpt-4o","topic":"the history of the transistor"}`),
			Input:      []byte(`"the history of the transistor"`), Output: []byte(`"report"`),
			Total:  tree.Usage{Calls: 2, In: 1063, Cached: 256, Out: 206, Cost: tree.ToNano(0.00028305)},
			Counts: tree.Counts{Records: 2, Warnings: 1, Semantic: 1, Errors: 2}},
	}
}

// exportAll sends the scopes through a new Exporter to an in-memory
// exporter, and returns the spans by span name, the name of a duplicate
// being the name with " #2".
func exportAll(t *testing.T, opts *Options, scopes []*tree.Ended) map[string]tracetest.SpanStub {
	t.Helper()
	mem := tracetest.NewInMemoryExporter()
	e := New(mem, opts)
	for _, s := range scopes {
		e.ExportScope(s)
	}
	require.NoError(t, e.ForceFlush(context.Background()))
	spans := mem.GetSpans()
	require.NoError(t, e.Shutdown(context.Background()))
	require.Len(t, spans, len(scopes), "one span per scope")
	byName := map[string]tracetest.SpanStub{}
	for _, s := range spans {
		name := s.Name
		for i := 2; ; i++ {
			if _, dup := byName[name]; !dup {
				break
			}
			name = fmt.Sprintf("%s #%d", s.Name, i)
		}
		byName[name] = s
	}
	return byName
}

// attrs returns the attributes as a map of their values, slices as JSON.
func attrs(kv []attribute.KeyValue) map[string]any {
	m := map[string]any{}
	for _, a := range kv {
		switch a.Value.Type() {
		case attribute.STRINGSLICE, attribute.INT64SLICE, attribute.FLOAT64SLICE, attribute.BOOLSLICE:
			b, _ := json.Marshal(a.Value.AsInterface())
			m[string(a.Key)] = string(b)
		default:
			m[string(a.Key)] = a.Value.AsInterface()
		}
	}
	return m
}

// keysWithPrefix returns the keys of m that start with prefix.
func keysWithPrefix(m map[string]any, prefix string) []string {
	var ks []string
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			ks = append(ks, k)
		}
	}
	return ks
}
