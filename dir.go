package slogwf

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// dirFS is how a sink writes its directory: through an os.Root, or in
// tests through one that fails on purpose.
type dirFS interface {
	openFile(name string, flag int) (journalFile, error)
	open(name string) (*os.File, error)
	rename(from, to string) error
	remove(name string) error
	mkdir(name string) error
	lstat(name string) (fs.FileInfo, error)
	syncDir() error
}

// journalFile is a file a sink writes: an *os.File.
type journalFile interface {
	io.Writer
	Sync() error
	Close() error
	Truncate(size int64) error
}

// rootFS is a dirFS through an os.Root, which keeps every file in the
// directory: no name nor planted symlink leads out of it.
type rootFS struct{ root *os.Root }

func (r rootFS) openFile(name string, flag int) (journalFile, error) {
	f, err := r.root.OpenFile(name, flag, 0o600)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (r rootFS) open(name string) (*os.File, error)     { return r.root.Open(name) }
func (r rootFS) rename(from, to string) error           { return r.root.Rename(from, to) }
func (r rootFS) remove(name string) error               { return r.root.Remove(name) }
func (r rootFS) mkdir(name string) error                { return r.root.Mkdir(name, 0o700) }
func (r rootFS) lstat(name string) (fs.FileInfo, error) { return r.root.Lstat(name) }

func (r rootFS) syncDir() error {
	d, err := r.root.Open(".")
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// directory is Dir as a sink writes it. When Dir is removed or replaced by
// another directory while the handler runs (rm -rf logs; mkdir logs), the
// directory now at its path takes the files from then on: a symbolic link
// planted there is not followed.
type directory struct {
	given  string // the path given, which tree file paths start with
	path   string // absolute
	linked bool   // Dir was a symbolic link at New: the user's, followed

	mu   sync.Mutex
	fs   dirFS
	root *os.Root
	info fs.FileInfo // of the directory root has open
	bad  string      // what was at the path instead, last time; "" if fine
}

// openDirectory creates Dir (0o700) if need be, and opens it.
func openDirectory(path string) (*directory, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("slogwf: dir %s: %w", path, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("slogwf: create dir: %w", err)
	}
	d := &directory{given: path, path: abs}
	if fi, err := os.Lstat(abs); err == nil {
		d.linked = fi.Mode()&fs.ModeSymlink != 0
	}
	if err := d.reopen(nil); err != nil {
		return nil, fmt.Errorf("slogwf: open dir: %w", err)
	}
	return d, nil
}

// reopen opens the directory at the path, which must be want when given.
func (d *directory) reopen(want fs.FileInfo) error {
	root, err := os.OpenRoot(d.path)
	if err != nil {
		return err
	}
	info, err := root.Stat(".")
	if err == nil && want != nil && !os.SameFile(info, want) {
		err = errors.New("replaced again while being opened")
	}
	if err != nil {
		root.Close()
		return err
	}
	if d.root != nil {
		d.root.Close() // files open in it stay open
	}
	d.root, d.fs, d.info = root, rootFS{root}, info
	return nil
}

// currentRoot returns the os.Root of the directory now.
func (d *directory) currentRoot() *os.Root {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.root
}

// current returns the dirFS that files go through now.
func (d *directory) current() dirFS {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.fs
}

// check reports whether Dir has moved since it was opened, and opens the
// directory now at its path if so; the error says what happened, once. A
// path that no longer holds a directory, or holds a symbolic link that was
// not there at New, leaves the files where they were.
func (d *directory) check() (moved bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	fi, err := os.Lstat(d.path)
	if err == nil && d.linked && fi.Mode()&fs.ModeSymlink != 0 {
		fi, err = os.Stat(d.path)
	}
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(d.path, 0o700); err == nil {
			fi, err = os.Lstat(d.path)
		}
	}
	bad := ""
	switch {
	case err != nil:
		bad = err.Error()
	case fi.Mode()&fs.ModeSymlink != 0:
		bad = "a symbolic link, not followed"
	case !fi.IsDir():
		bad = "not a directory"
	case os.SameFile(fi, d.info):
		d.bad = ""
		return false, nil
	default:
		if rerr := d.reopen(fi); rerr != nil {
			bad = rerr.Error()
		}
	}
	if bad == "" {
		d.bad = ""
		return true, fmt.Errorf("slogwf: dir %s was removed or replaced: files go on in the directory now there; journal lines written since are lost", d.given)
	}
	if bad == d.bad {
		return false, nil
	}
	d.bad = bad
	return false, fmt.Errorf("slogwf: dir %s was replaced: %s; files go on in the directory it was", d.given, bad)
}

// close closes the directory; files open in it stay open.
func (d *directory) close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.root.Close()
}
