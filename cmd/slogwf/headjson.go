package main

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/slogwf/slogwf"
)

// decodeHead decodes the head of a tree file into h. ls reads many
// thousands: the heads that slogwf writes (no spaces, no escapes in the
// members it reads, numbers as it writes them) it decodes without
// reflection, at a fraction of the cost; any other it leaves to
// encoding/json, which gives the same result.
func decodeHead(b []byte, h *treeHead) error {
	var fast treeHead
	if (&headDecoder{b: b}).object(&fast) {
		*h = fast
		return nil
	}
	*h = treeHead{}
	return json.Unmarshal(b, h)
}

// headDecoder decodes the head of a tree file as slogwf writes it; each
// method reports false at anything else.
type headDecoder struct {
	b []byte
	i int
}

func (d *headDecoder) byte(c byte) bool {
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// members calls member on each member of the object next, with its name,
// the value coming next.
func (d *headDecoder) members(member func(name string) bool) bool {
	if !d.byte('{') {
		return false
	}
	if d.byte('}') {
		return true
	}
	for {
		name, ok := d.string()
		if !ok || !d.byte(':') || !member(name) {
			return false
		}
		if d.byte('}') {
			return true
		}
		if !d.byte(',') {
			return false
		}
	}
}

func (d *headDecoder) object(h *treeHead) bool {
	ok := d.members(func(name string) bool {
		switch name {
		case "schema":
			return d.into(&h.Schema)
		case "ev":
			return d.into(&h.Ev)
		case "kind":
			return d.into(&h.Kind)
		case "id":
			return d.into(&h.ID)
		case "name":
			return d.into(&h.Name)
		case "status":
			return d.into(&h.Status)
		case "start":
			return d.into(&h.Start)
		case "end":
			return d.into(&h.End)
		case "duration_ms":
			f, ok := d.float()
			h.DurationMS = &f
			return ok
		case "usage":
			u := &h.Usage
			return d.members(func(name string) bool {
				switch name {
				case "llm_calls":
					return d.int(&u.Calls)
				case "input_tokens":
					return d.int(&u.In)
				case "cached_input_tokens":
					return d.int(&u.Cached)
				case "cache_write_input_tokens":
					return d.int(&u.CacheWrite)
				case "output_tokens":
					return d.int(&u.Out)
				case "total_tokens":
					return d.int(&u.TotalTokens)
				case "cost_usd":
					f, ok := d.float()
					u.CostUSD = f
					return ok
				}
				return d.skipOther(name, "llm_calls", "input_tokens", "cached_input_tokens", "cache_write_input_tokens", "output_tokens", "total_tokens", "cost_usd")
			})
		case "counts":
			c := &h.Counts
			return d.members(func(name string) bool {
				switch name {
				case "records":
					return d.int(&c.Records)
				case "warnings":
					return d.int(&c.Warnings)
				case "semantic":
					return d.int(&c.Semantic)
				case "errors":
					return d.int(&c.Errors)
				}
				return d.skipOther(name, "records", "warnings", "semantic", "errors")
			})
		case "loss":
			start := d.i
			ok := d.skip()
			h.Loss = bytes.Clone(d.b[start:d.i])
			return ok
		}
		return d.skipOther(name, "schema", "ev", "kind", "id", "name", "status", "start", "end", "duration_ms", "usage", "counts", "loss")
	})
	return ok && d.i == len(d.b)
}

// skipOther skips the value of the member name, unless encoding/json
// would take name for one of known: it matches names regardless of case.
func (d *headDecoder) skipOther(name string, known ...string) bool {
	for _, k := range known {
		if strings.EqualFold(name, k) {
			return false
		}
	}
	return d.skip()
}

// string reads a string without escapes.
func (d *headDecoder) string() (string, bool) {
	if !d.byte('"') {
		return "", false
	}
	end := bytes.IndexByte(d.b[d.i:], '"')
	if end < 0 {
		return "", false
	}
	s := d.b[d.i : d.i+end]
	for _, c := range s {
		if c == '\\' || c < 0x20 || c >= 0x80 {
			return "", false // escapes, and UTF-8 to check: encoding/json's
		}
	}
	d.i += end + 1
	for _, common := range commonValues {
		if string(s) == common {
			return common, true
		}
	}
	return string(s), true
}

// commonValues are the values that most heads hold, kept once.
var commonValues = []string{slogwf.Schema, "workflow", "completed", "failed", "running", "incomplete"}

func (d *headDecoder) into(s *string) bool {
	v, ok := d.string()
	*s = v
	return ok
}

// number returns the bytes of the number next.
func (d *headDecoder) number() []byte {
	start := d.i
	for d.i < len(d.b) && bytes.IndexByte([]byte("-+.eE0123456789"), d.b[d.i]) >= 0 {
		d.i++
	}
	return d.b[start:d.i]
}

// int reads an integer of up to 18 digits, as JSON writes it.
func (d *headDecoder) int(n *int64) bool {
	num := d.number()
	digits := bytes.TrimPrefix(num, []byte("-"))
	if len(digits) == 0 || len(digits) > 18 || digits[0] == '0' && len(digits) > 1 {
		return false
	}
	var v int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
		v = v*10 + int64(c-'0')
	}
	if len(digits) < len(num) {
		v = -v
	}
	*n = v
	return true
}

func (d *headDecoder) float() (float64, bool) {
	num := d.number()
	if !json.Valid(num) {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(num), 64)
	return f, err == nil
}

// skip skips the value next, whatever it is, if it is valid JSON.
func (d *headDecoder) skip() bool {
	start := d.i
	return d.skipValue() && json.Valid(d.b[start:d.i])
}

// skipValue skips the value next, up to the ',' or '}' after it.
func (d *headDecoder) skipValue() bool {
	depth := 0
	for d.i < len(d.b) {
		switch c := d.b[d.i]; c {
		case '"':
			d.i++
			for d.i < len(d.b) && d.b[d.i] != '"' {
				if d.b[d.i] == '\\' {
					d.i++
				}
				d.i++
			}
			if d.i >= len(d.b) {
				return false
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return true // the end of the object the value is in
			}
			depth--
		case ',':
			if depth == 0 {
				return true
			}
		case ' ', '\t', '\r', '\n':
			return false
		}
		d.i++
	}
	return false
}
