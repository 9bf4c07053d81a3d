package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
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
// would. A workflow whose tree file says running is rebuilt so too when
// the journals hold its end (its process died between its end and its
// final tree), as serve shows it; else it is incomplete, unless a process
// that wrote a journal holding a line of it is live (see retention.Live).
// Files that it cannot read it reports to warn, and skips.
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
		if e.IsDir() || strings.HasPrefix(name, ".") || ext != ".json" && ext != ".jsonl" || !regular(path, e.Type()) {
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
		if st, err := os.Lstat(path); err == nil && regular(path, st.Mode()) {
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
	withTree := make(map[string]bool, len(list)) // by ID: whether it says running
	kept := list[:0]
	for i, l := range list {
		switch _, dup := withTree[l.ID]; {
		case errs[i] != nil:
			warn(fmt.Errorf("%s: %w, skipped", l.File, errs[i]))
		case dup:
			// Two tree files of one workflow: a copy; the first stands.
		default:
			withTree[l.ID] = l.Status == tree.StatusRunning
			kept = append(kept, l)
		}
	}
	writers := retention.NewWriters(journals, os.Open, os.Stat, time.Now())
	rebuilt, busy := journalsOnly(journals, withTree, writers.Live, warn)
	ended := map[string]treeHead{}
	for _, w := range rebuilt {
		if _, ok := withTree[w.ID]; ok {
			ended[w.ID] = w.treeHead
		} else {
			kept = append(kept, w)
		}
	}
	for i, l := range kept {
		switch h, ok := ended[l.ID]; {
		case ok:
			kept[i].treeHead = h
		case flock.Supported && withTree[l.ID] && !busy[l.ID]:
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
// those that have no tree file (not in withTree), and those whose tree
// file says running (true in withTree) and whose start and end the
// journals hold; running while the process that wrote one of a workflow's
// lines is live, as inUse says of the journal that holds it. busy says
// which workflows such a process writes: those without tree file, and
// those true in withTree. The lines of a workflow with a tree file it
// decodes only once it has seen its end, reading again the journals that
// hold them.
func journalsOnly(journals []string, withTree map[string]bool, inUse func(journal string) bool, warn func(error)) (list []dirWorkflow, busy map[string]bool) {
	b := tree.NewBuilder()
	b.Counting = true
	busy = map[string]bool{}
	apply := func(name string, line []byte, inUse bool) {
		e, err := tree.Decode(line)
		if err != nil {
			return // build says which, and counts them
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
	ended := map[string]bool{} // true in withTree, whose end was seen
	var told []*runningLines   // of the journals that hold lines of those true in withTree
	for at := 0; at < len(journals); at += batch {
		names := journals[at:min(at+batch, len(journals))]
		lines := make([][][]byte, len(names))
		held := make([]*runningLines, len(names))
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
						switch tell, ok := withTree[wf]; {
						case !ok:
							lines[i] = append(lines[i], bytes.Clone(line))
						case tell:
							held[i] = held[i].add(names[i], wf, line)
						}
					}
				}
			}
		})
		for i, name := range names {
			if large[i] {
				live := inUse(name)
				errs[i] = eachLine(name, lineReader(), func(wf string, line []byte) {
					switch tell, ok := withTree[wf]; {
					case !ok:
						apply(name, line, live)
					case tell:
						held[i] = held[i].add(name, wf, line)
					}
				})
			}
			if errs[i] != nil {
				warn(fmt.Errorf("%s: %w, skipped", name, errs[i]))
				continue
			}
			live := (len(lines[i]) > 0 || held[i] != nil) && inUse(name)
			for _, line := range lines[i] {
				apply(name, line, live)
			}
			if r := held[i]; r != nil {
				for _, wf := range r.wfs {
					busy[wf] = busy[wf] || live
				}
				for _, wf := range r.ends {
					ended[wf] = true
				}
				told = append(told, r)
			}
		}
	}
	for _, r := range told {
		if !slices.ContainsFunc(r.wfs, func(wf string) bool { return ended[wf] }) {
			continue
		}
		live := inUse(r.journal)
		err := eachLine(r.journal, lineReader(), func(wf string, line []byte) {
			if ended[wf] {
				apply(r.journal, line, live)
			}
		})
		if err != nil {
			warn(fmt.Errorf("%s: %w, skipped", r.journal, err))
		}
	}
	for _, id := range b.Workflows() {
		if _, hasTree := withTree[id]; hasTree {
			// Its tree file stands, as build keeps it, unless the journals
			// hold the start and end of its workflow: else they hold
			// less, or lines whose workflow tree.WorkflowOf cannot tell.
			if _, started := b.Tree(id).Name(); !started || !ended[id] {
				continue
			}
		}
		render := b.JSON
		if busy[id] {
			render = b.LiveJSON
		}
		h, err := headOf(bufio.NewReader(bytes.NewReader(render(id))))
		if err != nil {
			warn(fmt.Errorf("the journals of workflow %s: %w", id, err))
			continue
		}
		list = append(list, dirWorkflow{treeHead: h})
	}
	return list, busy
}

// runningLines are the workflows whose tree files say running that a
// journal holds lines of, and those of them whose end it holds.
type runningLines struct {
	journal   string
	wfs, ends []string
}

// add notes line, of workflow wf, in r, or in the runningLines of journal
// that it makes when r is nil, and returns them.
func (r *runningLines) add(journal, wf string, line []byte) *runningLines {
	if r == nil {
		r = &runningLines{journal: journal}
	}
	if !slices.Contains(r.wfs, wf) {
		r.wfs = append(r.wfs, wf)
	}
	if tree.BoundOf(line, wf) == tree.End {
		r.ends = append(r.ends, wf)
	}
	return r
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
