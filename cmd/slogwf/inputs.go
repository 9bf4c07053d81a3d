package main

import (
	"bufio"
	"bytes"
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
// several processes merge. Of a tree file, only its head is read here: its
// tree is read when it is asked for.
type inputs struct {
	stdin     io.Reader
	trees     []treeDoc // tree files
	journalAt int       // where the trees built from the journals go among them
	b         *tree.Builder
	warn      func(error)
	files     fileSet // the files read, each once (see readFile)
	skipped   fileSet // the files passed by with a line, each once (see skip)
}

// readInputs reads each name: a tree file, a journal, a directory of
// journals (or of tree files, when it has no journals), or "-" for
// standard input. Lines of journals that cannot be read are reported to
// stderr, one line each, as command cmd's. With counting, the trees built
// from journals keep the counts and usage of records, not the records.
func readInputs(cmd string, names []string, stdin io.Reader, stderr io.Writer, counting bool) (*inputs, error) {
	in := &inputs{stdin: stdin, b: tree.NewBuilder(), journalAt: -1, files: fileSet{}, skipped: fileSet{}}
	in.b.Counting = counting
	in.warn = func(err error) { fmt.Fprintf(stderr, "slogwf %s: %s\n", cmd, message(err)) }
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
		// Standard input redirected from a file named too is read once.
		var st os.FileInfo
		if f, ok := in.stdin.(*os.File); ok {
			if fst, err := f.Stat(); err == nil && fst.Mode().IsRegular() {
				if in.files.has(fst) {
					return nil
				}
				st = fst
			}
		}
		br := bufio.NewReaderSize(in.stdin, 64<<10)
		doc, r, err := in.sniff(stdinName, br)
		if err == nil && st != nil {
			in.files.add(st)
		}
		if err != nil || doc == nil {
			return err
		}
		doc.dir = "."
		doc.open = func() (io.ReadCloser, error) {
			if r == nil {
				return nil, errors.New("standard input: read twice")
			}
			rc := io.NopCloser(r)
			r = nil
			return rc, nil
		}
		in.trees = append(in.trees, *doc)
		return nil
	}
	st, err := os.Stat(name)
	if err != nil {
		return err // it names the file
	}
	if !st.IsDir() {
		return in.readFile(name)
	}
	files, others, err := dirJournals(name)
	for _, f := range others {
		in.skip(f, notJournal{f})
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
			in.skip(f, notRegular{f})
			continue
		}
		// Another program's *.json there is passed by; named, it is an
		// error.
		if err := in.readFile(f); errors.As(err, new(notOurs)) {
			in.skip(f, fmt.Errorf("%w, skipped", err))
		} else if err != nil {
			return err
		}
	}
	return nil
}

// skip reports the file name passed by, for why, once however often it
// is named.
func (in *inputs) skip(name string, why error) {
	if st, err := os.Stat(name); err == nil && !in.skipped.add(st) {
		return
	}
	in.warn(why)
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

// dirJournals returns the journals of the directory dir, in it and in its
// journal directory, and the other *.jsonl files there: not named as
// slogwf names its journals (see tree.IsJournal), they are another
// program's, which only a command line that names them reads.
func dirJournals(dir string) (journals, others []string, err error) {
	for _, pattern := range []string{"*.jsonl", filepath.Join(tree.JournalDir, "*.jsonl")} {
		found, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return nil, nil, err
		}
		for _, f := range found {
			if tree.IsJournal(f) {
				journals = append(journals, f)
			} else {
				others = append(others, f)
			}
		}
	}
	return journals, others, nil
}

// notOurs is the error of a file that holds no tree file or journal.
type notOurs struct{ name, why string }

func (e notOurs) Error() string { return e.name + ": " + e.why }

// notJournal is the warning of a *.jsonl file of a directory that is not
// named as a journal (see dirJournals).
type notJournal struct{ name string }

func (e notJournal) Error() string { return e.name + ": not named as a slogwf journal, skipped" }

