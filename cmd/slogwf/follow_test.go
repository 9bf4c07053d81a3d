package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
	"github.com/slogwf/slogwf/internal/tree"
)

// followed runs a follower of dir until the test ends. It returns the
// lines taken so far, how many files it opened, and how many rounds it
// made.
func followed(t *testing.T, dir string, setup func(*follower)) (lines func() []string, opens, rounds *atomic.Int64) {
	t.Helper()
	var mu sync.Mutex
	var got []string
	opens, rounds = new(atomic.Int64), new(atomic.Int64)
	open := func(name string) (*os.File, error) {
		opens.Add(1)
		return os.Open(name)
	}
	fl := newFollower(open, func(f *followedFile, line []byte, _ bool) {
		mu.Lock()
		got = append(got, filepath.Base(f.name)+": "+strings.TrimSuffix(string(line), "\n"))
		mu.Unlock()
	}, func(err error) { t.Errorf("fault: %v", err) })
	if setup != nil {
		setup(fl)
	}
	require.NoError(t, fl.add(dir))
	require.NoError(t, fl.readAll())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- fl.follow(ctx, func() error { rounds.Add(1); return nil })
	}()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}, opens, rounds
}

// segment returns the name of the i-th journal segment of a test's
// process, as the handler names it: a follower of a directory follows no
// other *.jsonl file there.
func segment(i int) string {
	return tree.JournalName(time.Date(2026, 11, 29, 3, 33, 30, 0, time.UTC).Add(time.Duration(i)*time.Millisecond), 4242, 0x3f9a1c)
}

// waitRounds waits until the follower made n more rounds.
func waitRounds(t *testing.T, rounds *atomic.Int64, n int64) {
	t.Helper()
	until := rounds.Load() + n
	require.Eventually(t, func() bool { return rounds.Load() >= until }, tailWait, tailTick)
}

// While it follows, a follower opens only the journals that changed: idle
// journals cost nothing, however many there are.
func TestFollowerOpensOnlyWhatChanged(t *testing.T) {
	dir := t.TempDir()
	const idle = 200
	for i := range idle {
		tailWrite(t, filepath.Join(dir, segment(i)), "old\n")
	}
	lines, opens, rounds := followed(t, dir, nil)
	waitRounds(t, rounds, 2) // the first round reads everything once
	before := opens.Load()
	waitRounds(t, rounds, 5)
	assert.Zero(t, opens.Load()-before, "files opened in 5 idle rounds")

	tailAppend(t, filepath.Join(dir, segment(7)), "new\n")
	tailWrite(t, filepath.Join(dir, segment(idle)), "first\n")
	require.Eventually(t, func() bool { return len(lines()) == idle+2 }, tailWait, tailTick)
	assert.Equal(t, []string{segment(7) + ": new", segment(idle) + ": first"}, lines()[idle:])
	assert.Less(t, opens.Load()-before, int64(10), "files opened for two changes")
}

// A journal renamed (rotated) while followed is read on from where it was,
// not again from its start.
func TestFollowerGoesOnWithARenamedJournal(t *testing.T) {
	dir := t.TempDir()
	a, b := segment(0), segment(1)
	tailWrite(t, filepath.Join(dir, a), "1\n2\n")
	lines, _, rounds := followed(t, dir, nil)
	waitRounds(t, rounds, 2)
	require.NoError(t, os.Rename(filepath.Join(dir, a), filepath.Join(dir, b)))
	tailAppend(t, filepath.Join(dir, b), "3\n")
	require.Eventually(t, func() bool { return len(lines()) >= 3 }, tailWait, tailTick)
	waitRounds(t, rounds, 3)
	assert.Equal(t, []string{a + ": 1", a + ": 2", b + ": 3"}, lines())
}

