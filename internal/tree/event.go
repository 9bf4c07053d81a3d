package tree

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/slogwf/slogwf/internal/jsonenc"
)

// A journal holds one event per line, append-only:
//
//	{"ev":"start","wf":W,"id":ID,"parent":P,"kind":K,"seq":N,"time":T,"name"|"number"|"agent":…,"attrs":{…},"input":…,"usage":{…}}
//	{"ev":"record","wf":W,"scope":ID,"loss":{…},"seq":N,"time":T,"level":L,"msg":M,"semantic":true,"late":true,"usage":{…},"attrs":{…}}
//	{"ev":"end","wf":W,"id":ID,"seq":N,"time":T,"status":S,"error":E,"attrs":{…},"output":…,"usage":{…},"loss":{…}}
//
// Optional members are left out when empty. "loss" counts what cleaning
// took from the line (see Loss). "seq" numbers the lines of one process in
// the order they were logged, so that records of equal times keep that
// order. A line may end with "unwritten":N, the number of lines of its
// workflow that the process could not write before it (a full disk). A
// record line ends with the record as the tree holds it (from "time" on),
// so the handler encodes a record once for both.

// Types of events: the "ev" of a journal line.
const (
	Start  = "start"
	Record = "record"
	End    = "end"
)

// Event is one event of a workflow: a scope's start or end, or a record.
// Decode decodes it from its journal line; the live handler builds it
// beside the line it writes, as Decode would decode it.
type Event struct {
	Type      string          `json:"ev"` // Start, Record or End
	Workflow  string          `json:"wf"` // ID
	ID        string          `json:"id"` // of the scope that starts or ends
	Scope     string          `json:"scope"`
	Parent    string          `json:"parent"`
	Kind      Kind            `json:"kind"`
	Time      string          `json:"time"` // in jsonenc.TimeLayout
	Name      string          `json:"name"`
	Agent     string          `json:"agent"`
	Number    int64           `json:"number"`
	Status    string          `json:"status"`
	Error     string          `json:"error"`
	LevelName string          `json:"level"` // of a record, as its line names it
	Message   string          `json:"msg"`
	Semantic  bool            `json:"semantic"`
	Late      bool            `json:"late"`
	Attrs     json.RawMessage `json:"attrs"`
	Input     json.RawMessage `json:"input"`
	Output    json.RawMessage `json:"output"`
	Usage     Usage           `json:"usage"`
	Loss      Loss            `json:"loss"`
	Seq       uint64          `json:"seq"`
	Unwritten int64           `json:"unwritten"` // added to Loss.Unwritten by Decode

	// Level is the level the event was logged at: a record's own; ERROR
	// for the end of a failed scope, INFO for other starts and ends.
	Level slog.Level `json:"-"`

	// Body is the record of a live record line as the tree holds it,
	// without its braces; a decoded record has none (see AppendBody).
	Body []byte `json:"-"`
}

// Decode decodes one journal line.
func Decode(line []byte) (*Event, error) {
	e := new(Event)
	if err := e.decode(line); err != nil {
		return nil, err
	}
	return e, nil
}

// decode decodes one journal line into e, whatever e held before.
func (e *Event) decode(line []byte) error {
	*e = Event{}
	if err := json.Unmarshal(line, e); err != nil {
		return err
	}
	if e.Workflow == "" {
		return errors.New(`no "wf"`)
	}
	if e.Unwritten > 0 {
		e.Loss.Unwritten = addCount(e.Loss.Unwritten, e.Unwritten)
	}
	e.Unwritten = 0
	t, err := time.Parse(time.RFC3339Nano, e.Time)
	if err != nil {
		return fmt.Errorf(`bad "time": %w`, err)
	}
	if len(e.Time) != len(jsonenc.TimeLayout)-len("Z07:00")+1 || e.Time[len(e.Time)-1] != 'Z' {
		e.Time = t.UTC().Format(jsonenc.TimeLayout) // the tree sorts times as strings
	}
	switch {
	case string(e.Attrs) == "null":
		e.Attrs = nil
	case len(e.Attrs) > 0 && e.Attrs[0] != '{':
		return errors.New(`"attrs" is not an object`)
	}
	switch e.Type {
	case Start, End:
		if e.ID == "" {
			return errors.New(`no "id"`)
		}
		e.Level = slog.LevelInfo
		if e.Type == End && e.Status == StatusFailed {
			e.Level = slog.LevelError
		}
	case Record:
		if e.Scope == "" {
			return errors.New(`no "scope"`)
		}
		l, err := ParseLevel(e.LevelName)
		if err != nil {
			return err
		}
		e.Level = l
	default:
		return fmt.Errorf(`unknown "ev" %q`, e.Type)
	}
	return nil
}

