package slogwf

import (
	"cmp"
	"log/slog"
	"math"

	"github.com/slogwf/slogwf/internal/tree"
)

// Reserved attribute keys. slogwf reads them from the attributes a record is
// logged with directly (not from inside an explicit [slog.Group]).
const (
	// Usage: a record that carries a model or tokens counts as one LLM call,
	// and its tokens and cost roll up into every node above it.
	ModelKey            = "model"
	TokensKey           = "tokens" // a group: input, output
	CachedTokensKey     = "cached_tokens"
	CacheWriteTokensKey = "cache_write_tokens"
	CostKey             = "cost_usd"

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
// GenAI rule, in counts every input token, those read from and written to
// the prompt cache included.
func Tokens(in, out int) slog.Attr {
	return slog.Group(TokensKey, slog.Int("input", in), slog.Int("output", out))
}

// CachedTokens returns how many of an LLM call's input tokens were read from
// the provider's prompt cache. They are part of the input count of [Tokens].
func CachedTokens(n int) slog.Attr { return slog.Int(CachedTokensKey, n) }

// CacheWriteTokens returns how many of an LLM call's input tokens were
// written to the provider's prompt cache, which may cost more than other
// input (see [Price]). They are part of the input count of [Tokens].
func CacheWriteTokens(n int) slog.Attr { return slog.Int(CacheWriteTokensKey, n) }

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

// ids are the scope IDs named by attributes, by kind (the zero Kind has
// none).
type ids [nKinds]string

// innermost returns the workflow and the innermost scope the IDs name,
// and the scope's kind.
func (x *ids) innermost() (wf, scope string, kind Kind) {
	for k := nKinds - 1; k >= KindWorkflow; k-- {
		if x[k] != "" {
			return x[KindWorkflow], x[k], k
		}
	}
	return "", "", 0
}

// none reports whether x names no scope.
func (x *ids) none() bool {
	for _, id := range x {
		if id != "" {
			return false
		}
	}
	return true
}

// named reports whether the attributes m read name a scope. Reading an ID
// sets m.routing: most records, which name none, are told by that test.
func (m *meta) named() bool { return m.routing && !m.ids.none() }

// merge fills the kinds x leaves empty from y.
func (x *ids) merge(y *ids) {
	for k := range x {
		if x[k] == "" {
			x[k] = y[k]
		}
	}
}

// scopeIDKey returns the key of the ID of a scope of kind k.
func scopeIDKey(k Kind) string {
	for _, r := range reservedKeys {
		if r.what == scopeID+reserved(k) {
			return r.key
		}
	}
	return ""
}

// reserved is what an attribute with a reserved key says.
type reserved uint8

const (
	isSemantic       reserved = iota + 1 // a semantic warning
	model                                // usage: the model of an LLM call
	tokens                               // usage: a group of input and output tokens
	cachedTokens                         // usage: input tokens read from the cache
	cacheWriteTokens                     // usage: input tokens written to the cache
	cost                                 // usage: the cost in US dollars
	scopeID                              // scopeID+k: the ID of a scope of kind k
)

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
	{CacheWriteTokensKey, cacheWriteTokens},
	{CostKey, cost},
}

// reservedShapes holds, by length, the first bytes of the reserved keys
// that long: most keys are none, and are told so without a comparison. It
// has room for keys up to 19 bytes long.
var reservedShapes = func() (shapes [20][256 / 64]uint64) {
	for _, r := range reservedKeys {
		shapes[len(r.key)][r.key[0]/64] |= 1 << (r.key[0] % 64)
	}
	return shapes
}()

// meta is what slogwf reads from a record's own attributes.
type meta struct {
	ids      ids
	usage    tree.Usage
	semantic bool
	routing  bool  // an attribute only routes the record; see read
	keyed    keyed // the scope ID keys of the attributes, whatever their values
	clamped  int64 // numbers of usage out of bounds; see settle
}

