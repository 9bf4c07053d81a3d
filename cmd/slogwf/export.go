package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
)

const exportHelp = `usage: slogwf export -format chrome [-o FILE] TREE|JOURNAL|DIR...|-

Export writes workflows in the format of another tool, to FILE or to
standard output.

  -format chrome  Chrome's Trace Event Format (JSON), which Perfetto UI
                  (ui.perfetto.dev, "Open trace file") and chrome://tracing
                  open offline. Each workflow is a process, each agent a
                  thread lane ("workflow" for the scopes outside any
                  interaction), and each scope a complete event whose args
                  hold its status, tokens, cost and counts. Scopes of one
                  agent that run at the same time go on lanes of their own
                  ("worker (2)"), so that the events on a lane nest.
                  Warnings, semantic warnings and errors (records, and
                  failed scopes) are instant events; two counter tracks
                  show the tokens and the cost so far.

A TREE is a tree file, a JOURNAL a journal (the journals of all inputs are
read together, so that those of several processes merge), a DIR stands
for its journals, or its tree files when it has no journal. "-" reads
standard input.

Example:
	slogwf export -format chrome -o trace.json logs
	slogwf export -format chrome logs/research-0a1b2c3d.json > trace.json

Flags:
`

// exportFormats are the formats of export -format: each writes the
// workflows of trees to w.
var exportFormats = map[string]func(w io.Writer, trees []treeDoc) error{
	"chrome": writeChromeTrace,
}

// runExport is the export command.
func runExport(_ context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("export", exportHelp)
	format := fs.String("format", "", "write `FORMAT`: "+strings.Join(slices.Sorted(maps.Keys(exportFormats)), ", "))
	out := fs.String("o", "", "write to `FILE` instead of standard output")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	write, ok := exportFormats[*format]
	switch {
	case *format == "":
		return usageError{errors.New("no -format")}
	case !ok:
		return usageError{fmt.Errorf("-format %s: want %s", strconv.Quote(*format), strings.Join(slices.Sorted(maps.Keys(exportFormats)), " or "))}
	case fs.NArg() == 0:
		return usageError{errors.New("no input")}
	}
	in, err := readInputs("export", fs.Args(), stdin, stderr)
	if err != nil {
		return err
	}
	trees := in.all()
	if len(trees) == 0 {
		return fmt.Errorf("no workflow in %s", printable(strings.Join(fs.Args(), " ")))
	}
	if *out == "" {
		return write(stdout, trees)
	}
	var buf bytes.Buffer
	if err := write(&buf, trees); err != nil {
		return err
	}
	return writeFile(*out, buf.Bytes())
}
