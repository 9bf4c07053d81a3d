package main

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/slogwf/slogwf/internal/tree"
)

// workflowFlag is the help of the -workflow flags.
const workflowFlag = "only workflow `ID|NAME`: its ID or the start of it (if no other ID starts so), or its name (all the workflows of that name)"

// errNoWorkflow says that -workflow picks no workflow.
var errNoWorkflow = errors.New("no workflow")

// workflowRef is a workflow as -workflow picks it.
type workflowRef struct{ id, name string }

// pickWorkflows returns the IDs of the workflows of refs that -workflow
// want picks: the one whose ID is want; else all those named want; else
// the one whose ID starts with want, in any case. Several whose IDs start
// with want is an error, and so is none: where names the inputs in its
// message.
func pickWorkflows(want string, refs []workflowRef, where string) (map[string]bool, error) {
	matching := func(match func(workflowRef) bool) map[string]string {
		ids := map[string]string{} // ID → name
		for _, r := range refs {
			if match(r) {
				ids[r.id] = r.name
			}
		}
		return ids
	}
	picked := func(ids map[string]string) map[string]bool {
		set := map[string]bool{}
		for id := range ids {
			set[id] = true
		}
		return set
	}
	if ids := matching(func(r workflowRef) bool { return r.id == want }); len(ids) > 0 {
		return picked(ids), nil
	}
	if ids := matching(func(r workflowRef) bool { return r.name == want }); len(ids) > 0 {
		return picked(ids), nil
	}
	ids := matching(func(r workflowRef) bool { return want != "" && hasPrefixFold(r.id, want) })
	switch {
	case len(ids) == 0:
		return nil, fmt.Errorf("%w %s in %s", errNoWorkflow, printable(want), printable(where))
	case len(ids) > 1:
		sorted := slices.Sorted(maps.Keys(ids))
		var list []string
		for _, id := range sorted[:min(len(sorted), 5)] {
			list = append(list, printableName(ids[id])+" "+printable(id))
		}
		if len(sorted) > 5 {
			list = append(list, fmt.Sprintf("and %d more", len(sorted)-5))
		}
		return nil, fmt.Errorf("-workflow %s: the IDs of %d workflows start so (%s): give more of the ID",
			printable(want), len(sorted), strings.Join(list, ", "))
	}
	return picked(ids), nil
}

// hasPrefixFold reports whether s starts with prefix, in any case.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// pickInJournals picks workflows by -workflow want among those of the
// journals named (files, or DIRs: their journals), as pickWorkflows does.
// It returns the ID of the workflow picked; or named, when want names the
// workflows picked; or neither, with follow, when none is picked yet (one
// may start later), or when names holds a pipe. where names the inputs in
// messages.
func pickInJournals(want string, names []string, follow bool, where string) (id string, named bool, err error) {
	var files []string
	for _, name := range names {
		st, err := os.Stat(name)
		switch {
		case err != nil:
			return "", false, err // it names the file
		case st.Mode().IsRegular():
			files = append(files, name)
			continue
		case !st.IsDir():
			return "", false, nil // a pipe, say: it can be read only once, by what follows
		}
		found, _, err := dirJournals(name)
		if err != nil {
			return "", false, err
		}
		for _, f := range found {
			// A pipe there could keep the read waiting for ever.
			if st, err := os.Stat(f); err == nil && st.Mode().IsRegular() {
				files = append(files, f)
			}
		}
	}
	refs, err := journalRefs(files)
	if err != nil {
		return "", false, err
	}
	ids, err := pickWorkflows(want, refs, where)
	switch {
	case follow && errors.Is(err, errNoWorkflow):
		return "", false, nil
	case err != nil:
		return "", false, err
	case len(ids) > 1:
		return "", true, nil // the workflows of that name
	}
	for id := range ids {
		if !slices.ContainsFunc(refs, func(r workflowRef) bool { return r.id == id && r.name == want }) {
			return id, false, nil
		}
	}
	return "", true, nil // by its name
}

// pickTrees returns the trees of docs that -workflow want picks: all of
// them when want is "".
func pickTrees(want string, docs []treeDoc, where string) ([]treeDoc, error) {
	if want == "" {
		return docs, nil
	}
	refs := make([]workflowRef, len(docs))
	for i, t := range docs {
		refs[i] = workflowRef{t.id, t.name}
	}
	ids, err := pickWorkflows(want, refs, where)
	return slices.DeleteFunc(docs, func(t treeDoc) bool { return !ids[t.id] }), err
}

// journalRefs returns the workflows of the journals names: their IDs, and
// their names as their start lines say, or else their journals' file
// names. It decodes only start lines, and lines whose workflow
// tree.WorkflowOf cannot tell.
func journalRefs(names []string) ([]workflowRef, error) {
	named := map[string]string{}    // by the start lines
	fromFile := map[string]string{} // by the journals' names
	var ids []string
	lr := tree.NewLineReader(nil, 64<<10)
	for _, name := range names {
		err := eachLine(name, lr, func(wf string, line []byte) {
			var start *tree.Event // the line, when it may start a workflow
			if isStart := bytes.HasPrefix(line, []byte(`{"ev":"start"`)); wf == "" || isStart {
				if e, err := tree.Decode(line); err == nil {
					wf = e.Workflow
					if isStart {
						start = e
					}
				}
			}
			if wf == "" {
				return
			}
			if _, ok := fromFile[wf]; !ok {
				ids = append(ids, wf)
				fromFile[wf] = tree.NameIn(name, wf)
			}
			if start != nil && start.ID == start.Workflow {
				named[wf] = start.Name
			}
		})
		if err != nil {
			return nil, err
		}
	}
	refs := make([]workflowRef, len(ids))
	for i, id := range ids {
		name, ok := named[id]
		if !ok {
			name = fromFile[id]
		}
		refs[i] = workflowRef{id, name}
	}
	return refs, nil
}
