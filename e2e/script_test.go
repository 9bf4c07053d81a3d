package e2e

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jaegerPorts are the variables that set the ports of the Jaeger of
// scripts/jaeger.sh: every port that it takes.
var jaegerPorts = []string{
	"SLOGWF_JAEGER_OTLP_PORT", "SLOGWF_JAEGER_OTLP_GRPC_PORT", "SLOGWF_JAEGER_QUERY_PORT",
	"SLOGWF_JAEGER_QUERY_GRPC_PORT", "SLOGWF_JAEGER_HEALTH_PORT",
}

// scripts/jaeger.sh names a port that another program holds, whichever of
// Jaeger's it is, before it builds or starts anything.
func TestJaegerScriptNamesATakenPortBeforeItStarts(t *testing.T) {
	// A go that knows its version only: a build would fail at once.
	bin := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(bin, "go"),
		[]byte("#!/bin/sh\n[ \"$1\" = version ] && { echo go version fake; exit 0; }\necho \"fake go: $*\" >&2\nexit 1\n"), 0o700))
	free := func() (string, net.Listener) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), ln
	}
	for _, taken := range jaegerPorts {
		t.Run(taken, func(t *testing.T) {
			env := []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "SLOGWF_CACHE=" + t.TempDir()}
			var port string
			for _, v := range jaegerPorts {
				p, ln := free()
				if v == taken {
					port = p
					defer ln.Close()
				} else {
					ln.Close()
				}
				env = append(env, v+"="+p)
			}
			cmd := exec.Command("bash", "../scripts/jaeger.sh", "test")
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			require.Error(t, err, "%s", out)
			assert.Equal(t, "jaeger: port "+port+" of 127.0.0.1 is taken (another Jaeger?): set "+taken+" to another\n", string(out))
			assert.NotContains(t, string(out), "fake go", "nothing built")
		})
	}
}

// The ports the script checks are those its configuration takes.
func TestJaegerScriptChecksEveryPortOfItsConfig(t *testing.T) {
	config, err := os.ReadFile("jaeger/config.yaml")
	require.NoError(t, err)
	var inConfig []string
	for _, part := range strings.Split(string(config), "${env:")[1:] {
		name, _, _ := strings.Cut(part, ":")
		inConfig = append(inConfig, name)
	}
	assert.ElementsMatch(t, jaegerPorts, inConfig)
}
