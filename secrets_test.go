package slogwf_test

// Secrets are hidden from every output: the console, the journal, the tree,
// and so every command of the CLI.

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
)

// secrets are what redaction hides by default, with text around them that must stay.
var secrets = []string{
	"sk-proj-AAAAbbbbCCCCddddEEEEffff0123456789",
	"sk-ant-api03-AAAAbbbbCCCCddddEEEEffff0123456789",
	"AKIAABCDEFGHIJKLMNOP",
	"ghp_AAAAbbbbCCCCddddEEEEffff0123456789abcd",
	"github_pat_11AAAAbbbbCCCCddddEEEE_ffff0123456789",
	"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAsecretsecret\n-----END RSA PRIVATE KEY-----",
}

// leaks returns the parts of secrets found in out: any 12 bytes of one.
func leaks(out string, secrets ...string) []string {
	var found []string
	for _, s := range secrets {
		for i := 0; i+12 <= len(s); i++ {
			if part := s[i : i+12]; !strings.Contains(Redacted, part) && strings.Contains(out, part) {
				found = append(found, part)
				break
			}
		}
	}
	return found
}

// Redacted is slogwf.Redacted, for leaks.
const Redacted = slogwf.Redacted

// logSecrets logs each secret in each place a record of a workflow has,
// with a word before and after it.
func logSecrets(ctx context.Context, l *slog.Logger) {
	ctx, wf := slogwf.StartWorkflow(ctx, "secrets", "user", "ana")
	for i, s := range secrets {
		text := "before " + s + " after"
		ctx, ia := slogwf.StartInteraction(ctx, "agent", slogwf.InputKey, text)
		logSecret(ctx, l, i, s)
		ia.Fail(errors.New(text), slogwf.OutputKey, text)
	}
	wf.End()
}

// logSecret logs secret s, the i-th, in each place a record has, with a
// word before and after it.
func logSecret(ctx context.Context, l *slog.Logger, i int, s string) {
	text := "before " + s + " after"
	l.InfoContext(ctx, text)
	l.InfoContext(ctx, "attr", "v", text, "n", i)
	l.InfoContext(ctx, "llm call", slogwf.Origin(slogwf.OriginLLM), "completion",
		"Sure! Here is the configuration you asked for:\n\nAPI_KEY="+s+"\n\nLet me know if you need more.")
	deep := slog.String("v", text)
	for range 40 {
		deep = slog.Group("g", deep)
	}
	l.InfoContext(ctx, "deep", deep)
	l.With("w", text).WithGroup("req").InfoContext(ctx, "with")
	l.InfoContext(ctx, "error", "err", errors.New(text))
	l.InfoContext(ctx, "bytes", "b", []byte(text))
	l.InfoContext(ctx, "map", "m", map[string]any{"k": text})
	l.InfoContext(ctx, "header", "Authorization", "Bearer xyzzy-token-0123456789",
		slog.Group("headers", slog.String("X-Api-Key", "plain-key-0123456789"), slog.String("Cookie", "session=0123456789abcdef")))
	l.InfoContext(ctx, "bearer", "h", "Authorization: Bearer abcdef0123456789.ghijkl done")
}

// loggedSecrets are the secrets that logSecret logs.
var loggedSecrets = append(slices.Clone(secrets), "xyzzy-token-0123456789", "plain-key-0123456789", "session=0123456789abcdef", "abcdef0123456789.ghijkl")

// Secrets are hidden in the console, the journal and the tree (and
// the CLI: TestCLIOutputHidesSecrets in cmd/slogwf); the text around them
// stays. Captured LLM text is an attribute like the "completion" here.
func TestSecretsAreRedactedEverywhere(t *testing.T) {
	all := loggedSecrets
	for _, format := range []slogwf.Format{slogwf.FormatTint, slogwf.FormatText, slogwf.FormatJSON} {
		t.Run(string(format), func(t *testing.T) {
			s := newSetup(t, &slogwf.Options{Format: format})
			logSecrets(s.ctx, s.log)
			require.NoError(t, s.h.Close())
			out := s.console.String()
			for _, p := range files(t, s.dir) {
				b, err := os.ReadFile(filepath.Join(s.dir, p))
				require.NoError(t, err)
				out += string(b)
			}
			assert.Empty(t, leaks(out, all...), "no secret in any output")
			if format == slogwf.FormatTint {
				assert.Contains(t, out, "before [REDACTED] after")
				assert.Contains(t, out, "Authorization=[REDACTED]")
				assert.Contains(t, out, "Authorization: Bearer [REDACTED] done")
				assert.Contains(t, out, "API_KEY=[REDACTED]\\n\\nLet me know")
			}
		})
	}

	s := newSetup(t, nil)
	logSecrets(s.ctx, s.log)
	require.NoError(t, s.h.Close())
	paths, err := filepath.Glob(filepath.Join(s.dir, "*.json"))
	require.NoError(t, err)
	require.Len(t, paths, 1)
	assert.EqualValues(t, 6*15, readTree(t, paths[0]).Loss.Redacted, "each hidden value counted: 6 secrets in 15 places")
}

