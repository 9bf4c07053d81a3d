package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A line copied into a live journal's mapping raises no event: a follower
// that watches the journal's directory still takes it, as it polls the
// journals that end in padding.
func TestFollowerTakesALineCopiedIntoAMappingThatRaisesNoEvent(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "live.jsonl")
	tailWrite(t, name, "a\n"+strings.Repeat("\x00", 1<<20))
	lines, _, rounds := followed(t, dir, nil)
	waitRounds(t, rounds, 2)
	require.Equal(t, liveLines("a"), lines())

	f, err := os.OpenFile(name, os.O_RDWR, 0)
	require.NoError(t, err)
	defer f.Close()
	m, err := syscall.Mmap(int(f.Fd()), 0, 1<<20, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	require.NoError(t, err)
	defer syscall.Munmap(m)
	copy(m[2:], "b1")
	waitRounds(t, rounds, 3)
	assert.Equal(t, liveLines("a"), lines(), "a line half copied waits")
	copy(m[4:], "2\n")
	require.Eventually(t, func() bool { return len(lines()) >= 2 }, tailWait, tailTick)
	waitRounds(t, rounds, 2)
	assert.Equal(t, liveLines("a", "b12"), lines())
}
