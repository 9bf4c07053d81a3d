// Package flock locks files between processes, as flock(2) does: a
// process locks the journal segment it writes, so that another process
// can tell that it is being written.
package flock
