package slogwf_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
	"github.com/slogwf/slogwf/internal/tree"
)

// badOptions are options that cannot be meant, and the error New returns
// for each: it names the option and its value.
var badOptions = []struct {
	name string
	opts slogwf.Options
	want string
}{
	{"a segment of 16 bytes, meant as 16 MiB", slogwf.Options{SegmentSize: 16},
		"slogwf: Options.SegmentSize 16: want 0 (16 MiB) or 1048576 (1 MiB) or more"},
	{"a segment smaller than 1 MiB", slogwf.Options{SegmentSize: 1<<20 - 1}, "slogwf: Options.SegmentSize 1048575:"},
	{"a negative segment", slogwf.Options{SegmentSize: -1}, "slogwf: Options.SegmentSize -1:"},
	{"a negative snapshot interval", slogwf.Options{SnapshotInterval: -time.Second},
		"slogwf: Options.SnapshotInterval -1s: want 0 (1s) or more"},
	{"a negative MaxAge", slogwf.Options{MaxAge: -time.Hour}, "slogwf: Options.MaxAge -1h0m0s: want 0 (keep all) or more"},
	{"a negative MaxBytes", slogwf.Options{MaxBytes: -1}, "slogwf: Options.MaxBytes -1: want 0 (no limit) or more"},
	{"an unknown sync mode", slogwf.Options{Sync: 9}, "slogwf: Options.Sync 9: want SyncNone, SyncEnd or SyncAlways"},
	{"a negative price", slogwf.Options{Prices: slogwf.Prices{"gpt-4o": {Input: -2.5}}},
		`slogwf: Options.Prices["gpt-4o"].Input -2.5: want 0 or more dollars per million tokens`},
	{"a price that is not a number", slogwf.Options{Prices: slogwf.Prices{"gpt-4o": {Input: 2.5, Output: math.NaN()}}},
		`slogwf: Options.Prices["gpt-4o"].Output NaN:`},
	{"an infinite price", slogwf.Options{Prices: slogwf.Prices{"gpt-4o": {Input: 2.5, CachedInput: math.Inf(1)}}},
		`slogwf: Options.Prices["gpt-4o"].CachedInput +Inf:`},
	{"a negative price of cache writes", slogwf.Options{Prices: slogwf.Prices{"claude-sonnet-4": {Input: 3, CacheWrite: -3.75}}},
		`slogwf: Options.Prices["claude-sonnet-4"].CacheWrite -3.75:`},
	{"a nil pattern of secrets", slogwf.Options{Redact: &slogwf.Redaction{Patterns: []*regexp.Regexp{regexp.MustCompile(`tok-\w+`), nil}}},
		"slogwf: Options.Redact.Patterns[1] nil: want a pattern"},
}

func TestNewRejectsOptionsThatCannotBeMeant(t *testing.T) {
	tests := append(badOptions[:len(badOptions):len(badOptions)], []struct {
		name string
		opts slogwf.Options
		want string
	}{
		{"an unknown color mode", slogwf.Options{Color: 42}, "slogwf: Options.Color 42: want ColorAuto, ColorAlways or ColorNever"},
		{"a negative color mode", slogwf.Options{Color: -1}, "slogwf: Options.Color -1:"},
		{"an unknown console format", slogwf.Options{Format: "yaml"}, `slogwf: Options.Format "yaml": want FormatTint, FormatText or FormatJSON`},
	}...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.opts.Dir, tt.opts.Console = dir, io.Discard
			h, err := slogwf.New(&tt.opts)
			require.Error(t, err)
			assert.Nil(t, h)
			assert.Contains(t, err.Error(), tt.want)
			assert.Equal(t, 1, strings.Count(err.Error(), "slogwf:"), "one prefix")
			assert.NoDirExists(t, filepath.Join(dir, tree.JournalDir), "no journal was begun")
		})
	}
}

func TestNewNamesEveryBadOption(t *testing.T) {
	_, err := slogwf.New(&slogwf.Options{Dir: t.TempDir(), SegmentSize: 10, MaxAge: -1, Sync: 3})
	require.Error(t, err)
	for _, option := range []string{"SegmentSize 10", "MaxAge -1ns", "Sync 3"} {
		assert.Contains(t, err.Error(), "slogwf: Options."+option)
	}
}

