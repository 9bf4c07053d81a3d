package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/slogwf/slogwf/internal/tree"
)

// followPoll is how often a follower hands on what was appended: it
// gathers what the system says changed for that long, and looks at what it
// cannot watch that often.
const followPoll = 100 * time.Millisecond

// followChunk is the most that a follower reads of a file at once.
const followChunk = 64 << 10

// followHead is how much of the start of a file a follower keeps the sum
// of, to tell the file renamed from another that took its inode: the
// first line whole, mostly, whose time tells one segment from another.
// Less would not do: the first 64 bytes of any two lines of a workflow
// may be the same (its event, its ID, and a scope's ID, made of the time
// to the millisecond).
const followHead = 4 << 10

// follower reads journals as they grow: the files named to it, and the
// journals that are in, or come to be in, the directories named to it
// (see journalIn). It hands each whole line to its line func, once, in
// the order of each file; an incomplete last line waits for its newline,
// and the first NUL of a live journal for the bytes copied over it (see
// tree.LineReader). While it follows, it reads only the files that the
// system (inotify, through fsnotify) says changed, and polls what it
// cannot watch, and the journals it stopped at a NUL of: a line copied
// into a mapping raises no event.
type follower struct {
	// open opens a file or directory by name: os.Open, or the Open of an
	// os.Root that confines the follower to a directory.
	open func(name string) (*os.File, error)
	// line takes the next line of f, with its newline unless torn: the
	// incomplete last line of a file that is finished. line is only valid
	// during the call.
	line func(f *followedFile, line []byte, torn bool)
	// warn reports a fault met while following; the follower goes on.
	warn func(err error)
	// path returns where the file or directory name is, to watch it: the
	// name itself when path is nil.
	path func(name string) string
	// maxLine, when above 0, is the longest line handed on whole: a longer
	// one is handed on cut to maxLine bytes, with f.cut set, and the rest
	// of it skipped.
	maxLine int
	// newWatch starts watching for changes: newWatcher, but in tests.
	newWatch func() (*watcher, error)
	// renamedTo, when set, is told that the file forgotten as from is
	// read on as to, renamed.
	renamedTo func(from, to string)

	dirs    []string
	inner   map[string]bool          // the journal directories of dirs
	dirErr  map[string]string        // the last error reported for a directory
	files   []*followedFile          // in the order found
	seen    map[string]*followedFile // files by cleaned name
	skipped map[string]bool          // the other *.jsonl files of dirs, reported
	gone    []*followedFile          // files forgotten lately, to go on with one renamed
	forgot  int                      // files forgotten, for whoever keeps what they held
	order   int                      // files added
	buf     []byte                   // what a read reads into
	watch   *watching                // while following
}

// followedFile is a file that a follower reads, and how far.
type followedFile struct {
	name   string      // as given or found, shown in messages
	order  int         // in the order files were added, from 1
	dir    string      // the directory it was found in; "" if named
	r      io.Reader   // if set, read instead of the file name: standard input
	off    int64       // bytes read
	frag   []byte      // an incomplete last line, without its newline yet
	lines  int         // lines taken, for messages
	cut    bool        // the line being handed on was longer than maxLine
	skip   bool        // the rest of a cut line is being skipped
	polled bool        // read at every tick: its changes are not watched
	padded bool        // its last read stopped at a NUL: looked at every tick (see feed)
	info   os.FileInfo // as of the last read, to see a file replaced
	head   uint64      // the sum (FNV-1a) of its first headN bytes read
	headN  int
	errMsg string // the last error reported while following
}

func newFollower(open func(string) (*os.File, error), line func(*followedFile, []byte, bool), warn func(error)) *follower {
	return &follower{open: open, line: line, warn: warn, newWatch: newWatcher,
		inner: map[string]bool{}, skipped: map[string]bool{}, dirErr: map[string]string{}, seen: map[string]*followedFile{}}
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
		fl.addFile(name, "")
		return nil
	}
	fl.dirs = append(fl.dirs, name)
	return fl.scan(name)
}

// addDir follows dir, the journal directory of a directory followed,
// unless it is followed already.
func (fl *follower) addDir(dir string) {
	if fl.inner[dir] {
		return
	}
	fl.inner[dir] = true
	fl.dirs = append(fl.dirs, dir)
	if fl.watch != nil {
		fl.watch.dir(fl, dir)
	}
	fl.scanFollowed(dir)
}

