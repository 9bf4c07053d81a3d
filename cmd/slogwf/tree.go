package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

const treeHelp = `usage: slogwf tree [-color auto|always|never] [-depth N] [-errors] [-workflow ID|NAME] FILE...

Tree prints workflow trees as outlines, one line per workflow, iteration,
interaction and action: its status (✔ completed, ✗ failed, … incomplete,
▶ running), duration, tokens and cost, warnings, semantic warnings and
errors (of its whole subtree), and the error of a failed node. A FILE is a
tree file, a journal, or a directory of journals; journals are rebuilt
into trees as "slogwf build" does. "-" reads standard input.

Example:
	slogwf tree -color=never logs/research-01a2255d-71e3-7c75-9eef-715af7eb4be4.json
	slogwf tree -errors -depth 3 logs/
	slogwf tree -workflow 01a2255d-71e3 logs/

Flags:
`

// treeNode is one node of a tree file, with the members that tree and
// stats use. Their walks of a tree recurse as deep as it nests, which
// encoding/json bounds: it reads nothing deeper than maxJSONDepth.
type treeNode struct {
	Schema     string          `json:"schema"` // of the root only
	Kind       string          `json:"kind"`
	ID         string          `json:"id"`
	Name       string          `json:"name"`   // workflow, action
	Agent      string          `json:"agent"`  // interaction
	Number     int64           `json:"number"` // iteration
	Status     string          `json:"status"`
	Start      string          `json:"start"`
	End        string          `json:"end"`
	DurationMS *float64        `json:"duration_ms"` // absent for a scope never started
	Error      string          `json:"error"`
	Attrs      map[string]any  `json:"attrs"`
	Usage      treeUsage       `json:"usage"`
	Counts     treeCounts      `json:"counts"`
	Loss       json.RawMessage `json:"loss"` // of the root only

	Records      []treeRecord `json:"records"`
	Iterations   []treeNode   `json:"iterations"`
	Interactions []treeNode   `json:"interactions"`
	Actions      []treeNode   `json:"actions"`

	skipped int // records of the tree file not kept (see decodeTreeFile)
}

// treeUsage is the usage of a node of a tree file.
type treeUsage struct {
	Calls       int64   `json:"llm_calls"`
	In          int64   `json:"input_tokens"`
	Cached      int64   `json:"cached_input_tokens"`
	CacheWrite  int64   `json:"cache_write_input_tokens"`
	Out         int64   `json:"output_tokens"`
	TotalTokens int64   `json:"total_tokens"`
	CostUSD     float64 `json:"cost_usd"`
}

// treeCounts are the counts of a node of a tree file.
type treeCounts struct {
	Records  int64 `json:"records"`
	Warnings int64 `json:"warnings"`
	Semantic int64 `json:"semantic"`
	Errors   int64 `json:"errors"`
}

// head returns the head of the workflow n.
func (n *treeNode) head() treeHead {
	return treeHead{
		Schema: n.Schema, Kind: n.Kind, ID: n.ID, Name: n.Name, Status: n.Status, Start: n.Start, End: n.End,
		DurationMS: n.DurationMS, Usage: n.Usage, Counts: n.Counts, Loss: n.Loss,
	}
}

// treeRecord is one record of a tree file.
type treeRecord struct {
	Time     string          `json:"time"`
	Level    string          `json:"level"`
	Msg      string          `json:"msg"`
	Semantic bool            `json:"semantic"`
	Attrs    json.RawMessage `json:"attrs"`
	Usage    *struct {
		Calls   int64   `json:"llm_calls"`
		In      int64   `json:"input_tokens"`
		Out     int64   `json:"output_tokens"`
		CostUSD float64 `json:"cost_usd"`
		Model   string  `json:"model"`
	} `json:"usage"`
}

