package slogwf

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

// Schema names the tree file format: the "schema" of every tree file.
const Schema = "slogwf.tree/v1"

// Tree files are written whole or not at all: to a new temporary file,
// renamed over the old one (see tree.FileBase for their names).

// writeTree writes the tree file: to a new temporary file, renamed over
// the old one, so a reader sees the old tree or the new, never a part.
// The tree of a workflow that ended is final. It is written from a clone,
// so that logging goes on meanwhile.
func (f *flow) writeTree() {
	f.writeMu.Lock()
	defer f.writeMu.Unlock()
	start := time.Now()
	if f.wf != nil && f.wf.spawned.Load() {
		f.mergeOthers()
	}
	f.mu.Lock()
	if f.tree == nil {
		f.mu.Unlock()
		return
	}
	t, final := f.tree.Clone(), f.ended
	f.mu.Unlock()

	name := f.base + ".json"
	write := func(w io.Writer) error {
		if !final {
			w = giveWay{w, &f.over}
		}
		return t.WriteJSON(w, final)
	}
	if err := f.sink.writeFile(name, write); err != nil && !errors.Is(err, errOver) {
		f.sink.fault(name, fmt.Errorf("slogwf: write tree %s: %w", name, err))
	}
	f.mu.Lock()
	f.cost = time.Since(start)
	f.mu.Unlock()
}

// writeFile writes the file name atomically, with write: to a new
// temporary file, renamed over name. When syncing, the file reaches the
// disk before the rename, and the rename reaches it before writeFile
// returns.
func (s *sink) writeFile(name string, write func(io.Writer) error) error {
	tmp := name + "." + strconv.FormatUint(rand.Uint64(), 36) + ".tmp"
	file, err := s.dir.openFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return err
	}
	err = write(file)
	if err == nil && s.sync != SyncNone {
		err = file.Sync()
	}
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = s.dir.rename(tmp, name)
	}
	if err != nil {
		_ = s.dir.remove(tmp)
		return err
	}
	if s.sync != SyncNone {
		return s.dir.syncDir()
	}
	return nil
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
