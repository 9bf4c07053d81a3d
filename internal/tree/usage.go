package tree

import "math"

// Usage is token, cost and call usage, of one record or rolled up.
type Usage struct {
	Calls, In, Out, Cached int64
	Cost                   NanoUSD
	Model                  string // of one record or scope event; sums have none
}

// NanoUSD is an amount in 1e-9 US dollars. Integers sum exactly in any
// order, so a tree rebuilt from a journal has the live tree's totals.
type NanoUSD int64

// MaxCost bounds the cost of one record, so that sums cannot overflow.
const MaxCost = 1e6 // US dollars

// ToNano returns usd in NanoUSD, bounded by MaxCost; NaN is 0.
func ToNano(usd float64) NanoUSD {
	if math.IsNaN(usd) {
		return 0
	}
	return NanoUSD(math.Round(max(-MaxCost, min(usd, MaxCost)) * 1e9))
}

// USD returns n in US dollars.
func (n NanoUSD) USD() float64 { return float64(n) / 1e9 }

// Add adds v to u; the sum has no model.
func (u *Usage) Add(v Usage) {
	u.Calls += v.Calls
	u.In += v.In
	u.Out += v.Out
	u.Cached += v.Cached
	u.Cost += v.Cost
}

// Loss counts what a tree misses of what was logged: records and events
// dropped (journal lines that could not be read), values truncated at
// Options.MaxValue and secrets redacted.
type Loss struct {
	Dropped, Truncated, Redacted int64
}

// Add adds m to l.
func (l *Loss) Add(m Loss) {
	l.Dropped += m.Dropped
	l.Truncated += m.Truncated
	l.Redacted += m.Redacted
}

// counts counts the records of a node, or of a subtree.
type counts struct {
	records, warnings, semantic, errors int64
}

func (c *counts) add(d counts) {
	c.records += d.records
	c.warnings += d.warnings
	c.semantic += d.semantic
	c.errors += d.errors
}
