package main

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// The report page: plain HTML, CSS and JavaScript, with the data of its
// workflows inline, so that one file shows them with no network.
//
//go:embed report/report.html report/report.css report/report.js
var reportFiles embed.FS

// reportPage is the page, cut where its data goes.
type reportPage struct {
	csp           string // its Content-Security-Policy
	before, after string
}

// Pages for a file and for serve; the live one also connects to its
// server for the events.
var (
	filePage = newReportPage(false)
	livePage = newReportPage(true)
)

func newReportPage(live bool) reportPage {
	read := func(name string) string {
		b, err := reportFiles.ReadFile("report/" + name)
		if err != nil {
			panic(err)
		}
		return string(b)
	}
	html, css, js := read("report.html"), read("report.css"), read("report.js")
	if strings.Contains(strings.ToLower(css), "</style") || strings.Contains(strings.ToLower(js), "</script") {
		panic("slogwf: report.css or report.js ends its element early")
	}
	hash := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	// Nothing but the page's own script and style, by hash: no other
	// source, no inline handler, no form, no base; the live page may
	// also connect to where it came from, for its events.
	csp := "default-src 'none'; script-src " + hash(js) + "; style-src " + hash(css) +
		"; base-uri 'none'; form-action 'none'"
	if live {
		csp += "; connect-src 'self'"
	}
	html = strings.Replace(html, "{{CSP}}", csp, 1)
	html = strings.Replace(html, "{{CSS}}", css, 1)
	before, after, ok := strings.Cut(html, "{{DATA}}")
	if !ok {
		panic("slogwf: report.html has no {{DATA}}")
	}
	return reportPage{csp: csp, before: before, after: strings.Replace(after, "{{JS}}", js, 1)}
}

// reportData is what a page shows: its workflows, newest first, or, when
// live, none until its server sends them.
type reportData struct {
	Live      bool             `json:"live,omitempty"`
	Workflows []reportWorkflow `json:"workflows"`
}

// reportWorkflow is one workflow of a page: its tree as the tree file
// holds it, and its tables by agent and by model, as slogwf stats makes
// them.
type reportWorkflow struct {
	Tree  json.RawMessage        `json:"tree"`
	Stats map[string]reportTable `json:"stats"`

	root *treeNode
}

// reportTable is a table of slogwf stats -json.
type reportTable struct {
	Rows  []statsRowJSON `json:"rows"`
	Total statsRowJSON   `json:"total"`
}

// newReportWorkflow returns the workflow of the tree file data, read from
// name.
func newReportWorkflow(data []byte, name string) (reportWorkflow, error) {
	root, err := decodeTreeFile(bytes.NewReader(data), statsRecord)
	if err != nil {
		return reportWorkflow{}, fmt.Errorf("%s: %w", name, err)
	}
	w := reportWorkflow{Tree: data, Stats: map[string]reportTable{}, root: root}
	for _, by := range []string{"agent", "model"} {
		s := newWorkflowStats(root, root.Name, by)
		t := reportTable{Rows: []statsRowJSON{}, Total: s.total.json()}
		for _, r := range s.rows {
			t.Rows = append(t.Rows, r.json())
		}
		w.Stats[by] = t
	}
	return w, nil
}

// write writes the page with data to w. encoding/json escapes <, >, &,
// U+2028 and U+2029 in the data, so no string of it can end the script
// element that holds it or be read as markup.
func (p reportPage) write(w io.Writer, data reportData) error {
	if data.Workflows == nil {
		data.Workflows = []reportWorkflow{}
	}
	j, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("encode the page's data: %w", err)
	}
	if _, err := io.WriteString(w, p.before); err != nil {
		return err
	}
	if _, err := w.Write(j); err != nil {
		return err
	}
	_, err = io.WriteString(w, p.after)
	return err
}
