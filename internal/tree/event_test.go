package tree

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// KindOf tells the lines of a workflow as the handler writes them, without
// decoding them, and no line that another tool wrote otherwise.
func TestKindOfTellsTheLinesAsTheHandlerWritesThem(t *testing.T) {
	at := time.Unix(1, 0)
	start, _ := AppendStartHead(nil, "wf1", "wf1", "", Workflow, 1, at)
	end, _ := AppendEndHead(nil, "wf1", "wf1", 9, at, StatusCompleted, "")
	scopeStart, _ := AppendStartHead(nil, "wf1", "ia1", "wf1", Interaction, 2, at)
	scopeEnd, _ := AppendEndHead(nil, "wf1", "ia1", 8, at, StatusFailed, "boom")
	for _, c := range []struct {
		name string
		line string
		want string
	}{
		{"the workflow's start", string(start) + `}`, Start},
		{"the workflow's end", string(end) + `}`, End},
		{"a scope's start", string(scopeStart) + `}`, ScopeBound},
		{"a scope's end", string(scopeEnd) + `}`, ScopeBound},
		{"a record", string(AppendRecordHead(nil, "wf1", "ia1", Loss{Redacted: 1})) + `"msg":"hi"}`, Record},
		{"a record of IDs that need no escape", string(AppendRecordHeadOf(nil, "wf1", "ia1")) + `"msg":"hi"}`, Record},
		{"another workflow's start", string(start)[:len(`{"ev":"start","wf":"`)] + `wf2","id":"wf1"}`, ScopeBound},
		{"a record whose members are in another order", `{"wf":"wf1","ev":"record","msg":"hi"}`, ""},
		{"a record with spaces", `{"ev": "record", "wf": "wf1"}`, ""},
		{"an event the handler does not write", `{"ev":"note","wf":"wf1"}`, ""},
	} {
		assert.Equal(t, c.want, KindOf([]byte(c.line), "wf1"), c.name)
	}
}
