package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/slogwf/slogwf"
	"github.com/slogwf/slogwf/internal/flock"
	"github.com/slogwf/slogwf/internal/retention"
	"github.com/slogwf/slogwf/internal/tree"
)

const serveHelp = `usage: slogwf serve [-addr HOST:PORT] [-host NAME]... DIR

Serve shows the workflows of the journals in DIR in a browser, as slogwf
html does, live: a list of the workflows (running first, then newest),
and the one picked, which updates as its journals grow, without a reload
(server-sent events). Journals that appear in DIR later show up too. Tree
files of workflows that have no journal in DIR show as they are when
serve starts, but a running snapshot: no process writes it, so it shows
incomplete, as slogwf build makes it.

Serve listens on the loopback interface unless -addr says otherwise, and
warns when it does not. It only reads: it serves the page and the events,
nothing else, and reads nothing outside DIR (symbolic links that lead out
of it are not followed). Its responses carry a strict
Content-Security-Policy and no CORS headers, and it answers only requests
addressed to the host it listens on (localhost, a loopback address, the
address it listens on or, listening on all of them, an address of this
machine) or to a name given with -host, so that no other site can read
the logs through the browser.
It stops at an interrupt (Ctrl-C).

Example:
	slogwf serve logs
	slogwf serve -addr 127.0.0.1:8080 /var/log/agents
	slogwf serve -addr 0.0.0.0:7777 -host box.example logs

Flags:
`

// The events of a page come at most this often, so that a workflow that
// grows fast does not rebuild its tree for every line.
const serveEvery = 250 * time.Millisecond

// A process dies without a file event: serve and export -f look this
// often whether the processes that wrote the workflows without an end
// live.
const liveEvery = 2 * time.Second

// A client of the events gets this long, and the time a piece of an event
// (at most serveWritePiece bytes) takes at serveWriteRate bytes a second,
// to take each piece; one that does not is dropped (its page reconnects),
// rather than holding its goroutine and the document it waits on for
// ever. A client on a slow link that takes a big document a piece at a
// time is not: dropped, it would start again, and again.
const (
	serveWriteWait  = 10 * time.Second
	serveWriteRate  = 256 << 10
	serveWritePiece = 64 << 10
)

// runServe is the serve command.
func runServe(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", serveHelp)
	addr := fs.String("addr", "127.0.0.1:7777", "listen on `HOST:PORT`")
	var names []string
	fs.Func("host", "answer requests addressed to `NAME` too (repeatable)", func(name string) error {
		names = append(names, name)
		return nil
	})
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	switch {
	case fs.NArg() == 0:
		return usageError{errors.New("no DIR")}
	case fs.NArg() > 1:
		return usageError{fmt.Errorf("one DIR only, not %s", printable(strings.Join(fs.Args(), " ")))}
	}
	dir := fs.Arg(0)
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err // it names dir
	}
	defer root.Close()
	s := newServer(root, func(err error) { fmt.Fprintf(stderr, "slogwf serve: %s\n", message(err)) })
	if err := s.start(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("%s is in use by another program: choose another address with -addr", *addr)
	}
	if err != nil {
		return fmt.Errorf("-addr %s: %w", *addr, err)
	}
	hosts := newHostCheck(ln.Addr(), names)
	if !hosts.loopback {
		fmt.Fprintf(stderr, "slogwf serve: %s is not the loopback interface: whoever reaches it can read the logs\n", ln.Addr())
	}
	fmt.Fprintf(stdout, "serving %s on http://%s/ (interrupt to stop)\n", printable(dir), ln.Addr())
	return s.serve(ctx, ln, hosts)
}

