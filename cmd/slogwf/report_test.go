package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
)

// hostile is text that would run, restyle or reorder a page if it were
// taken as markup, or shown raw.
var hostile = []string{
	`<script>window.__pwned = 1; document.title = "pwned"</script>`,
	`</script><script>window.__pwned = 2</script>`,
	`</SCRIPT ><script>window.__pwned = 3</script>`,
	`<img src=x onerror="window.__pwned = 4">`,
	`<svg onload="window.__pwned = 5"></svg>`,
	`javascript:window.__pwned = 6`,
	`<a href="javascript:window.__pwned = 7">click me</a>`,
	`" onmouseover="window.__pwned = 8" x="`,
	`<!-- <script>window.__pwned = 9</script> -->`,
	`<iframe srcdoc="<script>parent.__pwned = 10</script>"></iframe>`,
	`<style>body { display: none }</style>`,
	`<base href="http://evil.example/"><meta http-equiv="refresh" content="0;url=javascript:window.__pwned=11">`,
	`${window.__pwned = 12}{{constructor.constructor('window.__pwned = 13')()}}`,
	"bidi \u202eevil\u202c \u2066isolated\u2069 line\u2028separator\u2029end",
}

// bidi is hostile's last text as the page shows it: its controls escaped.
const bidi = `bidi \u202eevil\u202c \u2066isolated\u2069 line\u2028separator\u2029end`

// writeHostile logs hostile text in every field a page shows: names,
// agents, attributes, input, output, errors, messages, and a 1 MiB value;
// it returns the directory of the journals and tree.
func writeHostile(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	h, err := slogwf.New(&slogwf.Options{Dir: dir, Console: io.Discard, MaxValue: -1})
	require.NoError(t, err)
	log := slog.New(h)
	ctx := slogwf.ContextWithLogger(context.Background(), log)
	huge := strings.Repeat("<script>window.__pwned = 99</script>", 1<<20/36+1)

	var attrs []any
	for i, s := range hostile {
		attrs = append(attrs, s, s, "v"+string(rune('a'+i)), s)
	}
	ctx, wf := slogwf.StartWorkflow(ctx, hostile[0], attrs...)
	for i, s := range hostile {
		ictx, ia := slogwf.StartInteraction(ctx, s, slogwf.InputKey, s)
		actx, act := slogwf.StartAction(ictx, s, slogwf.InputKey, s, slogwf.Model(s), slogwf.Tokens(10, 5))
		log.WarnContext(actx, s, append(attrs[:0:0], s, s, slogwf.OriginKey, s)...)
		slogwf.Semantic(actx, s, "why", s)
		if i%2 == 0 {
			act.Fail(errors.New(s))
		} else {
			act.End(slogwf.OutputKey, s)
		}
		ia.End(slogwf.OutputKey, s)
	}
	_, act := slogwf.StartAction(ctx, "huge")
	act.End(slogwf.OutputKey, huge)
	wf.End()
	require.NoError(t, h.Close())
	return dir
}

// The data can end neither its script element nor open another: only the
// page's own two scripts are there, and its data decodes to the tree.
func TestReportDataCannotEndItsScriptElement(t *testing.T) {
	dir := writeHostile(t)
	trees, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	require.Len(t, trees, 1)
	out := writeHTML(t, trees[0])
	page, err := os.ReadFile(out)
	require.NoError(t, err)
	text := string(page)
	lower := strings.ToLower(text)
	assert.Equal(t, 2, strings.Count(lower, "<script"), "the data and the page's code")
	assert.Equal(t, 2, strings.Count(lower, "</script"))
	assert.Equal(t, 1, strings.Count(lower, "<style"))
	assert.NotContains(t, text, "<!--")
	assert.NotContains(t, text, "\u2028", "a line separator ends a JavaScript string in old parsers")
	assert.NotContains(t, text, "\u2029")

	const open = `<script type="application/json" id="slogwf-data">`
	_, data, ok := strings.Cut(text, open)
	require.True(t, ok)
	data, _, ok = strings.Cut(data, "</script>")
	require.True(t, ok)
	assert.NotContains(t, data, "<")
	assert.NotContains(t, data, ">")
	assert.NotContains(t, data, "&")
	var decoded struct {
		Workflows []struct{ Tree json.RawMessage }
	}
	require.NoError(t, json.Unmarshal([]byte(data), &decoded))
	want, err := os.ReadFile(trees[0])
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(decoded.Workflows[0].Tree))
}

