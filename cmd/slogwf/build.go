package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/slogwf/slogwf/internal/tree"
)

const buildHelp = `usage: slogwf build [-o FILE] [-workflow ID|NAME] JOURNAL...|DIR|-

Build replays journals through the tree builder of the live handler and
writes the tree of each workflow in them: beside its journals, named as
the handler names it (so that after a crash the tree is whole again), or
to FILE ("-" for standard output) when there is one workflow. Journals of
one workflow from several processes merge into one tree. Scopes that never
ended are incomplete, open until the last event seen. Lines that cannot be
read, and a torn last line, are skipped with a warning. A tree file that
holds more of a workflow than the journals (its start, its end, or more
records: retention removed segments, or not all were named) stays, with a
warning, unless it is a running snapshot and the journals hold the start.
A workflow without an end whose process still runs (it holds its journal
locked) is left to that process, with a warning; -o writes the rebuilt
tree whatever it holds.

Example:
	slogwf build logs/

Flags:
`

// runBuild is the build command.
func runBuild(_ context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("build", buildHelp)
	out := fs.String("o", "", "write the tree to `FILE` (\"-\": standard output); one workflow only")
	workflow := fs.String("workflow", "", "build "+workflowFlag)
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{errors.New("no journals")}
	}
	in, err := readInputs("build", fs.Args(), stdin, stderr, false)
	if err != nil {
		return err
	}
	ids := in.b.Workflows()
	if *workflow != "" && len(in.trees) == 0 {
		refs := make([]workflowRef, len(ids))
		for i, id := range ids {
			refs[i] = workflowRef{id, in.b.Name(id)}
		}
		picked, err := pickWorkflows(*workflow, refs, strings.Join(fs.Args(), " "))
		if err != nil {
			return err
		}
		ids = slices.DeleteFunc(ids, func(id string) bool { return !picked[id] })
	}
	switch {
	case len(in.trees) > 0:
		return fmt.Errorf("%s is a tree file: build reads journals only", printable(in.trees[0].from))
	case len(ids) == 0:
		return fmt.Errorf("no events in %s", strings.Join(fs.Args(), " "))
	case *out != "" && len(ids) > 1:
		var names []string
		for _, id := range ids {
			names = append(names, printable(in.b.Name(id))+" "+id)
		}
		return fmt.Errorf("-o takes one workflow, the journals hold %d: %s", len(ids), strings.Join(names, ", "))
	case *out == "-":
		return in.b.WriteJSON(stdout, ids[0])
	case *out != "":
		return writeFileFrom(*out, func(w io.Writer) error { return in.b.WriteJSON(w, ids[0]) })
	}
	found := treeFiles{}
	running := runningIn(in.b)
	for _, id := range ids {
		dir := treeDir(in.b.Journal(id))
		path := filepath.Join(dir, in.b.FileName(id))
		if !in.b.Tree(id).Ended(id) && running(id) {
			// Its process snapshots it, and writes it final at its end:
			// made final now, it would say incomplete while it runs, and
			// retention could take its files.
			in.warn(fmt.Errorf("left %s to the live process that runs workflow %s", path, id))
			continue
		}
		if _, started := in.b.Tree(id).Name(); !started {
			// Its name, and so its tree file's, is in the start.
			if old := found.of(dir, id); old != "" {
				in.warn(fmt.Errorf("kept %s: the journals hold workflow %s without its start", old, id))
				continue
			}
		}
		why, err := replaceFileUnless(path, func(w io.Writer) error { return in.b.WriteJSON(w, id) },
			func(rebuilt string) string { return holdsLess(path, rebuilt, id) })
		if err != nil {
			return err
		}
		if why != "" {
			in.warn(fmt.Errorf("kept %s: %s", path, why))
			continue
		}
		fmt.Fprintf(stdout, "tree: %s\n", path)
	}
	return nil
}

// holdsLess says why the tree file rebuilt, of workflow id, holds less of
// it than the tree file at path: fewer records, no end where path has one,
// or less usage, fewer warnings or errors (the journals read are not all of
// the workflow's: retention removed some, or they were not all named). It returns "" when it does not, as
// for the snapshot a crash left, and when path is no tree file it can read.
func holdsLess(path, rebuilt, id string) string {
	if st, err := os.Lstat(path); err != nil || !st.Mode().IsRegular() {
		return ""
	}
	buf := make([]byte, 16<<10)
	old, err := readTreeHead(path, buf)
	if err != nil {
		return ""
	}
	h, err := readTreeHead(rebuilt, buf)
	if err != nil {
		return ""
	}
	return lessThan(old, h, id)
}

