package slogwf

import (
	"log/slog"
	"math"
)

// Reserved attribute keys. slogwf reads them from the attributes a record is
// logged with directly (not from inside an explicit [slog.Group]).
const (
	// Usage: a record that carries a model or tokens counts as one LLM call,
	// and its tokens and cost roll up into every node above it.
	ModelKey        = "model"
	TokensKey       = "tokens" // a group: input, output
	CachedTokensKey = "cached_tokens"
	CostKey         = "cost_usd"

	// OriginKey says who wrote a record's text: see [Origin].
	OriginKey = "origin"

	// SemanticKey flags a semantic warning; see [Semantic].
	SemanticKey = "semantic"

	// Scope IDs place a record in a node without a scoped context. They
	// route the record and are left out of the node's attrs.
	WorkflowIDKey    = "workflow_id"
	IterationIDKey   = "iteration_id"
	InteractionIDKey = "interaction_id"
	ActionIDKey      = "action_id"

	// Keys of scope start and end arguments that fill the node's own fields
	// instead of its attrs.
	InputKey  = "input"
	OutputKey = "output"
	ErrorKey  = "error"
)

// Origins for [Origin].
const (
	OriginSystem = "system"
	OriginLLM    = "llm"
	OriginHuman  = "human"
	OriginTool   = "tool"
)

// Tokens returns the token usage of one LLM call. Following the OpenTelemetry
// GenAI rule, in counts every input token, cached ones included.
func Tokens(in, out int) slog.Attr {
	return slog.Group(TokensKey, slog.Int("input", in), slog.Int("output", out))
}

// CachedTokens returns how many of an LLM call's input tokens were read from
// the provider's prompt cache. They are part of the input count of [Tokens].
func CachedTokens(n int) slog.Attr { return slog.Int(CachedTokensKey, n) }

// Model returns the model an LLM call used.
func Model(name string) slog.Attr { return slog.String(ModelKey, name) }

// Cost returns the cost of an LLM call in US dollars.
func Cost(usd float64) slog.Attr { return slog.Float64(CostKey, usd) }

// Origin returns who wrote a record's text: [OriginSystem], [OriginLLM],
// [OriginHuman] or [OriginTool].
func Origin(who string) slog.Attr { return slog.String(OriginKey, who) }

// WorkflowID names the workflow a record belongs to.
func WorkflowID(id string) slog.Attr { return slog.String(WorkflowIDKey, id) }

// IterationID names the iteration a record belongs to.
func IterationID(id string) slog.Attr { return slog.String(IterationIDKey, id) }

// InteractionID names the interaction a record belongs to.
func InteractionID(id string) slog.Attr { return slog.String(InteractionIDKey, id) }

// ActionID names the action a record belongs to.
func ActionID(id string) slog.Attr { return slog.String(ActionIDKey, id) }

// usage is token, cost and call usage, of one record or rolled up.
type usage struct {
	calls, in, out, cached int64
	cost                   nanoUSD
	model                  string // of one record or scope event; sums have none
}

// nanoUSD is an amount in 1e-9 US dollars. Integers sum exactly in any
// order, so a tree rebuilt from a journal has the live tree's totals.
type nanoUSD int64

// maxCost bounds the cost of one record, so that sums cannot overflow.
const maxCost = 1e6 // US dollars

func toNano(usd float64) nanoUSD {
	if math.IsNaN(usd) {
		return 0
	}
	return nanoUSD(math.Round(max(-maxCost, min(usd, maxCost)) * 1e9))
}

func (n nanoUSD) usd() float64 { return float64(n) / 1e9 }

func (u *usage) add(v usage) {
	u.calls += v.calls
	u.in += v.in
	u.out += v.out
	u.cached += v.cached
	u.cost += v.cost
}

// Price is the price of a model in US dollars per million tokens.
type Price struct {
	Input       float64 // uncached input tokens
	Output      float64
	CachedInput float64 // input tokens read from the prompt cache (Default: Input)
}

// Prices are the prices of models, by model name.
type Prices map[string]Price

