package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/slogwf/slogwf"
	"github.com/slogwf/slogwf/internal/jsonenc"
)

// maxJSONDepth is how deep encoding/json reads JSON: no deeper, so that
// the walks of a tree file, whose depth it bounds, stay short. Tree files
// nest scopes at most 100 deep.
const maxJSONDepth = 10000

// errTooDeep says that a tree file nests deeper than maxJSONDepth.
var errTooDeep = fmt.Errorf("JSON nested more than %d levels deep: not a tree file or journal", maxJSONDepth)

// decodeTreeFile decodes the tree file r as it reads it: every node, and of
// the records only those that keep takes (none when keep is nil); it
// counts the others. So a command holds the records it prints, not the
// whole file.
func decodeTreeFile(r io.Reader, keep func(*treeRecord) bool) (*treeNode, error) {
	d := json.NewDecoder(r)
	td := treeDecoder{d: d, keep: keep}
	root := new(treeNode)
	if err := td.node(root, 0); errors.Is(err, errTooDeep) {
		return nil, err
	} else if err != nil {
		return nil, fmt.Errorf("not a tree file: %w", err)
	}
	if root.Schema != slogwf.Schema {
		return nil, fmt.Errorf("not a %s tree file (schema %s)", slogwf.Schema, strconv.Quote(root.Schema))
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("not a tree file: more after its end")
	}
	return root, nil
}

// treeDecoder decodes the nodes of a tree file, one member at a time.
type treeDecoder struct {
	d     *json.Decoder
	keep  func(*treeRecord) bool
	heads [][]byte // the members of a node but its records and children, by depth
}

// node decodes the next node into n, depth levels below the root.
func (td *treeDecoder) node(n *treeNode, depth int) error {
	if depth > maxJSONDepth {
		return errTooDeep
	}
	if err := td.delim('{'); err != nil {
		return err
	}
	// A buffer per depth, reused: the children of a node come in the
	// middle of its members.
	if depth == len(td.heads) {
		td.heads = append(td.heads, nil)
	}
	head := append(td.heads[depth][:0], '{')
	for td.d.More() {
		tok, err := td.d.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		switch key {
		case "records":
			err = td.records(n)
		case "iterations", "interactions", "actions":
			err = td.children(n, key, depth)
		default:
			var v json.RawMessage
			if err = td.d.Decode(&v); err == nil {
				head = jsonenc.AppendString(head, key)
				head = append(head, ':')
				head = append(head, v...)
				head = append(head, ',')
			}
		}
		if err != nil {
			return err
		}
	}
	if err := td.delim('}'); err != nil {
		return err
	}
	if len(head) > 1 {
		head = head[:len(head)-1] // the last comma
	}
	head = append(head, '}')
	td.heads[depth] = head
	return json.Unmarshal(head, n)
}

// records decodes the records array of n.
func (td *treeDecoder) records(n *treeNode) error {
	if err := td.delim('['); err != nil {
		return err
	}
	for td.d.More() {
		if td.keep == nil {
			var skip struct{}
			if err := td.d.Decode(&skip); err != nil {
				return err
			}
			n.skipped++
			continue
		}
		var r treeRecord
		if err := td.d.Decode(&r); err != nil {
			return err
		}
		if td.keep(&r) {
			n.Records = append(n.Records, r)
		} else {
			n.skipped++
		}
	}
	return td.delim(']')
}

// children decodes the array of n's children named key.
func (td *treeDecoder) children(n *treeNode, key string, depth int) error {
	if err := td.delim('['); err != nil {
		return err
	}
	var list []treeNode
	for td.d.More() {
		list = append(list, treeNode{})
		if err := td.node(&list[len(list)-1], depth+1); err != nil {
			return err
		}
	}
	switch key {
	case "iterations":
		n.Iterations = list
	case "interactions":
		n.Interactions = list
	default:
		n.Actions = list
	}
	return td.delim(']')
}

// delim reads the delimiter want.
func (td *treeDecoder) delim(want json.Delim) error {
	tok, err := td.d.Token()
	if err != nil {
		return err
	}
	if tok != want {
		return fmt.Errorf("%v where %v belongs", tok, want)
	}
	return nil
}

// treeHeadLimit bounds the head of a tree file: its workflow's members
// before its records, attributes, input and output among them.
const treeHeadLimit = 16 << 20

