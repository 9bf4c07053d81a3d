package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
	"github.com/slogwf/slogwf/internal/flock"
	"github.com/slogwf/slogwf/internal/tree"
)

// serving is a slogwf serve that a test started.
type serving struct {
	url            string // http://HOST:PORT/, as serve says
	stdout, stderr *tailBuffer
	stop           func() int
}

var servingLine = regexp.MustCompile(`^serving .* on (http://\S+/) \(interrupt to stop\)\n$`)

// startServe runs slogwf serve on dir, on a free port of the loopback.
func startServe(t *testing.T, dir string) *serving {
	t.Helper()
	return startServeArgs(t, "-addr", "127.0.0.1:0", dir)
}

// startServeArgs runs slogwf serve with args, which end with its DIR.
func startServeArgs(t *testing.T, args ...string) *serving {
	t.Helper()
	stdout, stderr, stop := startCLI(t, append([]string{"serve"}, args...)...)
	var url string
	require.Eventually(t, func() bool {
		m := servingLine.FindStringSubmatch(stdout.String())
		if m != nil {
			url = m[1]
		}
		return m != nil
	}, tailWait, tailTick, "stdout: %q, stderr: %q", stdout, stderr)
	return &serving{url: url, stdout: stdout, stderr: stderr, stop: stop}
}

// sseEvent is a server-sent event.
type sseEvent struct {
	name string
	data string
}

// events reads the server-sent events of url until the test ends.
func events(t *testing.T, url string) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	ch := make(chan sseEvent)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(ch)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 64<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				ev.name = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				ev.data = line[len("data: "):]
			case line == "":
				select {
				case ch <- ev:
				case <-ctx.Done():
					return
				}
				ev = sseEvent{}
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		resp.Body.Close()
		<-done
	})
	return ch
}

// next returns the next event named name, skipping others.
func next(t *testing.T, ch <-chan sseEvent, name string) string {
	t.Helper()
	timeout := time.After(tailWait)
	for {
		select {
		case ev, ok := <-ch:
			require.True(t, ok, "the events ended")
			if ev.name == name {
				return ev.data
			}
		case <-timeout:
			t.Fatalf("no %s event", name)
		}
	}
}

// journalsOf returns the journal lines of each workflow of r, by name,
// in the order written.
func journalsOf(t *testing.T, r tailRun) map[string][]string {
	t.Helper()
	byID, names := map[string][]string{}, map[string]string{}
	for _, line := range tailLines(t, r.dir) {
		var e struct{ Ev, Wf, ID, Kind, Name string }
		require.NoError(t, json.Unmarshal([]byte(line), &e))
		byID[e.Wf] = append(byID[e.Wf], line)
		if e.Ev == "start" && e.Kind == "workflow" {
			names[e.Wf] = e.Name
		}
	}
	out := map[string][]string{}
	for id, lines := range byID {
		out[names[id]] = lines
	}
	return out
}

// listed decodes a list event.
func listed(t *testing.T, data string) []workflowSummary {
	t.Helper()
	var list []workflowSummary
	require.NoError(t, json.Unmarshal([]byte(data), &list))
	return list
}

