package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/slogwf/slogwf/internal/tree"
)

// followPoll is how often a follower looks for what was appended.
const followPoll = 100 * time.Millisecond

// follower reads journals as they grow: the files named to it, and the
// journals (*.jsonl) that are in, or come to be in, the directories named
// to it. It hands each whole line to its line func, once, in the order of
// each file; an incomplete last line waits for its newline.
type follower struct {
	// open opens a file or directory by name: os.Open, or the Open of an
	// os.Root that confines the follower to a directory.
	open func(name string) (*os.File, error)
	// line takes the next line of f, with its newline unless torn: the
	// incomplete last line of a file that is finished.
	line func(f *followedFile, line []byte, torn bool)
	// warn reports a fault met while following; the follower goes on.
	warn func(err error)

	dirs   []string
	dirErr map[string]string        // the last error reported for a directory
	files  []*followedFile          // in the order found
	seen   map[string]*followedFile // files by cleaned name
}

// followedFile is a file that a follower reads, and how far.
type followedFile struct {
	name   string      // as given or found, shown in messages
	inDir  bool        // found in a directory: forgotten when it goes away
	off    int64       // bytes read
	frag   []byte      // an incomplete last line, without its newline yet
	lines  int         // lines taken, for messages
	info   os.FileInfo // as of the last read, to see a file replaced
	errMsg string      // the last error reported while following
}

func newFollower(open func(string) (*os.File, error), line func(*followedFile, []byte, bool), warn func(error)) *follower {
	return &follower{open: open, line: line, warn: warn, dirErr: map[string]string{}, seen: map[string]*followedFile{}}
}

// add follows name: the journals in it if it is a directory, else the file.
func (fl *follower) add(name string) error {
	f, err := fl.open(name)
	if err != nil {
		return err // it names the file
	}
	st, err := f.Stat()
	f.Close()
	if err != nil {
		return err
	}
	if !st.IsDir() {
		fl.addFile(name, false)
		return nil
	}
	fl.dirs = append(fl.dirs, name)
	return fl.scan(name)
}

// readAll reads every file from where it was left, and returns the first
// error, but for a file found in a directory that went away.
func (fl *follower) readAll() error {
	for _, f := range slices.Clone(fl.files) {
		if err := fl.read(f); err != nil {
			if !f.inDir || !errors.Is(err, os.ErrNotExist) {
				return err
			}
			fl.forget(f)
		}
	}
	return nil
}

// finish takes the incomplete last lines of every file as they are.
func (fl *follower) finish() {
	for _, f := range fl.files {
		fl.finishFile(f)
	}
}

// follow polls, then calls each, every followPoll, until ctx is done or
// each returns an error; it returns that error, or nil.
func (fl *follower) follow(ctx context.Context, each func() error) error {
	tick := time.NewTicker(followPoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		fl.poll()
		if err := each(); err != nil {
			return err
		}
	}
}

// poll looks for new journals in the directories and reads what was
// appended to every file. Each fault is reported once while it lasts.
func (fl *follower) poll() {
	for _, d := range fl.dirs {
		msg := ""
		if err := fl.scan(d); err != nil {
			msg = err.Error()
			if msg != fl.dirErr[d] {
				fl.warn(err)
			}
		}
		fl.dirErr[d] = msg
	}
	for _, f := range slices.Clone(fl.files) {
		err := fl.read(f)
		if f.inDir && errors.Is(err, os.ErrNotExist) {
			fl.forget(f) // read again from the start if it comes back
			continue
		}
		msg := ""
		if err != nil {
			msg = err.Error()
			if msg != f.errMsg {
				fl.warn(err)
			}
		}
		f.errMsg = msg
	}
}

// scan adds the journals of dir, and of its journal directory, not seen
// yet.
func (fl *follower) scan(dir string) error {
	d, err := fl.open(dir)
	if err != nil {
		return err // it names dir
	}
	entries, err := d.ReadDir(-1)
	d.Close()
	if sub, serr := fl.open(filepath.Join(dir, tree.JournalDir)); serr == nil {
		more, _ := sub.ReadDir(-1)
		sub.Close()
		for _, e := range more {
			if strings.HasSuffix(e.Name(), ".jsonl") && !e.IsDir() {
				fl.addFile(filepath.Join(dir, tree.JournalDir, e.Name()), true)
			}
		}
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".jsonl") && !e.IsDir() {
			fl.addFile(filepath.Join(dir, e.Name()), true)
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	return nil
}

// addFile follows the file name, unless it is followed already.
func (fl *follower) addFile(name string, inDir bool) {
	key := filepath.Clean(name)
	if fl.seen[key] != nil {
		return
	}
	f := &followedFile{name: name, inDir: inDir}
	fl.seen[key] = f
	fl.files = append(fl.files, f)
}

// forget drops f, so that a file of that name is new again.
func (fl *follower) forget(f *followedFile) {
	delete(fl.seen, filepath.Clean(f.name))
	fl.files = slices.DeleteFunc(fl.files, func(g *followedFile) bool { return g == f })
}

// read takes the lines appended to f since the last read; a file that
// shrank or was replaced it reads again from its start.
func (fl *follower) read(f *followedFile) error {
	file, err := fl.open(f.name)
	if err != nil {
		return err // it names the file
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return err
	}
	regular := st.Mode().IsRegular()
	if f.info != nil && (!os.SameFile(f.info, st) || regular && st.Size() < f.off) {
		fl.warn(fmt.Errorf("%s: truncated or replaced, reading it again from the start", f.name))
		f.off, f.frag, f.lines = 0, nil, 0
	}
	f.info = st
	if regular && st.Size() == f.off && f.off > 0 {
		return nil
	}
	if f.off > 0 {
		if _, err := file.Seek(f.off, io.SeekStart); err != nil {
			return err
		}
	}
	data, err := io.ReadAll(file)
	f.off += int64(len(data))
	fl.feed(f, data)
	return err
}

// feed passes the whole lines of data, after the fragment that f kept, to
// the line func, and keeps the incomplete rest.
func (fl *follower) feed(f *followedFile, data []byte) {
	if len(f.frag) > 0 {
		data = append(f.frag, data...)
		f.frag = nil
	}
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		f.lines++
		fl.line(f, data[:i+1], false)
		data = data[i+1:]
	}
	if len(data) > 0 {
		f.frag = bytes.Clone(data)
	}
}

// finishFile takes the incomplete last line of f, if any, as it is.
func (fl *follower) finishFile(f *followedFile) {
	if len(f.frag) > 0 {
		f.lines++
		fl.line(f, f.frag, true)
		f.frag = nil
	}
}
