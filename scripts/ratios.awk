# Reads `go test -bench` output; prints each target of the README's
# Performance section as a ratio of medians, with PASS or FAIL.

/^Benchmark/ {
	name = $1
	sub(/-[0-9]+$/, "", name)
	for (i = 3; i < NF; i += 2) {
		k = name SUBSEP $(i + 1)
		vals[k] = vals[k] " " $i
	}
}

function median(name, unit,    n, v, i, j, t) {
	n = split(vals[name SUBSEP unit], v, " ")
	if (n == 0) {
		missing = 1
		return 0
	}
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) {
			t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
		}
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}

# check prints what is compared, its figure and target, and PASS or FAIL.
function check(what, x, op, target,    ok) {
	if (missing) {
		printf "%-52s %10s %s %-8s %s\n", what, "-", op, target, "MISSING"
		missing = 0
		fails++
		return
	}
	ok = op == "<=" ? x <= target : op == "==" ? x == target : x >= target
	printf "%-52s %10.3f %s %-8s %s\n", what, x, op, target, ok ? "PASS" : "FAIL"
	if (!ok)
		fails++
}

# note prints a ratio that has no target, to read the others by.
function note(what, x) {
	if (missing) {
		missing = 0
		return
	}
	printf "%-52s %10.3f    (no target)\n", what, x
}

function ratio(a, b, unit) { return median(a, unit) / max1(median(b, unit)) }
function max1(x) { return x == 0 ? 1e-9 : x }

END {
	check("Passthrough / SlogJSON (ns/op), goal 1.05", ratio("BenchmarkPassthrough", "BenchmarkSlogJSON", "ns/op"), "<=", 1.10)
	note("Forward / SlogJSON (ns/op), any wrapper's floor", ratio("BenchmarkForward", "BenchmarkSlogJSON", "ns/op"))
	check("Passthrough - SlogJSON (allocs/op)", median("BenchmarkPassthrough", "allocs/op") - median("BenchmarkSlogJSON", "allocs/op"), "<=", 0)
	check("PassthroughProse / SlogJSONProse (ns/op)", ratio("BenchmarkPassthroughProse", "BenchmarkSlogJSONProse", "ns/op"), "<=", 1.5)
	check("PassthroughProse - SlogJSONProse (allocs/op)", median("BenchmarkPassthroughProse", "allocs/op") - median("BenchmarkSlogJSONProse", "allocs/op"), "<=", 0)
	check("InScope / Fanout (ns/op), goal 1.0", ratio("BenchmarkInScope", "BenchmarkFanout", "ns/op"), "<=", 1.05)
	check("InScopeWith / Fanout (ns/op)", ratio("BenchmarkInScopeWith", "BenchmarkFanout", "ns/op"), "<=", 1.05)
	check("InScope - Fanout (allocs/op)", median("BenchmarkInScope", "allocs/op") - median("BenchmarkFanout", "allocs/op"), "<=", 0)
	check("InScopeWith - Fanout (allocs/op)", median("BenchmarkInScopeWith", "allocs/op") - median("BenchmarkFanout", "allocs/op"), "<=", 0)
	check("InScopeParallel / FanoutParallel (ns/op)", ratio("BenchmarkInScopeParallel", "BenchmarkFanoutParallel", "ns/op"), "<=", 1.05)
	check("Scope / Fanout (ns/op)", ratio("BenchmarkScope", "BenchmarkFanout", "ns/op"), "<=", 2.0)
	check("Scope - Fanout (allocs/op)", median("BenchmarkScope", "allocs/op") - median("BenchmarkFanout", "allocs/op"), "<=", 7)
	check("ScopeOTel / Scope (ns/op)", ratio("BenchmarkScopeOTel", "BenchmarkScope", "ns/op"), "<=", 1.5)
	check("InScopeOTel / InScope (ns/op)", ratio("BenchmarkInScopeOTel", "BenchmarkInScope", "ns/op"), "<=", 1.1)
	check("ScopeOTel dropped/op", median("BenchmarkScopeOTel", "dropped/op"), "==", 0)
	check("ScopeOTelBackend/down / Scope (ns/op)", ratio("BenchmarkScopeOTelBackend/down", "BenchmarkScope", "ns/op"), "<=", 1.5)
	check("ScopeOTelBackend/slow / Scope (ns/op)", ratio("BenchmarkScopeOTelBackend/slow", "BenchmarkScope", "ns/op"), "<=", 1.5)
	check("ScopeOTelBackend/500 / Scope (ns/op)", ratio("BenchmarkScopeOTelBackend/500", "BenchmarkScope", "ns/op"), "<=", 1.5)
	check("ShortWorkflow / ShortWorkflowJSON (ns/op)", ratio("BenchmarkShortWorkflow", "BenchmarkShortWorkflowJSON", "ns/op"), "<=", 3)
	check("ShortWorkflowClose / ShortWorkflowJSON (ns/op)", ratio("BenchmarkShortWorkflowClose", "BenchmarkShortWorkflowJSON", "ns/op"), "<=", 10)
	# Where creating a file costs more than ten short workflows' lines (see
	# BenchmarkShortWorkflowFile), all of slogwf's work against the six
	# lines and one file per workflow that any tree file per workflow needs.
	check("ShortWorkflowClose / ShortWorkflowFile (ns/op)", ratio("BenchmarkShortWorkflowClose", "BenchmarkShortWorkflowFile", "ns/op"), "<=", 1.5)
	check("Disabled / DisabledSlog (ns/op)", ratio("BenchmarkDisabled", "BenchmarkDisabledSlog", "ns/op"), "<=", 1.2)
	check("Disabled (allocs/op)", median("BenchmarkDisabled", "allocs/op"), "==", 0)
	check("Build / BuildUnmarshal (ns/event)", ratio("BenchmarkBuild", "BenchmarkBuildUnmarshal", "ns/op"), "<=", 1.0)
	check("InScope B/record / journal-B/record", median("BenchmarkInScope", "B/record") / max1(median("BenchmarkInScope", "journal-B/record")), "<=", 1.5)
	if (vals["BenchmarkGrowth/final/records=100000" SUBSEP "ns/op"] != "") {
		check("build + tree file, 1,000,000 / 100,000 records (ns/op)", ratio("BenchmarkGrowth/build/records=1000000", "BenchmarkGrowth/build/records=100000", "ns/op"), "<=", 12)
		check("final tree at End, 1,000,000 / 100,000 records (ns/op)", ratio("BenchmarkGrowth/final/records=1000000", "BenchmarkGrowth/final/records=100000", "ns/op"), "<=", 12)
		r = ratio("BenchmarkGrowth/live/records=200000", "BenchmarkGrowth/live/records=20000", "ns/record")
		check("live, 200,000 / 20,000 records (ns/record) >=", r, ">=", 0.8)
		check("live, 200,000 / 20,000 records (ns/record) <=", r, "<=", 1.2)
	}
	printf "%d target(s) missed\n", fails
}
