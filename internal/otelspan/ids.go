package otelspan

import (
	"context"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/slogwf/slogwf/internal/tree"
)

// spanIDs are the span contexts of a span and of its parent.
type spanIDs struct {
	span, parent trace.SpanContext
}

func idsOf(s *tree.Ended) (spanIDs, error) {
	wf, err := uuid.Parse(s.Workflow)
	if err != nil {
		return spanIDs{}, errInvalid("workflow ID", s.Workflow)
	}
	id, err := uuid.Parse(s.ID)
	if err != nil {
		return spanIDs{}, errInvalid("scope ID", s.ID)
	}
	tid := trace.TraceID(wf)
	var remote trace.SpanContext // the span the workflow continues
	if s.TraceParent != "" {
		remote = TraceParentContext(s.TraceParent)
		if remote.IsValid() {
			tid = remote.TraceID()
		}
	}
	ctx := func(spanID trace.SpanID) trace.SpanContext {
		return trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: spanID, TraceFlags: trace.FlagsSampled})
	}
	ids := spanIDs{span: ctx(spanIDOf(id))}
	switch {
	case s.Kind == tree.Workflow:
		if remote.IsValid() {
			ids.parent = remote
		}
	case s.Parent == "":
		ids.parent = ctx(spanIDOf(wf))
	default:
		p, err := uuid.Parse(s.Parent)
		if err != nil {
			return spanIDs{}, errInvalid("parent ID", s.Parent)
		}
		ids.parent = ctx(spanIDOf(p))
	}
	return ids, nil
}

// spanIDOf returns the span ID of a scope: the last 8 bytes of its UUID,
// which in a UUIDv7 are random.
func spanIDOf(id uuid.UUID) trace.SpanID {
	return trace.SpanID(id[8:])
}

// TraceParentContext returns the remote span context a W3C traceparent
// names, or an invalid one if tp is not a valid traceparent.
func TraceParentContext(tp string) trace.SpanContext {
	carrier := propagation.MapCarrier{tree.TraceParentKey: tp}
	return trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), carrier))
}