// addStream follows r, which is named name in messages, until it ends.
func (fl *follower) addStream(name string, r io.Reader) *followedFile {
	fl.order++
	f := &followedFile{name: name, r: r, order: fl.order}
	fl.files = append(fl.files, f)
	return f
}

// readAll reads every file from where it was left, and returns the first
// error, but for a file found in a directory that went away.
func (fl *follower) readAll() error {
	for _, f := range slices.Clone(fl.files) {
		if _, err := fl.read(f, 0); err != nil {
			if f.dir == "" || !errors.Is(err, os.ErrNotExist) {
				return err
			}
			fl.forget(f)
		}
	}
	return nil
}

// names returns the names of the files followed, but of streams.
func (fl *follower) names() []string {
	var names []string
	for _, f := range fl.files {
		if f.r == nil {
			names = append(names, f.name)
		}
	}
	return names
}

// finish takes the incomplete last lines of every file as they are.
func (fl *follower) finish() {
	for _, f := range fl.files {
		fl.finishFile(f)
	}
}

// follow reads what is appended, then calls each, every followPoll, until
// ctx is done or each returns an error; it returns that error, or nil.
func (fl *follower) follow(ctx context.Context, each func() error) error {
	fl.startWatching()
	defer fl.stopWatching()
	for {
		files, ok := fl.next(ctx)
		if !ok {
			return nil
		}
		for _, f := range files {
			fl.readFollowed(f, 0)
		}
		if err := each(); err != nil {
			return err
		}
	}
}

// poll looks for new journals in the directories and reads what was
// appended to every file. Each fault is reported once while it lasts.
func (fl *follower) poll() {
	for _, d := range fl.dirs {
		fl.scanFollowed(d)
	}
	for _, f := range slices.Clone(fl.files) {
		fl.readFollowed(f, 0)
	}
}

// scanFollowed adds the journals of dir not seen yet, and reports a fault
// once while it lasts.
func (fl *follower) scanFollowed(dir string) {
	msg := ""
	if err := fl.scan(dir); err != nil {
		msg = err.Error()
		if msg != fl.dirErr[dir] {
			fl.warn(err)
		}
	}
	fl.dirErr[dir] = msg
}

// readFollowed reads at most limit bytes (0: all) of what was appended to
// f, forgets f if it was found in a directory and went away, and reports a
// fault once while it lasts. It returns how many bytes it read.
func (fl *follower) readFollowed(f *followedFile, limit int) int {
	n, err := fl.read(f, limit)
	if f.dir != "" && errors.Is(err, os.ErrNotExist) {
		fl.forget(f) // read again from the start if it comes back
		return n
	}
	msg := ""
	if err != nil {
		msg = err.Error()
		if msg != f.errMsg {
			fl.warn(err)
		}
	}
	f.errMsg = msg
	return n
}

