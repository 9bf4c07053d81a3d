// Package otelspan maps the scopes of a slogwf workflow to OpenTelemetry
// spans, following the OpenTelemetry GenAI semantic conventions. The live
// exporter and `slogwf export` both go through [Options.Span], so a
// workflow shipped either way is the same trace, span for span.
package otelspan

import "time"

// Scope is one ended scope as the tree builder sees it when it ends.
type Scope struct {
	Workflow string // the workflow's UUID
	// TraceParent is the W3C traceparent the workflow started with, if
	// any: its trace is then continued instead of the workflow's own.
	TraceParent string
	Kind        string // "workflow", "iteration", "interaction" or "action"
	ID          string // the scope's UUID
	Parent      string // the parent scope's UUID; empty for the workflow
	Name        string // the workflow's or the action's name, the interaction's agent
	Number      int64  // the iteration's number
	Start, End  time.Time
	Status      string // "completed", "failed" or "incomplete"
	Error       string
	Call        bool   // an action that is an LLM call
	Attrs       []byte // a JSON object: the start's attributes, with the end's merged in
	Input       []byte // a JSON value, or nil
	Output      []byte // a JSON value, or nil
	Own         Usage  // of the scope's own start, end and records
	Total       Usage  // of its whole subtree
	Counts      Counts // of its whole subtree
	// Records are the records logged in the scope itself, in time order:
	// JSON objects, or their members without the braces, as the tree keeps them.
	Records [][]byte
}

// Usage is what LLM calls used.
type Usage struct {
	Calls       int64
	Input       int64 // input tokens, cached ones included
	CachedInput int64
	Output      int64
	CostUSD     float64
	Model       string // the model of one call; sums have none
}

// Counts are the records of a subtree, by severity.
type Counts struct {
	Records, Warnings, Semantic, Errors int64
}
