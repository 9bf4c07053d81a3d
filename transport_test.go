package slogwf_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
)

// testPrices are the prices the transport tests cost calls at.
var testPrices = slogwf.Prices{
	"gpt-4o":               {Input: 2.5, Output: 10, CachedInput: 1.25},
	"claude-sonnet-4":      {Input: 3, Output: 15, CachedInput: 0.3},
	"llama3.2":             {Input: 1, Output: 1},
	"gemini-2.0-flash-001": {Input: 0.1, Output: 0.4, CachedInput: 0.025},
}

// provider is one API format: a request as its SDK sends it, what the
// transport reads from it, and the answers of testdata/llm/<name>.*,
// recorded in the shapes the provider sends, whole and streamed.
type provider struct {
	name, path, request string
	op, model           string
	in, out, cached     int64
	cost                float64
}

// answer returns the answer of p from testdata/llm, streamed or whole, and
// its content type.
func (p provider) answer(t *testing.T, stream bool) (body, contentType string) {
	t.Helper()
	base := filepath.Join("testdata", "llm", strings.ReplaceAll(p.name, " ", "-"))
	name, contentType := base+".json", "application/json"
	if stream {
		name, contentType = base+".sse", "text/event-stream"
		if p.provider() == "ollama" {
			name, contentType = base+".ndjson", "application/x-ndjson"
		}
	}
	b, err := os.ReadFile(name)
	require.NoError(t, err)
	return string(b), contentType
}

func (p provider) provider() string { return strings.Fields(p.name)[0] }

// prompt is the prompt of every request, as the transport writes it.
const prompt = "system: Be brief.\nuser: Capital of France?"

var providers = []provider{{
	name: "openai chat", path: "/v1/chat/completions", op: "llm.chat", model: "gpt-4o-2024-08-06",
	request: `{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Capital of France?"}]}`,
	in:      120, out: 3, cached: 100, cost: (20*2.5 + 100*1.25 + 3*10) / 1e6,
}, {
	name: "openai responses", path: "/v1/responses", op: "llm.responses", model: "gpt-4o-2024-08-06",
	request: `{"model":"gpt-4o","instructions":"Be brief.","input":[{"role":"user","content":[{"type":"input_text","text":"Capital of France?"}]}]}`,
	in:      120, out: 3, cached: 100, cost: (20*2.5 + 100*1.25 + 3*10) / 1e6,
}, {
	name: "anthropic", path: "/v1/messages", op: "llm.messages", model: "claude-sonnet-4-20250514",
	request: `{"model":"claude-sonnet-4-20250514","max_tokens":100,"system":"Be brief.","messages":[{"role":"user","content":[{"type":"text","text":"Capital of France?"}]}]}`,
	in:      120, out: 3, cached: 100, cost: (20*3 + 100*0.3 + 3*15) / 1e6,
}, {
	name: "ollama", path: "/api/chat", op: "llm.chat", model: "llama3.2",
	request: `{"model":"llama3.2","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Capital of France?"}],"stream":false}`,
	in:      120, out: 3, cost: 123 / 1e6,
}, {
	name: "gemini", path: "/v1beta/models/gemini-2.0-flash:generateContent", op: "llm.generate", model: "gemini-2.0-flash-001",
	request: `{"systemInstruction":{"parts":[{"text":"Be brief."}]},"contents":[{"role":"user","parts":[{"text":"Capital of France?"}]}]}`,
	in:      120, out: 3, cached: 100, cost: (20*0.1 + 100*0.025 + 3*0.4) / 1e6,
}}

