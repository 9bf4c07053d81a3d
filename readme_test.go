package slogwf_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The README's quick start is testdata/quickstart, and it compiles.
func TestReadmeQuickStartCompiles(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	block := regexp.MustCompile("(?s)```go\n(package main\n.*?)```").FindSubmatch(readme)
	require.NotNil(t, block, "a Go block with package main in README.md")
	code, err := os.ReadFile("testdata/quickstart/main.go")
	require.NoError(t, err)
	assert.Equal(t, string(code), string(block[1]))

	out, err := exec.Command("go", "vet", "./testdata/quickstart").CombinedOutput()
	require.NoError(t, err, "%s", out)
}

// CONTRIBUTING.md's Code layout table names every source file of the
// module but the test files, and no file that is not there.
func TestCodeLayoutNamesEverySourceFile(t *testing.T) {
	doc, err := os.ReadFile("CONTRIBUTING.md")
	require.NoError(t, err)
	_, table, ok := strings.Cut(string(doc), "## Code layout")
	require.True(t, ok)
	named := map[string]bool{}
	for _, m := range regexp.MustCompile("`((?:[\\w/]+/)?\\w+\\.go)`").FindAllStringSubmatch(table, -1) {
		named[m[1]] = true
	}
	for _, dir := range []string{".", "internal/*", "otel", "cmd/slogwf", "examples/*"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		require.NoError(t, err)
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			if dir == "cmd/slogwf" {
				f = filepath.Base(f) // the CLI's row names its files alone
			}
			assert.True(t, named[f], "%s is not in the table", f)
			delete(named, f)
		}
	}
	for f := range named {
		if !strings.HasSuffix(f, "_test.go") {
			assert.Fail(t, "the table names a file that is not there", f)
		}
	}
}

// The README's OpenTelemetry sample compiles as the body of a function
// that returns an error: it checks the errors it is given.
func TestReadmeOpenTelemetrySampleCompiles(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	block := regexp.MustCompile("(?s)\\*\\*Live\\.\\*\\*.*?```go\n(.*?)```").FindSubmatch(readme)
	require.NotNil(t, block, "the Go block after **Live.** in README.md")
	dir, err := os.MkdirTemp("testdata", "otelsample") // in the module, for its go.mod
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	code := `package main

import (
	"context"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"

	"github.com/slogwf/slogwf"
	slogwfotel "github.com/slogwf/slogwf/otel"
)

func main() { _ = run(context.Background()) }

func run(ctx context.Context) error {
` + string(block[1]) + `	return nil
}
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(code), 0o644))

	out, err := exec.Command("go", "vet", "./"+dir).CombinedOutput()
	require.NoError(t, err, "%s", out)
}
