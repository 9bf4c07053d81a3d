package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/slogwf/slogwf"
	"github.com/slogwf/slogwf/internal/tree"
)

// inputs are the tree files and journals named on a command line. The
// journals go into one Builder, so that the journals of one workflow from
// several processes merge.
type inputs struct {
	stdin     io.Reader
	trees     []treeDoc // tree files, as they are
	journalAt int       // where the trees built from the journals go among them
	b         *tree.Builder
	dir       map[string]string // workflow ID → directory of its first journal
	warn      func(error)
}

// readInputs reads each name: a tree file, a journal, a directory of
// journals (or of tree files, when it has no journals), or "-" for
// standard input. Lines of journals that cannot be read are reported to
// stderr, one line each, as command cmd's.
func readInputs(cmd string, names []string, stdin io.Reader, stderr io.Writer) (*inputs, error) {
	in := &inputs{stdin: stdin, b: tree.NewBuilder(), dir: map[string]string{}, journalAt: -1}
	in.warn = func(err error) { fmt.Fprintf(stderr, "slogwf %s: %s\n", cmd, printable(err.Error())) }
	if i := slices.Index(names, "-"); i >= 0 && slices.Contains(names[i+1:], "-") {
		return nil, usageError{errors.New(`"-" (standard input) given more than once`)}
	}
	for _, name := range names {
		if err := in.read(name); err != nil {
			return nil, err
		}
	}
	return in, nil
}

func (in *inputs) read(name string) error {
	if name == "-" {
		data, err := io.ReadAll(in.stdin)
		if err != nil {
			return fmt.Errorf("standard input: %w", err)
		}
		return in.add(stdinName, ".", data)
	}
	st, err := os.Stat(name)
	if err != nil {
		return err // it names the file
	}
	if !st.IsDir() {
		data, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		return in.add(name, treeDir(name), data)
	}
	files, err := filepath.Glob(filepath.Join(name, "*.jsonl"))
	if more, merr := filepath.Glob(filepath.Join(name, tree.JournalDir, "*.jsonl")); err == nil {
		files, err = append(files, more...), merr
	}
	if err == nil && len(files) == 0 {
		files, err = filepath.Glob(filepath.Join(name, "*.json"))
	}
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("%s: no journals or tree files", name)
	}
	for _, f := range files {
		// A pipe, a device or a socket could keep the read waiting for
		// ever: what a directory holds is read only if it is a file.
		if st, err := os.Stat(f); err == nil && !st.Mode().IsRegular() {
			in.warn(notRegular{f})
			continue
		}
		if err := in.read(f); err != nil {
			return err
		}
	}
	return nil
}

// treeDir returns the directory where the handler puts the tree of a
// workflow of file: Dir, above Dir/journal for a journal.
func treeDir(file string) string {
	dir := filepath.Dir(file)
	if filepath.Base(dir) == tree.JournalDir && strings.HasSuffix(file, ".jsonl") {
		return filepath.Dir(dir)
	}
	return dir
}

// openFound returns the open func of a follower of the names given on a
// command line: it opens them with open as they are, and what it finds in
// their directories only if it is a directory or a regular file. A pipe,
// a device or a socket could keep the follower waiting for ever at its
// open or its read: such a file it reports to warn, once, and gives a
// notRegular error, which the follower passes by as a journal gone.
func openFound(open func(string, int, fs.FileMode) (*os.File, error), names []string, warn func(error)) func(string) (*os.File, error) {
	named := map[string]bool{}
	for _, n := range names {
		named[filepath.Clean(n)] = true
	}
	warned := map[string]bool{}
	return func(name string) (*os.File, error) {
		if named[filepath.Clean(name)] {
			return open(name, os.O_RDONLY, 0)
		}
		f, err := open(name, os.O_RDONLY|syscall.O_NONBLOCK, 0) // a pipe's open waits for a writer
		if err != nil {
			return nil, err
		}
		st, err := f.Stat()
		if err == nil && !st.Mode().IsRegular() && !st.IsDir() {
			err = notRegular{name}
			if !warned[name] {
				warned[name] = true
				warn(err)
			}
		}
		if err != nil {
			f.Close()
			return nil, err
		}
		return f, nil
	}
}

// notRegular is the error of a file found in a directory that is not a
// regular file. It is fs.ErrNotExist to a follower, which passes it by.
type notRegular struct{ name string }

func (e notRegular) Error() string      { return e.name + ": not a regular file, skipped" }
func (notRegular) Is(target error) bool { return target == fs.ErrNotExist }

// add adds the content of the file name, in directory dir: a journal,
// by its *.jsonl name or its first line, or a tree file, by its schema.
func (in *inputs) add(name, dir string, data []byte) error {
	if !strings.HasSuffix(name, ".jsonl") {
		var head struct{ Schema, Ev string }
		err := json.NewDecoder(bytes.NewReader(data)).Decode(&head)
		switch {
		case head.Schema == slogwf.Schema:
			in.trees = append(in.trees, treeDoc{from: name, data: data, dir: dir, base: treeBase(name)})
			return nil
		case head.Schema != "":
			return fmt.Errorf("%s: not a %s tree file (schema %s)", name, slogwf.Schema, printable(head.Schema))
		case head.Ev == "" && !errors.Is(err, io.EOF) && jsonDepth(data) > maxJSONDepth:
			return fmt.Errorf("%s: JSON nested more than %d levels deep: not a tree file or journal", name, maxJSONDepth)
		case head.Ev == "" && !errors.Is(err, io.EOF):
			return fmt.Errorf("%s: not a tree file or journal", name)
		}
	}
	if in.journalAt < 0 {
		in.journalAt = len(in.trees)
	}
	err := in.b.ReadJournal(bytes.NewReader(data), name, in.warn)
	for _, id := range in.b.Workflows() {
		if _, ok := in.dir[id]; !ok {
			in.dir[id] = dir
		}
	}
	return err
}

// stdinName names standard input in messages.
const stdinName = "standard input"

// treeDoc is a tree file, or a tree built from journals, and where it is
// from.
type treeDoc struct {
	from string
	data []byte
	dir  string // of its file, or of its first journal
	base string // the name of its file without .json; "" from standard input
}

// treeBase returns the name of the tree file name without its extension,
// "" for standard input.
func treeBase(name string) string {
	if name == stdinName {
		return ""
	}
	base := filepath.Base(name)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

// all returns every tree, in the order of the command line: the trees
// built from the journals where the first journal came.
func (in *inputs) all() []treeDoc {
	var built []treeDoc
	for _, id := range in.b.Workflows() {
		built = append(built, treeDoc{
			from: "the journals of workflow " + id,
			data: in.b.JSON(id),
			dir:  in.dir[id],
			base: treeBase(in.b.FileName(id)),
		})
	}
	at := in.journalAt
	if at < 0 {
		at = len(in.trees)
	}
	return slices.Insert(slices.Clone(in.trees), at, built...)
}

// maxJSONDepth is how deep encoding/json reads JSON: no deeper, so that
// the walks of a tree file, whose depth it bounds, stay short. Tree files
// nest scopes at most 100 deep.
const maxJSONDepth = 10000

// jsonDepth returns how deep the JSON text j nests its objects and arrays.
func jsonDepth(j []byte) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(j); i++ {
		switch c := j[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}
