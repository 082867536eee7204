#!/usr/bin/env bash
# Runs every fuzz target for FUZZ_TIME (default 60s) and keeps what the
# fuzzer found interesting in the package's testdata/fuzz/<Target>/, so
# that plain `go test` replays it from then on. Inputs over 64 KB are not
# kept; each target keeps at most 200 files.
#
# Targets are found by name (func Fuzz…) in every workspace module. Pass
# package directories to limit the run: scripts/fuzz.sh libs/hl7 libs/ebxml
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime="${FUZZ_TIME:-60s}"
cache="$(go env GOCACHE)/fuzz"
if [[ $# -gt 0 ]]; then dirs=("$@"); else mapfile -t dirs < <(go list -m -f '{{.Dir}}' | sed "s|^$PWD/||"); fi

for mod in "${dirs[@]}"; do
	while IFS= read -r file; do
		pkgdir="$(dirname "$file")"
		pkg="$(cd "$pkgdir" && go list .)"
		for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$file" | cut -d' ' -f2); do
			echo "== $pkg $target ($fuzztime)"
			(cd "$pkgdir" && go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" .)
			src="$cache/$pkg/$target"
			dst="$pkgdir/testdata/fuzz/$target"
			[[ -d "$src" ]] || continue
			mkdir -p "$dst"
			kept=$(find "$dst" -type f | wc -l)
			for f in "$src"/*; do
				[[ $kept -ge 200 ]] && break
				[[ -e "$dst/$(basename "$f")" ]] && continue
				[[ $(stat -c %s "$f") -le 65536 ]] || continue
				cp "$f" "$dst/" && kept=$((kept + 1))
			done
			echo "   corpus: $kept files in $dst"
		done
	done < <(grep -rl --include='*_test.go' '^func Fuzz' "$mod" || true)
done
