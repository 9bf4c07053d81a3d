package tree

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf/internal/jsonenc"
)

func TestDecodeRejectsBadLines(t *testing.T) {
	for _, line := range []string{
		``,
		`{"ev":"start"`,
		`{"ev":"start","time":"2026-01-01T00:00:00Z","id":"a"}`,
		`{"ev":"start","wf":"w","time":"2026-01-01T00:00:00Z"}`,
		`{"ev":"record","wf":"w","time":"2026-01-01T00:00:00Z","level":"INFO"}`,
		`{"ev":"record","wf":"w","scope":"s","time":"2026-01-01T00:00:00Z","level":"LOUD"}`,
		`{"ev":"record","wf":"w","scope":"s","time":"yesterday","level":"INFO"}`,
		`{"ev":"other","wf":"w","id":"s","time":"2026-01-01T00:00:00Z"}`,
		`{"ev":"start","wf":"w","id":"s","time":"2026-01-01T00:00:00Z","attrs":"oops"}`,
	} {
		_, err := Decode([]byte(line))
		assert.Error(t, err, line)
	}
}

func TestTreeHangsScopesWithoutAPlaceUnderTheWorkflow(t *testing.T) {
	tr := NewTree("w")
	for _, line := range []string{
		`{"ev":"start","wf":"w","id":"w","kind":"workflow","time":"2026-01-01T00:00:00.000000000Z","name":"n"}`,
		`{"ev":"start","wf":"w","id":"a","parent":"b","kind":"interaction","time":"2026-01-01T00:00:01.000000000Z","agent":"a"}`,
		`{"ev":"start","wf":"w","id":"b","parent":"a","kind":"interaction","time":"2026-01-01T00:00:02.000000000Z","agent":"b"}`,
		`{"ev":"start","wf":"w","id":"c","parent":"c","kind":"action","time":"2026-01-01T00:00:03.000000000Z","name":"c"}`,
		`{"ev":"start","wf":"w","id":"d","parent":"nowhere","kind":"action","time":"2026-01-01T00:00:04.000000000Z","name":"d"}`,
		`{"ev":"record","wf":"w","scope":"ghost","time":"2026-01-01T00:00:05.000000000Z","level":"INFO","msg":"lost?"}`,
		`{"ev":"end","wf":"w","id":"w","time":"2026-01-01T00:00:06.000000000Z","status":"completed"}`,
	} {
		e, err := Decode([]byte(line))
		require.NoError(t, err, line)
		tr.Apply(e)
	}
	out := string(tr.AppendJSON(nil, true))
	for _, id := range []string{`"id":"a"`, `"id":"b"`, `"id":"c"`, `"id":"d"`, `"msg":"lost?"`} {
		assert.Contains(t, out, id, "nothing is lost")
	}
	assert.Contains(t, out, `"counts":{"records":1,`)
}

func TestMergeObjects(t *testing.T) {
	tests := []struct{ a, b, want string }{
		{``, `{"x":1}`, `{"x":1}`},
		{`{"x":1}`, ``, `{"x":1}`},
		{`{"x":1,"y":2}`, `{"y":3}`, `{"x":1,"y":3}`},
		{`{"x":1}`, `{"x":2}`, `{"x":2}`},
		{`{"x":1}`, `{}`, `{"x":1}`},
		{`{"x":1}`, `{ }`, `{"x":1}`},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, string(mergeObjects([]byte(tt.a), []byte(tt.b))), "%s + %s", tt.a, tt.b)
	}
}

func TestAppendStringRoundTrips(t *testing.T) {
	for _, s := range []string{"plain", "q\"\\", "\x00\x1b\x7f\u0085\u2028\u202e\u2066", "\xff\xfe", "\ufffd", "日本"} {
		enc := jsonenc.AppendString(nil, s)
		e, err := Decode(fmt.Appendf(nil, `{"ev":"record","wf":"w","scope":"s","time":"2026-01-01T00:00:00Z","level":"INFO","msg":%s}`, enc))
		require.NoError(t, err)
		assert.Equal(t, string(enc), string(jsonenc.AppendString(nil, e.Message)), "decoding and encoding again is stable: %q", s)
		assert.NotRegexp(t, "[\x00-\x1f\x7f\u0080-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]", string(enc))
		if strings.ToValidUTF8(s, "") == s {
			assert.Equal(t, s, e.Message, "valid text decodes back exactly")
		}
	}
}

