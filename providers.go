package slogwf

import (
	"cmp"
	"encoding/json"
	"net/http"
	"path"
	"strings"

	"github.com/slogwf/slogwf/internal/tree"
)

// The providers the transport knows: one table of endpoints, each with its
// parser of answers, and the shapes of their requests' prompts.

// api is what the transport knows of an endpoint.
type api struct {
	provider, op string
	parse        func(c *call, data []byte) // a whole answer or one event of a stream
}

// apis are the endpoints the transport reads, by the end of the URL path,
// with the provider of each format.
var apis = []struct {
	suffix string
	api
}{
	{"/chat/completions", api{"openai", "llm.chat", parseOpenAIChat}},
	{"/completions", api{"openai", "llm.completions", parseOpenAIChat}},
	{"/embeddings", api{"openai", "llm.embeddings", parseOpenAIChat}},
	{"/responses", api{"openai", "llm.responses", parseOpenAIResponses}},
	{"/v1/messages", api{"anthropic", "llm.messages", parseAnthropic}},
	{":rawPredict", api{"anthropic", "llm.messages", parseAnthropic}},       // on Vertex AI
	{":streamRawPredict", api{"anthropic", "llm.messages", parseAnthropic}}, // on Vertex AI
	{"/api/chat", api{"ollama", "llm.chat", parseOllama}},
	{"/api/generate", api{"ollama", "llm.generate", parseOllama}},
	{":generateContent", api{"gcp.gemini", "llm.generate", parseGemini}},
	{":streamGenerateContent", api{"gcp.gemini", "llm.generate", parseGemini}},
}

// apiOf returns what the transport knows of the endpoint of req: its
// format by the path, its provider by the host or the path where they
// say one (see servedBy), else the format's.
func apiOf(req *http.Request) api {
	path := strings.TrimSuffix(req.URL.Path, "/")
	for _, a := range apis {
		if strings.HasSuffix(path, a.suffix) {
			host := strings.TrimSuffix(strings.ToLower(req.URL.Hostname()), ".") // a name fully qualified is the same host
			a.provider = cmp.Or(servedBy(host, path), a.provider)
			return a.api
		}
	}
	return api{provider: req.URL.Hostname(), op: "http." + strings.ToLower(req.Method)}
}

// hosts are the providers known by the host a request goes to, as the
// OpenTelemetry GenAI conventions name them (gen_ai.provider.name): the
// formats of apis are served by others than their makers, Azure OpenAI
// serving OpenAI's, Vertex AI Gemini's and Anthropic's. A pattern is
// path.Match's.
var hosts = []struct{ pattern, provider string }{
	{"*.openai.azure.com", "azure.ai.openai"},
	{"*.cognitiveservices.azure.com", "azure.ai.openai"},
	{"aiplatform.googleapis.com", "gcp.vertex_ai"},
	{"*-aiplatform.googleapis.com", "gcp.vertex_ai"}, // a region's
	{"generativelanguage.googleapis.com", "gcp.gemini"},
	{"bedrock-runtime.*.amazonaws.com", "aws.bedrock"},
	{"api.deepseek.com", "deepseek"},
	{"api.groq.com", "groq"},
	{"api.mistral.ai", "mistral_ai"},
	{"api.perplexity.ai", "perplexity"},
	{"api.x.ai", "x_ai"},
}

// servedBy returns the provider that the host, in lower case, or the path
// of a request says, "" if neither says one. Azure OpenAI's and Vertex
// AI's paths say them behind a gateway of another name too.
func servedBy(host, urlPath string) string {
	for _, h := range hosts {
		if ok, _ := path.Match(h.pattern, host); ok {
			return h.provider
		}
	}
	switch {
	case strings.Contains(urlPath, "/openai/deployments/"):
		return "azure.ai.openai"
	case strings.Contains(urlPath, "/projects/") && strings.Contains(urlPath, "/publishers/"):
		return "gcp.vertex_ai"
	}
	return ""
}

