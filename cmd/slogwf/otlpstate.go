package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
)

// shipState is what export -otlp -f sent of the journals of a directory to
// one endpoint: the workflows sent whole, and the scopes sent of the
// others. It is kept in a state file, rewritten whole and atomically after
// each batch sent, so that a restarted export sends no span twice. A nil
// *shipState keeps nothing.
type shipState struct {
	path     string
	endpoint string
	whole    map[string]bool            // workflow IDs
	scopes   map[string]map[string]bool // workflow ID → scope IDs
	changed  bool
}

// shipStateFile is the state file's JSON.
type shipStateFile struct {
	Endpoint string              `json:"endpoint"`
	Done     []string            `json:"done"`
	Sent     map[string][]string `json:"sent"`
}

// loadShipState reads the state file path, which a previous export to the
// traces URL endpoint wrote; a file that is not there is an empty state,
// and so is one that cannot be read as a state file, with a warning: the
// state is rewritten at the next batch sent, and what was sent before is
// sent again rather than never.
func loadShipState(path, endpoint string, warn func(error)) (*shipState, error) {
	st := &shipState{path: path, endpoint: endpoint, whole: map[string]bool{}, scopes: map[string]map[string]bool{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, err
	}
	var f shipStateFile
	if err := json.Unmarshal(data, &f); err != nil {
		warn(fmt.Errorf("%s: not a state file of slogwf export (%w): starting afresh, spans sent before may be sent again", path, err))
		return st, nil
	}
	if f.Endpoint != endpoint {
		return nil, fmt.Errorf("%s: the state of an export to %s, not %s", path, printable(f.Endpoint), printable(endpoint))
	}
	for _, id := range f.Done {
		st.whole[id] = true
	}
	for wf, ids := range f.Sent {
		st.scopes[wf] = map[string]bool{}
		for _, id := range ids {
			st.scopes[wf][id] = true
		}
	}
	return st, nil
}

// sent reports whether scope id of workflow wf was sent.
func (st *shipState) sent(wf, id string) bool { return st != nil && st.scopes[wf][id] }

func (st *shipState) markSent(wf, id string) {
	if st == nil {
		return
	}
	if st.scopes[wf] == nil {
		st.scopes[wf] = map[string]bool{}
	}
	st.scopes[wf][id] = true
	st.changed = true
}

// markDone notes workflow wf sent whole: its scopes need no keeping.
func (st *shipState) markDone(wf string) {
	if st == nil {
		return
	}
	st.whole[wf] = true
	delete(st.scopes, wf)
	st.changed = true
}

// forgetDone forgets workflow wf sent whole: its journals are gone.
func (st *shipState) forgetDone(wf string) {
	if st != nil && st.whole[wf] {
		delete(st.whole, wf)
		st.changed = true
	}
}

// forgetUnseen forgets the workflows not in seen: their journals are gone.
func (st *shipState) forgetUnseen(seen map[string]bool) {
	if st == nil {
		return
	}
	n := len(st.whole) + len(st.scopes)
	maps.DeleteFunc(st.whole, func(wf string, _ bool) bool { return !seen[wf] })
	maps.DeleteFunc(st.scopes, func(wf string, _ map[string]bool) bool { return !seen[wf] })
	st.changed = st.changed || len(st.whole)+len(st.scopes) != n
}

// save writes the state file, if the state changed, whole and atomically.
func (st *shipState) save() error {
	if st == nil || !st.changed {
		return nil
	}
	f := shipStateFile{Endpoint: st.endpoint, Done: slices.Sorted(maps.Keys(st.whole)), Sent: map[string][]string{}}
	for wf, ids := range st.scopes {
		f.Sent[wf] = slices.Sorted(maps.Keys(ids))
	}
	data, err := json.Marshal(f)
	if err != nil {
		return err
	}
	if err := replaceFile(st.path, append(data, '\n')); err != nil {
		return err
	}
	st.changed = false
	return nil
}

// shortHash returns 16 hex digits of the SHA-256 of s.
func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}
