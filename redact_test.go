package slogwf

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// secretKey matches keys as strings.EqualFold does, the fast path for
// ASCII keys included.
func TestSecretKeyMatchesAsEqualFold(t *testing.T) {
	for _, keys := range [][]string{nil, {"Session_Token", "ſid"}, {""}} {
		red := newRedactor(&Redaction{Keys: keys})
		for _, key := range []string{"password", "PASSWORD", "Password", "passwd", "passwork", "api_key", "API_KEY",
			"secret", "ſecret", "coo\u212aie", "prompt", "stream", "x", "", "session_token", "SID", "sid", "ſid"} {
			want := false
			for _, k := range red.keys {
				want = want || strings.EqualFold(key, k)
			}
			assert.Equal(t, want, red.secretKey(key), "keys %q, key %q", keys, key)
		}
	}
}
