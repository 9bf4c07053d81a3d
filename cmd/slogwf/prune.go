package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/slogwf/slogwf/internal/retention"
)

const pruneHelp = `usage: slogwf prune [-max-age D] [-max-bytes N] [-n] DIR

Prune removes the files of workflows that ended from DIR, a directory the
handler writes (Options.Dir): their tree files and journal segments last
written longer ago than -max-age, and the oldest of them while DIR holds
more than -max-bytes. It never removes the tree file of a running
workflow, nor a journal segment that holds a line of one or that a
process still writes, nor anything written in the last minute. It prints
each file it removes; with -n, each file it would remove, and removes
none. Options.MaxAge and MaxBytes make the handler do the same at New and
periodically.

Example:
	slogwf prune -n -max-age 7d logs
	slogwf prune -max-age 7d -max-bytes 10G logs

Flags:
`

// runPrune is the prune command.
func runPrune(_ context.Context, args []string, _ io.Reader, stdout, _ io.Writer) error {
	fs := newFlagSet("prune", pruneHelp)
	age := fs.String("max-age", "", "remove files last written longer ago than `D` (a Go duration, or days: 7d)")
	size := fs.String("max-bytes", "", "remove the oldest files while DIR holds more than `N` bytes (or K, M, G: 10G)")
	dryRun := fs.Bool("n", false, "say what would be removed, and remove nothing")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{errors.New("one DIR")}
	}
	var pol retention.Policy
	var err error
	if pol.MaxAge, err = parseAge(*age); err != nil {
		return usageError{fmt.Errorf("-max-age: %w", err)}
	}
	if pol.MaxBytes, err = parseBytes(*size); err != nil {
		return usageError{fmt.Errorf("-max-bytes: %w", err)}
	}
	if pol == (retention.Policy{}) {
		return usageError{errors.New("-max-age or -max-bytes, or both")}
	}
	root, err := os.OpenRoot(fs.Arg(0))
	if err != nil {
		return err
	}
	defer root.Close()
	p := retention.Pruner{DryRun: *dryRun}
	res, err := p.Prune(root, pol, time.Now())
	removed, left := "removed", "left"
	if *dryRun {
		removed, left = "would be removed", "would be left"
	}
	for _, name := range res.Removed {
		fmt.Fprintf(stdout, "%s %s\n", removed, printable(name))
	}
	fmt.Fprintf(stdout, "%d files, %d bytes %s; %d bytes %s\n", len(res.Removed), res.Freed, removed, res.Left, left)
	return err
}

// maxDays is the longest age parseAge takes in days: about 292 years, the
// longest time.Duration.
const maxDays = float64(math.MaxInt64 / (24 * time.Hour))

// parseAge parses a duration, or a number of days: "7d".
func parseAge(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(days, 64)
		// !(n > 0) is true of NaN too; past maxDays a Duration overflows.
		if err != nil || !(n > 0) || n > maxDays {
			return 0, fmt.Errorf("%q: want a positive number of days, at most %d, or a duration such as 36h", s, int(maxDays))
		}
		return time.Duration(n * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q: want a positive duration such as 36h, or days: 7d", s)
	}
	return d, nil
}

// parseBytes parses a number of bytes, with K, M or G for KiB, MiB, GiB.
func parseBytes(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	mult := int64(1)
	switch strings.ToUpper(s[len(s)-1:]) {
	case "K":
		mult = 1 << 10
	case "M":
		mult = 1 << 20
	case "G":
		mult = 1 << 30
	}
	digits := s
	if mult > 1 {
		digits = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q: want a positive number of bytes, or K, M, G: 10G", s)
	}
	return n * mult, nil
}
