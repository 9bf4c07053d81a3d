package slogwf

import (
	"sync/atomic"
	"syscall"
)

// populateChunk is how much of a window a prefaulter faults in at a time:
// what stopping it waits for at most, under the journal's lock.
const populateChunk = 64 << 10

// populateWrite faults in b's pages, writable, without writing to them
// (MADV_POPULATE_WRITE, Linux 5.14, which package syscall does not name).
func populateWrite(b []byte) error { return syscall.Madvise(b, 23) }

// prefaulter faults in the pages of a mapped segment's window ahead of its
// lines, in a goroutine: a new page costs a fault (ext4's page_mkwrite,
// the page cache), which the copy of a line would otherwise take under the
// journal's lock, where parallel agents wait for it. It never writes to
// the window, which the writer copies lines into meanwhile.
type prefaulter struct {
	// populate is populateWrite; tests replace it.
	populate func([]byte) error
	// stop is set by halt, and by a populate that fails: EINVAL where the
	// kernel lacks MADV_POPULATE_WRITE, EFAULT or ENOMEM where the file
	// was cut from outside (the writer's fault guard sees to that). No
	// window is populated after it, and none is grown ahead (see grow).
	stop atomic.Bool
	done chan struct{} // closed when the last window's goroutine returned; nil before the first
}

// start populates window, after the windows started before it, in a
// goroutine; the journal's lock is held.
func (p *prefaulter) start(window []byte) {
	prev, done, populate := p.done, make(chan struct{}), p.populate
	p.done = done
	go func() {
		defer close(done)
		if prev != nil {
			<-prev
		}
		for len(window) > 0 && !p.stop.Load() {
			n := min(len(window), populateChunk)
			if populate(window[:n]) != nil {
				p.stop.Store(true)
				return
			}
			window = window[n:]
		}
	}()
}

// halt stops populating and waits for the goroutines, at most the chunk
// one of them populates: the mapping may be unmapped after it returns.
// The journal's lock is held.
func (p *prefaulter) halt() {
	p.stop.Store(true)
	if p.done != nil {
		<-p.done
	}
}