// runTree is the tree command.
func runTree(_ context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("tree", treeHelp)
	colorFlag := fs.String("color", "auto", "`WHEN` to color the outline: auto (when stdout is a terminal and NO_COLOR is unset), always or never")
	depth := fs.Int("depth", 0, "show `N` levels below the workflow at most (0: all)")
	errorsOnly := fs.Bool("errors", false, "show only the paths to failed or incomplete nodes")
	workflow := fs.String("workflow", "", "show "+workflowFlag)
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	color, err := colorMode(*colorFlag, stdout)
	if err != nil {
		return usageError{err}
	}
	if *depth < 0 {
		return usageError{fmt.Errorf("-depth %d: want 0 or more", *depth)}
	}
	if fs.NArg() == 0 {
		return usageError{errors.New("no tree file")}
	}
	in, err := readInputs("tree", fs.Args(), stdin, stderr, true)
	if err != nil {
		return err
	}
	trees, err := pickTrees(*workflow, in.all(), strings.Join(fs.Args(), " "))
	if err != nil {
		return err
	}
	if len(trees) == 0 {
		return fmt.Errorf("no workflow in %s", printable(strings.Join(fs.Args(), " ")))
	}
	w := bufio.NewWriter(stdout)
	o := outline{w: w, color: color, depth: *depth, errorsOnly: *errorsOnly}
	for i, t := range trees {
		root, err := t.decode(nil) // the outline shows no record
		if err != nil {
			return err
		}
		if i > 0 {
			w.WriteByte('\n')
		}
		o.node(root, "", "", 0)
	}
	return w.Flush()
}

// colorMode reports whether the outline on stdout is colored.
func colorMode(mode string, stdout io.Writer) (bool, error) {
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto":
		return isTerminal(stdout) && os.Getenv("NO_COLOR") == "", nil
	}
	return false, fmt.Errorf("-color %s: want auto, always or never", strconv.Quote(mode))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// ANSI colors of the outline.
const (
	green   = "\x1b[32m"
	red     = "\x1b[31m"
	yellow  = "\x1b[33m"
	magenta = "\x1b[35m"
	cyan    = "\x1b[36m"
	dim     = "\x1b[2m"
	reset   = "\x1b[0m"
)

// outline writes a tree as an indented outline.
type outline struct {
	w          *bufio.Writer
	color      bool
	depth      int    // levels below the root to show; 0: all
	errorsOnly bool   // show only paths to failed or incomplete nodes
	line       []byte // reused for each line
}

// node writes n, at level below the root, after guide, and its children
// indented by indent.
func (o *outline) node(n *treeNode, guide, indent string, level int) {
	o.writeLine(n, guide)
	if o.depth > 0 && level == o.depth {
		return
	}
	var children []*treeNode
	for _, c := range n.children() {
		if !o.errorsOnly || c.hasTrouble() {
			children = append(children, c)
		}
	}
	for i, c := range children {
		if i == len(children)-1 {
			o.node(c, indent+"└─ ", indent+"   ", level+1)
		} else {
			o.node(c, indent+"├─ ", indent+"│  ", level+1)
		}
	}
}

// children returns the children of n, of all kinds.
func (n *treeNode) children() []*treeNode {
	var cs []*treeNode
	for _, list := range [][]treeNode{n.Iterations, n.Interactions, n.Actions} {
		for i := range list {
			cs = append(cs, &list[i])
		}
	}
	return cs
}

// hasTrouble reports whether n or a node below it failed or is incomplete.
func (n *treeNode) hasTrouble() bool {
	if n.Status == "failed" || n.Status == "incomplete" {
		return true
	}
	return slices.ContainsFunc(n.children(), (*treeNode).hasTrouble)
}

