// Package retention decides which files of a directory of workflows
// (Options.Dir) may go, and removes them: the tree files and journal
// segments of workflows that ended long ago, or the oldest of them while
// the directory holds too much; never the tree file of a running workflow,
// nor a journal segment that holds a line of one, nor a segment that a
// process still writes (it holds a flock on it). The handler applies it at
// New and periodically; `slogwf prune` applies it once.
package retention

import (
	"bufio"
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
	MaxAge   time.Duration // files last written longer ago go; 0: no limit
	MaxBytes int64         // the oldest files go while the directory holds more; 0: no limit
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
}

// segment is a journal segment as read: its size and time then, and the
// workflows with a line in it.
type segment struct {
	size      int64
	mod       time.Time
	workflows []string
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
	slices.SortFunc(files, func(a, b file) int { return a.mod.Compare(b.mod) })
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
	// says so or cannot be read; one without a tree file ended long ago,
	// or never had a tree.
	runs := func(h head) bool {
		return h.Status == "" || h.Status == tree.StatusRunning || p.Running != nil && p.Running(h.ID)
	}
	running := func(id string) bool {
		if p.Running != nil && p.Running(id) {
			return true
		}
		t, ok := trees[tree.FileID(id)]
		return ok && runs(headOf(t))
	}
	remove := root.Remove
	if p.DryRun {
		remove = func(string) error { return nil }
	}
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
		case strings.HasSuffix(f.name, ".tmp"):
			removed, err = true, remove(f.name)
		case f.journal:
			removed, err = p.removeSegment(root, f, running, remove)
		default:
			if !runs(headOf(f)) {
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
	s, ok := p.segments[f.name]
	if !ok || s.size != f.size || !s.mod.Equal(f.mod) {
		s = segment{size: f.size, mod: f.mod, workflows: workflowsIn(h)}
		if p.segments == nil {
			p.segments = map[string]segment{}
		}
		p.segments[f.name] = s
	}
	if slices.ContainsFunc(s.workflows, running) {
		return false, nil
	}
	delete(p.segments, f.name)
	return true, remove(f.name)
}

// list returns the tree files, journals and temporary files of the
// directory root, and of its journal directory.
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
			f := file{name: path.Join(dir, e.Name())}
			switch {
			case strings.HasSuffix(f.name, ".jsonl"):
				f.journal = true
			case strings.HasSuffix(f.name, ".tmp") && dir == ".":
			default:
				_, fid, ok := tree.ParseTreeFile(f.name)
				if !ok || dir != "." {
					continue
				}
				f.fileID = fid
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

// workflowsIn returns the workflows with a line in the journal r.
func workflowsIn(r io.Reader) []string {
	seen := map[string]bool{}
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadSlice('\n')
		if wf := tree.WorkflowOf(line); wf != "" {
			seen[wf] = true
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
	return slices.Sorted(maps.Keys(seen))
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