// FuzzDecode feeds the tree any lines that decode: whatever they say, it
// writes JSON.
func FuzzDecode(f *testing.F) {
	for _, line := range []string{
		`{"ev":"start","wf":"w","id":"w","kind":"workflow","time":"2026-01-01T00:00:00.000000000Z","name":"n","attrs":{"a":1}}`,
		`{"ev":"start","wf":"w","id":"i","parent":"w","kind":"interaction","time":"2026-01-01T00:00:01Z","agent":"a","input":[1]}`,
		`{"ev":"record","wf":"w","scope":"i","usage":{"llm_calls":1,"input_tokens":5,"cost_usd":0.1},"time":"2026-01-01T00:00:02.5+02:00","level":"WARN","msg":"m\u001b","semantic":true,"attrs":{"g":{"k":"v"}}}`,
		`{"ev":"end","wf":"w","id":"i","time":"2026-01-01T00:00:03.000000000Z","status":"failed","error":"e","attrs":{"b":2},"output":"o"}`,
		`{"ev":"end","wf":"w","id":"w","time":"2026-01-01T00:00:04.000000000Z","status":"completed"}`,
		`{"ev":"start","wf":"w","id":"x","parent":"x","kind":"action","time":"2026-01-01T00:00:00Z","attrs":[1]}`,
	} {
		f.Add([]byte(line))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tr := NewTree("w")
		for line := range bytes.Lines(data) {
			e, err := Decode(line)
			if err != nil {
				continue
			}
			e.Workflow = "w" // one tree takes every line, to mix them more
			tr.Apply(e)
		}
		for _, final := range []bool{false, true} {
			out := tr.AppendJSON(nil, final)
			require.True(t, json.Valid(out), "%s", out)
		}
	})
}

// FuzzReadJournal feeds the journal reader anything: it never panics, and
// whatever it keeps builds trees that are JSON. The seed corpus is in
// testdata/fuzz/FuzzReadJournal: a real journal, and journals torn in the
// ways a crash tears them (a partial line, split UTF-8, NUL padding, no
// final newline).
func FuzzReadJournal(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		b := NewBuilder()
		require.NoError(t, b.ReadJournal(bytes.NewReader(data), "fuzz.jsonl", func(error) {}))
		for _, id := range b.Workflows() {
			out := b.JSON(id)
			require.True(t, json.Valid(out), "%s", out)
		}
	})
}

func TestDeepScopesStayFastAndReadable(t *testing.T) {
	b := NewBuilder()
	line := func(format string, args ...any) {
		require.NoError(t, b.Add(fmt.Appendf(nil, format, args...)))
	}
	line(`{"ev":"start","wf":"w","id":"w","kind":"workflow","time":"2026-01-01T00:00:00Z","name":"deep"}`)
	parent := "w"
	for i := range 20000 {
		id := fmt.Sprint("s", i)
		line(`{"ev":"start","wf":"w","id":%q,"parent":%q,"kind":"interaction","time":"2026-01-01T00:00:01Z","agent":"a"}`, id, parent)
		parent = id
	}
	for i := range 20000 {
		line(`{"ev":"end","wf":"w","id":"s%d","time":"2026-01-01T00:00:02Z","status":"completed"}`, i)
	}
	var tree map[string]any
	require.NoError(t, json.Unmarshal(b.JSON("w"), &tree), "a JSON reader reads it: nesting stays bounded")
}

