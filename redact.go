package slogwf

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"

	"github.com/slogwf/slogwf/internal/jsonenc"
)

// Redaction says which secrets slogwf hides, in the console, the journal
// and the tree alike. By default it hides the values of the keys of
// authorization, api_key, apikey, x-api-key, password, passwd, secret,
// cookie, set-cookie and private_key, and, in every message and string value, the secrets
// that the built-in patterns find: OpenAI (sk-…) and Anthropic (sk-ant-…)
// API keys, AWS access key IDs (AKIA…), GitHub tokens (ghp_…,
// github_pat_…), the token of "Bearer …" and PEM private keys. A hidden
// value or match becomes [REDACTED]; the text around a match stays.
type Redaction struct {
	// Hide nothing.
	Off bool

	// More keys whose values are hidden, compared in any case. A key
	// matches at any depth of groups, and hides a whole group.
	Keys []string

	// Leave out the default keys.
	NoDefaultKeys bool

	// More patterns of secrets. A match is hidden; when the pattern has a
	// group, only the first group's part of it is. Only texts that hold a
	// pattern's literal prefix, after its leading \b if any, are searched
	// with it: a pattern without one of two bytes or more has every text
	// searched.
	Patterns []*regexp.Regexp

	// Leave out the built-in patterns.
	NoDefaultPatterns bool
}

// Redacted stands for a hidden secret.
const Redacted = "[REDACTED]"

// defaultRedactKeys are the keys whose values are hidden by default.
var defaultRedactKeys = [...]string{
	"authorization", "api_key", "apikey", "x-api-key", "password", "passwd",
	"secret", "cookie", "set-cookie", "private_key",
}

// pattern is a regexp of a secret and a literal that every match starts
// with: text without it is not searched, which keeps the common case to a
// look at pairs of its bytes.
type pattern struct {
	literal string
	word    bool // every match starts at a word boundary (\b)
	re      *regexp.Regexp
}

// newPattern returns the pattern of re. A regexp that starts with \b, as
// the built-in ones do, has no literal prefix of its own: what follows the
// \b has one that serves as well, at a word boundary.
func newPattern(re *regexp.Regexp) pattern {
	if lit, _ := re.LiteralPrefix(); lit != "" {
		return pattern{literal: lit, re: re}
	}
	// \b must start every match, so not only the first of alternatives.
	syn, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil || syn.Op != syntax.OpConcat || syn.Sub[0].Op != syntax.OpWordBoundary {
		return pattern{re: re}
	}
	rest, err := regexp.Compile((&syntax.Regexp{Op: syntax.OpConcat, Sub: syn.Sub[1:]}).String())
	if err != nil {
		return pattern{re: re}
	}
	lit, _ := rest.LiteralPrefix()
	return pattern{literal: lit, word: lit != "", re: re}
}

// at reports whether a match of p may start at s[i:]. A word boundary is
// between a word byte and one that is not: before a literal that starts
// with no word byte, s[i-1] is a word's.
func (p *pattern) at(s string, i int) bool {
	return strings.HasPrefix(s[i:], p.literal) && (!p.word || (i > 0 && isWordByte(s[i-1])) != isWordByte(p.literal[0]))
}

// isWordByte reports whether \b sees c as a word's.
func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'z'
}

// builtinPatterns never change.
var builtinPatterns = []pattern{
	newPattern(regexp.MustCompile(`\bsk-(?:ant-)?[A-Za-z0-9_-]{20,}`)),
	newPattern(regexp.MustCompile(`\bAKIA[0-9A-Z]{16}\b`)),
	newPattern(regexp.MustCompile(`\bghp_[A-Za-z0-9]{20,}`)),
	newPattern(regexp.MustCompile(`\bgithub_pat_[A-Za-z0-9_]{20,}`)),
	newPattern(regexp.MustCompile(`\bBearer +([A-Za-z0-9._~+/=-]+)`)),
	newPattern(regexp.MustCompile(`-----BEGIN[A-Z ]*PRIVATE KEY-----(?:[\s\S]*?-----END[A-Z ]*PRIVATE KEY-----|[\s\S]*)`)),
}

// redactor applies a Redaction.
type redactor struct {
	keys  []string // lower case
	ascii bool     // every key is ASCII, and none is empty
	// shapes holds a bit for each shape (see keyShape) of the text that
	// matches a key, when ascii: most keys have none of them.
	shapes   [keyShapes / 64]uint64
	patterns []pattern
	// starts holds, for every literal and each offset modulo stride, the
	// pair of bytes of the literal at that offset that text holds least
	// often, when every literal is longer than stride: each literal in a
	// text covers one of its pairs at an offset that stride divides, so a
	// text with none there holds no literal. A pair is indexed as a
	// little-endian load reads it, its first byte low.
	starts *[1 << 16 / 64]uint64
	stride int // 1 or 2
	// in says where in its literal each pair of starts is: a text that
	// holds the pair holds the literal only if the literal is there whole.
	in []pairIn
	// markLo and markPast are, in each byte, the least byte of marks and
	// the one past the greatest: marks are a range of bytes that holds a
	// byte of every literal, when there is one (see marks). Most text
	// holds none of the built-in ones' (- to _), and eight bytes of it at
	// once tell so (see marked). markPast is 0 when there are no marks.
	markLo, markPast uint64
	longest          int // bytes of the longest literal
}

