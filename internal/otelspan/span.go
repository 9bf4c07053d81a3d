// Package otelspan maps the scopes of a slogwf workflow, as they ended
// (tree.Ended), to OpenTelemetry spans, following the OpenTelemetry GenAI
// semantic conventions. The live exporter and `slogwf export` both go
// through [Options.Span], so a workflow shipped either way is the same
// trace, span for span.
package otelspan

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/slogwf/slogwf/internal/tree"
)

// DefaultMaxEvents is how many records of a scope become events of its span
// when Options.MaxEvents is 0.
const DefaultMaxEvents = 128

// InstrumentationScope names slogwf as the producer of the spans.
var InstrumentationScope = instrumentation.Scope{Name: "github.com/slogwf/slogwf/otel"}

// Options say how scopes become spans.
type Options struct {
	// MaxEvents is how many records of a scope become events of its span;
	// the rest are counted as dropped. Negative: none. (Default: DefaultMaxEvents)
	MaxEvents int
	// Content sends the scopes' inputs and outputs, prompts and completions
	// included, as the GenAI conventions' opt-in attributes.
	Content bool
	// Resource describes the program that sent the spans. (Default: none)
	Resource *resource.Resource
}

// Span returns the span of the scope s. Its IDs derive from the scope's:
// the trace ID is the workflow's UUID (or the trace ID of its
// traceparent), the span ID the last 8 bytes of the scope's UUID; so the
// same scope, sent live or later from its journals, is the same span.
func (o *Options) Span(s *tree.Ended) (sdktrace.ReadOnlySpan, error) {
	ids, err := idsOf(s)
	if err != nil {
		return nil, err
	}
	start, err1 := time.Parse(time.RFC3339Nano, s.Start)
	end, err2 := time.Parse(time.RFC3339Nano, s.End)
	if err := cmp.Or(err1, err2); err != nil {
		return nil, fmt.Errorf("otelspan: scope %s: %w", s.ID, err)
	}
	if end.Before(start) {
		// The builder ends no scope before it starts, but a tree file
		// written by an earlier slogwf can (a child's scope that started
		// after the scope above it ended); a span cannot end before it
		// starts.
		end = start
	}
	stub := tracetest.SpanStub{
		SpanContext:          ids.span,
		Parent:               ids.parent,
		SpanKind:             trace.SpanKindInternal,
		StartTime:            start,
		EndTime:              end,
		Resource:             o.Resource,
		InstrumentationScope: InstrumentationScope,
	}
	m := mapper{o: o, s: s, skip: skipUsage}
	call := IsCall(s)
	switch {
	case s.Kind == tree.Workflow:
		stub.Name = spanName("invoke_workflow", s.Name)
		m.add(attribute.String("gen_ai.operation.name", "invoke_workflow"))
		if s.Name != "" {
			m.add(attribute.String("gen_ai.workflow.name", s.Name))
		}
		m.skip = skipWorkflow
		m.messages()
		m.loss()
	case s.Kind == tree.Iteration:
		stub.Name = "iteration " + strconv.FormatInt(s.Number, 10)
		m.add(attribute.Int64("slogwf.iteration.number", s.Number))
	case s.Kind == tree.Interaction:
		stub.Name = spanName("invoke_agent", s.Name)
		m.add(attribute.String("gen_ai.operation.name", "invoke_agent"))
		if s.Name != "" {
			m.add(attribute.String("gen_ai.agent.name", s.Name))
		}
		m.messages()
	case call:
		stub.SpanKind = trace.SpanKindClient
		stub.Name = m.callSpan()
	default:
		stub.Name = spanName("execute_tool", s.Name)
		m.add(attribute.String("gen_ai.operation.name", "execute_tool"), attribute.String("gen_ai.tool.name", s.Name))
		if o.Content {
			m.addJSON("gen_ai.tool.call.arguments", s.Input)
			m.addJSON("gen_ai.tool.call.result", s.Output)
		}
	}
	if !call {
		m.totals()
	}
	stub.Status = m.status()
	m.kv = flatten(m.kv, s.Attrs(), m.skip)
	if s.Kind == tree.Interaction && s.Provider != "" && !hasKey(m.kv, "gen_ai.provider.name") {
		// The provider of the agent's calls, unless the program named one.
		m.add(attribute.String("gen_ai.provider.name", s.Provider))
	}
	stub.Attributes = m.kv
	stub.Events, stub.DroppedEvents = o.events(s.SortedRecords())
	return stub.Snapshot(), nil
}