// A running workflow comes first, then the others newest first; the
// events of a workflow carry its tree as slogwf build makes it, and its
// tables, again at each change of its journals.
func TestServeSendsTheWorkflowsAndTheirChangesAsEvents(t *testing.T) {
	r := writeTailJournals(t, slogwf.ColorNever, true)
	journals := journalsOf(t, r)
	research, other := journals["research"], journals["other"]
	dir := t.TempDir()
	live := filepath.Join(dir, segment(0))
	tailWrite(t, live, strings.Join(research[:3], ""))
	tailWrite(t, filepath.Join(dir, segment(1)), strings.Join(other, ""))
	s := startServe(t, dir)

	ch := events(t, s.url+"events?wf="+r.wf)
	list := listed(t, next(t, ch, "list"))
	require.Len(t, list, 2)
	assert.Equal(t, workflowSummary{ID: r.wf, Name: "research", Status: "running", Start: list[0].Start}, list[0], "running first")
	assert.Equal(t, "other", list[1].Name)
	assert.Equal(t, "completed", list[1].Status)

	var doc struct {
		Tree  treeNode
		Stats map[string]reportTable
	}
	require.NoError(t, json.Unmarshal([]byte(next(t, ch, "workflow")), &doc))
	assert.Equal(t, "running", doc.Tree.Status)
	require.Len(t, doc.Tree.Iterations, 1)
	assert.Equal(t, "planner", doc.Tree.Iterations[0].Interactions[0].Agent)

	// The rest of the journal, in two writes: the page gets the whole
	// workflow, as build makes it.
	half := len(research) / 2
	tailAppend(t, live, strings.Join(research[3:half], ""))
	tailAppend(t, live, strings.Join(research[half:], ""))
	code, built, stderr := runCLI(t, "build", "-o", "-", live)
	require.Equal(t, 0, code, stderr)
	var tree string
	status := func() string {
		for _, w := range list {
			if w.ID == r.wf {
				return w.Status
			}
		}
		return ""
	}
	for list = nil; tree != built || status() != "completed"; {
		select {
		case ev := <-ch:
			switch ev.name {
			case "list":
				list = listed(t, ev.data)
			case "workflow":
				var got struct{ Tree json.RawMessage }
				require.NoError(t, json.Unmarshal([]byte(ev.data), &got))
				tree = string(got.Tree)
			}
		case <-time.After(tailWait):
			require.Equal(t, built, tree, "the tree of the whole journal")
			require.Equal(t, "completed", status(), "the list")
		}
	}
	assert.Equal(t, []string{"other", "research"}, []string{list[0].Name, list[1].Name}, "newest first once none runs")
	assert.Empty(t, s.stderr.String())
	assert.Equal(t, 0, s.stop())
}

// serve answers GET and HEAD of its page and events only, with its
// headers on every answer and no CORS header, and to loopback names only.
func TestServeIsReadOnlyAndSendsItsPolicy(t *testing.T) {
	s := startServe(t, t.TempDir())
	port := strings.TrimSuffix(s.url[strings.LastIndex(s.url, ":")+1:], "/")
	tests := []struct {
		method, path, host string
		code               int
	}{
		{"GET", "/", "", http.StatusOK},
		{"HEAD", "/", "", http.StatusOK},
		{"GET", "/", "localhost:" + port, http.StatusOK},
		{"GET", "/", "[::1]:" + port, http.StatusOK},
		{"POST", "/", "", http.StatusMethodNotAllowed},
		{"PUT", "/events", "", http.StatusMethodNotAllowed},
		{"DELETE", "/", "", http.StatusMethodNotAllowed},
		{"GET", "/index.html", "", http.StatusNotFound},
		{"GET", "/" + segment(0), "", http.StatusNotFound},
		{"GET", "/%2e%2e/%2e%2e/etc/passwd", "", http.StatusNotFound},
		{"GET", "/", "evil.example:" + port, http.StatusMisdirectedRequest},
		{"GET", "/events", "evil.example", http.StatusMisdirectedRequest},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path+" "+tt.host, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, strings.TrimSuffix(s.url, "/")+tt.path, nil)
			require.NoError(t, err)
			if tt.host != "" {
				req.Host = tt.host
			}
			req.Header.Set("Origin", "http://evil.example")
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := client.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tt.code, resp.StatusCode)
			assert.Equal(t, livePage.csp+"; frame-ancestors 'none'", resp.Header.Get("Content-Security-Policy"))
			assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
			for k := range resp.Header {
				assert.False(t, strings.HasPrefix(k, "Access-Control-"), "CORS header %s", k)
			}
			if tt.code == http.StatusOK {
				assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
			}
		})
	}
	assert.Equal(t, 0, s.stop())
}