// A journal made after one was removed may get its inode, as retention
// removes segments while the handler makes new ones: it is read from its
// start, not from where the one removed was; though its first 64 bytes
// are those of the other, as those of two segments of one workflow may be
// (a line's event, its workflow's ID, and a scope's ID, made of the time).
func TestFollowerReadsAJournalThatTookTheInodeOfOneRemovedFromItsStart(t *testing.T) {
	const wf = "01a22d43-a422-791d-8977-7b0226e8a9c5"
	line := func(id, msg string) string {
		return `{"ev":"end","wf":"` + wf + `","id":"01a22d43-a4` + id + `","time":"2026-11-30T16:22:17.3` + id + `Z","msg":"` + msg + "\"}\n"
	}
	for _, tt := range []struct {
		name  string
		lines func(id, msg string) string
	}{
		{"lines unlike", func(_, msg string) string { return msg + "\n" }},
		{"lines of one workflow", line},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			a, b := segment(0), segment(1)
			tailWrite(t, filepath.Join(dir, a), tt.lines("22-7f3b", "a1")+tt.lines("23-7181", "a2"))
			var got []string
			fl := newFollower(os.Open, func(f *followedFile, line []byte, _ bool) {
				var e struct{ Msg string }
				if json.Unmarshal(line, &e) != nil {
					e.Msg = strings.TrimSuffix(string(line), "\n")
				}
				got = append(got, filepath.Base(f.name)+": "+e.Msg)
			}, func(err error) { t.Errorf("fault: %v", err) })
			require.NoError(t, fl.add(dir))
			fl.poll()
			// a goes; b, a new file, gets its inode: a's, moved aside and
			// written anew, stands for it.
			aside := filepath.Join(dir, "aside")
			require.NoError(t, os.Rename(filepath.Join(dir, a), aside))
			fl.poll()
			f, err := os.OpenFile(aside, os.O_WRONLY|os.O_TRUNC, 0)
			require.NoError(t, err)
			_, err = f.WriteString(tt.lines("24-7420", "b1") + tt.lines("24-762e", "b2") + tt.lines("24-7a20", "b3"))
			require.NoError(t, err)
			require.NoError(t, f.Close())
			require.NoError(t, os.Rename(aside, filepath.Join(dir, b)))
			fl.poll()
			assert.Equal(t, []string{a + ": a1", a + ": a2", b + ": b1", b + ": b2", b + ": b3"}, got)
		})
	}
}

// A follower that cannot watch looks at every journal at each round
// instead, and misses nothing.
func TestFollowerPollsWhatItCannotWatch(t *testing.T) {
	dir := t.TempDir()
	a, b := segment(0), segment(1)
	tailWrite(t, filepath.Join(dir, a), "1\n")
	var warned []string
	lines, _, rounds := followed(t, dir, func(fl *follower) {
		fl.newWatch = func() (*watcher, error) { return nil, errors.New("too many open files") }
		fl.warn = func(err error) { warned = append(warned, err.Error()) }
	})
	waitRounds(t, rounds, 2)
	tailAppend(t, filepath.Join(dir, a), "2\n")
	tailWrite(t, filepath.Join(dir, b), "3\n")
	require.Eventually(t, func() bool { return len(lines()) == 3 }, tailWait, tailTick)
	assert.Equal(t, []string{a + ": 1", a + ": 2", b + ": 3"}, lines())
	assert.Equal(t, []string{"cannot watch for changes (too many open files): looking every 100ms instead"}, warned)
}

// A follower with maxLine hands a longer line on cut, once, and skips the
// rest of it, whatever the chunks it comes in.
func TestFollowerCutsLongLines(t *testing.T) {
	var got []string
	fl := newFollower(os.Open, func(f *followedFile, line []byte, torn bool) {
		got = append(got, fmt.Sprintf("%s cut=%v torn=%v", line, f.cut, torn))
	}, func(err error) { t.Error(err) })
	fl.maxLine = 4
	f := &followedFile{name: "x"}
	for _, chunk := range []string{"ab\ncdef", "ghij", "kl\nmn", "op\nq"} {
		fl.feed(f, []byte(chunk))
	}
	fl.finishFile(f)
	assert.Equal(t, []string{"ab\n cut=false torn=false", "cdef cut=true torn=false", "mnop\n cut=false torn=false", "q cut=false torn=true"}, got)
}