// IsCall reports whether s is an LLM call: an action that made one, as
// slogwf.Transport's do, or as one that logs a model and tokens does.
func IsCall(s *tree.Ended) bool { return s.Kind == tree.Action && s.Own.Calls > 0 }

func spanName(op, name string) string {
	if name == "" {
		return op
	}
	return op + " " + name
}

// mapper builds the attributes of one span.
type mapper struct {
	o    *Options
	s    *tree.Ended
	kv   []attribute.KeyValue
	skip func(key string) bool // attributes of the scope left out, as mapped already
	c    callAttrs             // of a call
}

func (m *mapper) add(kv ...attribute.KeyValue) { m.kv = append(m.kv, kv...) }

// addJSON adds the JSON value j as a JSON string, as the conventions allow
// for their structured attributes.
func (m *mapper) addJSON(key string, j []byte) {
	if len(j) > 0 {
		m.add(attribute.String(key, string(j)))
	}
}

// messages adds the scope's input and output as one message each, when
// content goes out.
func (m *mapper) messages() {
	if !m.o.Content {
		return
	}
	if t, ok := text(m.s.Input); ok {
		m.addJSON("gen_ai.input.messages", messagesJSON(message{"user", t}))
	}
	if t, ok := text(m.s.Output); ok {
		m.addJSON("gen_ai.output.messages", messagesJSON(message{"assistant", t}))
	}
}

// totals adds the usage and counts of the scope's subtree, under names of
// our own: the gen_ai.usage attributes belong to the calls alone, or a
// backend that sums them over a trace would count each call twice.
func (m *mapper) totals() {
	u, c := m.s.Total, m.s.Counts
	if u.Calls != 0 || u.In != 0 || u.Out != 0 || u.Cost != 0 {
		m.add(
			attribute.Int64("slogwf.usage.llm_calls", u.Calls),
			attribute.Int64("slogwf.usage.input_tokens", u.In),
			attribute.Int64("slogwf.usage.cached_input_tokens", u.Cached),
			attribute.Int64("slogwf.usage.cache_write_input_tokens", u.CacheWrite),
			attribute.Int64("slogwf.usage.output_tokens", u.Out),
			attribute.Float64("slogwf.usage.cost_usd", u.Cost.USD()),
		)
	}
	if c != (tree.Counts{}) {
		m.add(
			attribute.Int64("slogwf.counts.records", c.Records),
			attribute.Int64("slogwf.counts.warnings", c.Warnings),
			attribute.Int64("slogwf.counts.semantic", c.Semantic),
			attribute.Int64("slogwf.counts.errors", c.Errors),
		)
	}
}

// loss adds what the workflow lost, when it lost anything: the tree
// file's "loss", without which a backend shows a partial trace as whole.
func (m *mapper) loss() {
	if l := m.s.Loss; l != (tree.Loss{}) {
		m.add(
			attribute.Int64("slogwf.loss.dropped", l.Dropped),
			attribute.Int64("slogwf.loss.truncated", l.Truncated),
			attribute.Int64("slogwf.loss.redacted", l.Redacted),
			attribute.Int64("slogwf.loss.clamped", l.Clamped),
			attribute.Int64("slogwf.loss.unwritten", l.Unwritten),
		)
	}
}

// status returns the span's status, and adds error.type when it failed.
func (m *mapper) status() sdktrace.Status {
	switch m.s.Status {
	case tree.StatusCompleted:
		return sdktrace.Status{Code: codes.Unset}
	case tree.StatusFailed:
		typ := "_OTHER"
		if m.c.status >= 400 {
			typ = strconv.FormatInt(m.c.status, 10)
		}
		m.add(attribute.String("error.type", typ))
		return sdktrace.Status{Code: codes.Error, Description: cmp.Or(m.s.Error, "failed")}
	}
	return sdktrace.Status{Code: codes.Error, Description: "incomplete"}
}

// The attributes the scopes' own usage keys map to, left out of every span:
// a plain model attribute would make Langfuse take any span for a call.
func skipUsage(key string) bool {
	switch key {
	case "model", "tokens", "cached_tokens", "cache_write_tokens", "cost_usd":
		return true
	}
	return false
}

// skipWorkflow leaves out the traceparent, which the span's parent holds.
func skipWorkflow(key string) bool { return key == tree.TraceParentKey || skipUsage(key) }

// errInvalid reports a scope whose IDs give no span.
func errInvalid(what, id string) error {
	return fmt.Errorf("otelspan: %s %q is not a UUID", what, strings.ToValidUTF8(id, "\uFFFD"))
}
