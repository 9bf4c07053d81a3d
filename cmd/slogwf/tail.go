package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slogwf/slogwf"
	"github.com/slogwf/slogwf/internal/console"
)

const tailHelp = `usage: slogwf tail [-f] [-workflow ID|NAME] [-agent NAME] [-level LEVEL] [-semantic] [-color auto|always|never] DIR|JOURNAL...|-

Tail prints the events of slogwf journals (*.jsonl) as the live console
printed them: the records, and the starts and ends of workflows,
iterations, interactions and actions with their durations, tokens and
costs. A DIR stands for all the journals in it, "-" for standard input.
The events of all the journals are printed in time order, so that the
lines of several processes interleave as they happened. A line that is
not a journal event is reported on stderr with its file and line number,
and skipped. The filters choose what is printed; they all must match.

With -f, tail then keeps following until it is interrupted: every 100ms
it prints the events appended since, and those of the journals that
appear in a DIR. A journal that shrinks is read again from its start.

Example:
	slogwf tail -f -level warn logs
	slogwf tail -color=never -agent planner logs/research-0a1b2c3d.4242.jsonl

Flags:
`

// tailPoll is how often tail -f reads what was appended.
const tailPoll = 100 * time.Millisecond

// runTail is the tail command.
func runTail(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("tail", tailHelp)
	follow := fs.Bool("f", false, "keep following the journals, and the new journals of each DIR, until interrupted")
	workflow := fs.String("workflow", "", "print only the events of workflow `ID|NAME`, given by its ID or its name")
	agent := fs.String("agent", "", "print only the events in the interactions of agent `NAME` (the innermost interaction counts)")
	levelFlag := fs.String("level", "", "print only the events at `LEVEL` or above: trace, debug, info, notice, warn, error (in any case, with an offset such as info+1) or a number; the end of a failed scope is an error, other starts and ends are info")
	semantic := fs.Bool("semantic", false, "print only the semantic warnings")
	colorFlag := fs.String("color", "auto", "`WHEN` to color the output: auto (when stdout is a terminal and NO_COLOR is unset), always or never")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	color, err := colorMode(*colorFlag, stdout)
	if err != nil {
		return usageError{err}
	}
	minLevel := slog.Level(math.MinInt)
	if *levelFlag != "" {
		if minLevel, err = slogwf.ParseLevel(*levelFlag); err != nil {
			return usageError{fmt.Errorf("-level %s: want trace, debug, info, notice, warn or error, or a number", strconv.Quote(*levelFlag))}
		}
	}
	if fs.NArg() == 0 {
		return usageError{errors.New("no journal")}
	}
	if i := slices.Index(fs.Args(), "-"); i >= 0 && slices.Contains(fs.Args()[i+1:], "-") {
		return usageError{errors.New(`"-" (standard input) given more than once`)}
	}

	out := bufio.NewWriter(stdout)
	p := console.NewPrinter(out, color)
	t := &tailer{
		p:      p,
		in:     stdin,
		out:    out,
		stderr: stderr,
		seen:   map[string]*tailFile{},
		dirErr: map[string]string{},
		show: func(ev *console.Event) bool {
			return (*workflow == "" || ev.Workflow == *workflow || ev.WorkflowName == *workflow) &&
				(*agent == "" || ev.Agent == *agent) &&
				ev.Level >= minLevel &&
				(!*semantic || ev.Semantic)
		},
	}
	if err := t.start(fs.Args(), *follow); err != nil {
		return err
	}
	if err := t.flush(); err != nil || !*follow {
		return err
	}
	return t.follow(ctx)
}

// tailer reads journals and prints their events through a Printer.
type tailer struct {
	p      *console.Printer
	show   func(*console.Event) bool
	in     io.Reader     // what "-" reads
	out    *bufio.Writer // the Printer's console
	stderr io.Writer

	dirs   []string
	dirErr map[string]string    // the last error reported for a DIR
	files  []*tailFile          // in the order found
	seen   map[string]*tailFile // files by cleaned path
	stdin  *tailFile            // "-", when given
	batch  []*console.Event     // read, not printed yet
}

