#!/usr/bin/env bash
# Runs the benchmarks that have a baseline and prints, for each variant of
# gp2gp's implementation, the median ns/op of the baseline and of the
# variant and their throughput ratio (baseline ns/op ÷ variant ns/op; 1.0 =
# as fast as the baseline).
#
# A benchmark takes part by having a sub-benchmark named "baseline" and one
# or more named "gp2gp" or "gp2gp-<variant>", measured in the same run on
# the same machine. Medians over BENCH_COUNT runs tame a noisy machine.
#
# Knobs: BENCH_COUNT (runs per benchmark, default 5), BENCH_TIME (default
# 3000x), BENCH_PKGS (default: the packages listed below).
set -euo pipefail
cd "$(dirname "$0")/.."

count="${BENCH_COUNT:-5}"
benchtime="${BENCH_TIME:-3000x}"
pkgs="${BENCH_PKGS:-./libs/bus/}"

out="$(mktemp)"
trap 'rm -f "$out"' EXIT
# One run per iteration, every variant in each, so that a machine whose
# speed drifts slows baseline and variants alike.
for ((i = 1; i <= count; i++)); do
	# shellcheck disable=SC2086
	go test -run '^$' -bench . -benchtime "$benchtime" -count 1 $pkgs | tee -a "$out"
done

echo
printf "%-32s %-18s %14s %14s %7s\n" benchmark variant "baseline ns/op" "variant ns/op" ratio
awk '
/^Benchmark[^ \t]*\/(baseline|gp2gp[^ \t]*)[ \t]/ || /^Benchmark[^ \t]*\/baseline-[0-9]+[ \t]/ {
	name = $1; sub(/-[0-9]+$/, "", name)
	n = split(name, parts, "/"); kind = parts[n]
	bench = substr(name, 1, length(name) - length(kind) - 1)
	for (i = 2; i < NF; i++) if ($(i+1) == "ns/op") { v = $i; break }
	vals[bench, kind] = vals[bench, kind] " " v
	if (kind != "baseline") variants[bench, kind] = 1
}
function median(s,   a, n, i, j, t) {
	n = split(s, a, " ")
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
END {
	for (key in variants) {
		split(key, bk, SUBSEP); b = bk[1]; k = bk[2]
		if (!((b, "baseline") in vals)) continue
		base = median(vals[b, "baseline"]); ours = median(vals[b, k])
		printf "%-32s %-18s %14.0f %14.0f %7.2f\n", b, k, base, ours, base / ours
	}
}' "$out" | sort
