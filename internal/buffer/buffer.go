// Package buffer is a pool of byte slices, as log/slog's internal/buffer:
// the root package encodes journal lines in them, and the tree package
// writes tree files through them.
package buffer

import "sync"

// Buffer is a pooled byte slice.
type Buffer []byte

var pool = sync.Pool{New: func() any { b := make(Buffer, 0, 1024); return &b }}

// New returns an empty Buffer from the pool.
func New() *Buffer { return pool.Get().(*Buffer) }

// Free puts b back in the pool, unless it grew too large to keep.
func (b *Buffer) Free() {
	if cap(*b) <= 16<<10 {
		*b = (*b)[:0]
		pool.Put(b)
	}
}
