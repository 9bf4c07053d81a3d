package slogwf

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"
)

// A journal holds one event per line, append-only:
//
//	{"ev":"start","wf":W,"id":ID,"parent":P,"kind":K,"time":T,"name"|"number"|"agent":…,"attrs":{…},"input":…,"usage":{…}}
//	{"ev":"record","wf":W,"scope":ID,"usage":{…},"time":T,"level":L,"msg":M,"semantic":true,"attrs":{…}}
//	{"ev":"end","wf":W,"id":ID,"time":T,"status":S,"error":E,"attrs":{…},"output":…,"usage":{…}}
//
// Optional members are left out when empty. A record line ends with the
// record as the tree holds it (from "time" on), so the handler encodes a
// record once for both.

const (
	evStart  = "start"
	evRecord = "record"
	evEnd    = "end"
)

// entry is one journal line, decoded.
type entry struct {
	Ev       string          `json:"ev"`
	Wf       string          `json:"wf"`
	ID       string          `json:"id"`
	Scope    string          `json:"scope"`
	Parent   string          `json:"parent"`
	Kind     string          `json:"kind"`
	Time     string          `json:"time"`
	Name     string          `json:"name"`
	Agent    string          `json:"agent"`
	Number   int64           `json:"number"`
	Status   string          `json:"status"`
	Error    string          `json:"error"`
	Level    string          `json:"level"`
	Msg      string          `json:"msg"`
	Semantic bool            `json:"semantic"`
	Attrs    json.RawMessage `json:"attrs"`
	Input    json.RawMessage `json:"input"`
	Output   json.RawMessage `json:"output"`
	Usage    *usageJSON      `json:"usage"`

	level slog.Level // of a record
	body  []byte     // of a record: the tree's record without its braces
	use   usage      // of a live record
}

type usageJSON struct {
	Calls  int64   `json:"llm_calls"`
	In     int64   `json:"input_tokens"`
	Cached int64   `json:"cached_input_tokens"`
	Out    int64   `json:"output_tokens"`
	Cost   float64 `json:"cost_usd"`
}

func (e *entry) usage() usage {
	if u := e.Usage; u != nil {
		return usage{calls: u.Calls, in: u.In, cached: u.Cached, out: u.Out, cost: toNano(u.Cost)}
	}
	return e.use
}

// decodeEntry decodes one journal line.
func decodeEntry(line []byte) (*entry, error) {
	e := new(entry)
	if err := json.Unmarshal(line, e); err != nil {
		return nil, err
	}
	if e.Wf == "" {
		return nil, errors.New(`no "wf"`)
	}
	t, err := time.Parse(time.RFC3339Nano, e.Time)
	if err != nil {
		return nil, fmt.Errorf(`bad "time": %w`, err)
	}
	if len(e.Time) != len(timeLayout)-len("07:00")+1 || e.Time[len(e.Time)-1] != 'Z' {
		e.Time = t.UTC().Format(timeLayout) // the tree sorts times as strings
	}
	switch {
	case string(e.Attrs) == "null":
		e.Attrs = nil
	case len(e.Attrs) > 0 && e.Attrs[0] != '{':
		return nil, errors.New(`"attrs" is not an object`)
	}
	switch e.Ev {
	case evStart, evEnd:
		if e.ID == "" {
			return nil, errors.New(`no "id"`)
		}
	case evRecord:
		if e.Scope == "" {
			return nil, errors.New(`no "scope"`)
		}
		l, err := ParseLevel(e.Level)
		if err != nil {
			return nil, err
		}
		e.level = l
		e.body = appendBody(nil, e)
	default:
		return nil, fmt.Errorf(`unknown "ev" %q`, e.Ev)
	}
	return e, nil
}

// appendBody appends the record of e as the handler wrote it.
func appendBody(b []byte, e *entry) []byte {
	b = append(b, `"time":`...)
	b = appendString(b, e.Time)
	b = appendBodyHead(b, e.level, e.Msg, e.Semantic)
	if len(e.Attrs) > 0 {
		b = append(b, `,"attrs":`...)
		b = append(b, e.Attrs...)
	}
	return b
}

