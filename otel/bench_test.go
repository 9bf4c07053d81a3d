package slogwfotel

import (
	"context"
	"io"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// BenchmarkOTelSpan is the anchor: what the OpenTelemetry SDK itself costs
// for one span, started and ended, with a batch span processor to a no-op
// exporter.
func BenchmarkOTelSpan(b *testing.B) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(nopExporter{}))
	defer tp.Shutdown(context.Background())
	tracer := tp.Tracer("bench")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, span := tracer.Start(ctx, "invoke_agent planner", trace.WithAttributes(
			attribute.String("gen_ai.operation.name", "invoke_agent"),
			attribute.String("gen_ai.agent.name", "planner")))
		span.End()
	}
}

// BenchmarkScopeSpan is the mapping of one ended interaction to its span,
// which the Exporter's goroutine does.
func BenchmarkScopeSpan(b *testing.B) {
	e := New(nopExporter{}, &Options{ErrorOutput: io.Discard})
	defer e.Shutdown(context.Background())
	s := demo()[2]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.spans.Span(s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScopeExport is what the goroutine that ends a scope pays to hand
// it over; it reports the scopes dropped because the Exporter's goroutine,
// mapping and sending to a no-op exporter, fell behind.
func BenchmarkScopeExport(b *testing.B) {
	e := New(nopExporter{}, &Options{ErrorOutput: io.Discard})
	s := demo()[2]
	b.ReportAllocs()
	for b.Loop() {
		e.ExportScope(s)
	}
	b.StopTimer()
	e.Shutdown(context.Background())
	b.ReportMetric(float64(e.Stats().Dropped)/float64(b.N), "dropped/op")
}