// fakeLLM serves the answers of p: streamed when the request asks for it,
// a chunk per event. It checks that the request body arrived whole.
func fakeLLM(t *testing.T, p provider) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !assert.Equal(t, p.request, string(body), "request body") {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		answer, contentType := p.answer(t, r.URL.Query().Get("stream") != "")
		w.Header().Set("Content-Type", contentType)
		for _, chunk := range strings.SplitAfter(answer, "\n") {
			io.WriteString(w, chunk)
			w.(http.Flusher).Flush()
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// post sends body to url through client, reads the answer and closes it.
func post(t *testing.T, ctx context.Context, client *http.Client, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// transportSetup is a setup whose handler costs calls at testPrices, a
// workflow with an interaction, and a client through the transport.
func transportSetup(t *testing.T, opts *slogwf.Options, topts ...slogwf.TransportOption) (*setup, context.Context, *slogwf.Scope, *http.Client) {
	if opts == nil {
		opts = &slogwf.Options{}
	}
	opts.Prices = testPrices
	s := newSetup(t, opts)
	ctx, wf := slogwf.StartWorkflow(s.ctx, "llm")
	ctx, _ = slogwf.StartInteraction(ctx, "agent")
	return s, ctx, wf, &http.Client{Transport: slogwf.Transport(nil, topts...)}
}

// action returns the one action of the workflow's interaction.
func action(t *testing.T, s *setup, wf *slogwf.Scope) *node {
	t.Helper()
	wf.End()
	tree := s.tree(t, wf)
	require.Len(t, tree.Interactions, 1)
	require.Len(t, tree.Interactions[0].Actions, 1)
	return tree.Interactions[0].Actions[0]
}

func TestTransportReadsEachProvider(t *testing.T) {
	for _, p := range providers {
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s stream=%v", p.name, stream), func(t *testing.T) {
				srv := fakeLLM(t, p)
				s, ctx, wf, client := transportSetup(t, nil)
				url := srv.URL + p.path
				if stream {
					url += "?stream=1"
				}
				want, _ := p.answer(t, stream)

				code, got := post(t, ctx, client, url, p.request)
				require.Equal(t, http.StatusOK, code)
				assert.Equal(t, want, got, "the caller gets the bytes the server sent")

				a := action(t, s, wf)
				assert.Equal(t, p.op, a.Name)
				assert.Equal(t, slogwf.StatusCompleted, a.Status)
				assert.Equal(t, prompt, a.Input)
				assert.Equal(t, "Paris.", a.Output)
				assert.Equal(t, p.model, a.Attrs["model"])
				assert.EqualValues(t, 200, a.Attrs["http_status"])
				assert.Equal(t, p.provider(), a.Attrs["provider"])
				assert.Contains(t, a.Attrs, "ttfb")
				assert.Equal(t, stream, a.Attrs["stream"] == true)
				assert.Equal(t, int64(1), a.Usage.LLMCalls)
				assert.Equal(t, p.in, a.Usage.InputTokens)
				assert.Equal(t, p.out, a.Usage.OutputTokens)
				assert.Equal(t, p.cached, a.Usage.CachedTokens)
				assert.InDelta(t, p.cost, a.Usage.CostUSD, 1e-12)
				assert.Positive(t, a.DurationMS)
			})
		}
	}
}

// The caller reads the first event of a stream while the server still
// holds the second: the transport passes the stream on as it comes.
func TestTransportPassesTheStreamOnChunkByChunk(t *testing.T) {
	first, second := "data: {\"choices\":[{\"delta\":{\"content\":\"Par\"}}]}\n\n", "data: {\"choices\":[{\"delta\":{\"content\":\"is.\"}}]}\n\n"
	read := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, first)
		w.(http.Flusher).Flush()
		select {
		case <-read:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, second)
	}))
	defer srv.Close()
	s, ctx, wf, client := transportSetup(t, nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o","stream":true}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")

	type result struct {
		resp  *http.Response
		first string
		err   error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := client.Do(req)
		if err != nil {
			got <- result{err: err}
			return
		}
		buf := make([]byte, len(first))
		n, err := io.ReadFull(resp.Body, buf)
		got <- result{resp, string(buf[:n]), err}
	}()
	var r result
	select {
	case r = <-got:
	case <-time.After(10 * time.Second):
		close(read)
		t.Fatal("the first chunk did not reach the caller before the second was sent")
	}
	require.NoError(t, r.err)
	defer r.resp.Body.Close()
	assert.Equal(t, first, r.first)
	close(read)
	rest, err := io.ReadAll(r.resp.Body)
	require.NoError(t, err)
	assert.Equal(t, second, string(rest))
	assert.Equal(t, "Paris.", action(t, s, wf).Output)
}

// secretHeaders are header values and a query parameter that carry API keys.
var secretHeaders = map[string]string{
	"Authorization": "Bearer sk-proj-SECRETauthorization",
	"X-Api-Key":     "sk-ant-SECRETxapikey",
	"Api-Key":       "SECRETazureapikey",
	"Cookie":        "session=SECRETcookie",
}