// lessThan says why the tree of workflow id that journals make, whose
// head is h (final, or live as serve shows it), holds less of it than the
// tree file whose head is old, as holdsLess does.
func lessThan(old, h treeHead, id string) string {
	switch {
	case old.Status == tree.StatusRunning: // a snapshot a crash left: made final
		return ""
	case h.Counts.Records < old.Counts.Records:
		return fmt.Sprintf("it holds %d records of workflow %s, the journals %d", old.Counts.Records, id, h.Counts.Records)
	case (h.Status == tree.StatusIncomplete || h.Status == tree.StatusRunning) && (old.Status == tree.StatusCompleted || old.Status == tree.StatusFailed):
		return fmt.Sprintf("it holds the end of workflow %s, the journals do not", id)
	}
	// With all the records and the end, the journals may still lack a
	// scope's start or end, which carry usage and may count a warning or
	// an error: a segment that held only those lines went.
	for _, c := range []struct {
		what     string
		old, new int64
	}{
		{"input tokens", old.Usage.In, h.Usage.In},
		{"cached input tokens", old.Usage.Cached, h.Usage.Cached},
		{"input tokens written to the cache", old.Usage.CacheWrite, h.Usage.CacheWrite},
		{"output tokens", old.Usage.Out, h.Usage.Out},
		{"LLM calls", old.Usage.Calls, h.Usage.Calls},
		{"warnings", old.Counts.Warnings, h.Counts.Warnings},
		{"semantic warnings", old.Counts.Semantic, h.Counts.Semantic},
		{"errors", old.Counts.Errors, h.Counts.Errors},
	} {
		if c.new < c.old {
			return fmt.Sprintf("%s of workflow %s: %d in it, %d in the journals", c.what, id, c.old, c.new)
		}
	}
	return ""
}

// treeFileStands reports whether the tree file of workflow id, whose head
// is old, stands over the tree that journals make of it, whose head is h:
// when they lack its start (started is false), which names the workflow
// and its tree file, or hold less of it (see lessThan). build keeps such
// a tree file, serve shows it and ls lists it.
func treeFileStands(old, h treeHead, started bool, id string) bool {
	return !started || lessThan(old, h, id) != ""
}

// treeFiles are the tree files of directories, by directory and by the
// FileID in their names, read once a directory is asked for.
type treeFiles map[string]map[string]string

// of returns the tree file of workflow id in dir, whatever its name says
// the workflow's name is, or "".
func (t treeFiles) of(dir, id string) string {
	byID, ok := t[dir]
	if !ok {
		byID = map[string]string{}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if _, fid, ok := tree.ParseTreeFile(e.Name()); ok && e.Type().IsRegular() {
				byID[fid] = filepath.Join(dir, e.Name())
			}
		}
		t[dir] = byID
	}
	return byID[tree.FileID(id)]
}

// writeFile writes data to the file name that the user named, as
// replaceFile does. A name that is not a regular file (a device, a pipe)
// it writes to as it is, and a symbolic link it follows, as a shell's
// redirection would.
func writeFile(name string, data []byte) error { return writeFileFrom(name, writeBytes(data)) }

// writeFileFrom is writeFile of what write writes.
func writeFileFrom(name string, write func(io.Writer) error) error {
	if st, err := os.Stat(name); err == nil && !st.Mode().IsRegular() {
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err == nil {
			err = write(f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		return nil
	}
	path := name
	if target, err := os.Readlink(name); err == nil {
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(name), target)
		}
		path = target
	}
	return replaceFileFrom(path, write)
}

// replaceFile writes data to the file path as the handler writes a tree:
// to a temporary file beside it, synced, renamed over path, and the rename
// synced, so that no reader sees a part and a crash leaves the old data or
// the new. Whatever path is, a symbolic link planted there included, is
// replaced, never written through: the names a command chooses itself go
// here.
func replaceFile(path string, data []byte) error { return replaceFileFrom(path, writeBytes(data)) }

// replaceFileFrom is replaceFile of what write writes.
func replaceFileFrom(path string, write func(io.Writer) error) error {
	_, err := replaceFileUnless(path, write, nil)
	return err
}

// replaceFileUnless is replaceFileFrom, unless keep, given the name of the
// file written, says why the file at path stays: then it returns why, and
// leaves path as it was. A nil keep keeps nothing.
func replaceFileUnless(path string, write func(io.Writer) error, keep func(written string) string) (why string, err error) {
	f, err := os.OpenFile(tree.TempName(path), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		err = write(f)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil && keep != nil {
			why = keep(f.Name())
		}
		if err == nil && why == "" {
			err = os.Rename(f.Name(), path)
		}
		if err != nil || why != "" {
			os.Remove(f.Name())
		}
	}
	if err == nil && why == "" {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return why, nil
}

// writeBytes returns a func that writes data.
func writeBytes(data []byte) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}
}

// syncDir makes the renames in directory dir reach the disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
