package tree

import (
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A tree asks for a spare slab when the one it fills is three quarters
// full, and keeps the bodies of the next records in the spare it is given,
// made off its lock, rather than in one it makes: those that fit in it.
func TestATreeKeepsTheNextRecordsInTheSpareSlabItWasGiven(t *testing.T) {
	tests := []struct {
		name    string
		msg     string // of the records after the spare is given
		inSpare bool
	}{
		{"records that fit", "m", true},
		{"a record larger than the spare", strings.Repeat("x", 128<<10), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := recordsTree(t, 1, "m")
			seq := 1000
			record := func(msg string) {
				seq++
				apply(t, tr, fmt.Sprintf(`{"ev":"record","wf":"w","scope":"w","seq":%d,"time":"2026-01-01T00:00:02.000000000Z","level":"INFO","msg":%q}`, seq, msg))
			}
			for tr.SpareWanted() == 0 {
				require.Less(t, seq, 2000, "a spare is wanted")
				record("m")
			}
			assert.GreaterOrEqual(t, 4*len(tr.slab), 3*cap(tr.slab), "wanted when three quarters full")
			spare := NewSlab(tr.SpareWanted())
			tr.Spare(spare)
			assert.Zero(t, tr.SpareWanted(), "wanted no more, once given")
			full := unsafe.SliceData(tr.slab)
			for unsafe.SliceData(tr.slab) == full {
				require.Less(t, seq, 3000, "the slab is filled")
				record(tt.msg)
			}
			assert.Equal(t, tt.inSpare, unsafe.SliceData(tr.slab) == unsafe.SliceData(spare), "the bodies are in the spare")
			assert.Equal(t, tt.inSpare, tr.spare == nil, "the spare is used once")
		})
	}
}
