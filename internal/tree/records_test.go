package tree

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seqsOf returns the sequence numbers of the records of r, in order.
func seqsOf(r *records) []uint64 {
	var seqs []uint64
	for k := range r.chunks {
		for _, e := range r.chunk(k) {
			seqs = append(seqs, e.seq)
		}
	}
	return seqs
}

// filled returns records holding n entries numbered from 0.
func filled(n int) (*records, []uint64) {
	var r records
	var want []uint64
	for i := range n {
		r.add(entry{body: fmt.Append(nil, i), seq: uint64(i)})
		want = append(want, uint64(i))
	}
	return &r, want
}

func TestRecordsKeepEveryRecordInOrderInChunksThatNeverMove(t *testing.T) {
	for _, n := range []int{0, 1, minChunk - 1, minChunk, minChunk + 1, 2*minChunk + minChunk - 1,
		maxChunk - 1, maxChunk, 2*maxChunk - minChunk, 2*maxChunk - minChunk + 1, 5*maxChunk + 3} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			r, want := filled(n)
			require.Equal(t, n, r.len())
			assert.Equal(t, want, seqsOf(r))
			bodies := r.bodies()
			assert.Len(t, bodies, n)
			for i, b := range bodies {
				require.Equal(t, fmt.Sprint(i), string(b))
			}
			last, ok := r.last()
			assert.Equal(t, n > 0, ok)
			if n > 0 {
				assert.Equal(t, uint64(n-1), last.seq)
			}
			requireChunked(t, r, n)
		})
	}
}

// requireChunked requires r to hold n records in chunks that double from
// minChunk up to maxChunk, full but the last.
func requireChunked(t *testing.T, r *records, n int) {
	t.Helper()
	size, held := minChunk, 0
	for k, c := range r.chunks {
		require.Len(t, c, size, "chunk %d", k)
		require.Equal(t, len(c), cap(c), "chunk %d", k)
		held += len(r.chunk(k))
		size = min(2*size, maxChunk)
	}
	require.Equal(t, n, held)
	if len(r.chunks) > 0 {
		require.Positive(t, r.tail, "the last chunk holds a record")
	}
}

func TestACopyOfRecordsStaysAsItWasWhileTheRecordsGrow(t *testing.T) {
	for _, n := range []int{0, 1, minChunk - 1, minChunk, maxChunk + 1} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			r, want := filled(n)
			snapshot := *r
			// Read while r grows, as a snapshot is written: -race tells
			// if an add writes what the copy reads.
			done := make(chan struct{})
			go func() {
				defer close(done)
				for i := range 2 * maxChunk {
					r.add(entry{seq: uint64(n + i)})
				}
			}()
			for range 10 {
				assert.Equal(t, want, seqsOf(&snapshot))
			}
			<-done
			assert.Equal(t, want, seqsOf(&snapshot))
			assert.Len(t, seqsOf(r), n+2*maxChunk)
			requireChunked(t, r, n+2*maxChunk)
		})
	}
}

func TestConcatenatedRecordsReadInOrder(t *testing.T) {
	a, want := filled(minChunk + 1) // its last chunk not full
	b, _ := filled(3)
	for i := range b.tail {
		b.chunks[0][i].seq += uint64(len(want))
	}
	for _, tt := range []struct {
		name string
		all  records
		want []uint64
	}{
		{"both", a.concat(*b), append(slices.Clone(want), 5, 6, 7)},
		{"then none", a.concat(records{}), want},
		{"none then", (&records{}).concat(*a), want},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, seqsOf(&tt.all))
			assert.Equal(t, len(tt.want), tt.all.len())
		})
	}
}

func TestSortedRecordsAreByTimeThenSeqThenBytes(t *testing.T) {
	rec := func(time string, seq uint64, msg string) entry {
		return entry{body: fmt.Appendf(nil, `"time":"%s","msg":"%s"`, time, msg), seq: seq}
	}
	for _, tt := range []struct {
		name     string
		in, want []entry
	}{
		{"none", nil, nil},
		{"in order", []entry{rec("1", 0, "a"), rec("2", 0, "b")}, []entry{rec("1", 0, "a"), rec("2", 0, "b")}},
		{"by time", []entry{rec("2", 0, "a"), rec("1", 1, "b")}, []entry{rec("1", 1, "b"), rec("2", 0, "a")}},
		{"by seq at one time", []entry{rec("1", 2, "a"), rec("1", 1, "b")}, []entry{rec("1", 1, "b"), rec("1", 2, "a")}},
		{"by bytes at one time and seq", []entry{rec("1", 0, "b"), rec("1", 0, "a")}, []entry{rec("1", 0, "a"), rec("1", 0, "b")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var r records
			for _, e := range tt.in {
				r.add(e)
			}
			in := r.bodies()
			sorted := r.sorted()
			var got []entry
			for k := range sorted.chunks {
				got = append(got, sorted.chunk(k)...)
			}
			assert.Equal(t, tt.want, got)
			last, ok := sorted.last()
			assert.Equal(t, len(tt.want) > 0, ok)
			if ok {
				assert.Equal(t, tt.want[len(tt.want)-1], last)
			}
			assert.Equal(t, in, r.bodies(), "the records stay in the order they came")
		})
	}
}
