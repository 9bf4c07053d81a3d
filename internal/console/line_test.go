package console

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A line that lineWriter writes whole without measuring it is one that
// cutLine would not cut: its bytes besides the color sequences bound its
// columns, whatever escapes, runes and stray ESC bytes it holds.
func TestLinesLeftUnmeasuredAreNeverTooWide(t *testing.T) {
	pieces := []string{"a", "é", "😀", "\x1b[2m", "\x1b[0m", "\x1b[1;35m", "\x1b", "[", "m", "\\", "\\\\",
		"\\x1b", "\\u202e", "\\U0001f600", `\x`, "\x1b[\x1b[0m", "\x1b[2", "\xff"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 50000 {
		var b strings.Builder
		for range r.IntN(30) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		line := []byte(b.String())
		width := 1 + r.IntN(40)
		if len(line)-colorBytes(line) <= width {
			_, cut := cutLine(line, width)
			require.False(t, cut, "%q at width %d", line, width)
		}
	}
}

// A colored line of tint, wider in bytes than the width but not in
// columns, is written whole; one wider in columns is cut.
func TestColoredLinesAreCutByColumnsNotBytes(t *testing.T) {
	colored := strings.Repeat("\x1b[92mk=\x1b[0mv ", 10) // 40 columns, 130 bytes
	for _, tc := range []struct {
		width int
		want  string
	}{
		{40, colored + "\n"},
		{39, strings.Repeat("\x1b[92mk=\x1b[0mv ", 9) + "\x1b[92mk=\x1b[0m…\x1b[0m\n"},
	} {
		var out bytes.Buffer
		w := newLineWriter(&out, tc.width, true)
		_, err := w.Write([]byte(colored + "\n"))
		require.NoError(t, err)
		require.Equal(t, tc.want, out.String(), "width %d", tc.width)
	}
}

// BenchmarkConsoleWithAttrs prints the line of the root package's
// BenchmarkInScopeWith: wider in bytes than LineWidth, not in columns.
func BenchmarkConsoleWithAttrs(b *testing.B) {
	c := New(io.Discard, Options{Color: true, Level: slog.LevelInfo, TimeFormat: TimeFormat, Width: ValueWidth, LineWidth: LineWidth})
	h := c.WithAttrs([]slog.Attr{slog.String("user", "ana"), slog.Int("run", 7), slog.String("region", "eu-west")}).(*Handler)
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "calling model", 0)
	r.Add("prompt", "summarize the notes", "attempt", 3, "temperature", 0.7, "stream", true, "latency", 1500*time.Millisecond)
	at := Path{Set: true, Text: "bench it1 planner", Color: 3}
	ctx := context.Background()
	for b.Loop() {
		h.HandlePlain(ctx, &r, at)
	}
}
