#!/usr/bin/env bash
# Fails when the committed Go code in proto/ is not what the .proto files
# generate: a stale .pb.go, a .proto without its .pb.go, or a .pb.go without
# its .proto. Generates into a temporary directory, so it never changes the
# work tree and also works on uncommitted changes. Also runs `buf lint`.
#
# Needs only Go: buf and protoc-gen-go come from proto/tools/go.mod.
set -euo pipefail

cd "$(dirname "$0")/../proto"
export GOWORK=off # proto/tools is deliberately not in go.work

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

go tool -modfile=tools/go.mod buf lint
go tool -modfile=tools/go.mod buf generate --output "$tmp"

problems=()
while IFS= read -r f; do
	if [[ ! -e "$f" ]]; then
		problems+=("proto/$f: missing (not generated from proto/${f%.pb.go}.proto)")
	elif [[ ! -e "$tmp/$f" ]]; then
		problems+=("proto/$f: left over (no .proto generates it)")
	elif ! cmp -s -- "$tmp/$f" "$f"; then
		problems+=("proto/$f: stale (differs from what proto/${f%.pb.go}.proto generates)")
	fi
done < <({
	find . -path ./tools -prune -o -name '*.pb.go' -type f -print
	(cd "$tmp" && find . -name '*.pb.go' -type f -print)
} | sed 's|^\./||' | LC_ALL=C sort -u)

if ((${#problems[@]})); then
	echo "proto-check: generated Go code is out of date with the .proto files:" >&2
	printf '  %s\n' "${problems[@]}" >&2
	echo "proto-check: run make proto (scripts/proto.sh) and commit the result." >&2
	exit 1
fi
echo "proto-check: generated Go code is up to date."
