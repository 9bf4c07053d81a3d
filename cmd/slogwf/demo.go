package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/slogwf/slogwf"
)

const demoHelp = `usage: slogwf demo [-dir DIR] [-seed N] [-fast]

Demo runs a simulated research workflow for a few seconds: three
iterations, each with a planner and three workers in parallel that call a
fake LLM and a tool. One plan breaks the user's constraint (a semantic
warning) and one worker call is rate limited and retried. The console goes
to stderr; the tree and the journal are written under DIR, and the tree's
path printed on stdout.

Example:
	slogwf demo -dir /tmp/demo-logs -seed 7

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

	// Prices of demoModel in US dollars per token.
	priceIn  = 0.15 / 1e6
	priceOut = 0.60 / 1e6
)

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
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %s", printable(fs.Arg(0)))}
	}
	d := demo{seed: *seed, fast: *fast}
	path, err := d.run(ctx, &slogwf.Options{Dir: *dir, Console: stderr, ErrorOutput: stderr})
	if err != nil {
		return err
	}
	if path == "" {
		fmt.Fprintln(stdout, "tree: none (SLOGWF_DISABLE is set)")
		return nil
	}
	fmt.Fprintf(stdout, "tree: %s\n", path)
	fmt.Fprintf(stdout, "journal: %s\n", strings.TrimSuffix(path, ".json")+".*.jsonl")
	fmt.Fprintf(stdout, "see it: slogwf tree %s\n", path)
	return nil
}

// demo is one run of the simulated workflow.
type demo struct {
	seed uint64
	fast bool
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
	answers := []string{"here is a three-step plan", "plan: search, read, chart", "three steps, one per worker"}
	if _, err := d.llm(n, 0, 1).complete(ctx, prompt, answers, false); err != nil {
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
		m := d.llm(n, i, attempt)
		fail := n == failIteration && w.name == failWorker && attempt == 1
		_, err := slogwf.Interact(ctx, w.name, func(ctx context.Context) (string, error) {
			return m.turn(ctx, w, step, fail)
		}, slogwf.InputKey, step, "attempt", attempt)
		if err == nil || attempt == maxAttempts || !errors.Is(err, errRateLimited) {
			return err
		}
		slog.WarnContext(ctx, "retrying after the rate limit", "agent", w.name, "attempt", attempt+1)
		if err := m.wait(ctx, 150*time.Millisecond, 250*time.Millisecond); err != nil {
			return err
		}
	}
}

// llm returns the fake model of one turn: agent i (0 is the planner) in
// iteration n, attempt a. Each turn has its own random source, so that the
// goroutines share nothing and a seed always gives the same run.
func (d demo) llm(n, i, a int) fakeLLM {
	stream := uint64(n)<<32 | uint64(i)<<16 | uint64(a)
	return fakeLLM{rng: rand.New(rand.NewPCG(d.seed, stream)), fast: d.fast}
}

// fakeLLM stands in for a model client and the tools of one turn.
type fakeLLM struct {
	rng  *rand.Rand
	fast bool
}

// turn is one turn of worker w: it asks the model how to do step, then
// runs the tool.
func (m fakeLLM) turn(ctx context.Context, w worker, step string, fail bool) (string, error) {
	answers := []string{"use the first three results", "start from the 1947 Bell Labs notes", "compare the two timelines"}
	answer, err := m.complete(ctx, step, answers, fail)
	if err != nil {
		return "", err
	}
	result, err := slogwf.Act(ctx, w.tool, func(ctx context.Context) (string, error) {
		return m.tool(ctx, w.tool)
	}, slogwf.InputKey, answer)
	if err != nil {
		return "", err
	}
	return answer + ": " + result, nil
}

// complete pretends to call the model: it waits a latency, logs the call
// with its usage, and returns one of answers. With fail it is rate limited.
func (m fakeLLM) complete(ctx context.Context, prompt string, answers []string, fail bool) (string, error) {
	if err := m.wait(ctx, 120*time.Millisecond, 350*time.Millisecond); err != nil {
		return "", err
	}
	if fail {
		slog.WarnContext(ctx, "llm call failed", slogwf.Model(demoModel), "status", 429, "error", errRateLimited)
		return "", errRateLimited
	}
	in := len(prompt)/4 + 300 + m.rng.IntN(900)
	out := 40 + m.rng.IntN(220)
	// Rounded as a provider's bill is, not to float noise.
	cost := math.Round((float64(in)*priceIn+float64(out)*priceOut)*1e9) / 1e9
	slog.InfoContext(ctx, "llm call", slogwf.Model(demoModel), slogwf.Tokens(in, out), slogwf.Cost(cost))
	return answers[m.rng.IntN(len(answers))], nil
}

// tool pretends to run the tool name.
func (m fakeLLM) tool(ctx context.Context, name string) (string, error) {
	if err := m.wait(ctx, 40*time.Millisecond, 160*time.Millisecond); err != nil {
		return "", err
	}
	n := 2 + m.rng.IntN(5)
	slog.InfoContext(ctx, "tool done", slogwf.Origin(slogwf.OriginTool), "tool", name, "items", n)
	return fmt.Sprintf("%d items", n), nil
}

// wait sleeps a random time in [lo, hi), or not at all when the run is
// fast; the random number is drawn either way, so -fast changes no tokens.
func (m fakeLLM) wait(ctx context.Context, lo, hi time.Duration) error {
	d := lo + time.Duration(m.rng.Int64N(int64(hi-lo)))
	if m.fast {
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