func TestTransportNeverLogsSecrets(t *testing.T) {
	p := providers[0]
	srv := fakeLLM(t, p)
	s, ctx, wf, client := transportSetup(t, &slogwf.Options{Format: slogwf.FormatJSON, AddSource: true})
	send := func(ctx context.Context, url string) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(p.request))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		for k, v := range secretHeaders {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	send(ctx, srv.URL+p.path+"?key=SECRETquery")
	send(ctx, srv.URL+p.path+"?stream=1&key=SECRETquery")
	send(s.ctx, srv.URL+p.path+"?key=SECRETquery")                      // outside the workflow
	send(ctx, "http://127.0.0.1:1/v1/chat/completions?key=SECRETquery") // refused
	wf.End()
	require.NoError(t, s.h.Close())

	out := s.console.String()
	assert.Equal(t, 4, strings.Count(out, `"provider":"openai"`), "each call is on the console")
	for _, path := range files(t, s.dir) {
		b, err := os.ReadFile(filepath.Join(s.dir, path))
		require.NoError(t, err)
		out += string(b)
	}
	assert.NotContains(t, out, "SECRET")
}

func TestTransportFailures(t *testing.T) {
	refused := httptest.NewServer(http.NotFoundHandler())
	refused.Close()
	stop := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer slow.Close()
	defer close(stop)
	limited := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"error":{"message":"Rate limit reached for gpt-4o","type":"requests","code":"rate_limit_exceeded"}}`)
	}))
	defer limited.Close()
	streamErr := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n")
	}))
	defer streamErr.Close()

	tests := []struct {
		name    string
		url     string
		ctx     func(context.Context) (context.Context, context.CancelFunc)
		wantErr string
		status  any
	}{
		{"connection refused", refused.URL, nil, "connection refused", nil},
		{"timeout", slow.URL, func(ctx context.Context) (context.Context, context.CancelFunc) {
			return context.WithTimeout(ctx, 50*time.Millisecond)
		}, "context deadline exceeded", nil},
		{"canceled", slow.URL, func(ctx context.Context) (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			return ctx, cancel
		}, "context canceled", nil},
		{"rate limited", limited.URL, nil, "HTTP 429: Rate limit reached for gpt-4o", float64(429)},
		{"error event in a stream", streamErr.URL, nil, "Overloaded", float64(200)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ctx, wf, client := transportSetup(t, nil)
			if tt.ctx != nil {
				var cancel context.CancelFunc
				ctx, cancel = tt.ctx(ctx)
				defer cancel()
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, tt.url+"/v1/messages", strings.NewReader(`{"model":"gpt-4o"}`))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}

			a := action(t, s, wf)
			assert.Equal(t, slogwf.StatusFailed, a.Status)
			assert.Contains(t, a.Error, tt.wantErr)
			assert.Equal(t, tt.status, a.Attrs["http_status"])
			assert.Equal(t, "gpt-4o", a.Attrs["request_model"])
		})
	}
}

// errTransport fails once with a retryable error; http.Client retries
// a request with GetBody... and a RoundTripper that retries reads it.
type retrying struct{ next http.RoundTripper }

func (r retrying) RoundTrip(req *http.Request) (*http.Response, error) {
	first, _ := io.ReadAll(req.Body)
	req.Body.Close()
	if req.GetBody == nil {
		return nil, errors.New("no GetBody")
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	req2 := req.Clone(req.Context())
	req2.Body = body
	resp, err := r.next.RoundTrip(req2)
	if err == nil && len(first) == 0 {
		return nil, errors.New("first try had no body")
	}
	return resp, err
}

func TestTransportKeepsRequestBodies(t *testing.T) {
	p := providers[0]
	srv := fakeLLM(t, p)
	t.Run("GetBody works for a retry", func(t *testing.T) {
		s, ctx, wf, _ := transportSetup(t, nil)
		client := &http.Client{Transport: slogwf.Transport(retrying{http.DefaultTransport})}
		code, _ := post(t, ctx, client, srv.URL+p.path, p.request)
		assert.Equal(t, http.StatusOK, code)
		assert.Equal(t, prompt, action(t, s, wf).Input)
	})
	t.Run("a body without GetBody is sent whole", func(t *testing.T) {
		s, ctx, wf, client := transportSetup(t, nil)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+p.path, io.NopCloser(strings.NewReader(p.request)))
		require.NoError(t, err)
		require.Nil(t, req.GetBody)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		require.NoError(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, prompt, action(t, s, wf).Input)
	})
}

func TestTransportOutsideAWorkflowLogsOneRecord(t *testing.T) {
	p := providers[0]
	srv := fakeLLM(t, p)
	s := newSetup(t, &slogwf.Options{Format: slogwf.FormatJSON})
	client := &http.Client{Transport: slogwf.Transport(nil)}
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, srv.URL+p.path, strings.NewReader(p.request))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Stainless-Retry-Count", "0")
	resp, err := client.Do(req)
	require.NoError(t, err)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	lines := s.console.Lines()
	require.Len(t, lines, 1)
	assert.Contains(t, lines[0], `"msg":"llm.chat"`)
	for _, want := range []string{`"provider":"openai"`, `"request_model":"gpt-4o"`, `"attempt":1`, `"http_status":200`, `"model":"gpt-4o-2024-08-06"`,
		`"tokens":{"input":120,"output":3}`, `"cached_tokens":100`, `"output":"Paris."`, `"input":"system: Be brief.\nuser: Capital of France?"`, `"dur":`} {
		assert.Contains(t, lines[0], want)
	}
	assert.Empty(t, files(t, s.dir), "no workflow, no files")
}

func TestTransportUnknownAPIIsStillAnAction(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"data":[1,2,3]}`)
	}))
	defer srv.Close()
	s, ctx, wf, client := transportSetup(t, nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/v1/whatever", nil)
	require.NoError(t, err)
	resp, err := client.Do(req)
	require.NoError(t, err)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	a := action(t, s, wf)
	assert.Equal(t, "http.get", a.Name)
	assert.Equal(t, slogwf.StatusCompleted, a.Status)
	assert.EqualValues(t, 200, a.Attrs["http_status"])
	assert.Equal(t, "127.0.0.1", a.Attrs["provider"])
	assert.Zero(t, a.Usage.LLMCalls)
	assert.Zero(t, a.Usage.TotalTokens)
	assert.Positive(t, a.DurationMS)
}