// Nothing outside DIR is read, not even through a symbolic link in it.
func TestServeReadsNothingOutsideItsDirectory(t *testing.T) {
	r := writeTailJournals(t, slogwf.ColorNever, true)
	journals := journalsOf(t, r)
	outside := filepath.Join(t.TempDir(), "secret.jsonl")
	tailWrite(t, outside, strings.Join(journals["research"], ""))
	dir := t.TempDir()
	tailWrite(t, filepath.Join(dir, segment(0)), strings.Join(journals["other"], ""))
	link, relative := segment(1), segment(2)
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, link)))
	require.NoError(t, os.Symlink("../"+filepath.Base(filepath.Dir(outside))+"/secret.jsonl", filepath.Join(dir, relative)))

	s := startServe(t, dir)
	list := listed(t, next(t, events(t, s.url+"events?wf="+r.wf), "list"))
	require.Len(t, list, 1)
	assert.Equal(t, "other", list[0].Name)
	assert.Contains(t, s.stderr.String(), "slogwf serve: ")
	assert.Contains(t, s.stderr.String(), link)
	assert.Contains(t, s.stderr.String(), relative)
	assert.Equal(t, 0, s.stop())
}

func TestServeSaysInOneLineThatTheAddressIsTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	code, stdout, stderr := runCLI(t, "serve", "-addr", ln.Addr().String(), t.TempDir())
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Equal(t, "slogwf serve: "+ln.Addr().String()+" is in use by another program: choose another address with -addr\n", stderr)
}

// Without -addr, serve listens on 127.0.0.1:7777 (or says that another
// program took that address), and does not warn.
func TestServeListensOnLoopbackByDefault(t *testing.T) {
	code, help, _ := runCLI(t, "serve", "-h")
	assert.Equal(t, 0, code)
	assert.Contains(t, help, `listen on HOST:PORT (default "127.0.0.1:7777")`)

	stdout, stderr, stop := startCLI(t, "serve", t.TempDir())
	require.Eventually(t, func() bool { return stdout.String() != "" || stderr.String() != "" }, tailWait, tailTick)
	if strings.Contains(stderr.String(), "in use") { // another test, or another program
		assert.Equal(t, 1, stop())
		assert.Equal(t, "slogwf serve: 127.0.0.1:7777 is in use by another program: choose another address with -addr\n", stderr.String())
		return
	}
	m := servingLine.FindStringSubmatch(stdout.String())
	require.NotNil(t, m, stdout.String())
	assert.Equal(t, "http://127.0.0.1:7777/", m[1])
	assert.Equal(t, 0, stop())
	assert.Empty(t, stderr.String())
}

// serve answers only requests addressed to the host it listens on, to a
// loopback name or address, or to a name given with -host, wherever it
// listens: a site that points a name of its own at the server (DNS
// rebinding) cannot read the logs. It warns, in one line, when it listens
// beyond loopback.
func TestServeAnswersOnlyRequestsAddressedToItsHost(t *testing.T) {
	var ours string // an address of this machine beyond loopback
	as, err := net.InterfaceAddrs()
	require.NoError(t, err)
	for _, a := range as {
		if ip := a.(*net.IPNet).IP; !ip.IsLoopback() && ip.To4() != nil {
			ours = ip.String()
		}
	}
	type hostCase struct {
		addr     string
		loopback bool
		hosts    map[string]int // Host header → status code
	}
	tests := []hostCase{
		{"127.0.0.1:0", true, map[string]int{
			"localhost": 200, "127.0.0.1": 200, "[::1]": 200,
			"box.example": 421, "evil.example": 421, "203.0.113.9": 421,
		}},
		{"0.0.0.0:0", false, map[string]int{
			"localhost": 200, "LOCALHOST.": 200, "127.0.0.1": 200, "[::1]": 200,
			"box.example": 200, "Box.Example.": 200,
			"evil.example": 421, "box.example.evil.example": 421, "203.0.113.9": 421,
		}},
	}
	if ours != "" {
		tests[1].hosts[ours] = 200
		tests = append(tests, hostCase{ours + ":0", false, map[string]int{ours: 200, "box.example": 200, "evil.example": 421, "203.0.113.9": 421}})
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			args := []string{"-addr", tt.addr, t.TempDir()}
			if !tt.loopback {
				args = append([]string{"-host", "box.example"}, args...)
			}
			s := startServeArgs(t, args...)
			_, port, err := net.SplitHostPort(strings.TrimSuffix(strings.TrimPrefix(s.url, "http://"), "/"))
			require.NoError(t, err)
			dial := "http://" + net.JoinHostPort(strings.TrimSuffix(tt.addr, ":0"), port) + "/"
			if tt.addr == "0.0.0.0:0" {
				dial = "http://127.0.0.1:" + port + "/"
			}
			for host, code := range tt.hosts {
				for _, h := range []string{host, host + ":" + port} {
					req, err := http.NewRequest("GET", dial, nil)
					require.NoError(t, err)
					req.Host = h
					resp, err := http.DefaultClient.Do(req)
					require.NoError(t, err)
					resp.Body.Close()
					assert.Equal(t, code, resp.StatusCode, "Host: %s", h)
				}
			}
			assert.Equal(t, 0, s.stop())
			if tt.loopback {
				assert.Empty(t, s.stderr.String())
			} else {
				assert.Regexp(t, `^slogwf serve: \S+ is not the loopback interface: whoever reaches it can read the logs\n$`, s.stderr.String())
			}
		})
	}
}

func TestServeErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no dir", nil, 2, "no DIR"},
		{"two dirs", []string{"a", "b"}, 2, "one DIR only"},
		{"missing dir", []string{filepath.Join(t.TempDir(), "missing")}, 1, "missing"},
		{"bad address", []string{"-addr", "nowhere:-1", t.TempDir()}, 1, "nowhere:-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append([]string{"serve"}, tt.args...)...)
			assert.Equal(t, tt.code, code)
			assert.Empty(t, stdout)
			assert.Equal(t, 1, strings.Count(stderr, "\n"), stderr)
			assert.Contains(t, stderr, tt.want)
		})
	}
}

// An interrupt stops serve at once, with nothing on stderr and exit code
// 0, while a page listens to its events.
func TestServeStopsCleanlyOnInterrupt(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	args, err := json.Marshal([]string{"serve", "-addr", "127.0.0.1:0", t.TempDir()})
	require.NoError(t, err)
	cmd.Env = append(os.Environ(), runEnv+"="+string(args))
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	m := servingLine.FindStringSubmatch(line)
	require.NotNil(t, m, line)
	ch := events(t, m[1]+"events")
	next(t, ch, "list")

	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		assert.NoError(t, err, "exit code 0")
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatal("serve did not stop at SIGINT")
	}
	assert.Empty(t, stderr.String())
	for range ch { // the events end with the server
	}
}

// The page of serve shows a workflow as its journal grows, without a
// reload, and keeps the row selected.
func TestServeUpdatesThePageAsTheJournalGrows(t *testing.T) {
	r := writeTailJournals(t, slogwf.ColorNever, false)
	research := journalsOf(t, r)["research"]
	dir := t.TempDir()
	live := filepath.Join(dir, segment(0))
	tailWrite(t, live, strings.Join(research[:3], ""))
	s := startServe(t, dir)

	p := openPage(t, s.url)
	p.wait(`document.querySelectorAll('#rows .row:not([hidden])').length === 3`)
	assert.Equal(t, "▶", p.str(`document.getElementById('wf-status').textContent`), "running")
	planner := p.rows()[2]
	p.clickRow(planner)
	p.eval(`window.__sameDocument = true`, nil)
	updates := p.num(`Number(document.documentElement.dataset.updates)`)

	tailAppend(t, live, strings.Join(research[3:], ""))
	code, built, stderr := runCLI(t, "build", "-o", "-", live)
	require.Equal(t, 0, code, stderr)
	p.wait(`document.getElementById('wf-status').textContent === '✔'`)
	assert.Equal(t, ids(reportNodes(decodeBuilt(t, built)), func(reportNode) bool { return true }), p.rows())
	assert.Greater(t, p.num(`Number(document.documentElement.dataset.updates)`), updates)
	assert.Equal(t, "boolean", p.str(`typeof window.__sameDocument`), "no reload")
	assert.Equal(t, planner, p.str(jsSelected), "the selection stays")
	assert.Contains(t, p.str(jsDetails), "fly, then walk", "the details follow")
	p.noConsoleErrors()
	assert.Equal(t, 0, s.stop())
}

