package slogwf

import (
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/slogwf/slogwf/internal/tree"
)

// secretKey matches keys as strings.EqualFold does, the fast path for
// ASCII keys included.
func TestSecretKeyMatchesAsEqualFold(t *testing.T) {
	for _, keys := range [][]string{nil, {"Session_Token", "ſid"}, {""}, {"Session_Token"}, {strings.Repeat("s", 12)}, {strings.Repeat("k", 70)}} {
		red := newRedactor(&Redaction{Keys: keys})
		for _, key := range []string{"password", "PASSWORD", "Password", "passwd", "passwork", "api_key", "API_KEY",
			"secret", "ſecret", "coo\u212aie", "prompt", "stream", "x", "", "session_token", "SID", "sid", "ſid",
			"paſſword", "ſet-coo\u212aie", "api_\u212aey", "X-API-\u212aEY", "ſeſſion_to\u212aen", "ſession_token",
			strings.Repeat("s", 12), strings.Repeat("ſ", 12), strings.Repeat("K", 70), strings.Repeat("k", 69) + "\u212a"} {
			want := false
			for _, k := range red.keys {
				want = want || strings.EqualFold(key, k)
			}
			assert.Equal(t, want, red.secretKey(key), "keys %q, key %q", keys, key)
		}
	}
}

// The cleaner's fast path skips only attributes that it leaves as they are.
func TestCleanerSkipsOnlyWhatItLeavesAlone(t *testing.T) {
	c := newCleaner(&Options{MaxValue: 32})
	for _, a := range []slog.Attr{
		slog.String("prompt", "summarize the notes"), slog.String("prompt", "key sk-0123456789abcdefghijKLMN"),
		slog.String("prompt", strings.Repeat("x", 33)), slog.String("password", "hunter2"), slog.Int("API_KEY", 3),
		slog.Int("n", 3), slog.Float64("f", 0.5), slog.Bool("b", true), slog.Duration("d", time.Second),
		slog.Time("t", time.Unix(0, 0)), slog.Group("g", "password", "x"), slog.Any("e", errors.New("Bearer abcdef")),
		slog.String("h", "Authorization: Bearer abc"), Tokens(812, 95), slog.Group("g", slog.Group("h", "n", 1)),
		slog.Group("g", slog.String("prompt", "sk-0123456789abcdefghijKLMN")), slog.Group("secret", "n", 1),
	} {
		var l tree.Loss
		a2, changed := c.attr(a, 0, &l)
		if !c.mayChange(a) {
			assert.False(t, changed, "%v", a)
			assert.Equal(t, tree.Loss{}, l, "%v", a)
			assert.True(t, a2.Equal(a), "%v", a)
		}
	}
	assert.False(t, c.mayChange(slog.String("prompt", "summarize the notes")), "the common case is fast")
	assert.False(t, c.mayChange(Tokens(812, 95)), "and so is a group of plain values")
}

// A text that holds the literal of a pattern, at any offset, is searched:
// the look for literals by pairs of bytes misses none, whatever the
// literals' lengths.
func TestTextsWithALiteralAreSearched(t *testing.T) {
	for _, extra := range [][]*regexp.Regexp{nil, {regexp.MustCompile(`ab`)}, {regexp.MustCompile(`xyz[0-9]+`)}, {regexp.MustCompile(`tok_[a-z]+`)}} {
		red := newRedactor(&Redaction{Patterns: extra})
		for _, p := range red.patterns {
			for before := range 9 {
				for after := range 4 {
					s := strings.Repeat(".", before) + p.literal + strings.Repeat(".", after)
					assert.True(t, red.mayHold(s), "%q", s)
				}
			}
		}
		assert.False(t, red.mayHold("summarize the notes"), "%v", extra)
	}
}
