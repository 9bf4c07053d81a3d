package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/slogwf/slogwf"
)

// turn names one model call of the demo: agent i (0 is the planner) in
// iteration n, attempt a. It seeds the call's random source, so that the
// goroutines share nothing and a seed always gives the same run.
type turn struct{ n, i, a int }

// turnHeader carries the turn from the demo's client to its fake server.
const turnHeader = "X-Demo-Turn"

func (t turn) rand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(t.n)<<32|uint64(t.i)<<16|uint64(t.a)))
}

// rateLimited reports whether the script has the server refuse t.
func (t turn) rateLimited() bool {
	return t.n == failIteration && t.i > 0 && demoWorkers()[t.i-1].name == failWorker && t.a == 1
}

// The wire format of OpenAI's chat completions, as much as the demo uses.
type (
	chatRequest struct {
		Model         string         `json:"model"`
		Messages      []chatMessage  `json:"messages"`
		Stream        bool           `json:"stream,omitempty"`
		StreamOptions *streamOptions `json:"stream_options,omitempty"`
	}
	chatMessage struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	streamOptions struct {
		IncludeUsage bool `json:"include_usage"`
	}
	chatResponse struct {
		ID      string       `json:"id"`
		Object  string       `json:"object"`
		Model   string       `json:"model"`
		Choices []chatChoice `json:"choices"`
		Usage   *chatUsage   `json:"usage,omitempty"`
	}
	chatChoice struct {
		Index   int          `json:"index"`
		Message *chatMessage `json:"message,omitempty"`
		Delta   *chatMessage `json:"delta,omitempty"`
	}
	chatUsage struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
		Details          struct {
			CachedTokens int `json:"cached_tokens"`
		} `json:"prompt_tokens_details"`
	}
)

// llmClient calls an OpenAI-compatible chat completions API, through
// slogwf.Transport as an SDK's client would.
type llmClient struct {
	url    string
	client *http.Client
}

// startLLM starts the demo's fake model server and returns a client of it,
// and a function that stops the server.
func startLLM(seed uint64, fast bool) (llmClient, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return llmClient{}, nil, fmt.Errorf("start the fake model: %w", err)
	}
	srv := &http.Server{Handler: fakeOpenAI{seed: seed, fast: fast}}
	go srv.Serve(ln)
	c := llmClient{url: "http://" + ln.Addr().String() + "/v1/chat/completions", client: &http.Client{Transport: slogwf.Transport(nil)}}
	return c, func() { srv.Close() }, nil
}

// complete asks the model to answer prompt in turn t, streamed or not.
func (c llmClient) complete(ctx context.Context, t turn, prompt string, stream bool) (string, error) {
	cr := chatRequest{Model: demoModel, Messages: []chatMessage{{"system", demoSystem}, {"user", prompt}}, Stream: stream}
	if stream {
		cr.StreamOptions = &streamOptions{IncludeUsage: true}
	}
	body, err := json.Marshal(cr)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer sk-demo-0000") // slogwf never logs it
	req.Header.Set(turnHeader, fmt.Sprintf("%d/%d/%d", t.n, t.i, t.a))
	resp, err := c.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body) // the error's message, for the log
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return "", errRateLimited
	case resp.StatusCode != http.StatusOK:
		return "", fmt.Errorf("model: %s", resp.Status)
	case !stream:
		var r chatResponse
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || len(r.Choices) == 0 || r.Choices[0].Message == nil {
			return "", errors.Join(errors.New("model: malformed answer"), err)
		}
		return r.Choices[0].Message.Content, nil
	}
	var text strings.Builder
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var chunk chatResponse
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok || json.Unmarshal([]byte(data), &chunk) != nil {
			continue // a blank line, [DONE]
		}
		for _, ch := range chunk.Choices {
			if ch.Delta != nil {
				text.WriteString(ch.Delta.Content)
			}
		}
	}
	return text.String(), sc.Err()
}

// fakeOpenAI is an OpenAI-compatible chat completions server that answers
// from the demo's script, with the latency, tokens and rate limit of a
// real one, and streams when asked to.
type fakeOpenAI struct {
	seed uint64
	fast bool
}

// demoSystem is the system prompt of every call of the demo.
const demoSystem = "You are one agent of a research team. Answer in one line."

// The answers of the planner and of the workers.
var (
	planAnswers   = []string{"here is a three-step plan", "plan: search, read, chart", "three steps, one per worker"}
	workerAnswers = []string{"use the first three results", "start from the 1947 Bell Labs notes", "compare the two timelines"}
)

func (f fakeOpenAI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req chatRequest
	var t turn
	_, err := fmt.Sscanf(r.Header.Get(turnHeader), "%d/%d/%d", &t.n, &t.i, &t.a)
	if err != nil || json.NewDecoder(r.Body).Decode(&req) != nil || len(req.Messages) == 0 {
		http.Error(w, `{"error":{"message":"bad request"}}`, http.StatusBadRequest)
		return
	}
	rng := t.rand(f.seed)
	if sleep(r.Context(), rng, f.fast, 120*time.Millisecond, 350*time.Millisecond) != nil {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if t.rateLimited() {
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprintf(w, `{"error":{"message":"Rate limit reached for %s: try again in 200ms","type":"requests","code":"rate_limit_exceeded"}}`, req.Model)
		return
	}
	answers := workerAnswers
	u := &chatUsage{PromptTokens: len(req.Messages[len(req.Messages)-1].Content)/4 + 300 + rng.IntN(900), CompletionTokens: 40 + rng.IntN(220)}
	if t.i == 0 {
		answers = planAnswers
		if t.n > 1 {
			u.Details.CachedTokens = 256 // the plan's prompt starts as last time's
		}
	}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	answer := answers[rng.IntN(len(answers))]
	resp := chatResponse{ID: fmt.Sprintf("chatcmpl-%d-%d-%d", t.n, t.i, t.a), Object: "chat.completion", Model: demoModel + "-2024-07-18"}
	if !req.Stream {
		resp.Choices, resp.Usage = []chatChoice{{Message: &chatMessage{"assistant", answer}}}, u
		json.NewEncoder(w).Encode(resp)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	resp.Object = "chat.completion.chunk"
	send := func(v chatResponse) {
		b, _ := json.Marshal(v)
		fmt.Fprintf(w, "data: %s\n\n", b)
		w.(http.Flusher).Flush()
	}
	for i, word := range strings.SplitAfter(answer, " ") {
		if i > 0 && sleep(r.Context(), rng, f.fast, 10*time.Millisecond, 30*time.Millisecond) != nil {
			return
		}
		resp.Choices = []chatChoice{{Delta: &chatMessage{"assistant", word}}}
		send(resp)
	}
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		resp.Choices, resp.Usage = []chatChoice{}, u
		send(resp)
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
}