// server holds the workflows of a directory as they grow, and serves them.
type server struct {
	root *os.Root
	warn func(error)
	fl   *follower
	// encode returns the data of the page of a workflow from its tree:
	// encodeDoc, but in tests.
	encode func(tree []byte, id string) ([]byte, error)
	// writeTime returns how long a client may take to take n bytes.
	writeTime func(n int) time.Duration
	forgot    int           // the files the follower forgot, as of the last sweep
	rootMod   time.Time     // of the directory, as of the last sweep
	docs      atomic.Uint64 // counts the docs made that differed from the one before

	mu        sync.Mutex
	b         *tree.Builder              // the journals
	files     map[string]servedFile      // the tree files, by ID (see tree)
	workflows map[string]*servedWorkflow // by ID
	dirty     map[string]bool            // workflows whose journals grew
	dead      map[string]bool            // workflows without an end whose processes all died
	checked   time.Time                  // when the processes were last looked at
	list      []byte                     // the JSON of the list of workflows
	changed   chan struct{}              // closed, and replaced, at each change
	last      time.Time                  // of the last change published
	cost      time.Duration              // of that publication
}

// servedWorkflow is a workflow as the list shows it, and its page's data
// as last asked for.
type servedWorkflow struct {
	summary workflowSummary // under server.mu
	version int             // counts its changes; under server.mu

	// Held while the page's data is made, once for all the clients.
	docMu sync.Mutex
	doc   []byte // the JSON of its reportWorkflow, as of docOf
	docOf int    // the version doc was made of
	docN  uint64 // which of the server's docs doc is
}

// workflowSummary is a workflow in the list of a page.
type workflowSummary struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
	Start  string `json:"start"`
}

func newServer(root *os.Root, warn func(error)) *server {
	s := &server{
		root:      root,
		warn:      warn,
		b:         tree.NewBuilder(),
		files:     map[string]servedFile{},
		workflows: map[string]*servedWorkflow{},
		dirty:     map[string]bool{},
		dead:      map[string]bool{},
		list:      []byte("[]"),
		changed:   make(chan struct{}),
		encode:    encodeDoc,
		writeTime: func(n int) time.Duration {
			return serveWriteWait + time.Duration(n)*time.Second/serveWriteRate
		},
	}
	s.fl = newFollower(openFound(root.OpenFile, []string{"."}, warn), s.line, warn)
	s.fl.path = func(name string) string { return filepath.Join(root.Name(), name) }
	// The builder knows a workflow's lines by the journal they were read
	// in: sweep must find them under a journal's new name.
	s.fl.renamedTo = func(from, to string) {
		s.mu.Lock()
		s.b.Renamed(from, to)
		s.mu.Unlock()
	}
	return s
}

// start reads the journals and tree files of the directory.
func (s *server) start() error {
	if err := s.fl.add("."); err != nil {
		return err
	}
	s.fl.poll() // a journal that cannot be read is reported, not fatal
	entries, err := fs.ReadDir(s.root.FS(), ".")
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") || e.IsDir() {
			continue
		}
		if st, err := s.root.Stat(e.Name()); err == nil && !st.Mode().IsRegular() {
			s.warn(notRegular{e.Name()}) // its read could wait for ever
			continue
		}
		data, err := s.root.ReadFile(e.Name())
		var head treeHead // read whole: its members in any order, as build reads it
		switch {
		case err != nil:
			s.warn(err)
		case json.Unmarshal(data, &head) != nil || head.Schema != slogwf.Schema:
			s.warn(fmt.Errorf("%s: not a %s tree file, skipped", e.Name(), slogwf.Schema))
		default:
			f := servedFile{name: e.Name(), data: data, head: head}
			if head.Status == tree.StatusRunning && len(s.b.Journals(head.ID)) == 0 {
				// No line of it in a journal here: no process writes it
				// (its start comes before its first snapshot, and
				// retention keeps the segments of a running workflow),
				// so its process died and its journals went.
				if f.data, err = finalTree(data); err != nil {
					s.warn(fmt.Errorf("%s: %w, skipped", e.Name(), err))
					continue
				}
			}
			s.files[head.ID] = f
			s.dirty[head.ID] = true
		}
	}
	s.publish(true)
	s.checkWriters(time.Now())
	s.publish(true)
	return nil
}

