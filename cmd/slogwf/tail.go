package main

import (
	"bufio"
	"bytes"
	"cmp"
	"container/heap"
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
	"github.com/slogwf/slogwf/internal/tree"
)

const tailHelp = `usage: slogwf tail [-f] [-workflow ID|NAME] [-agent NAME] [-level LEVEL] [-semantic] [-color auto|always|never] [-width N] [-line-width N] DIR|JOURNAL...|-

Tail prints the events of slogwf journals (*.jsonl) as the live console
printed them: the records, and the starts and ends of workflows,
iterations, interactions and actions with their durations, tokens and
costs. A DIR stands for all the journals in it and in its journal
directory, "-" for standard input.
The events of all the journals are printed in time order, so that the
lines of several processes interleave as they happened: tail reads the
journals together and holds the last 1024 events read, to print them in
order; an event further out of place than that in its journal is printed
when it is read. A line that is not a journal event is reported on stderr
with its file and line number, and skipped. The filters choose what is
printed; they all must match. As on the live console, a string value
wider than -width characters and a line wider than -line-width columns
are cut and end with "…"; the end of a scope shows its duration, tokens,
cost and error first, so that what is cut matters least. The journals
keep everything whole. A journal line longer than 1 MiB is read up to
there only: its last value ends with "…", and stderr says so.

With -f, tail then keeps following until it is interrupted: it prints the
events appended since, and those of the journals that appear in a DIR, as
the system reports them (inotify), every 100ms at most; what it cannot
watch it looks at every 100ms. A journal that shrinks is read again from
its start; one renamed is read on.

Example:
	slogwf tail -f -level warn logs
	slogwf tail -color=never -agent planner logs/journal/20261129T033330.723Z-4242-3f9a1c.jsonl

Flags:
`

// runTail is the tail command.
func runTail(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("tail", tailHelp)
	follow := fs.Bool("f", false, "keep following the journals, and the new journals of each DIR, until interrupted")
	workflow := fs.String("workflow", "", "print the events of "+workflowFlag+"; with -f, also those of the workflows of that name that start later")
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

	var pick func(*console.Event) bool // -workflow
	out := bufio.NewWriter(stdout)
	t := &tailer{
		p:       console.NewPrinter(out, color, *width, *lineWidth),
		out:     out,
		stderr:  stderr,
		pending: map[*followedFile][]*tailEvent{},
		window:  minHeap[*tailEvent]{less: (*tailEvent).before},
		show: func(ev *console.Event) bool {
			return (pick == nil || pick(ev)) &&
				(*agent == "" || ev.Agent == *agent) &&
				ev.Level >= minLevel &&
				(!*semantic || ev.Semantic)
		},
	}
	warn := func(err error) { fmt.Fprintf(stderr, "slogwf tail: %s\n", message(err)) }
	t.fl = newFollower(openFound(os.OpenFile, fs.Args(), warn), t.decode, warn)
	t.fl.maxLine = tailMaxLine
	for _, name := range fs.Args() {
		if name != "-" {
			if err := t.fl.add(name); err != nil {
				return err
			}
		}
	}
	if slices.Contains(fs.Args(), "-") {
		t.stdin = &followedFile{name: stdinName}
		if !*follow {
			t.stdin = t.fl.addStream(stdinName, stdin)
		}
	}
	if want := *workflow; want != "" {
		id, named := "", false // from standard input, picked as the events come
		if t.stdin == nil {
			if id, named, err = pickInJournals(want, fs.Args(), *follow, strings.Join(fs.Args(), " ")); err != nil {
				return err
			}
		}
		pick = func(ev *console.Event) bool {
			switch {
			case id != "":
				return ev.Workflow == id
			case named:
				return ev.WorkflowName == want
			}
			return ev.WorkflowName == want || hasPrefixFold(ev.Workflow, want)
		}
	}
	if err := t.merge(ctx, slices.Clone(t.fl.files), !*follow); err != nil { // it may forget some
		return err
	}
	if err := t.flush(); err != nil || !*follow {
		return err
	}
	return t.follow(ctx, stdin)
}

