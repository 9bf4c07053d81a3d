package otelspan

import (
	"encoding/json"
	"strings"

	"github.com/slogwf/slogwf/internal/tree"
)

// message is one message of the GenAI conventions, with one text part.
type message struct {
	role, text string
}

// messagesJSON returns the messages as the conventions' JSON:
// [{"role": …, "parts": [{"type": "text", "content": …}]}].
func messagesJSON(ms ...message) []byte {
	type part struct {
		Type    string `json:"type"`
		Content string `json:"content"`
	}
	type msg struct {
		Role  string `json:"role"`
		Parts []part `json:"parts"`
	}
	out := make([]msg, len(ms))
	for i, m := range ms {
		out[i] = msg{m.role, []part{{"text", m.text}}}
	}
	b, _ := json.Marshal(out) // strings only: it cannot fail
	return b
}

// text returns the JSON value j as text: a string's value, any other
// value's JSON.
func text(j []byte) (string, bool) {
	if len(j) == 0 || string(j) == "null" {
		return "", false
	}
	var s string
	if json.Unmarshal(j, &s) == nil {
		return s, true
	}
	return string(j), true
}

// roles are the roles slogwf.Transport writes a prompt's lines with.
var roles = []string{"system", "user", "assistant", "tool", "developer", "model", "function"}

// prompt splits a prompt as slogwf.Transport captures it into messages:
// each line not indented by tree.PromptIndent starts a message, "role:
// text", the user's when it names no role it knows; each indented line
// continues it, without the indent.
func prompt(t string) []message {
	var ms []message
	for line := range strings.SplitSeq(t, "\n") {
		if rest, ok := strings.CutPrefix(line, tree.PromptIndent); ok && len(ms) > 0 {
			ms[len(ms)-1].text += "\n" + rest
			continue
		}
		role, rest, ok := roleOf(line)
		if !ok {
			role, rest = "user", line
		}
		ms = append(ms, message{role, rest})
	}
	return ms
}

func roleOf(line string) (role, rest string, ok bool) {
	for _, r := range roles {
		if rest, ok := strings.CutPrefix(line, r+": "); ok {
			if r == "model" { // Gemini's name for the assistant
				r = "assistant"
			}
			return r, rest, true
		}
	}
	return "", "", false
}