// ScopeKind returns the kind of the scope that e starts, as the tree takes
// it: the scope of the workflow's ID is the workflow, and a scope whose
// kind is unknown, or says workflow without being one, is an action.
func (e *Event) ScopeKind() Kind {
	switch {
	case e.ID == e.Workflow:
		return Workflow
	case e.Kind == 0 || e.Kind == Workflow:
		return Action
	}
	return e.Kind
}

// usageMember is the "usage" of a journal line.
type usageMember struct {
	Calls      int64   `json:"llm_calls"`
	In         int64   `json:"input_tokens"`
	Cached     int64   `json:"cached_input_tokens"`
	CacheWrite int64   `json:"cache_write_input_tokens"`
	Out        int64   `json:"output_tokens"`
	Cost       float64 `json:"cost_usd"`
	Model      string  `json:"model"`
}

// UnmarshalJSON decodes the "usage" of a journal line.
func (u *Usage) UnmarshalJSON(b []byte) error {
	var m usageMember
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*u = Usage{Calls: m.Calls, In: m.In, Cached: m.Cached, CacheWrite: m.CacheWrite, Out: m.Out, Cost: ToNano(m.Cost), Model: m.Model}
	return nil
}

// lossMember is the "loss" of a journal line.
type lossMember struct {
	Dropped   int64 `json:"dropped"`
	Truncated int64 `json:"truncated"`
	Redacted  int64 `json:"redacted"`
	Clamped   int64 `json:"clamped"`
	Unwritten int64 `json:"unwritten"`
}

// UnmarshalJSON decodes the "loss" of a journal line.
func (l *Loss) UnmarshalJSON(b []byte) error {
	var m lossMember
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*l = Loss(m)
	return nil
}

// AppendLoss appends l as a JSON object.
func AppendLoss(b []byte, l Loss) []byte {
	b = append(b, `{"dropped":`...)
	b = strconv.AppendInt(b, l.Dropped, 10)
	b = append(b, `,"truncated":`...)
	b = strconv.AppendInt(b, l.Truncated, 10)
	b = append(b, `,"redacted":`...)
	b = strconv.AppendInt(b, l.Redacted, 10)
	b = append(b, `,"clamped":`...)
	b = strconv.AppendInt(b, l.Clamped, 10)
	b = append(b, `,"unwritten":`...)
	b = strconv.AppendInt(b, l.Unwritten, 10)
	return append(b, '}')
}

// AppendLossMember appends l as the member "loss" when it counts anything.
func AppendLossMember(b []byte, l Loss) []byte {
	if l == (Loss{}) {
		return b
	}
	b = append(b, `,"loss":`...)
	return AppendLoss(b, l)
}

// AppendUsageMember appends u as the member "usage" when it counts
// anything.
func AppendUsageMember(b []byte, u Usage) []byte {
	if u == (Usage{}) {
		return b
	}
	b = append(b, `,"usage":`...)
	return AppendUsage(b, u)
}

// AppendBody appends the record of e, decoded, as the handler wrote it.
func AppendBody(b []byte, e *Event) []byte {
	b = append(b, `"time":`...)
	b = jsonenc.AppendString(b, e.Time)
	b = AppendBodyHead(b, e.Level, e.Message, e.Semantic, e.Late, e.Usage)
	if len(e.Attrs) > 0 {
		b = append(b, `,"attrs":`...)
		b = append(b, e.Attrs...)
	}
	return b
}

// AppendBodyHead appends the members of a record after its time and
// before its attrs.
func AppendBodyHead(b []byte, l slog.Level, msg string, semantic, late bool, u Usage) []byte {
	b = append(b, `,"level":`...)
	b = jsonenc.AppendString(b, LevelName(l))
	b = append(b, `,"msg":`...)
	b = jsonenc.AppendString(b, msg)
	if semantic {
		b = append(b, `,"semantic":true`...)
	}
	if late {
		b = append(b, `,"late":true`...)
	}
	return AppendUsageMember(b, u)
}

// AppendRecordHead appends a record line up to its sequence number.
func AppendRecordHead(b []byte, wf, scope string, l Loss) []byte {
	b = append(b, `{"ev":"record","wf":`...)
	b = jsonenc.AppendString(b, wf)
	b = append(b, `,"scope":`...)
	b = jsonenc.AppendString(b, scope)
	b = AppendLossMember(b, l)
	return append(b, ',')
}

// AppendRecordHeadOf is AppendRecordHead without a loss, for IDs that need
// no escape (see jsonenc.Verbatim), as those of scopes.
func AppendRecordHeadOf(b []byte, wf, scope string) []byte {
	b = append(b, `{"ev":"record","wf":"`...)
	b = append(b, wf...)
	b = append(b, `","scope":"`...)
	b = append(b, scope...)
	return append(b, '"', ',')
}

