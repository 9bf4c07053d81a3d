package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// BenchmarkListWorkflows lists directories of N workflows as the handler
// leaves them (a tree file each), with their journals (two files each) or
// without. SLOGWF_LS_N sets N (default 10,000); "slogwf ls" of 100,000 is
// SLOGWF_LS_N=100000.
func BenchmarkListWorkflows(b *testing.B) {
	n := 10_000
	if s := os.Getenv("SLOGWF_LS_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	for _, journals := range []bool{false, true} {
		b.Run(fmt.Sprintf("n=%d/journals=%v", n, journals), func(b *testing.B) {
			dir := b.TempDir()
			writeTreeFiles(b, dir, n)
			if journals {
				writeSmallJournals(b, dir, n)
			}
			for b.Loop() {
				list, err := listWorkflows(dir, func(err error) { b.Fatal(err) })
				if err != nil || len(list) != n {
					b.Fatalf("%d workflows, %v", len(list), err)
				}
			}
		})
	}
}

// writeTreeFiles writes the tree files of n short workflows into dir, as
// the handler writes them, with the IDs of writeSmallJournals.
func writeTreeFiles(b *testing.B, dir string, n int) {
	b.Helper()
	for i := range n {
		id := fmt.Sprintf("0190a0b0-0000-7000-8000-%012d", i)
		data := `{"schema":"slogwf.tree/v1","kind":"workflow","id":"` + id + `","name":"svc","status":"completed","start":"2026-01-01T00:00:00.000000000Z","end":"2026-01-01T00:00:00.300000000Z","duration_ms":300,"attrs":{"req":` + strconv.Itoa(i) + `},"usage":{"llm_calls":1,"input_tokens":100,"cached_input_tokens":0,"cache_write_input_tokens":0,"output_tokens":20,"total_tokens":120,"cost_usd":0},"counts":{"records":2,"warnings":0,"semantic":0,"errors":0},"loss":{"dropped":0,"truncated":0,"redacted":0},"records":[{"time":"2026-01-01T00:00:00.100000000Z","level":"INFO","msg":"call","usage":{"llm_calls":1,"input_tokens":100,"cached_input_tokens":0,"cache_write_input_tokens":0,"output_tokens":20,"total_tokens":120,"cost_usd":0}},{"time":"2026-01-01T00:00:00.200000000Z","level":"INFO","msg":"done"}],"iterations":[],"interactions":[],"actions":[]}`
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("svc-%08d.json", i)), []byte(data), 0o600); err != nil {
			b.Fatal(err)
		}
	}
}
