// Package retention decides which files of a directory of workflows
// (Options.Dir) may go, and removes them: the tree files and journal
// segments of workflows that ended long ago, or the oldest of them while
// the directory holds too much; never the tree file of a running workflow,
// nor a journal segment that holds a line of one, nor a segment that a
// process still writes (it holds a flock on it). A workflow runs when its
// tree file says so, or when it has none but its start is in a segment of
// a live process, and its end in none: a process is live while it holds
// the lock on its newest segment, or wrote it lately (see Live). The
// handler applies it at New and periodically; `slogwf prune` applies it
// once.
package retention

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/slogwf/slogwf/internal/flock"
	"github.com/slogwf/slogwf/internal/tree"
)

// Policy says what may go.
type Policy struct {
	// Files last written longer ago go; 0: no limit.
	MaxAge time.Duration
	// The oldest files go while the directory holds more; 0: no limit. The
	// size of a segment that a process writes, or left when it crashed,
	// counts the NUL padding that it grows by (up to 2 MiB, see
	// tree.LineReader): what it takes on disk.
	MaxBytes int64
}

// Grace is how long a file is kept after it was last written, whatever the
// policy: a segment just created is not yet locked, a tree being written
// is a temporary file.
const Grace = time.Minute

// Pruner removes files by a Policy. It remembers which workflows the
// journal segments it read hold, so that it reads a segment once.
type Pruner struct {
	// Running reports whether workflow id runs, besides those whose tree
	// file says so: the workflows of the process that prunes. Nil: none.
	Running func(id string) bool

	// DryRun makes Prune remove nothing: its Result says what would go.
	DryRun bool

	segments map[string]segment // journal → what it holds, when read
	scans    int                // of segments, for the tests
}

// segment is a journal segment as read: its size and time then, the
// workflows with a line in it (when whole), and those it holds the start
// of and not the end (open), the end and not the start (closed), or both
// (ended); padded when it holds NUL padding.
type segment struct {
	size                int64
	mod                 time.Time
	whole, padded       bool
	workflows           []string
	open, closed, ended []string
}

// Result is what Prune removed, or would remove.
type Result struct {
	Removed []string // paths in the directory
	Freed   int64    // bytes
	Left    int64    // bytes of tree files and journals left
}

// file is a tree file, a journal or a temporary file of the directory.
type file struct {
	name    string // path in the directory
	size    int64
	mod     time.Time
	journal bool
	temp    bool   // a tree file being written, or that a crash left
	fileID  string // of a tree file
}

// Prune removes from the directory root what pol lets go at time now,
// oldest first, and returns what it removed. It goes on past a file it
// cannot remove, and returns the first such error.
func (p *Pruner) Prune(root *os.Root, pol Policy, now time.Time) (Result, error) {
	var res Result
	files, err := list(root)
	if err != nil {
		return res, err
	}
	// By time, and the segments of equal times by name: by when they began.
	slices.SortFunc(files, func(a, b file) int { return cmp.Or(a.mod.Compare(b.mod), strings.Compare(a.name, b.name)) })
	trees := map[string]file{} // by file ID
	for _, f := range files {
		res.Left += f.size
		if f.fileID != "" {
			trees[f.fileID] = f
		}
	}
	heads := map[string]head{} // of the tree files read, by file ID
	headOf := func(t file) head {
		h, ok := heads[t.fileID]
		if !ok {
			h = readHead(root, t.name)
			heads[t.fileID] = h
		}
		return h
	}
	// A workflow runs when this process says so, or when its tree file
	// says so or cannot be read. One without a tree file may run in a live
	// process, not yet snapshot; or else it ended long ago (its tree went),
	// or its process crashed before its first snapshot.
	runs := func(h head) bool {
		return h.Status == "" || h.Status == tree.StatusRunning || p.Running != nil && p.Running(h.ID)
	}
	live := p.readLive(root, files, now, mayGo(files, pol, now, res.Left))
	running := func(id string) bool {
		if p.Running != nil && p.Running(id) {
			return true
		}
		if t, ok := trees[tree.FileID(id)]; ok {
			return runs(headOf(t))
		}
		return live.runs(id)
	}
	remove := root.Remove
	if p.DryRun {
		remove = func(string) error { return nil }
	}
	// The tree file of a workflow stays while the segment with its start
	// does, which may outlive the one with its end: a workflow without a
	// tree file whose start is in the journal, and its end not, runs (see
	// liveness).
	kept := map[string]bool{}
	var firstErr error
	for _, f := range files {
		old := pol.MaxAge > 0 && now.Sub(f.mod) > pol.MaxAge
		full := pol.MaxBytes > 0 && res.Left > pol.MaxBytes
		if !old && !full || now.Sub(f.mod) < Grace {
			continue
		}
		var err error
		removed := false
		switch {
		case f.temp:
			removed, err = true, remove(f.name)
		case f.journal:
			removed, err = p.removeSegment(root, f, running, remove)
			if !removed {
				// A locked one removeSegment did not read: its starts
				// keep their trees too.
				s, _ := p.read(root, f, false)
				for _, wf := range s.open {
					kept[wf] = true
				}
			}
		default:
			if h := headOf(f); !runs(h) && !kept[h.ID] {
				removed, err = true, remove(f.name)
			}
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			firstErr = cmp.Or(firstErr, err)
			continue
		}
		if removed {
			res.Removed = append(res.Removed, f.name)
			res.Freed += f.size
			res.Left -= f.size
		}
	}
	return res, firstErr
}

