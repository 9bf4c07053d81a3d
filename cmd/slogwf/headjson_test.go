package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// heads are heads of tree files, as slogwf writes them and otherwise.
var heads = []string{
	`{"schema":"slogwf.tree/v1","kind":"workflow","id":"0190a0b0-0000-7000-8000-000000000001","name":"svc","status":"completed","start":"2026-01-01T00:00:00.000000000Z","end":"2026-01-01T00:00:00.300000000Z","duration_ms":300.5,"attrs":{"req":1,"q":"a\"b","n":[1,{"x":null}]},"usage":{"llm_calls":1,"input_tokens":100,"cached_input_tokens":0,"cache_write_input_tokens":7,"output_tokens":20,"total_tokens":120,"cost_usd":0.0123},"counts":{"records":2,"warnings":0,"semantic":0,"errors":1},"loss":{"dropped":0,"truncated":3,"redacted":0,"unwritten":5}}`,
	`{"schema":"slogwf.tree/v1","kind":"workflow","id":"w","name":"caf\u00e9","status":"running","usage":{"llm_calls":0}}`,
	`{"schema":"slogwf.tree/v1","ID":"upper","Name":"x"}`,
	`{"schema":"slogwf.tree/v1","id":"w","duration_ms":null,"counts":null}`,
	`{"schema": "slogwf.tree/v1", "id": "spaced"}`,
	`{"schema":"slogwf.tree/v1","id":"w","usage":{"llm_calls":+1}}`,
	`{"schema":"slogwf.tree/v1","id":"w","usage":{"llm_calls":007}}`,
	`{"schema":"slogwf.tree/v1","id":"w","attrs":{bad}}`,
	`{"schema":"slogwf.tree/v1","id":"w","loss":{"a":1},"loss":{"b":2}}`,
	`{"ev":"start","wf":"w","id":"w"}`,
	`{}`,
}

// The fast way gives what encoding/json gives, for the heads it takes;
// decodeHead, either way, for all.
func TestDecodeHeadAgreesWithEncodingJSON(t *testing.T) {
	fast := 0
	for _, head := range heads {
		var want, got, quick treeHead
		wantErr := json.Unmarshal([]byte(head), &want)
		if (&headDecoder{b: []byte(head)}).object(&quick) {
			fast++
			require.NoError(t, wantErr, head)
			assert.Equal(t, want, quick, head)
		}
		err := decodeHead([]byte(head), &got)
		if wantErr != nil {
			assert.Error(t, err, head)
			continue
		}
		require.NoError(t, err, head)
		assert.Equal(t, want, got, head)
	}
	assert.Equal(t, 4, fast, "the heads taken the fast way")
}

// The heads that slogwf writes take the fast way.
func TestDecodeHeadDecodesWhatSlogwfWritesItself(t *testing.T) {
	var h treeHead
	assert.True(t, (&headDecoder{b: []byte(heads[0])}).object(&h))
	assert.JSONEq(t, `{"dropped":0,"truncated":3,"redacted":0,"unwritten":5}`, string(h.Loss))
	assert.Equal(t, 300.5, *h.DurationMS)
}

func FuzzDecodeHead(f *testing.F) {
	for _, head := range heads {
		f.Add([]byte(head))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want, got treeHead
		wantErr := json.Unmarshal(b, &want)
		var quick treeHead
		if (&headDecoder{b: b}).object(&quick) {
			if wantErr != nil {
				t.Fatalf("%q: encoding/json says %v, the fast way takes it", b, wantErr)
			}
			assert.Equal(t, want, quick, "%q", b)
		}
		err := decodeHead(b, &got)
		if (wantErr == nil) != (err == nil) {
			t.Fatalf("%q: encoding/json says %v, decodeHead %v", b, wantErr, err)
		}
		if err == nil {
			assert.Equal(t, want, got, "%q", b)
		}
	})
}
