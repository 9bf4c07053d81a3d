package tree

import (
	"fmt"
	"io"
	"maps"
	"slices"
)

// Builder rebuilds the trees of workflows from their journals, with the
// tree builder of the live handler: the tree of a workflow comes out byte
// for byte as the handler wrote it last. Lines may come in any order, and
// from the journals of any number of processes.
type Builder struct {
	// Counting keeps the counts and usage of records, not the records:
	// all that tail needs. Set it before the first line.
	Counting bool

	// Workflow, when set, keeps the lines of that workflow alone: the
	// lines of others are skipped undecoded. Set it before the first line.
	Workflow string

	e        Event // the line being added
	trees    map[string]*Tree
	names    map[string]string        // workflow ID → name from a journal's file name
	journals map[string][]string      // workflow ID → the journals that hold it, in the order read
	followed map[string]*journalLines // journal name → its lines that AddLine added
	// forgotten holds, for each workflow forgotten, the journals that
	// held lines of it, before and since: see Release.
	forgotten map[string][]string
	// pending holds, for each workflow with no tree yet, the journals of
	// its lines skipped, one entry a line: they count in the workflows of
	// their journal until a line makes its tree, and then in it alone.
	pending map[string][]*journalLines
}

// journalLines is what a journal's lines so far count in: the workflows
// they added to, and how many lines were skipped that name none, or a
// workflow with no tree yet.
type journalLines struct {
	wfs     map[string]bool
	unknown int64
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder {
	return &Builder{trees: map[string]*Tree{}, names: map[string]string{}, journals: map[string][]string{},
		followed: map[string]*journalLines{}, forgotten: map[string][]string{}, pending: map[string][]*journalLines{}}
}

// Add adds one journal line.
func (b *Builder) Add(line []byte) error {
	if err := b.e.decode(line); err != nil {
		return err
	}
	b.Apply(&b.e)
	return nil
}

// Apply adds e to the tree of its workflow, and reports whether it changed
// it; see Tree.Apply.
func (b *Builder) Apply(e *Event) bool {
	return b.tree(e.Workflow).Apply(e)
}

// tree returns the tree of workflow id, new if need be.
func (b *Builder) tree(id string) *Tree {
	t := b.trees[id]
	if t == nil {
		t = NewTree(id)
		t.counting = b.Counting
		b.trees[id] = t
		// Its lines skipped before leave the workflows of their
		// journals for it: the trees do not depend on the order the
		// journals are read in.
		for _, j := range b.pending[id] {
			t.Drop(1)
			j.unknown--
			for w := range j.wfs {
				b.trees[w].Drop(-1)
			}
		}
		delete(b.pending, id)
	}
	return t
}

// ReadJournal adds the lines of the journal r, whose file is named name,
// as AddLine does, each one torn that has no newline: its last one, or
// one that padding cut short (see LineReader); padding is skipped. A line
// that names no workflow counts in those of this read alone. It reports
// each line skipped to warn, with its number, and returns only an error
// reading r.
func (b *Builder) ReadJournal(r io.Reader, name string, warn func(error)) error {
	return b.readJournal(NewLineReader(r, 64<<10), name, warn)
}

// ReadLiveJournal adds the lines of the journal r, a segment that may be
// live, as ReadJournal does, up to its first NUL (see LineReader): the
// line being copied there is not read.
func (b *Builder) ReadLiveJournal(r io.Reader, name string, warn func(error)) error {
	return b.readJournal(NewLiveLineReader(r, 64<<10), name, warn)
}

func (b *Builder) readJournal(lr *LineReader, name string, warn func(error)) error {
	j := &journalLines{}
	for n := 1; ; n++ {
		line, err := lr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("slogwf: read journal %s: %w", name, err)
		}
		if _, lerr := b.addLine(j, line, name, line[len(line)-1] != '\n'); lerr != nil {
			warn(fmt.Errorf("%s:%d: %w", name, n, lerr))
		}
	}
}

