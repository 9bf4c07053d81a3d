package slogwf

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slogwf/slogwf/internal/flock"
	"github.com/slogwf/slogwf/internal/tree"
)

// The journal of a process: every workflow the process logs appends its
// lines (see tree.Event) to one file, a segment in Dir/journal, which the
// process alone creates and writes, locked (flock) while it does. A
// segment that reaches its size, or whose Dir moved, gives way to a new
// one. A line is copied whole into the segment's mapping (Linux, see
// mappedFile), or written, before Handle returns; a line a fault cut
// short is taken back or ended, so that it never runs into the next, and
// the lines a fault lost are counted on the next line of their workflow.

// seq numbers the journal lines of this process in the order they are
// logged: a goroutine's lines in its order.
var seq atomic.Uint64

// journal is the journal of a process.
type journal struct {
	dir    *directory
	limit  int64 // of a segment's size
	sync   SyncMode
	report func(cause string, err error)
	// token is in the name of each of the process's segments: with the
	// pid, it tells this process from another of the same pid (every
	// container's first process is pid 1), which another process's
	// retention and ls need to tell which segments a live process wrote.
	token uint32

	mu       sync.Mutex
	file     journalFile // nil when none could be opened, or closed
	segments []string    // of this process, in order: names in Dir; "" once gone
	named    time.Time   // the time in the name of its last segment
	size     int64       // of the segment being written
	torn     bool        // it ends in a partial line
	retry    time.Time   // when to try again to open a segment, without one
}

// errNotCut is the failure to cut a mapped segment to its lines (see
// mappedFile): write(2) would append its next lines after its padding, so
// the journal gives it up for a new one.
var errNotCut = errors.New("cannot cut the segment to its lines")

// position is a place in the journal of a process: the index of a
// segment, and an offset in it.
type position struct {
	seg int
	off int64
}

// extent is a part of one segment of the journal of a process.
type extent struct {
	seg      int
	off, end int64
}

// openJournal opens the first segment of the journal of this process in
// dir, or says why it cannot.
func openJournal(dir *directory, limit int64, sync SyncMode, report func(string, error)) (*journal, error) {
	j := &journal{dir: dir, limit: limit, sync: sync, report: report, token: rand.Uint32()}
	if err := j.openSegment(); err != nil {
		return nil, fmt.Errorf("slogwf: dir %s: cannot create a file: %w", dir.given, err)
	}
	return j, nil
}

// openSegment creates the next segment: Dir/journal/<time>-<pid>-<token>.jsonl,
// a name no other process has, and locks it.
func (j *journal) openSegment() error {
	d := j.dir.current()
	if fi, err := d.lstat(tree.JournalDir); err == nil && !fi.IsDir() {
		_ = d.remove(tree.JournalDir) // a planted link, or a file: replaced
	}
	if err := d.mkdir(tree.JournalDir); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	var err error
	held := 0 // new segments another process held locked
	for range 100 {
		j.named = nameTime(time.Now(), j.named)
		name := path.Join(tree.JournalDir, tree.JournalName(j.named, os.Getpid(), j.token))
		var f journalFile
		f, err = d.openFile(name, os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_EXCL)
		if errors.Is(err, fs.ErrExist) {
			continue // another's of the same pid and token, as unlikely: the next millisecond's
		}
		if err != nil {
			return err
		}
		if osf, ok := f.(*os.File); ok {
			err := lockNew(osf)
			if errors.Is(err, errLockHeld) && held < 2 {
				// Written unlocked, it would pass for a segment its
				// process let go, which a parent's look reads no more
				// (see others.look): the next name instead.
				held++
				f.Close()
				_ = d.remove(name)
				continue
			}
			if err != nil && !errors.Is(err, errLockHeld) {
				f.Close()
				return fmt.Errorf("lock %s: %w", name, err)
			}
		}
		j.file, j.size, j.torn = mapSegment(f, j.limit, j.sync == SyncNone), 0, false
		j.segments = append(j.segments, name)
		return nil
	}
	return err
}

// nameTime returns the time for the name of a segment begun at now, whose
// last segment's name has the time last: to the millisecond, and one past
// last at least, never waiting under the journal's lock for the clock,
// though the last segment began in this millisecond or the clock stepped
// back.
func nameTime(now, last time.Time) time.Time {
	t := now.Truncate(time.Millisecond)
	if next := last.Add(time.Millisecond); t.Before(next) {
		return next
	}
	return t
}

// at returns where the next line goes.
func (j *journal) at() position {
	j.mu.Lock()
	defer j.mu.Unlock()
	return position{len(j.segments) - 1, j.size}
}

