package slogwf

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/slogwf/slogwf/internal/console"
)

// Transport returns an [http.RoundTripper] that logs every request it sends
// through next (nil: [http.DefaultTransport]) as an LLM call. A request
// whose context is in a workflow becomes an action, named after the
// operation (llm.chat, llm.responses, llm.messages, llm.generate, …),
// under the innermost scope of the context; outside a workflow it is one
// record. Either way it carries the provider, the server's host and port,
// the model requested and the model that answered, the HTTP status, the tokens, the time to the
// response's headers, the prompt and the completion (see [WithCapture]),
// and the error of a failed call. The action lasts
// until the response body reaches its end or is closed; its cost comes from
// [Options.Prices].
//
// It reads the formats of OpenAI (Chat Completions and Responses), Anthropic
// Messages, Ollama and Gemini, streaming or not. The caller gets the bytes
// the server sent as they come. Header values, where API keys travel, and
// the URL's query and user info are never logged.
//
// Use it in the client that an LLM SDK takes:
//
//	client := &http.Client{Transport: slogwf.Transport(nil)}
func Transport(next http.RoundTripper, opts ...TransportOption) http.RoundTripper {
	t := &transport{next: next, capture: defaultCapture}
	if t.next == nil {
		t.next = http.DefaultTransport
	}
	for _, o := range opts {
		o(t)
	}
	return t
}

// TransportOption configures a [Transport].
type TransportOption func(*transport)

// defaultCapture is how many bytes of each prompt and completion a
// Transport keeps by default.
const defaultCapture = 8 << 10

// WithCapture keeps up to n bytes of the prompt and of the completion of
// each call, cut at a character boundary and flagged "truncated" (Default:
// 8 KiB); n <= 0 keeps none. The transport applies it itself, whatever
// handler its calls are logged through and however that is wrapped.
func WithCapture(n int) TransportOption {
	return func(t *transport) { t.capture = max(n, 0) }
}

// WithoutCapture keeps the prompts and completions of a Transport's calls
// out of the log: WithCapture(0).
func WithoutCapture() TransportOption { return WithCapture(0) }

var (
	_ http.RoundTripper = (*transport)(nil)
	_ io.ReadCloser     = (*call)(nil) // the body of a response, read on its way
)

type transport struct {
	next    http.RoundTripper
	capture int // bytes of each prompt and completion kept
}

// maxParse bounds the bytes of a request, a response, or a line of a stream
// that the transport holds to read tokens from.
const maxParse = 4 << 20

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL == nil {
		return t.next.RoundTrip(req) // not a call; next says why
	}
	ctx := req.Context()
	c := &call{ctx: ctx, start: time.Now(), capture: t.capture, url: req.URL}
	c.api = apiOf(req)
	// The official OpenAI and Anthropic SDKs say which retry a request is.
	if n, err := strconv.Atoi(req.Header.Get("X-Stainless-Retry-Count")); err == nil && n >= 0 {
		c.attempt = n + 1
	}
	sent, err := c.readRequest(req)
	c.begin()
	if err != nil {
		c.finish(err)
		return nil, err
	}
	resp, err := t.next.RoundTrip(sent)
	if err != nil {
		c.finish(err)
		return nil, err
	}
	c.status, c.ttfb = resp.StatusCode, time.Since(c.start)
	if resp.StatusCode == http.StatusSwitchingProtocols {
		c.finish(nil) // the body is a connection now, not an answer
		return resp, nil
	}
	c.mode = modeOf(resp.Header.Get("Content-Type"))
	c.body, resp.Body = resp.Body, c
	return resp, nil
}