func TestEndsAtOneTimeGiveOneTreeInAnyOrder(t *testing.T) {
	lines := []string{
		`{"ev":"start","wf":"w","id":"w","kind":"workflow","time":"2026-01-01T00:00:00Z","name":"tie"}`,
		`{"ev":"start","wf":"w","id":"a","parent":"w","kind":"interaction","time":"2026-01-01T00:00:01Z","agent":"a"}`,
		`{"ev":"end","wf":"w","id":"a","time":"2026-01-01T00:00:02Z","status":"completed","output":"ok"}`,
		`{"ev":"end","wf":"w","id":"a","time":"2026-01-01T00:00:02Z","status":"failed","error":"e"}`,
		`{"ev":"end","wf":"w","id":"w","time":"2026-01-01T00:00:02Z","status":"completed"}`,
	}
	var first string
	for i := range 20 {
		b := NewBuilder()
		order := slices.Clone(lines)
		rand.New(rand.NewPCG(uint64(i), 1)).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, l := range order {
			require.NoError(t, b.Add([]byte(l)))
		}
		if i == 0 {
			first = string(b.JSON("w"))
		}
		require.Equal(t, first, string(b.JSON("w")), "%v", order)
	}
	assert.Contains(t, first, `"status":"completed","start":"2026-01-01T00:00:01.000000000Z"`, "a scope that ends with its parent keeps its own end")
}

// chain returns the journal lines of a workflow with n scopes nested
// each in the one before, root first, each ending after those it holds;
// but scope early ends first.
func chain(n, early int) []string {
	const at = "2026-01-01T00:00:%02d.%09dZ"
	lines := []string{`{"ev":"start","wf":"w","id":"w","kind":"workflow","time":"2026-01-01T00:00:00Z","name":"deep"}`}
	parent := "w"
	for i := 1; i <= n; i++ {
		id := fmt.Sprint("s", i)
		lines = append(lines,
			fmt.Sprintf(`{"ev":"start","wf":"w","id":%q,"parent":%q,"kind":"action","time":"`+at+`","name":"a"}`, id, parent, 1, i),
			fmt.Sprintf(`{"ev":"record","wf":"w","scope":%q,"time":"`+at+`","level":"INFO","msg":"in","usage":{"llm_calls":1,"input_tokens":%d,"cost_usd":0.5}}`, id, 1, i, i))
		end := fmt.Sprintf(at, 3, n-i)
		if i == early {
			end = fmt.Sprintf(at, 2, 0)
		}
		lines = append(lines, fmt.Sprintf(`{"ev":"end","wf":"w","id":%q,"time":%q,"status":"completed"}`, id, end))
		parent = id
	}
	return append(lines, `{"ev":"end","wf":"w","id":"w","time":"2026-01-01T00:00:04Z","status":"completed"}`)
}

// scopeDepth returns how deep scopes nest below the node n of a tree file.
func scopeDepth(n map[string]any) int {
	depth := 0
	for _, kind := range []string{"iterations", "interactions", "actions"} {
		children, _ := n[kind].([]any)
		for _, c := range children {
			depth = max(depth, 1+scopeDepth(c.(map[string]any)))
		}
	}
	return depth
}

// Where a scope hangs is decided from the final links of all scopes: a
// scope more than 100 deep, or on a loop of parents, hangs under the
// workflow, whichever line comes first.
func TestScopesHangInOnePlaceWhateverTheOrderAndDepth(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
	}{
		{"150 nested scopes", chain(150, 0)},
		{"150 nested scopes, one ending first", chain(150, 120)},
		{"10,001 nested scopes", chain(10001, 5000)},
		{"parents in loops", []string{
			`{"ev":"start","wf":"w","id":"w","kind":"workflow","time":"2026-01-01T00:00:00Z","name":"loops"}`,
			`{"ev":"start","wf":"w","id":"a","parent":"b","kind":"interaction","time":"2026-01-01T00:00:01Z","agent":"a"}`,
			`{"ev":"start","wf":"w","id":"b","parent":"a","kind":"interaction","time":"2026-01-01T00:00:02Z","agent":"b"}`,
			`{"ev":"start","wf":"w","id":"c","parent":"b","kind":"action","time":"2026-01-01T00:00:03Z","name":"c"}`,
			`{"ev":"start","wf":"w","id":"d","parent":"e","kind":"action","time":"2026-01-01T00:00:04Z","name":"d"}`,
			`{"ev":"start","wf":"w","id":"e","parent":"f","kind":"action","time":"2026-01-01T00:00:05Z","name":"e"}`,
			`{"ev":"start","wf":"w","id":"f","parent":"d","kind":"action","time":"2026-01-01T00:00:06Z","name":"f"}`,
			`{"ev":"end","wf":"w","id":"e","time":"2026-01-01T00:00:07Z","status":"completed"}`,
			`{"ev":"end","wf":"w","id":"w","time":"2026-01-01T00:00:08Z","status":"completed"}`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			build := func(lines []string) string {
				b := NewBuilder()
				for _, l := range lines {
					require.NoError(t, b.Add([]byte(l)))
				}
				return string(b.JSON("w"))
			}
			want := build(tt.lines)
			leafFirst := slices.Clone(tt.lines)
			slices.Reverse(leafFirst)
			assert.Empty(t, differ(want, build(leafFirst)), "read leaf first")
			for i := range 3 {
				order := slices.Clone(tt.lines)
				rand.New(rand.NewPCG(uint64(i), 2)).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
				require.Empty(t, differ(want, build(order)), "shuffled")
			}
			var root map[string]any
			require.NoError(t, json.Unmarshal([]byte(want), &root))
			assert.LessOrEqual(t, scopeDepth(root), jsonenc.MaxDepth)
			assert.Equal(t, strings.Count(strings.Join(tt.lines, "\n"), `"ev":"start"`)-1, strings.Count(want, `"kind":"a`)+strings.Count(want, `"kind":"i`), "every scope is in it once")
		})
	}
}

