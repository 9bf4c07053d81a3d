package tree

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// A journal is a file named as slogwf names one, a segment or a journal
// of the earlier layout; another *.jsonl file is not.
func TestJournalsAreTheFilesNamedAsSlogwfNamesThem(t *testing.T) {
	tests := []struct {
		file    string
		journal bool
	}{
		{JournalName(time.Date(2026, 11, 29, 3, 33, 30, 723_000_000, time.UTC), 4242, 0x3f9a1c), true},
		{"logs/journal/20261129T033330.723Z-1-000001.jsonl", true},
		{"research-7eb4be4a.4242.jsonl", true},
		{"a-b-c.1.jsonl", false}, // the id suffix is 8 characters
		{"data.jsonl", false},
		{"eval-set.jsonl", false},
		{"results.2026.jsonl", false},
		{"-x.1.jsonl", false},
		{"w-00000001.42a.jsonl", false},
		{"w-00000001.4242.json", false},
		{"20261129T033330.723Z-4242-3f9a1c.jsonl.bak", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.journal, IsJournal(tt.file), tt.file)
	}
}

// A temporary file is named after the file it becomes, and gives that
// name back; other names ending in .tmp give none.
func TestTemporaryFilesNameTheFileTheyBecome(t *testing.T) {
	file := TreeFileName("w", "01a2255d-71e3-7c75-9eef-715af7eb4be4")
	tmp := TempName(file)
	assert.NotEqual(t, tmp, TempName(file), "two names")
	got, ok := TempOf(tmp)
	assert.True(t, ok, tmp)
	assert.Equal(t, file, got)
	for _, bad := range []string{"session.tmp", file + "..tmp", file + ".X1.tmp", file + ".bak.tmp", file + ".x1.tmp", ".x1.tmp", file} {
		_, ok := TempOf(bad)
		assert.False(t, ok, bad)
	}
}

// The earlier layout named a journal <name>-<id suffix>.<pid>.jsonl, or,
// when a process of the same pid (a container's pid 1) had one already,
// <name>-<id suffix>.<pid>-<n>.jsonl: both are journals.
func TestEveryNameOfTheEarlierLayoutIsAJournal(t *testing.T) {
	for _, file := range []string{"research-7eb4be4a.1.jsonl", "research-7eb4be4a.1-2.jsonl", "w-00000001.4242-100.jsonl"} {
		assert.True(t, IsJournal(file), file)
	}
}

// A *.jsonl file whose name only looks like the earlier layout's (a dash,
// then a number before .jsonl) is not a journal: that layout's id suffix
// is the last 8 characters of the workflow ID.
func TestAnotherProgramsNumberedJSONLIsNoJournal(t *testing.T) {
	for _, file := range []string{"gpt-4.1.jsonl", "dataset-v1.2.jsonl", "eval-set.2.jsonl", "run-a.7.jsonl"} {
		assert.False(t, IsJournal(file), file)
	}
}
