package slogwfotel

import (
	"context"
	"log/slog"

	"github.com/slogwf/slogwf/internal/tree"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// TraceParentKey is the attribute of a workflow's start that holds the W3C
// traceparent of the span whose trace the workflow continues.
const TraceParentKey = tree.TraceParentKey

// TraceParent returns the attribute that makes a workflow continue the
// trace of the span in ctx (an HTTP server's span, say):
//
//	ctx, wf := slogwf.StartWorkflow(ctx, "research", slogwfotel.TraceParent(ctx))
//
// The workflow's span is then a child of that span, and its scopes are
// spans of that trace. Without a valid span in ctx it returns the empty
// attribute, which slog ignores.
func TraceParent(ctx context.Context) slog.Attr {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return slog.Attr{}
	}
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, carrier)
	return slog.String(TraceParentKey, carrier.Get(TraceParentKey))
}