// The page allows its own code only: the hashes of its one script and
// one style, nothing inline else, nothing from anywhere.
func TestReportPolicyAllowsOnlyItsOwnCode(t *testing.T) {
	for name, p := range map[string]reportPage{"file": filePage, "live": livePage} {
		t.Run(name, func(t *testing.T) {
			assert.Contains(t, p.before, `<meta http-equiv="Content-Security-Policy" content="`+p.csp+`">`)
			assert.True(t, strings.HasPrefix(p.csp, "default-src 'none'; script-src 'sha256-"), p.csp)
			assert.NotContains(t, p.csp, "unsafe")
			assert.NotContains(t, p.csp, "*")
			assert.NotContains(t, p.csp, "http")
			assert.Equal(t, name == "live", strings.Contains(p.csp, "connect-src 'self'"))
			assert.Equal(t, 2, strings.Count(p.csp, "'sha256-"))
		})
	}
}

// Hostile text shows as text, and runs, loads and restyles nothing.
func TestReportRunsNothingFromTheLog(t *testing.T) {
	dir := writeHostile(t)
	p := openReport(t, dir)
	pwned := func() {
		t.Helper()
		assert.Equal(t, "undefined", p.str(`typeof window.__pwned`))
		assert.Equal(t, 0.0, p.num(`document.querySelectorAll('img, svg, iframe, a, base, meta[http-equiv="refresh"], object, embed, form').length`), "no element from the log")
		assert.Equal(t, 2.0, p.num(`document.querySelectorAll('script').length`))
		assert.Equal(t, 1.0, p.num(`document.querySelectorAll('style').length`))
		assert.Equal(t, "flex", p.str(`getComputedStyle(document.body).display`))
		assert.True(t, strings.HasPrefix(p.str(`location.href`), "file://"), "no navigation")
	}
	assert.Equal(t, "slogwf · "+hostile[0], p.str(`document.title`))
	pwned()

	// Every scope selected, its details drawn: each text shows as it is.
	p.click(`#expand-all`)
	rows := p.rows()
	require.Len(t, rows, 1+2*len(hostile)+1, "the workflow, an interaction and an action per text, and the huge one")
	seen := ""
	for _, id := range rows {
		p.clickRow(id)
		seen += p.str(jsDetails)
	}
	for _, s := range append(hostile[:len(hostile)-1:len(hostile)-1], bidi) {
		assert.True(t, strings.Contains(seen, s), "shows %s", s)
	}
	assert.False(t, strings.ContainsAny(seen, "\u202e\u2028"), "bidi controls and line separators escaped")
	assert.Contains(t, p.str(`document.getElementById('rows').textContent`), `bidi \u202eevil`)
	assert.Greater(t, p.num(`Math.max(...[...document.querySelectorAll('#details pre')].map((e) => e.textContent.length))`), float64(1<<20), "the 1 MiB output, whole")
	pwned()

	// Searched, filtered, in tables: the same.
	p.click(`#search`)
	p.keys(`<script>`)
	p.wait(`document.querySelectorAll('#rows .row.match').length > 0`)
	p.choose("agent", hostile[1])
	p.click(`#tab-tables`)
	tables := p.str(`document.getElementById('view-tables').textContent`)
	for _, s := range hostile[:len(hostile)-1] {
		assert.True(t, strings.Contains(tables, s), "shows %s", s)
	}
	pwned()
	p.noConsoleErrors()
}

// A status or kind of a tree file that is none of the contract's takes no
// class from its text: a crafted one cannot mark a row selected, matched
// or hot, nor restyle it.
func TestReportTakesNoClassFromTheData(t *testing.T) {
	const forged = `{"schema":"slogwf.tree/v1","kind":"workflow","id":"w","name":"w","status":"completed sel match",
"start":"2026-01-01T00:00:00Z","end":"2026-01-01T00:00:02Z","duration_ms":2000,
"interactions":[{"kind":"interaction b-hot2 sel","id":"a","agent":"a","status":"failed sel match",
"start":"2026-01-01T00:00:00Z","end":"2026-01-01T00:00:01Z","duration_ms":1000}]}`
	path := filepath.Join(t.TempDir(), "w.json")
	require.NoError(t, os.WriteFile(path, []byte(forged), 0o600))
	p := openReport(t, path)
	p.clickRow("a")
	var classes []string
	p.eval(`[document.getElementById('wf-status'), ...document.querySelectorAll('#rows .row:not([hidden]), #rows .row:not([hidden]) .status, #details h2 .status')].map((e) => e.className)`, &classes)
	assert.Equal(t, []string{
		"status st-other",
		"row k-workflow s-other", "status st-other",
		"row k-other s-other sel", "status st-other",
		"status st-other",
	}, classes)
	p.noConsoleErrors()
}