// pairIn is a pair of bytes at offset off of the literal of patterns[of].
type pairIn struct {
	pair uint16
	off  int
	of   int
}

func newRedactor(r *Redaction) *redactor {
	var o Redaction
	if r != nil {
		o = *r
	}
	if o.Off {
		return &redactor{}
	}
	red := &redactor{}
	keys := slices.Clone(o.Keys)
	if !o.NoDefaultKeys {
		keys = append(keys, defaultRedactKeys[:]...)
	}
	red.ascii = true
	for _, k := range keys {
		red.keys = append(red.keys, strings.ToLower(k))
		red.ascii = red.ascii && k != "" && isASCII(k)
	}
	for _, k := range red.keys {
		if red.ascii && !foldShapes(k, func(v uint) { red.shapes[v/64] |= 1 << (v % 64) }) {
			red.ascii = false
		}
	}
	if !o.NoDefaultPatterns {
		red.patterns = append(red.patterns, builtinPatterns...)
	}
	for _, re := range o.Patterns {
		red.patterns = append(red.patterns, newPattern(re))
	}
	stride := 2
	for _, p := range red.patterns {
		stride = min(stride, len(p.literal)-1)
	}
	if stride < 1 || len(red.patterns) == 0 {
		return red
	}
	red.starts, red.stride = new([1 << 16 / 64]uint64), stride
	for i, p := range red.patterns {
		for r := range stride {
			off := rarestPair(p.literal, r, stride)
			v := uint16(p.literal[off]) | uint16(p.literal[off+1])<<8
			red.starts[v/64] |= 1 << (v % 64)
			red.in = append(red.in, pairIn{v, off, i})
		}
		red.longest = max(red.longest, len(p.literal))
	}
	if lo, hi, ok := marks(red.patterns); ok {
		const ones = 0x0101010101010101
		red.markLo, red.markPast = lo*ones, (hi+1)*ones
	}
	return red
}

// marks returns the narrowest range of bytes, lo to hi, from ! to `, that
// holds a byte of every literal, if there is one: a range without the
// space and lower-case letters that most text is made of.
func marks(ps []pattern) (lo, hi uint64, ok bool) {
	for l := uint64('!'); l <= '`'; l++ {
		h := l
		for _, p := range ps {
			least := uint64(0x100) // p's least byte from l up
			for i := range len(p.literal) {
				if c := uint64(p.literal[i]); c >= l {
					least = min(least, c)
				}
			}
			h = max(h, least)
		}
		if h <= '`' && (!ok || h-l < hi-lo) {
			lo, hi, ok = l, h, true
		}
	}
	return lo, hi, ok
}

// commonBytes are the bytes that text holds most often, most often first.
const commonBytes = " etaoinsrhldcumfpgwybvkxjqz"

// rarestPair returns the offset, r modulo stride, of the pair of bytes of
// lit that text holds least often, as far as commonBytes tells: a pair is
// looked at further wherever a text holds it.
func rarestPair(lit string, r, stride int) int {
	often := func(c byte) int {
		if i := strings.IndexByte(commonBytes, c); i >= 0 {
			return len(commonBytes) + 2 - i
		}
		if 'A' <= c && c <= 'Z' {
			return 1
		}
		return 2
	}
	best, bestOften := r, 0
	for off := r; off+1 < len(lit); off += stride {
		if n := often(lit[off]) * often(lit[off+1]); bestOften == 0 || n < bestOften {
			best, bestOften = off, n
		}
	}
	return best
}

// mayHold reports whether s holds the literal of a pattern where a match
// of it may start. It looks for a mark in s, eight bytes at once, and
// from the first one on at its pairs of bytes (see pairsFrom).
func (red *redactor) mayHold(s string) bool {
	last := len(s) - 8
	if red.markPast == 0 || last < 0 {
		return red.pairsFrom(s, 0)
	}
	i := 0
	for i < last && !red.marked(jsonenc.Load64(s[i:i+8])) {
		i += 8
	}
	if i >= last {
		// The last eight bytes, over some of those looked at.
		if i = last; !red.marked(jsonenc.Load64(s[i:])) {
			return false
		}
	}
	// A literal starts less than longest bytes before its mark.
	return red.pairsFrom(s, max(i-red.longest, 0)&^1)
}

// marked reports whether the eight bytes of x hold a mark.
func (red *redactor) marked(x uint64) bool {
	const highs = 0x8080808080808080
	// A byte of h less one of the bounds, at most 0x80, keeps its high
	// bit exactly when it is at least the bound, and borrows nothing
	// from the next byte. Bytes from 0x80 up, which x has the high bits
	// of, are no marks.
	h := x | highs
	return (h-red.markLo)&^(h-red.markPast)&^x&highs != 0
}

