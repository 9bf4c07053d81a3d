// Package e2e tests slogwf against real backends. Its tests need a Jaeger v2
// whose query API SLOGWF_JAEGER names (http://127.0.0.1:16686) and whose
// OTLP/HTTP receiver SLOGWF_JAEGER_OTLP names (http://127.0.0.1:4318);
// scripts/jaeger.sh builds, starts and stops one. Without SLOGWF_JAEGER the
// tests are skipped, except in CI, where they fail.
package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
)

// childEnv makes the test binary the child process of
// TestAWorkflowOfTwoProcessesIsOneTraceInJaeger, logging in the directory
// it names.
const childEnv = "SLOGWF_E2E_CHILD_DIR"

// cli is the slogwf command, built by TestMain.
var cli string

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		if err := logChild(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "slogwf-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	cli = filepath.Join(tmp, "slogwf")
	build := exec.Command("go", "build", "-o", cli, "./cmd/slogwf")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build slogwf: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

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

// runCLI runs the slogwf command with args, as service slogwf-e2e, and
// returns its standard output.
func runCLI(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(cli, args...)
	cmd.Env = append(os.Environ(), "OTEL_SERVICE_NAME=slogwf-e2e")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "slogwf %s: %s", strings.Join(args, " "), stderr.String())
	return string(out)
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
	Kind         int      `json:"kind"` // 1 internal, 3 client
	Attributes   []otlpKV `json:"attributes"`
	Events       []struct {
		Name       string   `json:"name"`
		Attributes []otlpKV `json:"attributes"`
	} `json:"events"`
	Status struct {
		Code    int    `json:"code"` // 2: error
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
func fetchTrace(t *testing.T, query, traceID string, want int) map[string]otlpSpan {
	t.Helper()
	var spans []otlpSpan
	deadline := time.Now().Add(30 * time.Second)
	for {
		spans = getTrace(t, query, traceID)
		if len(spans) >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.Len(t, spans, want, "one span per scope")
	byID := map[string]otlpSpan{}
	for _, s := range spans {
		assert.Equal(t, traceID, s.TraceID, "one trace: the workflow's")
		byID[s.SpanID] = s
	}
	require.Len(t, byID, want, "as many span IDs")
	return byID
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

// node is a scope of a tree file.
type node struct {
	Kind    string `json:"kind"`
	ID      string `json:"id"`
	Name    string `json:"name"`
	Agent   string `json:"agent"`
	Number  int    `json:"number"`
	Status  string `json:"status"`
	Error   string `json:"error"`
	Records []struct {
		Msg      string `json:"msg"`
		Semantic bool   `json:"semantic"`
	} `json:"records"`
	Iterations   []*node `json:"iterations"`
	Interactions []*node `json:"interactions"`
	Actions      []*node `json:"actions"`
}

func readTree(t *testing.T, dir string) *node {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	require.Len(t, paths, 1)
	data, err := os.ReadFile(paths[0])
	require.NoError(t, err)
	var n node
	require.NoError(t, json.Unmarshal(data, &n))
	return &n
}

// walk calls f with each scope of the tree and its parent's ID.
func (n *node) walk(parent string, f func(n *node, parent string)) {
	f(n, parent)
	for _, c := range append(append(append([]*node{}, n.Iterations...), n.Interactions...), n.Actions...) {
		c.walk(n.ID, f)
	}
}

func hex(uuid string) string    { return strings.ReplaceAll(uuid, "-", "") }
func spanID(uuid string) string { return hex(uuid)[16:] }

// checkTree checks that the trace holds one span per scope of the tree,
// with the IDs derived from the scopes', as their parents say, named by
// the GenAI conventions, with the status and the records of its scope.
func checkTree(t *testing.T, spans map[string]otlpSpan, tree *node) {
	tree.walk("", func(n *node, parent string) {
		s, ok := spans[spanID(n.ID)]
		if !assert.True(t, ok, "the span of %s %s", n.Kind, n.ID) {
			return
		}
		if parent == "" {
			assert.Empty(t, s.ParentSpanID, "the workflow is the root")
		} else {
			assert.Equal(t, spanID(parent), s.ParentSpanID, s.Name)
		}
		a := values(s.Attributes)
		switch n.Kind {
		case "workflow":
			assert.Equal(t, "invoke_workflow "+n.Name, s.Name)
		case "iteration":
			assert.Equal(t, fmt.Sprint("iteration ", n.Number), s.Name)
		case "interaction":
			assert.Equal(t, "invoke_agent "+n.Agent, s.Name)
			assert.Equal(t, n.Agent, a["gen_ai.agent.name"])
		case "action":
			if s.Kind == 3 {
				assert.Equal(t, "chat", a["gen_ai.operation.name"], s.Name)
				assert.Equal(t, "chat "+a["gen_ai.request.model"].(string), s.Name)
			} else {
				assert.Equal(t, "execute_tool "+n.Name, s.Name)
				assert.Equal(t, n.Name, a["gen_ai.tool.name"])
			}
		}
		if n.Status == "completed" {
			assert.Equal(t, 0, s.Status.Code, s.Name)
		} else {
			assert.Equal(t, 2, s.Status.Code, s.Name)
			assert.Equal(t, n.Error, s.Status.Message, s.Name)
		}
		require.Len(t, s.Events, len(n.Records), "one event per record of %s", s.Name)
		for i, r := range n.Records {
			assert.Equal(t, r.Msg, s.Events[i].Name)
		}
	})
}

// TestTheDemoLiveIsOneTraceInJaeger runs slogwf demo -otlp and reads its
// trace back from Jaeger.
func TestTheDemoLiveIsOneTraceInJaeger(t *testing.T) {
	query, otlp := jaeger(t)
	dir := t.TempDir()
	out := runCLI(t, "demo", "-fast", "-dir", dir, "-otlp", otlp)
	const demoSpans = 39
	assert.Contains(t, out, fmt.Sprintf("spans: %d sent to %s\n", demoSpans, otlp))
	tree := readTree(t, dir)
	spans := fetchTrace(t, query, hex(tree.ID), demoSpans)
	checkTree(t, spans, tree)

	names := map[string]int{}
	var calls, semantic, tools int
	for _, s := range spans {
		names[s.Name]++
		a := values(s.Attributes)
		switch {
		case s.Kind == 3:
			calls++
			assert.Equal(t, "openai", a["gen_ai.provider.name"], s.Name)
			assert.Equal(t, "gpt-4o-mini", a["gen_ai.request.model"])
			assert.NotContains(t, a, "slogwf.usage.llm_calls", "no totals on a call")
			if s.Status.Code == 0 {
				assert.NotEmpty(t, a["gen_ai.usage.input_tokens"], s.Name)
				assert.NotEmpty(t, a["gen_ai.usage.output_tokens"], s.Name)
				assert.Positive(t, a["gen_ai.usage.cost"], s.Name)
			} else {
				assert.Equal(t, "429", a["error.type"])
				assert.Equal(t, "429", a["http.response.status_code"])
			}
		case strings.HasPrefix(s.Name, "invoke_agent "):
			assert.Equal(t, "openai", a["gen_ai.provider.name"], "%s: of its calls", s.Name)
		case s.Name == "invoke_workflow research":
			assert.Equal(t, "13", a["slogwf.usage.llm_calls"], "the workflow's totals")
			assert.Equal(t, "ana", a["user"])
			assert.Empty(t, keysWithPrefix(a, "gen_ai.usage."), "usage sits on the calls alone")
		}
		for _, ev := range s.Events {
			e := values(ev.Attributes)
			switch ev.Name {
			case "plan contradicts the user's constraint":
				semantic++
				assert.Equal(t, true, e["semantic"])
				assert.Equal(t, "WARN", e["level"])
			case "tool done":
				tools++
				assert.Equal(t, "tool", e["origin"])
			}
		}
	}
	assert.Equal(t, 13, calls)
	assert.Equal(t, 1, semantic)
	assert.Equal(t, 9, tools)
	assert.Equal(t, 3, names["invoke_agent planner"])
	assert.Equal(t, 4, names["invoke_agent worker-2"], "its retry too")
}

func keysWithPrefix(m map[string]any, prefix string) []string {
	var ks []string
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			ks = append(ks, k)
		}
	}
	return ks
}

// TestAWorkflowOfTwoProcessesIsOneTraceInJaeger logs a workflow whose
// worker runs in a child process, each process in its own journal, and
// sends it to Jaeger with slogwf export -otlp.
func TestAWorkflowOfTwoProcessesIsOneTraceInJaeger(t *testing.T) {
	query, otlp := jaeger(t)
	dir := t.TempDir()
	h, err := slogwf.New(&slogwf.Options{Dir: dir, Console: io.Discard})
	require.NoError(t, err)
	l := slog.New(h)
	ctx := slogwf.ContextWithLogger(context.Background(), l)
	ctx, wf := slogwf.StartWorkflow(ctx, "two-processes", "user", "ana")
	ctx, it := slogwf.StartIteration(ctx)
	ctx, planner := slogwf.StartInteraction(ctx, "planner", slogwf.InputKey, "plan")
	l.InfoContext(ctx, "handing the step to a worker process")
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(append(os.Environ(), childEnv+"="+dir), slogwf.Environ(ctx)...)
	out, err := child.CombinedOutput()
	require.NoError(t, err, "%s", out)
	planner.End(slogwf.OutputKey, "done")
	it.End()
	wf.End()
	require.NoError(t, h.Close())
	journals, err := filepath.Glob(filepath.Join(dir, "journal", "*.jsonl"))
	require.NoError(t, err)
	require.Len(t, journals, 2, "one journal per process")

	sent := runCLI(t, "export", "-otlp", otlp, dir)
	tree := readTree(t, dir)
	require.Len(t, tree.Iterations[0].Interactions[0].Interactions, 1, "the child's worker")
	spans := fetchTrace(t, query, hex(tree.ID), 6)
	assert.Equal(t, fmt.Sprintf("sent two-processes %s: 6 spans\n", tree.ID), sent)
	checkTree(t, spans, tree)

	worker := spans[spanID(tree.Iterations[0].Interactions[0].Interactions[0].ID)]
	assert.Equal(t, spanID(tree.Iterations[0].Interactions[0].ID), worker.ParentSpanID, "the worker of the child process under the planner of the parent")
	for _, s := range spans {
		switch s.Name {
		case "chat gpt-4o":
			a := values(s.Attributes)
			assert.Equal(t, 3, s.Kind)
			assert.Equal(t, "1200", a["gen_ai.usage.input_tokens"])
			assert.Equal(t, "300", a["gen_ai.usage.cache_read.input_tokens"])
			assert.Equal(t, "200", a["gen_ai.usage.cache_creation.input_tokens"])
		case "invoke_workflow two-processes":
			a := values(s.Attributes)
			assert.Equal(t, "1", a["slogwf.usage.llm_calls"], "the child's call counts in the parent's workflow")
			assert.Equal(t, "1200", a["slogwf.usage.input_tokens"])
		case "execute_tool search_web":
			require.Len(t, s.Events, 1)
			assert.Equal(t, map[string]any{"level": "INFO", "origin": "tool", "items": "2", "pid": fmt.Sprint(childPID(t, out))}, values(s.Events[0].Attributes))
		}
	}
}

// logChild logs, as the child process of
// TestAWorkflowOfTwoProcessesIsOneTraceInJaeger, a worker under the scope
// its parent passed: a model call and a tool.
func logChild(dir string) error {
	h, err := slogwf.New(&slogwf.Options{Dir: dir, Console: io.Discard})
	if err != nil {
		return err
	}
	l := slog.New(h)
	ctx := slogwf.ContextFromEnv(slogwf.ContextWithLogger(context.Background(), l))
	if slogwf.FromContext(ctx) == nil {
		return errors.New("no scope from the parent")
	}
	_, err = slogwf.Interact(ctx, "worker", func(ctx context.Context) (string, error) {
		_, _ = slogwf.Act(ctx, "llm.chat", func(ctx context.Context) (string, error) {
			l.InfoContext(ctx, "answer", slogwf.Model("gpt-4o"), slogwf.Tokens(1200, 80), slogwf.CachedTokens(300), slogwf.CacheWriteTokens(200))
			return "search the web", nil
		})
		return slogwf.Act(ctx, "search_web", func(ctx context.Context) (string, error) {
			l.InfoContext(ctx, "tool done", slogwf.Origin(slogwf.OriginTool), "items", 2, "pid", os.Getpid())
			return "2 items", nil
		})
	})
	fmt.Println("pid", os.Getpid())
	return errors.Join(err, h.Close())
}

// childPID reads the pid the child printed.
func childPID(t *testing.T, out []byte) int {
	var pid int
	_, err := fmt.Sscanf(string(out), "pid %d", &pid)
	require.NoError(t, err, "%s", out)
	return pid
}
