package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
	"github.com/slogwf/slogwf/internal/flock"
	"github.com/slogwf/slogwf/internal/tree"
)

// lsDir is a directory of workflows for the tests of ls: research
// (completed, 2 records, 120 tokens), summary (failed), and crashed, whose
// process died before its end and its tree file, so that it has a journal
// only.
type lsDir struct {
	dir                        string
	research, summary, crashed string // IDs
	crashedJournal             string
}

func writeLsDir(t *testing.T) lsDir {
	t.Helper()
	d := lsDir{dir: t.TempDir()}
	logInto(t, d.dir, func(ctx context.Context, l *slog.Logger) {
		wctx, wf := slogwf.StartWorkflow(ctx, "research")
		l.InfoContext(wctx, "calling", slogwf.Model("m"), slogwf.Tokens(100, 20))
		l.InfoContext(wctx, "done")
		wf.End()
		d.research = wf.ID()
		time.Sleep(2 * time.Millisecond) // later starts
		wctx, wf = slogwf.StartWorkflow(ctx, "summary")
		l.ErrorContext(wctx, "no model")
		wf.Fail(errors.New("gave up"))
		d.summary = wf.ID()
	})
	d.crashed = "7fffffff-0000-7000-8000-00000000c0de" // the latest start of all
	d.crashedJournal = filepath.Join(d.dir, "crashed-0000c0de.99.jsonl")
	tailWrite(t, d.crashedJournal,
		`{"ev":"start","wf":"`+d.crashed+`","id":"`+d.crashed+`","kind":"workflow","time":"2099-01-01T00:00:00.000000000Z","name":"crashed"}`+"\n"+
			`{"ev":"record","wf":"`+d.crashed+`","scope":"`+d.crashed+`","time":"2099-01-01T00:00:01.000000000Z","level":"WARN","msg":"last words"}`+"\n")
	ageJournals(t, d.dir)
	return d
}

// ageJournals sets the times of the journals of dir an hour back: their
// processes, which hold no lock on them, died long ago, not lately
// between two segments (see retention.Live).
func ageJournals(t *testing.T, dir string) {
	t.Helper()
	for _, pattern := range []string{"*.jsonl", filepath.Join(tree.JournalDir, "*.jsonl")} {
		names, err := filepath.Glob(filepath.Join(dir, pattern))
		require.NoError(t, err)
		for _, name := range names {
			at := time.Now().Add(-time.Hour)
			require.NoError(t, os.Chtimes(name, at, at))
		}
	}
}

// lsRows runs ls with args and returns the cells of its rows, the heading
// first.
func lsRows(t *testing.T, args ...string) [][]string {
	t.Helper()
	code, stdout, stderr := runCLI(t, append([]string{"ls"}, args...)...)
	require.Equal(t, 0, code, stderr)
	assert.Empty(t, stderr)
	var rows [][]string
	for l := range strings.Lines(stdout) {
		rows = append(rows, strings.Fields(l))
	}
	return rows
}

func TestLsListsWorkflowsNewestFirst(t *testing.T) {
	d := writeLsDir(t)
	rows := lsRows(t, d.dir)
	require.Len(t, rows, 4)
	assert.Equal(t, []string{"NAME", "ID", "STATUS", "START", "DURATION", "RECORDS", "TOKENS", "COST", "ERRORS"}, rows[0])
	// The start's date and time take two cells.
	assert.Equal(t, []string{"crashed", d.crashed, "incomplete", "2099-01-01"}, rows[1][:4], "from its journal, as build makes it")
	assert.Equal(t, []string{"1s", "1", "0", "$0", "0"}, rows[1][5:])
	assert.Equal(t, []string{"summary", d.summary, "failed"}, rows[2][:3])
	assert.Equal(t, "2", rows[2][len(rows[2])-1], "errors: its record and its end")
	assert.Equal(t, []string{"research", d.research, "completed"}, rows[3][:3])
	assert.Equal(t, []string{"2", "120", "$0", "0"}, rows[3][len(rows[3])-4:])
}

