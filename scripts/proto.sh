#!/usr/bin/env bash
# Regenerates the Go code for the bus contracts: proto/**/*.proto ->
# proto/**/*.pb.go, beside each .proto file.
#
# buf and protoc-gen-go are the versions pinned in proto/tools/go.mod and run
# through `go tool`, so only Go is needed. The first run builds buf (a minute
# or two); later runs take the binary from the Go build cache.
#
# Generated files whose .proto is gone are removed; files whose content did
# not change are left untouched.
set -euo pipefail

cd "$(dirname "$0")/../proto"
export GOWORK=off # proto/tools is deliberately not in go.work

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

go tool -modfile=tools/go.mod buf generate --output "$tmp"

# Remove generated files that no longer have a source.
while IFS= read -r -d '' f; do
	f="${f#./}"
	if [[ ! -e "$tmp/$f" ]]; then
		rm -- "$f"
		echo "removed $f"
	fi
done < <(find . -path ./tools -prune -o -name '*.pb.go' -type f -print0)

# Copy in new and changed files.
while IFS= read -r -d '' f; do
	f="${f#./}"
	if ! cmp -s -- "$tmp/$f" "$f"; then
		mkdir -p -- "$(dirname -- "$f")"
		cp -- "$tmp/$f" "$f"
		echo "wrote $f"
	fi
done < <(cd "$tmp" && find . -name '*.pb.go' -type f -print0)
