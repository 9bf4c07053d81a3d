// Package slogwfotel sends slogwf workflows to an OpenTelemetry backend
// (an OpenTelemetry Collector, Jaeger, Grafana Tempo, Langfuse, Arize
// Phoenix, Logfire), each workflow as one trace, through any
// sdktrace.SpanExporter: otlptracehttp, otlptracegrpc, stdouttrace.
//
// Live, an [Exporter] is the handler's Options.Exporter: each scope goes
// out as it ends, the workflow at its End or at the handler's Close.
//
//	exp, err := otlptracehttp.New(ctx) // OTEL_EXPORTER_OTLP_ENDPOINT, …
//	…
//	x := slogwfotel.New(exp, nil)
//	defer x.Shutdown(ctx) // after h.Close, which hands it the scopes still open
//	h, err := slogwf.New(&slogwf.Options{Exporter: x})
//	…
//	defer h.Close()
//
// From journals, `slogwf export -otlp URL DIR` sends the same spans, and
// with -f ships the scopes of a directory's journals as they end.
//
// Each scope becomes one span, named and attributed by the OpenTelemetry
// GenAI semantic conventions:
//
//	workflow            invoke_workflow {name}   INTERNAL  gen_ai.operation.name=invoke_workflow, gen_ai.workflow.name
//	iteration           iteration {n}            INTERNAL  slogwf.iteration.number
//	interaction         invoke_agent {agent}     INTERNAL  gen_ai.operation.name=invoke_agent, gen_ai.agent.name,
//	                                                       gen_ai.provider.name when its calls agree on one
//	action, an LLM call {operation} {model}      CLIENT    gen_ai.operation.name (chat, …), gen_ai.provider.name,
//	                                                       gen_ai.request.model, gen_ai.response.model, gen_ai.usage.*
//	other action        execute_tool {name}      INTERNAL  gen_ai.operation.name=execute_tool, gen_ai.tool.name
//
// and the scope's attributes, flattened to dotted keys; a key slogwf sets
// on the span keeps slogwf's value. The IDs derive from
// slogwf's: the trace ID is the workflow's UUID, the span ID the last 8
// bytes of the scope's UUID. A workflow sent live, or later from its
// journals, or from the journals of several processes, is one trace with the
// same span IDs, which a backend deduplicates. A workflow started with
// [TraceParent] continues the trace of the span it names instead.
//
// Token usage and cost go on the spans of the LLM calls alone
// (gen_ai.usage.input_tokens, gen_ai.usage.output_tokens,
// gen_ai.usage.cache_read.input_tokens,
// gen_ai.usage.cache_creation.input_tokens, and gen_ai.usage.cost in US
// dollars, which Langfuse reads; cost has no convention yet). Every other span holds
// its subtree's totals as slogwf.usage.*, so a backend that sums gen_ai.usage
// over a trace counts each call once.
//
// A failed scope has status Error with its error text and error.type (the
// HTTP status of a failed call, else _OTHER); an incomplete one, Error
// "incomplete"; a completed one, Unset. The records logged in a scope are
// events of its span, named by their message, with level, semantic, late
// and their attributes; at most Options.MaxEvents of them, the rest counted
// as dropped events.
//
// An [Exporter] never makes the program wait on the network: ended scopes
// wait in a bounded queue and a goroutine of the Exporter maps and sends
// them in batches. When the queue is full or the backend is down, spans are
// dropped, counted ([Exporter.Stats]) and reported once; the journals keep
// every scope. [Exporter.ForceFlush] and [Exporter.Shutdown] fail when a
// span was lost since the last of them, saying how many.
package slogwfotel
