package slogwf

import (
	"cmp"

	"github.com/slogwf/slogwf/internal/tree"
)

// Price is the price of a model in US dollars per million tokens. Input
// prices the input tokens neither read from nor written to the prompt
// cache: those a call counts beyond its [CachedTokens] and
// [CacheWriteTokens], or none when these two say more than its input.
// Anthropic charges 1.25 times Input for writes to its 5-minute cache and
// twice Input for its 1-hour cache: CacheWrite is the one the calls use.
type Price struct {
	Input       float64
	Output      float64
	CachedInput float64 // input tokens read from the prompt cache (Default: Input)
	CacheWrite  float64 // input tokens written to the prompt cache (Default: Input)
}

// Prices are the prices of models, by model name.
type Prices map[string]Price

// fill sets the cost of u, if it has none, from the price of its model.
func (p Prices) fill(u *tree.Usage) {
	if u.Cost != 0 || u.Model == "" || len(p) == 0 {
		return
	}
	price, ok := p.of(u.Model)
	if !ok {
		return
	}
	cached := cmp.Or(price.CachedInput, price.Input)
	written := cmp.Or(price.CacheWrite, price.Input)
	in := max(u.In-u.Cached-u.CacheWrite, 0) // settle bounded each: no overflow
	u.Cost = tree.ToNano((float64(in)*price.Input + float64(u.Cached)*cached + float64(u.CacheWrite)*written + float64(u.Out)*price.Output) / 1e6)
}

// of returns the price of model, or of model without a date or version at
// its end: gpt-4o-2024-08-06, claude-3-5-sonnet-20241022,
// claude-3-5-sonnet@20241022, gpt-4-0613, gemini-2.0-flash-001.
func (p Prices) of(model string) (Price, bool) {
	if price, ok := p[model]; ok {
		return price, true
	}
	for _, date := range []string{"-0000-00-00", "-00000000", "@00000000", "-0000", "-000"} {
		i := len(model) - len(date)
		if i > 0 && isDate(model[i:], date) {
			price, ok := p[model[:i]]
			return price, ok
		}
	}
	return Price{}, false
}

// isDate reports whether s has the shape of pattern, 0 standing for a digit.
func isDate(s, pattern string) bool {
	for i := range len(pattern) {
		if pattern[i] == '0' && !('0' <= s[i] && s[i] <= '9') || pattern[i] != '0' && s[i] != pattern[i] {
			return false
		}
	}
	return true
}