func TestTransportCapture(t *testing.T) {
	p := providers[0]
	srv := fakeLLM(t, p)
	tests := []struct {
		name          string
		opts          []slogwf.TransportOption
		input, output any
		truncated     any
	}{
		{"default", nil, prompt, "Paris.", nil},
		{"cut at WithCapture", []slogwf.TransportOption{slogwf.WithCapture(10)}, "system: Be", "Paris.", true},
		{"cut in a stream", []slogwf.TransportOption{slogwf.WithCapture(3)}, "sys", "Par", true},
		{"WithCapture(0)", []slogwf.TransportOption{slogwf.WithCapture(0)}, nil, nil, nil},
		{"negative", []slogwf.TransportOption{slogwf.WithCapture(-1)}, nil, nil, nil},
		{"WithoutCapture", []slogwf.TransportOption{slogwf.WithoutCapture()}, nil, nil, nil},
		{"the last option wins", []slogwf.TransportOption{slogwf.WithoutCapture(), slogwf.WithCapture(3)}, "sys", "Par", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ctx, wf, client := transportSetup(t, nil, tt.opts...)
			post(t, ctx, client, srv.URL+p.path+"?stream=1", p.request)
			a := action(t, s, wf)
			assert.Equal(t, tt.input, a.Input)
			assert.Equal(t, tt.output, a.Output)
			assert.Equal(t, tt.truncated, a.Attrs["truncated"])
			assert.Equal(t, int64(123), a.Usage.TotalTokens, "capture does not change the tokens")
		})
	}
}

// wrapper is a handler that wraps another, as a user's filter or
// enricher would.
type wrapper struct{ slog.Handler }

func (w wrapper) WithAttrs(as []slog.Attr) slog.Handler { return wrapper{w.Handler.WithAttrs(as)} }
func (w wrapper) WithGroup(name string) slog.Handler    { return wrapper{w.Handler.WithGroup(name)} }

