package tree

import (
	"bytes"
	"cmp"
	"encoding/json"
	"strings"
)

// The GenAI provider of the LLM calls of a scope, as the OpenTelemetry
// GenAI conventions name it (gen_ai.provider.name): what the OTel export
// puts on a call's span, and on an agent's when its calls agree.

// Provider returns the GenAI provider of an LLM call whose attributes
// name named ("gen_ai.provider.name", or else "provider", as
// slogwf.Transport logs it), or else of its model; "" when unknown.
func Provider(named, model string) string {
	switch named {
	case "":
		return modelProvider(model)
	case "gemini": // slogwf.Transport's name for it in journals of before
		return "gcp.gemini"
	}
	return named
}

// modelProvider returns the provider that a model's name alone says, "" for
// most: gpt-4o is served by OpenAI and by Azure OpenAI, claude-sonnet-4 by
// Anthropic, AWS Bedrock, Vertex AI and Azure, under the same names. Only
// Google serves Gemini, through the Gemini API or Vertex AI: gcp.gen_ai, the
// conventions' name for either.
func modelProvider(model string) string {
	if strings.HasPrefix(strings.TrimPrefix(model, "models/"), "gemini-") {
		return "gcp.gen_ai"
	}
	return ""
}

// named is what the attributes of a scope name its provider.
type named struct {
	Provider string `json:"provider"`
	GenAI    string `json:"gen_ai.provider.name"`
}

// namedProvider returns the providers that attributes, a JSON object, name.
func namedProvider(attrs []byte) named {
	var a named
	if bytes.Contains(attrs, []byte("provider")) { // most scopes name none: not decoded
		_ = json.Unmarshal(attrs, &a) // a value not a string names none
	}
	return a
}

// notOne is the provider of calls that do not all have one they agree on:
// one's is unknown, or two have two.
const notOne = "\x00"

// agree returns the provider of the calls of a and b: "" when neither
// has calls.
func agree(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "" || a == b:
		return a
	}
	return notOne
}

// ownProvider returns the provider of the calls n made itself, "" when it
// made none: the one its start or end names, or else the one the models of
// its start, records and end agree on. A call of no model is of a provider
// unknown: a record's, an end's that its start did not count, a start's
// that its end does not name.
func (n *node) ownProvider() string {
	if n.part.usage.calls == 0 && n.endUsage.Calls == 0 {
		return ""
	}
	if n.named == "" {
		// By the convention's key first, of the end or the start, as the
		// call's span reads their attributes merged. Read once, not at
		// each Take of a scope above.
		start, end := namedProvider(n.attrs), namedProvider(n.endAttrs)
		n.named = cmp.Or(Provider(cmp.Or(end.GenAI, start.GenAI, end.Provider, start.Provider), ""), notOne)
	}
	if n.named != notOne {
		return n.named
	}
	if n.modelProv == "" || n.endUsage.Model == "" && (n.endUsage.Calls > 0 || n.unnamed) {
		return notOne
	}
	return n.modelProv
}

// nameModel takes a model that an event of Apply names, as the node's last,
// and the provider the models named so far agree on.
func (n *node) nameModel(model string) {
	if model == "" {
		return
	}
	n.model = model
	p := modelProvider(model)
	if p == "" {
		p = notOne
	}
	n.modelProv = agree(n.modelProv, p)
}