func (o *outline) writeLine(n *treeNode, guide string) {
	b := append(o.line[:0], guide...)
	b = o.mark(b, n.Status)
	b = append(b, ' ')
	b = append(b, label(n)...)
	if n.DurationMS != nil {
		b = o.field(b, dim, formatDuration(*n.DurationMS))
	}
	if n.Usage.TotalTokens > 0 {
		b = o.field(b, "", formatCount(n.Usage.TotalTokens, "token", "tokens"))
	}
	if n.Usage.CostUSD > 0 {
		b = o.field(b, "", formatCost(n.Usage.CostUSD))
	}
	if c := n.Counts.Warnings; c > 0 {
		b = o.field(b, yellow, formatCount(c, "warning", "warnings"))
	}
	if c := n.Counts.Semantic; c > 0 {
		b = o.field(b, magenta, formatCount(c, "semantic", "semantic"))
	}
	if c := n.Counts.Errors; c > 0 {
		b = o.field(b, red, formatCount(c, "error", "errors"))
	}
	if n.Error != "" {
		b = o.field(b, red, "error: "+printable(n.Error))
	}
	b = append(b, '\n')
	o.w.Write(b) // a write error stays in w, for Flush to return
	o.line = b
}

// mark appends the mark of status.
func (o *outline) mark(b []byte, status string) []byte {
	switch status {
	case "completed":
		return o.paint(b, green, "✔")
	case "failed":
		return o.paint(b, red, "✗")
	case "incomplete":
		return o.paint(b, yellow, "…")
	case "running":
		return o.paint(b, cyan, "▶")
	}
	return o.paint(b, yellow, "? "+printable(status))
}

// field appends s, colored, after a gap.
func (o *outline) field(b []byte, color, s string) []byte {
	return o.paint(append(b, "  "...), color, s)
}

// paint appends s, in color when the outline is colored and color is set.
func (o *outline) paint(b []byte, color, s string) []byte {
	if !o.color || color == "" {
		return append(b, s...)
	}
	b = append(b, color...)
	b = append(b, s...)
	return append(b, reset...)
}

// label returns the kind and name of n, the name made printable.
func label(n *treeNode) string {
	switch n.Kind {
	case "workflow", "action":
		return n.Kind + " " + printableName(n.Name)
	case "iteration":
		return "iteration " + strconv.FormatInt(n.Number, 10)
	case "interaction":
		return "interaction " + printableName(n.Agent)
	}
	return printableName(n.Kind) + " " + printableName(cmp.Or(n.Name, n.Agent))
}

// printableName is printable, but shows an empty name as "".
func printableName(s string) string {
	if s == "" {
		return `""`
	}
	return printable(s)
}

// formatDuration formats ms milliseconds to 3 significant digits in the
// largest unit below it: 1.23s, 456ms, 12µs; from a minute on as 2m3s.
func formatDuration(ms float64) string {
	if !(ms > 0) { // NaN too
		return "0s"
	}
	ns := ms * 1e6
	if ns >= float64(time.Minute) {
		if ns >= math.MaxInt64 {
			return "long"
		}
		return time.Duration(ns).Round(time.Second).String()
	}
	// Round first, so that 999.6ms becomes 1s, not 1000ms.
	ns, _ = strconv.ParseFloat(strconv.FormatFloat(ns, 'g', 3, 64), 64)
	for _, u := range [...]struct {
		size float64
		name string
	}{{1e9, "s"}, {1e6, "ms"}, {1e3, "µs"}} {
		if ns >= u.size {
			return strconv.FormatFloat(ns/u.size, 'f', -1, 64) + u.name
		}
	}
	return strconv.FormatFloat(ns, 'f', -1, 64) + "ns"
}

// formatCost formats usd as dollars: cents from a dollar on, else 3
// significant digits, so that a small cost never shows as $0.00.
func formatCost(usd float64) string {
	switch {
	case usd < 0:
		return "-" + formatCost(-usd)
	case usd == 0:
		return "$0"
	case usd >= 1 || math.IsInf(usd, 0) || math.IsNaN(usd):
		return "$" + strconv.FormatFloat(usd, 'f', 2, 64)
	case usd < 1e-9:
		return "$" + strconv.FormatFloat(usd, 'g', 3, 64)
	}
	return "$" + strconv.FormatFloat(usd, 'f', 2-int(math.Floor(math.Log10(usd))), 64)
}

// formatCount formats n, at least 1, with thousands separators and the
// noun for n.
func formatCount(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return formatGrouped(n) + " " + many
}
