package slogwf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"

	"github.com/slogwf/slogwf/internal/tree"
)

// The journal files of a workflow: one per process, append-only, one
// event per line (see tree.Event). A line is written whole before Handle
// returns; a line a fault cut short is taken back or ended, so that it
// never runs into the next. The journals of other processes the workflow
// was passed to are merged into its live tree.

// dirFS is how a sink writes its directory: through an os.Root, or in
// tests through one that fails on purpose.
type dirFS interface {
	openFile(name string, flag int) (journalFile, error)
	rename(from, to string) error
	remove(name string) error
	syncDir() error
}

// journalFile is a file a sink writes: an *os.File.
type journalFile interface {
	io.Writer
	Sync() error
	Close() error
	Truncate(size int64) error
}

// rootFS is a dirFS through an os.Root, which keeps every file in the
// directory: no name nor planted symlink leads out of it.
type rootFS struct{ root *os.Root }

func (r rootFS) openFile(name string, flag int) (journalFile, error) {
	f, err := r.root.OpenFile(name, flag, 0o600)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (r rootFS) rename(from, to string) error { return r.root.Rename(from, to) }
func (r rootFS) remove(name string) error     { return r.root.Remove(name) }

func (r rootFS) syncDir() error {
	d, err := r.root.Open(".")
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// openJournal creates the journal <base>.<pid>.jsonl, or, when a process
// of another machine or container with the same pid has one, the first free
// <base>.<pid>-<n>.jsonl: no two processes ever write one file.
func (s *sink) openJournal(base string) (journalFile, string) {
	var err error
	for n := 1; n <= 100; n++ {
		name := base + "." + s.pid + ".jsonl"
		if n > 1 {
			name = base + "." + s.pid + "-" + strconv.Itoa(n) + ".jsonl"
		}
		var f journalFile
		f, err = s.dir.openFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL)
		if err == nil {
			return f, name
		}
		if !errors.Is(err, fs.ErrExist) {
			s.fault(name, fmt.Errorf("slogwf: open journal: %w", err))
			return nil, name
		}
	}
	s.fault(base, fmt.Errorf("slogwf: open journal: %w", err))
	return nil, base
}

// write appends line to the journal, in one write. A line the write cuts
// short it takes back, or when it cannot, ends before the next line, so
// that a partial line never runs into a whole one.
func (f *flow) write(line []byte, end bool) {
	if f.file == nil {
		return
	}
	if f.torn {
		line = append([]byte{'\n'}, line...)
	}
	n, err := f.file.Write(line)
	f.size += int64(n)
	if err == nil && n < len(line) {
		err = io.ErrShortWrite
	}
	if err == nil && (f.sink.sync == SyncAlways || f.sink.sync == SyncEnd && end) {
		err = f.file.Sync()
	}
	if err == nil {
		f.torn = false
		return
	}
	f.failed = true
	if 0 < n && n < len(line) {
		if f.file.Truncate(f.size-int64(n)) == nil {
			f.size -= int64(n)
		} else {
			f.torn = true
		}
	}
	f.sink.fault(f.journal, fmt.Errorf("slogwf: write journal %s: %w", f.journal, err))
}

// closeJournal closes the journal file, synced first if syncing.
func (f *flow) closeJournal() {
	if f.file == nil {
		return
	}
	var err error
	if f.sink.sync != SyncNone {
		err = f.file.Sync()
	}
	if cerr := f.file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		f.sink.fault(f.journal, fmt.Errorf("slogwf: close journal %s: %w", f.journal, err))
	}
	f.file = nil
}

// rebuild returns the tree of the workflow from its journal, and notes
// whether the journal ends in a partial line.
func (f *flow) rebuild() (*tree.Tree, error) {
	data, err := f.sink.root.ReadFile(f.journal)
	if err != nil {
		return nil, err
	}
	b := tree.NewBuilder()
	if err := b.ReadJournal(bytes.NewReader(data), f.journal, func(error) {}); err != nil {
		return nil, err
	}
	f.size = int64(len(data))
	f.torn = len(data) > 0 && data[len(data)-1] != '\n'
	if t := b.Tree(f.id); t != nil {
		return t, nil
	}
	return tree.NewTree(f.id), nil
}

// mergeOthers adds to the tree what other processes, children the
// workflow was passed to, appended to their journals of it since the last
// time: so the tree of the workflow is the one that `slogwf build` makes
// of all its journals. Partial last lines wait for the next time, unless
// the workflow has ended: then they count as dropped, as for build.
func (f *flow) mergeOthers() {
	names, _ := fs.Glob(f.sink.root.FS(), f.base+".*.jsonl")
	for _, name := range names {
		if name != f.journal {
			f.mergeJournal(name)
		}
	}
}

// mergeJournal merges what the journal name gained since the last time.
func (f *flow) mergeJournal(name string) {
	f.mu.Lock()
	off, final := f.merged[name], f.ended
	f.mu.Unlock()
	file, err := f.sink.root.Open(name)
	if err != nil {
		return
	}
	defer file.Close()
	data, err := io.ReadAll(io.NewSectionReader(file, off, 1<<62))
	if err != nil {
		return
	}
	end := len(data)
	if !final {
		end = bytes.LastIndexByte(data, '\n') + 1
	}
	var es []*tree.Event
	var dropped int64
	for line := range bytes.Lines(data[:end]) {
		e, err := tree.Decode(line)
		switch {
		case err != nil:
			dropped++
		case e.Workflow == f.id:
			es = append(es, e)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.tree == nil {
		return
	}
	if f.merged == nil {
		f.merged = map[string]int64{}
	}
	f.merged[name] = off + int64(end)
	for _, e := range es {
		f.tree.Apply(e)
	}
	f.tree.Drop(dropped)
}