// finalTree returns the running snapshot data as build makes the tree of
// a workflow whose process died: its scopes still running incomplete.
func finalTree(data []byte) ([]byte, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber() // numbers as written
	var root map[string]any
	if err := d.Decode(&root); err != nil {
		return nil, err
	}
	var final func(scope map[string]any)
	final = func(scope map[string]any) {
		if scope["status"] == tree.StatusRunning {
			scope["status"] = tree.StatusIncomplete
		}
		for _, key := range []string{"iterations", "interactions", "actions"} {
			children, _ := scope[key].([]any)
			for _, c := range children {
				if c, ok := c.(map[string]any); ok {
					final(c)
				}
			}
		}
	}
	final(root)
	return json.Marshal(root)
}

// line takes a line of a journal into the builder, as build does.
func (s *server) line(f *followedFile, line []byte, torn bool) {
	s.mu.Lock()
	wf, err := s.b.AddLine(line, f.name, torn)
	if wf != "" {
		s.dirty[wf] = true
		delete(s.dead, wf) // a process writes it: looked at again
	}
	s.mu.Unlock()
	if err != nil {
		s.warn(fmt.Errorf("%s:%d: %w", f.name, f.lines, err))
	}
}

// publish brings the list up to date with the journals, and tells the
// pages. Unless now, it waits for serveEvery, and for twice the time the
// last publication took, to pass.
func (s *server) publish(now bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.dirty) == 0 || !now && time.Since(s.last) < max(serveEvery, 2*s.cost) {
		return
	}
	start := time.Now()
	for id := range s.dirty {
		tree := s.tree(id)
		if tree == nil { // its files went (see sweep), or its lines made no tree yet
			delete(s.workflows, id)
			continue
		}
		var sum workflowSummary
		if err := json.Unmarshal(tree, &sum); err != nil {
			s.warn(fmt.Errorf("workflow %s: %w", id, err))
			continue
		}
		w := s.workflows[id]
		if w == nil {
			w = &servedWorkflow{}
			s.workflows[id] = w
		}
		w.summary = sum
		w.version++
	}
	clear(s.dirty)
	sums := make([]workflowSummary, 0, len(s.workflows))
	for _, w := range s.workflows {
		sums = append(sums, w.summary)
	}
	slices.SortFunc(sums, func(a, b workflowSummary) int {
		running := func(w workflowSummary) int {
			if w.Status == string(slogwf.StatusRunning) {
				return 0
			}
			return 1
		}
		return cmp.Or(cmp.Compare(running(a), running(b)), cmp.Compare(b.Start, a.Start), cmp.Compare(a.ID, b.ID))
	})
	s.list, _ = json.Marshal(sums)
	close(s.changed)
	s.changed = make(chan struct{})
	s.last, s.cost = time.Now(), time.Since(start)
}

// servedFile is a tree file that serve read at its start.
type servedFile struct {
	name string   // in the directory
	data []byte   // made final when no journal here held its workflow
	head treeHead // as read
}

// tree returns the tree of workflow id: running while it has no end and
// a process that wrote it lives, else as build makes it; but its tree
// file while no journal here holds the workflow, or the journals hold
// less of it, as build keeps the tree file then (retention removed some
// of a finished workflow's segments, say); nil if none of these holds it.
// What it returns is not changed later. Call it with s.mu held.
func (s *server) tree(id string) []byte {
	f, ok := s.files[id]
	if ok && len(s.b.Journals(id)) == 0 {
		return f.data
	}
	render := s.b.LiveJSON
	if s.dead[id] {
		render = s.b.JSON
	}
	built := render(id)
	if ok {
		started := false
		if t := s.b.Tree(id); t != nil {
			_, started = t.Name()
		}
		h, err := headOf(bufio.NewReader(bytes.NewReader(built)))
		// A head it cannot read holds nothing to weigh: the journals show.
		if (err == nil || !started) && treeFileStands(f.head, h, started, id) {
			return f.data
		}
	}
	return built
}

