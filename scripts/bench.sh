#!/usr/bin/env bash
# Runs the benchmarks, prints each target's ratio of medians with PASS or
# FAIL, then benchstat's table. COUNT (default 6) sets the rounds; GROWTH=0
# leaves out the slow linear-growth benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# ./otel holds BenchmarkOTelSpan, the OpenTelemetry SDK's own span: the
# anchor of the live export's figures.
go test -c -o "$out/root.test" .
go test -c -o "$out/otel.test" ./otel
# Rounds of every benchmark once, not each benchmark COUNT times in a row:
# a ratio's two sides then share whatever the machine does meanwhile, as
# benchstat advises. The ShortWorkflow benchmarks keep their files across
# the rounds (see benchDirs in bench_test.go).
export SLOGWF_BENCH_DIR="$out"
for _ in $(seq "${COUNT:-6}"); do
	"$out/root.test" -test.run '^$' -test.bench . -test.benchmem
	(cd otel && "$out/otel.test" -test.run '^$' -test.bench . -test.benchmem)
done | tee "$out/bench.txt"
# Before the growth benchmarks, which their writeback would disturb.
rm -rf "$out"/slogwf-bench-*
if [ "${GROWTH:-1}" != 0 ]; then
	go test -tags growth -run '^$' -bench '^BenchmarkGrowth' -benchtime 1x -count "${GROWTH_COUNT:-5}" -timeout 30m . | tee -a "$out/bench.txt"
fi

echo
# Where the benchmarks' files went: creating a file costs what this file
# system makes it cost (see BenchmarkShortWorkflowFile).
echo "files in ${TMPDIR:-/tmp}: $(findmnt -no FSTYPE,OPTIONS -T "${TMPDIR:-/tmp}" 2>/dev/null || echo unknown)"
awk -f scripts/ratios.awk "$out/bench.txt"
echo
go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da "$out/bench.txt"