// decodeBuilt decodes a tree that slogwf build wrote.
func decodeBuilt(t *testing.T, data string) *treeNode {
	t.Helper()
	var root treeNode
	require.NoError(t, json.Unmarshal([]byte(data), &root))
	return &root
}

// A tree file whose journals are gone shows as it is; a JSON file that is
// not a tree file is reported and skipped.
func TestServeShowsTreeFilesWithoutJournals(t *testing.T) {
	tree := runDemoDir(t)
	data, err := os.ReadFile(tree)
	require.NoError(t, err)
	root := readTree(t, tree)
	dir := t.TempDir()
	tailWrite(t, filepath.Join(dir, filepath.Base(tree)), string(data))
	tailWrite(t, filepath.Join(dir, "trace.json"), `{"traceEvents":[]}`)

	s := startServe(t, dir)
	ch := events(t, s.url+"events?wf="+root.ID)
	list := listed(t, next(t, ch, "list"))
	assert.Equal(t, []workflowSummary{{ID: root.ID, Name: "research", Status: "completed", Start: root.Start}}, list)
	var doc struct{ Tree json.RawMessage }
	require.NoError(t, json.Unmarshal([]byte(next(t, ch, "workflow")), &doc))
	assert.JSONEq(t, string(data), string(doc.Tree))
	assert.Equal(t, "slogwf serve: trace.json: not a slogwf.tree/v1 tree file, skipped\n", s.stderr.String())
	assert.Equal(t, 0, s.stop())
}

// A workflow whose journals here lack its start line (those of a child
// process) is named after their file name when it holds the name (the
// earlier layout), as slogwf build names it.
func TestServeNamesAWorkflowWithoutItsStartAfterItsJournals(t *testing.T) {
	r := writeTailJournals(t, slogwf.ColorNever, false)
	lines := journalsOf(t, r)["research"]
	require.Contains(t, lines[0], `"ev":"start","wf":"`+r.wf+`","id":"`+r.wf+`"`)
	dir := t.TempDir()
	// A journal of the earlier layout, one per workflow, names it.
	tailWrite(t, filepath.Join(dir, "research-"+r.wf[len(r.wf)-8:]+".4242.jsonl"), strings.Join(lines[1:], ""))

	code, built, stderr := runCLI(t, "build", "-o", "-", dir)
	require.Equal(t, 0, code, stderr)
	require.Equal(t, "research", decodeBuilt(t, built).Name)
	s := startServe(t, dir)
	list := listed(t, next(t, events(t, s.url+"events"), "list"))
	require.Len(t, list, 1)
	assert.Equal(t, "research", list[0].Name)
	assert.Equal(t, 0, s.stop())
}

// serve shows a tree file, not its journals, when they hold less of its
// workflow than it does, as build keeps it: its start, its end or records
// gone with the segments that held them.
func TestServeShowsATreeFileThatHoldsMoreThanItsJournals(t *testing.T) {
	for _, tt := range []struct {
		name string
		cut  func(t *testing.T, dir string, s spread)
	}{
		{"retention removed the segments before its late record's", func(t *testing.T, dir string, s spread) { pruneBeforeLate(t, dir, s) }},
		{"the segment with its end was removed", func(t *testing.T, _ string, s spread) { require.NoError(t, os.Remove(s.end)) }},
		{"the segment with its start was removed", func(t *testing.T, _ string, s spread) { require.NoError(t, os.Remove(s.start)) }},
		{"its end removed, its tree file's members sorted by another tool", sortAfterEndRemoved},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := logSpread(t, dir, "old")
			tt.cut(t, dir, s)
			root := decodeBuilt(t, string(s.final))

			srv := startServe(t, dir)
			ch := events(t, srv.url+"events?wf="+s.id)
			assert.Contains(t, listed(t, next(t, ch, "list")),
				workflowSummary{ID: s.id, Name: "old", Status: "completed", Start: root.Start})
			var doc struct{ Tree json.RawMessage }
			require.NoError(t, json.Unmarshal([]byte(next(t, ch, "workflow")), &doc))
			assert.JSONEq(t, string(s.final), string(doc.Tree))
			assert.Equal(t, 0, srv.stop())
		})
	}
}