// readFile reads the file name, unless it read it already: a journal, by
// its *.jsonl name or its first line, into the Builder; or the head of a
// tree file. A file that is neither it does not count as read: named
// after its directory passed it by, it is still an error.
func (in *inputs) readFile(name string) (err error) {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	// A file named twice (in a directory and by itself, by two globs, or
	// through a link) is read once: its lines count once.
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if in.files.has(st) {
		return nil
	}
	defer func() {
		if err == nil {
			in.files.add(st)
		}
	}()
	if strings.HasSuffix(name, ".jsonl") {
		return in.journal(name, f)
	}
	doc, _, err := in.sniff(name, bufio.NewReaderSize(f, 64<<10))
	if err != nil || doc == nil {
		return err
	}
	doc.dir = filepath.Dir(name)
	doc.open = func() (io.ReadCloser, error) { return os.Open(name) }
	in.trees = append(in.trees, *doc)
	return nil
}

// sniff reads the head of br, the content of the file name, and tells a
// tree file from a journal: a journal it reads into the Builder, and
// returns no tree; of a tree file it returns the tree, and a reader of
// the whole content again.
func (in *inputs) sniff(name string, br *bufio.Reader) (*treeDoc, io.Reader, error) {
	if n, _ := tree.SkipPadding(br); n > 0 {
		return nil, nil, in.journal(name, br) // only a journal segment has NUL padding
	}
	headJSON, read, err := readHead(br)
	r := io.MultiReader(bytes.NewReader(read), br)
	if errors.Is(err, errNoHead) {
		// Not as slogwf writes it (its members sorted, say): read whole.
		if headJSON, err = io.ReadAll(r); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		r = bytes.NewReader(headJSON)
	}
	if err != nil {
		if len(bytes.TrimSpace(read)) == 0 && errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, nil, nil // empty: a journal of no lines
		}
		return nil, nil, notOurs{name, "not a tree file or journal"}
	}
	var head treeHead
	if err := decodeHead(headJSON, &head); err != nil {
		return nil, nil, notOurs{name, "not a tree file or journal"}
	}
	switch {
	case head.Schema == slogwf.Schema:
		return &treeDoc{from: name, base: treeBase(name), id: head.ID, name: head.Name}, r, nil
	case head.Schema != "":
		return nil, nil, notOurs{name, fmt.Sprintf("not a %s tree file (schema %s)", slogwf.Schema, printable(head.Schema))}
	case head.Ev == "":
		return nil, nil, notOurs{name, "not a tree file or journal"}
	}
	return nil, nil, in.journal(name, r)
}

// journal reads the journal r, of the file name, into the Builder.
func (in *inputs) journal(name string, r io.Reader) error {
	if in.journalAt < 0 {
		in.journalAt = len(in.trees)
	}
	return in.b.ReadJournal(r, name, in.warn)
}

// stdinName names standard input in messages.
const stdinName = "standard input"

// treeDoc is a tree file, or a tree built from journals, and where it is
// from.
type treeDoc struct {
	from     string
	dir      string // of its file, or of its first journal
	base     string // the name of its file without .json; "" from standard input
	id, name string // of its workflow
	open     func() (io.ReadCloser, error)
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
			dir:  treeDir(in.b.Journal(id)),
			base: treeBase(in.b.FileName(id)),
			id:   id,
			name: in.b.Name(id),
			open: func() (io.ReadCloser, error) {
				pr, pw := io.Pipe()
				go func() { pw.CloseWithError(in.b.WriteJSON(pw, id)) }()
				return pr, nil
			},
		})
	}
	at := in.journalAt
	if at < 0 {
		at = len(in.trees)
	}
	return slices.Insert(slices.Clone(in.trees), at, built...)
}

// decode decodes the tree of t as decodeTreeFile does.
func (t treeDoc) decode(keep func(*treeRecord) bool) (*treeNode, error) {
	r, err := t.open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	root, err := decodeTreeFile(r, keep)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.from, err)
	}
	return root, nil
}

// bytes returns the tree of t as its file holds it.
func (t treeDoc) bytes() ([]byte, error) {
	r, err := t.open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.from, err)
	}
	return data, nil
}
