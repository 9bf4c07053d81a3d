package slogwf_test

import (
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
	"strings"

	"github.com/slogwf/slogwf"
)

// exampleOptions writes the console to stdout without colors, times and
// durations (of scopes, and of LLM calls to their answers' headers), so
// that the examples' output does not change between runs.
func exampleOptions(dir string) *slogwf.Options {
	return &slogwf.Options{
		Dir:     dir,
		Console: os.Stdout,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "dur" || a.Key == "ttfb" {
				return slog.Attr{}
			}
			return a
		},
	}
}

// printTree prints a few fields of a tree file.
func printTree(path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	var n struct {
		Name   string
		Status string
		Usage  struct {
			TotalTokens int `json:"total_tokens"`
		}
		Counts       map[string]int
		Interactions []struct {
			Agent, Status, Error string
			Output               any
		}
	}
	if err := json.Unmarshal(b, &n); err != nil {
		panic(err)
	}
	fmt.Printf("tree: %s %s, %d tokens, counts %v\n", n.Name, n.Status, n.Usage.TotalTokens, n.Counts)
	for _, ia := range n.Interactions {
		fmt.Printf("  %s %s output=%v error=%q\n", ia.Agent, ia.Status, ia.Output, ia.Error)
	}
}

func ExampleNew() {
	dir, _ := os.MkdirTemp("", "slogwf")
	defer os.RemoveAll(dir)

	h, err := slogwf.New(exampleOptions(dir))
	if err != nil {
		panic(err)
	}
	defer h.Close()
	slog.SetDefault(slog.New(h))

	ctx, wf := slogwf.StartWorkflow(context.Background(), "research", "user", "ana")
	slog.InfoContext(ctx, "thinking", "topic", "tides")
	wf.End()
	// Output:
	// INF [research] ▶ workflow user=ana
	// INF [research] thinking topic=tides
	// INF [research] ✔ workflow
}

// NewHandler adds the trees to a handler of your own, here slog's text
// handler: scope starts and ends reach it as records ("start workflow
// research"), the end with its duration and the tokens of its subtree.
func ExampleNewHandler() {
	dir, _ := os.MkdirTemp("", "slogwf")
	defer os.RemoveAll(dir)

	text := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			switch a.Key { // the same output at every run
			case slog.TimeKey, "dur":
				return slog.Attr{}
			case slogwf.WorkflowIDKey:
				return slog.String(a.Key, "…")
			}
			return a
		},
	})
	h := slogwf.NewHandler(text, &slogwf.Options{Dir: dir})
	defer h.Close()
	slog.SetDefault(slog.New(h))

	ctx, wf := slogwf.StartWorkflow(context.Background(), "research")
	slog.InfoContext(ctx, "calling model", slogwf.Model("gpt-4o"), slogwf.Tokens(812, 95))
	wf.End()

	printTree(h.TreeFile(wf))
	// Output:
	// level=INFO msg="start workflow research" workflow_id=…
	// level=INFO msg="calling model" workflow_id=… model=gpt-4o tokens.input=812 tokens.output=95
	// level=INFO msg="end workflow research" workflow_id=… total_tokens=907
	// tree: research completed, 907 tokens, counts map[errors:0 records:1 semantic:0 warnings:0]
}

func ExampleStartWorkflow() {
	dir, _ := os.MkdirTemp("", "slogwf")
	defer os.RemoveAll(dir)
	h, _ := slogwf.New(exampleOptions(dir))
	defer h.Close()
	slog.SetDefault(slog.New(h))

	ctx, wf := slogwf.StartWorkflow(context.Background(), "research")
	ctx, it := slogwf.StartIteration(ctx)
	ctx, ia := slogwf.StartInteraction(ctx, "planner", slogwf.InputKey, "plan a trip")
	slog.InfoContext(ctx, "calling model", slogwf.Model("gpt-4o"), slogwf.Tokens(812, 95))
	ia.End(slogwf.OutputKey, "fly, then walk")
	it.End()
	wf.End()

	printTree(h.TreeFile(wf))
	// Output:
	// INF [research] ▶ workflow
	// INF [research it1] ▶ iteration
	// INF [research it1 planner] ▶ interaction input="plan a trip"
	// INF [research it1 planner] calling model model=gpt-4o tokens.input=812 tokens.output=95
	// INF [research it1 planner] ✔ interaction total_tokens=907 output="fly, then walk"
	// INF [research it1] ✔ iteration total_tokens=907
	// INF [research] ✔ workflow total_tokens=907
	// tree: research completed, 907 tokens, counts map[errors:0 records:1 semantic:0 warnings:0]
}