// A journal's writer takes back the start of a line it could not write
// whole (see journal.write), and may write the next line where it was: a
// follower that read that start hands on neither it nor the lines before
// again, and the next line whole.
func TestFollowerDropsALineStartTheWriterTookBack(t *testing.T) {
	for _, tc := range []struct {
		name  string
		after func(t *testing.T, f *os.File, read func()) // the start of "b" was read
		want  []string
		warn  bool
	}{
		{"taken back, then a line", func(t *testing.T, f *os.File, read func()) {
			require.NoError(t, f.Truncate(2))
			_, err := f.WriteAt([]byte("c long enough\n"), 2)
			require.NoError(t, err)
		}, []string{"a", "c long enough"}, false},
		{"taken back, nothing more", func(t *testing.T, f *os.File, read func()) {
			require.NoError(t, f.Truncate(2))
		}, []string{"a"}, false},
		{"a start longer than a read taken back, then a line", func(t *testing.T, f *os.File, read func()) {
			_, err := f.WriteAt([]byte(strings.Repeat("x", 2*followChunk)), 6)
			require.NoError(t, err)
			read()
			require.NoError(t, f.Truncate(2))
			read()
			_, err = f.WriteAt([]byte("c\n"), 2)
			require.NoError(t, err)
		}, []string{"a", "c"}, false},
		{"a start longer than a read taken back, then a longer line", func(t *testing.T, f *os.File, read func()) {
			_, err := f.WriteAt([]byte(strings.Repeat("x", 2*followChunk)), 6)
			require.NoError(t, err)
			read()
			require.NoError(t, f.Truncate(2))
			_, err = f.WriteAt([]byte(strings.Repeat("c", 3*followChunk)+"\n"), 2)
			require.NoError(t, err)
		}, []string{"a", strings.Repeat("c", 3*followChunk)}, false},
		{"taken back, then a line that ends as it did", func(t *testing.T, f *os.File, read func()) {
			_, err := f.WriteAt([]byte(strings.Repeat("y", 100)), 6)
			require.NoError(t, err)
			read()
			_, err = f.WriteAt([]byte("c st"+strings.Repeat("y", 100)+"\n"), 2)
			require.NoError(t, err)
		}, []string{"a", "c st" + strings.Repeat("y", 100)}, false},
		{"written whole", func(t *testing.T, f *os.File, read func()) {
			_, err := f.WriteAt([]byte(" end\n"), 6)
			require.NoError(t, err)
		}, []string{"a", "b st end"}, false},
		{"truncated before the line", func(t *testing.T, f *os.File, read func()) {
			require.NoError(t, f.Truncate(1))
		}, []string{"a", "a"}, true}, // read again from the start
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := filepath.Join(t.TempDir(), "j.jsonl")
			f, err := os.Create(name)
			require.NoError(t, err)
			defer f.Close()
			var got []string
			var warned []error
			fl := newFollower(os.Open, func(_ *followedFile, line []byte, _ bool) {
				got = append(got, strings.TrimSuffix(string(line), "\n"))
			}, func(err error) { warned = append(warned, err) })
			require.NoError(t, fl.add(name))

			_, err = f.WriteAt([]byte("a\nb st"), 0)
			require.NoError(t, err)
			require.NoError(t, fl.readAll())
			tc.after(t, f, func() { require.NoError(t, fl.readAll()) })
			require.NoError(t, fl.readAll())
			fl.finish()

			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.warn, len(warned) > 0, "%v", warned)
		})
	}
}

// A line longer than a read is read on from where each read stopped, as
// tail reads many journals a chunk at a time, not again from its start.
func TestFollowerReadsALineLongerThanARead(t *testing.T) {
	long := strings.Repeat("x", 3*followChunk)
	name := filepath.Join(t.TempDir(), "j.jsonl")
	require.NoError(t, os.WriteFile(name, []byte("a\n"+long+"\nc\n"), 0o600))
	fl, got := lineFollower(t)
	require.NoError(t, fl.add(name))
	f := fl.files[0]
	for reads := 0; reads < 100; reads++ {
		n, err := fl.read(f, 4<<10)
		require.NoError(t, err)
		if n == 0 {
			break
		}
	}
	assert.Equal(t, []string{"a", long, "c"}, *got)
}

// A line start that a read stopped by its limit ended with, and that the
// writer then takes back, writing a longer line in its place, is not
// joined to that line.
func TestFollowerTakesBackALineStartAReadStoppedIn(t *testing.T) {
	name := filepath.Join(t.TempDir(), "j.jsonl")
	f, err := os.Create(name)
	require.NoError(t, err)
	defer f.Close()
	_, err = f.WriteAt([]byte("a\n"+strings.Repeat("b", 8<<10)), 0) // a partial line
	require.NoError(t, err)
	fl, got := lineFollower(t)
	require.NoError(t, fl.add(name))
	_, err = fl.read(fl.files[0], 4<<10) // as tail's merge reads many journals
	require.NoError(t, err)
	require.NoError(t, f.Truncate(2))
	next := strings.Repeat("c", 10<<10)
	_, err = f.WriteAt([]byte(next+"\n"), 2)
	require.NoError(t, err)
	for range 10 {
		if n, err := fl.read(fl.files[0], 4<<10); err != nil || n == 0 {
			break
		}
	}
	fl.finish()
	assert.Equal(t, []string{"a", next}, *got)
}

