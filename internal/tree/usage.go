package tree

import (
	"math"
	"math/bits"
)

// Usage is token, cost and call usage, of one record or rolled up.
type Usage struct {
	Calls, In, Out, Cached int64
	Cost                   NanoUSD
	Model                  string // of one record or scope event; sums have none
}

// NanoUSD is an amount in 1e-9 US dollars. Integers sum exactly in any
// order, so a tree rebuilt from a journal has the live tree's totals.
type NanoUSD int64

// MaxCost bounds the cost of one record.
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

// sum is a sum of usages that does not depend on the order of its terms:
// costs add exactly in 128 bits.
type sum struct {
	calls, in, out, cached int64
	costHi                 int64 // the cost is costHi·2⁶⁴ + costLo
	costLo                 uint64
}

// add adds u to s.
func (s *sum) add(u Usage) {
	s.calls += u.Calls
	s.in += u.In
	s.out += u.Out
	s.cached += u.Cached
	hi := int64(0)
	if u.Cost < 0 {
		hi = -1
	}
	s.addCost(hi, uint64(u.Cost))
}

// addSum adds t to s.
func (s *sum) addSum(t sum) {
	s.calls += t.calls
	s.in += t.in
	s.out += t.out
	s.cached += t.cached
	s.addCost(t.costHi, t.costLo)
}

func (s *sum) addCost(hi int64, lo uint64) {
	var carry uint64
	s.costLo, carry = bits.Add64(s.costLo, lo, 0)
	s.costHi += hi + int64(carry)
}

// usage returns s as a Usage, its cost bounded to what NanoUSD holds.
func (s sum) usage() Usage {
	u := Usage{Calls: s.calls, In: s.in, Out: s.out, Cached: s.cached}
	switch {
	case s.costHi == 0 && s.costLo <= math.MaxInt64, s.costHi == -1 && s.costLo > math.MaxInt64:
		u.Cost = NanoUSD(s.costLo)
	case s.costHi < 0:
		u.Cost = math.MinInt64
	default:
		u.Cost = math.MaxInt64
	}
	return u
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