// scan adds the journals of dir not seen yet.
func (fl *follower) scan(dir string) error {
	d, err := fl.open(dir)
	if err != nil {
		return err // it names dir
	}
	entries, err := d.ReadDir(-1)
	d.Close()
	for _, e := range entries {
		if e.IsDir() && e.Name() == tree.JournalDir && !fl.inner[dir] {
			fl.addDir(filepath.Join(dir, e.Name()))
		}
		if strings.HasSuffix(e.Name(), ".jsonl") && !e.IsDir() {
			// A link's target changes where no watch of dir sees it.
			if f := fl.journalIn(dir, e.Name()); f != nil && e.Type()&fs.ModeSymlink != 0 {
				f.polled = true
			}
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	return nil
}

// journalIn follows base, a *.jsonl file found in dir, and returns it if
// it is named as a journal (see tree.IsJournal); another *.jsonl file
// there is another program's, reported once and passed by, as a command
// that reads a directory passes it by.
func (fl *follower) journalIn(dir, base string) *followedFile {
	name := filepath.Join(dir, base)
	if tree.IsJournal(base) {
		return fl.addFile(name, dir)
	}
	if !fl.skipped[name] {
		fl.skipped[name] = true
		fl.warn(notJournal{name})
	}
	return nil
}

// addFile follows the file name, found in dir ("" if named), unless it is
// followed already. It returns the file.
func (fl *follower) addFile(name, dir string) *followedFile {
	key := filepath.Clean(name)
	if f := fl.seen[key]; f != nil {
		return f
	}
	fl.order++
	f := &followedFile{name: name, dir: dir, order: fl.order}
	fl.seen[key] = f
	fl.files = append(fl.files, f)
	return f
}

// forget drops f, so that a file of that name is new again. It keeps f
// for a while, so that a file found under another name that is f, renamed,
// is read on from where f was.
func (fl *follower) forget(f *followedFile) {
	fl.forgot++
	delete(fl.seen, filepath.Clean(f.name))
	fl.files = slices.DeleteFunc(fl.files, func(g *followedFile) bool { return g == f })
	if f.info != nil {
		fl.remember(f)
	}
}

// remember keeps f among the last 64 files gone, for renamed to find.
func (fl *follower) remember(f *followedFile) {
	fl.gone = append(fl.gone[max(0, len(fl.gone)-63):], f)
}

// renamed returns the file forgotten lately that file, whose info is st,
// is, if any, and drops it. A file is another that was removed, not the
// same renamed, when it does not start as that did: a file made after
// one was removed may get its inode.
func (fl *follower) renamed(file *os.File, st os.FileInfo) *followedFile {
	for i, g := range fl.gone {
		if !os.SameFile(g.info, st) {
			continue
		}
		if sum, ok := headSum(file, g.headN, fl.readBuf()); ok && sum == g.head {
			fl.gone = slices.Delete(fl.gone, i, i+1)
			return g
		}
	}
	return nil
}

// read takes the lines appended to f since the last read, a chunk at a
// time, until its end or until it read limit bytes or more (0: no limit).
// A file that shrank or was replaced it reads again from its start. It
// returns how many bytes it read.
func (fl *follower) read(f *followedFile, limit int) (int, error) {
	if f.r != nil {
		return fl.readFrom(f, f.r, limit)
	}
	file, err := fl.open(f.name)
	if err != nil {
		return 0, err // it names the file
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return 0, err
	}
	regular := st.Mode().IsRegular()
	if f.info == nil {
		if g := fl.renamed(file, st); g != nil {
			f.off, f.frag, f.lines, f.skip, f.head, f.headN = g.off, g.frag, g.lines, g.skip, g.head, g.headN
			if fl.renamedTo != nil {
				fl.renamedTo(g.name, f.name)
			}
		}
	} else if replaced := !os.SameFile(f.info, st); replaced || regular && st.Size() < f.off-int64(len(f.frag)) {
		if replaced {
			// It may have been renamed (rotated): a file found later
			// that is it goes on from here.
			old := *f
			fl.remember(&old)
		}
		fl.warn(fmt.Errorf("%s: truncated or replaced, reading it again from the start", f.name))
		f.off, f.frag, f.lines, f.skip, f.head, f.headN = 0, nil, 0, false, 0, 0
	}
	f.info = st
	if regular && st.Size() == f.off && f.off > 0 {
		f.padded = false // cut to its lines: closed
		return 0, nil
	}
	// The last read stopped at a NUL: read on only once a byte was copied
	// there, not a chunk of padding at every tick.
	if regular && f.padded && st.Size() > f.off && !tree.Copied(file, f.off) {
		return 0, nil
	}
	// A journal's writer takes back the start of a line it could not
	// write whole, and may write the next line there (see journal.write):
	// the incomplete last line is read again from its start when the file
	// is shorter than what was read, or no longer has it there.
	if regular && len(f.frag) > 0 && (st.Size() < f.off || !endsWith(file, f.off, f.frag, fl.readBuf())) {
		f.off -= int64(len(f.frag))
		f.frag = f.frag[:0]
	}
	if f.off > 0 {
		if _, err := file.Seek(f.off, io.SeekStart); err != nil {
			return 0, err
		}
	}
	n, err := fl.readFrom(f, file, limit)
	// Of whole lines: the start of an incomplete one may be written again.
	if whole := f.off - int64(len(f.frag)); regular && f.headN < followHead && whole > int64(f.headN) {
		f.headN = int(min(whole, followHead))
		f.head, _ = headSum(file, f.headN, fl.buf)
	}
	return n, err
}

// headSum returns the sum of the first n bytes of file, read into buf,
// and whether it could read them.
func headSum(file *os.File, n int, buf []byte) (uint64, bool) {
	if n == 0 {
		return 0, true
	}
	if _, err := file.ReadAt(buf[:n], 0); err != nil {
		return 0, false
	}
	h := fnv.New64a()
	h.Write(buf[:n])
	return h.Sum64(), true
}

// endsWith reports whether the first off bytes of file end with frag,
// as when frag was read: with all of it, up to 4 KiB (a journal's line,
// mostly), else with its last 64 bytes, read into buf.
func endsWith(file *os.File, off int64, frag, buf []byte) bool {
	n := len(frag)
	if n > 4<<10 {
		n = 64
	}
	end := buf[:n]
	_, err := file.ReadAt(end, off-int64(n))
	return err == nil && bytes.Equal(end, frag[len(frag)-n:])
}

// readBuf returns the buffer that reads read into.
func (fl *follower) readBuf() []byte {
	if fl.buf == nil {
		fl.buf = make([]byte, followChunk)
	}
	return fl.buf
}

// readFrom reads r, the rest of f, as read says. It stops at the first
// NUL of a file (see feed).
func (fl *follower) readFrom(f *followedFile, r io.Reader, limit int) (int, error) {
	fl.readBuf()
	total := 0
	f.padded = false
	for limit <= 0 || total < limit {
		buf := fl.buf
		if limit > 0 {
			buf = buf[:min(len(buf), limit-total)]
		}
		n, err := r.Read(buf)
		took := fl.feed(f, fl.buf[:n])
		if f.r != nil {
			took = n // a stream is not read again: its padding is skipped
		}
		f.off += int64(took)
		total += took
		if took < n {
			f.padded = true
			return total, nil
		}
		if errors.Is(err, io.EOF) {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// feed passes the whole lines of data, after the fragment that f kept, to
// the line func, and keeps the incomplete rest. It returns how many bytes
// of data it took. Of a file, which may be a live journal, it takes data
// up to its first NUL (see tree.LineReader): a line being copied there
// may show NULs with its bytes after them, and is read again from there
// later; so a journal whose writer died is followed up to its first NUL.
// Of a stream, which is not read again, it skips NUL padding where a line
// starts and at the end of data.
func (fl *follower) feed(f *followedFile, data []byte) int {
	n := len(data)
	if z := bytes.IndexByte(data, 0); z >= 0 && f.r == nil {
		data, n = data[:z], z
	}
	for len(data) > 0 {
		if data[0] == 0 {
			pad := len(data) - len(bytes.TrimLeft(data, "\x00"))
			if pad == len(data) {
				return n - pad
			}
			if len(f.frag) == 0 && !f.skip {
				data = data[pad:]
				continue
			}
		}
		i := bytes.IndexByte(data, '\n')
		if f.skip {
			if i < 0 {
				return n - padding(data)
			}
			f.skip = false
			data = data[i+1:]
			continue
		}
		if i < 0 {
			pad := padding(data)
			f.frag = append(f.frag, data[:len(data)-pad]...)
			if fl.maxLine > 0 && len(f.frag) > fl.maxLine {
				fl.take(f, f.frag[:fl.maxLine], false, true)
				f.frag, f.skip = f.frag[:0], true
			}
			return n - pad
		}
		line := data[:i+1]
		if len(f.frag) > 0 {
			line = append(f.frag, line...)
		}
		data = data[i+1:]
		if fl.maxLine > 0 && len(line)-1 > fl.maxLine {
			fl.take(f, line[:fl.maxLine], false, true)
		} else {
			fl.take(f, line, false, false)
		}
		f.frag = f.frag[:0]
		if cap(f.frag) > followChunk {
			f.frag = nil // a long line is rare: do not keep its room
		}
	}
	return n
}

// padding returns how many NUL bytes data, with no newline, ends in.
func padding(data []byte) int { return len(data) - len(bytes.TrimRight(data, "\x00")) }

// take hands line, the next line of f, to the line func.
func (fl *follower) take(f *followedFile, line []byte, torn, cut bool) {
	f.lines++
	f.cut = cut
	fl.line(f, line, torn)
	f.cut = false
}

// finishFile takes the incomplete last line of f, if any, as it is.
func (fl *follower) finishFile(f *followedFile) {
	if len(f.frag) > 0 {
		fl.take(f, f.frag, true, false)
		f.frag = nil
	}
	f.skip = false
}