// The transport's capture setting is its own: however the handler that its
// calls log through is wrapped, prompts and completions reach the disk as
// the setting says, and only then.
func TestTransportCaptureDoesNotDependOnTheHandlersWrapping(t *testing.T) {
	p := providers[0]
	srv := fakeLLM(t, p)
	wrappings := map[string]func(h slog.Handler) slog.Handler{
		"none": func(h slog.Handler) slog.Handler { return h },
		"fan-out": func(h slog.Handler) slog.Handler {
			return slog.NewMultiHandler(h, slog.NewTextHandler(io.Discard, nil))
		},
		"user wrapper": func(h slog.Handler) slog.Handler { return wrapper{h} },
	}
	captures := []struct {
		name      string
		opts      []slogwf.TransportOption
		onDisk    []string
		notOnDisk []string
	}{
		{"WithoutCapture", []slogwf.TransportOption{slogwf.WithoutCapture()}, nil, []string{"Capital", "Paris"}},
		{"WithCapture(0)", []slogwf.TransportOption{slogwf.WithCapture(0)}, nil, []string{"Capital", "Paris"}},
		{"WithCapture(13)", []slogwf.TransportOption{slogwf.WithCapture(13)}, []string{`"system: Be br"`, `"Paris."`}, []string{"Capital"}},
		{"default", nil, []string{"Capital of France?", "Paris."}, nil},
	}
	for wrapping, wrap := range wrappings {
		for _, c := range captures {
			t.Run(wrapping+"/"+c.name, func(t *testing.T) {
				dir := t.TempDir()
				h, err := slogwf.New(&slogwf.Options{Dir: dir, Console: io.Discard})
				require.NoError(t, err)
				l := slog.New(wrap(h))
				ctx, wf := slogwf.StartWorkflow(slogwf.ContextWithLogger(context.Background(), l), "private")
				client := &http.Client{Transport: slogwf.Transport(nil, c.opts...)}
				post(t, ctx, client, srv.URL+p.path, p.request)
				wf.End()
				require.NoError(t, h.Close())

				var disk strings.Builder
				for _, name := range files(t, dir) {
					b, err := os.ReadFile(filepath.Join(dir, name))
					require.NoError(t, err)
					disk.Write(b)
				}
				require.Contains(t, disk.String(), `"name":"llm.chat"`)
				for _, s := range c.onDisk {
					assert.Contains(t, disk.String(), s)
				}
				for _, s := range c.notOnDisk {
					assert.NotContains(t, disk.String(), s)
				}
			})
		}
	}
}