// writeLocked appends line to the journal, in one write, and returns where
// it went, and its length there; ok is false when it did not. j.mu is held.
// pending counts the lines of line's workflow that the journal missed
// before it: line carries them, and then they are written; a line that
// fails adds one. A line the write cuts short it takes back, or when it
// cannot, ends before the next line, so that a partial line never runs
// into a whole one.
func (j *journal) writeLocked(line []byte, end bool, pending *int64) (at position, length int64, ok bool) {
	if j.file == nil && !j.reopen() {
		*pending++
		return position{}, 0, false
	}
	if *pending > 0 {
		line = tree.AppendUnwritten(line, *pending)
	}
	at, length = position{len(j.segments) - 1, j.size}, int64(len(line))
	if j.torn {
		line = append([]byte{'\n'}, line...)
		at.off++
	}
	n, err := j.file.Write(line)
	j.size += int64(n)
	if err == nil && n < len(line) {
		err = io.ErrShortWrite
	}
	if err == nil && (j.sync == SyncAlways || j.sync == SyncEnd && end) {
		err = j.file.Sync()
	}
	if err == nil {
		j.torn, *pending = false, 0
		if j.size >= j.limit {
			j.rotate()
		}
		return at, length, true
	}
	*pending++
	if 0 < n && n < len(line) {
		if j.file.Truncate(j.size-int64(n)) == nil {
			j.size -= int64(n)
		} else {
			j.torn = true
		}
	}
	j.report("write journal", fmt.Errorf("slogwf: write journal %s: %w", j.segments[len(j.segments)-1], err))
	if errors.Is(err, errNotCut) {
		j.rotate()
	}
	return position{}, 0, false
}

// reopen tries again, at most once a second, to open a segment when
// there is none (the last could not be opened); the lock is held.
func (j *journal) reopen() bool {
	if j.segments == nil || time.Now().Before(j.retry) {
		return false // closed, or tried a moment ago
	}
	return j.next()
}

// next opens the next segment, or reports why not and sets when reopen
// tries again; the lock is held.
func (j *journal) next() bool {
	if err := j.openSegment(); err != nil {
		j.retry = time.Now().Add(time.Second)
		j.report("open journal", fmt.Errorf("slogwf: open journal: %w", err))
		return false
	}
	return true
}

// lockNew locks the segment f that was just created, so that other
// processes (slogwf ls and prune) tell that it is written. One of them may
// hold its lock a moment, to look: it is tried again for up to 100 ms,
// and then it returns errLockHeld. openSegment then takes the next name,
// twice, and writes the third segment held so unlocked, as where files
// cannot be locked: a rotation waits 300 ms at most, under the journal's
// lock.
func lockNew(f *os.File) error {
	for range 100 {
		if ok, err := flock.TryLock(f); ok || err != nil {
			return err
		}
		time.Sleep(time.Millisecond)
	}
	return errLockHeld
}

// errLockHeld says that another process held a new segment locked.
var errLockHeld = errors.New("another process holds it locked")

// rotate closes the segment being written and opens the next, in the
// directory now at Dir's path; the lock is held.
func (j *journal) rotate() {
	j.closeSegment()
	moved, err := j.dir.check()
	if err != nil {
		j.report("dir", err)
	}
	if moved {
		clear(j.segments) // gone with the old directory
	}
	j.next()
}

// moved moves the journal to the directory now at Dir's path: the next
// line goes to a new segment there. The segments in the old directory are
// gone.
func (j *journal) moved() {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.segments == nil {
		return
	}
	clear(j.segments)
	j.closeSegment()
	j.next()
}

// closeSegment closes the segment being written, cut to its lines and
// synced first if syncing; the lock is held.
func (j *journal) closeSegment() {
	if j.file == nil {
		return
	}
	err := unmapSegment(j.file)
	if j.sync != SyncNone {
		if serr := j.file.Sync(); err == nil {
			err = serr
		}
	}
	if cerr := j.file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		j.report("close journal", fmt.Errorf("slogwf: close journal %s: %w", j.segments[len(j.segments)-1], err))
	}
	j.file = nil
}

// close closes the journal. A last segment with no line is removed.
func (j *journal) close() {
	j.mu.Lock()
	defer j.mu.Unlock()
	empty := j.file != nil && j.size == 0
	j.closeSegment()
	if empty {
		_ = j.dir.current().remove(j.segments[len(j.segments)-1])
	}
	j.segments = nil
}

// segment returns the name of segment i of this process, and the size up
// to which its lines are whole; false when it is gone (Dir moved, or
// retention removed it).
func (j *journal) segment(i int) (string, int64, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if i < 0 || i >= len(j.segments) || j.segments[i] == "" {
		return "", 0, false
	}
	if i == len(j.segments)-1 {
		return j.segments[i], j.size, true
	}
	return j.segments[i], 1 << 62, true
}

// forget notes that the segment name is gone.
func (j *journal) forget(name string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if i := slices.Index(j.segments, name); i >= 0 {
		j.segments[i] = ""
	}
}

// own reports whether name is a segment of this process.
func (j *journal) own(name string) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Contains(j.segments, name)
}
