#!/usr/bin/env bash
# A Jaeger v2 for the e2e tests, built with `go build` from the module proxy
# at the version e2e/jaeger/go.mod pins, and run on 127.0.0.1 only
# (e2e/jaeger/config.yaml). The tool has a module of its own: Jaeger v1.76.0
# builds against OpenTelemetry v1.38, which the e2e tests' v1.47 would
# upgrade past what it compiles with.
#
#   scripts/jaeger.sh build   build it into the cache, unless it is there already
#   scripts/jaeger.sh test    build it, start it, run the e2e module's tests, and
#                             stop it, whatever happens
#
# The binary is cached in $SLOGWF_CACHE (default ~/.cache/slogwf), keyed by
# e2e/jaeger/go.mod, its go.sum and the Go version; the first build takes
# minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

cache=${SLOGWF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/slogwf}
key=$( (cat e2e/jaeger/go.mod e2e/jaeger/go.sum; go version) | sha256sum | cut -c1-16)
bin=$cache/jaeger-$key

build() {
	if [ -x "$bin" ]; then
		echo "jaeger: $bin is up to date"
		return
	fi
	mkdir -p "$cache"
	echo "jaeger: building $bin (takes minutes the first time)"
	local t0=$SECONDS
	(cd e2e/jaeger && go build -o "$bin.tmp" github.com/jaegertracing/jaeger/cmd/jaeger)
	mv "$bin.tmp" "$bin"
	echo "jaeger: built in $((SECONDS - t0))s"
}

# wait_port waits until something listens on 127.0.0.1:$1, while Jaeger runs.
wait_port() {
	for _ in $(seq 300); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "jaeger: exited before listening on port $1:" >&2
			cat "$log" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "jaeger: not listening on port $1 after 30s" >&2
	return 1
}

run_tests() {
	# Every port of e2e/jaeger/config.yaml, checked before anything starts.
	export SLOGWF_JAEGER_OTLP_PORT=${SLOGWF_JAEGER_OTLP_PORT:-4318}
	export SLOGWF_JAEGER_OTLP_GRPC_PORT=${SLOGWF_JAEGER_OTLP_GRPC_PORT:-4317}
	export SLOGWF_JAEGER_QUERY_PORT=${SLOGWF_JAEGER_QUERY_PORT:-16686}
	export SLOGWF_JAEGER_QUERY_GRPC_PORT=${SLOGWF_JAEGER_QUERY_GRPC_PORT:-16685}
	export SLOGWF_JAEGER_HEALTH_PORT=${SLOGWF_JAEGER_HEALTH_PORT:-13133}
	local var
	for var in SLOGWF_JAEGER_OTLP_PORT SLOGWF_JAEGER_OTLP_GRPC_PORT SLOGWF_JAEGER_QUERY_PORT \
		SLOGWF_JAEGER_QUERY_GRPC_PORT SLOGWF_JAEGER_HEALTH_PORT; do
		if (exec 3<>"/dev/tcp/127.0.0.1/${!var}") 2>/dev/null; then
			echo "jaeger: port ${!var} of 127.0.0.1 is taken (another Jaeger?): set $var to another" >&2
			return 1
		fi
	done
	build
	log=$(mktemp)
	local t0=$SECONDS
	"$bin" --config "file:$PWD/e2e/jaeger/config.yaml" >"$log" 2>&1 &
	pid=$!
	trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -f "$log"' EXIT
	trap 'exit 130' INT TERM # so that the EXIT trap stops Jaeger then too
	wait_port "$SLOGWF_JAEGER_OTLP_PORT"
	wait_port "$SLOGWF_JAEGER_QUERY_PORT"
	echo "jaeger: listening on 127.0.0.1 after $((SECONDS - t0))s"
	export SLOGWF_JAEGER=http://127.0.0.1:$SLOGWF_JAEGER_QUERY_PORT
	export SLOGWF_JAEGER_OTLP=http://127.0.0.1:$SLOGWF_JAEGER_OTLP_PORT
	(cd e2e && go vet ./... && go test -race -count=1 ./...)
}

case ${1:-} in
build) build ;;
test) run_tests ;;
*)
	echo "usage: scripts/jaeger.sh build|test" >&2
	exit 2
	;;
esac
