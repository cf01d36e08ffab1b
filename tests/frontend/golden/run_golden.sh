#!/usr/bin/env bash
# run_golden.sh NASC DIR [--update] — frontend goldens, cproc style: for each
# line "name | args" of DIR/cases.txt, `nasc compile args --emit=ir` must
# print exactly DIR/name.nir. --update rewrites the goldens (review the diff).
set -u
NASC=$1
DIR=$2
pass=0
fail=0
cd "$DIR" || exit 1
while IFS='|' read -r name args; do
  name=$(echo "$name" | xargs)
  case "$name" in "" | \#*) continue ;; esac
  # shellcheck disable=SC2086
  if ! "$NASC" compile $args --emit=ir >"/tmp/golden.$$.nir" 2>"/tmp/golden.$$.err"; then
    echo "FAIL $name: nasc failed: $(cat /tmp/golden.$$.err)"
    fail=$((fail + 1))
  elif [ "${3:-}" = "--update" ]; then
    cp "/tmp/golden.$$.nir" "$name.nir"
    echo "updated $name.nir"
  elif diff -u "$name.nir" "/tmp/golden.$$.nir" >"/tmp/golden.$$.diff"; then
    echo "ok   $name"
    pass=$((pass + 1))
  else
    echo "FAIL $name: IR differs from $name.nir:"
    head -40 "/tmp/golden.$$.diff"
    fail=$((fail + 1))
  fi
done <cases.txt
rm -f /tmp/golden.$$.*
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