// read reads a into m when its key is reserved, and reports whether a
// only routes its record, and so stays out of the tree's attrs.
func (m *meta) read(a slog.Attr) (routes bool) {
	k := a.Key
	if len(k) == 0 {
		m.keyed |= keysOf(a) // on the next handler's lines
		return false
	}
	if len(k) >= len(reservedShapes) || reservedShapes[len(k)][k[0]/64]&(1<<(k[0]%64)) == 0 {
		return false
	}
	return m.readReserved(a)
}

// readReserved is read, for a key that may be reserved.
func (m *meta) readReserved(a slog.Attr) (routes bool) {
	k := a.Key
	for _, r := range reservedKeys {
		if r.key == k {
			routes = m.readValue(r.what, a.Value.Resolve())
			m.routing = m.routing || routes
			return routes
		}
	}
	return false
}

// readValue reads v, resolved, into m as what, and reports whether it only
// routes its record.
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
			m.usage.Calls = 1
			m.usage.Model = v.String()
		}
	case tokens:
		if v.Kind() == slog.KindGroup {
			m.usage.Calls = 1
			for _, t := range v.Group() {
				switch t.Key {
				case "input":
					m.usage.In = count(t.Value)
				case "output":
					m.usage.Out = count(t.Value)
				}
			}
		}
	case cachedTokens:
		m.usage.Cached = count(v)
	case cacheWriteTokens:
		m.usage.CacheWrite = count(v)
	case cost:
		var usd float64
		if v.Kind() == slog.KindFloat64 {
			usd = v.Float64()
		} else {
			usd = float64(count(v))
		}
		if math.IsNaN(usd) {
			m.clamped++ // counts for nothing
		}
		m.usage.Cost = tree.ToNano(usd)
	default: // a scope ID
		m.keyed |= 1 << (what - scopeID)
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

// settle bounds the usage that m read (see tree.Usage.Clamp), costs it at
// prices when it has no cost, bounds that cost, and counts in m.clamped
// the numbers it changed: the tree would bound them as it applies the
// event, and the journal line must say what the tree holds.
func (m *meta) settle(prices Prices) {
	m.clamped += m.usage.Clamp() // before the price takes the tokens
	prices.fill(&m.usage)
	m.clamped += m.usage.Clamp()
}

// settleEnd is settle for the end of a scope whose start said usage
// begun, as given, and a cost if given: a scope is one LLM call, whose cost
// is what a cost given on either half says, or else its tokens, of both
// halves, at the model the end names, or the start. The end adds what the
// start's line did not say; the start's model is only looked up, never
// written here, since it is not cleaned.
func (m *meta) settleEnd(prices Prices, begun tree.Usage, given bool) {
	begun.Clamp() // as the start's line has it
	prices.fill(&begun)
	begun.Clamp()
	if begun.Calls > 0 {
		m.usage.Calls = 0
	}
	m.clamped += m.usage.Clamp()
	switch model := cmp.Or(m.usage.Model, begun.Model); {
	case m.usage.Cost != 0:
		if !given {
			m.usage.Cost -= begun.Cost
		}
	case !given && model != "":
		if _, ok := prices.of(model); !ok {
			break // the start's cost stands; the end's tokens have no price
		}
		all := tree.Usage{In: begun.In + m.usage.In, Out: begun.Out + m.usage.Out, Cached: begun.Cached + m.usage.Cached,
			CacheWrite: begun.CacheWrite + m.usage.CacheWrite, Model: model}
		prices.fill(&all)
		all.Clamp() // the call's bound, which the start's may have taken already
		m.usage.Cost = all.Cost - begun.Cost
	}
	m.clamped += m.usage.Clamp()
}

// count returns v as a count of tokens. One past what int64 holds is
// still out of tree.Usage.Clamp's bounds, and so is NaN.
func count(v slog.Value) int64 {
	switch v = v.Resolve(); v.Kind() {
	case slog.KindInt64:
		return v.Int64()
	case slog.KindUint64:
		return int64(min(v.Uint64(), math.MaxInt64))
	case slog.KindFloat64:
		f := v.Float64()
		if !(f >= 0) { // NaN too
			return -1
		}
		return int64(min(f, tree.MaxTokens+1))
	}
	return 0
}