func TestNewAcceptsTheDocumentedValues(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts slogwf.Options
	}{
		{"the zero Options: the defaults", slogwf.Options{}},
		{"the least segment", slogwf.Options{SegmentSize: 1 << 20}},
		{"no limits on values and widths", slogwf.Options{MaxValue: -1, ValueWidth: -1, LineWidth: -1}},
		{"retention", slogwf.Options{MaxAge: time.Hour, MaxBytes: 1 << 30}},
		{"the last sync mode", slogwf.Options{Sync: slogwf.SyncAlways}},
		{"the last color mode", slogwf.Options{Color: slogwf.ColorNever}},
		{"a free model, and a cache read at the input price", slogwf.Options{Prices: slogwf.Prices{"local": {}, "gpt-4o": {Input: 2.5, Output: 10}}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Dir, tt.opts.Console = t.TempDir(), io.Discard
			h, err := slogwf.New(&tt.opts)
			require.NoError(t, err)
			require.NoError(t, h.Close())
		})
	}
}

// NewHandler, which returns no error, says what New would return on
// ErrorOutput, and goes on with the default in place of the bad value:
// the tree stays on.
func TestNewHandlerSaysABadOptionAndTakesItsDefault(t *testing.T) {
	for _, tt := range badOptions {
		t.Run(tt.name, func(t *testing.T) {
			var errs bytes.Buffer
			var console bytes.Buffer
			tt.opts.Dir, tt.opts.ErrorOutput = t.TempDir(), &errs
			prices, redact := maps.Clone(tt.opts.Prices), tt.opts.Redact
			var patterns []*regexp.Regexp
			if redact != nil {
				patterns = slices.Clone(redact.Patterns)
			}
			h := slogwf.NewHandler(slog.NewTextHandler(&console, nil), &tt.opts)
			assert.Contains(t, errs.String(), tt.want)
			assert.Equal(t, 1, strings.Count(errs.String(), "slogwf:"), "one error, one prefix")
			assert.Equal(t, fmt.Sprint(prices), fmt.Sprint(tt.opts.Prices), "the caller's prices are left as they are") // NaN is no NaN's equal
			if redact != nil {
				assert.Equal(t, patterns, redact.Patterns, "and the caller's patterns")
			}

			l := slog.New(h)
			ctx, wf := slogwf.StartWorkflow(slogwf.ContextWithLogger(context.Background(), l), "on")
			require.NotNil(t, wf, "the tree is on")
			l.InfoContext(ctx, "r", slogwf.Model("gpt-4o"), slogwf.Tokens(1000, 100))
			wf.End()
			require.NoError(t, h.Close())
			assert.FileExists(t, h.TreeFile(wf))
			assert.Contains(t, console.String(), "msg=r")
			segments, err := filepath.Glob(filepath.Join(tt.opts.Dir, tree.JournalDir, "*.jsonl"))
			require.NoError(t, err)
			assert.Len(t, segments, 1, "one segment of the default size")
		})
	}
}

// An environment variable with a bad value is named once, with its value
// and what it may be.
func TestABadEnvironmentVariableSaysWhatItAccepts(t *testing.T) {
	for _, tt := range []struct {
		name, value, want string
	}{
		{"SLOGWF_DISABLE", "maybe", `slogwf: SLOGWF_DISABLE="maybe": want 1, t, true, yes or on; or 0, f, false, no, off or nothing`},
		{"SLOGWF_LEVEL", "loud", `slogwf: SLOGWF_LEVEL="loud": want TRACE, DEBUG, INFO, NOTICE, WARN or ERROR, in any case, with an offset such as INFO+2, or a number`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(tt.name, tt.value)
			_, err := slogwf.New(&slogwf.Options{Dir: t.TempDir(), Console: io.Discard})
			require.Error(t, err)
			assert.Equal(t, tt.want, err.Error())
		})
	}
}
