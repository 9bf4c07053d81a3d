// Command slogwf works with the workflow trees that the slogwf log handler
// writes: it runs a demo workflow and prints trees as outlines.
//
// Usage:
//
//	slogwf <command> [flags] [args]
//
// Run "slogwf help" for the commands and "slogwf <command> -h" for the
// flags of one.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// command is one subcommand of slogwf. run gets the arguments after the
// command's name; it returns flag.ErrHelp when it printed its help, a
// usageError when the arguments are wrong.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error
	// SIGINT and SIGTERM end the context of a command that runs until
	// stopped, so that it stops cleanly; they end the others at once.
	untilStopped bool
}

// commands returns the table of subcommands, in the order usage lists them.
func commands() []command {
	return []command{
		{"demo", "run a simulated multi-agent workflow and write its tree", runDemo, true},
		{"ls", "list the workflows of a directory, newest first, to find one", runLs, false},
		{"tree", "print trees, from tree files or journals, as outlines", runTree, false},
		{"tail", "print journal events as the console did, and follow them", runTail, true},
		{"build", "rebuild trees from journals, merging processes", runBuild, false},
		{"stats", "summarize workflows: calls, tokens, cost, time per agent, model or iteration", runStats, false},
		{"html", "write a self-contained HTML page of workflows: tree, time line, details, search, tables", runHTML, false},
		{"serve", "show the workflows of a directory in a browser, live as their journals grow", runServe, true},
		{"export", "write workflows for other tools: Perfetto's timeline (Chrome Trace Event Format), or send them to an OpenTelemetry backend", runExport, false},
		{"prune", "remove the old files of workflows that ended", runPrune, false},
	}
}

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// run runs slogwf with args (without the program name) and returns the
// exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	case "-version", "--version":
		name = "version"
	case "help":
		if len(rest) == 0 {
			usage(stdout)
			return exitOK
		}
		// "slogwf help tree" is "slogwf tree -h".
		name, rest = rest[0], []string{"-h"}
	}
	if name == "version" {
		return exitCode(runVersion(rest, stdout), name, stderr)
	}
	for _, c := range commands() {
		if c.name == name {
			if c.untilStopped {
				var stop context.CancelFunc
				ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
				defer stop()
			}
			return exitCode(c.run(ctx, rest, stdin, stdout, stderr), name, stderr)
		}
	}
	fmt.Fprintf(stderr, "slogwf: unknown command %s\n", strconv.Quote(name))
	usage(stderr)
	return exitUsage
}

// exitCode reports err of command name on stderr, on one line, and returns
// the exit code it calls for.
func exitCode(err error, name string, stderr io.Writer) int {
	var ue usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "slogwf %s: %s (see \"slogwf %s -h\")\n", name, message(err), name)
		return exitUsage
	}
	fmt.Fprintf(stderr, "slogwf %s: %s\n", name, message(err))
	return exitError
}

func usage(w io.Writer) {
	fmt.Fprint(w, `slogwf works with the workflow trees of the slogwf log handler.

Usage:
	slogwf <command> [flags] [args]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "\t%-6s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run "slogwf <command> -h" for the flags of a command and an example,
and "slogwf version" for the version of slogwf.
`)
}

// usageError is an error in the arguments of a command.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// newFlagSet returns the flag set of command name. Parse errors are
// reported by run, on one line, so the flag package itself prints nothing
// but the help that parseFlags asks it for.
func newFlagSet(name, help string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), help)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args into fs. For -h it prints the help on stdout and
// returns flag.ErrHelp.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		fs.Usage()
		return err
	}
	if err != nil {
		return usageError{err}
	}
	return nil
}

// message returns err's text for a line that begins "slogwf <command>:",
// printable, without the "slogwf: " that the library's errors begin with.
func message(err error) string {
	return printable(strings.TrimPrefix(err.Error(), "slogwf: "))
}

// printable returns s if it is valid UTF-8 made of printable runes, and s
// quoted otherwise, so that text from outside (names and errors written by
// LLM programs) cannot move the cursor, recolor or break the line it is on.
func printable(s string) string {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return strconv.Quote(s)
			}
		}
		if !strconv.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// writeOutput writes v to out, through a buffer: with asJSON as toJSON
// does, else as toText does.
func writeOutput[T any](out io.Writer, asJSON bool, v T, toJSON func(*bufio.Writer, T) error, toText func(*bufio.Writer, T)) error {
	w := bufio.NewWriter(out)
	if asJSON {
		if err := toJSON(w, v); err != nil {
			return err
		}
	} else {
		toText(w, v)
	}
	return w.Flush()
}
