package slogwf_test

// The formats of the providers that Transport reads, whole and streamed,
// from the answers recorded in testdata/llm.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
)

// testPrices are the prices the transport tests cost calls at.
var testPrices = slogwf.Prices{
	"gpt-4o":               {Input: 2.5, Output: 10, CachedInput: 1.25},
	"claude-sonnet-4":      {Input: 3, Output: 15, CachedInput: 0.3, CacheWrite: 3.75},
	"llama3.2":             {Input: 1, Output: 1},
	"gemini-2.0-flash-001": {Input: 0.1, Output: 0.4, CachedInput: 0.025},
}

// provider is one API format: a request as its SDK sends it, what the
// transport reads from it, and the answers of testdata/llm/<name>.*,
// recorded in the shapes the provider sends, whole and streamed.
type provider struct {
	name, path, request string
	op, model           string
	in, out             int64
	cached, cacheWrite  int64
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

func (p provider) provider() string {
	if name := strings.Fields(p.name)[0]; name != "gemini" {
		return name
	}
	return "gcp.gemini" // the GenAI conventions' name
}

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
	in:      160, out: 3, cached: 100, cacheWrite: 40, cost: (20*3 + 100*0.3 + 40*3.75 + 3*15) / 1e6,
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
				assert.Equal(t, p.cacheWrite, a.Usage.CacheWriteTokens)
				assert.InDelta(t, p.cost, a.Usage.CostUSD, 1e-12)
				assert.Positive(t, a.DurationMS)
			})
		}
	}
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

func TestTransportNamesTheOperation(t *testing.T) {
	tests := []struct{ method, path, op, provider string }{
		{"POST", "/v1/chat/completions", "llm.chat", "openai"},
		{"POST", "/openai/deployments/gpt4/chat/completions", "llm.chat", "azure.ai.openai"},
		{"POST", "/v1/responses", "llm.responses", "openai"},
		{"POST", "/v1/embeddings", "llm.embeddings", "openai"},
		{"POST", "/v1/messages", "llm.messages", "anthropic"},
		{"POST", "/v1/projects/p/locations/l/publishers/anthropic/models/claude-sonnet-4:streamRawPredict", "llm.messages", "gcp.vertex_ai"},
		{"POST", "/v1/threads/thread_1/messages", "http.post", "127.0.0.1"},
		{"POST", "/api/chat", "llm.chat", "ollama"},
		{"POST", "/api/generate", "llm.generate", "ollama"},
		{"POST", "/v1beta/models/gemini-2.0-flash:generateContent", "llm.generate", "gcp.gemini"},
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

// The path of a request says which API's format it speaks; the host, and
// Azure's and Vertex AI's paths, say who serves it, as the GenAI
// conventions' gen_ai.provider.name names them.
func TestTransportNamesTheProviderThatServesTheAPIByItsHost(t *testing.T) {
	tests := []struct{ url, op, provider string }{
		{"http://api.openai.com/v1/chat/completions", "llm.chat", "openai"},
		{"http://my-resource.openai.azure.com/openai/deployments/gpt4/chat/completions?api-version=2024-10-21", "llm.chat", "azure.ai.openai"},
		{"http://my-resource.openai.azure.com/openai/v1/responses", "llm.responses", "azure.ai.openai"},
		{"http://my-resource.cognitiveservices.azure.com/openai/v1/chat/completions", "llm.chat", "azure.ai.openai"},
		{"http://gateway.example.com/openai/deployments/gpt4/embeddings", "llm.embeddings", "azure.ai.openai"},
		{"http://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash:generateContent", "llm.generate", "gcp.vertex_ai"},
		{"http://aiplatform.googleapis.com/v1/projects/p/locations/global/publishers/anthropic/models/claude-sonnet-4:rawPredict", "llm.messages", "gcp.vertex_ai"},
		{"http://gateway.example.com/v1/projects/p/locations/l/publishers/anthropic/models/claude-sonnet-4:streamRawPredict", "llm.messages", "gcp.vertex_ai"},
		{"http://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse", "llm.generate", "gcp.gemini"},
		{"http://generativelanguage.googleapis.com/v1beta/openai/chat/completions", "llm.chat", "gcp.gemini"},
		{"http://bedrock-runtime.us-west-2.amazonaws.com/openai/v1/chat/completions", "llm.chat", "aws.bedrock"},
		{"http://API.GROQ.COM/openai/v1/chat/completions", "llm.chat", "groq"},
		{"http://api.deepseek.com/chat/completions", "llm.chat", "deepseek"},
		{"http://api.mistral.ai/v1/chat/completions", "llm.chat", "mistral_ai"},
		{"http://api.x.ai/v1/responses", "llm.responses", "x_ai"},
		{"http://api.perplexity.ai/chat/completions", "llm.chat", "perplexity"},
		{"http://api.anthropic.com/v1/messages", "llm.messages", "anthropic"},
		{"http://localhost:8000/v1/chat/completions", "llm.chat", "openai"}, // a server of OpenAI's format: all it says
		{"http://openai.azure.com.example.net/v1/chat/completions", "llm.chat", "openai"},
		{"http://evil-openai.azure.com.attacker.net/v1/chat/completions", "llm.chat", "openai"},
		{"http://aiplatform.googleapis.com.evil/v1/models/gemini-2.0-flash:generateContent", "llm.generate", "gcp.gemini"},
		{"http://evilaiplatform.googleapis.com/v1/models/gemini-2.0-flash:generateContent", "llm.generate", "gcp.gemini"},
		{"http://bedrock-runtime.us-west-2.amazonaws.com.evil/openai/v1/chat/completions", "llm.chat", "openai"},
		{"http://My-Resource.OpenAI.Azure.com:8443/openai/v1/chat/completions", "llm.chat", "azure.ai.openai"},
		{"http://[::1]:8000/v1/chat/completions", "llm.chat", "openai"},
		{"http://api.groq.com./openai/v1/chat/completions", "llm.chat", "groq"}, // a name fully qualified
		{"http://my-resource.openai.azure.com.:443/openai/v1/responses", "llm.responses", "azure.ai.openai"},
		{"http://my-resource.openai.azure.com/openai/assistants", "http.post", "my-resource.openai.azure.com"}, // no API it reads
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	// Every host is the test server.
	next := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
	}}
	defer next.CloseIdleConnections()
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			s, ctx, wf, _ := transportSetup(t, nil)
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, tt.url, nil)
			require.NoError(t, err)
			resp, err := (&http.Client{Transport: slogwf.Transport(next)}).Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			a := action(t, s, wf)
			assert.Equal(t, tt.op, a.Name)
			assert.Equal(t, tt.provider, a.Attrs["provider"])
		})
	}
}
