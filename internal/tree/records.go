package tree

import "slices"

// records holds the records of a part in the order they came, in chunks
// that fill one after another: adding one never copies those held, as
// growing one slice does (each of them about four times at the 1.25× a
// large slice grows by), under the lock that a workflow's agents share.
// Chunks double from minChunk records to maxChunk, so that a scope of a
// few records stays small and a large one leaves at most one chunk
// unfilled.
//
// A copy of records is a snapshot of them, for a clone of the tree (see
// Tree.Clone) that is read while the tree goes on: add writes past the
// records the copy reads, and appends to the list of chunks past its end;
// it never writes a slice header the copy reads. A copy is read, never
// added to.
type records struct {
	chunks [][]entry // each held whole but the last, held up to tail; see chunk
	tail   int
}

// entry is a record body the tree keeps, and the sequence number of its
// line, which orders records of equal times.
type entry struct {
	body []byte
	seq  uint64
}

const (
	minChunk = 4    // 128 bytes
	maxChunk = 1024 // 32 KiB
)

// add appends e.
func (r *records) add(e entry) {
	k := len(r.chunks) - 1
	if k < 0 || r.tail == len(r.chunks[k]) {
		size := minChunk
		if k >= 0 {
			size = min(2*len(r.chunks[k]), maxChunk)
		}
		r.chunks = append(r.chunks, make([]entry, size))
		k, r.tail = k+1, 0
	}
	r.chunks[k][r.tail] = e
	r.tail++
}

// chunk returns the records of chunk k.
func (r *records) chunk(k int) []entry {
	if k == len(r.chunks)-1 {
		return r.chunks[k][:r.tail]
	}
	return r.chunks[k]
}

// last returns the last record, if any.
func (r *records) last() (entry, bool) {
	if k := len(r.chunks) - 1; k >= 0 {
		return r.chunks[k][r.tail-1], true
	}
	return entry{}, false
}

// len returns how many records r holds.
func (r *records) len() int {
	n := 0
	for k := range r.chunks {
		n += len(r.chunk(k))
	}
	return n
}

// appendChunks appends the chunks of r to chunks, each cut to the records
// it holds: for chunked.
func (r *records) appendChunks(chunks [][]entry) [][]entry {
	for k := range r.chunks {
		chunks = append(chunks, r.chunk(k))
	}
	return chunks
}

// chunked returns the records of chunks, each held whole: records that
// are read, never added to. An empty last chunk is left out, as add never
// leaves one, for last.
func chunked(chunks [][]entry) records {
	if k := len(chunks) - 1; k >= 0 && len(chunks[k]) == 0 {
		chunks = chunks[:k]
	}
	r := records{chunks: chunks}
	if k := len(chunks) - 1; k >= 0 {
		r.tail = len(chunks[k])
	}
	return r
}

// concat returns the records of r then those of o, to be read.
func (r *records) concat(o records) records {
	return chunked(o.appendChunks(r.appendChunks(nil)))
}

// bodies returns the bodies of the records, in a new array.
func (r *records) bodies() [][]byte {
	n := r.len()
	if n == 0 {
		return nil
	}
	bodies := make([][]byte, 0, n)
	for k := range r.chunks {
		for _, e := range r.chunk(k) {
			bodies = append(bodies, e.body)
		}
	}
	return bodies
}

// sorted returns the records in the tree file's order, in a new array, to
// be read: by time, by the order they were logged in, by their bytes (see
// compareRecords), so that the order never depends on which goroutine won
// a race, nor on the order of the lines. They mostly come in order.
func (r *records) sorted() records {
	all := make([]entry, 0, r.len())
	for k := range r.chunks {
		all = append(all, r.chunk(k)...)
	}
	compare := func(x, y entry) int { return compareRecords(x.body, x.seq, y.body, y.seq) }
	if !slices.IsSortedFunc(all, compare) {
		slices.SortFunc(all, compare)
	}
	return chunked([][]entry{all})
}
