package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCloseCutKeepsWhatIsWholeAndClosesTheRest(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"whole", `{"a":1}`, `{"a":1}`},
		{"after a member", `{"a":1,"b":`, `{"a":1}`},
		{"in a name", `{"a":1,"bb`, `{"a":1}`},
		{"in a number", `{"a":1,"b":12`, `{"a":1}`},
		{"in a string value", `{"msg":"hello wor`, `{"msg":"hello wor…"}`},
		{"in a nested string", `{"a":{"b":["x","yy`, `{"a":{"b":["x","yy…"]}}`},
		{"in an escape", `{"m":"ab\u00`, `{"m":"ab…"}`},
		{"after a backslash", `{"m":"ab\`, `{"m":"ab…"}`},
		{"in a character", "{\"m\":\"é\xc3", `{"m":"é…"}`},
		{"a quote escaped", `{"m":"a\"b`, `{"m":"a\"b…"}`},
		{"an empty object open", `{"a":{`, `{"a":{}}`},
		{"just the brace", `{`, `{}`},
		{"not an object", `["a"`, ``},
		{"nothing", ``, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := closeCut([]byte(tt.in))
			assert.Equal(t, tt.want, string(got))
			if tt.want != "" {
				assert.True(t, json.Valid(got), "%s", got)
			}
		})
	}
}

func FuzzCloseCut(f *testing.F) {
	f.Add([]byte(`{"ev":"record","attrs":{"a":["b",1,{"c":"d\u00e9"}]}}`), 20)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		if !json.Valid(b) || len(b) == 0 || b[0] != '{' {
			return
		}
		n = max(0, min(n, len(b)))
		if got := closeCut(b[:n]); got != nil && !json.Valid(got) {
			t.Fatalf("closeCut(%q) = %q, not JSON", b[:n], got)
		}
	})
}
