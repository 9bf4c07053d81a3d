package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
)

const htmlHelp = `usage: slogwf html [-o FILE] [-workflow ID|NAME] TREE|JOURNAL|DIR...|-

Html writes one self-contained HTML page of workflows: its style, script
and data are inline, it loads nothing from the network, opens from a file
and can be attached to a bug report. It shows:

  - the workflow's status, start, duration, tokens, cost, LLM calls,
    warnings, semantic warnings, errors, and what the tree lost;
  - its scopes as a tree, each row with its time on the workflow's time
    line, so that agents that ran in parallel show as overlapping bars;
    expand and collapse, and mark the hot spots (50 % or 75 % of the time
    or cost);
  - the details of the row selected: attributes, input, output, usage and
    records;
  - filters by level, agent, semantic warnings and errors; a search of
    names, messages and values; a jump to the next error;
  - the tables of slogwf stats by agent and by model;
  - with several workflows, a list to pick one, newest first.

Keys: ↑ ↓ move, Enter → ← expand and collapse, / search. Every text of the
data shows as text: nothing in a log can run in the page.

The page goes beside its input, named after the workflow as its tree file
is (.html for .json), or workflows.html for several; -o names it ("-" for
standard output). The inputs are read as slogwf tree reads them: tree
files, journals, directories, "-" for standard input.

Example:
	slogwf html logs/research-01a2255d-71e3-7c75-9eef-715af7eb4be4.json
	slogwf html -o run.html -workflow research logs

Flags:
`

// runHTML is the html command.
func runHTML(_ context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("html", htmlHelp)
	out := fs.String("o", "", "write the page to `FILE` (\"-\": standard output)")
	workflow := fs.String("workflow", "", "show "+workflowFlag)
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{errors.New("no input")}
	}
	in, err := readInputs("html", fs.Args(), stdin, stderr, false)
	if err != nil {
		return err
	}
	from, err := pickTrees(*workflow, in.all(), strings.Join(fs.Args(), " "))
	if err != nil {
		return err
	}
	if len(from) == 0 {
		return fmt.Errorf("no workflow in %s", printable(strings.Join(fs.Args(), " ")))
	}
	var data reportData
	for _, t := range from {
		tree, err := t.bytes()
		if err != nil {
			return err
		}
		w, err := newReportWorkflow(tree, t.from)
		if err != nil {
			return err
		}
		data.Workflows = append(data.Workflows, w)
	}
	// Newest first; times are RFC 3339 with 9 digits, so they sort as
	// text.
	slices.SortStableFunc(data.Workflows, func(a, b reportWorkflow) int { return cmp.Compare(b.root.Start, a.root.Start) })

	path := *out
	if path == "" {
		switch t := from[0]; {
		case len(from) > 1:
			path = filepath.Join(t.dir, "workflows.html")
		case t.base == "":
			return usageError{errors.New("a tree from standard input needs -o")}
		default:
			path = filepath.Join(t.dir, t.base+".html")
		}
	}
	if path == "-" {
		return filePage.write(stdout, data)
	}
	var buf bytes.Buffer
	if err := filePage.write(&buf, data); err != nil {
		return err
	}
	write := writeFile
	if *out == "" {
		write = replaceFile // a name of our own
	}
	if err := write(path, buf.Bytes()); err != nil {
		return err
	}
	if *out == "" {
		fmt.Fprintf(stdout, "html: %s\n", path)
	}
	return nil
}