func TestLsFilters(t *testing.T) {
	d := writeLsDir(t)
	tests := []struct {
		name  string
		flags []string
		want  []string // IDs
	}{
		{"status", []string{"-status", "failed"}, []string{d.summary}},
		{"statuses", []string{"-status", "completed,incomplete"}, []string{d.crashed, d.research}},
		{"since a duration", []string{"-since", "1h"}, []string{d.crashed, d.summary, d.research}},
		{"since days, as prune takes them", []string{"-since", "7d"}, []string{d.crashed, d.summary, d.research}},
		{"since a time", []string{"-since", "2098-12-31T00:00:00Z"}, []string{d.crashed}},
		{"name", []string{"-name", "s"}, []string{d.summary}},
		{"all", []string{"-status", "completed", "-name", "res", "-since", "24h"}, []string{d.research}},
		{"none", []string{"-name", "nope"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ids []string
			for _, r := range lsRows(t, append(tt.flags, d.dir)...)[1:] {
				ids = append(ids, r[1])
			}
			assert.Equal(t, tt.want, ids)
		})
	}
}

func TestLsJSON(t *testing.T) {
	d := writeLsDir(t)
	code, stdout, stderr := runCLI(t, "ls", "-json", "-status", "completed,failed", d.dir)
	require.Equal(t, 0, code, stderr)
	var doc struct {
		Workflows []dirWorkflow `json:"workflows"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &doc))
	require.Len(t, doc.Workflows, 2)
	w := doc.Workflows[1]
	assert.Equal(t, d.research, w.ID)
	assert.Equal(t, "research", w.Name)
	assert.Equal(t, "completed", w.Status)
	assert.Equal(t, int64(120), w.Usage.TotalTokens)
	assert.Equal(t, int64(2), w.Counts.Records)
	assert.Contains(t, string(w.Loss), `"dropped":0`)
	assert.NotNil(t, w.DurationMS)
	assert.Equal(t, filepath.Join(d.dir, tree.TreeFileName("research", d.research)), w.File)
	assert.Equal(t, d.summary, doc.Workflows[0].ID)

	code, stdout, _ = runCLI(t, "ls", "-json", "-name", "nope", d.dir)
	require.Equal(t, 0, code)
	assert.JSONEq(t, `{"workflows":[]}`, stdout)
}

// Files that are not tree files are reported and skipped; hidden files and
// directories are not read; a tree file whose members come in another
// order is read whole.
func TestLsSkipsWhatIsNotATreeFile(t *testing.T) {
	d := writeLsDir(t)
	tailWrite(t, filepath.Join(d.dir, "notes.json"), `{"hello":"world"}`)
	tailWrite(t, filepath.Join(d.dir, ".slogwf-export.1234.state"), `{}`)
	tailWrite(t, filepath.Join(d.dir, ".hidden.json"), `not json`)
	require.NoError(t, os.Mkdir(filepath.Join(d.dir, "sub.json"), 0o700))
	sorted, err := json.Marshal(map[string]any{"schema": slogwf.Schema, "kind": "workflow", "id": "sorted-id", "name": "sorted",
		"status": "completed", "start": "2000-01-01T00:00:00.000000000Z", "actions": []any{}, "counts": map[string]int{"records": 7}})
	require.NoError(t, err)
	tailWrite(t, filepath.Join(d.dir, "sorted.json"), string(sorted))

	code, stdout, stderr := runCLI(t, "ls", d.dir)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, 1, strings.Count(stderr, "\n"), stderr)
	assert.Contains(t, stderr, "slogwf ls: "+filepath.Join(d.dir, "notes.json")+": not a slogwf.tree/v1 tree file")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	require.Len(t, lines, 5)
	assert.Equal(t, []string{"sorted", "sorted-id", "completed"}, strings.Fields(lines[4])[:3])
	assert.Equal(t, "7", strings.Fields(lines[4])[6])
}

func TestLsErrors(t *testing.T) {
	d := writeLsDir(t)
	missing := filepath.Join(d.dir, "missing")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no dir", nil, 2, "no DIR"},
		{"two dirs", []string{d.dir, d.dir}, 2, "one DIR only"},
		{"missing dir", []string{missing}, 1, missing},
		{"bad status", []string{"-status", "done", d.dir}, 2, `-status "done": want running, completed, failed, incomplete`},
		{"bad since", []string{"-since", "yesterday", d.dir}, 2, `-since "yesterday": want a duration`},
		{"negative since", []string{"-since", "-1h", d.dir}, 2, `-since "-1h"`},
		{"since NaN days", []string{"-since", "NaNd", d.dir}, 2, `-since "NaNd": want a duration`},
		{"since infinite days", []string{"-since", "Infd", d.dir}, 2, `-since "Infd": want a duration`},
		{"since more days than a duration holds", []string{"-since", "99999999d", d.dir}, 2, `-since "99999999d": want a duration`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append([]string{"ls"}, tt.args...)...)
			assert.Equal(t, tt.code, code)
			assert.Empty(t, stdout)
			assert.Equal(t, 1, strings.Count(stderr, "\n"), stderr)
			assert.Contains(t, stderr, tt.want)
		})
	}
}

// A workflow found in journals only is running while a process holds one
// of its journals locked, as the handler does while it writes one.
func TestLsSaysRunningWhileAJournalIsLocked(t *testing.T) {
	d := writeLsDir(t)
	f, err := os.Open(d.crashedJournal)
	require.NoError(t, err)
	ok, err := flock.TryLock(f)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "running", lsRows(t, d.dir)[1][2])
	require.NoError(t, f.Close())
	assert.Equal(t, "incomplete", lsRows(t, d.dir)[1][2])
}

// A process between two segments holds none locked: a workflow found in
// journals only is running while its process wrote its newest segment in
// the last minute (retention.Grace).
func TestLsSaysRunningWhileItsProcessWroteItsJournalLately(t *testing.T) {
	d := writeLsDir(t)
	require.NoError(t, os.Chtimes(d.crashedJournal, time.Now(), time.Now()))
	assert.Equal(t, "running", lsRows(t, d.dir)[1][2])
}

// A tree file whose head (its attributes, input and output) is longer
// than readHead reads is read whole, not refused: MaxValue may be off.
func TestATreeFileOfAHeadOver16MiBIsRead(t *testing.T) {
	dir := t.TempDir()
	file := `{"schema":"` + slogwf.Schema + `","kind":"workflow","id":"0190aaaa-0000-7000-8000-000000000001","name":"alpha",` +
		`"status":"completed","start":"2026-01-01T00:00:00.000000000Z","end":"2026-01-01T00:00:01.000000000Z",` +
		`"input":"` + strings.Repeat("x", treeHeadLimit) + `","records":[]}`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "alpha-0190aaaa-0000-7000-8000-000000000001.json"), []byte(file), 0o600))
	for _, args := range [][]string{{"ls", dir}, {"tree", "-color=never", dir}, {"stats", dir}} {
		code, stdout, stderr := runCLI(t, args...)
		require.Equal(t, 0, code, "%v: %s", args, stderr)
		assert.Empty(t, stderr, args)
		assert.Contains(t, stdout, "alpha", args)
	}
}

// A tree file that says running, left by a process that crashed, is
// incomplete unless a live process writes a journal that holds a line of
// its workflow, as serve shows it: a workflow's start is journalled before
// its first snapshot, so a process that writes it wrote its journal.
func TestLsSaysIncompleteForARunningTreeFileThatNoProcessWrites(t *testing.T) {
	const id = "7ffffffe-0000-7000-8000-00000000c0de"
	own := `{"ev":"start","wf":"` + id + `","id":"` + id + `","kind":"workflow","time":"2098-01-01T00:00:00.000000000Z","name":"left"}` + "\n"
	for _, tt := range []struct {
		name string
		// dir returns a directory of journals, and the one of them that a
		// live process writes, "" for none.
		dir  func(t *testing.T) (dir, live string)
		want string
	}{
		{"no journal", func(t *testing.T) (string, string) { return t.TempDir(), "" }, "incomplete"},
		{"beside a live journal of another workflow", func(t *testing.T) (string, string) {
			d := writeLsDir(t)
			return d.dir, d.crashedJournal
		}, "incomplete"},
		{"beside a live journal holding its lines", func(t *testing.T) (string, string) {
			d := writeLsDir(t)
			name := filepath.Join(d.dir, "left-0000c0de.1.jsonl")
			tailWrite(t, name, own)
			ageJournals(t, d.dir)
			return d.dir, name
		}, "running"},
		{"beside a live journal holding its lines, read a line at a time", func(t *testing.T) (string, string) {
			d := writeLsDir(t)
			name := filepath.Join(d.dir, "left-0000c0de.1.jsonl")
			pad := `{"ev":"record","wf":"` + id + `","scope":"` + id + `","time":"2098-01-01T00:00:01.000000000Z","level":"INFO","msg":"` + strings.Repeat("x", 1000) + `"}` + "\n"
			tailWrite(t, name, own+strings.Repeat(pad, 100)) // over the 64 KiB read at once
			ageJournals(t, d.dir)
			return d.dir, name
		}, "running"},
		{"beside its journal that no process writes", func(t *testing.T) (string, string) {
			d := writeLsDir(t)
			tailWrite(t, filepath.Join(d.dir, "left-0000c0de.1.jsonl"), own)
			ageJournals(t, d.dir)
			return d.dir, ""
		}, "incomplete"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir, live := tt.dir(t)
			require.NoError(t, os.WriteFile(filepath.Join(dir, "left-"+id+".json"), []byte(`{"schema":"`+slogwf.Schema+
				`","kind":"workflow","id":"`+id+`","name":"left","status":"running","start":"2098-01-01T00:00:00.000000000Z","records":[]}`), 0o600))
			if live != "" {
				lockJournal(t, live)
			}
			var status []string
			for _, row := range lsRows(t, dir) {
				if row[0] == "left" {
					status = append(status, row[2])
				}
			}
			assert.Equal(t, []string{tt.want}, status)
		})
	}
}

