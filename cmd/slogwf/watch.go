package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/slogwf/slogwf/internal/tree"
)

// watcher gathers the paths that inotify, through fsnotify, says changed
// in the directories that a follower watches: the directories it follows,
// and those of the files named to it.
type watcher struct {
	w       *fsnotify.Watcher
	mu      sync.Mutex
	changed map[string]bool // cleaned paths named since the last take
	lost    bool            // events were lost since the last take
	done    chan struct{}
}

func newWatcher() (*watcher, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	wa := &watcher{w: w, changed: map[string]bool{}, done: make(chan struct{})}
	go wa.gather()
	return wa, nil
}

// gather takes the events and errors of the watch until it is closed.
func (wa *watcher) gather() {
	defer close(wa.done)
	events, errs := wa.w.Events, wa.w.Errors
	for events != nil || errs != nil {
		select {
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if ev.Op == fsnotify.Chmod {
				continue
			}
			wa.mu.Lock()
			wa.changed[filepath.Clean(ev.Name)] = true
			wa.mu.Unlock()
		case _, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			// An overflow, or a read error: whatever it was, events may
			// be missing.
			wa.mu.Lock()
			wa.lost = true
			wa.mu.Unlock()
		}
	}
}

// take returns the paths named since the last take, and whether events
// were lost.
func (wa *watcher) take() (changed map[string]bool, lost bool) {
	wa.mu.Lock()
	defer wa.mu.Unlock()
	changed, lost = wa.changed, wa.lost
	wa.changed, wa.lost = map[string]bool{}, false
	return changed, lost
}

func (wa *watcher) close() {
	wa.w.Close()
	<-wa.done
}

// watching is what a follower watches, while it follows.
type watching struct {
	w         *watcher                 // nil: nothing can be watched, all is polled
	tick      *time.Ticker             //
	dirAt     map[string]string        // followed directories by the cleaned path watched
	fileAt    map[string]*followedFile // named files by cleaned path
	parents   map[string]bool          // watched directories of named files
	unwatched map[string]bool          // followed directories polled, until a watch holds
	all       bool                     // the next tick reads everything
	warned    bool                     // that a directory cannot be watched
}

// startWatching watches the directories followed and those of the files
// named, and makes the next tick read everything, since what was appended
// before the watches began is not in any event. What it cannot watch is
// polled at each tick.
func (fl *follower) startWatching() {
	ws := &watching{
		tick:      time.NewTicker(followPoll),
		dirAt:     map[string]string{},
		fileAt:    map[string]*followedFile{},
		parents:   map[string]bool{},
		unwatched: map[string]bool{},
		all:       true,
	}
	fl.watch = ws
	w, err := fl.newWatch()
	if err != nil {
		fl.warn(fmt.Errorf("cannot watch for changes (%w): looking every %v instead", err, followPoll))
		return
	}
	ws.w = w
	for _, d := range fl.dirs {
		ws.dir(fl, d)
	}
	for _, f := range fl.files {
		if f.dir != "" || f.r != nil {
			continue
		}
		p := fl.pathOf(f.name)
		ws.fileAt[p] = f
		if st, err := os.Lstat(p); err == nil && st.Mode()&fs.ModeSymlink != 0 {
			f.polled = true // its changes happen where the link leads
			continue
		}
		parent := filepath.Dir(p)
		if _, ok := ws.parents[parent]; !ok {
			ws.parents[parent] = w.w.Add(parent) == nil
		}
		f.polled = !ws.parents[parent]
	}
}

// dir watches the directory d of fl; what it cannot watch, fl polls.
func (ws *watching) dir(fl *follower, d string) {
	p := fl.pathOf(d)
	ws.dirAt[p] = d
	if ws.w == nil {
		return
	}
	if err := ws.w.w.Add(p); err != nil {
		ws.unwatched[d] = true
		if !ws.warned && !errors.Is(err, fs.ErrNotExist) {
			fl.warn(fmt.Errorf("cannot watch %s for changes (%w): looking every %v instead", d, err, followPoll))
			ws.warned = true
		}
	}
}

// stopWatching ends the watches.
func (fl *follower) stopWatching() {
	if ws := fl.watch; ws != nil {
		ws.tick.Stop()
		if ws.w != nil {
			ws.w.close()
		}
		fl.watch = nil
	}
}

// pathOf returns the cleaned path of the file or directory name.
func (fl *follower) pathOf(name string) string {
	if fl.path != nil {
		return filepath.Clean(fl.path(name))
	}
	return filepath.Clean(name)
}

// next waits for the next tick and returns the files that may have grown
// since the last: those in the events of the watch, and those that cannot
// be watched. It adds the journals that appeared in the directories
// followed. It returns false when ctx is done.
func (fl *follower) next(ctx context.Context) ([]*followedFile, bool) {
	ws := fl.watch
	select {
	case <-ctx.Done():
		return nil, false
	case <-ws.tick.C:
	}
	var changed map[string]bool
	all := ws.all || ws.w == nil
	if ws.w != nil {
		var lost bool
		changed, lost = ws.w.take()
		all = all || lost
	}
	ws.all = false
	if all {
		for _, d := range fl.dirs {
			fl.scanFollowed(d)
		}
		return slices.Clone(fl.files), true
	}

	// The files found in this round are read: what was written to them
	// before their directory was watched is in no event.
	known := fl.order
	pick := map[*followedFile]bool{}
	for p := range changed {
		if d, ok := ws.dirAt[p]; ok {
			ws.unwatched[d] = true // it was removed, or moved: watch it again
			continue
		}
		if f := ws.fileAt[p]; f != nil {
			pick[f] = true
			continue
		}
		d, ok := ws.dirAt[filepath.Dir(p)]
		switch base := filepath.Base(p); {
		case ok && filepath.Ext(base) == ".jsonl":
			if f := fl.journalIn(d, base); f != nil {
				pick[f] = true
			}
		case ok && base == tree.JournalDir && !fl.inner[d]:
			fl.scanFollowed(d) // the handler made its journal directory
		}
	}
	for d := range ws.unwatched {
		if ws.w.w.Add(fl.pathOf(d)) == nil {
			delete(ws.unwatched, d)
		}
		fl.scanFollowed(d) // after the watch, so that nothing falls between
	}
	// Lines copied into a live journal's mapping over its padding raise no
	// event.
	for _, f := range fl.files {
		if f.order > known || f.polled || f.padded || ws.unwatched[f.dir] {
			pick[f] = true
		}
	}
	// In the order found, so that a journal renamed is forgotten under its
	// old name before it is found under the new one.
	files := slices.SortedFunc(maps.Keys(pick), func(a, b *followedFile) int { return cmp.Compare(a.order, b.order) })
	return files, true
}
