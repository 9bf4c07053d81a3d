package slogwf

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slogwf/slogwf/internal/tree"
)

// Schema names the tree file format: the "schema" of every tree file.
const Schema = "slogwf.tree/v1"

// Tree files are written whole or not at all: to a new temporary file,
// renamed over the old one (see tree.FileBase for their names). Running
// workflows are snapshotted (see snapshot.go); the final tree of a
// workflow that ended is written by the writers, off the caller's
// goroutine.

// snapshot writes the tree file of a running workflow, from a clone of its
// tree, so that logging goes on meanwhile.
func (f *flow) snapshot() {
	f.writeMu.Lock()
	defer f.writeMu.Unlock()
	var spawned time.Time
	f.mu.Lock()
	if f.wf != nil {
		spawned = f.wf.spawnedAt()
	}
	f.mu.Unlock()
	if !spawned.IsZero() {
		f.sink.others.look(f.sink, f, spawned, false)
	}
	f.mu.Lock()
	f.queued, f.last = false, time.Now()
	if f.ended {
		f.mu.Unlock()
		return // the final tree is on its way
	}
	t := f.tree.Clone()
	if !spawned.IsZero() && !f.sink.closing.Load() {
		f.schedule() // the journals of child processes may grow
	}
	// The tree may hold a record whose line is being written (see add):
	// the journal's lock, taken and let go, waits for that write, so that
	// the tree file holds no record its journal does not.
	f.sink.journal.mu.Lock()
	f.sink.journal.mu.Unlock() //nolint:staticcheck // an empty critical section: a wait
	f.mu.Unlock()
	f.sink.writeTree(f, t, false)
}

// writeFinal writes the final tree of a workflow that ended. The tree
// goes with it: late records rebuild it from the journal.
func (f *flow) writeFinal() {
	f.writeMu.Lock()
	defer f.writeMu.Unlock()
	defer f.sink.owners.Done()
	defer f.sink.finals.done(f)
	if !f.spawned.IsZero() {
		f.sink.others.look(f.sink, f, f.spawned, true)
	}
	f.mu.Lock()
	t := f.tree
	f.tree = nil
	f.mu.Unlock()
	f.sink.writeTree(f, t, true)
}

// writeTree writes t, the tree of f, to its tree file; f.writeMu is held.
// A snapshot gives way to the final tree: it stops when the workflow ends.
func (s *sink) writeTree(f *flow, t *tree.Tree, final bool) {
	s.checkDir()
	name := tree.TreeFileName(f.name, f.id)
	write := func(w io.Writer) error {
		if !final {
			w = giveWay{w, &f.over}
		}
		return t.WriteJSON(w, final)
	}
	err := s.writeFile(name, int64(t.Size()), write)
	if err != nil && !errors.Is(err, errOver) {
		s.faults.report("write tree", fmt.Errorf("slogwf: write tree %s: %w", name, err))
	}
	if final && err == nil {
		f.onDisk = true
	}
}

// writeFile writes the file name atomically, with write: to a new
// temporary file, renamed over name. When syncing, the file reaches the
// disk before the rename, and the rename reaches it before writeFile
// returns. size is about the size of the file, more rather than less.
func (s *sink) writeFile(name string, size int64, write func(io.Writer) error) error {
	d := s.dir.current()
	tmp := tree.TempName(name)
	file, err := d.openFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return err
	}
	// Blocks reserved before the file is written are not allocated when
	// it replaces another: ext4 allocates the others then, in rename
	// (auto_da_alloc), which takes a large tree hundreds of milliseconds,
	// and a small one less than reserving them does.
	w := &counter{w: file}
	reserved := size >= 1<<20 && preallocate(file, size)
	err = write(w)
	if err == nil && reserved && w.n < size {
		err = file.Truncate(w.n)
	}
	if err == nil && s.sync != SyncNone {
		err = file.Sync()
	}
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = d.rename(tmp, name)
	}
	if err != nil {
		_ = d.remove(tmp)
		return err
	}
	if s.sync != SyncNone {
		return d.syncDir()
	}
	return nil
}

// counter is a writer that counts the bytes written through it.
type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

var errOver = errors.New("slogwf: workflow ended")

// giveWay writes a snapshot until its workflow ends, so that the final
// tree need not wait for the snapshot of a large tree to be written out.
type giveWay struct {
	w    io.Writer
	over *atomic.Bool
}

func (g giveWay) Write(p []byte) (int, error) {
	if g.over.Load() {
		return 0, errOver
	}
	return g.w.Write(p)
}

// maxQueued is how many final trees wait for the writers at most; End
// writes its own when the queue is full, so that memory stays bounded
// whatever the pace of ends.
const maxQueued = 256

// maxWriters is how many goroutines write final trees at once: one per two
// cores, so that the callers keep the others.
var maxWriters = max(1, runtime.GOMAXPROCS(0)/2)

// writers write the final trees of workflows that ended, off the callers'
// goroutines. They run while there is work, and no goroutine waits idle.
type writers struct {
	mu      sync.Mutex
	queue   []*flow
	active  int
	written sync.Cond // on mu (see openSink): a final tree was written
}

// done notes that the final tree of f is written.
func (w *writers) done(f *flow) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f.written = true
	w.written.Broadcast()
}

// wait waits until the final tree of f, which ended, is written.
func (w *writers) wait(f *flow) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for !f.written {
		w.written.Wait()
	}
}

// push queues the final tree of f, and reports false when the queue is
// full.
func (w *writers) push(f *flow) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.queue) >= maxQueued {
		return false
	}
	w.queue = append(w.queue, f)
	if w.active < maxWriters {
		w.active++
		go w.run()
	}
	return true
}

func (w *writers) run() {
	for {
		w.mu.Lock()
		if len(w.queue) == 0 {
			w.active--
			w.mu.Unlock()
			return
		}
		f := popFront(&w.queue)
		w.mu.Unlock()
		f.writeFinal()
	}
}

// popFront takes the first flow off the queue q, which is not empty.
func popFront(q *[]*flow) *flow {
	f := (*q)[0]
	(*q)[0] = nil // the queue keeps no ended flow alive
	*q = (*q)[1:]
	return f
}