// A container's process is pid 1 at each start: the workflow of a run
// that crashed before its first tree file is incomplete, though a live
// process of the same pid writes the directory.
func TestLsTellsACrashedProcessFromALiveOneOfTheSamePid(t *testing.T) {
	dir := t.TempDir()
	jd := filepath.Join(dir, tree.JournalDir)
	require.NoError(t, os.MkdirAll(jd, 0o700))
	id := "0194f0a0-0000-7000-8000-000000000005"
	crashed := `{"ev":"start","wf":"` + id + `","id":"` + id + `","kind":"workflow","seq":0,"time":"2026-11-27T10:00:00.000000000Z","name":"crashed"}` + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(jd, "20261127T100000.000Z-1-eeeeee.jsonl"), []byte(crashed), 0o600))
	live := filepath.Join(jd, "20261129T110000.000Z-1-ffffff.jsonl")
	require.NoError(t, os.WriteFile(live, nil, 0o600))
	ageJournals(t, dir) // the crash was long ago
	lockJournal(t, live)

	rows := lsRows(t, dir)
	require.Len(t, rows, 2)
	assert.Equal(t, []string{"crashed", id, "incomplete"}, rows[1][:3])
}

// A workflow found in journals only is running while its process writes
// its journal, though no longer the segments with its lines: it has no
// tree file before its first snapshot.
func TestLsSaysRunningWhileTheWorkflowsProcessWritesItsJournal(t *testing.T) {
	dir := t.TempDir()
	const size = 1 << 20 // the least segment
	h, err := slogwf.New(&slogwf.Options{Dir: dir, Console: io.Discard, SegmentSize: size, MaxValue: -1, SnapshotInterval: time.Hour})
	require.NoError(t, err)
	l := slog.New(h)
	base := slogwf.ContextWithLogger(context.Background(), l)
	ctx, wf := slogwf.StartWorkflow(base, "long")
	l.InfoContext(ctx, "r", "pad", strings.Repeat("x", size))
	octx, other := slogwf.StartWorkflow(base, "other")
	l.InfoContext(octx, "r", "pad", strings.Repeat("y", size)) // the next segment
	other.End()
	h.TreeFile(other)
	require.NoFileExists(t, h.TreeFile(wf))
	rows := lsRows(t, dir)
	require.Len(t, rows, 3)
	assert.Equal(t, []string{"long", wf.ID(), "running"}, rows[2][:3], "the older start")

	wf.End()
	require.NoError(t, h.Close())
	assert.Equal(t, []string{"long", wf.ID(), "completed"}, lsRows(t, dir)[2][:3])
}