func ExampleInteract() {
	dir, _ := os.MkdirTemp("", "slogwf")
	defer os.RemoveAll(dir)
	opts := exampleOptions(dir)
	opts.Level = slog.LevelError // quiet console: the tree gets every scope anyway
	h, _ := slogwf.New(opts)
	defer h.Close()
	slog.SetDefault(slog.New(h))

	ctx, wf := slogwf.StartWorkflow(context.Background(), "research")
	plan, _ := slogwf.Interact(ctx, "planner", func(ctx context.Context) (string, error) {
		return "fly, then walk", nil
	})
	_, err := slogwf.Interact(ctx, "booker", func(ctx context.Context) (int, error) {
		return 0, errors.New("no seats")
	})
	wf.End()

	fmt.Println("plan:", plan, "err:", err)
	printTree(h.TreeFile(wf))
	// Output:
	// ERR [research booker] ✗ interaction failed error="no seats"
	// plan: fly, then walk err: no seats
	// tree: research completed, 0 tokens, counts map[errors:1 records:0 semantic:0 warnings:0]
	//   planner completed output=fly, then walk error=""
	//   booker failed output=<nil> error="no seats"
}

func ExampleSemantic() {
	dir, _ := os.MkdirTemp("", "slogwf")
	defer os.RemoveAll(dir)
	h, _ := slogwf.New(exampleOptions(dir))
	defer h.Close()
	slog.SetDefault(slog.New(h))

	ctx, wf := slogwf.StartWorkflow(context.Background(), "research")
	slogwf.Semantic(ctx, "plan contradicts the user's constraint", "constraint", "no flights")
	wf.End()

	printTree(h.TreeFile(wf))
	// Output:
	// INF [research] ▶ workflow
	// WRN SEMANTIC [research] plan contradicts the user's constraint constraint="no flights"
	// INF [research] ✔ workflow
	// tree: research completed, 0 tokens, counts map[errors:0 records:1 semantic:1 warnings:1]
}

func ExampleTransport() {
	// A stand-in for an OpenAI-compatible API.
	llm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"model":"gpt-4o-2024-08-06","choices":[{"message":{"content":"Paris."}}],`+
			`"usage":{"prompt_tokens":12,"completion_tokens":2}}`)
	}))
	defer llm.Close()

	dir, _ := os.MkdirTemp("", "slogwf")
	defer os.RemoveAll(dir)
	opts := exampleOptions(dir)
	opts.Prices = slogwf.Prices{"gpt-4o": {Input: 2.50, Output: 10.00}} // USD per million tokens
	h, _ := slogwf.New(opts)
	defer h.Close()
	slog.SetDefault(slog.New(h))

	// The client that an LLM SDK takes, as with the OpenAI and Anthropic
	// SDKs' option.WithHTTPClient(client): Transport(nil) sends through
	// http.DefaultTransport; here, a transport that dials the stand-in.
	toStandIn := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return new(net.Dialer).DialContext(ctx, "tcp", llm.Listener.Addr().String())
	}}
	client := &http.Client{Transport: slogwf.Transport(toStandIn)}

	ctx, wf := slogwf.StartWorkflow(context.Background(), "research")
	ctx, ia := slogwf.StartInteraction(ctx, "planner")
	body := `{"model":"gpt-4o","messages":[{"role":"user","content":"Capital of France?"}]}`
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://api.openai.com/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		panic(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close() // the action ends with its body
	ia.End()
	wf.End()
	// Output:
	// INF [research] ▶ workflow
	// INF [research planner] ▶ interaction
	// INF [research planner>llm.chat] ▶ action provider=openai request_model=gpt-4o input="user: Capital of France?" server_address=api.openai.com
	// INF [research planner>llm.chat] ✔ action total_tokens=14 cost_usd=5e-05 http_status=200 model=gpt-4o-2024-08-06 tokens.input=12 tokens.output=2 output=Paris.
	// INF [research planner] ✔ interaction total_tokens=14 cost_usd=5e-05
	// INF [research] ✔ workflow total_tokens=14 cost_usd=5e-05
}
