package slogwf

import "github.com/slogwf/slogwf/internal/tree"

// ScopeExporter takes the scopes that this process started, as they end,
// each once, to send them on: [slogwfotel.Exporter] sends them to an
// OpenTelemetry backend as spans. A Handler calls ExportScope with its
// workflow's state locked, so it must return at once and never change s.
// Its argument's type is internal to this module: the implementations are
// its own.
//
// [slogwfotel.Exporter]: https://pkg.go.dev/github.com/slogwf/slogwf/otel#Exporter
type ScopeExporter interface {
	ExportScope(s *tree.Ended)
}

// export hands the exporter, if any, the scopes that ended with scope id;
// final, at the workflow's end, every scope it was not handed yet.
func (f *flow) export(id string, final bool) {
	if x := f.sink.exporter; x != nil {
		f.tree.Take(id, final, x.ExportScope)
	}
}
