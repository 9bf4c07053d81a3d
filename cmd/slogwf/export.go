package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

const exportHelp = `usage: slogwf export -format chrome [-o FILE] [-workflow ID|NAME] TREE|JOURNAL|DIR...|-
       slogwf export -otlp URL [-f] [-workflow ID|NAME] [-content] [-max-events N] DIR|JOURNAL...

Export writes workflows in the format of another tool, to FILE or to
standard output, or sends them to an OpenTelemetry backend.

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

  -otlp URL       Each workflow as one trace, each scope a span named by the
                  OpenTelemetry GenAI conventions, sent to the OTLP/HTTP
                  endpoint URL (its base, as OTEL_EXPORTER_OTLP_ENDPOINT:
                  /v1/traces is added); the other OTEL_EXPORTER_OTLP_*
                  variables (headers, timeout, certificates) and
                  OTEL_SERVICE_NAME apply. The spans are those the live
                  exporter of package slogwfotel sends. It reads journals
                  only. With -f it goes on, as tail -f does, sending each
                  scope within a poll of its end, until interrupted; what it
                  sent is kept in .slogwf-export.<hash>.state in the first
                  DIR (or the first JOURNAL's directory), so that a restart
                  sends no span twice, and a backend that fails is tried
                  again each poll. Without -f, scopes that never ended go as
                  incomplete.

A TREE is a tree file, a JOURNAL a journal (the journals of all inputs are
read together, so that those of several processes merge), a DIR stands
for its journals, or its tree files when it has no journal. "-" reads
standard input.

Example:
	slogwf export -format chrome -o trace.json logs
	slogwf export -format chrome logs/research-01a2255d-71e3-7c75-9eef-715af7eb4be4.json > trace.json
	slogwf export -otlp http://127.0.0.1:4318 logs
	slogwf export -otlp http://127.0.0.1:4318 -f logs

Flags:
`

// exportFormats are the formats of export -format: each writes the
// workflows of trees to w.
var exportFormats = map[string]func(w io.Writer, trees []treeDoc) error{
	"chrome": writeChromeTrace,
}

// runExport is the export command.
func runExport(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("export", exportHelp)
	format := fs.String("format", "", "write `FORMAT`: "+strings.Join(slices.Sorted(maps.Keys(exportFormats)), ", "))
	out := fs.String("o", "", "write to `FILE` instead of standard output")
	var o otlpOptions
	fs.StringVar(&o.endpoint, "otlp", "", "send the workflows to the OTLP/HTTP endpoint `URL`, such as http://127.0.0.1:4318")
	fs.BoolVar(&o.follow, "f", false, "with -otlp: keep sending the scopes of the journals, and of the new journals of each DIR, as they end, until interrupted")
	fs.StringVar(&o.workflow, "workflow", "", "write or send "+workflowFlag)
	fs.BoolVar(&o.content, "content", false, "with -otlp: send inputs and outputs, prompts and completions too (gen_ai.input.messages, …)")
	fs.IntVar(&o.maxEvents, "max-events", 0, "with -otlp: send at most `N` records of a scope as the events of its span, the rest counted as dropped (default 128; negative: none)")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if o.endpoint != "" {
		return runExportOTLP(ctx, fs, *format, *out, o, stdout, stderr)
	}
	if otlpOnly := otlpFlagsSet(fs); otlpOnly != "" {
		return usageError{fmt.Errorf("-%s needs -otlp", otlpOnly)}
	}
	write, ok := exportFormats[*format]
	switch {
	case *format == "":
		return usageError{errors.New("no -format or -otlp")}
	case !ok:
		return usageError{fmt.Errorf("-format %s: want %s", strconv.Quote(*format), strings.Join(slices.Sorted(maps.Keys(exportFormats)), " or "))}
	case fs.NArg() == 0:
		return usageError{errors.New("no input")}
	}
	in, err := readInputs("export", fs.Args(), stdin, stderr, false)
	if err != nil {
		return err
	}
	trees, err := pickTrees(o.workflow, in.all(), strings.Join(fs.Args(), " "))
	if err != nil {
		return err
	}
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

// otlpFlagsSet returns the name of a flag set that only -otlp takes, or "".
func otlpFlagsSet(fs *flag.FlagSet) string {
	name := ""
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "f", "content", "max-events":
			name = f.Name
		}
	})
	return name
}

// runExportOTLP is export -otlp.
func runExportOTLP(ctx context.Context, fs *flag.FlagSet, format, out string, o otlpOptions, stdout, stderr io.Writer) error {
	switch {
	case format != "":
		return usageError{errors.New("-format and -otlp: choose one")}
	case out != "":
		return usageError{errors.New("-o goes with -format, not -otlp")}
	case fs.NArg() == 0:
		return usageError{errors.New("no input")}
	}
	for _, name := range fs.Args() {
		if name == "-" {
			return usageError{errors.New(`-otlp reads journals and directories of them, not "-"`)}
		}
		if st, err := os.Stat(name); err == nil && !st.IsDir() && !strings.HasSuffix(name, ".jsonl") {
			return usageError{fmt.Errorf("%s: -otlp reads journals (*.jsonl) and directories of them", printable(name))}
		}
	}
	if o.follow {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
	}
	return exportOTLP(ctx, o, fs.Args(), stdout, stderr)
}