// differ returns where the texts a and b first differ, and what each
// holds there, or "" when they are equal.
func differ(a, b string) string {
	if a == b {
		return ""
	}
	i := 0
	for i < min(len(a), len(b)) && a[i] == b[i] {
		i++
	}
	return fmt.Sprintf("at byte %d: %.80q != %.80q", i, a[i:], b[i:])
}

// The usage a journal line says, whoever wrote it, is bounded per line and
// counted as clamped; totals saturate, never wrap, and do not depend on
// the order of the lines.
func TestUsageOfAnyJournalIsBoundedAndItsTotalsNeverWrap(t *testing.T) {
	record := func(usage, loss string) string {
		return `{"ev":"record","wf":"w","scope":"w","time":"2026-01-01T00:00:01Z","level":"INFO","msg":"m","usage":` + usage + `,"loss":` + loss + `}`
	}
	repeat := func(n int, line string) []string { return slices.Repeat([]string{line}, n) }
	type usage struct {
		Calls      int64   `json:"llm_calls"`
		In         int64   `json:"input_tokens"`
		Cached     int64   `json:"cached_input_tokens"`
		CacheWrite int64   `json:"cache_write_input_tokens"`
		Out        int64   `json:"output_tokens"`
		Total      int64   `json:"total_tokens"`
		Cost       float64 `json:"cost_usd"`
	}
	tests := []struct {
		name    string
		lines   []string
		want    usage
		clamped int64
	}{
		{"two records of the most input tokens an int64 holds",
			repeat(2, record(`{"llm_calls":1,"input_tokens":9223372036854775807}`, `{}`)),
			usage{Calls: 2, In: 2e12, Total: 2e12}, 2},
		{"two records of the most cache writes an int64 holds",
			repeat(2, record(`{"cache_write_input_tokens":9223372036854775807}`, `{}`)),
			usage{CacheWrite: 2e12}, 2},
		{"negative counts", []string{record(`{"llm_calls":-2,"input_tokens":-5,"cached_input_tokens":-1,"cache_write_input_tokens":-1,"output_tokens":-1}`, `{}`)},
			usage{}, 5},
		{"calls past one", []string{record(`{"llm_calls":5,"output_tokens":3}`, `{}`)},
			usage{Calls: 1, Out: 3, Total: 3}, 1},
		{"a cost past the bound", []string{record(`{"cost_usd":1e300}`, `{}`), record(`{"cost_usd":-1e300}`, `{}`), record(`{"cost_usd":0.5}`, `{}`)},
			usage{Cost: 0.5}, 2},
		{"negative losses", []string{record(`{}`, `{"dropped":-1,"truncated":-2,"redacted":3,"clamped":-9}`)},
			usage{}, 3},
		{"10,000 records of the largest cost", repeat(10000, record(`{"cost_usd":1e6}`, `{}`)),
			usage{Cost: math.MaxInt64 / 1e9}, 0},
		{"10,000 records of the largest costs either way",
			append(repeat(5000, record(`{"cost_usd":1e6}`, `{}`)), repeat(5000, record(`{"cost_usd":-1e6}`, `{}`))...),
			usage{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var first string
			for i := range 4 {
				lines := slices.Clone(tt.lines)
				rand.New(rand.NewPCG(uint64(i), 4)).Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
				b := NewBuilder()
				for _, l := range lines {
					require.NoError(t, b.Add([]byte(l)))
				}
				out := string(b.JSON("w"))
				if i == 0 {
					first = out
				}
				require.Empty(t, differ(first, out), "in any order, one tree")
			}
			var root struct {
				Usage usage
				Loss  struct{ Dropped, Truncated, Redacted, Clamped int64 }
			}
			require.NoError(t, json.Unmarshal([]byte(first), &root))
			assert.Equal(t, tt.want, root.Usage)
			assert.Equal(t, tt.clamped, root.Loss.Clamped)
			assert.True(t, root.Loss.Dropped >= 0 && root.Loss.Truncated >= 0 && root.Loss.Redacted >= 0)
		})
	}
}

