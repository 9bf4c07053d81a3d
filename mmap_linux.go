package slogwf

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"syscall"
)

// growStep is how much a mapped segment's file grows at a time. Past half
// of its first step, it is grown a step ahead of its lines, whose pages a
// prefaulter faults in meanwhile (see grow): a process that dies leaves
// less than 2 steps of NUL padding, and one that logs a few lines
// reserves 1.
const growStep = 1 << 20

// mappedFile is a segment written through a shared mapping of its file:
// a line costs a copy, not a write(2), and no fault of a new page when the
// prefaulter ran ahead of it. The copied lines are in the page cache as
// written ones are, so a process that dies loses none, and Sync (fsync)
// writes them. The file grows growStep at a time (fallocate) a step ahead
// of the lines; a line that does not fit the mapping, a file that cannot
// grow, and a mapping that faults (the file was cut by another process)
// unmap it, cut the file to its lines, and the segment goes on with
// write(2).
type mappedFile struct {
	f     *os.File
	m     []byte // the segment's size of address space; nil once unmapped
	size  int64  // of the lines copied: where the next goes
	grown int64  // the file's size: m is never touched past it (SIGBUS)
	next  int64  // the size of lines past which the file grows
	pre   prefaulter
	// allocate is syscall.Fallocate, cut the file's Truncate and sync
	// its Sync; tests make them fail, or see their order.
	allocate func(fd int, mode uint32, off, len int64) error
	cut      func(size int64) error
	sync     func() error
}

// mappedSize returns how much of a segment of limit bytes is mapped: all
// of it on 64 bits; on 32 bits, where the heap needs the address space a
// few handlers' large segments would take, 16 MiB at most, the rest being
// written with write(2).
func mappedSize(limit int64) int {
	if strconv.IntSize == 32 {
		return int(min(limit, 16<<20))
	}
	return int(limit)
}

// errMappingFault is the fault of a copy into a segment's mapping.
var errMappingFault = errors.New("the mapping faulted: was the file cut short by another process?")

// mapSegment returns f, a new empty segment of at most limit bytes,
// written through a mapping when it is a file that can be mapped, else f
// itself. Its pages are faulted in ahead of its lines when prefault says
// so: not where every line or workflow is synced, as fsync makes the pages
// clean, to be faulted again, and would write the zeros ahead.
func mapSegment(f journalFile, limit int64, prefault bool) journalFile {
	file, ok := f.(*os.File)
	if !ok {
		return f
	}
	m, err := syscall.Mmap(int(file.Fd()), 0, mappedSize(limit), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return f
	}
	seg := &mappedFile{f: file, m: m, pre: prefaulter{populate: populateWrite}, allocate: syscall.Fallocate, cut: file.Truncate, sync: file.Sync}
	seg.pre.stop.Store(!prefault)
	return seg
}

// Write copies p whole into the mapping, or writes it with write(2) once
// unmapped. A copy that faults takes p back and returns an error.
func (m *mappedFile) Write(p []byte) (int, error) {
	end := m.size + int64(len(p))
	if m.m != nil && end > m.next && !m.grow(end) {
		if err := m.unmap(); err != nil {
			return 0, err
		}
	}
	if m.m == nil {
		n, err := m.f.Write(p)
		m.size += int64(n)
		return n, err
	}
	if !copyGuarded(m.m[m.size:end], p) {
		return 0, errors.Join(errMappingFault, m.unmap())
	}
	m.size = end
	return len(p), nil
}

// grow grows the file to the step that holds end and, while the
// prefaulter populates it, one step more, within the mapping; it reports
// whether it could: false when end is past the mapping. The first step is
// neither grown ahead nor populated: a handler that logs a few lines and
// closes (a command, a test) pays for no page it never writes; from half
// of it on, the next is grown ahead.
func (m *mappedFile) grow(end int64) bool {
	if end > int64(len(m.m)) {
		return false
	}
	prefault, first := !m.pre.stop.Load(), m.grown == 0
	var ahead int64
	if prefault && !first {
		ahead = growStep
	}
	step := func(end int64) int64 { return min((end+growStep-1)/growStep*growStep, int64(len(m.m))) }
	to := step(end + ahead)
	if to > m.grown && m.allocate(int(m.f.Fd()), 0, m.grown, to-m.grown) != nil {
		// A disk nearly full may hold the step the lines need, not the
		// one ahead.
		if ahead, to = 0, step(end); to > m.grown && m.allocate(int(m.f.Fd()), 0, m.grown, to-m.grown) != nil {
			return false // ENOSPC, or EOPNOTSUPP where the file system has no fallocate
		}
	}
	if ahead > 0 && to > m.grown {
		m.pre.start(m.m[m.grown:to])
	}
	m.grown = max(m.grown, to)
	m.next = m.grown
	switch {
	case m.grown == int64(len(m.m)):
	case ahead > 0:
		m.next -= ahead
	case prefault && first:
		m.next -= growStep / 2
	}
	return true
}

// copyGuarded copies src to dst, a part of a mapping, and reports whether
// it could: a fault (SIGBUS, the file cut short under the mapping)
// panics, recovered, rather than crashing the program.
func copyGuarded(dst, src []byte) (ok bool) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	copy(dst, src)
	return true
}

// unmap ends the mapping, if any, and cuts the file to its lines: the
// segment is written with write(2) from then on.
func (m *mappedFile) unmap() error {
	if m.m == nil {
		return nil
	}
	m.pre.halt() // before the pages it populates are unmapped, and maybe mapped again by another
	err := syscall.Munmap(m.m)
	m.m = nil
	if terr := m.cut(m.size); terr != nil {
		err = errors.Join(err, fmt.Errorf("%w: %w", errNotCut, terr))
	}
	return err
}

// Truncate cuts the file to size, unmapped first.
func (m *mappedFile) Truncate(size int64) error {
	if m.m != nil {
		m.size = size
		return m.unmap()
	}
	return m.f.Truncate(size)
}

// Sync writes the copied lines to stable storage: fsync writes the
// mapping's dirty pages as it does written ones.
func (m *mappedFile) Sync() error { return m.sync() }

// Close unmaps the file, cut to its lines, and closes it.
func (m *mappedFile) Close() error {
	err := m.unmap()
	if cerr := m.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// unmapSegment ends the mapping of f, a segment, if it has one, and cuts
// it to its lines.
func unmapSegment(f journalFile) error {
	if m, ok := f.(*mappedFile); ok {
		return m.unmap()
	}
	return nil
}
