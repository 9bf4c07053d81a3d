package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/slogwf/slogwf"
	"github.com/slogwf/slogwf/internal/tree"
)

const demoHelp = `usage: slogwf demo [-dir DIR] [-seed N] [-fast]

Demo runs a simulated research workflow for a few seconds: three
iterations, each with a planner and three workers in parallel that call a
model and a tool. The model is a fake OpenAI-compatible server in the
process, called through slogwf.Transport, so each call is logged as an
llm.chat action with its tokens and cost; the planner's answers stream.
One plan breaks the user's constraint (a semantic warning) and one worker
call is rate limited and retried. The console goes to stderr; the tree and
the journal are written under DIR, and the tree's path printed on stdout.
With -otlp, each scope also goes to an OpenTelemetry backend as it ends.

Example:
	slogwf demo -dir /tmp/demo-logs -seed 7
	slogwf demo -otlp http://127.0.0.1:4318

Flags:
`

// The script of the demo. The same seed gives the same tokens, costs and
// answers, whatever order the goroutines run in.
const (
	demoIterations = 3
	demoModel      = "gpt-4o-mini"
	demoTopic      = "the history of the transistor"
	demoConstraint = "free sources only"

	// The plan of this iteration breaks demoConstraint.
	semanticIteration = 2
	// The first call of this worker in this iteration is rate limited.
	failIteration, failWorker = 2, "worker-2"
	maxAttempts               = 2
)

// demoPrices are the prices of demoModel, in US dollars per million tokens.
var demoPrices = slogwf.Prices{demoModel: {Input: 0.15, Output: 0.60, CachedInput: 0.075}}

var errRateLimited = errors.New("rate limited (429)")

// worker is an agent of the demo and the tool it uses.
type worker struct{ name, tool string }

// demoWorkers returns the workers of each iteration, in plan order.
func demoWorkers() []worker {
	return []worker{{"worker-1", "search_web"}, {"worker-2", "read_file"}, {"worker-3", "run_code"}}
}

// demoLLMCalls is how many fake LLM calls the demo makes: a planner and
// the workers in each iteration, and the call that is retried.
func demoLLMCalls() int {
	return demoIterations*(1+len(demoWorkers())) + 1
}

// runDemo is the demo command.
func runDemo(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", demoHelp)
	dir := fs.String("dir", "", "write the tree and journal in `DIR` (default $SLOGWF_DIR, else \"logs\")")
	seed := fs.Uint64("seed", 1, "seed the fake LLM's latencies, tokens and answers with `N`")
	fast := fs.Bool("fast", false, "do not wait: no latency in the fake LLM and tools")
	otlp := fs.String("otlp", "", "also send each scope as it ends, as an OpenTelemetry span, to the OTLP/HTTP endpoint `URL`, such as http://127.0.0.1:4318")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %s", printable(fs.Arg(0)))}
	}
	llm, stop, err := startLLM(*seed, *fast)
	if err != nil {
		return err
	}
	defer stop()
	d := demo{seed: *seed, fast: *fast, llm: llm}
	opts := &slogwf.Options{Dir: *dir, Console: stderr, ErrorOutput: stderr, Prices: demoPrices}
	if *otlp != "" {
		x, err := liveExporter(ctx, *otlp, stderr)
		if err != nil {
			return err
		}
		opts.Exporter = x
		defer func() { fmt.Fprintln(stdout, shutdownLive(x, *otlp)) }()
	}
	path, err := d.run(ctx, opts)
	if err != nil {
		return err
	}
	if path == "" {
		fmt.Fprintln(stdout, "tree: none (SLOGWF_DISABLE is set)")
		return nil
	}
	fmt.Fprintf(stdout, "tree: %s\n", path)
	fmt.Fprintf(stdout, "journal: %s\n", filepath.Join(filepath.Dir(path), tree.JournalDir))
	fmt.Fprintf(stdout, "see it: slogwf tree %s\n", path)
	return nil
}

// demo is one run of the simulated workflow.
type demo struct {
	seed uint64
	fast bool
	llm  llmClient
}

// run runs the workflow with a slogwf handler as the default logger and
// returns the path of its tree file, final once run returns.
func (d demo) run(ctx context.Context, opts *slogwf.Options) (path string, err error) {
	h, err := slogwf.New(opts)
	if err != nil {
		return "", err
	}
	defer func() {
		// A fault of the journal or tree files is the demo's failure too.
		err = errors.Join(err, h.Close())
	}()
	defer setDefault(slog.New(h))()

	ctx, wf := slogwf.StartWorkflow(ctx, "research", "user", "ana", "topic", demoTopic, "constraint", demoConstraint)
	path = h.TreeFile(wf)
	results := 0
	for n := 1; n <= demoIterations; n++ {
		k, err := d.iteration(ctx, n)
		if err != nil {
			wf.Fail(err)
			return path, err
		}
		results += k
	}
	wf.End(slogwf.OutputKey, fmt.Sprintf("report on %s from %d worker results", demoTopic, results))
	return path, nil
}