// appendBodyHead appends the members of a record after its time.
func appendBodyHead(b []byte, l slog.Level, msg string, semantic bool) []byte {
	b = append(b, `,"level":`...)
	b = appendString(b, LevelName(l))
	b = append(b, `,"msg":`...)
	b = appendString(b, msg)
	if semantic {
		b = append(b, `,"semantic":true`...)
	}
	return b
}

// appendRecordHead appends a record line up to its body.
func appendRecordHead(b []byte, wf, scope string, u usage) []byte {
	b = append(b, `{"ev":"record","wf":`...)
	b = appendString(b, wf)
	b = append(b, `,"scope":`...)
	b = appendString(b, scope)
	b = appendUsageMember(b, u)
	return append(b, ',')
}

func appendUsageMember(b []byte, u usage) []byte {
	if u == (usage{}) {
		return b
	}
	b = append(b, `,"usage":`...)
	return appendUsage(b, u)
}

// appendEndHead appends an end line up to its status and error.
func appendEndHead(b []byte, wf, id string, t time.Time, status, errText string) []byte {
	b = append(b, `{"ev":"end","wf":`...)
	b = appendString(b, wf)
	b = append(b, `,"id":`...)
	b = appendString(b, id)
	b = append(b, `,"time":`...)
	b = appendTime(b, t)
	b = append(b, `,"status":`...)
	b = appendString(b, status)
	if errText != "" {
		b = append(b, `,"error":`...)
		b = appendString(b, errText)
	}
	return b
}

// appendEventLine appends the journal line of a scope's start or end, with
// the attributes of its record r.
func appendEventLine(b []byte, ev *event, r slog.Record) []byte {
	s := ev.scope
	var errText string
	var input, output *slog.Value
	var m meta
	e := attrEncoder{}
	r.Attrs(func(a slog.Attr) bool {
		a.Value = a.Value.Resolve()
		switch a.Key {
		case InputKey:
			input = &a.Value
			return true
		case OutputKey:
			output = &a.Value
			return true
		case ErrorKey:
			errText = valueText(a.Value)
			return true
		}
		if !m.read(a) {
			e.attr(a)
		}
		return true
	})
	if ev.end {
		b = appendEndHead(b, s.wf.id, s.id, r.Time, ev.status, errText)
	} else {
		b = append(b, `{"ev":"start","wf":`...)
		b = appendString(b, s.wf.id)
		b = append(b, `,"id":`...)
		b = appendString(b, s.id)
		if s.parent != nil {
			b = append(b, `,"parent":`...)
			b = appendString(b, s.parent.id)
		}
		b = append(b, `,"kind":"`...)
		b = append(b, s.kind.String()...)
		b = append(b, `","time":`...)
		b = appendTime(b, r.Time)
		switch s.kind {
		case KindIteration:
			b = append(b, `,"number":`...)
			b = strconv.AppendInt(b, s.number, 10)
		case KindInteraction:
			b = append(b, `,"agent":`...)
			b = appendString(b, s.name)
		default:
			b = append(b, `,"name":`...)
			b = appendString(b, s.name)
		}
	}
	if len(e.b) > 0 {
		b = append(b, `,"attrs":{`...)
		b = append(b, e.b...)
		b = append(b, '}')
	}
	if input != nil {
		b = append(b, `,"input":`...)
		b = appendValue(b, *input)
	}
	if output != nil {
		b = append(b, `,"output":`...)
		b = appendValue(b, *output)
	}
	b = appendUsageMember(b, m.usage)
	return append(b, '}', '\n')
}

// valueText returns v as text: an error's message, a string as is.
func valueText(v slog.Value) string {
	if v.Kind() == slog.KindAny {
		return anyText(v.Any())
	}
	return v.String()
}
