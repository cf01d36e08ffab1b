#!/bin/sh
# run.sh BINDIR TEST.nir... — the pass golden tests (cproc's runtests, lit's
# RUN lines). Each `// RUN: cmd` line of a test runs under bash with
# pipefail, %s replaced by the test's path and BINDIR (nasc-opt,
# nasc-check) first on PATH; `not cmd` inverts an exit status. A test
# passes when all its RUN lines exit 0.
bindir=$1
shift
PATH="$bindir:$PATH"
export PATH
pass=0
fail=0
for t in "$@"; do
  runs=$(sed -n 's|^[[:space:]]*//[[:space:]]*RUN:[[:space:]]*||p' "$t")
  if [ -z "$runs" ]; then
    echo "FAIL $t: no RUN line"
    fail=$((fail + 1))
    continue
  fi
  ok=1
  while IFS= read -r cmd; do
    cmd=$(printf '%s\n' "$cmd" | sed "s|%s|$t|g")
    if ! out=$(bash -o pipefail -c 'not() { ! "$@"; }; '"$cmd" 2>&1); then
      echo "FAIL $t"
      echo "  RUN: $cmd"
      printf '%s\n' "$out" | sed 's/^/  | /'
      ok=0
      break
    fi
  done <<RUNS
$runs
RUNS
  if [ $ok = 1 ]; then
    echo "PASS $t"
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
  fi
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