// What tail holds: the events that wait to be printed in time order, the
// bytes of their lines, and the longest line it reads whole.
const (
	tailWindow      = 1024
	tailWindowBytes = 8 << 20
	tailMaxLine     = 1 << 20
)

// tailer reads journals and prints their events through a Printer, in
// time order. It reads the journals together, each a chunk at a time, and
// takes the earliest event of those read next (a merge), through a window
// of the last tailWindow events read, so that events that one journal holds
// a little out of order print in order too. An event that comes later
// than that is printed when it is read.
type tailer struct {
	p      *console.Printer
	show   func(*console.Event) bool
	out    *bufio.Writer // the Printer's console
	stderr io.Writer

	fl      *follower
	stdin   *followedFile                  // "-", when given
	pending map[*followedFile][]*tailEvent // read, not in the window yet
	window  minHeap[*tailEvent]            // to print, the earliest first
	bytes   int                            // of the lines in the window
	seq     int                            // events read
	peek    []byte                         // the start of a journal, for its first event
}

// tailEvent is an event read, and its place in the order of printing.
type tailEvent struct {
	ev         *console.Event
	order, seq int // of its file, and among all events read
	size       int // of its line
}

// before reports whether a prints before b: by time, then as read.
func (a *tailEvent) before(b *tailEvent) bool {
	// Times compare as strings: tree.Decode gives them fixed width, in UTC.
	return cmp.Or(strings.Compare(a.ev.Time, b.ev.Time), cmp.Compare(a.order, b.order), cmp.Compare(a.seq, b.seq)) < 0
}

// minHeap is a heap of T for container/heap, the least by less first.
type minHeap[T any] struct {
	items []T
	less  func(a, b T) bool
}

func (h *minHeap[T]) Len() int           { return len(h.items) }
func (h *minHeap[T]) Less(i, j int) bool { return h.less(h.items[i], h.items[j]) }
func (h *minHeap[T]) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *minHeap[T]) Push(x any)         { h.items = append(h.items, x.(T)) }
func (h *minHeap[T]) Pop() any {
	var zero T
	x := h.items[len(h.items)-1]
	h.items[len(h.items)-1] = zero
	h.items = h.items[:len(h.items)-1]
	return x
}