// AddLine adds one line of the journal named journal, as a follower reads
// them: torn says it is the journal's incomplete last line. It returns
// the workflow the line is of, "" if it cannot tell, and an error saying
// why the line was skipped when it is not an event. Lines of workflows
// other than Workflow, or forgotten, are skipped with no error.
//
// A line skipped counts as dropped in the loss of its workflow, when its
// start names one read before or after; otherwise in the loss of every
// workflow of the journal.
// A workflow whose start no line holds has the name in the journal's file
// name (see NameIn).
func (b *Builder) AddLine(line []byte, journal string, torn bool) (wf string, err error) {
	if j := b.followed[journal]; j != nil {
		return b.addLine(j, line, journal, torn)
	}
	// The lines of a journal of forgotten or other workflows cost
	// nothing.
	if wf := WorkflowOf(line); wf != "" && b.skips(wf, journal) {
		return wf, nil
	}
	j := &journalLines{}
	wf, err = b.addLine(j, line, journal, torn)
	if len(j.wfs) > 0 || j.unknown > 0 {
		b.followed[journal] = j
	}
	return wf, err
}

// addLine adds line, of the journal named journal, whose lines so far
// count in j.
func (b *Builder) addLine(j *journalLines, line []byte, journal string, torn bool) (string, error) {
	wf := WorkflowOf(line)
	if wf != "" && b.skips(wf, journal) {
		return wf, nil
	}
	if err := b.e.decode(line); err != nil {
		if t := b.trees[wf]; t != nil {
			t.Drop(1)
		} else {
			// Of no workflow read yet (its start torn, say): it makes
			// none of its own, and counts as a line that names none
			// until a line makes its workflow (see tree).
			j.unknown++
			for w := range j.wfs {
				b.trees[w].Drop(1)
			}
			if wf != "" {
				b.pending[wf] = append(b.pending[wf], j)
			}
		}
		what := "line skipped"
		if torn {
			what = "torn last line skipped"
		}
		return wf, fmt.Errorf("%s: %w", what, err)
	}
	wf = b.e.Workflow
	if b.skips(wf, journal) {
		return wf, nil
	}
	b.Apply(&b.e)
	b.NameFrom(wf, journal)
	if !j.wfs[wf] {
		if j.wfs == nil {
			j.wfs = map[string]bool{}
		}
		j.wfs[wf] = true
		b.trees[wf].Drop(j.unknown)
		b.journals[wf] = append(b.journals[wf], journal)
	}
	return wf, nil
}

// skips reports whether the lines of workflow wf, of the journal named
// journal, are left out; it notes the journal as holding wf if wf is
// forgotten.
func (b *Builder) skips(wf, journal string) bool {
	if held, ok := b.forgotten[wf]; ok {
		if !slices.Contains(held, journal) {
			b.forgotten[wf] = append(held, journal)
		}
		return true
	}
	return b.Workflow != "" && wf != b.Workflow
}

// Forget drops the tree of workflow id, and the lines of it that come
// later: for a follower done with the workflow. It keeps the names of the
// journals that hold lines of id, until Release lets go of id.
func (b *Builder) Forget(id string) {
	held := b.journals[id]
	b.Remove(id)
	if _, ok := b.forgotten[id]; !ok {
		b.forgotten[id] = held
	}
}

// Release lets go of the workflows forgotten whose lines no journal
// still holds, as still reports of each journal name, and returns their
// IDs: a line of one that comes later starts it again, as after Remove.
// A follower that runs for weeks while retention removes journals calls
// it when a journal went, so that what it forgot stays bounded by what is
// on disk.
func (b *Builder) Release(still func(journal string) bool) []string {
	var ids []string
	for id, held := range b.forgotten {
		if !slices.ContainsFunc(held, still) {
			ids = append(ids, id)
			delete(b.forgotten, id)
		}
	}
	return ids
}

