package slogwf_test

import (
	"os"
	"os/exec"
	"regexp"
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