// A line of a journal that is not an event counts in the loss of the
// workflow that serve shows, as in the tree that slogwf build writes.
func TestServeCountsTheLinesItSkipsAsBuildDoes(t *testing.T) {
	_, id, lines := journalOf(t)
	dir := t.TempDir()
	journal := filepath.Join(dir, segment(0))
	tailWrite(t, journal, lines[0]+"{not json}\n"+strings.Join(lines[1:], ""))
	code, built, stderr := runCLI(t, "build", "-o", "-", journal)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, built, `"loss":{"dropped":1,`)

	s := startServe(t, dir)
	var doc struct {
		Tree struct{ Loss json.RawMessage }
	}
	require.NoError(t, json.Unmarshal([]byte(next(t, events(t, s.url+"events?wf="+id), "workflow")), &doc))
	assert.JSONEq(t, `{"dropped":1,"truncated":0,"redacted":0,"clamped":0,"unwritten":0}`, string(doc.Tree.Loss))
	assert.Contains(t, s.stderr.String(), segment(0)+":2: line skipped")
	assert.Equal(t, 0, s.stop())
}

// unendedJournal writes, in a new directory, the journal segment of a
// process whose workflow "w" did not end (its interaction "a" did), last
// written an hour ago, and returns the directory, the workflow's ID and
// the segment.
func unendedJournal(t *testing.T) (dir, id, journal string) {
	t.Helper()
	_, id, lines := journalOf(t)
	dir = t.TempDir()
	journal = filepath.Join(dir, tree.JournalDir, tree.JournalName(time.Now(), 4242, 1))
	require.NoError(t, os.Mkdir(filepath.Dir(journal), 0o700))
	tailWrite(t, journal, strings.Join(lines[:len(lines)-2], "")) // all but its end
	ageJournals(t, dir)
	return dir, id, journal
}

// lockJournal locks the journal segment name, as the process that writes
// it does, until the test ends or it closes the file returned.
func lockJournal(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Open(name)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	ok, err := flock.TryLock(f)
	require.NoError(t, err)
	require.True(t, ok)
	return f
}

// liveWriter, recentWriter and deadWriter make the process that wrote
// journal, which it wrote an hour ago, live, live between two segments,
// or dead.
func liveWriter(t *testing.T, journal string) { lockJournal(t, journal) }

func recentWriter(t *testing.T, journal string) {
	require.NoError(t, os.Chtimes(journal, time.Now(), time.Now()))
}

func deadWriter(*testing.T, string) {}

// A workflow without an end is running while the process that writes its
// journal lives: it holds its newest segment locked, or wrote it lately
// (it may be between two segments). Once it died, the workflow is
// incomplete, as slogwf build makes it.
func TestServeShowsTheWorkflowOfADeadProcessIncomplete(t *testing.T) {
	for _, tt := range []struct {
		name, want string
		writer     func(t *testing.T, journal string)
	}{
		{"its process holds its journal locked", "running", liveWriter},
		{"its process wrote its journal lately", "running", recentWriter},
		{"its process died", "incomplete", deadWriter},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir, _, journal := unendedJournal(t)
			tt.writer(t, journal)
			s := startServe(t, dir)
			list := listed(t, next(t, events(t, s.url+"events"), "list"))
			require.Len(t, list, 1)
			assert.Equal(t, tt.want, list[0].Status)
			assert.Equal(t, 0, s.stop())
		})
	}
}

// A process dies without a file event: serve looks again, and tells the
// pages that the workflow it wrote is incomplete.
func TestServeTellsThePagesWhenAWorkflowsProcessDies(t *testing.T) {
	dir, _, journal := unendedJournal(t)
	f := lockJournal(t, journal)
	s := startServe(t, dir)
	ev := events(t, s.url+"events")
	require.Equal(t, "running", listed(t, next(t, ev, "list"))[0].Status)
	require.NoError(t, f.Close())
	assert.Equal(t, "incomplete", listed(t, next(t, ev, "list"))[0].Status)
	assert.Equal(t, 0, s.stop())
}

