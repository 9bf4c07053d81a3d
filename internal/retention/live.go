package retention

import (
	"io/fs"
	"os"
	"time"

	"github.com/slogwf/slogwf/internal/flock"
	"github.com/slogwf/slogwf/internal/tree"
)

// Segment is a journal segment, and when it was last written.
type Segment struct {
	Name string
	Mod  time.Time
}

// Writer returns the process that wrote the journal segment name: its pid
// and token (see tree.JournalProcess), or, for a journal of an earlier
// layout, which one process writes alone, its name.
func Writer(name string) string {
	if p, ok := tree.JournalProcess(name); ok {
		return p
	}
	return name
}

// Live reports whether the process that wrote segs, its journal segments,
// still writes at time now, and which of them it holds locked, if any. A
// process holds the lock on its newest segment (the last written: times
// can be equal, to a clock tick) while it writes it. Between two segments
// it holds none: it closes one before it opens and locks the next, and
// tries again later when that fails; so a process that wrote its newest
// segment in the last Grace is live too. open opens a segment by name.
func Live(open func(name string) (*os.File, error), segs []Segment, now time.Time) (writing string, live bool) {
	var newest time.Time
	for _, s := range segs {
		if s.Mod.After(newest) {
			newest = s.Mod
		}
	}
	for _, s := range segs {
		if s.Mod.Equal(newest) && locked(open, s.Name) {
			return s.Name, true
		}
	}
	return "", len(segs) > 0 && now.Sub(newest) < Grace
}

// locked reports whether a process holds the lock on the segment name.
func locked(open func(name string) (*os.File, error), name string) bool {
	h, err := open(name)
	if err != nil {
		return false
	}
	defer h.Close() // and the lock taken, if any, with it
	ok, err := flock.TryLock(h)
	return !ok && err == nil
}

// Writers tells whether the processes that wrote journal segments still
// write (see Live), each process once, when first asked: a check looks at
// its segments' times, and locks one.
type Writers struct {
	open      func(name string) (*os.File, error)
	stat      func(name string) (fs.FileInfo, error)
	now       time.Time
	byProcess map[string][]string
	live      map[string]bool
}

// NewWriters returns the Writers of the journal segments names, as of now,
// which open and stat open and look at by name.
func NewWriters(names []string, open func(string) (*os.File, error), stat func(string) (fs.FileInfo, error), now time.Time) *Writers {
	w := &Writers{open: open, stat: stat, now: now, byProcess: map[string][]string{}, live: map[string]bool{}}
	for _, name := range names {
		p := Writer(name)
		w.byProcess[p] = append(w.byProcess[p], name)
	}
	return w
}

// Live reports whether the process that wrote the journal segment name
// still writes, in this segment or another of its segments.
func (w *Writers) Live(name string) bool {
	p := Writer(name)
	l, told := w.live[p]
	if !told {
		var segs []Segment
		for _, name := range w.byProcess[p] {
			if st, err := w.stat(name); err == nil {
				segs = append(segs, Segment{name, st.ModTime()})
			}
		}
		_, l = Live(w.open, segs, w.now)
		w.live[p] = l
	}
	return l
}
