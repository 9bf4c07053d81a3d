package slogwf

// WaitTrees waits until the final trees of the workflows that ended are
// written, and the trees that late records wait for are rebuilt.
func (h *Handler) WaitTrees() {
	h.sink.owners.Wait()
	h.sink.rebuilds.drain()
}

// Snapshot writes the tree file of the running workflow wf now, taking in
// what child processes appended to their journals, as a snapshot due
// then would.
func (h *Handler) Snapshot(wf *Scope) {
	if f := h.sink.flow(wf.ID()); f != nil {
		h.sink.snaps.remove(f)
		f.snapshot()
	}
}