// A record outside every workflow goes to the console alone, which hides
// the same secrets: each console of New, and the handler NewHandler is
// given.
func TestSecretsOutsideWorkflowsAreRedactedToo(t *testing.T) {
	for _, format := range []slogwf.Format{slogwf.FormatTint, slogwf.FormatText, slogwf.FormatJSON, ""} {
		t.Run(cmp.Or(string(format), "NewHandler"), func(t *testing.T) {
			var out strings.Builder
			var h *slogwf.Handler
			if format == "" {
				h = slogwf.NewHandler(slog.NewJSONHandler(&out, nil), &slogwf.Options{Dir: t.TempDir()})
			} else {
				var err error
				h, err = slogwf.New(&slogwf.Options{Dir: t.TempDir(), Console: &out, Format: format})
				require.NoError(t, err)
			}
			t.Cleanup(func() { _ = h.Close() })
			for i, s := range secrets {
				logSecret(context.Background(), slog.New(h), i, s)
			}
			assert.Empty(t, leaks(out.String(), loggedSecrets...), "no secret in the console")
			assert.Contains(t, out.String(), "before [REDACTED] after")
		})
	}
}

func TestRedactionIsConfigurable(t *testing.T) {
	const secret = "sk-proj-AAAAbbbbCCCCddddEEEEffff0123456789"
	tests := []struct {
		name   string
		redact *slogwf.Redaction
		args   []any
		want   string
		leak   bool // of secret, in the journal
	}{
		{"off", &slogwf.Redaction{Off: true}, []any{"v", secret, "password", "hunter2"},
			"m v=" + secret + " password=hunter2", true},
		{"more keys, any case", &slogwf.Redaction{Keys: []string{"Session_Token"}}, []any{"SESSION_TOKEN", "t0k", "PassWord", "hunter2"},
			"m SESSION_TOKEN=[REDACTED] PassWord=[REDACTED]", false},
		{"no default keys", &slogwf.Redaction{NoDefaultKeys: true}, []any{"password", "hunter2", "v", secret},
			"m password=hunter2 v=[REDACTED]", false},
		{"more patterns", &slogwf.Redaction{Patterns: []*regexp.Regexp{regexp.MustCompile(`ticket-(\d+)`)}}, []any{"v", "see ticket-1234 now"},
			"m v=\"see ticket-[REDACTED] now\"", false},
		{"no default patterns", &slogwf.Redaction{NoDefaultPatterns: true}, []any{"v", secret, "apikey", "k"},
			"m v=" + secret + " apikey=[REDACTED]", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, &slogwf.Options{Redact: tt.redact})
			ctx, wf := slogwf.StartWorkflow(s.ctx, "r")
			s.log.InfoContext(ctx, "m", tt.args...)
			wf.End()
			lines := trimTimes(s.console.Lines())
			assert.Equal(t, "INF [r] "+tt.want, lines[1])
			assert.Equal(t, tt.leak, len(leaks(strings.Join(journal(t, s.dir), ""), secret)) > 0, "the journal agrees")
		})
	}
}

