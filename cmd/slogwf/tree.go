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

const treeHelp = `usage: slogwf tree [-color auto|always|never] FILE

Tree prints a tree file of the slogwf handler as an outline, one line per
workflow, iteration, interaction and action: its status (✔ completed,
✗ failed, … incomplete, ▶ running), duration, tokens and cost, warnings,
semantic warnings and errors (of its whole subtree), and the error of a
failed node. FILE "-" reads standard input.

Example:
	slogwf tree -color=never logs/research-0a1b2c3d.json

Flags:
`

// treeSchema is the only tree file format tree reads.
const treeSchema = "slogwf.tree/v1"

// treeNode is one node of a tree file, with the members tree shows.
type treeNode struct {
	Schema     string   `json:"schema"` // of the root only
	Kind       string   `json:"kind"`
	Name       string   `json:"name"`   // workflow, action
	Agent      string   `json:"agent"`  // interaction
	Number     int64    `json:"number"` // iteration
	Status     string   `json:"status"`
	DurationMS *float64 `json:"duration_ms"` // absent for a scope never started
	Error      string   `json:"error"`
	Usage      struct {
		TotalTokens int64   `json:"total_tokens"`
		CostUSD     float64 `json:"cost_usd"`
	} `json:"usage"`
	Counts struct {
		Warnings int64 `json:"warnings"`
		Semantic int64 `json:"semantic"`
		Errors   int64 `json:"errors"`
	} `json:"counts"`
	Iterations   []treeNode `json:"iterations"`
	Interactions []treeNode `json:"interactions"`
	Actions      []treeNode `json:"actions"`
}

// runTree is the tree command.
func runTree(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlagSet("tree", treeHelp)
	colorFlag := fs.String("color", "auto", "`WHEN` to color the outline: auto (when stdout is a terminal and NO_COLOR is unset), always or never")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	color, err := colorMode(*colorFlag, stdout)
	if err != nil {
		return usageError{err}
	}
	switch fs.NArg() {
	case 0:
		return usageError{errors.New("no tree file")}
	case 1:
	default:
		return usageError{fmt.Errorf("want one tree file, got %d arguments", fs.NArg())}
	}
	root, err := readTree(fs.Arg(0))
	if err != nil {
		return err
	}
	w := bufio.NewWriter(stdout)
	o := outline{w: w, color: color}
	o.node(root, "", "")
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

// readTree reads and decodes the tree file name; "-" is standard input.
// Its errors name the file.
func readTree(name string) (*treeNode, error) {
	var data []byte
	var err error
	if name == "-" {
		name = "standard input"
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(name) // its error names the file
	}
	if err != nil {
		return nil, err
	}
	var root treeNode
	if err := json.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: not a tree file: %w", name, err)
	}
	if root.Schema != treeSchema {
		return nil, fmt.Errorf("%s: not a %s tree file (schema %s)", name, treeSchema, strconv.Quote(root.Schema))
	}
	return &root, nil
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
	w     *bufio.Writer
	color bool
	line  []byte // reused for each line
}

// node writes n after guide, and its children indented by indent.
func (o *outline) node(n *treeNode, guide, indent string) {
	o.writeLine(n, guide)
	children := slices.Concat(n.Iterations, n.Interactions, n.Actions)
	for i := range children {
		if i == len(children)-1 {
			o.node(&children[i], indent+"└─ ", indent+"   ")
		} else {
			o.node(&children[i], indent+"├─ ", indent+"│  ")
		}
	}
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
	if usd >= 1 || math.IsInf(usd, 0) || math.IsNaN(usd) {
		return "$" + strconv.FormatFloat(usd, 'f', 2, 64)
	}
	decimals := min(2-int(math.Floor(math.Log10(usd))), 12)
	return "$" + strconv.FormatFloat(usd, 'f', decimals, 64)
}

// formatCount formats n, at least 1, with thousands separators and the
// noun for n.
func formatCount(n int64, one, many string) string {
	noun := many
	if n == 1 {
		noun = one
	}
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(s[i])
	}
	return b.String() + " " + noun
}