// checkWriters looks whether the processes that wrote the running
// workflows live (see retention.Live), one lock taken per process, and
// marks the workflows whose processes all died dead, to be published. A
// dead workflow is looked at again once a line of it comes (see line).
// Where files are not locked, that cannot be told. Call it where the
// follower runs: it lists the files followed.
func (s *server) checkWriters(now time.Time) {
	s.checked = now
	if !flock.Supported {
		return
	}
	s.mu.Lock()
	// The journals the builder read each workflow in, under their names
	// now (see Builder.Renamed), copied: the looks take no lock of s.
	asked := map[string][]string{}
	for id, w := range s.workflows {
		if journals := s.b.Journals(id); len(journals) > 0 && w.summary.Status == string(slogwf.StatusRunning) && !s.dead[id] {
			asked[id] = slices.Clone(journals)
		}
	}
	s.mu.Unlock()
	if len(asked) == 0 {
		return
	}
	w := retention.NewWriters(s.fl.names(), s.root.Open, s.root.Stat, now)
	var dead []string
	for id, journals := range asked {
		if !slices.ContainsFunc(journals, w.Live) {
			dead = append(dead, id)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range dead {
		s.dead[id], s.dirty[id] = true, true
	}
}

// sweep drops the workflows whose files are all gone, as retention or
// slogwf prune removes them: those that no journal followed holds a line
// of, and that no tree file in the directory is of: none named as serve
// read it or as the builder names it, nor, whatever workflow name it
// says, with its ID (see tree.FileID), as build finds tree files. They
// leave the list, the builder and the memory at the next publication, so
// that a serve beside a service stays bounded. It looks again only when
// the follower forgot a journal or the directory changed (a tree file
// went) since it last looked. Call it where the follower runs: it alone
// changes the builder.
func (s *server) sweep() {
	st, err := s.root.Stat(".")
	if err != nil || s.fl.forgot == s.forgot && st.ModTime().Equal(s.rootMod) {
		return
	}
	s.forgot, s.rootMod = s.fl.forgot, st.ModTime()
	followed := map[string]bool{}
	for _, name := range s.fl.names() {
		followed[name] = true
	}
	treeFiles := map[string]string{} // of the workflows no journal followed holds, by ID
	s.mu.Lock()
	look := func(id string) {
		f, file := s.files[id]
		if !file && s.b.Tree(id) == nil || slices.ContainsFunc(s.b.Journals(id), func(j string) bool { return followed[j] }) {
			return
		}
		treeFiles[id] = cmp.Or(f.name, s.b.FileName(id))
	}
	for id := range s.workflows {
		look(id)
	}
	for id := range s.dirty { // not listed yet: publish waits
		look(id)
	}
	s.mu.Unlock()
	for id, name := range treeFiles {
		if _, err := s.root.Lstat(name); !errors.Is(err, fs.ErrNotExist) {
			delete(treeFiles, id)
		}
	}
	if len(treeFiles) > 0 { // or under another name
		ids, err := s.treeFileIDs()
		if err != nil {
			return // looked at again at the next change
		}
		maps.DeleteFunc(treeFiles, func(id, _ string) bool { return ids[tree.FileID(id)] })
	}
	if len(treeFiles) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range treeFiles {
		s.b.Remove(id)
		delete(s.files, id)
		delete(s.dead, id)
		s.dirty[id] = true // publish drops it
	}
}

// treeFileIDs returns the IDs in the names of the tree files in the
// directory (see tree.ParseTreeFile).
func (s *server) treeFileIDs() (map[string]bool, error) {
	d, err := s.root.Open(".")
	if err != nil {
		return nil, err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	for _, name := range names {
		if _, id, ok := tree.ParseTreeFile(name); ok {
			ids[id] = true
		}
	}
	return ids, nil
}

// doc returns the data of the page of workflow id as of now, and which
// doc it is: the same number while the data stays the same. It
// returns nil when there is no such workflow. The data is made once per
// change, for all the clients, and without s.mu held, but for the
// snapshot of the tree: the follower goes on meanwhile.
func (s *server) doc(id string) ([]byte, uint64) {
	s.mu.Lock()
	w := s.workflows[id]
	s.mu.Unlock()
	if w == nil {
		return nil, 0
	}
	w.docMu.Lock()
	defer w.docMu.Unlock()
	s.mu.Lock()
	if s.workflows[id] != w {
		s.mu.Unlock()
		return nil, 0 // gone since
	}
	version := w.version
	var tree []byte
	if w.doc == nil || w.docOf != version {
		tree = s.tree(id)
	}
	s.mu.Unlock()
	if tree != nil {
		doc, err := s.encode(tree, id)
		if err != nil {
			s.warn(err)
			return nil, 0
		}
		if !bytes.Equal(doc, w.doc) {
			w.doc, w.docN = doc, s.docs.Add(1)
		}
		w.docOf = version
	}
	return w.doc, w.docN
}

// encodeDoc returns the data of the page of workflow id from its tree.
func encodeDoc(tree []byte, id string) ([]byte, error) {
	rw, err := newReportWorkflow(tree, "workflow "+id)
	if err != nil {
		return nil, err
	}
	return json.Marshal(rw)
}

// serve serves the page and its events on ln, to requests that hosts
// allows, until ctx is done, while it follows the journals.
func (s *server) serve(ctx context.Context, ln net.Listener, hosts hostCheck) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	srv := &http.Server{
		Handler:           s.handler(hosts),
		ReadHeaderTimeout: 10 * time.Second,
		// The events end with ctx, so that Shutdown need not wait for them.
		BaseContext: func(net.Listener) context.Context { return ctx },
		ErrorLog:    log.New(io.Discard, "", 0),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	followed := make(chan error, 1)
	go func() {
		followed <- s.fl.follow(ctx, func() error {
			if time.Since(s.checked) >= liveEvery {
				s.checkWriters(time.Now())
				s.sweep()
			}
			s.publish(false)
			return nil
		})
	}()
	var err error
	select {
	case <-ctx.Done():
	case err = <-served:
	}
	stop()
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if serr := srv.Shutdown(shutdown); err == nil {
		err = serr
		if serveErr := <-served; !errors.Is(serveErr, http.ErrServerClosed) {
			err = errors.Join(err, serveErr)
		}
	}
	return errors.Join(err, <-followed)
}

// handler returns the handler of the page ("/") and its events
// ("/events"), for the requests that hosts allows.
func (s *server) handler(hosts hostCheck) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		livePage.write(w, reportData{Live: true})
	})
	mux.HandleFunc("GET /events", s.events)
	csp := livePage.csp + "; frame-ancestors 'none'"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		if !hosts.allows(r.Host) {
			http.Error(w, "slogwf serve: this server answers to the names of its host only (see -host)", http.StatusMisdirectedRequest)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "slogwf serve: read-only", http.StatusMethodNotAllowed)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// hostCheck holds the hosts a request may be addressed to. A page of
// another site can point a name of its own at the server's address (DNS
// rebinding), and its requests then name that host: so only names the
// server was given, and addresses, which are no other site's.
type hostCheck struct {
	loopback bool            // the server listens on loopback only
	names    map[string]bool // lower case, without a trailing dot
	addrs    map[netip.Addr]bool
}

// newHostCheck returns the check of a server that listens on addr and
// answers to names too.
func newHostCheck(addr net.Addr, names []string) hostCheck {
	c := hostCheck{names: map[string]bool{"localhost": true}, addrs: map[netip.Addr]bool{}}
	for _, n := range names {
		c.names[strings.ToLower(strings.TrimSuffix(n, "."))] = true
	}
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return c // not TCP: loopback names alone
	}
	ip := ap.Addr().Unmap().WithZone("")
	c.loopback = ip.IsLoopback()
	c.addrs[ip] = true
	if ip.IsUnspecified() { // every address of this machine
		if as, err := net.InterfaceAddrs(); err == nil {
			for _, a := range as {
				if p, err := netip.ParsePrefix(a.String()); err == nil {
					c.addrs[p.Addr().Unmap()] = true
				}
			}
		}
	}
	return c
}