// tailFile is a journal that tail reads, and how far.
type tailFile struct {
	name   string      // as given or found, shown in messages
	inDir  bool        // found in a DIR: forgotten when it goes away
	off    int64       // bytes read
	frag   []byte      // an incomplete last line, without its newline yet
	line   int         // lines taken, for messages
	info   os.FileInfo // as of the last read, to see a file replaced
	errMsg string      // the last error reported while following
}

// start reads all the inputs named by args and puts their events in the
// batch. Without follow it reads standard input to its end and takes the
// incomplete last lines as torn; with follow it keeps them for more.
// An input that cannot be read is an error naming it.
func (t *tailer) start(args []string, follow bool) error {
	for _, name := range args {
		if name == "-" {
			t.stdin = &tailFile{name: "standard input"}
			continue
		}
		st, err := os.Stat(name)
		if err != nil {
			return err // it names the file
		}
		if st.IsDir() {
			t.dirs = append(t.dirs, name)
			if err := t.scan(name); err != nil {
				return err
			}
		} else {
			t.add(name, false)
		}
	}
	for _, f := range slices.Clone(t.files) {
		if err := t.read(f); err != nil {
			if !f.inDir || !errors.Is(err, os.ErrNotExist) {
				return err
			}
			t.forget(f)
		}
	}
	if follow {
		return nil
	}
	if t.stdin != nil {
		data, err := io.ReadAll(t.in)
		if err != nil {
			return fmt.Errorf("standard input: %w", err)
		}
		t.lines(t.stdin, data)
		t.finish(t.stdin)
	}
	for _, f := range t.files {
		t.finish(f)
	}
	return nil
}

// follow prints what is appended to the inputs, every tailPoll, until ctx
// is done or, when standard input is the only input, it ends.
func (t *tailer) follow(ctx context.Context) error {
	var chunks chan tailChunk
	if t.stdin != nil {
		chunks = make(chan tailChunk, 16)
		go readChunks(ctx, t.in, chunks)
	}
	tick := time.NewTicker(tailPoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		t.poll()
		for more := chunks != nil; more; {
			select {
			case c, ok := <-chunks:
				if !ok {
					chunks, more = nil, false
					break
				}
				t.lines(t.stdin, c.data)
				switch {
				case errors.Is(c.err, io.EOF):
					t.finish(t.stdin)
				case c.err != nil:
					return fmt.Errorf("standard input: %w", c.err)
				}
			default:
				more = false
			}
		}
		if err := t.flush(); err != nil {
			return err
		}
		if t.stdin != nil && chunks == nil && len(t.files) == 0 && len(t.dirs) == 0 {
			return nil
		}
	}
}

// poll looks for new journals in the DIRs and reads what was appended to
// every journal. Errors are reported, each once, and following goes on.
func (t *tailer) poll() {
	for _, d := range t.dirs {
		msg := ""
		if err := t.scan(d); err != nil {
			msg = err.Error()
		}
		if msg != "" && msg != t.dirErr[d] {
			fmt.Fprintf(t.stderr, "slogwf tail: %s\n", printable(msg))
		}
		t.dirErr[d] = msg
	}
	for _, f := range slices.Clone(t.files) {
		err := t.read(f)
		if f.inDir && errors.Is(err, os.ErrNotExist) {
			t.forget(f) // read again from the start if it comes back
			continue
		}
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		if msg != "" && msg != f.errMsg {
			fmt.Fprintf(t.stderr, "slogwf tail: %s\n", printable(msg))
		}
		f.errMsg = msg
	}
}

// scan adds the journals of dir not seen yet.
func (t *tailer) scan(dir string) error {
	entries, err := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".jsonl") && !e.IsDir() {
			t.add(filepath.Join(dir, e.Name()), true)
		}
	}
	return err // it names dir
}

