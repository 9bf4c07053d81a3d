package slogwf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
)

// A response body is read as it passes to the caller: a whole answer at
// its end, a stream (server-sent events, or NDJSON) line by line, each
// document going to the parser of its provider (see providers.go).

// Modes of reading a response body.
const (
	modeNone   = iota // not an answer the transport reads: audio, a file
	modeJSON          // one document, read at the end
	modeSSE           // server-sent events, each a document
	modeNDJSON        // one document per line (Ollama)
)

func modeOf(contentType string) int {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case mt == "text/event-stream":
		return modeSSE
	case mt == "application/x-ndjson" || mt == "application/jsonl":
		return modeNDJSON
	case isJSON(contentType):
		return modeJSON
	}
	return modeNone
}

// tailSize is how much of a whole answer too long to hold is kept: its
// end, where the APIs put the usage.
const tailSize = 64 << 10

// feed takes the next bytes of the body: a streamed answer is read line by
// line, as it comes; a whole one at the end.
func (c *call) feed(p []byte) {
	if c.mode == modeJSON {
		c.buf = append(c.buf, p...)
		if len(c.buf) > maxParse {
			c.buf, c.overflow = append(c.buf[:0], c.buf[len(c.buf)-tailSize:]...), true
		}
		return
	}
	if c.overflow {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			return // still in the line that was too long
		}
		p, c.overflow = p[i+1:], false
	}
	from := len(c.buf)
	c.buf = append(c.buf, p...)
	c.lines(from)
	if len(c.buf) > maxParse {
		c.buf, c.overflow = c.buf[:0], true
	}
}

// lines reads the complete lines of a stream, looking for their ends from
// from on, and keeps the last, partial one.
func (c *call) lines(from int) {
	start := 0
	for {
		i := bytes.IndexByte(c.buf[from:], '\n')
		if i < 0 {
			break
		}
		end := from + i
		c.line(bytes.TrimSuffix(c.buf[start:end], []byte{'\r'}))
		start, from = end+1, end+1
	}
	if start > 0 {
		c.buf = append(c.buf[:0], c.buf[start:]...)
	}
}

// line reads a line of a stream. Server-sent events are their data lines,
// and end at a blank line.
func (c *call) line(line []byte) {
	switch {
	case c.mode == modeNDJSON:
		c.answer(line)
	case len(line) == 0:
		c.dispatch()
	case bytes.HasPrefix(line, []byte("data:")):
		if len(c.event) > 0 {
			c.event = append(c.event, '\n')
		}
		c.event = append(c.event, bytes.TrimPrefix(line[len("data:"):], []byte{' '})...)
		if len(c.event) > maxParse {
			c.event = c.event[:0]
		}
	}
}

// dispatch reads the event of a stream whose data lines came.
func (c *call) dispatch() {
	if len(c.event) > 0 {
		c.answer(c.event)
		c.event = c.event[:0]
	}
}

// answer reads one JSON document of the answer, or an array of them.
func (c *call) answer(data []byte) {
	data = bytes.TrimSpace(data)
	switch {
	case len(data) == 0:
		return
	case data[0] == '[': // Gemini streams an array without alt=sse
		var docs []json.RawMessage
		if json.Unmarshal(data, &docs) == nil {
			for _, d := range docs {
				c.answer(d)
			}
		}
		return
	case data[0] != '{':
		return // [DONE] and the like
	}
	if bytes.Contains(data, []byte(`"error"`)) {
		if msg := errorMessage(data); msg != "" {
			c.errText = msg
		}
	}
	if c.parse != nil {
		c.parse(c, data)
	}
}

// answerTail reads the usage from the end of a whole answer too long to
// hold.
func (c *call) answerTail(tail []byte) {
	for _, key := range []string{`"usage"`, `"usageMetadata"`} {
		i := bytes.LastIndex(tail, []byte(key))
		if i < 0 {
			continue
		}
		rest, ok := bytes.CutPrefix(bytes.TrimLeft(tail[i+len(key):], " \t\r\n"), []byte{':'})
		var v json.RawMessage
		if ok && json.NewDecoder(bytes.NewReader(rest)).Decode(&v) == nil {
			c.answer(fmt.Appendf(nil, "{%s:%s}", key, v))
		}
	}
}

// errorMessage returns the message of an error document, in the shapes
// of the providers: {"error": {"message": M}} or {"error": M}.
func errorMessage(data []byte) string {
	var v struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(data, &v) != nil || len(v.Error) == 0 {
		return ""
	}
	var msg string
	if json.Unmarshal(v.Error, &msg) == nil {
		return msg
	}
	var e struct {
		Message string `json:"message"`
	}
	json.Unmarshal(v.Error, &e)
	return e.Message
}