// Renamed notes that the journal named from is named to now, as a
// follower finds a journal renamed: the workflows it held, it holds under
// its new name too. Under the old one still: a file made there since (a
// journal rotated) has had its lines read under that name already.
func (b *Builder) Renamed(from, to string) {
	if j := b.followed[from]; j != nil && b.followed[to] == nil {
		delete(b.followed, from)
		b.followed[to] = j
	}
	for _, m := range []map[string][]string{b.journals, b.forgotten} {
		for id, held := range m {
			if slices.Contains(held, from) && !slices.Contains(held, to) {
				m[id] = append(held, to)
			}
		}
	}
}

// Remove drops the tree of workflow id, as if no line of it had been
// read: a line of it that comes later starts it again. Unlike Forget, it
// keeps nothing of id, for a follower that runs for weeks while the files
// of workflows go.
func (b *Builder) Remove(id string) {
	for _, name := range b.journals[id] { // not every journal: there may be thousands
		if j := b.followed[name]; j != nil {
			delete(j.wfs, id)
			if len(j.wfs) == 0 && j.unknown == 0 {
				delete(b.followed, name)
			}
		}
	}
	delete(b.trees, id)
	delete(b.names, id)
	delete(b.journals, id)
	delete(b.pending, id)
}

// NameFrom keeps the workflow name in a file name of workflow wf (see
// NameIn), for when no start line says it.
func (b *Builder) NameFrom(wf, file string) {
	if _, ok := b.names[wf]; !ok {
		if name := NameIn(file, wf); name != "" {
			b.names[wf] = name
		}
	}
}

// Workflows returns the IDs of the workflows seen, in the order they
// started (UUIDv7 IDs sort by time).
func (b *Builder) Workflows() []string {
	return slices.Sorted(maps.Keys(b.trees))
}

// Name returns the name of workflow id.
func (b *Builder) Name(id string) string {
	if t := b.trees[id]; t != nil && t.nodes[id].started {
		return t.nodes[id].name
	}
	return b.names[id]
}

// FileName returns the name of the tree file of workflow id, as the
// handler names it.
func (b *Builder) FileName(id string) string {
	return TreeFileName(b.Name(id), id)
}

// Journal returns the name of the first journal read that holds
// workflow id, or "".
func (b *Builder) Journal(id string) string {
	if j := b.journals[id]; len(j) > 0 {
		return j[0]
	}
	return ""
}

// Journals returns the names of the journals read that hold workflow id,
// in the order read.
func (b *Builder) Journals(id string) []string { return b.journals[id] }

// Tree returns the tree of workflow id, or nil.
func (b *Builder) Tree(id string) *Tree { return b.trees[id] }

// JSON returns the tree of workflow id as a tree file holds it. Scopes
// that never ended are incomplete, open until the last event seen. A
// workflow whose start no journal holds has the name of its journals.
func (b *Builder) JSON(id string) []byte {
	return b.appendJSON(id, true)
}

// LiveJSON returns the tree of workflow id as the running handler's tree
// file holds it: scopes that have not ended yet are running.
func (b *Builder) LiveJSON(id string) []byte {
	return b.appendJSON(id, false)
}

// WriteJSON writes what JSON returns to w, a part at a time.
func (b *Builder) WriteJSON(w io.Writer, id string) error {
	t := b.named(id)
	if t == nil {
		return nil
	}
	return t.WriteJSON(w, true)
}

func (b *Builder) appendJSON(id string, final bool) []byte {
	t := b.named(id)
	if t == nil {
		return nil
	}
	return t.AppendJSON(nil, final)
}

// named returns the tree of workflow id, named after its journals if no
// start says its name; or nil.
func (b *Builder) named(id string) *Tree {
	t := b.trees[id]
	if t != nil {
		if root := t.nodes[id]; !root.started {
			root.name = b.names[id]
		}
	}
	return t
}