// treeHead is a tree file's workflow as its head says, or the first line
// of a journal. ls -json prints it.
type treeHead struct {
	Schema     string          `json:"schema"`
	Ev         string          `json:"ev,omitempty"` // of a journal line
	Kind       string          `json:"kind"`
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	Status     string          `json:"status"`
	Start      string          `json:"start"`
	End        string          `json:"end,omitempty"`
	DurationMS *float64        `json:"duration_ms"`
	Usage      treeUsage       `json:"usage"`
	Counts     treeCounts      `json:"counts"`
	Loss       json.RawMessage `json:"loss"` // as it is: later versions may add members
}

// errNoHead says that readHead found no head in a JSON object that may
// still be a tree file: one that does not start with "schema" or "ev", as
// tree files and journal lines do, or whose head is longer than
// treeHeadLimit (its attributes, input and output unbounded, say). It is
// read whole.
var errNoHead = errors.New("a JSON object whose head is not as slogwf writes it")

// readHead reads the head of the JSON object that r starts with, a tree
// file as slogwf writes it or a journal line: its members up to the first
// that holds a workflow's records or children, or the whole object, at
// most treeHeadLimit bytes. It returns the head as a JSON object, and all
// the bytes it read of r (which may go on past the head). An object whose
// first member is neither "schema" nor "ev" it does not read further: it
// returns errNoHead, and so it does for a head longer than treeHeadLimit.
func readHead(r *bufio.Reader) (head, read []byte, err error) {
	var s headScan
	for {
		if r.Buffered() == 0 {
			if _, err := r.Peek(1); err != nil {
				if errors.Is(err, io.EOF) {
					err = io.ErrUnexpectedEOF
				}
				return nil, read, err
			}
		}
		chunk, _ := r.Peek(min(r.Buffered(), treeHeadLimit-len(read)))
		read = append(read, chunk...)
		r.Discard(len(chunk))
		if end, ok := s.scan(read); ok {
			return end, read, nil
		}
		if s.other || !s.bad && s.names > 0 && len(read) >= treeHeadLimit {
			return nil, read, errNoHead
		}
		if s.bad || len(read) >= treeHeadLimit {
			return nil, read, fmt.Errorf("no JSON object that ends in its first %d MiB", treeHeadLimit>>20)
		}
	}
}

// headScan finds the head of a JSON object as its bytes come: see
// readHead.
type headScan struct {
	i, depth          int
	inString, escaped bool
	name              bool // the string read is a member's name, at depth 1
	nameAt, sep       int  // where that name starts, and the '{' or ',' before it
	names             int  // names read at depth 1
	bad               bool // not a JSON object
	other             bool // its first member is neither "schema" nor "ev"
}

// scan goes on over b, which starts with what it scanned before, and
// returns the head once it is in b.
func (s *headScan) scan(b []byte) ([]byte, bool) {
	for ; s.i < len(b); s.i++ {
		c := b[s.i]
		if s.inString {
			switch {
			case s.escaped:
				s.escaped = false
			case c == '\\':
				s.escaped = true
			case c == '"':
				s.inString = false
				if s.name {
					s.name = false
					s.names++
					name := string(b[s.nameAt+1 : s.i])
					if s.names == 1 && name != "schema" && name != "ev" {
						s.other = true
						return nil, false
					}
					switch name {
					case "records", "iterations", "interactions", "actions":
						if b[s.sep] == '{' {
							return []byte("{}"), true
						}
						return append(bytes.Clone(b[:s.sep]), '}'), true
					}
				}
			}
			continue
		}
		switch c {
		case '"':
			s.inString = true
			if s.depth == 1 && s.name {
				s.nameAt = s.i
			} else {
				s.name = false
			}
		case '{', '[':
			if s.depth == 0 && c != '{' {
				s.bad = true
				return nil, false
			}
			s.depth++
			if s.depth == 1 {
				s.sep, s.name = s.i, true
			}
		case '}', ']':
			s.depth--
			if s.depth == 0 {
				return b[: s.i+1 : s.i+1], true
			}
		case ',':
			if s.depth == 1 {
				s.sep, s.name = s.i, true
			}
		case ' ', '\t', '\r', '\n':
		default:
			if s.depth == 0 {
				s.bad = true
				return nil, false
			}
		}
	}
	return nil, false
}
