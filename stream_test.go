package slogwf_test

// Streams pass through Transport as they come, and are read on the way.

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
)

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