// A tree file that says running whose journals hold the start of its
// workflow (its process died between its end and its final tree, or it
// still runs) is listed as serve shows it and build makes it: rebuilt from
// the journals, with the status, end, duration, usage and counts they say.
// Without its start (the journals do not hold all of it: build keeps the
// tree file), the tree file's head stands: running while a live journal
// holds a line of it.
func TestLsShowsTheEndThatTheJournalsOfARunningTreeFileHold(t *testing.T) {
	whole := func(l []string) []string { return []string{strings.Join(l, "")} }
	for _, tt := range []struct {
		name       string
		fail, live bool
		pad        int                           // records after the snapshot, of 1,000 bytes each
		journals   func(lines []string) []string // the journals' texts, oldest first
		want       string                        // the status
		rebuilt    bool                          // the row is as the journals make it
	}{
		{name: "its end", journals: whole, want: "completed", rebuilt: true},
		{name: "its failed end", fail: true, journals: whole, want: "failed", rebuilt: true},
		{name: "its end after the segment of its start", journals: func(l []string) []string {
			return []string{strings.Join(l[:2], ""), strings.Join(l[2:], "")}
		}, want: "completed", rebuilt: true},
		{name: "its end, read a line at a time", pad: 100, journals: whole, want: "completed", rebuilt: true},
		{name: "its end, in the journal of a live process", live: true, journals: whole, want: "completed", rebuilt: true},
		{name: "no end, in the journal of a live process", live: true, journals: func(l []string) []string {
			return whole(l[:len(l)-1])
		}, want: "running", rebuilt: true},
		{name: "its end without its start", journals: func(l []string) []string {
			return whole(l[1:])
		}, want: "incomplete"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir, id, lines := endedJournal(t, tt.fail, tt.pad)
			jd := filepath.Join(dir, tree.JournalDir)
			require.NoError(t, os.Mkdir(jd, 0o700))
			all := tree.NewBuilder()
			var journal string
			for i, text := range tt.journals(lines) {
				journal = filepath.Join(jd, tree.JournalName(time.Now().Add(time.Duration(i)*time.Second), 4242, 1))
				tailWrite(t, journal, text)
				for line := range strings.Lines(text) {
					_, err := all.AddLine([]byte(line), journal, false)
					require.NoError(t, err)
				}
			}
			ageJournals(t, dir)
			if tt.live {
				lockJournal(t, journal)
			}
			// The snapshot holds its start and its first record.
			snap := tree.NewBuilder()
			for _, line := range lines[:2] {
				_, err := snap.AddLine([]byte(line), journal, false)
				require.NoError(t, err)
			}
			tailWrite(t, filepath.Join(dir, snap.FileName(id)), string(snap.LiveJSON(id)))
			want := snap.LiveJSON(id) // the tree file's head
			switch {
			case tt.rebuilt && tt.live:
				want = all.LiveJSON(id) // as serve shows it
			case tt.rebuilt:
				want = all.JSON(id)
			}
			wantHead, err := headOf(bufio.NewReader(bytes.NewReader(want)))
			require.NoError(t, err)
			if tt.rebuilt {
				require.Equal(t, tt.want, wantHead.Status, "as the journals make it")
			} else {
				wantHead.Status = tt.want
			}

			code, stdout, stderr := runCLI(t, "ls", "-json", dir)
			require.Equal(t, 0, code, stderr)
			assert.Empty(t, stderr)
			var doc struct{ Workflows []dirWorkflow }
			require.NoError(t, json.Unmarshal([]byte(stdout), &doc))
			require.Len(t, doc.Workflows, 1, stdout)
			got := doc.Workflows[0]
			assert.Equal(t, filepath.Join(dir, snap.FileName(id)), got.File)
			assert.Equal(t, wantHead, got.treeHead)
		})
	}
}