// add adds the journal name, unless it is there already.
func (t *tailer) add(name string, inDir bool) {
	key := filepath.Clean(name)
	if t.seen[key] != nil {
		return
	}
	f := &tailFile{name: name, inDir: inDir}
	t.seen[key] = f
	t.files = append(t.files, f)
}

// forget drops f, so that a file of that name is new again.
func (t *tailer) forget(f *tailFile) {
	delete(t.seen, filepath.Clean(f.name))
	t.files = slices.DeleteFunc(t.files, func(g *tailFile) bool { return g == f })
}

// read takes the lines appended to f since the last read; a file that
// shrank or was replaced it reads again from its start.
func (t *tailer) read(f *tailFile) error {
	file, err := os.Open(f.name)
	if err != nil {
		return err // it names the file
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return err
	}
	regular := st.Mode().IsRegular()
	if f.info != nil && (!os.SameFile(f.info, st) || regular && st.Size() < f.off) {
		fmt.Fprintf(t.stderr, "slogwf tail: %s: truncated or replaced, reading it again from the start\n", printable(f.name))
		f.off, f.frag, f.line = 0, nil, 0
	}
	f.info = st
	if regular && st.Size() == f.off && f.off > 0 {
		return nil
	}
	if f.off > 0 {
		if _, err := file.Seek(f.off, io.SeekStart); err != nil {
			return err
		}
	}
	data, err := io.ReadAll(file)
	f.off += int64(len(data))
	t.lines(f, data)
	return err
}

// lines decodes the whole lines of data, after the fragment that f kept,
// and keeps the incomplete rest.
func (t *tailer) lines(f *tailFile, data []byte) {
	if len(f.frag) > 0 {
		data = append(f.frag, data...)
		f.frag = nil
	}
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		t.decode(f, data[:i+1], false)
		data = data[i+1:]
	}
	if len(data) > 0 {
		f.frag = bytes.Clone(data)
	}
}

// finish takes the incomplete last line of f, if any, as it is.
func (t *tailer) finish(f *tailFile) {
	if len(f.frag) > 0 {
		t.decode(f, f.frag, true)
		f.frag = nil
	}
}

// decode adds the event of line, the next line of f, to the batch, or
// reports why it cannot; torn says that line has no newline at its end.
func (t *tailer) decode(f *tailFile, line []byte, torn bool) {
	f.line++
	ev, err := t.p.Decode(line, f.name)
	if err == nil {
		t.batch = append(t.batch, ev)
		return
	}
	what := "not a journal event"
	if torn {
		what = "torn last line (no newline at its end)"
	}
	fmt.Fprintf(t.stderr, "slogwf tail: %s:%d: %s, skipped: %s\n", printable(f.name), f.line, what, printable(err.Error()))
}

// flush prints the batch in time order and empties it.
func (t *tailer) flush() error {
	// Times sort as strings: tree.Decode gives them fixed width, in UTC.
	slices.SortStableFunc(t.batch, func(a, b *console.Event) int { return strings.Compare(a.Time, b.Time) })
	for _, ev := range t.batch {
		if err := t.p.Print(ev, t.show); err != nil {
			return err
		}
	}
	clear(t.batch)
	t.batch = t.batch[:0]
	return t.out.Flush()
}

// tailChunk is what one read of standard input gave.
type tailChunk struct {
	data []byte
	err  error
}

// readChunks sends what r gives to ch, until r fails (io.EOF too) or ctx
// is done, then closes ch.
func readChunks(ctx context.Context, r io.Reader, ch chan<- tailChunk) {
	defer close(ch)
	for {
		buf := make([]byte, 32<<10)
		n, err := r.Read(buf)
		if n == 0 && err == nil {
			continue
		}
		select {
		case ch <- tailChunk{buf[:n], err}:
		case <-ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}