// mayGo returns a function that reports whether pol may let the file f go,
// of files, sorted by time, that hold left bytes: whether it is old, or
// among the oldest that hold what is over MaxBytes.
func mayGo(files []file, pol Policy, now time.Time, left int64) func(f file) bool {
	var over time.Time // the files before it hold what is over MaxBytes
	for _, f := range files {
		if pol.MaxBytes == 0 || left <= pol.MaxBytes {
			break
		}
		left -= f.size
		over = f.mod.Add(1)
	}
	return func(f file) bool {
		return pol.MaxAge > 0 && now.Sub(f.mod) > pol.MaxAge || f.mod.Before(over)
	}
}

// removeSegment removes the journal f with remove unless a process writes
// it (it is locked) or a workflow with a line in it runs. It holds the lock
// while it removes the segment, so that no process starts writing it
// meanwhile.
func (p *Pruner) removeSegment(root *os.Root, f file, running func(string) bool, remove func(string) error) (bool, error) {
	h, err := root.Open(f.name)
	if err != nil {
		return false, err
	}
	defer h.Close()
	if ok, err := flock.TryLock(h); !ok || err != nil {
		return false, err // being written
	}
	s, err := p.read(root, f, true)
	if err != nil || slices.ContainsFunc(s.workflows, running) {
		return false, err
	}
	delete(p.segments, f.name)
	return true, remove(f.name)
}

// read returns what the segment f holds: as read before, when it did not
// change since. The workflows with a line in it are kept only when whole:
// they are many, and needed only of the segments that may go.
func (p *Pruner) read(root *os.Root, f file, whole bool) (segment, error) {
	s, ok := p.segments[f.name]
	if !ok || s.size != f.size || !s.mod.Equal(f.mod) || whole && !s.whole {
		r, err := root.Open(f.name)
		if err != nil {
			return s, err
		}
		s = scan(r)
		r.Close()
		p.scans++
		s.size, s.mod, s.whole = f.size, f.mod, whole
		if !whole {
			s.workflows = nil
		}
		if s.padded {
			// A line copied into its mapping changes neither its size
			// nor its time: it is read again.
			delete(p.segments, f.name)
			return s, nil
		}
		if p.segments == nil {
			p.segments = map[string]segment{}
		}
		p.segments[f.name] = s
	}
	return s, nil
}

// liveness is what the segments of live processes say of the workflows
// that have no tree file.
type liveness struct {
	started  map[string]bool // its start is in one
	finished map[string]bool // its end is in one
	// unread are the segments that may not go, read only when a workflow
	// is asked of that the others do not tell: they are most of a journal
	// that MaxAge keeps.
	unread []file
	read   func(f file) (segment, error)
}

// add takes in what segment s says.
func (l *liveness) add(s segment) {
	for _, wf := range s.open {
		l.started[wf] = true
	}
	for _, wf := range s.closed {
		l.finished[wf] = true
	}
	for _, wf := range s.ended {
		l.started[wf], l.finished[wf] = true, true
	}
}

// runs reports whether workflow id, which has no tree file, runs: its
// start is in a segment of a live process and its end is in none. One
// whose start went ended long ago: its lines left are late records (a
// workflow starts once: its ID is new, and a child process writes no start
// of it). Unless
// the segments read show both its start and end, it reads the others
// first: its start may be in a younger one (its lines here are a child
// process's), or its end.
func (l *liveness) runs(id string) bool {
	if len(l.unread) > 0 && !(l.started[id] && l.finished[id]) {
		for _, f := range l.unread {
			if s, err := l.read(f); err == nil {
				l.add(s)
			}
		}
		l.unread = nil
	}
	return l.started[id] && !l.finished[id]
}

