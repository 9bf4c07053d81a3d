package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
)

// listening serves the events of s on the loopback, until the test ends.
func listening(t *testing.T, s *server) *httptest.Server {
	t.Helper()
	hs := httptest.NewUnstartedServer(nil)
	hs.Config.Handler = s.handler(newHostCheck(hs.Listener.Addr(), nil))
	hs.Start()
	t.Cleanup(hs.Close)
	return hs
}

// bigWorkflow writes a journal of one workflow, of about size bytes, to a
// new directory, and returns the directory.
func bigWorkflow(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	journal := writeBigJournal(t, size, 0)
	require.NoError(t, os.Rename(journal, filepath.Join(dir, filepath.Base(journal))))
	return dir
}

// A page's data goes to each client as it was made, once: what a send
// allocates is a small part of what it sends, however many clients.
func TestServeSendsThePageDataToEachClientWithoutACopy(t *testing.T) {
	const size, clients = 4 << 20, 8
	s := newTestServer(t, bigWorkflow(t, size))
	hs := listening(t, s)
	// get reads the events up to the end of the workflow's, in a small
	// buffer, and returns how many bytes it read.
	get := func() int {
		resp, err := http.Get(hs.URL + "/events?wf=" + memWorkflow)
		require.NoError(t, err)
		defer resp.Body.Close()
		br := bufio.NewReaderSize(resp.Body, 16<<10)
		n, data := 0, false
		for {
			line, more, err := br.ReadLine()
			require.NoError(t, err)
			n += len(line)
			if data && !more {
				return n
			}
			data = data || string(line) == "event: workflow"
		}
	}
	sent := get() // the data is made once, for all
	require.Greater(t, sent, size/2)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() { assert.Equal(t, sent, get()) })
	}
	wg.Wait()
	runtime.ReadMemStats(&after)
	perSend := float64(after.TotalAlloc-before.TotalAlloc) / clients
	t.Logf("%.0f bytes allocated per send of %d bytes", perSend, sent)
	assert.Less(t, perSend, float64(sent)/8, "bytes allocated per send")
}

// eventsHandlers counts the goroutines that send events.
func eventsHandlers() int {
	var b strings.Builder
	_ = pprof.Lookup("goroutine").WriteTo(&b, 2)
	return strings.Count(b.String(), ".(*server).events(")
}

// pipeListener is a listener whose connections are net.Pipes: a write
// to one waits until the other end reads it, as to a client whose
// buffers are full.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

// dial returns the client's end of a new connection.
func (l *pipeListener) dial() net.Conn {
	server, client := net.Pipe()
	l.conns <- server
	return client
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// A client that does not read what it is sent is dropped once its time
// to take it is up: it does not hold a goroutine, and the data it waits
// on, for ever.
func TestServeDropsAClientThatDoesNotRead(t *testing.T) {
	dir := t.TempDir()
	ids, _ := twoWorkflows(t, dir, 0, false)
	s := newTestServer(t, dir)
	writing := make(chan struct{}, 100)
	s.writeTime = func(int) time.Duration {
		writing <- struct{}{}
		return 50 * time.Millisecond
	}
	l := newPipeListener()
	hs := &http.Server{Handler: s.handler(newHostCheck(l.Addr(), nil))}
	go func() { _ = hs.Serve(l) }()
	t.Cleanup(func() { hs.Close() })
	handlers := eventsHandlers()

	const clients = 4
	var conns []net.Conn
	for range clients {
		c := l.dial()
		t.Cleanup(func() { c.Close() })
		// The request goes whole into the server's buffer: it reads it.
		_, err := io.WriteString(c, "GET /events?wf="+ids["research"]+" HTTP/1.1\r\nHost: localhost\r\n\r\n")
		require.NoError(t, err)
		conns = append(conns, c)
	}
	for range clients {
		select {
		case <-writing:
		case <-time.After(tailWait):
			t.Fatal("no client was sent anything")
		}
	}
	require.Eventually(t, func() bool { return eventsHandlers() == handlers }, tailWait, tailTick,
		"goroutines sending events to clients that do not read")
	for _, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(tailWait)) // fails if closed already
		_, err := c.Read(make([]byte, 1))
		assert.ErrorIs(t, err, io.EOF, "the server closed the connection")
	}
}

// The data of a page is made without holding the server's lock, but for
// the snapshot of the tree: the follower goes on meanwhile. It is made
// once for all the clients that ask at the same time.
func TestServeMakesThePageDataWithoutHoldingTheFollower(t *testing.T) {
	dir := t.TempDir()
	ids, _ := twoWorkflows(t, dir, 0, false)
	s := newTestServer(t, dir)
	encoding, release := make(chan struct{}), make(chan struct{})
	var encodes atomic.Int32
	s.encode = func(tree []byte, id string) ([]byte, error) {
		if encodes.Add(1) == 1 {
			close(encoding)
		}
		<-release
		return encodeDoc(tree, id)
	}
	const clients = 4
	docs := make(chan []byte, clients)
	for range clients {
		go func() {
			doc, _ := s.doc(ids["research"])
			docs <- doc
		}()
	}
	<-encoding
	locked := s.mu.TryLock()
	if locked {
		s.mu.Unlock()
	}
	close(release)
	assert.True(t, locked, "the lock is free while the data is made")
	first := <-docs
	require.NotNil(t, first)
	for range clients - 1 {
		assert.Same(t, &first[0], &(<-docs)[0], "one data for all")
	}
	assert.Equal(t, int32(1), encodes.Load(), "data made")
}