// A journal renamed while its last line is incomplete is read on as it
// was: a line start its writer then takes back is not joined to the next.
func TestFollowerTakesBackALineStartOfARenamedJournal(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, segment(0))
	f, err := os.Create(name)
	require.NoError(t, err)
	defer f.Close()
	_, err = f.WriteAt([]byte("a\nbbbb"), 0)
	require.NoError(t, err)
	fl, got := lineFollower(t)
	require.NoError(t, fl.add(dir))
	require.NoError(t, fl.readAll())
	require.NoError(t, os.Rename(name, filepath.Join(dir, segment(1))))
	fl.poll() // the first gone, the second found: it, read on
	require.NoError(t, f.Truncate(2))
	_, err = f.WriteAt([]byte("cccccccc\n"), 2)
	require.NoError(t, err)
	fl.poll()
	fl.finish()
	assert.Equal(t, []string{"a", "cccccccc"}, *got)
}

// lineFollower returns a follower of nothing yet that keeps the lines it
// is handed in *got, and fails t on a fault.
func lineFollower(t *testing.T) (fl *follower, got *[]string) {
	got = new([]string)
	fl = newFollower(os.Open, func(_ *followedFile, line []byte, _ bool) {
		*got = append(*got, strings.TrimSuffix(string(line), "\n"))
	}, func(err error) { t.Errorf("fault: %v", err) })
	return fl, got
}

// A live journal written through a mapping ends in NUL padding that its
// next lines are copied over, and is cut to its lines when it closes: a
// follower hands on each line once, never the padding, waits for a line
// half copied (NULs anywhere in it), and does not take the cut for a
// truncation.
func TestFollowerStopsAtTheNULPaddingOfALiveJournal(t *testing.T) {
	pad := strings.Repeat("\x00", 1<<20)
	tests := []struct {
		name  string
		start string
		first []string                 // before the steps
		steps []func(f *os.File) error // each raises an event
		want  []string                 // after the steps
	}{
		{"a line copied over the padding", "a\n" + pad, []string{"a"}, []func(*os.File) error{
			func(f *os.File) error { _, err := f.WriteAt([]byte("b\n"), 2); return err },
		}, []string{"a", "b"}},
		{"a line half copied, then the rest", "a\nb1" + pad, []string{"a"}, []func(*os.File) error{
			func(f *os.File) error { _, err := f.WriteAt([]byte("23\n"), 4); return err },
		}, []string{"a", "b123"}},
		// A copy writes a line's first bytes last, and a read may see
		// NULs anywhere in a line being copied: the first NUL ends what
		// is read.
		{"a line whose start is not copied yet", "a\n" + pad[:3] + "xyz\n" + pad, []string{"a"}, []func(*os.File) error{
			func(f *os.File) error { _, err := f.WriteAt([]byte("b12"), 2); return err },
		}, []string{"a", "b12xyz"}},
		{"a line with NULs in its middle not copied yet", "a\nb1" + pad[:2] + "yz\n" + pad, []string{"a"}, []func(*os.File) error{
			func(f *os.File) error { _, err := f.WriteAt([]byte("23"), 4); return err },
		}, []string{"a", "b123yz"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			name := filepath.Join(dir, segment(0))
			tailWrite(t, name, tt.start)
			lines, _, rounds := followed(t, dir, nil)
			waitRounds(t, rounds, 2)
			assert.Equal(t, liveLines(tt.first...), lines(), "the padding is no line, nor a half line")
			f, err := os.OpenFile(name, os.O_RDWR, 0)
			require.NoError(t, err)
			defer f.Close()
			for _, step := range tt.steps {
				require.NoError(t, step(f))
			}
			want := liveLines(tt.want...)
			require.Eventually(t, func() bool { return len(lines()) >= len(want) }, tailWait, tailTick)
			data, err := os.ReadFile(name)
			require.NoError(t, err)
			require.NoError(t, f.Truncate(int64(len(bytes.TrimRight(data, "\x00"))))) // closed: cut to its lines
			waitRounds(t, rounds, 3)
			_, err = f.WriteAt([]byte("c\n"), int64(len(bytes.TrimRight(data, "\x00"))))
			require.NoError(t, err)
			want = append(want, liveLines("c")...)
			require.Eventually(t, func() bool { return len(lines()) >= len(want) }, tailWait, tailTick)
			waitRounds(t, rounds, 2)
			assert.Equal(t, want, lines(), "each line once, and no fault: the cut is no truncation")
		})
	}
}

// liveLines returns lines as a follower of the journal segment(0) takes
// them.
func liveLines(lines ...string) []string {
	var named []string
	for _, l := range lines {
		named = append(named, segment(0)+": "+l)
	}
	return named
}