// A line that names its workflow late (its members in another order than
// the handler's) is of the workflow of its tree file, which stands, as
// build keeps it: the journals do not hold the workflow's start.
func TestLsKeepsATreeFileBesideALineOfItsWorkflowInAnotherOrder(t *testing.T) {
	dir, id, lines := endedJournal(t, false, 0)
	jd := filepath.Join(dir, tree.JournalDir)
	require.NoError(t, os.Mkdir(jd, 0o700))
	tailWrite(t, filepath.Join(jd, tree.JournalName(time.Now(), 4242, 1)),
		`{"time":"2099-01-01T00:00:00.000000000Z","ev":"record","scope":"`+id+`","level":"INFO","msg":"late","wf":"`+id+`"}`+"\n")
	ageJournals(t, dir)
	b := tree.NewBuilder()
	for _, line := range lines {
		_, err := b.AddLine([]byte(line), "", false)
		require.NoError(t, err)
	}
	tailWrite(t, filepath.Join(dir, b.FileName(id)), string(b.JSON(id)))
	rows := lsRows(t, dir)
	require.Len(t, rows, 2)
	assert.Equal(t, []string{"left", id, "completed"}, rows[1][:3])
}

// endedJournal returns an empty directory, and the journal lines of a
// workflow that logged two records (one with usage) and pad more, then
// ended or failed, its end last, as the handler wrote them.
func endedJournal(t *testing.T, fail bool, pad int) (dir, id string, lines []string) {
	t.Helper()
	logged := t.TempDir()
	logInto(t, logged, func(ctx context.Context, l *slog.Logger) {
		ctx, wf := slogwf.StartWorkflow(ctx, "left")
		id = wf.ID()
		l.InfoContext(ctx, "first")
		l.InfoContext(ctx, "calling", slogwf.Model("m"), slogwf.Tokens(100, 20))
		for range pad {
			l.InfoContext(ctx, strings.Repeat("x", 1000))
		}
		if fail {
			l.ErrorContext(ctx, "no model")
			wf.Fail(errors.New("gave up"))
			return
		}
		wf.End()
	})
	journals, err := filepath.Glob(filepath.Join(logged, tree.JournalDir, "*.jsonl"))
	require.NoError(t, err)
	require.Len(t, journals, 1)
	data, err := os.ReadFile(journals[0])
	require.NoError(t, err)
	lines = slices.Collect(strings.Lines(string(data)))
	require.Contains(t, lines[len(lines)-1], `{"ev":"end","wf":"`+id+`","id":"`+id+`"`)
	return t.TempDir(), id, lines
}

