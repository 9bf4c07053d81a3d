package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runCLI runs slogwf with args and returns its exit code, stdout and stderr.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runCLIStdin(t, strings.NewReader(""), args...)
}

// runCLIStdin is runCLI with stdin as standard input.
func runCLIStdin(t *testing.T, stdin io.Reader, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, stdin, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		onStdout bool // usage goes to stdout, else to stderr
	}{
		{"no command", nil, 2, false},
		{"-h", []string{"-h"}, 0, true},
		{"--help", []string{"--help"}, 0, true},
		{"help", []string{"help"}, 0, true},
		{"unknown command", []string{"bogus", "-x"}, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.args...)
			assert.Equal(t, tt.code, code)
			text, other := stderr, stdout
			if tt.onStdout {
				text, other = stdout, stderr
			}
			assert.Empty(t, other)
			for _, c := range commands() {
				assert.Contains(t, text, "\t"+c.name+" ")
				assert.Contains(t, text, c.summary)
			}
		})
	}
}

func TestUnknownCommand(t *testing.T) {
	code, _, stderr := runCLI(t, "bogus\x1b[2J")
	assert.Equal(t, 2, code)
	first, _, _ := strings.Cut(stderr, "\n")
	assert.Equal(t, `slogwf: unknown command "bogus\x1b[2J"`, first)
}

func TestCommandHelp(t *testing.T) {
	for _, c := range commands() {
		for _, args := range [][]string{{c.name, "-h"}, {"help", c.name}} {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				code, stdout, stderr := runCLI(t, args...)
				assert.Equal(t, 0, code)
				assert.Empty(t, stderr)
				assert.Contains(t, stdout, "usage: slogwf "+c.name)
				assert.Contains(t, stdout, "Example:\n\tslogwf "+c.name+" ")
				assert.Contains(t, stdout, "Flags:\n  -")
			})
		}
	}
}

func TestBadFlag(t *testing.T) {
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, c.name, "-no-such-flag")
			assert.Equal(t, 2, code)
			assert.Empty(t, stdout)
			require.Equal(t, 1, strings.Count(stderr, "\n"), stderr)
			assert.True(t, strings.HasPrefix(stderr, "slogwf "+c.name+": "), stderr)
			assert.Contains(t, stderr, "-no-such-flag")
		})
	}
}

func TestPrintable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"planner", "planner"},
		{"héllo wörld ✔", "héllo wörld ✔"},
		{"a\nb", `"a\nb"`},
		{"tab\there", `"tab\there"`},
		{"\x1b[31mred", `"\x1b[31mred"`},
		{"bidi \u202e", `"bidi \u202e"`},
		{"bad \xff utf8", `"bad \xff utf8"`},
		{"\ufffd itself", "\ufffd itself"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, printable(tt.in), "%q", tt.in)
	}
}

// slogwf version says the module's version, the commit and the Go that
// built it, as the build recorded them; -version and --version are it too.
func TestVersionSaysWhatTheBuildRecorded(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"-version"}, {"--version"}} {
		code, stdout, stderr := runCLI(t, args...)
		require.Equal(t, 0, code, stderr)
		assert.Regexp(t, `^slogwf \S+ (\S+ )?go1\.\S+\n$`, stdout, args)
	}
	code, _, stderr := runCLI(t, "version", "extra")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "slogwf version: no arguments")
	code, stdout, stderr := runCLI(t, "version", "-h")
	assert.Equal(t, 0, code, stderr)
	assert.True(t, strings.HasPrefix(stdout, "usage: slogwf version\n"), stdout)

	tests := []struct {
		name     string
		settings []debug.BuildSetting
		want     string
	}{
		{"a module version", nil, "slogwf v1.2.3 go1.26.0"},
		{"a commit", []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}}, "slogwf v1.2.3 0123456789ab go1.26.0"},
		{"a commit with changes", []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}},
			"slogwf v1.2.3 0123456789ab+modified go1.26.0"},
		{"a pseudo-version that says the commit", []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}},
			"slogwf v0.0.0-20261130120000-0123456789ab+dirty go1.26.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mod := "v1.2.3"
			if strings.HasPrefix(tt.want, "slogwf v0.0.0-") {
				mod = strings.Fields(tt.want)[1]
			}
			info := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: mod}, Settings: tt.settings}
			assert.Equal(t, tt.want, version(info))
		})
	}
}

// "slogwf help version" is "slogwf version -h", as for every command the
// usage names.
func TestHelpVersionIsVersionH(t *testing.T) {
	code, stdout, stderr := runCLI(t, "help", "version")
	assert.Equal(t, 0, code, stderr)
	assert.True(t, strings.HasPrefix(stdout, "usage: slogwf version\n"), stdout)
}

// An error of a command says "slogwf <command>:" once, not again the
// "slogwf:" that the library's errors begin with.
func TestACommandsErrorSaysItsPrefixOnce(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	for _, tt := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"a directory that cannot be made", []string{"demo", "-fast", "-dir", filepath.Join(file, "logs")}, nil,
			"slogwf demo: create dir: "},
		{"a bad environment variable", []string{"demo", "-fast", "-dir", t.TempDir()}, map[string]string{"SLOGWF_DISABLE": "maybe"},
			`slogwf demo: SLOGWF_DISABLE="maybe": want 1, t, true, yes or on; or 0, f, false, no, off or nothing`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			code, _, stderr := runCLI(t, tt.args...)
			assert.Equal(t, 1, code)
			assert.True(t, strings.HasPrefix(stderr, tt.want), stderr)
			assert.Equal(t, 1, strings.Count(stderr, "slogwf"), stderr)
		})
	}
}