// merge reads what files hold from where each was left, a chunk at a time,
// and passes their events to the window, the earliest of the files' next
// events first, until ctx is done. With final it takes the incomplete last
// lines as torn.
func (t *tailer) merge(ctx context.Context, files []*followedFile, final bool) error {
	// A chunk each, 32 MiB in all, so that many journals read together
	// stay bounded, and a few read fast.
	chunk := min(followChunk, max(4<<10, (32<<20)/max(1, len(files))))
	refill := func(f *followedFile) error {
		for len(t.pending[f]) == 0 && !(f == t.stdin && f.r == nil) && ctx.Err() == nil {
			n := 0
			if final {
				var err error
				if n, err = t.fl.read(f, chunk); err != nil && (f.dir == "" || !errors.Is(err, os.ErrNotExist)) {
					return err
				}
			} else {
				n = t.fl.readFollowed(f, chunk) // and report a fault once
			}
			if n == 0 {
				if final {
					t.fl.finishFile(f)
				}
				break
			}
		}
		return nil
	}
	// Of many journals, each is read only when the merge comes to its
	// first event, and dropped when it ends: those that held events at the
	// same time are read together, not all of them.
	lazy := len(files) > 64
	// The journals, the one whose next event is the earliest first.
	heads := minHeap[*tailFile]{less: func(a, b *tailFile) bool { return a.next.before(b.next) }}
	for _, f := range files {
		if lazy && f.off == 0 && f.r == nil {
			if first := t.firstEvent(f); first != nil {
				heads.items = append(heads.items, &tailFile{f: f, next: first})
				continue
			}
		}
		if err := refill(f); err != nil {
			return err
		}
		if q := t.pending[f]; len(q) > 0 {
			heads.items = append(heads.items, &tailFile{f: f, next: q[0], read: true})
		}
	}
	heap.Init(&heads)
	for heads.Len() > 0 && ctx.Err() == nil {
		h := heads.items[0]
		var e *tailEvent
		if h.read {
			q := t.pending[h.f]
			e = q[0]
			q[0] = nil
			t.pending[h.f] = q[1:]
		}
		if len(t.pending[h.f]) == 0 {
			if err := refill(h.f); err != nil {
				return err
			}
		}
		if q := t.pending[h.f]; len(q) > 0 {
			h.next, h.read = q[0], true
			heap.Fix(&heads, 0)
		} else {
			heap.Pop(&heads)
			delete(t.pending, h.f)
		}
		if e != nil {
			if err := t.push(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// firstEvent returns the first event of the journal f, of which nothing
// was read yet, as its first line says (its time and place in the order of
// printing only); nil when it cannot tell.
func (t *tailer) firstEvent(f *followedFile) *tailEvent {
	file, err := t.fl.open(f.name)
	if err != nil {
		return nil // reading it says why
	}
	defer file.Close()
	if t.peek == nil {
		t.peek = make([]byte, 4<<10)
	}
	n, _ := io.ReadFull(file, t.peek)
	i := bytes.IndexByte(t.peek[:n], '\n')
	if i < 0 {
		return nil
	}
	e, err := tree.Decode(t.peek[:i])
	if err != nil {
		return nil
	}
	return &tailEvent{ev: &console.Event{Event: e}, order: f.order}
}

// tailFile is a journal that a merge reads, and its next event: read, or
// as its first line says, before the merge reads it.
type tailFile struct {
	f    *followedFile
	next *tailEvent
	read bool // next is the first event pending of f
}

// push adds e to the window, and prints the earliest events while the
// window holds too many.
func (t *tailer) push(e *tailEvent) error {
	heap.Push(&t.window, e)
	t.bytes += e.size
	for t.window.Len() > tailWindow || t.bytes > tailWindowBytes {
		if err := t.printEarliest(); err != nil {
			return err
		}
	}
	return nil
}

// printEarliest prints the earliest event of the window and drops it.
func (t *tailer) printEarliest() error {
	e := heap.Pop(&t.window).(*tailEvent)
	t.bytes -= e.size
	return t.p.Print(e.ev, t.show)
}

// flush prints the window, and empties it.
func (t *tailer) flush() error {
	for t.window.Len() > 0 {
		if err := t.printEarliest(); err != nil {
			return err
		}
	}
	return t.out.Flush()
}

// follow prints what is appended to the inputs until ctx is done or, when
// standard input is the only input, it ends.
func (t *tailer) follow(ctx context.Context, stdin io.Reader) error {
	var chunks chan tailChunk
	if t.stdin != nil {
		chunks = make(chan tailChunk, 16)
		go readChunks(ctx, stdin, chunks)
	}
	t.fl.startWatching()
	defer t.fl.stopWatching()
	for {
		files, ok := t.fl.next(ctx)
		if !ok {
			return nil
		}
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
		if t.stdin != nil {
			files = append(files, t.stdin)
		}
		if err := t.merge(ctx, files, false); err != nil {
			return err
		}
		if err := t.flush(); err != nil {
			return err
		}
		if t.stdin != nil && chunks == nil && len(t.fl.files) == 0 && len(t.fl.dirs) == 0 {
			return nil // standard input, the only input, ended
		}
	}
}

// decode adds the event of line, the next line of f, to what f holds, or
// reports why it cannot; torn says that line has no newline at its end. A
// line cut at tailMaxLine is closed: its values cut short end with "…".
func (t *tailer) decode(f *followedFile, line []byte, torn bool) {
	size := len(line)
	if f.cut {
		fmt.Fprintf(t.stderr, "slogwf tail: %s:%d: longer than %d bytes: cut there\n", printable(f.name), f.lines, tailMaxLine)
		line = closeCut(line)
	}
	ev, err := t.p.Decode(line, f.name)
	if err == nil {
		t.seq++
		t.pending[f] = append(t.pending[f], &tailEvent{ev: ev, order: f.order, seq: t.seq, size: size})
		return
	}
	what := "not a journal event"
	if torn {
		what = "torn last line (no newline at its end)"
	}
	fmt.Fprintf(t.stderr, "slogwf tail: %s:%d: %s, skipped: %s\n", printable(f.name), f.lines, what, message(err))
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