// The secrets of a text cut at MaxValue are hidden whole, however
// much of it they take, and wherever the text resumes.
func TestSecretsOfLongTextsAreHiddenWhole(t *testing.T) {
	key := "sk-" + strings.Repeat("A", 4300)
	pem := "-----BEGIN RSA PRIVATE KEY-----\n" + strings.Repeat("MIIJQgIBADANBgkqhkiG9w0BAQEFAASC\n", 200) + "-----END RSA PRIVATE KEY-----"
	tests := []struct {
		name, text string
		max        int
	}{
		{"a key longer than the margin", key + " and sk-" + strings.Repeat("B", 40), 100},
		{"a PEM key longer than the margin", pem + " tail", 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, &slogwf.Options{MaxValue: tt.max})
			ctx, wf := slogwf.StartWorkflow(s.ctx, "w")
			s.log.InfoContext(ctx, "m", "v", tt.text)
			wf.End()
			require.NoError(t, s.h.Close())
			out := s.console.String() + strings.Join(journal(t, s.dir), "")
			assert.Empty(t, leaks(out, key, "sk-"+strings.Repeat("B", 40), pem))
		})
	}
}

// stringer shows a secret through fmt, which JSON does not see.
type stringer struct{ key string }

func (s stringer) String() string { return "token " + s.key }

type hidden struct{ key string }

// What the console prints of a value with fmt is searched too.
func TestSecretsShownOnlyByFmtAreHidden(t *testing.T) {
	for _, v := range []any{stringer{secrets[0]}, hidden{secrets[0]}} {
		s := newSetup(t, nil)
		ctx, wf := slogwf.StartWorkflow(s.ctx, "w")
		s.log.InfoContext(ctx, "m", "v", v)
		wf.End()
		require.NoError(t, s.h.Close())
		out := s.console.String() + strings.Join(journal(t, s.dir), "")
		assert.Empty(t, leaks(out, secrets[0]), "%T", v)
		assert.Contains(t, s.console.String(), slogwf.Redacted, "%T", v)
	}
}

// A key of the user's, however long, hides its value.
func TestLongRedactionKeysHideTheirValues(t *testing.T) {
	long := strings.Repeat("k", 70)
	s := newSetup(t, &slogwf.Options{Redact: &slogwf.Redaction{Keys: []string{long}}})
	s.log.Info("m", strings.ToUpper(long), "hunter2-value")
	assert.NotContains(t, s.console.String(), "hunter2-value")
}

// A group opened with WithGroup under a secret key hides all
// that is logged in it, as slog.Group does.
func TestWithGroupOfASecretKeyHidesItsAttributes(t *testing.T) {
	s := newSetup(t, nil)
	ctx, wf := slogwf.StartWorkflow(s.ctx, "w")
	l := s.log.WithGroup("Password")
	l.With("before", "hunter2-with").InfoContext(ctx, "m", "v", "hunter2-record", "n", 42)
	s.log.InfoContext(ctx, "m", "v", "shown")
	wf.End()
	require.NoError(t, s.h.Close())
	out := s.console.String() + strings.Join(journal(t, s.dir), "")
	assert.NotContains(t, out, "hunter2")
	assert.Contains(t, out, "shown")
	tree := s.tree(t, wf)
	assert.Equal(t, map[string]any{"Password": map[string]any{"before": slogwf.Redacted, "v": slogwf.Redacted, "n": slogwf.Redacted}}, tree.Records[0].Attrs)
}

// What the journal and the tree file say of a scope's model is the model
// as its start's record said it once cleaned: redacted and cut at
// MaxValue, also on the end that takes it from the start.
func TestTheModelAScopesEndTakesFromItsStartIsCleaned(t *testing.T) {
	for _, tt := range []struct {
		name, model, gone string
		opts              slogwf.Options
	}{
		{"a secret", "sk-0123456789abcdefghijKLMN", "sk-0123456789abcdefghijKLMN", slogwf.Options{}},
		{"longer than MaxValue", "gpt-4o-" + strings.Repeat("x", 100), strings.Repeat("x", 100), slogwf.Options{MaxValue: 16}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, &tt.opts)
			ctx, wf := slogwf.StartWorkflow(s.ctx, "w")
			_, a := slogwf.StartAction(ctx, "call", slogwf.Model(tt.model))
			a.End(slogwf.Tokens(10, 1))
			wf.End()
			require.NoError(t, s.h.Close())
			tree, err := os.ReadFile(s.h.TreeFile(wf))
			require.NoError(t, err)
			assert.NotContains(t, string(tree), tt.gone)
			journals, err := filepath.Glob(filepath.Join(s.dir, "journal", "*.jsonl"))
			require.NoError(t, err)
			for _, j := range journals {
				b, err := os.ReadFile(j)
				require.NoError(t, err)
				assert.NotContains(t, string(b), tt.gone)
			}
		})
	}
}
