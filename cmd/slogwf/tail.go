package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/slogwf/slogwf"
	"github.com/slogwf/slogwf/internal/console"
)

const tailHelp = `usage: slogwf tail [-f] [-workflow ID|NAME] [-agent NAME] [-level LEVEL] [-semantic] [-color auto|always|never] [-width N] [-line-width N] DIR|JOURNAL...|-

Tail prints the events of slogwf journals (*.jsonl) as the live console
printed them: the records, and the starts and ends of workflows,
iterations, interactions and actions with their durations, tokens and
costs. A DIR stands for all the journals in it, "-" for standard input.
The events of all the journals are printed in time order, so that the
lines of several processes interleave as they happened. A line that is
not a journal event is reported on stderr with its file and line number,
and skipped. The filters choose what is printed; they all must match.
As on the live console, a string value wider than -width characters and
a line wider than -line-width columns are cut and end with "…"; the end
of a scope shows its duration, tokens, cost and error first, so that
what is cut matters least. The journals keep everything whole.

With -f, tail then keeps following until it is interrupted: every 100ms
it prints the events appended since, and those of the journals that
appear in a DIR. A journal that shrinks is read again from its start.

Example:
	slogwf tail -f -level warn logs
	slogwf tail -color=never -agent planner logs/journal/20261129T033330.723Z-4242-3f9a1c.jsonl

Flags:
`

// runTail is the tail command.
func runTail(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("tail", tailHelp)
	follow := fs.Bool("f", false, "keep following the journals, and the new journals of each DIR, until interrupted")
	workflow := fs.String("workflow", "", "print only the events of workflow `ID|NAME`, given by its ID or its name")
	agent := fs.String("agent", "", "print only the events in the interactions of agent `NAME` (the innermost interaction counts)")
	levelFlag := fs.String("level", "", "print only the events at `LEVEL` or above: trace, debug, info, notice, warn, error (in any case, with an offset such as info+1) or a number; the end of a failed scope is an error, other starts and ends are info")
	semantic := fs.Bool("semantic", false, "print only the semantic warnings")
	colorFlag := fs.String("color", "auto", "`WHEN` to color the output: auto (when stdout is a terminal and NO_COLOR is unset), always or never")
	width := fs.Int("width", console.ValueWidth, "cut string values wider than `N` characters (escapes count, quotes do not); 0 keeps them whole")
	lineWidth := fs.Int("line-width", console.LineWidth, "cut lines wider than `N` columns (escapes count, colors do not); 0 keeps them whole")
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
	p := console.NewPrinter(out, color, *width, *lineWidth)
	t := &tailer{
		p:      p,
		in:     stdin,
		out:    out,
		stderr: stderr,
		show: func(ev *console.Event) bool {
			return (*workflow == "" || ev.Workflow == *workflow || ev.WorkflowName == *workflow) &&
				(*agent == "" || ev.Agent == *agent) &&
				ev.Level >= minLevel &&
				(!*semantic || ev.Semantic)
		},
	}
	warn := func(err error) { fmt.Fprintf(stderr, "slogwf tail: %s\n", printable(err.Error())) }
	t.fl = newFollower(openFound(os.OpenFile, fs.Args(), warn), t.decode, warn)
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

	fl    *follower
	stdin *followedFile    // "-", when given
	batch []*console.Event // read, not printed yet
}

// start reads all the inputs named by args and puts their events in the
// batch. Without follow it reads standard input to its end and takes the
// incomplete last lines as torn; with follow it keeps them for more.
// An input that cannot be read is an error naming it.
func (t *tailer) start(args []string, follow bool) error {
	for _, name := range args {
		if name == "-" {
			t.stdin = &followedFile{name: stdinName}
			continue
		}
		if err := t.fl.add(name); err != nil {
			return err
		}
	}
	if err := t.fl.readAll(); err != nil {
		return err
	}
	if follow {
		return nil
	}
	if t.stdin != nil {
		data, err := io.ReadAll(t.in)
		if err != nil {
			return fmt.Errorf("standard input: %w", err)
		}
		t.fl.feed(t.stdin, data)
		t.fl.finishFile(t.stdin)
	}
	t.fl.finish()
	return nil
}

// follow prints what is appended to the inputs until ctx is done or, when
// standard input is the only input, it ends.
func (t *tailer) follow(ctx context.Context) error {
	var chunks chan tailChunk
	if t.stdin != nil {
		chunks = make(chan tailChunk, 16)
		go readChunks(ctx, t.in, chunks)
	}
	err := t.fl.follow(ctx, func() error {
		for more := chunks != nil; more; {
			select {
			case c, ok := <-chunks:
				if !ok {
					chunks, more = nil, false
					break
				}
				t.fl.feed(t.stdin, c.data)
				switch {
				case errors.Is(c.err, io.EOF):
					t.fl.finishFile(t.stdin)
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
		if t.stdin != nil && chunks == nil && len(t.fl.files) == 0 && len(t.fl.dirs) == 0 {
			return errStdinEnded
		}
		return nil
	})
	if errors.Is(err, errStdinEnded) {
		return nil
	}
	return err
}

// errStdinEnded stops following when standard input, the only input,
// ended.
var errStdinEnded = errors.New("standard input ended")

// decode adds the event of line, the next line of f, to the batch, or
// reports why it cannot; torn says that line has no newline at its end.
func (t *tailer) decode(f *followedFile, line []byte, torn bool) {
	ev, err := t.p.Decode(line, f.name)
	if err == nil {
		t.batch = append(t.batch, ev)
		return
	}
	what := "not a journal event"
	if torn {
		what = "torn last line (no newline at its end)"
	}
	fmt.Fprintf(t.stderr, "slogwf tail: %s:%d: %s, skipped: %s\n", printable(f.name), f.lines, what, printable(err.Error()))
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