// A journal segment's NUL padding (a live or crashed writer's tail, a
// power loss's hole) is no line: ls lists the workflows as without it.
func TestLsListsAPaddedJournalAsWithoutItsPadding(t *testing.T) {
	pad := func(n int) string { return strings.Repeat("\x00", n) }
	d := writeLsDir(t)
	lines, err := os.ReadFile(d.crashedJournal)
	require.NoError(t, err)
	first, second, _ := strings.Cut(string(lines), "\n")
	first += "\n"
	half := `{"ev":"record","wf":"` + d.crashed + `","scope":"`
	want := lsRows(t, d.dir)
	tailWrite(t, d.crashedJournal, first+second+half)
	ageJournals(t, d.dir)
	withHalf := lsRows(t, d.dir)
	tests := []struct {
		name, journal string
		want          [][]string
	}{
		{"a NUL tail after the last line", first + second + pad(1<<20), want},
		{"a short NUL tail", first + second + pad(100), want},
		{"a NUL hole between lines", first + pad(4096) + second, want},
		{"a short NUL hole between lines", first + pad(100) + second + pad(100), want},
		{"a half line, then NULs", first + second + half + pad(1<<20), withHalf},
		{"a half line, then a few NULs", first + second + half + pad(100), withHalf},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tailWrite(t, d.crashedJournal, tt.journal)
			only := filepath.Join(d.dir, "other-0000c0df.98.jsonl") // a process that crashed before its first line
			tailWrite(t, only, pad(1<<20))
			ageJournals(t, d.dir)
			assert.Equal(t, tt.want, lsRows(t, d.dir))
		})
	}
}

