package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
)

// escapes is the escape corpus of the root package's hostile tests.
const escapes = "CSI\x1b[31mRED OSC0\x1b]0;title\x07 OSC8\x1b]8;;http://x\x1b\\link OSC52\x1b]52;c;Y2xpcA==\x07" +
	" C1\u009b31m CR\r BS\b BEL\a NUL\x00 DEL\x7f LS\u2028 PS\u2029 RLO\u202eevil\u202c LRI\u2066x\u2069" +
	"\n02:12:52.592 INF [research] forged line TAIL"

var (
	sgr    = regexp.MustCompile("\x1b\\[[0-9;]*m")
	unsafe = regexp.MustCompile("[\x00-\x09\x0b-\x1f\x7f\u0080-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
)

// logInto runs log with a handler that writes its journals and trees to
// dir.
func logInto(t *testing.T, dir string, log func(ctx context.Context, l *slog.Logger)) {
	t.Helper()
	h, err := slogwf.New(&slogwf.Options{Dir: dir, Console: io.Discard})
	require.NoError(t, err)
	l := slog.New(h)
	log(slogwf.ContextWithLogger(context.Background(), l), l)
	require.NoError(t, h.Close())
}

// Tree, tail and stats carry only their own color sequences and
// one newline per line they mean to write.
func TestCLIOutputEscapesUntrustedText(t *testing.T) {
	dir := t.TempDir()
	logInto(t, dir, func(ctx context.Context, l *slog.Logger) {
		ctx, wf := slogwf.StartWorkflow(ctx, escapes, escapes, escapes)
		ctx, ia := slogwf.StartInteraction(ctx, escapes, slogwf.InputKey, escapes)
		actx, act := slogwf.StartAction(ctx, escapes)
		l.WithGroup(escapes).With(escapes, escapes).InfoContext(actx, escapes, escapes, escapes, slogwf.Model(escapes))
		act.Fail(errors.New(escapes))
		ia.End(slogwf.OutputKey, escapes)
		wf.End()
	})
	for _, args := range [][]string{
		{"tree", "-color=always", dir},
		{"tree", "-color=never", dir},
		{"tail", "-color=always", dir},
		{"tail", "-color=never", dir},
		{"stats", dir},
		{"stats", "-by", "model", dir},
		{"ls", dir},
		{"ls", "-json", dir},
	} {
		code, stdout, stderr := runCLI(t, args...)
		require.Equal(t, 0, code, "%v: %s", args, stderr)
		plain := sgr.ReplaceAllString(stdout, "")
		assert.NotContains(t, plain, "\x1b", "%v: only its own color sequences", args)
		assert.NotRegexp(t, unsafe, plain, "%v", args)
		assert.NotContains(t, plain, "\nINF [research] forged", "%v: no forged line", args)
		if args[0] == "tail" {
			assert.Equal(t, 7, strings.Count(stdout, "\n"), "%v: one line per event", args)
		}
		if args[0] == "tree" {
			assert.Equal(t, 3, strings.Count(stdout, "\n"), "%v: one line per node", args)
		}
	}
}

// Secrets hidden when logged stay hidden in every command's
// output.
func TestCLIOutputHidesSecrets(t *testing.T) {
	secrets := []string{
		"sk-proj-AAAAbbbbCCCCddddEEEEffff0123456789",
		"sk-ant-api03-AAAAbbbbCCCCddddEEEEffff0123456789",
		"AKIAABCDEFGHIJKLMNOP",
		"ghp_AAAAbbbbCCCCddddEEEEffff0123456789abcd",
		"github_pat_11AAAAbbbbCCCCddddEEEE_ffff0123456789",
		"-----BEGIN PRIVATE KEY-----\nMIIEowIBAAKCAQEAsecretsecret\n-----END PRIVATE KEY-----",
	}
	dir := t.TempDir()
	logInto(t, dir, func(ctx context.Context, l *slog.Logger) {
		ctx, wf := slogwf.StartWorkflow(ctx, "secrets")
		for _, s := range secrets {
			text := "before " + s + " after"
			ctx, ia := slogwf.StartInteraction(ctx, "agent", slogwf.InputKey, text)
			l.InfoContext(ctx, text, "v", text, "completion", "Here you go: "+s, "password", "hunter2-hunter2")
			ia.Fail(errors.New(text), slogwf.OutputKey, text)
		}
		wf.End()
	})
	for _, args := range [][]string{
		{"tree", "-color=never", dir},
		{"tail", "-color=never", dir},
		{"stats", "-json", dir},
		{"build", "-o", "-", dir},
	} {
		code, stdout, stderr := runCLI(t, args...)
		require.Equal(t, 0, code, "%v: %s", args, stderr)
		for _, s := range append(secrets, "hunter2-hunter2") {
			for i := 0; i+12 <= len(s); i++ {
				require.NotContains(t, stdout, s[i:i+12], "%v", args)
			}
		}
		if args[0] == "tail" {
			assert.Contains(t, stdout, "before [REDACTED] after", "the text around a secret stays")
		}
	}
}

// nestedTree returns a tree file whose workflow holds a chain of depth
// actions, each in the one before.
func nestedTree(depth int) string {
	const node = `{"kind":"action","id":"a","name":"a","status":"completed","duration_ms":1,"actions":[`
	return `{"schema":"slogwf.tree/v1","kind":"workflow","id":"w","name":"deep","status":"completed","duration_ms":1,"actions":[` +
		strings.Repeat(node, depth) + strings.Repeat("]}", depth) + "]}"
}

// leafFirstJournal returns the journal of a workflow with depth scopes,
// each in the one before, its lines leaf first.
func leafFirstJournal(depth int) string {
	var lines []string
	for i := depth; i > 0; i-- {
		parent := "w"
		if i > 1 {
			parent = strconv.Itoa(i - 1)
		}
		lines = append(lines, fmt.Sprintf(`{"ev":"start","wf":"w","id":"%d","parent":%q,"kind":"interaction","time":"2026-01-01T00:00:01Z","agent":"a"}`, i, parent))
	}
	return strings.Join(append(lines, `{"ev":"start","wf":"w","id":"w","kind":"workflow","time":"2026-01-01T00:00:00Z","name":"deep"}`), "\n") + "\n"
}

// Inputs nested deep give tree and stats a tree to show, or a clear
// error of one line: never a crash, nor a wrong reason.
func TestDeepInputsGiveATreeOrAClearErrorNeverACrash(t *testing.T) {
	tests := []struct {
		name, file, data string
		err              string // the one line on stderr, if any
	}{
		{"a journal of 10,001 nested scopes read leaf first", "deep.jsonl", leafFirstJournal(10001), ""},
		{"a tree file nested 4,000 deep", "deep.json", nestedTree(4000), ""},
		{"a tree file nested 100,000 deep", "deep.json", nestedTree(100000), "JSON nested more than 10000 levels deep: not a tree file or journal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), tt.file)
			require.NoError(t, os.WriteFile(file, []byte(tt.data), 0o600))
			for _, cmd := range []string{"tree", "stats"} {
				code, stdout, stderr := runCLI(t, cmd, file)
				if tt.err == "" {
					require.Equal(t, 0, code, "%s: %s", cmd, stderr)
					assert.Contains(t, stdout, "deep", cmd)
					continue
				}
				assert.Equal(t, 1, code, cmd)
				assert.Equal(t, "slogwf "+cmd+": "+file+": "+tt.err+"\n", stderr)
			}
		})
	}
}

