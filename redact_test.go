package slogwf

import (
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf/internal/console"
	"github.com/slogwf/slogwf/internal/jsonenc"
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
// the look for literals by pairs of bytes, eight bytes at once or not,
// misses none, whatever the literals' lengths.
func TestTextsWithALiteralAreSearched(t *testing.T) {
	for _, extra := range [][]*regexp.Regexp{nil, {regexp.MustCompile(`ab`)}, {regexp.MustCompile(`xyz[0-9]+`)}, {regexp.MustCompile(`tok_[a-z]+`)}} {
		red := newRedactor(&Redaction{Patterns: extra})
		for _, p := range red.patterns {
			for before := range 34 {
				for after := range 4 {
					s := strings.Repeat(".", before) + p.literal + strings.Repeat(".", after)
					assert.True(t, red.mayHold(s), "%q", s)
				}
			}
		}
		assert.False(t, red.mayHold("summarize the notes"), "%v", extra)
	}
}

// Everyday text is not searched, long or short: the pairs of bytes looked
// for are the rarest of each literal, and a pair found is looked at
// further.
func TestEverydayTextIsNotSearched(t *testing.T) {
	red := newRedactor(nil)
	for _, s := range []string{
		"waiting for the model", "the weather is great", "ghost in the machine", "give it a try",
		"summarize the notes", "they agreed on a price", "task-1234 is done", "risk-free", "use --verbose",
		"a ghp-like name", "Be there", "PEM -----END", strings.Repeat("read the notes and write them down. ", 40),
	} {
		assert.False(t, red.mayHold(s), "%q", s)
	}
}

// A text's marks are the narrowest range of bytes without the space and
// lower-case letters that holds a byte of every literal, if there is one;
// and marked is true of eight bytes exactly when one of them is a mark.
func TestMarksAreTheNarrowestRangeThatHoldsAByteOfEveryLiteral(t *testing.T) {
	for _, tt := range []struct {
		extra  string
		lo, hi byte // 0, 0: no marks
	}{
		{"", '-', '_'},
		{`token=\w+`, '-', '_'},
		{`#x[0-9]+`, '#', '_'},
		{`apikey [a-z]+`, 0, 0},
		{`é[0-9]+`, 0, 0},
	} {
		var extra []*regexp.Regexp
		if tt.extra != "" {
			extra = append(extra, regexp.MustCompile(tt.extra))
		}
		red := newRedactor(&Redaction{Patterns: extra})
		require.NotNil(t, red.starts, tt.extra)
		lo, hi := byte(red.markLo), byte(red.markPast)-1
		if red.markPast == 0 {
			lo, hi = 0, 0
		}
		assert.Equal(t, [2]byte{tt.lo, tt.hi}, [2]byte{lo, hi}, "%q", tt.extra)
	}

	red := newRedactor(nil)
	r := rand.New(rand.NewPCG(3, 4))
	for range 100000 {
		var w [8]byte
		want := false
		for i := range w {
			w[i] = byte(r.IntN(256))
			want = want || '-' <= w[i] && w[i] <= '_'
		}
		require.Equal(t, want, red.marked(jsonenc.Load64(string(w[:]))), "%q", w)
	}
}

// mayHold is true of a text exactly when it holds the literal of a
// pattern where a match may start: at a word boundary, when the pattern
// starts with one, which is after a word byte when the literal starts with
// no word byte. So it is true of every text a pattern matches. Texts are
// made of literals, their pieces, word bytes and other bytes; the user's
// patterns of random literals, of marks, letters and bytes from 0x80, in
// random places of random regexps.
func TestMayHoldFindsTheLiteralsWhereAMatchMayStart(t *testing.T) {
	bytes := []string{"!", "-", "_", "A", "Z", "@", "`", "0", "a", "k", " ", ".", "{", "é", "日", "ſ", "\u212a", "\n"}
	r := rand.New(rand.NewPCG(1, 2))
	random := func() *regexp.Regexp {
		var lit strings.Builder
		for range 2 + r.IntN(4) {
			lit.WriteString(bytes[r.IntN(len(bytes))])
		}
		q := regexp.QuoteMeta(lit.String())
		forms := []string{q + `[0-9]+`, `\b` + q + `\w*`, `\b(` + q + `)x`, `(?i)` + q, "(" + q + ")", q + "|" + q + "x"}
		return regexp.MustCompile(forms[r.IntN(len(forms))])
	}
	sets := [][]*regexp.Regexp{nil, {regexp.MustCompile(`ab`)}, {regexp.MustCompile(`xyz[0-9]+`)},
		{regexp.MustCompile(`\b-tok[0-9]+`), regexp.MustCompile(`\bé[A-Z]+`)}}
	for range 200 {
		sets = append(sets, []*regexp.Regexp{random(), random()})
	}
	for i, extra := range sets {
		red := newRedactor(&Redaction{Patterns: extra, NoDefaultPatterns: i%2 == 1})
		var pieces []string
		for _, p := range red.patterns {
			pieces = append(pieces, p.literal, p.literal[:len(p.literal)/2], p.literal[len(p.literal)/2:])
		}
		pieces = append(pieces, bytes...)
		pieces = append(pieces, "\xff", "0123456789abcdefghijKLMN")
		for range 1000 {
			var b strings.Builder
			for range r.IntN(12) {
				b.WriteString(pieces[r.IntN(len(pieces))])
			}
			s := b.String()
			want := false
			for _, p := range red.patterns {
				want = want || len(p.literal) < 2 // every text is searched
				for i := 0; i+len(p.literal) <= len(s); i++ {
					after := i > 0 && isWordByte(s[i-1])
					if strings.HasPrefix(s[i:], p.literal) && (!p.word || after != isWordByte(p.literal[0])) {
						want = true
					}
				}
			}
			require.Equal(t, want, red.mayHold(s), "%q under %v", s, extra)
			for _, p := range red.patterns {
				if p.re.MatchString(s) {
					require.True(t, red.mayHold(s), "%q, which %v matches", s, p.re)
				}
			}
		}
	}
}

// A pattern that starts with a word boundary before a byte of no word,
// as \b-tok or \bé do, finds its secrets after a word byte: where its
// \b is.
func TestSecretsAfterAWordBoundaryBeforeNoWordByteAreHidden(t *testing.T) {
	red := newRedactor(&Redaction{Patterns: []*regexp.Regexp{regexp.MustCompile(`\b-tok[0-9]+`), regexp.MustCompile(`\bé[A-Z]+`)}})
	for _, c := range []struct{ text, want string }{
		{"id a-tok12345", "id a[REDACTED]"},
		{"id 7-tok12345 and b-tok9", "id 7[REDACTED] and b[REDACTED]"},
		{"id -tok12345", "id -tok12345"},
		{"-tok12345", "-tok12345"},
		{"xéABC", "x[REDACTED]"},
		{"_éABC é", "_[REDACTED] é"},
		{"éABC", "éABC"},
	} {
		got, _ := red.redact(c.text)
		assert.Equal(t, c.want, got, "%q", c.text)
	}
}

// record's quick look at the most common attributes changes nothing of
// what it makes of a record: the record, what cleaning lost, what the
// attributes say to slogwf and the console's Plain are what looking at
// every attribute in full makes of it, for records of keys and values of
// every sort (secret and reserved keys in any case, long ones, the
// console's own; every pattern's literal at every offset, with a secret
// or not; bytes to escape, non-ASCII, long texts), under redactions of
// every sort. Nor does quiet's: a record it passes is one that the full
// look leaves as it is, and reads nothing of.
func TestTheQuickLookOfRecordIsTheFullLook(t *testing.T) {
	keys := []string{"prompt", "a", "", "password", "PassWord", "paſſword", "api_\u212aey", "x-api-key", "Set-Cookie",
		"cookie", "session_token", "model", "tokens", "cost_usd", "cached_tokens", "semantic", "origin", "workflow_id",
		"interaction_id", "time", "level", "msg", "source", "k\x1b", "kéy", `"q"`, strings.Repeat("k", tree.MaxName),
		strings.Repeat("k", tree.MaxName+1)}
	var texts []string
	for _, p := range builtinPatterns {
		for at := range 34 {
			texts = append(texts, strings.Repeat("n", at)+p.literal, strings.Repeat("n", at)+p.literal+"AAAAbbbbCCCCddddEEEE0123")
		}
	}
	texts = append(texts, "", "summarize the notes", "tok_abc", "ab", "xyz42", "sk_", "say \"hi\"\tplease", "ünïcode",
		"\x1b[31mred", "\u202eevil", "\xff", strings.Repeat("x", 80), strings.Repeat("x", 81), strings.Repeat("x", 255),
		strings.Repeat("x", 256), strings.Repeat("x", 257), strings.Repeat("x", 300)+"sk-AAAAbbbbCCCCddddEEEE0123",
		"AKIAABCDEFGHIJKLMNOP", "Authorization: Bearer abc.def")
	values := []slog.Value{slog.IntValue(-3), slog.Uint64Value(7), slog.Float64Value(0.7), slog.BoolValue(true),
		slog.DurationValue(time.Second), slog.TimeValue(time.Unix(0, 0)), slog.AnyValue(errors.New("Bearer abcdef")),
		slog.AnyValue([]byte("sk-AAAAbbbbCCCCddddEEEE0123")), slog.AnyValue(struct{ A int }{1}),
		slog.GroupValue(slog.String("password", "x")), slog.GroupValue(slog.Int("input", 812), slog.Int("output", 95)),
		slog.GroupValue(), slog.AnyValue(valuer{slog.StringValue("sk-AAAAbbbbCCCCddddEEEE0123")})}
	for _, s := range texts {
		values = append(values, slog.StringValue(s))
	}
	con := console.New(io.Discard, console.Options{Color: true, Level: slog.LevelInfo, TimeFormat: console.TimeFormat,
		Width: console.ValueWidth, LineWidth: console.LineWidth})
	r := rand.New(rand.NewPCG(5, 6))
	quiet := 0
	for _, o := range []Options{{}, {MaxValue: 32}, {MaxValue: -1}, {Redact: &Redaction{Off: true}},
		{Redact: &Redaction{Keys: []string{"session_token", "ſid"}}},
		{Redact: &Redaction{Patterns: []*regexp.Regexp{regexp.MustCompile(`ab`), regexp.MustCompile(`xyz[0-9]+`)}}},
		{Redact: &Redaction{NoDefaultPatterns: true, Patterns: []*regexp.Regexp{regexp.MustCompile(`tok_[a-z]+`)}}},
		{Redact: &Redaction{Patterns: []*regexp.Regexp{regexp.MustCompile(`[0-9]{4}`)}}}} {
		c := newCleaner(&o)
		for _, cl := range []*cleaner{c, c.hidingAll()} {
			for range 3000 {
				rec := slog.NewRecord(time.Unix(1, 0), slog.LevelInfo, texts[r.IntN(len(texts))], 0)
				for range r.IntN(8) {
					rec.AddAttrs(slog.Attr{Key: keys[r.IntN(len(keys))], Value: values[r.IntN(len(values))]})
				}
				for _, con := range []*console.Handler{nil, con} {
					got, want := rec.Clone(), rec.Clone()
					var gotMeta, wantMeta meta
					var gotLost tree.Loss
					gotPlain := cl.record(&got, &gotMeta, &gotLost, con)
					wantLost, wantPlain, mayChange := fullLook(cl, &want, &wantMeta, con)
					require.True(t, equalRecords(want, got), "%v: %v, want %v", o, got, want)
					require.Equal(t, wantLost, gotLost, "%v: %v", o, rec)
					require.Equal(t, wantMeta, gotMeta, "%v: %v", o, rec)
					if !mayChange {
						require.Equal(t, wantPlain, gotPlain, "%v: %v", o, rec)
					} else {
						require.False(t, gotPlain, "%v: %v", o, rec)
					}
					if q := rec.Clone(); cl.quiet(&q) {
						quiet++
						require.True(t, equalRecords(rec, want), "%v: %v", o, rec)
						require.Equal(t, tree.Loss{}, wantLost, "%v: %v", o, rec)
						require.Equal(t, meta{}, wantMeta, "%v: %v", o, rec)
					}
				}
			}
		}
	}
	assert.Positive(t, quiet, "records quiet passes")
}

// fullLook cleans r as record does, looking at every attribute in full,
// and reads m of what the attributes, cleaned, say. It returns what
// cleaning lost, whether con shows every attribute as tint does, and
// whether an attribute may change, or the message changed.
func fullLook(c *cleaner, r *slog.Record, m *meta, con *console.Handler) (l tree.Loss, plain, mayChange bool) {
	msg, mayChange := c.text(r.Message, &l)
	out := []slog.Attr{}
	plain = con != nil
	r.Attrs(func(a slog.Attr) bool {
		mayChange = mayChange || c.mayChange(a)
		a, _ = c.attr(a, 0, &l)
		m.read(a)
		plain = plain && con.Plain(a)
		out = append(out, a)
		return true
	})
	*r = slog.NewRecord(r.Time, r.Level, msg, r.PC)
	r.AddAttrs(out...)
	return l, plain, mayChange
}

// equalRecords reports whether a and b hold the same message and
// attributes.
func equalRecords(a, b slog.Record) bool {
	var as, bs []slog.Attr
	a.Attrs(func(x slog.Attr) bool { as = append(as, x); return true })
	b.Attrs(func(x slog.Attr) bool { bs = append(bs, x); return true })
	return a.Message == b.Message && slices.EqualFunc(as, bs, func(x, y slog.Attr) bool {
		// Value.Equal panics for values that == cannot compare.
		return x.Key == y.Key && x.Value.Kind() == y.Value.Kind() && x.Value.String() == y.Value.String()
	})
}

type valuer struct{ v slog.Value }

func (v valuer) LogValue() slog.Value { return v.v }

// searchAll is redact without its quick look: every pattern searches s.
func (red *redactor) searchAll(s string) (string, int) {
	n := 0
	for _, p := range red.patterns {
		var hid int
		s, hid = p.replace(s)
		n += hid
	}
	return s, n
}

// The quick look that spares a text the search never spares one that a
// pattern finds a secret in: whatever byte is before a secret, at any
// offset of a text of any length, redact hides what searching with every
// pattern hides.
func TestRedactHidesWhatEveryPatternFinds(t *testing.T) {
	secrets := []string{
		"sk-0123456789abcdefghijKLMN", "sk-ant-0123456789abcdefghij_-", "AKIA0123456789ABCDEF",
		"ghp_0123456789abcdefghijKLMN", "github_pat_0123456789abcdefghij_K", "Bearer abc.def~x",
		"-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", "-----BEGIN PRIVATE KEY-----x",
	}
	red := newRedactor(nil)
	for _, secret := range secrets {
		for before := range 10 {
			for c := range 256 {
				for _, after := range []string{"", "x"} {
					s := strings.Repeat(".", before) + string([]byte{byte(c)}) + secret + after
					want, wantN := red.searchAll(s)
					got, gotN := red.redact(s)
					require.Equal(t, want, got, "%q", s)
					require.Equal(t, wantN, gotN, "%q", s)
				}
			}
		}
	}
}

// So does it for texts made of secrets, literals, their pieces, word
// bytes, other bytes and invalid UTF-8, under patterns of the user's
// too: with a literal of two bytes, of one, none, not ASCII, anchored,
// in any case, a built-in's literal at no word boundary, after a \b that
// starts every match or only some.
func TestRedactHidesWhatEveryPatternFindsInAnyText(t *testing.T) {
	pieces := []string{
		"sk-0123456789abcdefghijKLMN", "AKIA0123456789ABCDEF", "ghp_0123456789abcdefghijKLMN",
		"github_pat_0123456789abcdefghij_K", "Bearer abc", "Bearer  x.y", "-----BEGIN RSA PRIVATE KEY-----",
		"-----END RSA PRIVATE KEY-----", "sk-", "AKIA", "ghp_", "github_pat_", "Bearer ", "-----BEGIN", "sk", "k-",
		"AK", "IA", "gh", "p_", "github", "_pat_", "Bear", "er ", "-----", "BEGIN", "ab", "xyz", "tok_", "TOK_",
		"é", "éx", "\xc3", "\xe2\x82", "\xff", "\x80", "日", "\u212a", "ſ", "\ufffd", "\ufffdz", "\xffz",
		"ta", "task-abc", "abd", "a", "Z", "_", "0", "9", " ", "-", ".", "\n", "\t", "0123456789abcdefghijKLMN", "0123456789ABCDEF",
	}
	for _, extra := range [][]*regexp.Regexp{
		nil, {regexp.MustCompile(`ab`)}, {regexp.MustCompile(`xyz[0-9]+`)}, {regexp.MustCompile(`(?i)tok_\w+`)},
		{regexp.MustCompile(`^ab[a-z]*`)}, {regexp.MustCompile(`é+x`)}, {regexp.MustCompile(`abc|abd|ab9`)},
		{regexp.MustCompile(`a\d`)}, {regexp.MustCompile(`\bxyz\w*`)}, {regexp.MustCompile(`\x{FFFD}z`)},
		{regexp.MustCompile(`(tok_)[a-z]+`)}, {regexp.MustCompile(`xyz\b`)}, {regexp.MustCompile(`sk-[a-z]+`)},
		{regexp.MustCompile(`\btok_[a-z]+`)}, {regexp.MustCompile(`\babc|abd`)},
	} {
		for _, noDefault := range []bool{false, true} {
			if noDefault && extra == nil {
				continue
			}
			red := newRedactor(&Redaction{Patterns: extra, NoDefaultPatterns: noDefault})
			r := rand.New(rand.NewPCG(3, 4))
			for range 600 {
				var b strings.Builder
				for range r.IntN(20) {
					if r.IntN(8) == 0 {
						b.WriteString(strings.Repeat("q", r.IntN(300)))
					} else {
						b.WriteString(pieces[r.IntN(len(pieces))])
					}
				}
				s := b.String()
				want, wantN := red.searchAll(s)
				got, gotN := red.redact(s)
				require.Equal(t, want, got, "%q under %v", s, extra)
				require.Equal(t, wantN, gotN, "%q under %v", s, extra)
				for _, p := range red.patterns {
					if p.re.MatchString(s) {
						require.True(t, red.mayHold(s), "%q, which %v matches", s, p.re)
					}
				}
			}
		}
	}
}

// A pattern's literal is what every match of it starts with: its regexp's
// literal prefix, or that of what follows a \b that starts every match,
// which then starts at a word boundary.
func TestAPatternKnowsWhatItsMatchesStartWith(t *testing.T) {
	for _, c := range []struct {
		re      string
		literal string
		word    bool
	}{
		{`\bsk-(?:ant-)?[A-Za-z0-9_-]{20,}`, "sk-", true},
		{`\bBearer +([A-Za-z0-9._~+/=-]+)`, "Bearer ", true},
		{`-----BEGIN[A-Z ]*PRIVATE KEY-----`, "-----BEGIN", false},
		{`tkt_[0-9a-f]{32}`, "tkt_", false},
		{`\btkt_[0-9a-f]{32}`, "tkt_", true},
		{`\b(tok_)[a-z]+`, "tok_", true},
		{`x\b`, "x", false},
		{`\babc|abd`, "", false}, // the \b starts one alternative only
		{`(?i)\bsecret`, "", false},
		{`\b\btok`, "", false},
		{`\b\w+`, "", false},
		{`\b`, "", false},
	} {
		p := newPattern(regexp.MustCompile(c.re))
		assert.Equal(t, c.literal, p.literal, c.re)
		assert.Equal(t, c.word, p.word, c.re)
	}
	for _, p := range builtinPatterns {
		assert.GreaterOrEqual(t, len(p.literal), 3, "%v: its literal keeps most texts out of the search", p.re)
	}
}
