#!/usr/bin/env bash
# Runs the benchmarks that have a baseline and prints, for each variant of
# gp2gp's implementation, the median ns/op of the baseline and of the
# variant and their throughput ratio (baseline ns/op ÷ variant ns/op; 1.0 =
# as fast as the baseline).
#
# A benchmark takes part by having a sub-benchmark named "baseline" and one
# or more named "gp2gp" or "gp2gp-<variant>", measured in the same run on
# the same machine. Medians over BENCH_COUNT runs tame a noisy machine.
# Benchmarks that report transfers/s, p50-ms and p99-ms (the dev stack's
# whole transfers) get a second table with their medians; those that
# report rows/s (the MI import: a synthetic month of Spine logs, written
# once per run) a third, with CPU seconds and peak memory.
#
# Knobs: BENCH_COUNT (runs per benchmark, default 5), BENCH_TIME (one
# -benchtime for every package instead of each package's own below,
# except the MI import, which always runs once per run: one iteration
# reads half a gigabyte), BENCH_PKGS (default: every package below).
set -euo pipefail
cd "$(dirname "$0")/.."

count="${BENCH_COUNT:-5}"
# package and its -benchtime: message counts for the bus, time for the
# codec, whose extracts run from 30 KB to 20 MB, transfer counts for the
# dev stack (each of its four benchmarks runs that many, 50 at a time).
declare -A benchtimes=(
	[./libs/bus/]=3000x
	[./libs/hl7/]=1s
	[./libs/mi/]=1s
	[./services/devstack/]=250x
	[./services/gp2gpctl/internal/mireport/]=1x
)
# Packages whose -benchtime BENCH_TIME does not override.
declare -A fixed=(
	[./services/gp2gpctl/internal/mireport/]=1x
)
pkgs="${BENCH_PKGS:-${!benchtimes[*]}}"

out="$(mktemp)"
trap 'rm -f "$out"' EXIT
# One run per iteration, every variant in each, so that a machine whose
# speed drifts slows baseline and variants alike.
for ((i = 1; i <= count; i++)); do
	for pkg in $pkgs; do
		go test -run '^$' -bench . -benchtime "${fixed[$pkg]:-${BENCH_TIME:-${benchtimes[$pkg]:-1s}}}" -count 1 "$pkg" | tee -a "$out"
	done
done

echo
printf "%-32s %-16s %14s %14s %7s %10s %11s\n" benchmark variant "baseline ns/op" "variant ns/op" ratio "MB/s" "allocB/inB"
awk '
/^Benchmark[^ \t]*\/(baseline|gp2gp[^ \t]*)(-[0-9]+)?[ \t]/ {
	name = $1; sub(/-[0-9]+$/, "", name)
	n = split(name, parts, "/"); kind = parts[n]
	bench = substr(name, 1, length(name) - length(kind) - 1)
	for (i = 2; i < NF; i++) {
		if ($(i+1) == "ns/op") ns[bench, kind] = ns[bench, kind] " " $i
		if ($(i+1) == "MB/s") mbs[bench, kind] = mbs[bench, kind] " " $i
		if ($(i+1) == "allocB/inB") alloc[bench, kind] = alloc[bench, kind] " " $i
	}
	if (kind != "baseline") variants[bench, kind] = 1
}
function median(s,   a, n, i, j, t) {
	n = split(s, a, " ")
	if (n == 0) return ""
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
END {
	for (key in variants) {
		split(key, bk, SUBSEP); b = bk[1]; k = bk[2]
		if (!((b, "baseline") in ns)) continue
		base = median(ns[b, "baseline"]); ours = median(ns[b, k])
		printf "%-32s %-16s %14.0f %14.0f %7.2f %10s %11s\n", b, k, base, ours, base / ours, median(mbs[b, k]), median(alloc[b, k])
	}
}' "$out" | sort

# Throughput and latency, for the benchmarks that report them.
if grep -q 'transfers/s' "$out"; then
	echo
	printf "%-32s %-16s %12s %10s %10s\n" benchmark variant "transfers/s" "p50-ms" "p99-ms"
	awk '
	/^Benchmark[^ \t]*[ \t].*[ \t]transfers\/s/ {
		name = $1; sub(/-[0-9]+$/, "", name)
		n = split(name, parts, "/"); kind = parts[n]
		bench = substr(name, 1, length(name) - length(kind) - 1)
		for (i = 2; i < NF; i++) {
			if ($(i+1) == "transfers/s") tps[bench, kind] = tps[bench, kind] " " $i
			if ($(i+1) == "p50-ms") p50[bench, kind] = p50[bench, kind] " " $i
			if ($(i+1) == "p99-ms") p99[bench, kind] = p99[bench, kind] " " $i
		}
		seen[bench, kind] = 1
	}
	function median(s,   a, n, i, j, t) {
		n = split(s, a, " ")
		if (n == 0) return ""
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
		return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	END {
		for (key in seen) {
			split(key, bk, SUBSEP)
			printf "%-32s %-16s %12.1f %10.1f %10.1f\n", bk[1], bk[2], median(tps[key]), median(p50[key]), median(p99[key])
		}
	}' "$out" | sort
fi

# Rows per second, CPU time and peak memory, for the benchmarks that
# report them; the ratio is the variant's rows/s over the baseline's.
if grep -q 'rows/s' "$out"; then
	echo
	printf "%-32s %-16s %12s %7s %10s %13s %12s\n" benchmark variant "rows/s" ratio "cpu-s/op" "peak-heap-MB" "peak-rss-MB"
	awk '
	/^Benchmark[^ \t]*[ \t].*[ \t]rows\/s/ {
		name = $1; sub(/-[0-9]+$/, "", name)
		n = split(name, parts, "/"); kind = parts[n]
		bench = substr(name, 1, length(name) - length(kind) - 1)
		for (i = 2; i < NF; i++) {
			if ($(i+1) == "rows/s") rows[bench, kind] = rows[bench, kind] " " $i
			if ($(i+1) == "cpu-s/op") cpu[bench, kind] = cpu[bench, kind] " " $i
			if ($(i+1) == "peak-heap-MB") heap[bench, kind] = heap[bench, kind] " " $i
			if ($(i+1) == "peak-rss-MB") rss[bench, kind] = rss[bench, kind] " " $i
		}
		seen[bench, kind] = 1
	}
	function median(s,   a, n, i, j, t) {
		n = split(s, a, " ")
		if (n == 0) return ""
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
		return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	END {
		for (key in seen) {
			split(key, bk, SUBSEP); b = bk[1]; k = bk[2]
			base = median(rows[b, "baseline"]); r = median(rows[key])
			ratio = (base > 0) ? sprintf("%.2f", r / base) : "-"
			printf "%-32s %-16s %12.0f %7s %10.2f %13.1f %12.1f\n", b, k, r, ratio, median(cpu[key]), median(heap[key]), median(rss[key])
		}
	}' "$out" | sort
fi
