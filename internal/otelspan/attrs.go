package otelspan

import (
	"bytes"
	"encoding/json"

	"go.opentelemetry.io/otel/attribute"

	"github.com/slogwf/slogwf/internal/tree"
)

// flatten appends the members of the JSON object j as attributes, nested
// objects as dotted keys (tokens.input), in their order, each key once
// (see unique). Top-level keys for which skip reports true are left out;
// so are nulls.
func flatten(kv []attribute.KeyValue, j []byte, skip func(string) bool) []attribute.KeyValue {
	return unique(appendMembers(kv, "", j, skip), len(kv))
}

func appendMembers(kv []attribute.KeyValue, prefix string, j []byte, skip func(string) bool) []attribute.KeyValue {
	if len(j) == 0 {
		return kv
	}
	_ = tree.DecodeMembers(j, func(k string, v json.RawMessage) {
		if skip != nil && skip(k) {
			return
		}
		key := prefix + k
		if len(v) > 0 && v[0] == '{' {
			kv = appendMembers(kv, key+".", v, nil)
			return
		}
		if a, ok := value(key, v); ok {
			kv = append(kv, a)
		}
	})
	return kv
}

// fewAttrs is how many attributes unique looks through rather than index:
// a span has a few dozen.
const fewAttrs = 64

// unique leaves one attribute of each key, as OpenTelemetry requires of a
// span's and an event's attributes. Those of kv[:mapped], which slogwf
// mapped from its own fields, stay: the span's name and the tree's totals
// say the same. Of the scope's, kv[mapped:], an attribute goes when
// slogwf's have its key or a later one has it ("k" twice, or "a.b" and
// "a":{"b"}), as encoding/json keeps the last.
func unique(kv []attribute.KeyValue, mapped int) []attribute.KeyValue {
	out := kv[:mapped]
	if len(kv) <= fewAttrs {
		for i, a := range kv[mapped:] {
			if !hasKey(kv[:mapped], a.Key) && !hasKey(kv[mapped+i+1:], a.Key) {
				out = append(out, a) // in a's place at most: those after it are still to look through
			}
		}
		return out
	}
	kept := make(map[attribute.Key]int, len(kv)) // the index of each key's attribute that stays
	for i, a := range kv {
		if j, ok := kept[a.Key]; !ok || j >= mapped {
			kept[a.Key] = i
		}
	}
	for i, a := range kv[mapped:] {
		if kept[a.Key] == mapped+i {
			out = append(out, a)
		}
	}
	return out
}

func hasKey(kv []attribute.KeyValue, k attribute.Key) bool {
	for _, a := range kv {
		if a.Key == k {
			return true
		}
	}
	return false
}

// value returns the attribute of a JSON value that is not an object: an
// array of strings, bools or numbers as a slice, any other array as its JSON.
func value(key string, v json.RawMessage) (attribute.KeyValue, bool) {
	var x any
	d := json.NewDecoder(bytes.NewReader(v))
	d.UseNumber()
	if len(v) == 0 || d.Decode(&x) != nil {
		return attribute.KeyValue{}, false
	}
	switch x := x.(type) {
	case nil:
		return attribute.KeyValue{}, false
	case string:
		return attribute.String(key, x), true
	case bool:
		return attribute.Bool(key, x), true
	case json.Number:
		return number(key, x), true
	case []any:
		if a, ok := slice(key, x); ok {
			return a, true
		}
	}
	return attribute.String(key, string(v)), true
}

func number(key string, n json.Number) attribute.KeyValue {
	if i, err := n.Int64(); err == nil {
		return attribute.Int64(key, i)
	}
	f, _ := n.Float64()
	return attribute.Float64(key, f)
}

// slice returns an array whose elements are all strings, all bools or all
// numbers as a slice attribute.
func slice(key string, xs []any) (attribute.KeyValue, bool) {
	if len(xs) == 0 {
		return attribute.KeyValue{}, false
	}
	switch xs[0].(type) {
	case string:
		return typed(key, xs, attribute.StringSlice)
	case bool:
		return typed(key, xs, attribute.BoolSlice)
	case json.Number:
		ints := make([]int64, len(xs))
		for i, x := range xs {
			n, ok := x.(json.Number)
			if !ok {
				return attribute.KeyValue{}, false
			}
			v, err := n.Int64()
			if err != nil {
				return floats(key, xs)
			}
			ints[i] = v
		}
		return attribute.Int64Slice(key, ints), true
	}
	return attribute.KeyValue{}, false
}

func typed[T any](key string, xs []any, f func(string, []T) attribute.KeyValue) (attribute.KeyValue, bool) {
	ts := make([]T, len(xs))
	for i, x := range xs {
		t, ok := x.(T)
		if !ok {
			return attribute.KeyValue{}, false
		}
		ts[i] = t
	}
	return f(key, ts), true
}

func floats(key string, xs []any) (attribute.KeyValue, bool) {
	fs := make([]float64, len(xs))
	for i, x := range xs {
		n, ok := x.(json.Number)
		if !ok {
			return attribute.KeyValue{}, false
		}
		fs[i], _ = n.Float64()
	}
	return attribute.Float64Slice(key, fs), true
}
