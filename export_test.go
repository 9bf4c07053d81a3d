package slogwf

// WaitTrees waits until the final trees of the workflows that ended are
// written, and the trees that late records wait for are rebuilt.
func (h *Handler) WaitTrees() {
	h.sink.owners.Wait()
	h.sink.rebuilds.drain()
}
