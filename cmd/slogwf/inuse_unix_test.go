//go:build unix

package main

import (
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A workflow found in journals only is running while a process holds one
// of its journals locked, as the handler does while it writes one.
func TestLsSaysRunningWhileAJournalIsLocked(t *testing.T) {
	d := writeLsDir(t)
	f, err := os.Open(d.crashedJournal)
	require.NoError(t, err)
	defer f.Close()
	require.NoError(t, syscall.Flock(int(f.Fd()), syscall.LOCK_EX))
	assert.Equal(t, "running", lsRows(t, d.dir)[1][2])
	require.NoError(t, syscall.Flock(int(f.Fd()), syscall.LOCK_UN))
	assert.Equal(t, "incomplete", lsRows(t, d.dir)[1][2])
}
