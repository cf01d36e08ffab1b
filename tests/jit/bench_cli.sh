#!/bin/sh
# bench_cli.sh NASC WORKDIR — `nasc bench --from` on a small log: three good
# genotypes (one printed twice), one with an unknown op, one with a syntax
# error. The good ones are ranked (1..3, checked against the interpreter),
# the bad ones reported by file:line:col, the duplicate skipped, exit 1.
# Then the pass options (-O0/-O1/-O2, --passes=) on one genotype.
set -u
nasc=$1 dir=$2
mkdir -p "$dir"
log="$dir/log.txt"
g1="Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1), ('max_pool_3x3', 0), ('dil_conv_3x3', 2), ('avg_pool_3x3', 1), ('sep_conv_5x5', 2), ('skip_connect', 3), ('dil_conv_5x5', 4)], normal_concat=range(2, 6), reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=range(2, 6))"
g2=$(echo "$g1" | sed "s/sep_conv_3x3/sep_conv_5x5/")
g3=$(echo "$g1" | sed "s/dil_conv_3x3/avg_pool_3x3/")
{
  echo "epoch 1 loss 2.3"; echo "epoch 1 genotype = $g1"
  echo "epoch 2 genotype = $g2"; echo "epoch 3 genotype = $g1"
  echo "epoch 4 genotype = $(echo "$g3" | sed "s/skip_connect/no_such_op/")"
  echo "epoch 5 genotype = Genotype(normal=[('sep_conv_3x3', 0) ('x', 1)], normal_concat=[2], reduce=[], reduce_concat=[2])"
  echo "epoch 6 genotype = $g3"
} > "$log"
"$nasc" bench --from "$log" --C 4 --layers 3 --runs 2 --warmup 1 --check --format csv \
  > "$dir/out.csv" 2> "$dir/err.txt"
rc=$?
fail=0
check() { if ! eval "$1"; then echo "FAIL: $1"; fail=1; fi; }
check '[ $rc -eq 1 ]'
check '[ "$(awk -F, "NR > 1 && \$1 > 0" "$dir/out.csv" | wc -l)" -eq 3 ]'
check 'grep -q "^[123],\"$log:2\"" "$dir/out.csv"'
check 'grep -q "log.txt:5:[0-9]*: error: unknown op .no_such_op." "$dir/out.csv"'
check 'grep -q "log.txt:6:[0-9]*: error: expected" "$dir/out.csv"'
check 'grep -q "1 duplicates skipped" "$dir/err.txt"'
check '! grep -q "log.txt:4" "$dir/out.csv"'
"$nasc" bench --from "$log" --format yaml >/dev/null 2>&1
check '[ $? -eq 2 ]'
"$nasc" bench "$dir/missing.py" > /dev/null 2> "$dir/err2.txt"
check '[ $? -eq 1 ] && grep -q "missing.py" "$dir/err2.txt"'
# The graph passes are compile's: -O2 by default folds every BatchNorm into
# its conv (none left to profile), -O0 keeps them, --passes= picks its own,
# an unknown pass is an error before any candidate runs; --check (against
# the interpreter on the graph before the passes) holds at every level.
prof() { "$nasc" bench "$dir/g1.py" --C 4 --layers 3 --runs 1 --warmup 0 --check --profile \
           --format json "$@" 2> "$dir/err3.txt"; }
echo "G1 = $g1" > "$dir/g1.py"
check 'prof > "$dir/o2.json" && ! grep -q "\"batchnorm\"" "$dir/o2.json"'
check 'grep -q "\"relu\"" "$dir/o2.json" || grep -q "\"conv2d\"" "$dir/o2.json"'
check 'prof -O0 > "$dir/o0.json" && grep -q "\"batchnorm\"" "$dir/o0.json"'
check 'prof -O1 > "$dir/o1.json" && grep -q "\"batchnorm\"" "$dir/o1.json"'
check 'prof --passes=fold-bn > "$dir/fold.json" && ! grep -q "\"batchnorm\"" "$dir/fold.json"'
prof --passes=fold-bn,no-such-pass > /dev/null
check '[ $? -eq 1 ] && grep -q "unknown pass .no-such-pass." "$dir/err3.txt"'
[ $fail -eq 0 ] && echo ok
cat "$dir/out.csv"
exit $fail