// AppendSeq appends the sequence number of a line, and the comma after it.
func AppendSeq(b []byte, seq uint64) []byte {
	b = append(b, `"seq":`...)
	b = strconv.AppendUint(b, seq, 10)
	return append(b, ',')
}

// AppendUnwritten ends line, a whole journal line, with the member
// "unwritten": the n lines of its workflow that could not be written
// before it.
func AppendUnwritten(line []byte, n int64) []byte {
	end := bytes.LastIndexByte(line, '}')
	out := append([]byte(nil), line[:end]...)
	out = append(out, `,"unwritten":`...)
	out = strconv.AppendInt(out, n, 10)
	return append(out, line[end:]...)
}

// AppendEndHead appends an end line up to its status and error, and
// returns where its time starts.
func AppendEndHead(b []byte, wf, id string, seq uint64, t time.Time, status, errText string) ([]byte, int) {
	b = append(b, `{"ev":"end","wf":`...)
	b = jsonenc.AppendString(b, wf)
	b = append(b, `,"id":`...)
	b = jsonenc.AppendString(b, id)
	b = append(b, ',')
	b = AppendSeq(b, seq)
	b = append(b, `"time":`...)
	at := len(b)
	b = jsonenc.AppendTime(b, t)
	b = append(b, `,"status":`...)
	b = jsonenc.AppendString(b, status)
	if errText != "" {
		b = append(b, `,"error":`...)
		b = jsonenc.AppendString(b, errText)
	}
	return b, at
}

// AppendStartHead appends a start line up to its time, and returns where
// its time starts. parent is "" for a workflow.
func AppendStartHead(b []byte, wf, id, parent string, k Kind, seq uint64, t time.Time) ([]byte, int) {
	b = append(b, `{"ev":"start","wf":`...)
	b = jsonenc.AppendString(b, wf)
	b = append(b, `,"id":`...)
	b = jsonenc.AppendString(b, id)
	if parent != "" {
		b = append(b, `,"parent":`...)
		b = jsonenc.AppendString(b, parent)
	}
	b = append(b, `,"kind":"`...)
	b = append(b, k.String()...)
	b = append(b, `",`...)
	b = AppendSeq(b, seq)
	b = append(b, `"time":`...)
	at := len(b)
	return jsonenc.AppendTime(b, t), at
}

// The heads of the start and end lines of a workflow or a scope, as
// AppendStartHead and AppendEndHead write them: {"ev":"start","wf":W,
// "id":W,…} for a workflow's own; and of a record, as AppendRecordHead
// writes it.
var (
	startHead  = []byte(`{"ev":"start","wf":"`)
	endHead    = []byte(`{"ev":"end","wf":"`)
	idKey      = []byte(`","id":"`)
	recordHead = []byte(`{"ev":"record","wf":"`)
)

// BoundOf returns Start or End when line, a journal line of workflow wf,
// is the start or end of wf itself, not of one of its scopes, and ""
// otherwise, without decoding it.
func BoundOf(line []byte, wf string) string {
	ev := Start
	rest, ok := bytes.CutPrefix(line, startHead)
	if !ok {
		ev = End
		if rest, ok = bytes.CutPrefix(line, endHead); !ok {
			return ""
		}
	}
	n, k := len(wf), len(idKey)
	if len(rest) <= 2*n+k || string(rest[:n]) != wf || !bytes.Equal(rest[n:n+k], idKey) ||
		string(rest[n+k:2*n+k]) != wf || rest[2*n+k] != '"' {
		return ""
	}
	return ev
}

// ScopeBound is what KindOf says of the start or end of one of a
// workflow's scopes.
const ScopeBound = "scope bound"

// KindOf returns what line, a journal line of workflow wf, is, by how the
// handler starts it, without decoding it: Start or End of wf itself,
// ScopeBound, Record, or "" for a line that the handler does not start so
// (another tool wrote it).
func KindOf(line []byte, wf string) string {
	if b := BoundOf(line, wf); b != "" {
		return b
	}
	switch {
	case bytes.HasPrefix(line, recordHead):
		return Record
	case bytes.HasPrefix(line, startHead), bytes.HasPrefix(line, endHead):
		return ScopeBound
	}
	return ""
}

// WorkflowOf returns the workflow of a journal line without decoding it,
// or "" when its start does not say it plainly.
func WorkflowOf(line []byte) string {
	const key = `"wf":"`
	head := line[:min(len(line), 40)]
	i := bytes.Index(head, []byte(key))
	if i < 0 {
		return ""
	}
	rest := line[i+len(key):]
	j := bytes.IndexByte(rest[:min(len(rest), 80)], '"')
	if j <= 0 || bytes.IndexByte(rest[:j], '\\') >= 0 {
		return ""
	}
	return string(rest[:j])
}
