package slogwf_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
	"github.com/slogwf/slogwf/internal/tree"
)

// lockedBuffer is a console that tests read while handlers write.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuffer) Lines() []string {
	return strings.Split(strings.TrimSuffix(l.String(), "\n"), "\n")
}

// setup is a handler made by New with its console in a buffer, and a
// context whose scopes log through it rather than slog.Default, so that
// tests run in parallel.
type setup struct {
	h       *slogwf.Handler
	log     *slog.Logger
	ctx     context.Context
	dir     string
	console *lockedBuffer
}

// newSetup returns a setup; opts may set anything but Console and Dir,
// whose zero values become a buffer and a temporary directory.
func newSetup(t *testing.T, opts *slogwf.Options) *setup {
	t.Helper()
	var o slogwf.Options
	if opts != nil {
		o = *opts
	}
	s := &setup{console: &lockedBuffer{}}
	if o.Console == nil {
		o.Console = s.console
	}
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	if o.Color == slogwf.ColorAuto {
		o.Color = slogwf.ColorNever
	}
	h, err := slogwf.New(&o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = h.Close() })
	s.h, s.dir = h, o.Dir
	s.log = slog.New(h)
	s.ctx = slogwf.ContextWithLogger(context.Background(), s.log)
	return s
}

// tree reads the tree file of the workflow of wf.
func (s *setup) tree(t *testing.T, wf *slogwf.Scope) *node {
	t.Helper()
	return readTree(t, s.h.TreeFile(wf))
}

// node is a tree node as the data contract describes it.
type node struct {
	Schema     string         `json:"schema"`
	Kind       string         `json:"kind"`
	ID         string         `json:"id"`
	Name       string         `json:"name"`
	Agent      string         `json:"agent"`
	Number     int            `json:"number"`
	Status     slogwf.Status  `json:"status"`
	Start      string         `json:"start"`
	End        string         `json:"end"`
	DurationMS float64        `json:"duration_ms"`
	Attrs      map[string]any `json:"attrs"`
	Input      any            `json:"input"`
	Output     any            `json:"output"`
	Error      string         `json:"error"`
	Usage      struct {
		LLMCalls         int64   `json:"llm_calls"`
		InputTokens      int64   `json:"input_tokens"`
		CachedTokens     int64   `json:"cached_input_tokens"`
		CacheWriteTokens int64   `json:"cache_write_input_tokens"`
		OutputTokens     int64   `json:"output_tokens"`
		TotalTokens      int64   `json:"total_tokens"`
		CostUSD          float64 `json:"cost_usd"`
	} `json:"usage"`
	Counts struct {
		Records  int64 `json:"records"`
		Warnings int64 `json:"warnings"`
		Semantic int64 `json:"semantic"`
		Errors   int64 `json:"errors"`
	} `json:"counts"`
	Loss         *loss    `json:"loss"` // of the workflow only
	Records      []record `json:"records"`
	Iterations   []*node  `json:"iterations"`
	Interactions []*node  `json:"interactions"`
	Actions      []*node  `json:"actions"`
}

type record struct {
	Time     string         `json:"time"`
	Level    string         `json:"level"`
	Msg      string         `json:"msg"`
	Semantic bool           `json:"semantic"`
	Late     bool           `json:"late"`
	Usage    map[string]any `json:"usage"`
	Attrs    map[string]any `json:"attrs"`
}

// loss is the loss section of a tree.
type loss struct {
	Dropped   int64 `json:"dropped"`
	Truncated int64 `json:"truncated"`
	Redacted  int64 `json:"redacted"`
	Clamped   int64 `json:"clamped"`
	Unwritten int64 `json:"unwritten"`
}

func readTree(t *testing.T, path string) *node {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var n node
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	require.NoError(t, d.Decode(&n), "tree file %s", path)
	return &n
}

// find returns the node of id under n, or nil.
func (n *node) find(id string) *node {
	if n.ID == id {
		return n
	}
	for _, c := range n.children() {
		if f := c.find(id); f != nil {
			return f
		}
	}
	return nil
}

func (n *node) children() []*node {
	return append(append(append([]*node{}, n.Iterations...), n.Interactions...), n.Actions...)
}

func (n *node) msgs() []string {
	var m []string
	for _, r := range n.Records {
		m = append(m, r.Msg)
	}
	return m
}

// files lists the files under dir, as paths relative to it.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	require.NoError(t, filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			names = append(names, rel)
		}
		return err
	}))
	return names
}

// journal returns the lines of the one journal in dir.
func journal(t *testing.T, dir string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, tree.JournalDir, "*.jsonl"))
	require.NoError(t, err)
	require.Len(t, paths, 1)
	b, err := os.ReadFile(paths[0])
	require.NoError(t, err)
	var lines []string
	for line := range tree.Lines(b) { // a live segment ends in NUL padding
		lines = append(lines, strings.TrimSuffix(string(line), "\n"))
	}
	return lines
}

// journalLines returns the lines of all journals in dir.
func journalLines(t *testing.T, dir string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, tree.JournalDir, "*.jsonl"))
	require.NoError(t, err)
	var lines []string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		for line := range tree.Lines(b) {
			lines = append(lines, string(line))
		}
	}
	return lines
}

// buildTree rebuilds the workflow wf from every journal in dir, as
// `slogwf build` does.
func buildTree(t *testing.T, dir, wf string) []byte {
	t.Helper()
	return readJournals(t, dir).JSON(wf)
}

// readJournals returns a Builder that read every journal in dir.
func readJournals(t *testing.T, dir string) *tree.Builder {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, tree.JournalDir, "*.jsonl"))
	require.NoError(t, err)
	b := tree.NewBuilder()
	for _, p := range paths {
		f, err := os.Open(p)
		require.NoError(t, err)
		require.NoError(t, b.ReadJournal(f, p, func(err error) { t.Log(err) }))
		f.Close()
	}
	return b
}

// journaledIterations returns the numbers the journals in dir give the
// iterations, by ID.
func journaledIterations(t *testing.T, dir string) map[string]int {
	t.Helper()
	numbers := map[string]int{}
	for _, line := range journalLines(t, dir) {
		var e struct {
			Ev, Kind, ID string
			Number       int
		}
		require.NoError(t, json.Unmarshal([]byte(line), &e))
		if e.Ev == "start" && e.Kind == "iteration" {
			numbers[e.ID] = e.Number
		}
	}
	return numbers
}
