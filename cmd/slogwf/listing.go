package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/slogwf/slogwf"
	"github.com/slogwf/slogwf/internal/flock"
	"github.com/slogwf/slogwf/internal/retention"
	"github.com/slogwf/slogwf/internal/tree"
)

// dirWorkflow is a workflow of a directory, as its tree file's head says, or
// as its journals say when it has no tree file (a process that crashed, or
// a workflow that has not written its first tree yet).
type dirWorkflow struct {
	treeHead
	File string `json:"file,omitempty"` // its tree file; "" for a workflow found in journals only
}

// listWorkflows returns the workflows of the directory dir: one per tree
// file, of which it reads only the head, and one per workflow that only
// journals (in dir and in its journal directory) hold, rebuilt as build
// would. A workflow with a tree file is rebuilt so too where build
// replaces its tree file and serve shows its journals (see
// treeFileStands); a tree file that says running and stands is
// incomplete, unless a process that wrote a journal holding a line of it
// is live (see retention.Live). Files that it cannot read it reports to
// warn, and skips.
func listWorkflows(dir string, warn func(error)) ([]dirWorkflow, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err // it names dir
	}
	entries, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	// A pipe, a device or a socket could keep a read waiting for ever:
	// only regular files are read.
	regular := func(path string, typ fs.FileMode) bool {
		if typ&fs.ModeSymlink != 0 {
			st, err := os.Stat(path)
			typ = fs.ModeIrregular
			if err == nil {
				typ = st.Mode()
			}
		}
		if !typ.IsRegular() {
			warn(notRegular{path})
		}
		return typ.IsRegular()
	}
	var treeFiles, journals []string
	for _, e := range entries {
		name, path := e.Name(), filepath.Join(dir, e.Name())
		ext := filepath.Ext(name)
		if e.IsDir() || strings.HasPrefix(name, ".") || ext != ".json" && ext != ".jsonl" {
			continue
		}
		if ext == ".jsonl" && !tree.IsJournal(name) {
			warn(notJournal{path})
			continue
		}
		if !regular(path, e.Type()) {
			continue
		}
		if ext == ".json" {
			treeFiles = append(treeFiles, path)
		} else {
			journals = append(journals, path)
		}
	}
	inner, err := filepath.Glob(filepath.Join(dir, tree.JournalDir, "*.jsonl"))
	if err != nil {
		return nil, err
	}
	for _, path := range inner {
		if !tree.IsJournal(path) {
			warn(notJournal{path})
		} else if st, err := os.Lstat(path); err == nil && regular(path, st.Mode()) {
			journals = append(journals, path)
		}
	}

	list := make([]dirWorkflow, len(treeFiles))
	errs := make([]error, len(treeFiles))
	parallel(len(treeFiles), func(next func() (int, bool)) {
		buf := make([]byte, 16<<10)
		for i, ok := next(); ok; i, ok = next() {
			list[i].File = treeFiles[i]
			list[i].treeHead, errs[i] = readTreeHead(treeFiles[i], buf)
		}
	})
	// A tree file says running until its final tree replaces it: when no
	// process that wrote a line of its workflow writes any more, its
	// process ended without one (it crashed), and the workflow is
	// incomplete, as build makes it. Where files are not locked, that
	// cannot be told: it stays running.
	withTree := make(map[string]int, len(list)) // by ID: its index in kept
	kept := list[:0]
	for i, l := range list {
		switch _, dup := withTree[l.ID]; {
		case errs[i] != nil:
			warn(fmt.Errorf("%s: %w, skipped", l.File, errs[i]))
		case dup:
			// Two tree files of one workflow: a copy; the first stands.
		default:
			withTree[l.ID] = len(kept)
			kept = append(kept, l)
		}
	}
	writers := retention.NewWriters(journals, os.Open, os.Stat, time.Now())
	rebuilt, busy := journalsOnly(journals, kept, withTree, writers.Live, warn)
	replaced := map[string]treeHead{}
	for _, w := range rebuilt {
		if _, ok := withTree[w.ID]; ok {
			replaced[w.ID] = w.treeHead
		} else {
			kept = append(kept, w)
		}
	}
	for i, l := range kept {
		switch h, ok := replaced[l.ID]; {
		case ok:
			kept[i].treeHead = h
		case flock.Supported && l.File != "" && l.Status == tree.StatusRunning && !busy[l.ID]:
			kept[i].Status = tree.StatusIncomplete
		}
	}
	return kept, nil
}