// Stats shows no negative or wrapped count, whatever the usage in a
// journal or a tree file: the tree builder bounds what a journal says
// (see tree.Usage.Clamp), and stats what a tree file says.
func TestStatsShowsNoNegativeOrWrappedNumbers(t *testing.T) {
	const most = math.MaxInt64
	record := func(usage string) string {
		return `{"ev":"record","wf":"w","scope":"w","time":"2026-01-01T00:00:01Z","level":"INFO","msg":"m","usage":` + usage + "}\n"
	}
	interaction := func(id, usage string) string {
		return `{"kind":"interaction","id":"` + id + `","agent":"a","status":"completed","duration_ms":1,"usage":` + usage + `}`
	}
	type row struct {
		Group string `json:"group"`
		Calls int64  `json:"calls"`
		In    int64  `json:"input_tokens"`
		Out   int64  `json:"output_tokens"`
	}
	tests := []struct {
		name, file, data string
		want             []row // the rows, then the total
	}{
		{"a journal of negative and huge counts", "w.jsonl",
			`{"ev":"start","wf":"w","id":"w","kind":"workflow","time":"2026-01-01T00:00:00Z","name":"w"}` + "\n" +
				record(`{"llm_calls":-2,"input_tokens":-5}`) +
				strings.Repeat(record(`{"llm_calls":1,"input_tokens":9223372036854775807,"output_tokens":-1}`), 2),
			[]row{{Group: "(none)", Calls: 2, In: 2e12}, {Group: "total", Calls: 2, In: 2e12}}},
		{"a tree file of negative and wrapping counts", "w.json",
			`{"schema":"slogwf.tree/v1","kind":"workflow","id":"w","name":"w","status":"completed","duration_ms":1,` +
				`"usage":{"llm_calls":-2,"input_tokens":-5,"output_tokens":9223372036854775807},"interactions":[` +
				interaction("a1", `{"llm_calls":9223372036854775807,"input_tokens":9223372036854775807}`) + "," +
				interaction("a2", `{"llm_calls":9223372036854775807,"input_tokens":9223372036854775807}`) + "]}",
			[]row{{Group: "a", Calls: most, In: most}, {Group: "(none)", Out: most}, {Group: "total", Out: most}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), tt.file)
			require.NoError(t, os.WriteFile(file, []byte(tt.data), 0o600))
			code, stdout, stderr := runCLI(t, "stats", "-json", file)
			require.Equal(t, 0, code, stderr)
			var doc struct {
				Workflows []struct {
					Rows  []row
					Total row
				}
			}
			require.NoError(t, json.Unmarshal([]byte(stdout), &doc))
			require.Len(t, doc.Workflows, 1)
			assert.Equal(t, tt.want, append(doc.Workflows[0].Rows, doc.Workflows[0].Total))
		})
	}
}