// A live journal, looked at every tick while it ends in padding, is cut
// to its lines when its writer closes it: from then on only a change the
// system reports makes the follower read it.
func TestAFollowerStopsPollingAJournalCutToItsLines(t *testing.T) {
	name := filepath.Join(t.TempDir(), "live.jsonl")
	require.NoError(t, os.WriteFile(name, []byte("a\n"+strings.Repeat("\x00", 1<<20)), 0o600))
	fl, got := lineFollower(t)
	require.NoError(t, fl.add(name))
	require.NoError(t, fl.readAll())
	require.True(t, fl.files[0].padded, "polled while live")
	require.NoError(t, os.Truncate(name, 2)) // closed: cut to its lines
	require.NoError(t, fl.readAll())
	assert.False(t, fl.files[0].padded, "polled once closed")
	assert.Equal(t, []string{"a"}, *got)
}

// liveWorkflow starts a handler writing into dir, and a workflow with it,
// until the test ends; it returns a func that logs a record of msg in the
// workflow, which the handler copies into its journal's mapping.
func liveWorkflow(t *testing.T, dir string) (log func(msg string)) {
	t.Helper()
	h, err := slogwf.New(&slogwf.Options{Dir: dir, Console: io.Discard})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, h.Close()) })
	l := slog.New(h)
	ctx, _ := slogwf.StartWorkflow(slogwf.ContextWithLogger(context.Background(), l), "late")
	return func(msg string) { l.InfoContext(ctx, msg) }
}

// holding returns whether a line of lines holds each of the messages.
func holding(lines []string, msgs ...string) bool {
	for _, msg := range msgs {
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, `"msg":"`+msg+`"`) }) {
			return false
		}
	}
	return true
}

// A follower of a directory that has no journal directory yet (tail -f,
// serve and export -f started before the first program) follows the
// journal that a program makes there later, live: the lines it finds in
// the segments when it first looks into the journal directory, and those
// copied into their mappings afterwards, which raise no event.
func TestAFollowerFollowsTheJournalOfAJournalDirectoryMadeAfterItStarted(t *testing.T) {
	for _, tt := range []struct {
		name   string
		before bool // lines are written before the follower looks into the journal directory
	}{
		{"lines written before it looks into the journal directory", true},
		{"lines written after it looked into the journal directory", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			written, looked := make(chan struct{}), make(chan struct{})
			var once sync.Once
			lines, _, rounds := followed(t, dir, func(fl *follower) {
				open := fl.open
				fl.open = func(name string) (*os.File, error) {
					if filepath.Base(name) == tree.JournalDir {
						if tt.before {
							<-written
						}
						once.Do(func() { close(looked) })
					}
					return open(name)
				}
			})
			write := sync.OnceFunc(func() { close(written) })
			t.Cleanup(write) // before the follower stops, should the test fail first
			waitRounds(t, rounds, 2)
			log := liveWorkflow(t, dir) // makes the journal directory
			if tt.before {
				log("first")
				write()
			}
			select {
			case <-looked:
			case <-time.After(tailWait):
				require.FailNow(t, "the follower did not look into the journal directory")
			}
			waitRounds(t, rounds, 1)
			log("second")
			want := []string{"second"}
			if tt.before {
				want = append(want, "first")
			}
			require.Eventually(t, func() bool { return holding(lines(), want...) }, tailWait, tailTick, "lines taken: %q", lines())
		})
	}
}

// A follower whose journal directory is removed, then made again by the
// next program, follows the journal made there, live, as it followed the
// first.
func TestAFollowerFollowsTheJournalOfAJournalDirectoryMadeAgain(t *testing.T) {
	dir := t.TempDir()
	liveWorkflow(t, dir)("first")
	var mu sync.Mutex
	var warned []string
	lines, _, rounds := followed(t, dir, func(fl *follower) {
		fl.warn = func(err error) {
			mu.Lock()
			warned = append(warned, err.Error())
			mu.Unlock()
		}
	})
	require.Eventually(t, func() bool { return holding(lines(), "first") }, tailWait, tailTick, "lines taken: %q", lines())

	require.NoError(t, os.RemoveAll(filepath.Join(dir, tree.JournalDir)))
	waitRounds(t, rounds, 2)
	log := liveWorkflow(t, dir)
	log("second")
	waitRounds(t, rounds, 2)
	log("third")
	require.Eventually(t, func() bool { return holding(lines(), "second", "third") }, tailWait, tailTick, "lines taken: %q", lines())
	mu.Lock()
	defer mu.Unlock()
	for _, w := range warned {
		assert.Contains(t, w, tree.JournalDir+": no such file or directory", "the only fault: the journal directory missing")
	}
}