// pairsFrom reports whether s holds the literal of a pattern, from its
// even offset i on, where a match of it may start. It looks at a pair of
// bytes of s every stride bytes, and further only where one is in starts.
func (red *redactor) pairsFrom(s string, i int) bool {
	starts := red.starts
	if starts == nil {
		return len(red.patterns) > 0
	}
	// By index: reslicing what is left costs more on every step.
	if red.stride == 2 {
		// Eight bytes at once: the pairs at 0, 2, 4 and 6.
		for ; i <= len(s)-8; i += 8 {
			w := jsonenc.Load64(s[i : i+8])
			if (starts[w>>6&0x3ff]&(1<<(w&63)) != 0 || starts[w>>22&0x3ff]&(1<<(w>>16&63)) != 0 ||
				starts[w>>38&0x3ff]&(1<<(w>>32&63)) != 0 || starts[w>>54]&(1<<(w>>48&63)) != 0) &&
				red.holdsAt(s, i, 8) {
				return true
			}
		}
	}
	for j, k := i+1, red.stride; j < len(s); j += k {
		v := uint(s[j-1]) | uint(s[j])<<8
		if starts[v/64]&(1<<(v%64)) != 0 && red.holdsAt(s, j-1, 1) {
			return true
		}
	}
	return false
}

// holdsAt is mayHold for the pairs of s at the n bytes from from.
func (red *redactor) holdsAt(s string, from, n int) bool {
	for p := from; p < from+n && p+1 < len(s); p += red.stride {
		v := uint16(s[p]) | uint16(s[p+1])<<8
		if red.starts[v/64]&(1<<(v%64)) == 0 {
			continue
		}
		for _, in := range red.in {
			if in.pair == v && p >= in.off && red.patterns[in.of].at(s, p-in.off) {
				return true
			}
		}
	}
	return false
}

// secretKey reports whether the value of key is hidden.
func (red *redactor) secretKey(key string) bool {
	if red.ascii {
		// Then only a key of one of their shapes can match.
		if key == "" {
			return false
		}
		if v := keyShape(key); red.shapes[v/64]&(1<<(v%64)) == 0 {
			return false
		}
	}
	for _, k := range red.keys {
		if strings.EqualFold(key, k) {
			return true
		}
	}
	return false
}

// keyShapes is the number of shapes of keys that keyShape tells apart.
const keyShapes = 4096

// keyShape returns a number for the length and the first and last bytes,
// in any case, of key, not empty: texts of different shapes are never
// equal under case folding, nor is a text equal to a key unless it has one
// of the shapes foldShapes gives the key.
func keyShape(key string) uint {
	// c|0x20 is c in lower case, for a letter; other bytes may share it
	// with another, which costs only a look at the keys. Widened first,
	// the bytes need no second zero extension.
	first, last := uint(key[0])|0x20, uint(key[len(key)-1])|0x20
	return (uint(len(key))<<6 ^ first<<3 ^ last) % keyShapes
}

// foldShapes calls add with the shape of every text that equals key, in
// lower-case ASCII, under case folding: the only other letters that fold
// to ASCII ones are ſ, to s, and the Kelvin sign K, to k, longer in UTF-8.
// It reports false, and adds nothing, when there are too many of them.
func foldShapes(key string, add func(uint)) bool {
	var at []int // of the letters that have a non-ASCII fold
	for i := 0; i < len(key); i++ {
		if key[i] == 's' || key[i] == 'k' {
			at = append(at, i)
		}
	}
	if len(at) > 10 {
		return false
	}
	for mask := 0; mask < 1<<len(at); mask++ {
		b := []byte(key)
		for j := len(at) - 1; j >= 0; j-- {
			if mask&(1<<j) == 0 {
				continue
			}
			i := at[j]
			fold := "ſ"
			if key[i] == 'k' {
				fold = "\u212a"
			}
			b = slices.Concat(b[:i:i], []byte(fold), b[i+1:])
		}
		add(keyShape(string(b)))
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// redact returns s with the secrets the patterns find hidden, and how
// many it hid; s itself when there are none.
func (red *redactor) redact(s string) (string, int) {
	if !red.mayHold(s) {
		return s, 0
	}
	n := 0
	for _, p := range red.patterns {
		if p.literal != "" && !strings.Contains(s, p.literal) {
			continue
		}
		var hid int
		s, hid = p.replace(s)
		n += hid
	}
	return s, n
}

// replace hides the matches of p in s: the first group of each, if the
// pattern has groups.
func (p pattern) replace(s string) (string, int) {
	ms := p.re.FindAllStringSubmatchIndex(s, -1)
	if ms == nil {
		return s, 0
	}
	var b strings.Builder
	done, n := 0, 0
	for _, m := range ms {
		from, to := m[0], m[1]
		if len(m) > 2 {
			from, to = m[2], m[3]
		}
		if from < done || from == to {
			continue // the group did not take part
		}
		b.WriteString(s[done:from])
		b.WriteString(Redacted)
		done = to
		n++
	}
	b.WriteString(s[done:])
	return b.String(), n
}
