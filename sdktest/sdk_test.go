// Package sdktest runs slogwf.Transport under the official Go SDKs of
// OpenAI and Anthropic. It is a module of its own, so that slogwf's go.mod
// does not require them.
package sdktest

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	aoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
)

const apiKey = "sk-SECRET-0123456789abcdef"

// fakeAPI serves the recorded answers of ../testdata/llm by path: whole,
// or streamed when the request body asks for a stream.
func fakeAPI(t *testing.T) *httptest.Server {
	files := map[string]string{
		"/v1/chat/completions": "openai-chat",
		"/v1/responses":        "openai-responses",
		"/v1/messages":         "anthropic",
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Stream bool `json:"stream"`
		}
		body, _ := io.ReadAll(r.Body)
		require.NoError(t, json.Unmarshal(body, &req), "%s", body)
		name, contentType := files[r.URL.Path]+".json", "application/json"
		if req.Stream {
			name, contentType = files[r.URL.Path]+".sse", "text/event-stream"
		}
		answer, err := os.ReadFile(filepath.Join("..", "testdata", "llm", name))
		require.NoError(t, err)
		w.Header().Set("Content-Type", contentType)
		for _, chunk := range strings.SplitAfter(string(answer), "\n") {
			io.WriteString(w, chunk)
			w.(http.Flusher).Flush()
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// run runs call in a workflow logged to a temporary directory, and returns
// the one action it made and everything slogwf wrote.
func run(t *testing.T, call func(ctx context.Context, client *http.Client)) (action map[string]any, written string) {
	var console strings.Builder
	dir := t.TempDir()
	h, err := slogwf.New(&slogwf.Options{Dir: dir, Console: &console, Prices: slogwf.Prices{
		"gpt-4o":          {Input: 2.5, Output: 10, CachedInput: 1.25},
		"claude-sonnet-4": {Input: 3, Output: 15, CachedInput: 0.3, CacheWrite: 3.75},
	}})
	require.NoError(t, err)
	ctx := slogwf.ContextWithLogger(context.Background(), slog.New(h))
	ctx, wf := slogwf.StartWorkflow(ctx, "sdk")
	call(ctx, &http.Client{Transport: slogwf.Transport(nil)})
	wf.End()
	require.NoError(t, h.Close())

	b, err := os.ReadFile(h.TreeFile(wf))
	require.NoError(t, err)
	var tree struct {
		Actions []map[string]any `json:"actions"`
	}
	require.NoError(t, json.Unmarshal(b, &tree))
	require.Len(t, tree.Actions, 1)
	written = console.String()
	require.NoError(t, filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		written += string(b)
		return err
	}))
	return tree.Actions[0], written
}

// assertCall checks what every call of the tests logs: the action op,
// completed, with the prompt input, "Paris.", 120 input tokens (100 read
// from the cache) and cacheWrites more written to it, 3 output tokens,
// costing cost, and no secret in what was written. It returns the
// action's attrs.
func assertCall(t *testing.T, a map[string]any, written, op, input string, cacheWrites int64, cost float64) map[string]any {
	t.Helper()
	assert.Equal(t, op, a["name"])
	assert.Equal(t, "completed", a["status"])
	assert.Equal(t, input, a["input"])
	assert.Equal(t, "Paris.", a["output"])
	usage := a["usage"].(map[string]any)
	assert.EqualValues(t, 120+cacheWrites, usage["input_tokens"])
	assert.EqualValues(t, 100, usage["cached_input_tokens"])
	assert.EqualValues(t, cacheWrites, usage["cache_write_input_tokens"])
	assert.EqualValues(t, 3, usage["output_tokens"])
	assert.InDelta(t, cost, usage["cost_usd"], 1e-12)
	assert.NotContains(t, written, "SECRET")
	return a["attrs"].(map[string]any)
}