// fill sets the cost of u, if it has none, from the price of its model.
func (p Prices) fill(u *usage) {
	if u.cost != 0 || u.model == "" || len(p) == 0 {
		return
	}
	price, ok := p.of(u.model)
	if !ok {
		return
	}
	cached := price.CachedInput
	if cached == 0 {
		cached = price.Input
	}
	in := max(u.in-u.cached, 0)
	u.cost = toNano((float64(in)*price.Input + float64(u.cached)*cached + float64(u.out)*price.Output) / 1e6)
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

// ids are the scope IDs named by attributes, by kind.
type ids [nKinds]string

// innermost returns the workflow and the innermost scope the IDs name.
func (x *ids) innermost() (wf, scope string) {
	for k := int(nKinds) - 1; k >= 0; k-- {
		if x[k] != "" {
			return x[KindWorkflow], x[k]
		}
	}
	return "", ""
}

// merge fills the kinds x leaves empty from y.
func (x *ids) merge(y *ids) {
	for k := range x {
		if x[k] == "" {
			x[k] = y[k]
		}
	}
}

// reservedKeys is the one table of the reserved keys, and of what each
// says; meta.read reads them.
var reservedKeys = [...]struct {
	key  string
	what reserved
}{
	{WorkflowIDKey, scopeID + reserved(KindWorkflow)},
	{IterationIDKey, scopeID + reserved(KindIteration)},
	{InteractionIDKey, scopeID + reserved(KindInteraction)},
	{ActionIDKey, scopeID + reserved(KindAction)},
	{SemanticKey, isSemantic},
	{ModelKey, model},
	{TokensKey, tokens},
	{CachedTokensKey, cachedTokens},
	{CostKey, cost},
}

// reserved is what an attribute with a reserved key says.
type reserved uint8

const (
	isSemantic   reserved = iota + 1 // a semantic warning
	model                            // usage: the model of an LLM call
	tokens                           // usage: a group of input and output tokens
	cachedTokens                     // usage: cached input tokens
	cost                             // usage: the cost in US dollars
	scopeID                          // scopeID+k: the ID of a scope of kind k
)

// reservedShapes holds, by length, the first bytes of the reserved keys
// that long: most keys are none, and are told so without a comparison.
var reservedShapes = func() (shapes [16][256 / 64]uint64) {
	for _, r := range reservedKeys {
		shapes[len(r.key)][r.key[0]/64] |= 1 << (r.key[0] % 64)
	}
	return shapes
}()

// meta is what slogwf reads from a record's own attributes.
type meta struct {
	ids      ids
	usage    usage
	semantic bool
}

// read reads a into m when its key is reserved, and reports whether a
// only routes its record, and so stays out of the tree's attrs.
func (m *meta) read(a slog.Attr) (routes bool) {
	k := a.Key
	if len(k) == 0 || len(k) >= len(reservedShapes) || reservedShapes[len(k)][k[0]/64]&(1<<(k[0]%64)) == 0 {
		return false
	}
	for _, r := range reservedKeys {
		if r.key == k {
			return m.readValue(r.what, a.Value.Resolve())
		}
	}
	return false
}

func (m *meta) readValue(what reserved, v slog.Value) (routes bool) {
	switch what {
	case isSemantic:
		if v.Kind() != slog.KindBool {
			return false
		}
		m.semantic = v.Bool()
		return true
	case model:
		if v.Kind() == slog.KindString && v.String() != "" {
			m.usage.calls = 1
			m.usage.model = v.String()
		}
	case tokens:
		if v.Kind() == slog.KindGroup {
			m.usage.calls = 1
			for _, t := range v.Group() {
				switch t.Key {
				case "input":
					m.usage.in = intValue(t.Value)
				case "output":
					m.usage.out = intValue(t.Value)
				}
			}
		}
	case cachedTokens:
		m.usage.cached = intValue(v)
	case cost:
		if v.Kind() == slog.KindFloat64 {
			m.usage.cost = toNano(v.Float64())
		} else {
			m.usage.cost = toNano(float64(intValue(v)))
		}
	default: // a scope ID
		if v.Kind() != slog.KindString {
			return false
		}
		m.ids[what-scopeID] = v.String()
		return true
	}
	return false
}

// routes reports whether a only routes its record; see meta.read.
func routes(a slog.Attr) bool {
	var m meta
	return m.read(a)
}

func intValue(v slog.Value) int64 {
	switch v = v.Resolve(); v.Kind() {
	case slog.KindInt64:
		return v.Int64()
	case slog.KindUint64:
		return int64(v.Uint64())
	case slog.KindFloat64:
		return int64(v.Float64())
	}
	return 0
}
