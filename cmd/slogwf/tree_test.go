package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/slogwf/slogwf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata, and docs/report.png")

const (
	treeFile   = "testdata/tree.json"
	treeGolden = "testdata/tree.golden"
	evilAgent  = "worker\x1b[31m\nevil" // an agent name in treeFile
)

// countNodes counts the nodes of the tree file name, independently of the
// code under test.
func countNodes(t *testing.T, name string) int {
	t.Helper()
	data, err := os.ReadFile(name)
	require.NoError(t, err)
	var root map[string]any
	require.NoError(t, json.Unmarshal(data, &root))
	var count func(n map[string]any) int
	count = func(n map[string]any) int {
		c := 1
		for _, key := range []string{"iterations", "interactions", "actions"} {
			children, _ := n[key].([]any)
			for _, child := range children {
				c += count(child.(map[string]any))
			}
		}
		return c
	}
	return count(root)
}

func TestTreeGolden(t *testing.T) {
	code, stdout, stderr := runCLI(t, "tree", "-color=never", treeFile)
	require.Equal(t, 0, code, stderr)
	assert.Empty(t, stderr)
	if *update {
		require.NoError(t, os.WriteFile(treeGolden, []byte(stdout), 0o644))
	}
	golden, err := os.ReadFile(treeGolden)
	require.NoError(t, err)
	assert.Equal(t, string(golden), stdout)

	assert.NotContains(t, stdout, "\x1b")
	assert.Equal(t, countNodes(t, treeFile), strings.Count(stdout, "\n"))
	assert.Contains(t, stdout, strconv.Quote(evilAgent))
}

func TestTreeColor(t *testing.T) {
	code, stdout, stderr := runCLI(t, "tree", "-color=always", treeFile)
	require.Equal(t, 0, code, stderr)
	for _, want := range []string{
		green + "✔" + reset,
		red + "✗" + reset,
		yellow + "…" + reset,
		cyan + "▶" + reset,
		yellow + "2 warnings" + reset,
		magenta + "1 semantic" + reset,
		red + "1 error" + reset,
		dim + "301ms" + reset,
		red + `error: "timeout after 30s \u202e(evil.example)"` + reset,
	} {
		assert.Contains(t, stdout, want)
	}
	assert.Contains(t, stdout, strconv.Quote(evilAgent))
	assert.NotContains(t, stdout, evilAgent)
	assert.NotContains(t, stdout, "\u202e")
	assert.Equal(t, countNodes(t, treeFile), strings.Count(stdout, "\n"))
}

func TestTreeAutoColor(t *testing.T) {
	// A buffer is no terminal.
	code, stdout, _ := runCLI(t, "tree", treeFile)
	require.Equal(t, 0, code)
	assert.NotContains(t, stdout, "\x1b")
}

func TestTreeErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(data), 0o600))
		return p
	}
	missing := filepath.Join(dir, "missing.json")
	invalid := write("invalid.json", `{"schema":"slogwf.tree/v1",`)
	notTree := write("other.json", `{"schema":"other/v2","kind":"workflow"}`)
	// Of a directory, a file that holds no tree is passed by (see
	// TestADirectorysOtherJSONFilesAreNoTreeFiles); a tree it cannot read
	// is an error.
	badDir := t.TempDir()
	badType := filepath.Join(badDir, "type.json")
	require.NoError(t, os.WriteFile(badType, []byte(`{"schema":"slogwf.tree/v1","iterations":[{"number":"one"}]}`), 0o600))
	tests := []struct {
		name string
		args []string
		code int
		want string // in the one line on stderr
	}{
		{"missing file", []string{missing}, 1, missing},
		{"invalid JSON", []string{invalid}, 1, invalid},
		{"other schema", []string{notTree}, 1, notTree},
		{"wrong type", []string{badType}, 1, badType},
		{"directory", []string{badDir}, 1, badType},
		{"no file", nil, 2, "no tree file"},
		{"bad color", []string{"-color=sometimes", treeFile}, 2, `"sometimes"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append([]string{"tree"}, tt.args...)...)
			assert.Equal(t, tt.code, code)
			assert.Empty(t, stdout)
			require.Equal(t, 1, strings.Count(stderr, "\n"), stderr)
			assert.True(t, strings.HasPrefix(stderr, "slogwf tree: "), stderr)
			assert.Contains(t, stderr, tt.want)
		})
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		ms   float64
		want string
	}{
		{0, "0s"},
		{-1, "0s"},
		{0.0000005, "0.5ns"},
		{0.000456, "456ns"},
		{0.012, "12µs"},
		{0.0456, "45.6µs"},
		{0.9996, "1ms"},
		{4.5612, "4.56ms"},
		{456.4, "456ms"},
		{999.7, "1s"},
		{1234.5, "1.23s"},
		{59940, "59.9s"},
		{75_400, "1m15s"},
		{3_723_000, "1h2m3s"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, formatDuration(tt.ms), "%v ms", tt.ms)
	}
}

func TestFormatCost(t *testing.T) {
	tests := []struct {
		usd  float64
		want string
	}{
		{0.01, "$0.0100"},
		{0.0012345, "$0.00123"},
		{0.000021, "$0.0000210"},
		{0.5, "$0.500"},
		{1, "$1.00"},
		{123.456, "$123.46"},
		{0, "$0"},
		{-0.5, "-$0.500"},
		{5e-12, "$5e-12"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, formatCost(tt.usd), "%v", tt.usd)
	}
}

func TestFormatCount(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{1, "1 token"},
		{2, "2 tokens"},
		{999, "999 tokens"},
		{1000, "1,000 tokens"},
		{1234567, "1,234,567 tokens"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, formatCount(tt.n, "token", "tokens"))
	}
}

// A tree file's members that the commands do not know are passed over,
// whatever their names, as encoding/json reads them.
func TestTreeFilesWithMembersOfAnyNameAreRead(t *testing.T) {
	for _, name := range []string{`x\u007f`, `a\"b`, `\u2028`, `\ud800`, `é`, `\\`} {
		t.Run(name, func(t *testing.T) {
			file := `{"schema":"` + slogwf.Schema + `","kind":"workflow","id":"w","name":"alpha","status":"completed",` +
				`"start":"2026-01-01T00:00:00.000000000Z","end":"2026-01-01T00:00:01.000000000Z","` + name + `":1,"records":[]}`
			n, err := decodeTreeFile(strings.NewReader(file), nil)
			require.NoError(t, err)
			assert.Equal(t, "alpha", n.Name)
		})
	}
}
