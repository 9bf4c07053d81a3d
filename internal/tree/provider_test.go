package tree

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAModelNamesItsProviderOnlyWhenOneProviderServesIt(t *testing.T) {
	tests := []struct{ model, provider string }{
		{"gemini-2.0-flash", "gcp.gen_ai"},
		{"models/gemini-1.5-pro", "gcp.gen_ai"},
		{"gpt-4o", ""},            // OpenAI's, and Azure OpenAI's
		{"claude-sonnet-4", ""},   // Anthropic's, Bedrock's, Vertex AI's, Azure's
		{"google/gemini-2.0", ""}, // a router's name: served by whom it routes to
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			assert.Equal(t, tt.provider, modelProvider(tt.model))
		})
	}
}

// callLines returns the lines of an action under interaction p that is a
// call: its start's attributes are start, its end's end, and its end names
// model.
func callLines(id, start, end, model string) []string {
	return []string{
		fmt.Sprintf(`{"ev":"start","wf":"w","id":%q,"parent":"p","kind":"action","time":"2026-01-01T00:00:03.000000000Z","name":"llm","attrs":%s}`, id, start),
		fmt.Sprintf(`{"ev":"end","wf":"w","id":%q,"time":"2026-01-01T00:00:04.000000000Z","status":"completed","attrs":%s,"usage":{"llm_calls":1,"input_tokens":10,"output_tokens":5,"model":%q}}`, id, end, model),
	}
}

// recordLine returns a record in interaction p that is a call to model.
func recordLine(model string) string {
	return fmt.Sprintf(`{"ev":"record","wf":"w","scope":"p","time":"2026-01-01T00:00:04.500000000Z","level":"INFO","msg":"call","usage":{"llm_calls":1,"model":%q}}`, model)
}

// An interaction's span carries the provider of its calls when they all
// have one, the same: else none, rather than one that is wrong for a call.
func TestAScopesProviderIsTheOneTheCallsOfItsSubtreeAgreeOn(t *testing.T) {
	const none = `{}`
	tests := []struct {
		name        string
		lines       []string
		call, agent string // the provider of call c, and of interaction p
	}{
		{"transport's calls of one provider",
			append(callLines("c", `{"provider":"azure.ai.openai"}`, none, "gpt-4o"), callLines("d", `{"provider":"azure.ai.openai"}`, none, "gpt-4o")...),
			"azure.ai.openai", "azure.ai.openai"},
		{"calls of two providers",
			append(callLines("c", `{"provider":"openai"}`, none, "gpt-4o"), callLines("d", `{"provider":"anthropic"}`, none, "claude-sonnet-4")...),
			"openai", ""},
		{"a call whose provider is unknown",
			append(callLines("c", `{"provider":"openai"}`, none, "gpt-4o"), callLines("d", none, none, "gpt-4o")...),
			"openai", ""},
		{"a call the program names at its end, by the convention's key first",
			callLines("c", `{"provider":"x"}`, `{"gen_ai.provider.name":"aws.bedrock","provider":"y"}`, "claude-sonnet-4"),
			"aws.bedrock", "aws.bedrock"},
		{"a call the program names at its start",
			callLines("c", `{"provider":"anthropic"}`, none, "claude-sonnet-4"),
			"anthropic", "anthropic"},
		{"a call named by its model alone",
			callLines("c", none, none, "gemini-2.0-flash"),
			"gcp.gen_ai", "gcp.gen_ai"},
		{"a provider that is not a string names none",
			callLines("c", `{"provider":1}`, none, "gemini-2.0-flash"),
			"gcp.gen_ai", "gcp.gen_ai"},
		{"gemini, Transport's name of before",
			callLines("c", `{"provider":"gemini"}`, none, "gemini-2.0-flash"),
			"gcp.gemini", "gcp.gemini"},
		{"records of one provider's models",
			[]string{recordLine("gemini-2.0-flash"), recordLine("gemini-2.0-flash-001")},
			"", "gcp.gen_ai"},
		{"records of models of two providers, the last a Gemini",
			[]string{recordLine("claude-sonnet-4"), recordLine("gemini-2.0-flash")},
			"", ""},
		{"no calls", nil, "", ""},
		{"a record of a call of no model, with records of one provider's models",
			[]string{recordLine("gemini-2.0-flash"), recordLine("")},
			"", ""},
		{"a call whose end counts one more of no model, with a record of a Gemini in it",
			[]string{
				`{"ev":"start","wf":"w","id":"c","parent":"p","kind":"action","time":"2026-01-01T00:00:03.000000000Z","name":"llm"}`,
				`{"ev":"record","wf":"w","scope":"c","time":"2026-01-01T00:00:03.500000000Z","level":"INFO","msg":"call","usage":{"llm_calls":1,"model":"gemini-2.0-flash"}}`,
				`{"ev":"end","wf":"w","id":"c","time":"2026-01-01T00:00:04.000000000Z","status":"completed","usage":{"llm_calls":1,"input_tokens":10}}`,
			},
			"", ""},
		{"a call whose start counts one of no model that its end does not name, with a record of a Gemini in it",
			[]string{
				`{"ev":"start","wf":"w","id":"c","parent":"p","kind":"action","time":"2026-01-01T00:00:03.000000000Z","name":"llm","usage":{"llm_calls":1,"input_tokens":10}}`,
				`{"ev":"record","wf":"w","scope":"c","time":"2026-01-01T00:00:03.500000000Z","level":"INFO","msg":"call","usage":{"llm_calls":1,"model":"gemini-2.0-flash"}}`,
				`{"ev":"end","wf":"w","id":"c","time":"2026-01-01T00:00:04.000000000Z","status":"completed"}`,
			},
			"", ""},
		{"a call whose start counts it and whose end names its model",
			[]string{
				`{"ev":"start","wf":"w","id":"c","parent":"p","kind":"action","time":"2026-01-01T00:00:03.000000000Z","name":"llm","usage":{"llm_calls":1,"input_tokens":10}}`,
				`{"ev":"end","wf":"w","id":"c","time":"2026-01-01T00:00:04.000000000Z","status":"completed","usage":{"output_tokens":5,"model":"gemini-2.0-flash"}}`,
			},
			"gcp.gen_ai", "gcp.gen_ai"},
		{"a call named by the convention's key at its start and by provider at its end, as its span names it",
			callLines("c", `{"gen_ai.provider.name":"aws.bedrock"}`, `{"provider":"anthropic"}`, "claude-sonnet-4"),
			"aws.bedrock", "aws.bedrock"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines := append([]string{
				`{"ev":"start","wf":"w","id":"w","kind":"workflow","time":"2026-01-01T00:00:00.000000000Z","name":"research"}`,
				`{"ev":"start","wf":"w","id":"p","parent":"w","kind":"interaction","time":"2026-01-01T00:00:02.000000000Z","agent":"planner"}`,
			}, tt.lines...)
			lines = append(lines,
				`{"ev":"end","wf":"w","id":"p","time":"2026-01-01T00:00:06.000000000Z","status":"completed"}`,
				`{"ev":"end","wf":"w","id":"w","time":"2026-01-01T00:00:07.000000000Z","status":"completed"}`)
			taken, _ := takeLive(t, lines)
			s := byID(taken)
			if strings.Contains(strings.Join(tt.lines, ""), `"id":"c"`) {
				assert.Equal(t, tt.call, s["c"].Provider, "the call's")
			}
			assert.Equal(t, tt.agent, s["p"].Provider, "the interaction's")
			assert.Equal(t, tt.agent, s["w"].Provider, "the workflow's: its subtree's")
		})
	}
}

