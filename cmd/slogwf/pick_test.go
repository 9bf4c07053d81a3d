package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Three workflows whose IDs share starts: two named alpha, one beta. Each
// lasts as many seconds as its number, and logs "record N".
var pickIDs = []string{
	"0190aaaa-0000-7000-8000-000000000001",
	"0190aaaa-0000-7000-8000-000000000002",
	"0190bbbb-0000-7000-8000-000000000003",
}

func writePickDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for i, id := range pickIDs {
		name := "alpha"
		if i == 2 {
			name = "beta"
		}
		n := i + 1
		tailWrite(t, filepath.Join(dir, fmt.Sprintf("w-%08d.1.jsonl", n)), fmt.Sprintf(
			`{"ev":"start","wf":"%[1]s","id":"%[1]s","kind":"workflow","time":"2026-01-01T00:00:0%[2]d.000000000Z","name":"%[3]s"}`+"\n"+
				`{"ev":"record","wf":"%[1]s","scope":"%[1]s","time":"2026-01-01T00:00:0%[2]d.500000000Z","level":"INFO","msg":"record %[2]d"}`+"\n"+
				`{"ev":"end","wf":"%[1]s","id":"%[1]s","time":"2026-01-01T00:00:0%[4]d.000000000Z","status":"completed"}`+"\n",
			id, n, name, 2*n))
	}
	return dir
}

// Every command that reads workflows takes -workflow: a whole ID, the
// start of one, or a name; the start of several IDs, or of none, is an
// error that says so.
func TestWorkflowFlagPicksByIDItsStartOrName(t *testing.T) {
	dir := writePickDir(t)
	// What shows that workflow N was picked, in the output of each command.
	seen := map[string]func(n int) string{
		"tree":   func(n int) string { return fmt.Sprintf("  %ds\n", n) },
		"stats":  func(n int) string { return pickIDs[n-1] },
		"tail":   func(n int) string { return fmt.Sprintf("record %d\n", n) },
		"html":   func(n int) string { return pickIDs[n-1] },
		"export": func(n int) string { return pickIDs[n-1] },
		"build":  func(n int) string { return pickIDs[n-1] },
	}
	args := map[string][]string{
		"tree":   {"tree", "-color=never"},
		"stats":  {"stats"},
		"tail":   {"tail", "-color=never"},
		"html":   {"html", "-o", "-"},
		"export": {"export", "-format", "chrome"},
		"build":  {"build", "-o", "-"},
	}
	ambiguous := "-workflow 0190aaaa: the IDs of 2 workflows start so (alpha " + pickIDs[0] + ", alpha " + pickIDs[1] + "): give more of the ID"
	tests := []struct {
		name, want string
		picked     []int  // the workflows shown
		err        string // else, the error
	}{
		{"a whole ID", pickIDs[1], []int{2}, ""},
		{"the start of an ID", "0190B", []int{3}, ""},
		{"the start that tells one", "0190aaaa-0000-7000-8000-000000000001", []int{1}, ""},
		{"a name", "beta", []int{3}, ""},
		{"a name of two", "alpha", []int{1, 2}, ""},
		{"the start of two", "0190aaaa", nil, ambiguous},
		{"nothing", "zzz", nil, "no workflow zzz in " + dir},
	}
	for _, tt := range tests {
		for cmd, show := range seen {
			t.Run(tt.name+"/"+cmd, func(t *testing.T) {
				code, stdout, stderr := runCLI(t, append(args[cmd], "-workflow", tt.want, dir)...)
				if cmd == "build" && len(tt.picked) == 2 {
					assert.Equal(t, 1, code)
					assert.Contains(t, stderr, "-o takes one workflow, the journals hold 2")
					return
				}
				if tt.err != "" {
					assert.Equal(t, 1, code)
					assert.Equal(t, "slogwf "+cmd+": "+tt.err+"\n", stderr)
					return
				}
				require.Equal(t, 0, code, stderr)
				for n := 1; n <= 3; n++ {
					if strings.Contains(stdout, show(n)) != slices.Contains(tt.picked, n) {
						t.Errorf("workflow %d shown: %v, want %v", n, !slices.Contains(tt.picked, n), slices.Contains(tt.picked, n))
					}
				}
			})
		}
	}
}

// With -f, tail -workflow NAME also prints a workflow of that name that
// starts later, and waits for one when none is there yet.
func TestTailFollowPicksAWorkflowThatStartsLater(t *testing.T) {
	dir := writePickDir(t)
	stdout, stderr, stop := tailStart(t, "-f", "-color=never", "-workflow", "gamma", dir)
	const id = "0190cccc-0000-7000-8000-000000000004"
	tailWrite(t, filepath.Join(dir, "w-00000004.1.jsonl"),
		`{"ev":"start","wf":"`+id+`","id":"`+id+`","kind":"workflow","time":"2026-01-01T00:00:09.000000000Z","name":"gamma"}`+"\n"+
			`{"ev":"record","wf":"`+id+`","scope":"`+id+`","time":"2026-01-01T00:00:09.500000000Z","level":"INFO","msg":"record 4"}`+"\n")
	require.Eventually(t, func() bool { return strings.Contains(stdout.String(), "record 4") }, tailWait, tailTick)
	assert.Equal(t, 0, stop())
	assert.NotContains(t, stdout.String(), "record 1")
	assert.Empty(t, stderr.String())
}