// A name is cut to 256 bytes, marker included, as a journal gives it back
// (each byte of invalid UTF-8 a U+FFFD): so a name cut once, and written
// and read back, is never cut again.
func TestCutNameKeeps256BytesAsAJournalGivesThemBack(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"short", "planner", "planner"},
		{"256 bytes", strings.Repeat("n", 256), strings.Repeat("n", 256)},
		{"257 bytes", strings.Repeat("n", 257), strings.Repeat("n", 232) + "…[truncated 25 bytes]"},
		{"4 MiB", strings.Repeat("n", 4<<20), strings.Repeat("n", 228) + "…[truncated 4194076 bytes]"},
		{"2-byte runes", strings.Repeat("é", 200), strings.Repeat("é", 116) + "…[truncated 168 bytes]"},
		{"invalid UTF-8", strings.Repeat("\xff", 100), strings.Repeat("\xff", 77) + "…[truncated 23 bytes]"},
		{"U+FFFD", strings.Repeat("\ufffd", 100), strings.Repeat("\ufffd", 77) + "…[truncated 69 bytes]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, cut := CutName(tt.in)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.in != tt.want, cut)
			back, err := Decode(fmt.Appendf(nil, `{"ev":"start","wf":"w","id":"a","kind":"action","time":"2026-01-01T00:00:00Z","name":%s}`, jsonenc.AppendString(nil, got)))
			require.NoError(t, err)
			assert.LessOrEqual(t, len(back.Name), MaxName, "as a journal gives it back")
			again, cut := CutName(back.Name)
			assert.False(t, cut, "never cut again")
			assert.Equal(t, back.Name, again)
		})
	}
}

