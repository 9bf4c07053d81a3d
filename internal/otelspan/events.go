package otelspan

import (
	"encoding/json"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// record is what a span event takes of a record of the tree.
type record struct {
	Time     time.Time       `json:"time"`
	Level    string          `json:"level"`
	Msg      string          `json:"msg"`
	Semantic bool            `json:"semantic"`
	Late     bool            `json:"late"`
	Attrs    json.RawMessage `json:"attrs"`
}

// events returns the first MaxEvents records as span events, and how many
// records it dropped.
func (o *Options) events(records [][]byte) ([]sdktrace.Event, int) {
	limit := o.MaxEvents
	switch {
	case limit == 0:
		limit = DefaultMaxEvents
	case limit < 0:
		limit = 0
	}
	n := min(limit, len(records))
	events := make([]sdktrace.Event, 0, n)
	for _, b := range records[:n] {
		if len(b) > 0 && b[0] != '{' { // the members, as the tree keeps them
			b = append(append([]byte{'{'}, b...), '}')
		}
		var r record
		if json.Unmarshal(b, &r) != nil {
			continue // the tree never holds one; a damaged one is skipped, not guessed
		}
		kv := []attribute.KeyValue{attribute.String("level", r.Level)}
		if r.Semantic {
			kv = append(kv, attribute.Bool("semantic", true))
		}
		if r.Late {
			kv = append(kv, attribute.Bool("late", true))
		}
		events = append(events, sdktrace.Event{Name: r.Msg, Time: r.Time, Attributes: flatten(kv, r.Attrs, nil)})
	}
	return events, len(records) - len(events)
}