// allows reports whether a request whose Host header is host is addressed
// to the server.
func (c hostCheck) allows(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if ip, err := netip.ParseAddr(host); err == nil {
		ip = ip.Unmap().WithZone("")
		return ip.IsLoopback() || c.addrs[ip]
	}
	return c.names[strings.ToLower(strings.TrimSuffix(host, "."))]
}

// events sends the list of workflows and, when the request names one
// ("?wf=ID"), its page's data, as server-sent events: now, then at each
// change, until the client or the server goes.
func (s *server) events(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	// A write that waits on a client ends when the server stops (or the
	// client goes): Shutdown waits for the handlers.
	stop := context.AfterFunc(r.Context(), func() { _ = rc.SetWriteDeadline(time.Now()) })
	defer func() {
		stop()
		// It returns once the client or the server went: the end of the
		// response, written after it, waits on neither. (AfterFunc's func
		// runs on a goroutine of its own, maybe not yet.)
		_ = rc.SetWriteDeadline(time.Now())
	}()
	pw := pacedWriter{w: w, rc: rc, ctx: r.Context(), time: s.writeTime}
	w.Header().Set("Content-Type", "text/event-stream")
	id := r.URL.Query().Get("wf")
	var sentList []byte
	var sentDoc uint64
	for {
		s.mu.Lock()
		changed, list := s.changed, s.list
		s.mu.Unlock()
		if bytes.Equal(list, sentList) {
			list = nil
		} else {
			sentList = list
		}
		var doc []byte
		if id != "" {
			if d, n := s.doc(id); d != nil && n != sentDoc {
				doc, sentDoc = d, n
			}
		}
		if list != nil || doc != nil {
			if event(pw, listEvent, list) != nil || event(pw, workflowEvent, doc) != nil || rc.Flush() != nil {
				return // the client went, or took too long
			}
		}
		select {
		case <-changed:
		case <-r.Context().Done():
			return
		}
	}
}

