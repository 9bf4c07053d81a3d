package slogwf

import (
	"regexp"
	"slices"
	"strings"
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
	// group, only the first group's part of it is.
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

// pattern is a regexp of a secret and a literal that every match holds:
// text without it is not searched, which keeps the common case to a few
// fast substring scans.
type pattern struct {
	literal string
	re      *regexp.Regexp
}

// builtinPatterns never change; each literal is the start of its matches.
var builtinPatterns = []pattern{
	{"sk-", regexp.MustCompile(`\bsk-(?:ant-)?[A-Za-z0-9_-]{20,}`)},
	{"AKIA", regexp.MustCompile(`\bAKIA[0-9A-Z]{16}\b`)},
	{"ghp_", regexp.MustCompile(`\bghp_[A-Za-z0-9]{20,}`)},
	{"github_pat_", regexp.MustCompile(`\bgithub_pat_[A-Za-z0-9_]{20,}`)},
	{"Bearer ", regexp.MustCompile(`\bBearer +([A-Za-z0-9._~+/=-]+)`)},
	{"-----BEGIN", regexp.MustCompile(`-----BEGIN[A-Z ]*PRIVATE KEY-----(?:[\s\S]*?-----END[A-Z ]*PRIVATE KEY-----|[\s\S]*)`)},
}

// redactor applies a Redaction.
type redactor struct {
	keys  []string // lower case
	ascii bool     // every key is ASCII, and none is empty
	// shapes holds a bit for the length, first and last bytes of each key
	// (see keyShape), when ascii: most keys match none.
	shapes   [keyShapes / 64]uint64
	patterns []pattern
	// starts holds the first two bytes of every literal, when every
	// pattern has a literal of two bytes or more: a short text with none
	// of them holds no secret, found in one pass.
	starts *[1 << 16 / 64]uint64
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
		red.ascii = red.ascii && k != "" && len(k) < 64 && isASCII(k)
	}
	for _, k := range red.keys {
		if k != "" && len(k) < 64 {
			v := keyShape(k)
			red.shapes[v/64] |= 1 << (v % 64)
		}
	}
	if !o.NoDefaultPatterns {
		red.patterns = append(red.patterns, builtinPatterns...)
	}
	for _, re := range o.Patterns {
		lit, _ := re.LiteralPrefix()
		red.patterns = append(red.patterns, pattern{lit, re})
	}
	red.starts = new([1 << 16 / 64]uint64)
	for _, p := range red.patterns {
		if len(p.literal) < 2 {
			red.starts = nil
			break
		}
		v := uint16(p.literal[0])<<8 | uint16(p.literal[1])
		red.starts[v/64] |= 1 << (v % 64)
	}
	return red
}

// mayHold reports whether s may hold a literal of the patterns. For a
// short s it looks at each pair of bytes once; a long one the literals'
// own searches scan faster.
func (red *redactor) mayHold(s string) bool {
	if red.starts == nil || len(s) > 256 {
		return true
	}
	for i := 0; i+1 < len(s); i++ {
		v := uint16(s[i])<<8 | uint16(s[i+1])
		if red.starts[v/64]&(1<<(v%64)) != 0 {
			return true
		}
	}
	return false
}

// secretKey reports whether the value of key is hidden.
func (red *redactor) secretKey(key string) bool {
	if red.ascii && isASCII(key) {
		// Then only a key of the same length, first and last letters can match.
		if key == "" || len(key) >= 64 {
			return false
		}
		if v := keyShape(key); red.shapes[v/64]&(1<<(v%64)) == 0 {
			return false
		}
		first := lower(key[0])
		for _, k := range red.keys {
			if len(k) == len(key) && k[0] == first && strings.EqualFold(key, k) {
				return true
			}
		}
		return false
	}
	// Unicode folds some letters to others of another length: ſ to s.
	for _, k := range red.keys {
		if strings.EqualFold(key, k) {
			return true
		}
	}
	return false
}

// keyShapes is the number of shapes of keys that keyShape tells apart.
const keyShapes = 4096

// keyShape returns a number for the length and the first and last
// letters, in any case, of key, an ASCII key shorter than 64 bytes: keys
// of different shapes never match.
func keyShape(key string) uint {
	first, last := uint(lower(key[0])), uint(lower(key[len(key)-1]))
	return (uint(len(key))<<6 ^ first<<3 ^ last) % keyShapes
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
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
	if len(red.patterns) == 0 || !red.mayHold(s) {
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
