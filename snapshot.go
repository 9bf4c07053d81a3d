package slogwf

import (
	"container/heap"
	"sync"
	"time"
)

// Snapshots of running workflows are paced per process: one goroutine
// writes them one at a time, each workflow's at most once per
// SnapshotInterval, and all of them together at most 1/share of the time,
// so that many large running workflows cost a bounded share of the
// machine, and a long run stays linear.
const share = 20

// pacer decides which snapshot comes next, and when. It holds no clock:
// the times are given, so that a test can give its own.
type pacer struct {
	queue dueQueue
	next  time.Time // no snapshot starts before: the budget of time
}

// add queues a snapshot of f, due at due.
func (p *pacer) add(f *flow, due time.Time) { heap.Push(&p.queue, dueFlow{f, due}) }

// remove takes the snapshot of f out of the queue, if it is there.
func (p *pacer) remove(f *flow) {
	if i := f.queuedAt; i >= 0 && i < len(p.queue) && p.queue[i].f == f {
		heap.Remove(&p.queue, i)
	}
}

// take returns the snapshot to write at now, or nil and how long to wait
// for the next one; nil and 0 when none is queued.
func (p *pacer) take(now time.Time) (*flow, time.Duration) {
	if len(p.queue) == 0 {
		return nil, 0
	}
	at := p.queue[0].due
	if p.next.After(at) {
		at = p.next
	}
	if wait := at.Sub(now); wait > 0 {
		return nil, wait
	}
	return heap.Pop(&p.queue).(dueFlow).f, 0
}

// done notes that a snapshot took from start to end: the next waits
// share-1 times as long.
func (p *pacer) done(start, end time.Time) {
	p.next = end.Add((share - 1) * end.Sub(start))
}

// dueFlow is a snapshot due at a time.
type dueFlow struct {
	f   *flow
	due time.Time
}

// dueQueue is a heap of snapshots, the earliest due first. Each flow
// knows its place in it (flow.queuedAt), so that it leaves it as it ends.
type dueQueue []dueFlow

func (q dueQueue) Len() int           { return len(q) }
func (q dueQueue) Less(i, j int) bool { return q[i].due.Before(q[j].due) }
func (q dueQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].f.queuedAt, q[j].f.queuedAt = i, j
}

func (q *dueQueue) Push(x any) {
	d := x.(dueFlow)
	d.f.queuedAt = len(*q)
	*q = append(*q, d)
}

func (q *dueQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	old[len(old)-1] = dueFlow{}
	*q = old[:len(old)-1]
	x.f.queuedAt = -1
	return x
}

// snapshots writes the snapshots the pacer decides: a goroutine runs
// while one is due, and a timer starts it again when the next is.
type snapshots struct {
	mu      sync.Mutex
	pace    pacer
	timer   *time.Timer
	running bool
	stopped bool
	idle    sync.WaitGroup // the goroutine
}

// add queues a snapshot of f, due at due.
func (s *snapshots) add(f *flow, due time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	// A timer set for the head of the queue comes in time for a later one.
	later := len(s.pace.queue) > 0 && !due.Before(s.pace.queue[0].due)
	s.pace.add(f, due)
	if s.timer == nil || !later {
		s.wake()
	}
}

// wake starts the goroutine, unless it runs or a timer will; the lock is
// held.
func (s *snapshots) wake() {
	if s.running || s.stopped {
		return
	}
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	s.running = true
	s.idle.Add(1)
	go s.run()
}

func (s *snapshots) run() {
	defer s.idle.Done()
	for {
		s.mu.Lock()
		f, wait := s.pace.take(time.Now())
		if f == nil || s.stopped {
			s.running = false
			if wait > 0 && !s.stopped {
				s.timer = time.AfterFunc(wait, func() {
					s.mu.Lock()
					defer s.mu.Unlock()
					s.timer = nil
					s.wake()
				})
			}
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		start := time.Now()
		f.snapshot()
		s.mu.Lock()
		s.pace.done(start, time.Now())
		s.mu.Unlock()
	}
}

// remove takes the snapshot of f, which ended, out of the queue.
func (s *snapshots) remove(f *flow) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pace.remove(f)
}

// stop stops the snapshots, and waits for the one being written.
func (s *snapshots) stop() {
	s.mu.Lock()
	s.stopped = true
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	s.pace = pacer{}
	s.mu.Unlock()
	s.idle.Wait()
}