// setDefault makes l the default logger and returns a function that puts
// the previous one back. It saves package log's output and flags too:
// slog.SetDefault points them at l, and setting slog's own default back
// does not undo that.
func setDefault(l *slog.Logger) (restore func()) {
	prev, out, flags := slog.Default(), log.Writer(), log.Flags()
	slog.SetDefault(l)
	return func() {
		slog.SetDefault(prev)
		log.SetOutput(out)
		log.SetFlags(flags)
	}
}

// iteration runs iteration n: the planner, then the workers in parallel on
// the steps of its plan. It returns how many workers succeeded.
func (d demo) iteration(ctx context.Context, n int) (done int, err error) {
	ctx, it := slogwf.StartIteration(ctx)
	defer func() { endScope(it, err) }()

	steps, err := d.plan(ctx, n)
	if err != nil {
		return 0, err
	}
	workers := demoWorkers()
	errs := make([]error, len(workers))
	var wg sync.WaitGroup
	for i, w := range workers {
		wg.Go(func() { errs[i] = d.work(ctx, n, i+1, w, steps[i]) })
	}
	wg.Wait()
	for _, e := range errs {
		if e == nil {
			done++
		}
	}
	return done, errors.Join(errs...)
}

// endScope ends s as failed with err, or as completed when err is nil.
func endScope(s *slogwf.Scope, err error) {
	if err != nil {
		s.Fail(err)
	} else {
		s.End()
	}
}

// plan runs the planner's turn of iteration n and returns one step per
// worker. It checks the plan against the user's constraint, as a reviewer
// would: a plan that breaks it is a semantic warning, not an error.
func (d demo) plan(ctx context.Context, n int) (steps []string, err error) {
	prompt := fmt.Sprintf("plan iteration %d of the research on %s (%s)", n, demoTopic, demoConstraint)
	ctx, ia := slogwf.StartInteraction(ctx, "planner", slogwf.InputKey, prompt)
	defer func() {
		if err != nil {
			ia.Fail(err)
		} else {
			ia.End(slogwf.OutputKey, steps)
		}
	}()
	if _, err := d.llm.complete(ctx, turn{n, 0, 1}, prompt, true); err != nil {
		return nil, err
	}
	steps = planSteps(n)
	for _, s := range steps {
		if strings.Contains(s, "paid") {
			slogwf.Semantic(ctx, "plan contradicts the user's constraint", "constraint", demoConstraint, "step", s)
		}
	}
	return steps, nil
}

// planSteps returns the plan of iteration n, one step per worker.
func planSteps(n int) []string {
	search := "search the web for sources on " + demoTopic
	if n == semanticIteration {
		search = "buy the paid archive's report on " + demoTopic
	}
	return []string{
		search,
		fmt.Sprintf("read the notes of iteration %d", max(n-1, 1)),
		"chart the timeline of the sources found so far",
	}
}

// work runs the turn of worker w (the i-th agent of iteration n) on step,
// retrying once when the model is rate limited.
func (d demo) work(ctx context.Context, n, i int, w worker, step string) error {
	for attempt := 1; ; attempt++ {
		t := turn{n, i, attempt}
		_, err := slogwf.Interact(ctx, w.name, func(ctx context.Context) (string, error) {
			return d.turn(ctx, t, w, step)
		}, slogwf.InputKey, step, "attempt", attempt)
		if err == nil || attempt == maxAttempts || !errors.Is(err, errRateLimited) {
			return err
		}
		slog.WarnContext(ctx, "retrying after the rate limit", "agent", w.name, "attempt", attempt+1)
		if err := sleep(ctx, t.rand(d.seed), d.fast, 150*time.Millisecond, 250*time.Millisecond); err != nil {
			return err
		}
	}
}

// turn is turn t of worker w: it asks the model how to do step, then runs
// the tool.
func (d demo) turn(ctx context.Context, t turn, w worker, step string) (string, error) {
	answer, err := d.llm.complete(ctx, t, step, false)
	if err != nil {
		return "", err
	}
	rng := t.rand(d.seed)
	result, err := slogwf.Act(ctx, w.tool, func(ctx context.Context) (string, error) {
		if err := sleep(ctx, rng, d.fast, 40*time.Millisecond, 160*time.Millisecond); err != nil {
			return "", err
		}
		n := 2 + rng.IntN(5)
		slog.InfoContext(ctx, "tool done", slogwf.Origin(slogwf.OriginTool), "tool", w.tool, "items", n)
		return fmt.Sprintf("%d items", n), nil
	}, slogwf.InputKey, answer)
	if err != nil {
		return "", err
	}
	return answer + ": " + result, nil
}

// sleep sleeps a random time in [lo, hi), or not at all when fast; the
// random number is drawn either way, so -fast changes no tokens.
func sleep(ctx context.Context, rng *rand.Rand, fast bool, lo, hi time.Duration) error {
	d := lo + time.Duration(rng.Int64N(int64(hi-lo)))
	if fast {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