// pacedWriter writes to a client a piece of at most serveWritePiece bytes
// at a time, each in the time that time gives it, until ctx is done.
// Where a deadline cannot be set, the client is not dropped.
type pacedWriter struct {
	w    io.Writer
	rc   *http.ResponseController
	ctx  context.Context
	time func(n int) time.Duration
}

func (p pacedWriter) Write(b []byte) (int, error) {
	n := 0
	for len(b) > n {
		piece := b[n:min(len(b), n+serveWritePiece)]
		_ = p.rc.SetWriteDeadline(time.Now().Add(p.time(len(piece))))
		if err := p.ctx.Err(); err != nil { // done before this deadline was set
			return n, err
		}
		k, err := p.w.Write(piece)
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// The heads of the events, and their end.
var (
	listEvent     = []byte("event: list\ndata: ")
	workflowEvent = []byte("event: workflow\ndata: ")
	eventEnd      = []byte("\n\n")
)

// event writes a server-sent event, head and data, unless data is nil.
// JSON has no line breaks outside its strings, and escapes those in them,
// so data is one line. Data, shared by every client, is written as it is,
// not copied.
func event(w io.Writer, head, data []byte) error {
	if data == nil {
		return nil
	}
	for _, b := range [...][]byte{head, data, eventEnd} {
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}
