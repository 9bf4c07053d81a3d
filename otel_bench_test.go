package slogwf_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/slogwf/slogwf"
	slogwfotel "github.com/slogwf/slogwf/otel"
)

// The benchmarks of the live OpenTelemetry export, beside those they are
// compared with: this external test package keeps OpenTelemetry out of
// the root package's own dependencies. otel's BenchmarkOTelSpan, the
// OpenTelemetry SDK's own span, is the anchor.

// nopSpanExporter takes spans and does nothing with them.
type nopSpanExporter struct{}

func (nopSpanExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (nopSpanExporter) Shutdown(context.Context) error                             { return nil }

// otelBenchHandler returns the full product, exporting each scope live to
// a no-op span exporter; at the end of the benchmark it reports the scopes
// the exporter dropped because it fell behind.
func otelBenchHandler(b *testing.B) *slogwf.Handler {
	x := slogwfotel.New(nopSpanExporter{}, &slogwfotel.Options{ErrorOutput: io.Discard})
	h := benchHandler(b, &slogwf.Options{Dir: b.TempDir(), Exporter: x})
	b.Cleanup(func() {
		_ = h.Close()
		_ = x.Shutdown(context.Background())
		b.ReportMetric(float64(x.Stats().Dropped)/float64(b.N), "dropped/op")
	})
	return h
}

// BenchmarkScopeOTel is BenchmarkScope with the live export on.
func BenchmarkScopeOTel(b *testing.B) {
	benchScopes(b, otelBenchHandler(b))
}

// BenchmarkInScopeOTel is BenchmarkInScope with the live export on.
func BenchmarkInScopeOTel(b *testing.B) {
	h := otelBenchHandler(b)
	ctx := benchInteraction(h)
	l := slog.New(h)
	b.ReportAllocs()
	for b.Loop() {
		logCall(ctx, l)
	}
}
