package main

import "github.com/slogwf/slogwf/internal/retention"

// workflowWriters are the processes that wrote each workflow's lines, as
// serve and export -f follow the journals: a journal of each process, by
// process (see retention.Writer), by workflow.
type workflowWriters map[string]map[string]string

// add notes that the journal named journal holds a line of workflow wf.
func (w workflowWriters) add(wf, journal string) {
	if w[wf] == nil {
		w[wf] = map[string]string{}
	}
	w[wf][retention.Writer(journal)] = journal
}

// live reports whether a process that wrote a line of workflow wf lives,
// as live says of one of its journals.
func (w workflowWriters) live(wf string, live func(journal string) bool) bool {
	for _, journal := range w[wf] {
		if live(journal) {
			return true
		}
	}
	return false
}