func TestTransportCaptureCutsAtACharacterBoundary(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"choices":[{"message":{"content":"héé"}}]}`)
	}))
	defer srv.Close()
	s, ctx, wf, client := transportSetup(t, nil, slogwf.WithCapture(4))
	post(t, ctx, client, srv.URL+"/v1/chat/completions", `{"model":"gpt-4o","prompt":"€€"}`)
	a := action(t, s, wf)
	assert.Equal(t, "hé", a.Output)
	assert.Equal(t, "€", a.Input)
}

// A body never closed leaves the action open; the workflow's End closes
// it as incomplete.
func TestTransportBodyNeverClosedIsIncomplete(t *testing.T) {
	p := providers[0]
	srv := fakeLLM(t, p)
	s, ctx, wf, client := transportSetup(t, nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+p.path, strings.NewReader(p.request))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()

	a := action(t, s, wf)
	assert.Equal(t, slogwf.StatusIncomplete, a.Status)
	assert.Equal(t, prompt, a.Input)
}

func TestTransportUnderManyGoroutines(t *testing.T) {
	p := providers[1]
	srv := fakeLLM(t, p)
	s, ctx, wf, client := transportSetup(t, nil)
	const n = 32
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ctx, ia := slogwf.StartInteraction(ctx, fmt.Sprintf("worker-%d", i))
			defer ia.End()
			url := srv.URL + p.path
			if i%2 == 1 {
				url += "?stream=1"
			}
			post(t, ctx, client, url, p.request)
		})
	}
	wg.Wait()
	wf.End()
	tree := s.tree(t, wf)
	require.Len(t, tree.Interactions, 1)
	workers := tree.Interactions[0].Interactions
	require.Len(t, workers, n)
	for _, w := range workers {
		require.Len(t, w.Actions, 1, w.Agent)
		assert.Equal(t, "Paris.", w.Actions[0].Output, w.Agent)
	}
	assert.Equal(t, int64(n), tree.Usage.LLMCalls)
	assert.Equal(t, int64(n*123), tree.Usage.TotalTokens)
	assert.InDelta(t, n*p.cost, tree.Usage.CostUSD, 1e-12)
}

func TestTransportReadsTheRetryAttemptOfTheSDKs(t *testing.T) {
	p := providers[0]
	srv := fakeLLM(t, p)
	s, ctx, wf, client := transportSetup(t, nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+p.path, bytes.NewReader([]byte(p.request)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Stainless-Retry-Count", "2")
	resp, err := client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.EqualValues(t, 3, action(t, s, wf).Attrs["attempt"])
}

type idleCloser struct {
	http.RoundTripper
	closed bool
}

func (c *idleCloser) CloseIdleConnections() { c.closed = true }

func TestTransportClosesIdleConnectionsOfTheNext(t *testing.T) {
	next := &idleCloser{RoundTripper: http.DefaultTransport}
	(&http.Client{Transport: slogwf.Transport(next)}).CloseIdleConnections()
	assert.True(t, next.closed)
}

// The official SDKs' GetBody rewinds the reader that Body is: reading a
// copy through it would send an empty body.
func TestTransportSendsTheBodyWhenGetBodyRewindsIt(t *testing.T) {
	p := providers[0]
	srv := fakeLLM(t, p)
	s, ctx, wf, client := transportSetup(t, nil)
	body := bytes.NewReader([]byte(p.request))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+p.path, io.NopCloser(body))
	require.NoError(t, err)
	req.ContentLength = int64(len(p.request))
	req.GetBody = func() (io.ReadCloser, error) {
		_, err := body.Seek(0, io.SeekStart)
		return io.NopCloser(body), err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	require.NoError(t, err)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the server got the whole body")
	assert.Equal(t, prompt, action(t, s, wf).Input)
}

// failing is a next RoundTripper that fails as one built on an
// http.Client does: with the URL, query included, in its error.
type failing struct{}

func (failing) RoundTrip(req *http.Request) (*http.Response, error) {
	return nil, &url.Error{Op: "Post", URL: req.URL.String(), Err: errors.New("connection reset")}
}

func TestTransportKeepsTheQueryOutOfErrors(t *testing.T) {
	s, ctx, wf, _ := transportSetup(t, &slogwf.Options{Format: slogwf.FormatJSON})
	client := &http.Client{Transport: slogwf.Transport(failing{})}
	url := "http://user:SECRETpassword@127.0.0.1:1/v1beta/models/gemini-2.0-flash:generateContent?key=SECRETquery"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader("{}"))
	require.NoError(t, err)
	_, err = client.Do(req)
	require.ErrorContains(t, err, "SECRETquery", "the caller gets the error as it was")

	a := action(t, s, wf)
	assert.Equal(t, slogwf.StatusFailed, a.Status)
	assert.Contains(t, a.Error, "connection reset")
	require.NoError(t, s.h.Close())
	out := s.console.String() + strings.Join(journal(t, s.dir), "\n")
	assert.NotContains(t, out, "SECRET")
}

func TestTransportReadsStreamEdgeCases(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		output                  string
		in, out                 int64
		err                     string
	}{
		{"event over two data lines", "text/event-stream",
			"data: {\"choices\":[{\"delta\":{\"content\":\"Par\"}}],\ndata: \"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}\n\n", "Par", 5, 2, ""},
		{"CRLF, no space after data:, no final blank line", "text/event-stream",
			"data:{\"choices\":[{\"delta\":{\"content\":\"hé\"}}]}\r\n\r\ndata:{\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}", "hé", 5, 2, ""},
		{"a line longer than 4 MiB, then the usage", "text/event-stream",
			"data: {\"choices\":[{\"delta\":{\"content\":\"" + strings.Repeat("x", 5<<20) + "\"}}]}\n\n" +
				"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}\n\n", "", 5, 2, ""},
		{"a whole answer over 4 MiB keeps its usage", "application/json",
			"{\"data\":[" + strings.Repeat("0.1,", 1<<20) + "0.1],\n  \"usage\": {\"prompt_tokens\": 5, \"completion_tokens\": 2}\n}", "", 5, 2, ""},
		{"Gemini's array stream without alt=sse", "application/json",
			`[{"candidates":[{"content":{"parts":[{"text":"Par"}]}}]},{"candidates":[{"content":{"parts":[{"text":"is."}]}}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":2}}]`, "Paris.", 5, 2, ""},
		{"Responses error event", "text/event-stream",
			"event: error\ndata: {\"type\":\"error\",\"code\":\"server_error\",\"message\":\"The server had an error\"}\n\n", "", 0, 0, "The server had an error"},
		{"Responses response.failed", "text/event-stream",
			"data: {\"type\":\"response.failed\",\"response\":{\"status\":\"failed\",\"error\":{\"code\":\"server_error\",\"message\":\"Something failed\"},\"output\":[]}}\n\n", "", 0, 0, "Something failed"},
		{"audio is not read", "audio/mpeg", "ID3\x03\x00{\"usage\":{\"prompt_tokens\":5}}", "", 0, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/v1/chat/completions"
			switch {
			case strings.HasPrefix(tt.name, "Gemini"):
				path = "/v1beta/models/gemini-2.0-flash:streamGenerateContent"
			case strings.HasPrefix(tt.name, "Responses"):
				path = "/v1/responses"
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			s, ctx, wf, client := transportSetup(t, &slogwf.Options{MaxValue: -1})
			_, got := post(t, ctx, client, srv.URL+path, `{"model":"m"}`)
			assert.Equal(t, len(tt.body), len(got))

			a := action(t, s, wf)
			if tt.output != "" {
				assert.Equal(t, tt.output, a.Output)
			}
			assert.Equal(t, tt.in, a.Usage.InputTokens)
			assert.Equal(t, tt.out, a.Usage.OutputTokens)
			assert.Equal(t, tt.err, a.Error)
		})
	}
}

func TestTransportNamesTheOperation(t *testing.T) {
	tests := []struct{ method, path, op, provider string }{
		{"POST", "/v1/chat/completions", "llm.chat", "openai"},
		{"POST", "/openai/deployments/gpt4/chat/completions", "llm.chat", "openai"},
		{"POST", "/v1/responses", "llm.responses", "openai"},
		{"POST", "/v1/embeddings", "llm.embeddings", "openai"},
		{"POST", "/v1/messages", "llm.messages", "anthropic"},
		{"POST", "/v1/projects/p/locations/l/publishers/anthropic/models/claude-sonnet-4:streamRawPredict", "llm.messages", "anthropic"},
		{"POST", "/v1/threads/thread_1/messages", "http.post", "127.0.0.1"},
		{"POST", "/api/chat", "llm.chat", "ollama"},
		{"POST", "/api/generate", "llm.generate", "ollama"},
		{"POST", "/v1beta/models/gemini-2.0-flash:generateContent", "llm.generate", "gemini"},
		{"GET", "/v1/models", "http.get", "127.0.0.1"},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			s, ctx, wf, client := transportSetup(t, nil)
			req, err := http.NewRequestWithContext(ctx, tt.method, srv.URL+tt.path, nil)
			require.NoError(t, err)
			resp, err := client.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			a := action(t, s, wf)
			assert.Equal(t, tt.op, a.Name)
			assert.Equal(t, tt.provider, a.Attrs["provider"])
		})
	}
}

func TestTransportReturnsAnErrorForARequestWithoutURL(t *testing.T) {
	_, err := slogwf.Transport(nil).RoundTrip(&http.Request{Method: http.MethodGet, Header: http.Header{}})
	assert.Error(t, err)
}

// Row 14 of the reliability battery: a secret in a captured prompt or
// completion is hidden like any other, the text around it kept.
func TestTransportCaptureIsRedacted(t *testing.T) {
	key := "sk-proj-" + strings.Repeat("A1b2", 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"model":"gpt-4o","choices":[{"message":{"content":"use %s here"}}]}`, key)
	}))
	defer srv.Close()
	s, ctx, wf, client := transportSetup(t, nil)
	post(t, ctx, client, srv.URL+"/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"my key is `+key+`, ok?"}]}`)

	a := action(t, s, wf)
	assert.Equal(t, "user: my key is [REDACTED], ok?", a.Input)
	assert.Equal(t, "use [REDACTED] here", a.Output)
	require.NoError(t, s.h.Close())
	assert.NotContains(t, s.console.String()+strings.Join(journal(t, s.dir), ""), key)
}