// readLive reads the segments of the live processes (see Live) that may
// go, leaves the others for when they are needed (see liveness.runs), and
// forgets the segments that are gone. files are sorted by time.
func (p *Pruner) readLive(root *os.Root, files []file, now time.Time, mayGo func(file) bool) *liveness {
	l := &liveness{started: map[string]bool{}, finished: map[string]bool{},
		read: func(f file) (segment, error) { return p.read(root, f, false) }}
	byProcess := map[string][]file{}
	listed := map[string]bool{}
	for _, f := range files {
		if !f.journal {
			continue
		}
		listed[f.name] = true
		w := Writer(f.name)
		byProcess[w] = append(byProcess[w], f)
	}
	maps.DeleteFunc(p.segments, func(name string, _ segment) bool { return !listed[name] })
	for _, segs := range byProcess {
		all := make([]Segment, len(segs))
		for i, f := range segs {
			all[i] = Segment{f.name, f.mod}
		}
		writing, live := Live(root.Open, all, now)
		if !live {
			continue // ended, or crashed: its workflows without a tree ended too
		}
		for _, f := range segs {
			if f.name == writing || !mayGo(f) {
				l.unread = append(l.unread, f)
				continue
			}
			if s, err := p.read(root, f, true); err == nil { // else gone meanwhile
				l.add(s)
			}
		}
	}
	return l
}

// list returns the tree files, journals and temporary tree files of the
// directory root, and the journals of its journal directory: the files
// named as slogwf names them (see tree.IsJournal and tree.TempName).
func list(root *os.Root) ([]file, error) {
	var files []file
	for _, dir := range []string{".", tree.JournalDir} {
		d, err := root.Open(dir)
		if errors.Is(err, fs.ErrNotExist) && dir != "." {
			continue
		}
		if err != nil {
			return nil, err
		}
		entries, err := d.ReadDir(-1)
		d.Close()
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if !e.Type().IsRegular() {
				continue
			}
			// Only the files named as slogwf names its own: another
			// program's files may share the directory.
			f := file{name: path.Join(dir, e.Name())}
			_, fid, isTree := tree.ParseTreeFile(e.Name())
			switch {
			case tree.IsJournal(e.Name()):
				f.journal = true
			case dir != ".":
				continue
			case isTree:
				f.fileID = fid
			default:
				target, ok := tree.TempOf(e.Name())
				if f.temp = ok && slogwfWrites(target); !f.temp {
					continue
				}
			}
			info, err := e.Info()
			if err != nil {
				continue // gone meanwhile
			}
			f.size, f.mod = info.Size(), info.ModTime()
			files = append(files, f)
		}
	}
	return files, nil
}

// slogwfWrites reports whether slogwf writes the file name in Dir, by a
// temporary file renamed over it: a tree file, the page of slogwf html
// (<tree file's name>.html, or workflows.html for several), or the state
// of export -otlp -f (.slogwf-export.<hash>.state).
func slogwfWrites(name string) bool {
	if page, ok := strings.CutSuffix(name, ".html"); ok {
		_, _, ok = tree.ParseTreeFile(page + ".json")
		return ok || name == "workflows.html"
	}
	if hash, ok := strings.CutPrefix(name, ".slogwf-export."); ok {
		hash, ok = strings.CutSuffix(hash, ".state")
		return ok && len(hash) == 16 && strings.Trim(hash, "0123456789abcdef") == ""
	}
	_, _, ok := tree.ParseTreeFile(name)
	return ok
}

// scan reads the journal r for the workflows with a line in it, and
// those it holds the start or end of; its NUL padding is no line (see
// tree.LineReader).
func scan(r io.Reader) segment {
	seen := map[string]string{} // workflow → tree.Start, tree.End, both or none
	var s segment
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		n, err := tree.SkipPadding(br)
		s.padded = s.padded || n > 0
		if err != nil {
			break
		}
		line, err := br.ReadSlice('\n')
		s.padded = s.padded || bytes.IndexByte(line, 0) >= 0
		if wf := tree.WorkflowOf(line); wf != "" {
			seen[wf] += tree.BoundOf(line, wf)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: its start is read; skip the rest.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
		}
		if err != nil {
			break
		}
	}
	for _, wf := range slices.Sorted(maps.Keys(seen)) {
		s.workflows = append(s.workflows, wf)
		switch seen[wf] {
		case tree.Start:
			s.open = append(s.open, wf)
		case tree.End:
			s.closed = append(s.closed, wf)
		case tree.Start + tree.End:
			s.ended = append(s.ended, wf)
		}
	}
	return s
}

// head is the start of a tree file: what says which workflow it is, and
// whether it runs.
type head struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// readHead returns the id and status of the tree file name, read from its
// start; an empty status when it cannot be read.
func readHead(root *os.Root, name string) head {
	f, err := root.Open(name)
	if err != nil {
		return head{}
	}
	defer f.Close()
	d := json.NewDecoder(bufio.NewReader(f))
	var h head
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return head{}
	}
	for d.More() && (h.ID == "" || h.Status == "") {
		k, err := d.Token()
		if err != nil {
			return head{}
		}
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return head{}
		}
		switch k {
		case "id":
			_ = json.Unmarshal(v, &h.ID)
		case "status":
			_ = json.Unmarshal(v, &h.Status)
		}
	}
	return h
}