// slogwf export -f takes the whole workflow at each poll, its open scopes
// too: the provider a call names at its end is its own and its agent's
// all the same, whatever a take read of it before.
func TestAProviderNamedAtTheEndStandsAfterATakeOfTheOpenCall(t *testing.T) {
	tests := []struct{ name, end, want string }{
		{"by the convention's key", `{"gen_ai.provider.name":"aws.bedrock"}`, "aws.bedrock"},
		{"by provider", `{"provider":"anthropic"}`, "anthropic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			call := callLines("c", `{}`, tt.end, "claude-sonnet-4")
			tr := NewTree("w")
			apply := func(lines ...string) {
				for _, line := range lines {
					e, err := Decode([]byte(line))
					require.NoError(t, err, line)
					tr.Apply(e)
				}
			}
			apply(`{"ev":"start","wf":"w","id":"w","kind":"workflow","time":"2026-01-01T00:00:00.000000000Z","name":"research"}`,
				`{"ev":"start","wf":"w","id":"p","parent":"w","kind":"interaction","time":"2026-01-01T00:00:02.000000000Z","agent":"planner"}`,
				strings.Replace(call[0], `"attrs":{}`, `"attrs":{},"usage":{"llm_calls":1}`, 1))
			tr.Take("w", false, func(*Ended) {}) // a poll, the call open
			apply(call[1],
				`{"ev":"end","wf":"w","id":"p","time":"2026-01-01T00:00:06.000000000Z","status":"completed"}`,
				`{"ev":"end","wf":"w","id":"w","time":"2026-01-01T00:00:07.000000000Z","status":"completed"}`)
			var taken []*Ended
			tr.Take("w", true, func(s *Ended) { taken = append(taken, s) })
			s := byID(taken)
			require.Contains(t, s, "c")
			assert.Equal(t, tt.want, s["c"].Provider, "the call's")
			assert.Equal(t, tt.want, s["p"].Provider, "the interaction's")
		})
	}
}

// slogwf export -f takes the whole workflow at each poll, and each end of a
// scope live takes its subtree: the attributes of a call are read for its
// provider once, not again at each take of a scope above it.
func TestATakeReadsTheProviderACallNamesOnce(t *testing.T) {
	allocs := func(attrs string) float64 {
		lines := []string{
			`{"ev":"start","wf":"w","id":"w","kind":"workflow","time":"2026-01-01T00:00:00.000000000Z","name":"research"}`,
			`{"ev":"start","wf":"w","id":"p","parent":"w","kind":"interaction","time":"2026-01-01T00:00:02.000000000Z","agent":"planner"}`,
		}
		for i := range 100 {
			lines = append(lines, callLines(fmt.Sprint("c", i), attrs, `{}`, "gpt-4o")...)
		}
		tr := NewTree("w")
		for _, line := range lines {
			e, err := Decode([]byte(line))
			require.NoError(t, err, line)
			tr.Apply(e)
		}
		take := func() { tr.Take("w", false, func(*Ended) {}) }
		take()
		return testing.AllocsPerRun(10, take)
	}
	assert.Equal(t, allocs(`{"vendor":"openai"}`), allocs(`{"provider":"openai"}`), "a take after the first reads no call's attributes")
}