// A tree grows with what it holds: no block of a fixed size per tree.
func TestATreeOfOneSmallRecordTakesUnder4KiB(t *testing.T) {
	const n = 1000
	var events []*Event
	for _, line := range []string{
		`{"ev":"start","wf":"w","id":"w","kind":"workflow","seq":1,"time":"2026-01-01T00:00:00.000000000Z","name":"request"}`,
		`{"ev":"record","wf":"w","scope":"w","seq":2,"time":"2026-01-01T00:00:01.000000000Z","level":"INFO","msg":"hello","attrs":{"user":"ana"}}`,
	} {
		e, err := Decode([]byte(line))
		require.NoError(t, err)
		events = append(events, e)
	}
	trees := make([]*Tree, n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range trees {
		trees[i] = NewTree("w")
		for _, e := range events {
			trees[i].Apply(e)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	assert.Less(t, per, 4096.0, "bytes per tree")
	t.Logf("%.0f bytes per tree of one record", per)
	runtime.KeepAlive(trees)
}

// A tree file's name holds the whole workflow ID, or a hash as long of an
// ID that is not a UUID: two IDs give two names, and the name gives back
// the workflow's name and ID part.
func TestTreeFileNamesHoldTheWholeID(t *testing.T) {
	const uuid = "01a2255d-71e3-7c75-9eef-715af7eb4be4"
	tests := []struct{ name, safe string }{
		{"research", "research"},
		{"a/b", "a_b"},
		{"", "workflow"},
		{strings.Repeat("n", 100), strings.Repeat("n", 32)},
	}
	for _, tt := range tests {
		file := TreeFileName(tt.name, uuid)
		assert.Equal(t, tt.safe+"-"+uuid+".json", file)
		name, fid, ok := ParseTreeFile(file)
		assert.True(t, ok, file)
		assert.Equal(t, tt.safe, name)
		assert.Equal(t, uuid, fid)
		assert.Equal(t, tt.safe, NameIn(file, uuid))
	}
	ids := map[string]string{}
	for _, id := range []string{"job-42", "job_42", "JOB-42", "x", strings.Repeat("a", 1000), strings.Repeat("a", 1001), "../../etc"} {
		fid := FileID(id)
		assert.Len(t, fid, 36, id)
		assert.NotContains(t, ids, fid, "%s and %s", id, ids[fid])
		ids[fid] = id
		_, got, ok := ParseTreeFile(TreeFileName("n", id))
		assert.True(t, ok)
		assert.Equal(t, fid, got)
	}
	for _, bad := range []string{"x.json", "research-f7eb4be4.json", "research-" + uuid + ".jsonl", "-" + uuid + ".json"} {
		_, _, ok := ParseTreeFile(bad)
		assert.False(t, ok, bad)
	}
	at := time.Date(2026, 11, 29, 3, 33, 30, 723_000_000, time.UTC)
	name := JournalName(at, 4242, 0x3f9a1c)
	assert.Equal(t, "20261129T033330.723Z-4242-3f9a1c.jsonl", name)
	got, ok := JournalTime(name)
	assert.True(t, ok)
	assert.Equal(t, at, got)
	pid, ok := JournalProcess("journal/" + name)
	assert.True(t, ok)
	assert.Equal(t, "4242-3f9a1c", pid)
	for _, bad := range []string{"20261129T033330.723Z.jsonl", "20261129T033330.723Z--3f9a1c.jsonl", "20261129T033330.723Z-42x-3f9a1c.jsonl", "w-00000001.4242.jsonl"} {
		_, ok := JournalProcess(bad)
		assert.False(t, ok, bad)
	}
}

// Input and output tokens that each saturated (4.7 million records of
// the most of both) total the largest int64, never a negative number.
func TestTotalTokensSaturateInsteadOfWrapping(t *testing.T) {
	var u struct {
		Total int64 `json:"total_tokens"`
	}
	b := AppendUsage(nil, Usage{In: math.MaxInt64, Out: math.MaxInt64})
	require.NoError(t, json.Unmarshal(b, &u))
	assert.Equal(t, int64(math.MaxInt64), u.Total)
}

// The head of a record of IDs that need no escape is the head of any.
func TestRecordHeadOfIDsIsTheRecordHead(t *testing.T) {
	const wf, scope = "0194e1c2-7b7a-7c3e-9a1b-2c3d4e5f6a7b", "0194e1c2-7b7a-7c3e-9a1b-2c3d4e5f6a7c"
	assert.Equal(t, string(AppendRecordHead(nil, wf, scope, Loss{})), string(AppendRecordHeadOf(nil, wf, scope)))
}

// Records in a scope that never started are the workflow's, and keep the
// order they were logged in when their times are equal, as its own do.
func TestRecordsOfAScopeNeverStartedKeepTheirOrderAtEqualTimes(t *testing.T) {
	b := NewBuilder()
	for _, l := range []string{
		`{"ev":"start","wf":"w","id":"w","kind":"workflow","seq":1,"time":"2026-01-01T00:00:00.000000000Z","name":"w"}`,
		`{"ev":"record","wf":"w","scope":"x","seq":2,"time":"2026-01-01T00:00:01.000000000Z","level":"INFO","msg":"b first"}`,
		`{"ev":"record","wf":"w","scope":"x","seq":3,"time":"2026-01-01T00:00:01.000000000Z","level":"INFO","msg":"a second"}`,
	} {
		require.NoError(t, b.Add([]byte(l)))
	}
	var tr struct {
		Records []struct{ Msg string } `json:"records"`
	}
	require.NoError(t, json.Unmarshal(b.Tree("w").AppendJSON(nil, true), &tr))
	require.Len(t, tr.Records, 2)
	assert.Equal(t, "b first", tr.Records[0].Msg)
	assert.Equal(t, "a second", tr.Records[1].Msg)
}