// A client gets a workflow's data again only when it changed: a change
// that leaves it as it was sends nothing.
func TestServeSendsThePageDataOnlyWhenItChanged(t *testing.T) {
	r := writeTailJournals(t, slogwf.ColorNever, true)
	journals := journalsOf(t, r)
	research, other := journals["research"], journals["other"]
	dir := t.TempDir()
	live := filepath.Join(dir, segment(0))
	tailWrite(t, live, strings.Join(research[:3], ""))
	s := newTestServer(t, dir)
	hs := listening(t, s)
	ch := events(t, hs.URL+"/events?wf="+r.wf)
	require.Len(t, listed(t, next(t, ch, "list")), 1)
	first := next(t, ch, "workflow")

	// Its process looked at, say: the workflow is published again as it
	// was, with the list, which changed.
	tailWrite(t, filepath.Join(dir, segment(1)), strings.Join(other, ""))
	s.mu.Lock()
	s.dirty[r.wf] = true
	s.mu.Unlock()
	s.look()
	require.Len(t, listed(t, next(t, ch, "list")), 2)

	tailAppend(t, live, strings.Join(research[3:], ""))
	s.look()
	assert.NotEqual(t, first, next(t, ch, "workflow"), "sent again as it was")
}

// A server told to stop returns, without an error, though clients that
// do not read what they are sent are connected: their writes end with it.
func TestServeStopsWithClientsThatDoNotRead(t *testing.T) {
	dir := t.TempDir()
	ids, _ := twoWorkflows(t, dir, 0, false)
	s := newTestServer(t, dir)
	writing := make(chan struct{}, 100)
	writeTime := s.writeTime
	s.writeTime = func(n int) time.Duration {
		writing <- struct{}{}
		return writeTime(n)
	}
	l := newPipeListener()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- s.serve(ctx, l, newHostCheck(l.Addr(), nil)) }()
	const clients = 4
	for range clients {
		c := l.dial()
		t.Cleanup(func() { c.Close() })
		_, err := io.WriteString(c, "GET /events?wf="+ids["research"]+" HTTP/1.1\r\nHost: localhost\r\n\r\n")
		require.NoError(t, err)
	}
	for range clients {
		select {
		case <-writing:
		case <-time.After(tailWait):
			t.Fatal("no client was sent anything")
		}
	}
	cancel()
	select {
	case err := <-served:
		assert.NoError(t, err)
	case <-time.After(tailWait):
		t.Fatal("serve did not return")
	}
}

// smallBuffers is a listener whose connections buffer little of what is
// written to them, so that a write waits on the client.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(16 << 10)
	}
	return c, err
}

// slowReader reads at most 16 KiB at a time, 10 ms apart: a client on a
// slow link, that takes all it is sent.
type slowReader struct{ r io.Reader }

func (s slowReader) Read(p []byte) (int, error) {
	time.Sleep(10 * time.Millisecond)
	return s.r.Read(p[:min(len(p), 16<<10)])
}

// A client that takes a big document slower than the time it is given for
// the whole, but takes each part of it well in time, gets it whole: it
// is not dropped, to reconnect and start again for ever.
func TestServeSendsABigDocumentWholeToASlowClientThatReads(t *testing.T) {
	const size = 4 << 20
	s := newTestServer(t, bigWorkflow(t, size))
	s.writeTime = func(int) time.Duration { return time.Second }
	hs := httptest.NewUnstartedServer(s.handler(hostCheck{names: map[string]bool{"localhost": true}}))
	hs.Listener = smallBuffers{hs.Listener}
	hs.Start()
	t.Cleanup(hs.Close)

	c, err := net.Dial("tcp", hs.Listener.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.(*net.TCPConn).SetReadBuffer(16<<10))
	_, err = io.WriteString(c, "GET /events?wf="+memWorkflow+" HTTP/1.1\r\nHost: localhost\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(slowReader{c}), nil)
	require.NoError(t, err) // its body, which does not end, goes with c
	br := bufio.NewReaderSize(resp.Body, 64<<10)
	workflow := false
	for {
		line, err := br.ReadString('\n')
		require.NoError(t, err, "read %d bytes of a line", len(line))
		if workflow {
			assert.Greater(t, len(line), size/2)
			assert.True(t, json.Valid([]byte(strings.TrimPrefix(line, "data: "))), "the document is whole")
			return
		}
		workflow = line == "event: workflow\n"
	}
}