// ls lists each workflow as the tree that slogwf build keeps of it (and
// serve shows): its tree file where the journals lack the workflow's start
// or hold less of it (retention removed segments, or some were removed by
// hand), else the tree its journals make (a running snapshot a crash left,
// a tree file written before the workflow's last lines).
func TestLsShowsTheWorkflowThatBuildKeeps(t *testing.T) {
	running := func(t *testing.T, s spread) {
		snap := strings.Replace(string(s.final), `"status":"completed"`, `"status":"running"`, 1)
		require.NotEqual(t, string(s.final), snap)
		require.NoError(t, os.WriteFile(s.path, []byte(snap), 0o600))
	}
	onlyStart := func(t *testing.T, s spread) { // the segment with its start
		for _, name := range s.journals {
			if name != s.start {
				require.NoError(t, os.Remove(name))
			}
		}
	}
	for _, tt := range []struct {
		name, workflow string
		cut            func(t *testing.T, dir string, s spread)
	}{
		{"retention removed the segments before its late record's", "old", func(t *testing.T, dir string, s spread) { pruneBeforeLate(t, dir, s) }},
		{"of a workflow with no name", "", func(t *testing.T, dir string, s spread) { pruneBeforeLate(t, dir, s) }},
		{"the journals hold its start and records, not its end", "old", func(t *testing.T, _ string, s spread) { onlyStart(t, s) }},
		{"the segment with its end was removed", "old", func(t *testing.T, _ string, s spread) { require.NoError(t, os.Remove(s.end)) }},
		{"the segment with its start was removed", "old", func(t *testing.T, _ string, s spread) { require.NoError(t, os.Remove(s.start)) }},
		{"the segment with an interaction's end and its tokens was removed", "old", func(t *testing.T, _ string, s spread) { require.NoError(t, os.Remove(s.tokens)) }},
		{"its end removed, its tree file's members sorted by another tool", "old", sortAfterEndRemoved},
		{"its tree file rebuilt from the segment of its start", "old", func(t *testing.T, _ string, s spread) {
			code, _, stderr := runCLI(t, "build", "-o", s.path, s.start)
			require.Equal(t, 0, code, stderr)
		}},
		{"its tree file written before its late record", "old", func(t *testing.T, _ string, s spread) {
			early := slices.DeleteFunc(slices.Clone(s.journals), func(name string) bool { return name == s.late })
			code, _, stderr := runCLI(t, append([]string{"build", "-workflow", s.id, "-o", s.path}, early...)...)
			require.Equal(t, 0, code, stderr)
		}},
		{"a running snapshot beside the segment of its start", "old", func(t *testing.T, _ string, s spread) {
			running(t, s)
			onlyStart(t, s)
		}},
		{"a running snapshot beside all its segments but its end's", "old", func(t *testing.T, _ string, s spread) {
			running(t, s)
			require.NoError(t, os.Remove(s.end))
		}},
		{"a running snapshot beside all its segments", "old", func(t *testing.T, _ string, s spread) { running(t, s) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := logSpread(t, dir, tt.workflow)
			tt.cut(t, dir, s)
			ageJournals(t, dir) // its process died long ago

			code, stdout, stderr := runCLI(t, "ls", "-json", dir)
			require.Equal(t, 0, code, stderr)
			assert.Empty(t, stderr)
			var doc struct{ Workflows []dirWorkflow }
			require.NoError(t, json.Unmarshal([]byte(stdout), &doc))
			listed := map[string]dirWorkflow{}
			for _, w := range doc.Workflows {
				listed[w.ID] = w
			}
			require.Contains(t, listed, s.id)

			code, _, stderr = runCLI(t, "build", dir)
			require.Equal(t, 0, code, stderr)
			files, err := filepath.Glob(filepath.Join(dir, "*.json"))
			require.NoError(t, err)
			kept := map[string]dirWorkflow{}
			for _, name := range files {
				h, err := readTreeHead(name, make([]byte, 16<<10))
				require.NoError(t, err)
				kept[h.ID] = dirWorkflow{treeHead: h, File: name}
			}
			assert.ElementsMatch(t, slices.Collect(maps.Keys(kept)), slices.Collect(maps.Keys(listed)))
			for id, w := range kept {
				assert.Equal(t, w, listed[id], "workflow %s %s", w.Name, id)
			}
		})
	}
}

