package tree

import (
	"math"
	"math/bits"
)

// Usage is token, cost and call usage, of one record or rolled up.
type Usage struct {
	Calls, In, Out int64
	Cached         int64 // input tokens read from the prompt cache, part of In
	CacheWrite     int64 // input tokens written to the prompt cache, part of In
	Cost           NanoUSD
	Model          string // of one record or scope event; sums have none
}

// NanoUSD is an amount in 1e-9 US dollars. Integers sum exactly in any
// order, so a tree rebuilt from a journal has the live tree's totals.
type NanoUSD int64

// Bounds of the usage of one record or scope event (see Usage.Clamp), so
// that no number of them wraps a sum.
const (
	MaxCost   = 1e6  // US dollars, either way
	MaxTokens = 1e12 // of each kind
)

// ToNano returns usd in NanoUSD; NaN is 0. An amount past MaxCost stays
// past it, up to twice MaxCost, so that Usage.Clamp bounds it and counts it.
func ToNano(usd float64) NanoUSD {
	if math.IsNaN(usd) {
		return 0
	}
	return NanoUSD(math.Round(max(-2*MaxCost, min(usd, 2*MaxCost)) * 1e9))
}

// USD returns n in US dollars.
func (n NanoUSD) USD() float64 { return float64(n) / 1e9 }

// Clamp bounds the usage of one record or scope event: at most one call,
// token counts from 0 to MaxTokens, a cost within MaxCost either way. It
// returns how many numbers it changed.
func (u *Usage) Clamp() (clamped int64) {
	bound := func(v *int64, hi int64) {
		if *v < 0 || *v > hi {
			*v = min(max(*v, 0), hi)
			clamped++
		}
	}
	bound(&u.Calls, 1)
	bound(&u.In, MaxTokens)
	bound(&u.Out, MaxTokens)
	bound(&u.Cached, MaxTokens)
	bound(&u.CacheWrite, MaxTokens)
	if c := min(max(u.Cost, -MaxCost*1e9), MaxCost*1e9); c != u.Cost {
		u.Cost = c
		clamped++
	}
	return clamped
}

// Total returns the input and output tokens of u together, saturated at
// the largest int64 as its sums are.
func (u Usage) Total() int64 { return addCount(u.In, u.Out) }

// sum is a sum of usages that does not depend on the order of its terms:
// calls and tokens, never negative once clamped, saturate; costs, which
// may be negative, add exactly in 128 bits.
type sum struct {
	calls, in, out, cached, cacheWrite int64
	costHi                             int64 // the cost is costHi·2⁶⁴ + costLo
	costLo                             uint64
}

// add adds u, clamped, to s.
func (s *sum) add(u Usage) {
	s.calls = addCount(s.calls, u.Calls)
	s.in = addCount(s.in, u.In)
	s.out = addCount(s.out, u.Out)
	s.cached = addCount(s.cached, u.Cached)
	s.cacheWrite = addCount(s.cacheWrite, u.CacheWrite)
	hi := int64(0)
	if u.Cost < 0 {
		hi = -1
	}
	s.addCost(hi, uint64(u.Cost))
}

// addSum adds t to s.
func (s *sum) addSum(t sum) {
	s.calls = addCount(s.calls, t.calls)
	s.in = addCount(s.in, t.in)
	s.out = addCount(s.out, t.out)
	s.cached = addCount(s.cached, t.cached)
	s.cacheWrite = addCount(s.cacheWrite, t.cacheWrite)
	s.addCost(t.costHi, t.costLo)
}

func (s *sum) addCost(hi int64, lo uint64) {
	var carry uint64
	s.costLo, carry = bits.Add64(s.costLo, lo, 0)
	s.costHi += hi + int64(carry)
}

// usage returns s as a Usage, its cost bounded to what NanoUSD holds.
func (s sum) usage() Usage {
	u := Usage{Calls: s.calls, In: s.in, Out: s.out, Cached: s.cached, CacheWrite: s.cacheWrite}
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

// addCount returns a+b, for counts a and b of 0 or more, saturated at the
// largest int64 instead of wrapping.
func addCount(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// Loss counts what a tree misses of what was logged: records and events
// dropped (journal lines that could not be read), values truncated at
// Options.MaxValue or at MaxName, secrets redacted, numbers of usage
// clamped (see Usage.Clamp), and journal lines that could not be written
// (a full disk), as the lines written after them say.
type Loss struct {
	Dropped, Truncated, Redacted, Clamped, Unwritten int64
}

// Add adds m to l, saturating.
func (l *Loss) Add(m Loss) {
	l.Dropped = addCount(l.Dropped, m.Dropped)
	l.Truncated = addCount(l.Truncated, m.Truncated)
	l.Redacted = addCount(l.Redacted, m.Redacted)
	l.Clamped = addCount(l.Clamped, m.Clamped)
	l.Unwritten = addCount(l.Unwritten, m.Unwritten)
}

// Clamp makes the counts of l 0 or more, and returns how many it changed.
func (l *Loss) Clamp() (clamped int64) {
	for _, v := range []*int64{&l.Dropped, &l.Truncated, &l.Redacted, &l.Clamped, &l.Unwritten} {
		if *v < 0 {
			*v = 0
			clamped++
		}
	}
	return clamped
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
