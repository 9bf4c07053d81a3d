package slogwf

import (
	"fmt"
	"path"
	"sync"
	"time"

	"github.com/slogwf/slogwf/internal/retention"
)

// retainer applies Options.MaxAge and MaxBytes to Dir (see
// internal/retention): at New, then every period, off the callers'
// goroutines.
type retainer struct {
	s      *sink
	policy retention.Policy
	period time.Duration
	pruner retention.Pruner

	mu      sync.Mutex
	timer   *time.Timer
	stopped bool
	idle    sync.WaitGroup // the timer's goroutine
}

// newRetainer prunes Dir by o, and returns the retainer that goes on
// doing it.
func newRetainer(s *sink, o *Options) *retainer {
	r := &retainer{s: s, policy: retention.Policy{MaxAge: o.MaxAge, MaxBytes: o.MaxBytes}}
	// Often enough that files outlive MaxAge by a sixteenth at most, and
	// between once a minute and once an hour.
	r.period = time.Minute
	if o.MaxAge > 0 {
		r.period = min(max(o.MaxAge/16, time.Minute), time.Hour)
	}
	r.pruner.Running = s.running
	r.prune()
	r.arm()
	return r
}

// arm sets the timer of the next pruning.
func (r *retainer) arm() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	r.idle.Add(1)
	r.timer = time.AfterFunc(r.period, func() {
		defer r.idle.Done()
		r.prune()
		r.arm()
	})
}

// prune removes what the policy lets go, and tells the journal which of
// its own segments went.
func (r *retainer) prune() {
	r.s.checkDir()
	root := r.s.dir.currentRoot()
	res, err := r.pruner.Prune(root, r.policy, time.Now())
	if err != nil {
		r.s.faults.report("retention", fmt.Errorf("slogwf: retention: %w", err))
	}
	for _, name := range res.Removed {
		if path.Dir(name) != "." {
			r.s.journal.forget(name)
		}
	}
}

// stop stops the pruning, and waits for one under way.
func (r *retainer) stop() {
	r.mu.Lock()
	r.stopped = true
	if r.timer != nil && r.timer.Stop() {
		r.idle.Done()
	}
	r.mu.Unlock()
	r.idle.Wait()
}

// running reports whether workflow id runs here, or ended and waits for
// its final tree or a rebuild: its files stay.
func (s *sink) running(id string) bool {
	if s.flow(id) != nil {
		return true
	}
	f := s.recent.get(id)
	if f == nil {
		return false
	}
	f.mu.Lock()
	late := f.late || f.rebuilding
	f.mu.Unlock()
	s.finals.mu.Lock()
	defer s.finals.mu.Unlock()
	return late || !f.written
}
