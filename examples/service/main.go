// Command service is an HTTP service in which each request is a workflow:
// an agent asks a model through slogwf.Transport, and the tree of each
// request is a file of its own in -dir.
//
//	go run ./examples/service                    # a fake model on loopback
//	curl 'http://127.0.0.1:8080/ask?q=hello'     # {"workflow":"<id>","answer":"…"}
//	go run ./cmd/slogwf tree logs/request-<id>.json
//
// With -llm https://api.openai.com/v1 it asks a real OpenAI-compatible API,
// with the key in $OPENAI_API_KEY.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/slogwf/slogwf"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen on this address")
	dir := flag.String("dir", "logs", "write the trees and the journal here")
	llm := flag.String("llm", "", "base URL of an OpenAI-compatible API (default: a fake one on loopback)")
	model := flag.String("model", "gpt-4o-mini", "the model to ask")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", *addr)
	if err == nil {
		err = run(ctx, ln, config{dir: *dir, llm: *llm, model: *model, key: os.Getenv("OPENAI_API_KEY"), console: os.Stderr})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "service:", err)
		os.Exit(1)
	}
}

// config is what run needs from the command line.
type config struct {
	dir, llm, model, key string
	console              io.Writer
}

// run serves requests on ln until ctx is done, then lets the requests under
// way finish and closes the handler, so that every final tree is on disk
// when it returns.
func run(ctx context.Context, ln net.Listener, c config) error {
	h, err := slogwf.New(&slogwf.Options{
		Dir:      c.dir,
		Console:  c.console,
		Prices:   slogwf.Prices{"gpt-4o-mini": {Input: 0.15, Output: 0.60}}, // USD per million tokens
		MaxAge:   7 * 24 * time.Hour,                                        // the files of workflows that ended over a week ago go,
		MaxBytes: 1 << 30,                                                   // and the oldest while Dir holds over 1 GiB
		// Exporter: slogwfotel.New(…) would also send each request to an
		// OpenTelemetry backend, as a trace (see the README).
	})
	if err != nil {
		return err
	}
	log := slog.New(h)

	if c.llm == "" {
		fake, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return errors.Join(err, h.Close())
		}
		fakeSrv := &http.Server{Handler: http.HandlerFunc(fakeLLM)}
		go fakeSrv.Serve(fake)
		defer fakeSrv.Close()
		c.llm = "http://" + fake.Addr().String() + "/v1"
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConnsPerHost = 64 // requests in parallel reuse their connections to the model
	defer base.CloseIdleConnections()
	s := &service{log: log, llm: &http.Client{Transport: slogwf.Transport(base), Timeout: time.Minute}, url: c.llm, model: c.model, key: c.key}

	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("listening", "url", "http://"+ln.Addr().String()+"/ask?q=hello", "logs", c.dir, "llm", c.llm)

	select {
	case err = <-served:
	case <-ctx.Done():
		log.Info("shutting down")
		stop, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = srv.Shutdown(stop) // past the timeout, Close ends the workflows left as incomplete
		cancel()
	}
	return errors.Join(err, h.Close())
}

// service answers each request in a workflow of its own.
type service struct {
	log             *slog.Logger
	llm             *http.Client
	url, model, key string // of the model's API
}

func (s *service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get("X-Request-Id")
	if id == "" {
		id = rand.Text()
	}
	// The workflow's start and end, and the model calls, log through s.log.
	ctx := slogwf.ContextWithLogger(r.Context(), s.log)
	ctx, wf := slogwf.StartWorkflow(ctx, "request", "method", r.Method, "path", r.URL.Path, "request_id", id)

	q := r.FormValue("q")
	answer, err := slogwf.Interact(ctx, "assistant", func(ctx context.Context) (string, error) {
		s.log.InfoContext(ctx, "asking the model", "question", q)
		a, err := s.ask(ctx, q)
		if err == nil {
			s.log.InfoContext(ctx, "answered", "chars", len(a))
		}
		return a, err
	}, slogwf.InputKey, q)

	w.Header().Set("Content-Type", "application/json")
	rep := reply{Workflow: wf.ID(), Answer: answer}
	if err != nil {
		wf.Fail(err)
		rep.Error = err.Error()
		w.WriteHeader(http.StatusBadGateway)
	} else {
		wf.End()
	}
	json.NewEncoder(w).Encode(rep)
}

// reply is the answer to a request: the ID of its workflow, whose tree is
// Dir/request-<ID>.json, and the model's answer or error.
type reply struct {
	Workflow string `json:"workflow"`
	Answer   string `json:"answer,omitempty"`
	Error    string `json:"error,omitempty"`
}

// ask asks the model one question; slogwf.Transport logs the call as an
// llm.chat action, with its tokens and cost.
func (s *service) ask(ctx context.Context, q string) (string, error) {
	body, _ := json.Marshal(map[string]any{"model": s.model, "messages": []map[string]string{{"role": "user", "content": q}}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url+"/chat/completions", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	if s.key != "" {
		req.Header.Set("Authorization", "Bearer "+s.key) // never logged
	}
	resp, err := s.llm.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("model: %s", resp.Status)
	}
	var out struct {
		Choices []struct{ Message struct{ Content string } }
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Choices) == 0 {
		return "", errors.Join(errors.New("model: no answer"), err)
	}
	return out.Choices[0].Message.Content, nil
}

// fakeLLM answers chat completions as OpenAI does, with the question back
// and the tokens it counts.
func fakeLLM(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model    string
		Messages []struct{ Content string }
	}
	if json.NewDecoder(r.Body).Decode(&req) != nil || len(req.Messages) == 0 {
		http.Error(w, `{"error":{"message":"bad request"}}`, http.StatusBadRequest)
		return
	}
	a := "you asked: " + req.Messages[len(req.Messages)-1].Content
	in, out := 10+len(a), len(a)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"object":  "chat.completion",
		"model":   req.Model,
		"choices": []any{map[string]any{"message": map[string]string{"role": "assistant", "content": a}}},
		"usage":   map[string]int{"prompt_tokens": in, "completion_tokens": out, "total_tokens": in + out},
	})
}
