package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/slogwf/slogwf/internal/tree"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// server is the service running in the test's process, on loopback.
type server struct {
	url, dir string
	client   *http.Client
	stop     func() error // stops it as SIGINT does, and returns run's error
}

// start runs the service on 127.0.0.1, its files in a temporary Dir, and
// asks the model at llm ("": the fake one).
func start(t *testing.T, llm string) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{url: "http://" + ln.Addr().String(), dir: t.TempDir()}
	done := make(chan error, 1)
	go func() { done <- run(ctx, ln, config{dir: s.dir, llm: llm, model: "gpt-4o-mini", console: io.Discard}) }()
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConnsPerHost = 64
	s.client = &http.Client{Transport: base}
	s.stop = sync.OnceValue(func() error { base.CloseIdleConnections(); cancel(); return <-done })
	t.Cleanup(func() { s.stop() })
	return s
}

// sent is one request of a burst, and the service's reply.
type sent struct {
	id, q  string // the request's X-Request-Id and question
	status int
	reply  reply
}

// burst sends n requests from g goroutines at once, each its own request
// ID and question, and returns them with their replies.
func (s *server) burst(t *testing.T, prefix string, n, g int) []sent {
	t.Helper()
	reqs := make([]sent, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range g {
		wg.Go(func() {
			for i := range next {
				r := &reqs[i]
				r.id, r.q = fmt.Sprintf("%s-%d", prefix, i), fmt.Sprintf("question %d", i)
				req, err := http.NewRequest(http.MethodGet, s.url+"/ask?q="+strings.ReplaceAll(r.q, " ", "+"), nil)
				if !assert.NoError(t, err) {
					continue
				}
				req.Header.Set("X-Request-Id", r.id)
				resp, err := s.client.Do(req)
				if !assert.NoError(t, err, "request %d", i) {
					continue
				}
				r.status = resp.StatusCode
				assert.NoError(t, json.NewDecoder(resp.Body).Decode(&r.reply))
				resp.Body.Close()
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return reqs
}

// treeFile is what the tests read of a tree file.
type treeFile struct {
	ID, Status string
	Attrs      map[string]string
	Usage      struct {
		LLMCalls    int     `json:"llm_calls"`
		TotalTokens int     `json:"total_tokens"`
		CostUSD     float64 `json:"cost_usd"`
	}
	Counts       struct{ Records int }
	Interactions []struct {
		Agent, Status string
		Actions       []struct{ Name, Status string }
	}
}

// logged is what a tree file and the journal say a request logged.
type logged struct {
	Attrs         map[string]string
	Status        string
	Lines         map[string]int // journal lines by event
	Records       int
	Scopes        string // agent>action
	Calls, Tokens int
	NanoUSD       int64
}

func (tf treeFile) logged(lines map[string]int) logged {
	l := logged{Attrs: tf.Attrs, Status: tf.Status, Lines: lines, Records: tf.Counts.Records,
		Calls: tf.Usage.LLMCalls, Tokens: tf.Usage.TotalTokens, NanoUSD: int64(math.Round(tf.Usage.CostUSD * 1e9))}
	for _, ia := range tf.Interactions {
		l.Scopes += ia.Agent
		for _, a := range ia.Actions {
			l.Scopes += ">" + a.Name
		}
	}
	return l
}

// readTree reads the tree file of workflow id.
func (s *server) readTree(t *testing.T, id string) (treeFile, []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.dir, "request-"+id+".json"))
	require.NoError(t, err)
	var tf treeFile
	require.NoError(t, json.Unmarshal(b, &tf))
	return tf, b
}

// waitFinal waits until the final tree of each request's workflow is on
// disk: they are written off the requests' goroutines.
func (s *server) waitFinal(t *testing.T, reqs []sent) {
	t.Helper()
	require.Eventually(t, func() bool {
		for _, r := range reqs {
			var tf treeFile
			b, err := os.ReadFile(filepath.Join(s.dir, "request-"+r.reply.Workflow+".json"))
			if err != nil || json.Unmarshal(b, &tf) != nil || tf.Status != "completed" {
				return false
			}
		}
		return true
	}, 30*time.Second, 10*time.Millisecond)
}

// heapAfterGC returns the bytes of heap in use after a collection.
func heapAfterGC() int64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// The burst: n requests from g goroutines, after a warm-up of w.
const n, g, w = 500, 32, 64

// A bounded burst of parallel requests on loopback: each is answered with
// its own workflow, whose every record is on disk in a file of its own,
// and the heap is where it was, but for the ring of ended workflows.
func TestABurstOfParallelRequests(t *testing.T) {
	s := start(t, "")
	s.waitFinal(t, s.burst(t, "warm", w, g)) // connections, pools and buffers are made once
	before := heapAfterGC()
	reqs := s.burst(t, "req", n, g)

	t.Run("every request is answered with its workflow's ID", func(t *testing.T) {
		ids := map[string]bool{}
		for i, r := range reqs {
			require.Equal(t, http.StatusOK, r.status, "request %d", i)
			assert.Equal(t, "you asked: "+r.q, r.reply.Answer)
			_, err := uuid.Parse(r.reply.Workflow)
			require.NoError(t, err, "request %d", i)
			assert.False(t, ids[r.reply.Workflow], "workflow %s answers two requests", r.reply.Workflow)
			ids[r.reply.Workflow] = true
		}
	})

	t.Run("the heap keeps no ended workflow", func(t *testing.T) {
		s.waitFinal(t, reqs) // so that the heap holds no tree on its way to the disk
		grown := heapAfterGC() - before
		// README, Running in a service: a workflow that ended keeps only a
		// small record (about 400 bytes) among the last 1,024 that ended.
		// So 1 KiB per request, and 1 MiB for the rest; trees kept (5 KiB
		// each here) would not pass.
		assert.Less(t, grown, int64(1<<20+n<<10), "bytes of heap after %d requests", n)
		t.Logf("heap after %d requests: %+d bytes (%.0f per request)", n, grown, float64(grown)/n)
	})

	require.NoError(t, s.stop(), "the service stops cleanly")

	t.Run("every record is on disk", func(t *testing.T) {
		// Replay the journal: each request's workflow has its three scopes
		// and two records, and its tree file is the journal's, byte for byte.
		b := tree.NewBuilder()
		journals, err := filepath.Glob(filepath.Join(s.dir, tree.JournalDir, "*.jsonl"))
		require.NoError(t, err)
		require.NotEmpty(t, journals)
		lines := map[string]map[string]int{} // workflow → event → lines
		for _, j := range journals {
			f, err := os.ReadFile(j)
			require.NoError(t, err)
			for line := range bytes.Lines(f) {
				var e struct{ Ev, Wf string }
				require.NoError(t, json.Unmarshal(line, &e))
				if lines[e.Wf] == nil {
					lines[e.Wf] = map[string]int{}
				}
				lines[e.Wf][e.Ev]++
				require.NoError(t, b.Add(line))
			}
		}
		assert.Len(t, b.Workflows(), w+n, "a workflow per request, no other")

		var got, want []logged
		var differ []string
		for _, r := range reqs {
			tf, file := s.readTree(t, r.reply.Workflow)
			if !bytes.Equal(b.JSON(tf.ID), file) {
				differ = append(differ, r.id)
			}
			got = append(got, tf.logged(lines[tf.ID]))
			a := len(r.reply.Answer) // what the fake model counts: 10+a tokens in, a out
			want = append(want, logged{
				Attrs: map[string]string{"method": "GET", "path": "/ask", "request_id": r.id}, Status: "completed",
				Lines: map[string]int{"start": 3, "record": 2, "end": 3}, Records: 2, Scopes: "assistant>llm.chat",
				Calls: 1, Tokens: 10 + 2*a, NanoUSD: int64(10+a)*150 + int64(a)*600,
			})
		}
		assert.Equal(t, want, got)
		assert.Empty(t, differ, "requests whose tree file is not their journal's")
	})

	t.Run("no two workflows share a file", func(t *testing.T) {
		files, err := filepath.Glob(filepath.Join(s.dir, "*"))
		require.NoError(t, err)
		held := map[string]bool{} // the IDs the files hold
		for _, f := range files {
			if filepath.Base(f) == tree.JournalDir {
				continue
			}
			var tf treeFile
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(b, &tf), f)
			assert.Equal(t, "request-"+tf.ID+".json", filepath.Base(f), "the file's name holds the whole ID")
			held[tf.ID] = true
		}
		assert.Len(t, files, 1+w+n, "the journal and a tree file per request, nothing else")
		for _, r := range reqs {
			assert.True(t, held[r.reply.Workflow], "no file holds %s", r.reply.Workflow)
		}
	})
}

// A request whose model call fails is answered with its workflow's ID and
// the error, and its tree says the workflow failed.
func TestARequestWhoseModelFailsIsAFailedWorkflow(t *testing.T) {
	down, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	require.NoError(t, down.Close()) // nothing listens there now
	s := start(t, "http://"+down.Addr().String()+"/v1")
	reqs := s.burst(t, "req", 4, 2)
	require.NoError(t, s.stop())

	for _, r := range reqs {
		assert.Equal(t, http.StatusBadGateway, r.status)
		assert.Contains(t, r.reply.Error, "connection refused")
		tf, _ := s.readTree(t, r.reply.Workflow)
		assert.Equal(t, "failed", tf.Status)
		require.Len(t, tf.Interactions, 1)
		assert.Equal(t, "failed", tf.Interactions[0].Status)
		require.Len(t, tf.Interactions[0].Actions, 1)
		assert.Equal(t, "failed", tf.Interactions[0].Actions[0].Status, "the call, as Transport logged it")
	}
}