// readTreeHead reads the head of the tree file name, in one read into buf
// when the head fits.
func readTreeHead(name string, buf []byte) (treeHead, error) {
	n, err := readStart(name, buf)
	if err != nil {
		return treeHead{}, err
	}
	var s headScan
	if head, ok := s.scan(buf[:n]); ok {
		return unmarshalHead(head)
	}
	if !s.other && n < len(buf) {
		return treeHead{}, errors.New("not a tree file: it ends too soon")
	}
	f, err := os.Open(name)
	if err != nil {
		return treeHead{}, err
	}
	defer f.Close()
	h, err := headOf(bufio.NewReader(f))
	if errors.Is(err, errNoHead) {
		// Not as slogwf writes it (its members sorted, say): read whole.
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return h, err
		}
		root, err := decodeTreeFile(bufio.NewReader(f), nil)
		if err != nil {
			return h, err
		}
		return root.head(), nil
	}
	return h, err
}

// readStart reads the start of the file name into buf, as much as fits,
// with as few system calls as can be: many files are read.
func readStart(name string, buf []byte) (int, error) {
	fd, err := syscall.Open(name, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	for errors.Is(err, syscall.EINTR) {
		fd, err = syscall.Open(name, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	}
	if err != nil {
		return 0, err
	}
	defer syscall.Close(fd)
	n := 0
	for n < len(buf) {
		k, err := syscall.Read(fd, buf[n:])
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case err != nil:
			return n, err
		case k == 0:
			return n, nil
		}
		n += k
	}
	return n, nil
}

// headOf decodes the head of the tree file that br reads.
func headOf(br *bufio.Reader) (treeHead, error) {
	head, _, err := readHead(br)
	if err != nil {
		return treeHead{}, err
	}
	return unmarshalHead(head)
}

// unmarshalHead decodes the head of a tree file.
func unmarshalHead(head []byte) (treeHead, error) {
	var h treeHead
	err := decodeHead(head, &h)
	if err == nil && h.Schema != slogwf.Schema {
		err = fmt.Errorf("not a %s tree file", slogwf.Schema)
	}
	return h, err
}

// journalsOnly returns the workflows of the journals rebuilt from them:
// those that have no tree file (not in withTree, which gives the index in
// files of those that have one), and those whose tree file the tree that
// the journals make replaces, as build replaces it (see
// treeFileStands); running while the process that wrote one of a
// workflow's lines is live, as inUse says of the journal that holds it.
// busy says which workflows such a process writes: those without tree
// file, those whose tree file says running, and those rebuilt.
//
// The lines of a workflow with a tree file it counts without decoding
// them, and decodes them, reading again the journals that hold them, only
// when they hold its start and may make another tree than its tree file:
// a running one, or one that holds another number of records, or whose end
// they hold where it has none, or the reverse, or where a line is not as
// the handler writes it, which they cannot count. Else they make the tree of
// the tree file, which a directory of finished workflows holds of each: ls
// reads none of their lines twice.
func journalsOnly(journals []string, files []dirWorkflow, withTree map[string]int, inUse func(journal string) bool, warn func(error)) (list []dirWorkflow, busy map[string]bool) {
	b := tree.NewBuilder()
	b.Counting = true
	busy = map[string]bool{}
	unsaid := map[string]bool{} // by ID, of those with tree files
	apply := func(name string, line []byte, inUse bool) {
		e, err := tree.Decode(line)
		if err != nil {
			return // build says which, and counts them
		}
		if _, ok := withTree[e.Workflow]; ok {
			unsaid[e.Workflow] = true // a line whose workflow WorkflowOf cannot tell
		}
		b.Apply(e)
		b.NameFrom(e.Workflow, name)
		busy[e.Workflow] = busy[e.Workflow] || inUse
	}
	// Small journals are read in parallel, a batch at a time, holding the
	// lines of other workflows (most journals hold none); larger ones one
	// by one, a line at a time. So ls holds a batch of small journals and
	// the longest line, whatever it lists.
	const batch = 1024
	bufSize := 64 << 10
	var lr *tree.LineReader // of the journals read a line at a time, made once one is
	lineReader := func() *tree.LineReader {
		if lr == nil {
			lr = tree.NewLineReader(nil, bufSize)
		}
		return lr
	}
	counted := make([]lineCounts, len(files)) // in all the journals
	var told []heldLines                      // the journals that hold lines of files
	running := func(k int) bool { return files[k].Status == tree.StatusRunning }
	for at := 0; at < len(journals); at += batch {
		names := journals[at:min(at+batch, len(journals))]
		lines := make([][][]byte, len(names))
		held := make([]map[int]lineCounts, len(names)) // by index in files
		large := make([]bool, len(names))
		errs := make([]error, len(names))
		parallel(len(names), func(next func() (int, bool)) {
			buf := make([]byte, bufSize)
			for i, ok := next(); ok; i, ok = next() {
				n, err := readStart(names[i], buf)
				switch {
				case err != nil:
					errs[i] = err
				case n == len(buf):
					large[i] = true
				default:
					for line := range tree.Lines(buf[:n]) {
						wf := tree.WorkflowOf(line)
						if k, ok := withTree[wf]; ok {
							held[i] = countLine(held[i], k, wf, line)
						} else {
							lines[i] = append(lines[i], bytes.Clone(line))
						}
					}
				}
			}
		})
		for i, name := range names {
			if large[i] {
				live := inUse(name)
				errs[i] = eachLine(name, lineReader(), func(wf string, line []byte) {
					if k, ok := withTree[wf]; ok {
						held[i] = countLine(held[i], k, wf, line)
					} else {
						apply(name, line, live)
					}
				})
			}
			if errs[i] != nil {
				warn(fmt.Errorf("%s: %w, skipped", name, errs[i]))
				continue
			}
			r := heldLines{journal: name, files: slices.Collect(maps.Keys(held[i]))}
			// Whether a live process writes a finished workflow matters only
			// once it is rebuilt: inUse is asked then.
			live := (len(lines[i]) > 0 || slices.ContainsFunc(r.files, running)) && inUse(name)
			for _, line := range lines[i] {
				apply(name, line, live)
			}
			if r.files == nil {
				continue
			}
			for _, k := range r.files {
				counted[k] = counted[k].add(held[i][k])
				if running(k) {
					busy[files[k].ID] = busy[files[k].ID] || live
				}
			}
			told = append(told, r)
		}
	}
	rebuild := map[string]bool{} // by ID
	for k, c := range counted {
		t := files[k]
		ended := t.Status == tree.StatusCompleted || t.Status == tree.StatusFailed
		if unsaid[t.ID] || c.start && (t.Status == tree.StatusRunning || c.other || c.records != t.Counts.Records || c.end != ended) {
			rebuild[t.ID] = true
		}
	}
	for _, r := range told {
		if !slices.ContainsFunc(r.files, func(k int) bool { return rebuild[files[k].ID] }) {
			continue
		}
		live := inUse(r.journal)
		err := eachLine(r.journal, lineReader(), func(wf string, line []byte) {
			if rebuild[wf] {
				apply(r.journal, line, live)
			}
		})
		if err != nil {
			warn(fmt.Errorf("%s: %w, skipped", r.journal, err))
		}
	}
	for _, id := range b.Workflows() {
		k, hasTree := withTree[id]
		if hasTree && !rebuild[id] {
			continue // its tree file stands, or is what the journals make
		}
		render := b.JSON
		if busy[id] || hasTree && !flock.Supported && running(k) {
			// Where files are not locked, a running tree file's workflow
			// stays running, as serve shows it (see listWorkflows).
			render = b.LiveJSON
		}
		h, err := headOf(bufio.NewReader(bytes.NewReader(render(id))))
		if err != nil {
			warn(fmt.Errorf("the journals of workflow %s: %w", id, err))
			continue
		}
		if _, started := b.Tree(id).Name(); hasTree && treeFileStands(files[k].treeHead, h, started, id) {
			continue
		}
		list = append(list, dirWorkflow{treeHead: h})
	}
	return list, busy
}

// heldLines are a journal, and the workflows with tree files that it
// holds lines of, by index in the files of journalsOnly.
type heldLines struct {
	journal string
	files   []int
}

// lineCounts are the lines of a workflow: whether its start and its end
// are among them, how many records, and whether a line is not as the
// handler writes it (another tool wrote it): then they are decoded.
type lineCounts struct {
	start, end, other bool
	records           int64
}

// countLine counts line, of workflow wf, which has index k, in counts, or
// in the counts that it makes when counts is nil, and returns them.
func countLine(counts map[int]lineCounts, k int, wf string, line []byte) map[int]lineCounts {
	if counts == nil {
		counts = map[int]lineCounts{}
	}
	c := counts[k]
	switch tree.KindOf(line, wf) {
	case tree.Start:
		c.start = true
	case tree.End:
		c.end = true
	case tree.Record:
		c.records++
	case "":
		c.other = true
	}
	counts[k] = c
	return counts
}

// add returns the counts of c's lines and o's.
func (c lineCounts) add(o lineCounts) lineCounts {
	return lineCounts{c.start || o.start, c.end || o.end, c.other || o.other, c.records + o.records}
}

// eachLine passes each line of the journal name, read through lr, to
// take, with its workflow as tree.WorkflowOf tells it. A line is only
// valid during the call.
func eachLine(name string, lr *tree.LineReader, take func(wf string, line []byte)) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	lr.Reset(f)
	for {
		line, err := lr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		take(tree.WorkflowOf(line), line)
	}
}

// parallel runs work on as many goroutines as there are processors, or
// fewer when n is small; each takes the indexes below n from next.
func parallel(n int, work func(next func() (int, bool))) {
	var taken atomic.Int64
	next := func() (int, bool) {
		i := int(taken.Add(1) - 1)
		return i, i < n
	}
	var wg sync.WaitGroup
	for range min(n, 2*runtime.GOMAXPROCS(0)) {
		wg.Go(func() { work(next) })
	}
	wg.Wait()
}
