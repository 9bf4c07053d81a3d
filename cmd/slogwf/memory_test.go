package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// heapGrowth runs f and returns by how much the heap grew at most while
// it ran, over what it was before. The collector runs often meanwhile, so
// that the figure is close to what f held, not to garbage.
func heapGrowth(t *testing.T, f func()) uint64 {
	t.Helper()
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	base, peak := m.HeapAlloc, m.HeapAlloc
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapAlloc)
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	f()
	close(done)
	wg.Wait()
	return peak - base
}

// lastBytes keeps the last bytes written to it, and counts them all.
type lastBytes struct {
	last []byte
	n    int
}

func (w *lastBytes) Write(p []byte) (int, error) {
	w.n += len(p)
	w.last = append(w.last, p...)
	if len(w.last) > 4<<10 {
		w.last = append(w.last[:0], w.last[len(w.last)-2<<10:]...)
	}
	return len(p), nil
}

// runHeld runs slogwf with args, keeping only the end of its output, and
// returns by how much the heap grew at most while it ran.
func runHeld(t *testing.T, args ...string) (code int, stdout *lastBytes, stderr string, grew uint64) {
	t.Helper()
	stdout = new(lastBytes)
	var errb strings.Builder
	grew = heapGrowth(t, func() { code = run(context.Background(), args, strings.NewReader(""), stdout, &errb) })
	t.Logf("slogwf %s: the heap grew by %.1f MiB", args[0], float64(grew)/(1<<20))
	return code, stdout, errb.String(), grew
}

const memWorkflow = "0190a0b0-0000-7000-8000-00000000abcd"

// writeBigJournal writes a journal of one workflow, whose interaction
// holds records of about 1 KB each, size bytes in all, and one record of
// longLine bytes if longLine is above 0. It returns its path.
func writeBigJournal(t *testing.T, size, longLine int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "big-0000abcd.1.jsonl")
	f, err := os.Create(path)
	require.NoError(t, err)
	w := bufio.NewWriter(f)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	stamp := func() string {
		at = at.Add(time.Millisecond)
		return at.Format("2006-01-02T15:04:05.000000000Z")
	}
	const ia = "0190a0b0-0000-7000-8000-0000000000i1"
	fmt.Fprintf(w, `{"ev":"start","wf":%q,"id":%q,"kind":"workflow","time":%q,"name":"big"}`+"\n", memWorkflow, memWorkflow, stamp())
	fmt.Fprintf(w, `{"ev":"start","wf":%q,"id":%q,"parent":%q,"kind":"interaction","time":%q,"agent":"a"}`+"\n", memWorkflow, ia, memWorkflow, stamp())
	pad := strings.Repeat("x", 900)
	for i, written := 0, 0; written < size; i++ {
		usage := ""
		if i%50 == 0 {
			usage = `,"usage":{"llm_calls":1,"input_tokens":10,"output_tokens":2,"cost_usd":0.001,"model":"m"}`
		}
		n, _ := fmt.Fprintf(w, `{"ev":"record","wf":%q,"scope":%q,"time":%q,"level":"INFO","msg":"step"%s,"attrs":{"i":%d,"pad":%q}}`+"\n", memWorkflow, ia, stamp(), usage, i, pad)
		written += n
	}
	if longLine > 0 {
		fmt.Fprintf(w, `{"ev":"record","wf":%q,"scope":%q,"time":%q,"level":"ERROR","msg":"long","attrs":{"big":"%s"}}`+"\n", memWorkflow, ia, stamp(), strings.Repeat("y", longLine))
	}
	fmt.Fprintf(w, `{"ev":"end","wf":%q,"id":%q,"time":%q,"status":"completed"}`+"\n", memWorkflow, ia, stamp())
	fmt.Fprintf(w, `{"ev":"end","wf":%q,"id":%q,"time":%q,"status":"completed"}`+"\n", memWorkflow, memWorkflow, stamp())
	require.NoError(t, w.Flush())
	require.NoError(t, f.Close())
	return path
}

// Tail holds what it prints and a window of events, whatever the size of
// its journals, of their lines, and of what its filters drop.
func TestTailHoldsAWindowNotItsInput(t *testing.T) {
	const size = 20 << 20
	journal := writeBigJournal(t, size, 0)
	long := writeBigJournal(t, 0, 2*size)
	tests := []struct {
		name string
		args []string
		want string // at the end of stdout
		err  string // on stderr
	}{
		{"a journal", []string{journal}, "✔ workflow", ""},
		{"a journal filtered down to nothing", []string{"-level", "error", journal}, "", ""},
		{"a line of 40 MB", []string{long}, "long big=yyyyyyyy", "slogwf tail: " + long + ":3: longer than 1048576 bytes: cut there\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr, grew := runHeld(t, append([]string{"tail", "-color=never"}, tt.args...)...)
			require.Equal(t, 0, code, stderr)
			assert.Equal(t, tt.err, stderr)
			if tt.want == "" {
				assert.Zero(t, stdout.n)
			} else {
				assert.Contains(t, string(stdout.last), tt.want)
			}
			assert.Less(t, grew, uint64(size/2), "the heap grew by %d MiB", grew>>20)
		})
	}
}

// Tree and stats hold the nodes of a tree and the records they use, not
// the whole tree file; tree reads a journal keeping no record.
func TestTreeAndStatsHoldTheNodesNotTheRecords(t *testing.T) {
	const size = 20 << 20
	journal := writeBigJournal(t, size, 0)
	treeFile := filepath.Join(t.TempDir(), "big.json")
	code, _, stderr := runCLI(t, "build", "-o", treeFile, journal)
	require.Equal(t, 0, code, stderr)
	tests := []struct {
		args []string
		want string // at the end of stdout
	}{
		{[]string{"tree", "-color=never", treeFile}, "interaction a"},
		{[]string{"stats", treeFile}, "total"},
		{[]string{"tree", "-color=never", journal}, "interaction a"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr, grew := runHeld(t, tt.args...)
			require.Equal(t, 0, code, stderr)
			assert.Contains(t, string(stdout.last), tt.want)
			assert.Less(t, grew, uint64(size/4), "the heap grew by %d MiB", grew>>20)
		})
	}
}

// ls lists a workflow that has only journals without holding their lines.
func TestLsHoldsNotTheLinesOfAJournal(t *testing.T) {
	const size = 20 << 20
	journal := writeBigJournal(t, size, 0)
	code, stdout, stderr, grew := runHeld(t, "ls", filepath.Dir(journal))
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, string(stdout.last), memWorkflow)
	assert.Less(t, grew, uint64(size/4), "the heap grew by %d MiB", grew>>20)
}