// CloseIdleConnections closes the idle connections of the next
// RoundTripper, for http.Client.CloseIdleConnections.
func (t *transport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// call is one request through the transport. Once the response comes, it
// is the body the caller reads, and reads the answer as it passes.
type call struct {
	api
	ctx     context.Context
	scope   *Scope // nil outside a workflow
	start   time.Time
	capture int
	url     *url.URL
	attempt int // 1 for the first try; 0 when unknown
	status  int
	ttfb    time.Duration // to the response's headers
	mode    int
	body    io.ReadCloser

	mu           sync.Mutex // guards what follows: Read and Close may race
	done         bool
	buf          []byte // the unread part: a whole document, or a partial line
	event        []byte // the data lines of an event of a stream so far
	overflow     bool   // buf outgrew maxParse; of a whole document, buf is its tail
	model        string
	requestModel string
	input        string
	output       []byte
	truncated    bool
	usage        bool
	in, out      int64
	cached       int64
	written      int64  // input tokens written to the cache (Anthropic)
	apart        bool   // in counts neither cached nor written tokens
	errText      string // of an error the server sent
}

// readRequest reads the model and prompt from the JSON body of req, and
// returns the request to send: req itself, or a copy whose body starts
// with what was read.
//
// It reads req.Body itself, not a copy from GetBody: the SDKs' GetBody
// rewinds the reader that req.Body is. GetBody stays for retries.
func (c *call) readRequest(req *http.Request) (*http.Request, error) {
	// Gemini and Vertex AI name the model in the path.
	if _, rest, ok := strings.Cut(req.URL.Path, "/models/"); ok && c.parse != nil {
		c.requestModel, _, _ = strings.Cut(rest, ":")
	}
	if req.Body == nil || req.Body == http.NoBody || !isJSON(req.Header.Get("Content-Type")) {
		return req, nil
	}
	data, err := io.ReadAll(io.LimitReader(req.Body, maxParse+1))
	if err != nil {
		req.Body.Close()
		return nil, fmt.Errorf("slogwf: read request body: %w", err)
	}
	c.request(data)
	sent := *req
	sent.Body = readCloser{io.MultiReader(bytes.NewReader(data), req.Body), req.Body}
	return &sent, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

func isJSON(contentType string) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// cut returns s cut to at most n bytes at a character boundary, and
// whether it was cut.
func cut(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n], true
}

// begin starts the call's action when its context is in a workflow.
func (c *call) begin() {
	if FromContext(c.ctx) == nil {
		return
	}
	var args []any
	for _, a := range c.requestAttrs() {
		args = append(args, a)
	}
	_, c.scope = start(c.ctx, KindAction, c.op, args, 0)
}

// requestAttrs returns the attributes of the call's request.
func (c *call) requestAttrs() []slog.Attr {
	as := []slog.Attr{slog.String("provider", c.provider)}
	if c.requestModel != "" {
		as = append(as, slog.String("request_model", c.requestModel))
	}
	if c.attempt > 0 {
		as = append(as, slog.Int("attempt", c.attempt))
	}
	if c.input != "" {
		as = append(as, slog.String(InputKey, c.input))
	}
	// The host alone: the URL's user info and query, where keys travel,
	// are no part of it.
	if h := c.url.Hostname(); h != "" {
		as = append(as, slog.String("server_address", h))
	}
	if p, err := strconv.Atoi(c.url.Port()); err == nil {
		as = append(as, slog.Int("server_port", p))
	}
	return as
}

// Read reads the body for the caller, and the answer as it passes.
func (c *call) Read(p []byte) (int, error) {
	n, err := c.body.Read(p)
	if n > 0 && c.mode != modeNone {
		c.mu.Lock()
		if !c.done {
			c.feed(p[:n])
		}
		c.mu.Unlock()
	}
	switch {
	case err == io.EOF:
		c.finish(nil)
	case err != nil:
		c.finish(err)
	}
	return n, err
}

// Close closes the body and ends the call: a caller that has what it
// wanted need not read to the end.
func (c *call) Close() error {
	err := c.body.Close()
	c.finish(nil)
	return err
}

func (c *call) setModel(m string) {
	if m != "" {
		c.model = m
	}
}

// setUsage takes the token counts an answer reports; a stream may report
// them more than once, the last count being the total, and leave some out.
func (c *call) setUsage(in, out, cached int64) {
	c.usage = true
	setCount(&c.in, in)
	setCount(&c.out, out)
	setCount(&c.cached, cached)
}

func setCount(n *int64, v int64) {
	if v > 0 {
		*n = v
	}
}

// text adds completion text, up to the capture limit.
func (c *call) text(s string) {
	if s == "" || c.capture <= 0 {
		return
	}
	s, short := cut(s, c.capture-len(c.output))
	c.output = append(c.output, s...)
	if short {
		c.truncated = true
		c.capture = 0 // no more: the end would not fit either
	}
}

// finish ends the call once: at the end of the body, when it is closed, or
// when the request fails.
func (c *call) finish(err error) {
	c.mu.Lock()
	if c.done {
		c.mu.Unlock()
		return
	}
	c.done = true
	switch {
	case c.mode == modeJSON && c.overflow:
		c.answerTail(c.buf)
	case c.mode == modeJSON:
		c.answer(c.buf)
	case len(c.buf) > 0 && !c.overflow:
		c.line(bytes.TrimSuffix(c.buf, []byte{'\r'})) // a last line without a newline
	}
	if c.mode == modeSSE {
		c.dispatch() // a last event without a blank line
	}
	c.buf, c.event = nil, nil
	switch {
	case err != nil:
	case c.status >= 400:
		err = fmt.Errorf("HTTP %d: %s", c.status, cmp.Or(c.errText, http.StatusText(c.status)))
	case c.errText != "":
		err = errors.New(c.errText) // an error event in a stream
	}
	attrs := c.result()
	c.mu.Unlock()
	c.log(attrs, err)
}

// result returns the attributes of the call's end.
func (c *call) result() []slog.Attr {
	var as []slog.Attr
	if c.status != 0 {
		as = append(as, slog.Int("http_status", c.status))
	}
	if m := cmp.Or(c.model, c.requestModel); m != "" {
		as = append(as, Model(m))
	}
	if c.usage {
		in := c.in
		if c.apart {
			in += c.cached + c.written
		}
		as = append(as, Tokens(int(in), int(c.out)))
		if c.cached > 0 {
			as = append(as, CachedTokens(int(c.cached)))
		}
		if c.written > 0 {
			as = append(as, CacheWriteTokens(int(c.written)))
		}
	}
	if c.ttfb > 0 {
		as = append(as, slog.Duration("ttfb", console.RoundDuration(c.ttfb)))
	}
	if c.mode == modeSSE || c.mode == modeNDJSON {
		as = append(as, slog.Bool("stream", true))
	}
	if len(c.output) > 0 {
		as = append(as, slog.String(OutputKey, string(c.output)))
	}
	if c.truncated {
		as = append(as, slog.Bool("truncated", true))
	}
	return as
}

// log ends the call's action, or outside a workflow logs the call as one
// record.
func (c *call) log(attrs []slog.Attr, err error) {
	if err != nil {
		err = c.cleanError(err)
	}
	if c.scope != nil {
		args := make([]any, len(attrs))
		for i, a := range attrs {
			args[i] = a
		}
		if err != nil {
			c.scope.fail(err, args, 0)
		} else {
			c.scope.end(StatusCompleted, nil, args, 0)
		}
		return
	}
	level := slog.LevelInfo
	attrs = append(c.requestAttrs(), attrs...)
	attrs = append(attrs, slog.Duration("dur", console.RoundDuration(time.Since(c.start))))
	if err != nil {
		level = slog.LevelWarn
		attrs = append(attrs, slog.Any(ErrorKey, err))
	}
	loggerFrom(c.ctx).LogAttrs(c.ctx, level, c.op, attrs...)
}

// cleanError returns err as the log shows it: without the URL's query and
// user info, where keys travel and which the errors of net/http quote.
func (c *call) cleanError(err error) error {
	msg := err.Error()
	for _, s := range []string{c.url.RawQuery, c.url.User.String()} {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "…")
		}
	}
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}