// request reads the model and the prompt of a request body.
func (c *call) request(data []byte) {
	var body map[string]any
	if len(data) > maxParse || json.Unmarshal(data, &body) != nil {
		return
	}
	if m, ok := body["model"].(string); ok && m != "" {
		c.requestModel = m
	}
	if c.capture == 0 {
		return
	}
	var b strings.Builder
	for _, k := range []string{"system", "instructions", "systemInstruction"} {
		if v, ok := body[k]; ok {
			writeMessage(&b, "system", v)
		}
	}
	for _, k := range []string{"messages", "contents", "input", "prompt"} {
		switch v := body[k].(type) {
		case nil:
		case []any:
			for _, m := range v {
				role, _ := fieldOf(m, "role").(string)
				if role == "" { // the Responses API's items have a type
					typ, _ := fieldOf(m, "type").(string)
					role = itemRoles[typ]
				}
				writeMessage(&b, role, m)
			}
		default:
			writeMessage(&b, "", v)
		}
	}
	var short bool
	c.input, short = cut(b.String(), c.capture)
	c.truncated = c.truncated || short
}

func fieldOf(v any, key string) any {
	m, _ := v.(map[string]any)
	return m[key]
}

// itemRoles are the roles of the items of the Responses API's input that
// have a type but no role.
var itemRoles = map[string]string{"function_call": "assistant", "function_call_output": "tool"}

// writeMessage writes a message of a prompt, "role: text" (the user's if
// the request names no role, as the APIs take it), its lines after the
// first indented by tree.PromptIndent: so no text can pass for a message
// of its own.
func writeMessage(b *strings.Builder, role string, v any) {
	if b.Len() > 0 {
		b.WriteByte('\n')
	}
	var m strings.Builder
	m.WriteString(cmp.Or(role, "user") + ": ")
	writeText(&m, v)
	b.WriteString(strings.ReplaceAll(m.String(), "\n", "\n"+tree.PromptIndent))
}

// writeText writes the text of a message, or of its content, in the
// shapes the providers use: a string, parts with text, or nested content.
func writeText(b *strings.Builder, v any) {
	switch v := v.(type) {
	case string:
		b.WriteString(v)
	case []any:
		for i, p := range v {
			if i > 0 {
				b.WriteByte(' ')
			}
			writeText(b, p)
		}
	case map[string]any:
		for _, k := range []string{"text", "content", "parts", "output"} {
			if x, ok := v[k]; ok {
				writeText(b, x)
				return
			}
		}
		if t, ok := v["type"].(string); ok {
			b.WriteString("[" + t + "]") // an image, a tool call
		}
	}
}

// The answers of the providers, whole or one event of a stream.

