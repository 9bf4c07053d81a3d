package main

import "unicode/utf8"

// closeCut returns the JSON object that b starts, cut short, closed so that
// it decodes: a string value cut in its middle ends with "…", a member cut
// before its value is dropped, and the objects and arrays left open are
// closed. b itself is not changed. closeCut returns nil when b does not
// start with an object.
func closeCut(b []byte) []byte {
	type level struct {
		obj bool // an object, else an array
		key bool // an object's next string is a member's name
	}
	if len(b) == 0 || b[0] != '{' {
		return nil
	}
	var stack []level
	safe, safeDepth := 0, 0 // b[:safe] ends a whole value, with safeDepth levels open
	inString, escaped, start := false, false, 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
				if top := &stack[len(stack)-1]; top.obj && top.key {
					top.key = false
				} else {
					safe, safeDepth = i+1, len(stack)
				}
			}
			continue
		}
		switch c {
		case '"':
			inString, start = true, i
		case '{', '[':
			stack = append(stack, level{obj: c == '{', key: c == '{'})
			safe, safeDepth = i+1, len(stack)
		case '}', ']':
			stack = stack[:len(stack)-1]
			safe, safeDepth = i+1, len(stack)
			if len(stack) == 0 {
				return b[: i+1 : i+1] // whole
			}
		case ',':
			safe, safeDepth = i, len(stack)
			if top := &stack[len(stack)-1]; top.obj {
				top.key = true
			}
		}
	}
	var out []byte
	if top := len(stack) - 1; inString && !(stack[top].obj && stack[top].key) {
		out = append(out, b[:start+1+wholeChars(b[start+1:])]...)
		out = append(out, "…\""...)
	} else {
		out = append(out, b[:safe]...)
		stack = stack[:safeDepth]
	}
	for i := len(stack) - 1; i >= 0; i-- {
		if stack[i].obj {
			out = append(out, '}')
		} else {
			out = append(out, ']')
		}
	}
	return out
}

// wholeChars returns the length of the part of s, the inside of a JSON
// string cut short, that ends with a whole character: no escape sequence
// nor UTF-8 encoding is split.
func wholeChars(s []byte) int {
	n := 0
	for n < len(s) {
		size := 1
		switch {
		case s[n] == '\\' && n+1 < len(s) && s[n+1] == 'u':
			size = 6
		case s[n] == '\\':
			size = 2
		case s[n] >= utf8.RuneSelf:
			if !utf8.FullRune(s[n:]) {
				return n
			}
			_, size = utf8.DecodeRune(s[n:])
		}
		if n+size > len(s) {
			return n
		}
		n += size
	}
	return n
}
