package jsonenc

import (
	"math/rand/v2"
	"strings"
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
		leaves := s+`"` == string(appendEscaped(nil, s))
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

// AppendString writes a text that Verbatim says is verbatim as the look at
// every rune would: texts of verbatim bytes and of bytes to escape, ASCII
// or not, valid UTF-8 or not.
func TestAppendStringOfVerbatimTextIsAppendStringByRunes(t *testing.T) {
	pieces := []string{"a", "summarize", " ", "~", "\"", "\\", "\n", "\x00", "\x7f", "é", "\u202e", "\u2028", "\ufffd", "\xff", "😀"}
	r := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		s := b.String()
		if got, want := string(AppendString(nil, s)), `"`+string(appendEscaped(nil, s)); got != want {
			t.Fatalf("%q: %s, want %s", s, got, want)
		}
	}
}

// Verbatim, which looks at words of a short text too, says of any text what
// the look at each byte says: texts of every length up to 40, with bytes
// that are verbatim or not, the edges of the ranges among them, at any
// place.
func TestVerbatimOfAnyLengthIsVerbatimByBytes(t *testing.T) {
	bytes := []byte{'a', ' ', '~', '!', '#', '[', ']', '"', '\\', 0x1f, 0x7f, 0x80, 0xff, 0, '\n', 0xe2}
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 41 {
		for range 2000 {
			b := []byte(strings.Repeat("x", n))
			for range r.IntN(3) {
				if n > 0 {
					b[r.IntN(n)] = bytes[r.IntN(len(bytes))]
				}
			}
			if Verbatim(string(b)) != (bytePrefix(string(b)) == n) {
				t.Fatalf("%q", b)
			}
		}
	}
	for n := 1; n <= 3; n++ {
		for c := range 256 {
			for i := range n {
				b := []byte(strings.Repeat("x", n))
				b[i] = byte(c)
				if Verbatim(string(b)) != verbatim[c] {
					t.Fatalf("%q", b)
				}
			}
		}
	}
}
