#!/usr/bin/env bash
# Runs every Go fuzz target in the module for the given time each (default
# 20s), all of them even when some fail, then lists the failures and exits
# non-zero if there was any. New interesting inputs are minimised for at most
# 5s, so one large seed cannot stall a short run.
set -uo pipefail
t="${1:-20s}"
cd "$(dirname "$0")/.."
failed=()
ran=0
pkgs=$(go list ./...) || { echo "fuzz: go list failed" >&2; exit 2; }
for pkg in $pkgs; do
	dir=$(go list -f '{{.Dir}}' "$pkg") || { failed+=("$pkg (go list)"); continue; }
	targets=$(grep -hoE '^func Fuzz[A-Za-z0-9_]+\(' "$dir"/*_test.go 2>/dev/null | sed -E 's/^func (Fuzz[A-Za-z0-9_]+)\(/\1/' | sort -u)
	for f in $targets; do
		ran=$((ran + 1))
		echo "fuzz: $pkg $f"
		if ! go test -run '^$' -fuzz "^${f}\$" -fuzztime "$t" -fuzzminimizetime 5s "$pkg"; then
			failed+=("$pkg $f")
		fi
	done
done
echo "fuzz: ran $ran targets, ${#failed[@]} failed"
if [ ${#failed[@]} -gt 0 ]; then
	for f in "${failed[@]}"; do echo "fuzz: FAIL $f"; done
	exit 1
fi