// A journal renamed is the journal its process writes (see
// follower.renamed): a workflow without an end whose process lives stays
// running, though no line of it came under the new name yet. A journal of
// the earlier layout names its process by its own name.
func TestServeKeepsTheWorkflowOfALiveJournalRenamedRunning(t *testing.T) {
	_, id, lines := journalOf(t)
	dir := t.TempDir()
	named := func(pid string) string { return filepath.Join(dir, "w-"+id[len(id)-8:]+"."+pid+".jsonl") }
	journal := named("4242")
	tailWrite(t, journal, strings.Join(lines[:len(lines)-2], "")) // all but its end
	ageJournals(t, dir)
	lockJournal(t, journal) // its process lives
	s := newTestServer(t, dir)
	status := func() string {
		s.mu.Lock()
		defer s.mu.Unlock()
		list := listed(t, string(s.list))
		require.Len(t, list, 1)
		return list[0].Status
	}
	require.Equal(t, "running", status())

	require.NoError(t, os.Rename(journal, named("4242-1")))
	s.look()
	s.look()
	s.checkWriters(time.Now())
	s.publish(true)
	assert.Equal(t, "running", status())
}

// A workflow runs only while a live process writes it. A running snapshot
// whose journal segments are gone (removed by hand, say) has no process
// to ask: it is incomplete, as slogwf build makes the snapshot a crash
// left, whatever other process writes the directory; a snapshot beside
// the journal of the live process that writes it runs.
func TestServeShowsARunningSnapshotWithoutJournalsIncomplete(t *testing.T) {
	for _, tt := range []struct {
		name, want  string
		keepJournal bool                               // the snapshot's own journal stays
		other       func(t *testing.T, journal string) // the writer of another workflow's journal, if any
	}{
		{"no journal in the directory", "incomplete", false, nil},
		{"beside a live process's journal of another workflow", "incomplete", false, liveWriter},
		{"beside the journal of its live process", "running", true, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir, id, journal := unendedJournal(t)
			data, err := os.ReadFile(journal)
			require.NoError(t, err)
			b := tree.NewBuilder()
			var started []string // no end: its interaction runs too
			for line := range strings.Lines(string(data)) {
				if !strings.Contains(line, `"ev":"end"`) {
					_, err := b.AddLine([]byte(line), journal, false)
					require.NoError(t, err)
					started = append(started, line)
				}
			}
			require.NoError(t, os.WriteFile(journal, []byte(strings.Join(started, "")), 0o600))
			ageJournals(t, dir)
			snapshot := b.LiveJSON(id)
			require.Equal(t, 2, strings.Count(string(snapshot), `"status":"running"`), "%s", snapshot)
			tailWrite(t, filepath.Join(dir, b.FileName(id)), string(snapshot))
			if tt.keepJournal {
				liveWriter(t, journal)
			} else {
				require.NoError(t, os.Remove(journal))
			}
			if tt.other != nil {
				_, _, other := unendedJournal(t)
				moved := filepath.Join(dir, tree.JournalDir, filepath.Base(other))
				require.NoError(t, os.Rename(other, moved))
				tt.other(t, moved)
			}

			s := startServe(t, dir)
			ch := events(t, s.url+"events?wf="+id)
			list := listed(t, next(t, ch, "list"))
			var status string
			for _, w := range list {
				if w.ID == id {
					status = w.Status
				}
			}
			assert.Equal(t, tt.want, status, "%+v", list)
			var doc struct{ Tree json.RawMessage }
			require.NoError(t, json.Unmarshal([]byte(next(t, ch, "workflow")), &doc))
			want := b.LiveJSON(id)
			if tt.want == "incomplete" {
				want = b.JSON(id)
			}
			assert.JSONEq(t, string(want), string(doc.Tree), "the page shows the tree as build makes it")
			assert.Equal(t, 0, s.stop())
		})
	}
}
