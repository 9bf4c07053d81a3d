package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

const lsHelp = `usage: slogwf ls [-status STATUS] [-since D|TIME] [-name PREFIX] [-json] DIR

Ls lists the workflows of DIR, newest first: name, ID, status, start (in
local time), duration, records, tokens, cost and errors. It reads the
head of each tree file only (what comes before its records), so it
answers fast among many thousands. A workflow that has journals in DIR but
no tree file (its process crashed, or it has not written its first tree
yet) is listed from its journals, as "slogwf build" would make it: one
that did not end is incomplete, or running if a process still writes its
journal. A workflow that has both is listed as build keeps it and serve
shows it: from its tree file when the journals lack its start or hold
less of it, else from its journals (a running snapshot a crash left).
Give the ID, or its first characters, to -workflow of the other
commands.

Example:
	slogwf ls -status failed -since 1h logs
	slogwf ls -json logs | jq -r '.workflows[0].id'

Flags:
`

// lsStatuses are the statuses of -status.
var lsStatuses = []string{"running", "completed", "failed", "incomplete"}

// runLs is the ls command.
func runLs(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("ls", lsHelp)
	status := fs.String("status", "", "list only the workflows of `STATUS`: "+strings.Join(lsStatuses, ", ")+", or several joined by commas")
	since := fs.String("since", "", "list only the workflows started since `D|TIME`: a duration before now (90m, 1h, 7d) or an RFC 3339 time")
	name := fs.String("name", "", "list only the workflows whose name starts with `PREFIX`")
	asJSON := fs.Bool("json", false, "print one JSON document instead of the table")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	keep, err := lsFilter(*status, *since, *name, time.Now())
	if err != nil {
		return usageError{err}
	}
	switch {
	case fs.NArg() == 0:
		return usageError{errors.New("no DIR")}
	case fs.NArg() > 1:
		return usageError{fmt.Errorf("one DIR only, not %s", printable(strings.Join(fs.Args(), " ")))}
	}
	all, err := listWorkflows(fs.Arg(0), func(err error) {
		fmt.Fprintf(stderr, "slogwf ls: %s\n", message(err))
	})
	if err != nil {
		return err
	}
	var list []*dirWorkflow
	for i := range all {
		if keep(&all[i]) {
			list = append(list, &all[i])
		}
	}
	// Newest first; times are RFC 3339 with 9 digits, so they sort as text.
	slices.SortFunc(list, func(a, b *dirWorkflow) int { return cmp.Or(cmp.Compare(b.Start, a.Start), cmp.Compare(b.ID, a.ID)) })
	return writeOutput(stdout, *asJSON, list, writeLsJSON, writeLsTable)
}

// lsFilter returns what keeps the workflows that the flags of ls ask for,
// as of now.
func lsFilter(status, since, name string, now time.Time) (func(*dirWorkflow) bool, error) {
	var statuses []string
	if status != "" {
		statuses = strings.Split(status, ",")
		for _, s := range statuses {
			if !slices.Contains(lsStatuses, s) {
				return nil, fmt.Errorf("-status %s: want %s", strconv.Quote(s), strings.Join(lsStatuses, ", "))
			}
		}
	}
	var from string // the earliest start kept, as the tree writes times
	if since != "" {
		at, err := time.Parse(time.RFC3339Nano, since)
		if d, derr := parseAge(since); derr == nil {
			at, err = now.Add(-d), nil
		}
		if err != nil {
			return nil, fmt.Errorf("-since %s: want a duration (1h, 90m), days (7d) or an RFC 3339 time", strconv.Quote(since))
		}
		from = at.UTC().Format("2006-01-02T15:04:05.000000000Z")
	}
	return func(w *dirWorkflow) bool {
		return (statuses == nil || slices.Contains(statuses, w.Status)) &&
			(from == "" || w.Start >= from) &&
			strings.HasPrefix(w.Name, name)
	}, nil
}

// writeLsTable writes list as a table, its columns two spaces apart.
func writeLsTable(w *bufio.Writer, list []*dirWorkflow) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tID\tSTATUS\tSTART\tDURATION\tRECORDS\tTOKENS\tCOST\tERRORS")
	for _, l := range list {
		start, dur := "-", "-"
		if at, err := time.Parse(time.RFC3339Nano, l.Start); err == nil {
			start = at.Local().Format(time.DateTime)
		}
		if l.DurationMS != nil {
			dur = formatDuration(*l.DurationMS)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", printableName(l.Name), printableName(l.ID), printableName(l.Status), start, dur,
			formatGrouped(l.Counts.Records), formatGrouped(l.Usage.TotalTokens), formatCost(l.Usage.CostUSD), formatGrouped(l.Counts.Errors))
	}
	tw.Flush() // its errors stay in w, for the caller's Flush
}

// writeLsJSON writes list as one JSON document, a workflow a line.
func writeLsJSON(w *bufio.Writer, list []*dirWorkflow) error {
	w.WriteString(`{"workflows":[`)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for i, l := range list {
		if i > 0 {
			w.WriteByte(',')
		}
		buf.Reset()
		if err := enc.Encode(l); err != nil {
			return err
		}
		w.WriteString("\n")
		w.Write(escapeUnprintable(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))))
	}
	_, err := w.WriteString("\n]}\n")
	return err
}