func TestOpenAISDK(t *testing.T) {
	srv := fakeAPI(t)
	newClient := func(hc *http.Client) openai.Client {
		return openai.NewClient(option.WithBaseURL(srv.URL+"/v1/"), option.WithAPIKey(apiKey), option.WithHTTPClient(hc))
	}
	chat := openai.ChatCompletionNewParams{
		Model:    "gpt-4o",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Be brief."), openai.UserMessage("Capital of France?")},
	}
	resp := responses.ResponseNewParams{
		Model:        "gpt-4o",
		Instructions: openai.String("Be brief."),
		Input:        responses.ResponseNewParamsInputUnion{OfString: openai.String("Capital of France?")},
	}
	tests := []struct {
		name, op, input string
		call            func(ctx context.Context, c openai.Client) (string, error)
	}{
		{"chat", "llm.chat", "system: Be brief.\nuser: Capital of France?", func(ctx context.Context, c openai.Client) (string, error) {
			r, err := c.Chat.Completions.New(ctx, chat)
			if err != nil {
				return "", err
			}
			return r.Choices[0].Message.Content, nil
		}},
		{"chat streaming", "llm.chat", "system: Be brief.\nuser: Capital of France?", func(ctx context.Context, c openai.Client) (string, error) {
			p := chat
			p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
			s := c.Chat.Completions.NewStreaming(ctx, p)
			defer s.Close()
			var acc openai.ChatCompletionAccumulator
			for s.Next() {
				acc.AddChunk(s.Current())
			}
			if len(acc.Choices) == 0 {
				return "", s.Err()
			}
			return acc.Choices[0].Message.Content, s.Err()
		}},
		{"responses", "llm.responses", "system: Be brief.\nuser: Capital of France?", func(ctx context.Context, c openai.Client) (string, error) {
			r, err := c.Responses.New(ctx, resp)
			if err != nil {
				return "", err
			}
			return r.OutputText(), nil
		}},
		{"responses streaming", "llm.responses", "system: Be brief.\nuser: Capital of France?", func(ctx context.Context, c openai.Client) (string, error) {
			s := c.Responses.NewStreaming(ctx, resp)
			defer s.Close()
			var text string
			for s.Next() {
				if e := s.Current(); e.Type == "response.output_text.delta" {
					text += e.Delta
				}
			}
			return text, s.Err()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, written := run(t, func(ctx context.Context, hc *http.Client) {
				out, err := tt.call(ctx, newClient(hc))
				require.NoError(t, err)
				assert.Equal(t, "Paris.", out, "the SDK reads the answer as without slogwf")
			})
			attrs := assertCall(t, a, written, tt.op, tt.input, 0, (20*2.5+100*1.25+3*10)/1e6)
			assert.Equal(t, "gpt-4o-2024-08-06", attrs["model"])
			assert.Equal(t, "gpt-4o", attrs["request_model"])
			assert.EqualValues(t, 200, attrs["http_status"])
			assert.EqualValues(t, 1, attrs["attempt"])
		})
	}
}

func TestAnthropicSDK(t *testing.T) {
	srv := fakeAPI(t)
	params := anthropic.MessageNewParams{
		Model:     "claude-sonnet-4-20250514",
		MaxTokens: 100,
		System:    []anthropic.TextBlockParam{{Text: "Be brief."}},
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Capital of France?"))},
	}
	for _, stream := range []bool{false, true} {
		t.Run(map[bool]string{false: "messages", true: "messages streaming"}[stream], func(t *testing.T) {
			a, written := run(t, func(ctx context.Context, hc *http.Client) {
				c := anthropic.NewClient(aoption.WithBaseURL(srv.URL), aoption.WithAPIKey(apiKey), aoption.WithHTTPClient(hc))
				var m anthropic.Message
				if stream {
					s := c.Messages.NewStreaming(ctx, params)
					defer s.Close()
					for s.Next() {
						require.NoError(t, m.Accumulate(s.Current()))
					}
					require.NoError(t, s.Err())
				} else {
					r, err := c.Messages.New(ctx, params)
					require.NoError(t, err)
					m = *r
				}
				require.NotEmpty(t, m.Content)
				assert.Equal(t, "Paris.", m.Content[0].Text)
			})
			attrs := assertCall(t, a, written, "llm.messages", "system: Be brief.\nuser: Capital of France?", 40, (20*3+100*0.3+40*3.75+3*15)/1e6)
			assert.Equal(t, "claude-sonnet-4-20250514", attrs["model"])
			assert.Equal(t, "anthropic", attrs["provider"])
		})
	}
}
