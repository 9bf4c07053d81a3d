package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
	"github.com/slogwf/slogwf/internal/tree"
)

// newTestServer returns a server of dir that has read it, driven by the
// test: nothing follows the journals but the test's calls.
func newTestServer(t *testing.T, dir string) *server {
	t.Helper()
	root, err := os.OpenRoot(dir)
	require.NoError(t, err)
	t.Cleanup(func() { root.Close() })
	s := newServer(root, func(err error) { t.Log(err) })
	require.NoError(t, s.start())
	return s
}

// look does what the follower does at a look: it reads the journals,
// drops the workflows whose files went, and publishes.
func (s *server) look() {
	s.fl.poll()
	s.sweep()
	s.publish(true)
}

// listedIDs returns the IDs of the list of s.
func listedIDs(t *testing.T, s *server) []string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for _, w := range listed(t, string(s.list)) {
		ids = append(ids, w.ID)
	}
	slices.Sort(ids)
	return ids
}

// twoWorkflows writes the journals of "research" and "other" to dir, a
// segment each (segment(first) and the next), and their tree files if
// trees. It returns the IDs and the files of each.
func twoWorkflows(t *testing.T, dir string, first int, trees bool) (ids map[string]string, files map[string][]string) {
	t.Helper()
	r := writeTailJournals(t, slogwf.ColorNever, true)
	ids, files = map[string]string{}, map[string][]string{}
	for i, name := range []string{"research", "other"} {
		lines := journalsOf(t, r)[name]
		var e struct{ Wf string }
		require.NoError(t, json.Unmarshal([]byte(lines[0]), &e))
		ids[name] = e.Wf
		journal := filepath.Join(dir, segment(first+i))
		tailWrite(t, journal, strings.Join(lines, ""))
		files[name] = []string{journal}
		if trees {
			found, err := filepath.Glob(filepath.Join(r.dir, name+"-*.json"))
			require.NoError(t, err)
			require.Len(t, found, 1)
			data, err := os.ReadFile(found[0])
			require.NoError(t, err)
			tree := filepath.Join(dir, filepath.Base(found[0]))
			tailWrite(t, tree, string(data))
			files[name] = append(files[name], tree)
		}
	}
	return ids, files
}

// A workflow whose files are all gone, as retention or slogwf prune
// removes them (no journal holds a line of it, no tree file of it is
// there), leaves the list and the memory at the next look; one that keeps
// a file stays.
func TestServeForgetsAWorkflowWhoseFilesAreAllGone(t *testing.T) {
	const journal, treeFile = 0, 1 // in the files of a workflow
	for _, tt := range []struct {
		name          string
		trees         bool
		before, after []int // the files of research removed before serve starts, and after
		gone          bool
	}{
		{"its journal removed", false, nil, []int{journal}, true},
		{"its journal and its tree file removed", true, nil, []int{journal, treeFile}, true},
		{"its journal removed, its tree file kept", true, nil, []int{journal}, false},
		{"its tree file removed, its journal kept", true, nil, []int{treeFile}, false},
		{"the tree file it was shown from removed", true, []int{journal}, []int{treeFile}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ids, files := twoWorkflows(t, dir, 0, tt.trees)
			for _, i := range tt.before {
				require.NoError(t, os.Remove(files["research"][i]))
			}
			s := newTestServer(t, dir)
			want := []string{ids["research"], ids["other"]}
			slices.Sort(want)
			require.Equal(t, want, listedIDs(t, s))

			for _, i := range tt.after {
				require.NoError(t, os.Remove(files["research"][i]))
			}
			s.look()
			s.look() // a second look changes nothing
			if !tt.gone {
				assert.Equal(t, want, listedIDs(t, s))
				return
			}
			assert.Equal(t, []string{ids["other"]}, listedIDs(t, s), "listed")
			s.mu.Lock()
			defer s.mu.Unlock()
			assert.Len(t, s.workflows, 1, "workflows held")
			assert.True(t, s.b.Tree(ids["research"]) == nil, "the builder holds its tree")
			_, file := s.files[ids["research"]]
			assert.False(t, file, "its tree file is held")
			assert.Empty(t, s.b.Journals(ids["research"]), "its journals are held")
		})
	}
}

// A workflow whose files went between the look that read it and the one
// that would list it is never listed.
func TestServeNeverListsAWorkflowWhoseFilesWentBeforeItWasListed(t *testing.T) {
	dir := t.TempDir()
	s := newTestServer(t, dir)
	ids, files := twoWorkflows(t, dir, 0, false)
	s.fl.poll() // read; publish waits
	require.NoError(t, os.Remove(files["research"][0]))
	s.look()
	assert.Equal(t, []string{ids["other"]}, listedIDs(t, s))
	s.mu.Lock()
	defer s.mu.Unlock()
	assert.True(t, s.b.Tree(ids["research"]) == nil, "the builder holds its tree")
}

// serve beside a service whose retention removes what it wrote: the
// workflows listed, and the trees held, stay as many as there are files
// of, round after round.
func TestServeHoldsOnlyTheWorkflowsOfTheFilesThere(t *testing.T) {
	dir := t.TempDir()
	s := newTestServer(t, dir)
	for round := range 3 {
		// Segments named anew, as a service names them.
		_, files := twoWorkflows(t, dir, 2*round, round%2 == 1)
		s.look()
		require.Len(t, listedIDs(t, s), 2, "round %d", round)
		for _, f := range slices.Concat(files["research"], files["other"]) {
			require.NoError(t, os.Remove(f))
		}
		s.look()
		assert.Empty(t, listedIDs(t, s), "round %d", round)
		s.mu.Lock()
		assert.Empty(t, s.workflows, "round %d", round)
		assert.Empty(t, s.b.Workflows(), "round %d: the builder holds them", round)
		s.mu.Unlock()
	}
}

