package slogwf_test

// What Transport keeps of prompts and completions: its own setting, cut
// at a character boundary, redacted.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
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

func (w wrapper) WithGroup(name string) slog.Handler { return wrapper{w.Handler.WithGroup(name)} }

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
		io.WriteString(w, `{"choices":[{"message":{"content":"hééééé"}}]}`)
	}))
	defer srv.Close()
	s, ctx, wf, client := transportSetup(t, nil, slogwf.WithCapture(10))
	post(t, ctx, client, srv.URL+"/v1/chat/completions", `{"model":"gpt-4o","prompt":"€€"}`)
	a := action(t, s, wf)
	assert.Equal(t, "héééé", a.Output)
	assert.Equal(t, "user: €", a.Input)
}

// A secret in a captured prompt or
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
