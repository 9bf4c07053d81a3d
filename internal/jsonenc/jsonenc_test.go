package jsonenc

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestAppendTimeIsTheFixedLayout(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2026, 11, 29, 2, 12, 52, 592_000_000, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.FixedZone("x", -7*3600)),
		time.Date(10000, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Now(),
	} {
		assert.Equal(t, `"`+tm.UTC().Format(TimeLayout)+`"`, string(AppendTime(nil, tm)), "%v", tm)
	}
}

// Verbatim says true of ASCII text exactly when AppendString writes it as
// it is, between quotes; and of no other text.
func TestVerbatimIsASCIIThatAppendStringLeavesAlone(t *testing.T) {
	for c := range 256 {
		s := "ab" + string([]byte{byte(c)}) + "cd"
		leaves := `"`+s+`"` == string(AppendString(nil, s))
		assert.Equal(t, c < 0x80 && leaves, Verbatim(s), "%q", s)
	}
	assert.True(t, Verbatim(""))
	assert.True(t, Verbatim("summarize the notes"))
}
