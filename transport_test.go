package slogwf_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
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
	send(ctx, "http://user:SECRETpassword@"+strings.TrimPrefix(srv.URL, "http://")+p.path)
	wf.End()
	require.NoError(t, s.h.Close())

	out := s.console.String()
	assert.Equal(t, 5, strings.Count(out, `"provider":"openai"`), "each call is on the console")
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
	require.NoError(t, s.h.Close())
	assert.Empty(t, files(t, s.dir), "no workflow, no files")
}

// A call names the server it went to by its host, and its port when the
// URL has one, in a workflow and outside.
func TestTransportLogsTheServerOfACall(t *testing.T) {
	p := providers[0]
	srv := fakeLLM(t, p)
	host, port, err := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	require.NoError(t, err)
	// Every request goes to srv, whatever host its URL names.
	toSrv := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return new(net.Dialer).DialContext(ctx, "tcp", srv.Listener.Addr().String())
	}}
	tests := []struct{ url, address, port string }{
		{srv.URL + p.path, host, port},
		{"http://api.example" + p.path, "api.example", ""},
		{"http://USER:pw@API.example:8443" + p.path, "API.example", "8443"},
		{"http://[::1]:" + port + p.path, "::1", port},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			s, ctx, wf, _ := transportSetup(t, &slogwf.Options{Format: slogwf.FormatJSON})
			client := &http.Client{Transport: slogwf.Transport(toSrv)}
			post(t, ctx, client, tt.url, p.request)
			a := action(t, s, wf)
			post(t, s.ctx, client, tt.url, p.request) // outside the workflow
			var record map[string]any
			lines := s.console.Lines()
			require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &record))
			require.Equal(t, "llm.chat", record["msg"])
			for _, attrs := range []map[string]any{a.Attrs, record} {
				assert.Equal(t, tt.address, attrs["server_address"])
				if tt.port == "" {
					assert.NotContains(t, attrs, "server_port")
				} else {
					assert.Equal(t, tt.port, fmt.Sprint(attrs["server_port"]))
				}
			}
		})
	}
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

func TestTransportReturnsAnErrorForARequestWithoutURL(t *testing.T) {
	_, err := slogwf.Transport(nil).RoundTrip(&http.Request{Method: http.MethodGet, Header: http.Header{}})
	assert.Error(t, err)
}

// Only a streamed answer, server-sent events or NDJSON, says stream=true:
// not a whole JSON answer, nor an error page, nor a web page.
func TestTransportSaysStreamOnlyOfAStreamedAnswer(t *testing.T) {
	recorded := func(name string) string {
		b, err := os.ReadFile(filepath.Join("testdata", "llm", name))
		require.NoError(t, err)
		return string(b)
	}
	tests := []struct {
		name        string
		method      string
		status      int
		contentType string
		body        string
		stream      bool
	}{
		{"server-sent events", http.MethodPost, 200, "text/event-stream", recorded("openai-chat.sse"), true},
		{"NDJSON", http.MethodPost, 200, "application/x-ndjson", recorded("ollama.ndjson"), true},
		{"a whole JSON answer", http.MethodPost, 200, "application/json", recorded("openai-chat.json"), false},
		{"an HTML error page of a proxy", http.MethodPost, 502, "text/html",
			"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n", false},
		{"a plain-text rate limit", http.MethodPost, 429, "text/plain; charset=utf-8", "Too Many Requests\n", false},
		{"a web page", http.MethodGet, 200, "text/html; charset=utf-8", "<!doctype html><title>Docs</title><p>Hello.</p>\n", false},
		{"no content type", http.MethodPost, 200, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header()["Content-Type"] = []string{tt.contentType}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			s, ctx, wf, client := transportSetup(t, nil)
			var body io.Reader
			if tt.method == http.MethodPost {
				body = strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"Capital of France?"}]}`)
			}
			req, err := http.NewRequestWithContext(ctx, tt.method, srv.URL+"/v1/chat/completions", body)
			require.NoError(t, err)
			resp, err := client.Do(req)
			require.NoError(t, err)
			_, err = io.Copy(io.Discard, resp.Body)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())

			a := action(t, s, wf)
			assert.EqualValues(t, tt.status, a.Attrs["http_status"])
			if tt.stream {
				assert.Equal(t, true, a.Attrs["stream"])
			} else {
				assert.NotContains(t, a.Attrs, "stream")
			}
		})
	}
}
