package slogwfotel_test

import (
	"context"
	"log"
	"log/slog"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"

	"github.com/slogwf/slogwf"
	slogwfotel "github.com/slogwf/slogwf/otel"
)

// Each scope goes to the OTLP/HTTP endpoint of a collector or backend as it
// ends. The OTEL_EXPORTER_OTLP_* variables configure the exporter
// (endpoint, headers, timeout), OTEL_SERVICE_NAME the resource.
func ExampleNew() {
	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL("http://127.0.0.1:4318/v1/traces"))
	if err != nil {
		log.Fatal(err)
	}
	x := slogwfotel.New(exp, nil)
	defer x.Shutdown(ctx) // last: Close hands it the scopes still open
	h, err := slogwf.New(&slogwf.Options{Dir: "logs", Exporter: x})
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close()
	slog.SetDefault(slog.New(h))

	ctx, wf := slogwf.StartWorkflow(ctx, "research", slogwfotel.TraceParent(ctx))
	defer wf.End()
	// …
}