type openAIChat struct {
	Model   string `json:"model"`
	Choices []struct {
		Text    string `json:"text"`
		Message struct {
			Content string `json:"content"`
		} `json:"message"`
		Delta struct {
			Content string `json:"content"`
		} `json:"delta"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int64 `json:"prompt_tokens"`
		CompletionTokens int64 `json:"completion_tokens"`
		Details          struct {
			CachedTokens int64 `json:"cached_tokens"`
		} `json:"prompt_tokens_details"`
	} `json:"usage"`
}

func parseOpenAIChat(c *call, data []byte) {
	var v openAIChat
	if json.Unmarshal(data, &v) != nil {
		return
	}
	c.setModel(v.Model)
	for _, ch := range v.Choices {
		c.text(ch.Text + ch.Message.Content + ch.Delta.Content)
	}
	if u := v.Usage; u != nil {
		c.setUsage(u.PromptTokens, u.CompletionTokens, u.Details.CachedTokens)
	}
}

type openAIResponse struct {
	Model string `json:"model"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"` // of response.failed
	Output []struct {
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
	} `json:"output"`
	Usage *struct {
		InputTokens  int64 `json:"input_tokens"`
		OutputTokens int64 `json:"output_tokens"`
		Details      struct {
			CachedTokens int64 `json:"cached_tokens"`
		} `json:"input_tokens_details"`
	} `json:"usage"`
}

func parseOpenAIResponses(c *call, data []byte) {
	var v struct {
		openAIResponse
		Type     string          `json:"type"`
		Delta    string          `json:"delta"`
		Message  string          `json:"message"`  // of an error event
		Response *openAIResponse `json:"response"` // of response.completed and the like
	}
	if json.Unmarshal(data, &v) != nil {
		return
	}
	if v.Type == "error" {
		c.errText = v.Message
	}
	r := &v.openAIResponse
	if v.Response != nil {
		r = v.Response
	}
	if r.Error != nil && r.Error.Message != "" {
		c.errText = r.Error.Message
	}
	c.setModel(r.Model)
	if v.Type == "response.output_text.delta" {
		c.text(v.Delta)
	} else if v.Type == "" || len(c.output) == 0 {
		// A whole answer, or the last event of a stream whose text
		// did not come in deltas.
		for _, o := range r.Output {
			for _, p := range o.Content {
				c.text(p.Text)
			}
		}
	}
	if u := r.Usage; u != nil {
		c.setUsage(u.InputTokens, u.OutputTokens, u.Details.CachedTokens)
	}
}

type anthropicMessage struct {
	Model   string `json:"model"`
	Content []struct {
		Text string `json:"text"`
	} `json:"content"`
	Usage *struct {
		InputTokens   int64 `json:"input_tokens"`
		OutputTokens  int64 `json:"output_tokens"`
		CacheRead     int64 `json:"cache_read_input_tokens"`
		CacheCreation int64 `json:"cache_creation_input_tokens"`
	} `json:"usage"`
}

func parseAnthropic(c *call, data []byte) {
	var v struct {
		anthropicMessage
		Message *anthropicMessage `json:"message"` // of message_start
		Delta   struct {
			Text string `json:"text"`
		} `json:"delta"`
	}
	if json.Unmarshal(data, &v) != nil {
		return
	}
	m := &v.anthropicMessage
	if v.Message != nil {
		m = v.Message
	}
	c.setModel(m.Model)
	c.text(v.Delta.Text)
	for _, p := range m.Content {
		c.text(p.Text)
	}
	if u := m.Usage; u != nil {
		// Anthropic counts cache reads and writes apart from input tokens,
		// and a stream's message_delta may leave them out.
		c.setUsage(u.InputTokens, u.OutputTokens, u.CacheRead)
		setCount(&c.written, u.CacheCreation)
		c.apart = true
	}
}

func parseOllama(c *call, data []byte) {
	var v struct {
		Model   string `json:"model"`
		Message struct {
			Content string `json:"content"`
		} `json:"message"`
		Response        string `json:"response"` // of /api/generate
		Done            bool   `json:"done"`
		PromptEvalCount int64  `json:"prompt_eval_count"`
		EvalCount       int64  `json:"eval_count"`
	}
	if json.Unmarshal(data, &v) != nil {
		return
	}
	c.setModel(v.Model)
	c.text(v.Message.Content + v.Response)
	if v.Done {
		c.setUsage(v.PromptEvalCount, v.EvalCount, 0)
	}
}

func parseGemini(c *call, data []byte) {
	var v struct {
		ModelVersion string `json:"modelVersion"`
		Candidates   []struct {
			Content struct {
				Parts []struct {
					Text string `json:"text"`
				} `json:"parts"`
			} `json:"content"`
		} `json:"candidates"`
		Usage *struct {
			Prompt     int64 `json:"promptTokenCount"`
			Candidates int64 `json:"candidatesTokenCount"`
			Thoughts   int64 `json:"thoughtsTokenCount"`
			Cached     int64 `json:"cachedContentTokenCount"`
		} `json:"usageMetadata"`
	}
	if json.Unmarshal(data, &v) != nil {
		return
	}
	c.setModel(v.ModelVersion)
	for _, cand := range v.Candidates {
		for _, p := range cand.Content.Parts {
			c.text(p.Text)
		}
	}
	if u := v.Usage; u != nil {
		c.setUsage(u.Prompt, u.Candidates+u.Thoughts, u.Cached)
	}
}
