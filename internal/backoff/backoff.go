// Package backoff is how long slogwf's exporters wait after a backend
// failed an export: the live Exporter of package otel and export -otlp -f.
package backoff

import "time"

// Max is the longest wait.
const Max = 30 * time.Second

// Next returns the wait after a failed export that follows a wait of d (0
// after one that went): a second after a first failure, doubled with each
// failure in a row, Max at most.
func Next(d time.Duration) time.Duration { return min(max(2*d, time.Second), Max) }