// A record line of a finished workflow not as the handler writes it
// (another tool wrote it) is one more record of it: ls lists the workflow
// as build then keeps it, the tree its journals make.
func TestLsCountsARecordLineInAnotherOrderAsBuildDoes(t *testing.T) {
	for _, tt := range []struct{ name, line string }{
		{"its workflow first", `{"wf":"ID","ev":"record","scope":"ID","time":"T","level":"INFO","msg":"another tool"}`},
		{"with spaces", `{"ev": "record", "wf": "ID", "scope": "ID", "time": "T", "level": "INFO", "msg": "another tool"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir, id, lines := endedJournal(t, false, 0)
			jd := filepath.Join(dir, tree.JournalDir)
			require.NoError(t, os.Mkdir(jd, 0o700))
			var start struct{ Time string }
			require.NoError(t, json.Unmarshal([]byte(lines[0]), &start))
			other := strings.NewReplacer(`"ID"`, `"`+id+`"`, `"T"`, `"`+start.Time+`"`).Replace(tt.line) + "\n"
			tailWrite(t, filepath.Join(jd, tree.JournalName(time.Now(), 4242, 1)), strings.Join(lines, "")+other)
			b := tree.NewBuilder()
			for _, line := range lines {
				_, err := b.AddLine([]byte(line), "", false)
				require.NoError(t, err)
			}
			treeFile := filepath.Join(dir, b.FileName(id))
			tailWrite(t, treeFile, string(b.JSON(id)))
			ageJournals(t, dir)

			code, stdout, stderr := runCLI(t, "ls", "-json", dir)
			require.Equal(t, 0, code, stderr)
			var doc struct{ Workflows []dirWorkflow }
			require.NoError(t, json.Unmarshal([]byte(stdout), &doc))
			require.Len(t, doc.Workflows, 1, stdout)

			code, _, stderr = runCLI(t, "build", dir)
			require.Equal(t, 0, code, stderr)
			kept, err := readTreeHead(treeFile, make([]byte, 16<<10))
			require.NoError(t, err)
			require.Equal(t, int64(3), kept.Counts.Records, "build keeps the tree the journals make")
			assert.Equal(t, kept, doc.Workflows[0].treeHead)
		})
	}
}
