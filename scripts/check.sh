#!/bin/sh
# scripts/check.sh — run every test tier and print one summary line.
BUILD=${BUILD:-build}
pass=0 fail=0
for t in "$BUILD"/tests/unit/*; do
    [ -x "$t" ] || continue
    case "$t" in *.d) continue ;; esac
    if "$t" --jobs=2; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $t"; fi
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
