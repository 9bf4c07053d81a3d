package slogwf_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/slogwf/slogwf"
	slogwfotel "github.com/slogwf/slogwf/otel"
)

// The live OpenTelemetry export's benchmark handlers, and its benchmarks
// of a failing backend: this external test package keeps OpenTelemetry
// out of the root package's own dependencies. BenchmarkScopeOTel and
// BenchmarkInScopeOTel are in bench_test.go, each run right after the
// benchmark it is compared with; otel's BenchmarkOTelSpan, the
// OpenTelemetry SDK's own span, is the anchor.

// nopSpanExporter takes spans and does nothing with them.
type nopSpanExporter struct{}

func (nopSpanExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (nopSpanExporter) Shutdown(context.Context) error                             { return nil }

// otelBenchHandler returns the full product, exporting each scope live to
// a no-op span exporter; at the end of the benchmark it reports the scopes
// the exporter dropped because it fell behind.
func otelBenchHandler(b *testing.B) *slogwf.Handler {
	return otelBenchHandlerTo(b, nopSpanExporter{})
}

// otelBenchHandlerTo returns the full product, exporting each scope live
// to exp.
func otelBenchHandlerTo(b *testing.B, exp sdktrace.SpanExporter) *slogwf.Handler {
	x := slogwfotel.New(exp, &slogwfotel.Options{ErrorOutput: io.Discard})
	h := benchHandler(b, &slogwf.Options{Dir: b.TempDir(), Exporter: x})
	b.Cleanup(func() {
		_ = h.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = x.Shutdown(ctx) // gives up on a backend that fails
		b.ReportMetric(float64(x.Stats().Dropped)/float64(b.N), "dropped/op")
	})
	return h
}

// BenchmarkScopeOTelBackend is BenchmarkScopeOTel with a real OTLP/HTTP
// exporter to a backend that fails: down (nothing listens), slow (it
// never answers) or answering 500. Logging does not wait on it: the
// scopes it cannot take are dropped.
func BenchmarkScopeOTelBackend(b *testing.B) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down for maintenance", http.StatusInternalServerError)
	}))
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	b.Cleanup(func() {
		close(release)
		slow.Close()
		failing.Close()
	})
	for _, backend := range []struct{ name, url string }{{"down", down.URL}, {"slow", slow.URL}, {"500", failing.URL}} {
		b.Run(backend.name, func(b *testing.B) {
			exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(backend.url+"/v1/traces"))
			if err != nil {
				b.Fatal(err)
			}
			benchScopes(b, otelBenchHandlerTo(b, exp))
		})
	}
}
