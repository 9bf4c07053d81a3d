package jsonenc

import (
	"math/rand/v2"
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
	for range 10000 {
		tm := time.Date(rand.IntN(10000), time.January, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rand.Int64N(int64(366 * 24 * time.Hour))))
		assert.Equal(t, `"`+tm.Format(TimeLayout)+`"`, string(AppendTime(nil, tm)), "%v", tm)
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

// The look at eight bytes at once tells what the look at each does, for
// any two bytes at any two places of eight.
func TestVerbatimByWordsIsVerbatimByBytes(t *testing.T) {
	for i := range 8 {
		for j := i + 1; j < 8; j++ {
			for c := range 256 {
				for d := range 256 {
					b := []byte("abcdefgh")
					b[i], b[j] = byte(c), byte(d)
					if Verbatim(string(b)) != (verbatim[c] && verbatim[d]) {
						t.Fatalf("%q", b)
					}
				}
			}
		}
	}
}
