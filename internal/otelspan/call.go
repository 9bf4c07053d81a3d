package otelspan

import (
	"bytes"
	"cmp"
	"encoding/json"
	"strings"

	"go.opentelemetry.io/otel/attribute"

	"github.com/slogwf/slogwf/internal/tree"
)

// callAttrs are what the attributes of an LLM call say of it, as
// slogwf.Transport logs them.
type callAttrs struct {
	provider, requestModel, model string
	genAIProvider                 string // the program's gen_ai.provider.name
	status                        int64
	stream                        bool
	ttfbNS                        int64
	serverAddress                 string
	serverPort                    int64
}

// readCall reads the call's attributes from the scope's attrs.
func readCall(attrs []byte) callAttrs {
	var c struct {
		Provider     string      `json:"provider"`
		GenAI        string      `json:"gen_ai.provider.name"`
		RequestModel string      `json:"request_model"`
		Model        string      `json:"model"`
		HTTPStatus   json.Number `json:"http_status"`
		Stream       bool        `json:"stream"`
		TTFB         json.Number `json:"ttfb"`
		Address      string      `json:"server_address"`
		Port         json.Number `json:"server_port"`
	}
	d := json.NewDecoder(bytes.NewReader(attrs))
	d.UseNumber()
	if len(attrs) == 0 || d.Decode(&c) != nil {
		return callAttrs{}
	}
	status, _ := c.HTTPStatus.Int64()
	ttfb, _ := c.TTFB.Int64()
	port, _ := c.Port.Int64()
	return callAttrs{provider: c.Provider, genAIProvider: c.GenAI, requestModel: c.RequestModel, model: c.Model, status: status, stream: c.Stream, ttfbNS: ttfb,
		serverAddress: c.Address, serverPort: port}
}

// call adds the attributes of an LLM call's span and returns its name.
func (m *mapper) callSpan() string {
	s := m.s
	c := readCall(s.Attrs())
	m.c = c
	op := operation(s.Name, c.provider)
	m.add(attribute.String("gen_ai.operation.name", op))
	// The provider the call names, else the one the tree found for it
	// (by its model).
	if p := cmp.Or(tree.Provider(cmp.Or(c.genAIProvider, c.provider), ""), s.Provider); p != "" {
		m.add(attribute.String("gen_ai.provider.name", p))
	}
	response := cmp.Or(c.model, s.Own.Model)
	request := cmp.Or(c.requestModel, response)
	if request != "" {
		m.add(attribute.String("gen_ai.request.model", request))
	}
	if response != "" {
		m.add(attribute.String("gen_ai.response.model", response))
	}
	u := s.Own
	m.add(
		attribute.Int64("gen_ai.usage.input_tokens", u.In),
		attribute.Int64("gen_ai.usage.output_tokens", u.Out),
	)
	if u.Cached != 0 {
		m.add(attribute.Int64("gen_ai.usage.cache_read.input_tokens", u.Cached))
	}
	if u.CacheWrite != 0 {
		m.add(attribute.Int64("gen_ai.usage.cache_creation.input_tokens", u.CacheWrite))
	}
	if u.Cost != 0 {
		m.add(attribute.Float64("gen_ai.usage.cost", u.Cost.USD())) // what Langfuse reads; no convention yet
	}
	if c.status != 0 {
		m.add(attribute.Int64("http.response.status_code", c.status))
	}
	if c.serverAddress != "" {
		m.add(attribute.String("server.address", c.serverAddress))
	}
	if c.serverPort > 0 {
		m.add(attribute.Int64("server.port", c.serverPort))
	}
	if c.stream {
		m.add(attribute.Bool("gen_ai.request.stream", true))
		if c.ttfbNS > 0 {
			m.add(attribute.Float64("gen_ai.response.time_to_first_chunk", float64(c.ttfbNS)/1e9))
		}
	}
	if !strings.HasPrefix(s.Name, "llm.") {
		m.add(attribute.String("slogwf.action.name", s.Name)) // the span's name no longer says it
	}
	if m.o.Content {
		if t, ok := text(s.Input); ok && c.provider != "" {
			m.addJSON("gen_ai.input.messages", messagesJSON(prompt(t)...))
		} else if ok { // a call the program logged: its own text
			m.addJSON("gen_ai.input.messages", messagesJSON(message{"user", t}))
		}
		if t, ok := text(s.Output); ok {
			m.addJSON("gen_ai.output.messages", messagesJSON(message{"assistant", t}))
		}
	}
	m.skip = func(key string) bool {
		switch key {
		case "provider", "request_model", "http_status", "server_address", "server_port":
			return true
		case "stream", "ttfb":
			return c.stream
		}
		return skipUsage(key)
	}
	return spanName(op, request)
}

// operation returns the GenAI operation of an action of slogwf.Transport,
// by its name, and chat for the calls that users log themselves.
func operation(name, provider string) string {
	switch name {
	case "llm.completions":
		return "text_completion"
	case "llm.embeddings":
		return "embeddings"
	case "llm.generate":
		if provider == "ollama" {
			return "text_completion"
		}
		return "generate_content"
	}
	return "chat"
}