// A running serve drops a workflow whose journal went from the list that
// the pages get, by itself.
func TestServeTellsThePagesThatAWorkflowsFilesWent(t *testing.T) {
	dir := t.TempDir()
	ids, files := twoWorkflows(t, dir, 0, false)
	s := startServe(t, dir)
	ch := events(t, s.url+"events?wf="+ids["research"])
	require.Len(t, listed(t, next(t, ch, "list")), 2)
	next(t, ch, "workflow")

	require.NoError(t, os.Remove(files["research"][0]))
	for list := []workflowSummary(nil); len(list) != 1; {
		list = listed(t, next(t, ch, "list"))
		if len(list) == 1 {
			assert.Equal(t, ids["other"], list[0].ID)
		}
	}
	assert.Empty(t, s.stderr.String())
	assert.Equal(t, 0, s.stop())
}

// A page that shows a workflow whose files went keeps what it showed, and
// its picker says the workflow was removed: the picker shows, though the
// workflow was the last of the list.
func TestServePageKeepsAWorkflowWhoseFilesWentMarkedRemoved(t *testing.T) {
	for _, tt := range []struct {
		name    string
		removed []string
	}{
		{"another listed", []string{"other"}},
		{"the last", []string{"research", "other"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ids, files := twoWorkflows(t, dir, 0, false)
			s := startServe(t, dir)
			p := openPage(t, s.url)
			p.wait(`document.querySelectorAll('#wf-select option').length === 2`)
			p.choose("wf-select", ids["other"])
			p.wait(`document.getElementById('wf-name').textContent === 'other'`)
			rows := p.rows()
			require.NotEmpty(t, rows)

			for _, name := range tt.removed {
				require.NoError(t, os.Remove(files[name][0]))
			}
			p.wait(`[...document.querySelectorAll('#wf-select option')].some((o) => o.textContent.includes('removed'))`)
			assert.Equal(t, ids["other"], p.str(`document.getElementById('wf-select').value`), "the picker shows it")
			assert.Equal(t, "false", p.str(`String(document.getElementById('picker').hidden)`), "the picker, which says it, shows")
			assert.Equal(t, "other", p.str(`document.getElementById('wf-name').textContent`))
			assert.Equal(t, rows, p.rows(), "the page keeps what it showed")
			p.noConsoleErrors()
			assert.Equal(t, 0, s.stop())
		})
	}
}

// A journal renamed is the same journal, read on from where it was (see
// follower.renamed): the workflows it holds stay, though none of their
// lines came under its new name yet.
func TestServeKeepsTheWorkflowsOfAJournalRenamed(t *testing.T) {
	dir := t.TempDir()
	ids, files := twoWorkflows(t, dir, 0, false)
	s := newTestServer(t, dir)
	want := []string{ids["research"], ids["other"]}
	slices.Sort(want)
	require.Equal(t, want, listedIDs(t, s))

	require.NoError(t, os.Rename(files["research"][0], filepath.Join(dir, segment(5))))
	s.look()
	s.look()
	assert.Equal(t, want, listedIDs(t, s))
}

// A workflow whose journals went stays while a tree file of its ID is in
// the directory, whatever workflow name the file's name says, as build
// finds tree files by ID: one written after serve started, of a workflow
// whose journals lack its start (which names it), or one renamed. A tree
// file renamed out of the names of tree files is gone.
func TestServeKeepsAWorkflowWhileATreeFileOfItsIDIsThere(t *testing.T) {
	for _, tt := range []struct {
		name    string
		noStart bool // its journal lacks its start line
		atStart bool // its tree file is there when serve starts
		// after does to the tree file data, named file in dir, what
		// happens after serve started.
		after func(t *testing.T, dir, file, data string)
		kept  bool
	}{
		{"written after serve started, the journals without its start", true, false, func(t *testing.T, dir, file, data string) {
			tailWrite(t, filepath.Join(dir, file), data)
		}, true},
		{"renamed", false, true, func(t *testing.T, dir, file, _ string) {
			_, id, ok := tree.ParseTreeFile(file)
			require.True(t, ok)
			require.NoError(t, os.Rename(filepath.Join(dir, file), filepath.Join(dir, "renamed-"+id+".json")))
		}, true},
		{"renamed out of the tree files' names", false, true, func(t *testing.T, dir, file, _ string) {
			require.NoError(t, os.Rename(filepath.Join(dir, file), filepath.Join(dir, file+".bak")))
		}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := writeTailJournals(t, slogwf.ColorNever, false)
			lines := journalsOf(t, r)["research"]
			require.Contains(t, lines[0], `"ev":"start","wf":"`+r.wf+`","id":"`+r.wf+`"`)
			if tt.noStart {
				lines = lines[1:]
			}
			found, err := filepath.Glob(filepath.Join(r.dir, "research-*.json"))
			require.NoError(t, err)
			require.Len(t, found, 1)
			data, err := os.ReadFile(found[0])
			require.NoError(t, err)
			file := filepath.Base(found[0])

			dir := t.TempDir()
			journal := filepath.Join(dir, segment(0))
			tailWrite(t, journal, strings.Join(lines, ""))
			if tt.atStart {
				tailWrite(t, filepath.Join(dir, file), string(data))
			}
			s := newTestServer(t, dir)
			require.Equal(t, []string{r.wf}, listedIDs(t, s))

			tt.after(t, dir, file, string(data))
			require.NoError(t, os.Remove(journal))
			s.look()
			s.look()
			if tt.kept {
				assert.Equal(t, []string{r.wf}, listedIDs(t, s))
			} else {
				assert.Empty(t, listedIDs(t, s))
			}
		})
	}
}
