#!/usr/bin/env bash
# jit_compile.sh — figures for the in-process JIT (runtime/jit, `nasc bench`).
#
#   bench/jit_compile.sh [LLVM_BUILD_DIR] [CC_BUILD_DIR]
#
# LLVM_BUILD_DIR (default build/) holds nasc built with NASC_WITH_LLVM=ON;
# CC_BUILD_DIR (default build-nollvm/, configured here if missing) holds nasc
# built with -DNASC_WITH_LLVM=OFF, whose JIT is `cc -O3 -march=native
# -shared` in a subprocess + dlopen. Both run the same blob-mode C through
# the same timing code, so the pair gives:
#   1. compile + load time per candidate, DARTS_V2 NetworkCIFAR (C=36, 20
#      cells): clang/ORC in process vs cc + dlopen;
#   2. speed of the JIT-compiled code vs the same C built by gcc -O3
#      -march=native (ratio of medians);
#   3. candidates per minute for `nasc bench --from` on a log of 100 random
#      DARTS genotypes (bench/random_genotypes.py), clang/ORC build.
# Environment: RUNS (default 10), WARMUP (2), N (100), NET_OPTS (net options
# for step 3, default the full CIFAR network).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
llvm_dir="${1:-$root/build}"
cc_dir="${2:-$root/build-nollvm}"
genos="$root/../shared/design/genotypes/darts.txt"
[ -f "$genos" ] || genos="$root/examples/genotypes/darts_v2.json"
runs="${RUNS:-10}" warmup="${WARMUP:-2}" n="${N:-100}"
net_opts=${NET_OPTS:-}

if [ ! -x "$cc_dir/tools/nasc" ]; then
  cmake -S "$root" -B "$cc_dir" -DCMAKE_BUILD_TYPE=Release -DNASC_WITH_LLVM=OFF >/dev/null
  cmake --build "$cc_dir" -j"$(nproc)" --target nasc >/dev/null
fi
for d in "$llvm_dir" "$cc_dir"; do
  [ -x "$d/tools/nasc" ] || { echo "jit_compile.sh: no $d/tools/nasc" >&2; exit 1; }
done
pick=(--genotype DARTS_V2)
case "$genos" in *.json) pick=() ;; esac

# rank,name,median_ms,min_ms,max_ms,macs,params,workspace_bytes,gflops,compile_ms,error
row() { "$1/tools/nasc" bench "$genos" "${pick[@]}" --runs "$runs" --warmup "$warmup" \
          --format csv 2>/dev/null | sed -n 2p; }
jit=$(row "$llvm_dir")
aot=$(row "$cc_dir")
field() { echo "$1" | cut -d, -f"$2"; }
echo "DARTS_V2 NetworkCIFAR C=36 layers=20 ($runs timed runs after $warmup warm-up)"
printf '  %-40s %10s %10s %12s\n' "" "compile ms" "median ms" "min ms"
printf '  %-40s %10s %10s %12s\n' "clang 16 + ORC, in process" "$(field "$jit" 10)" \
  "$(field "$jit" 3)" "$(field "$jit" 4)"
printf '  %-40s %10s %10s %12s\n' "cc -O3 -march=native + dlopen" "$(field "$aot" 10)" \
  "$(field "$aot" 3)" "$(field "$aot" 4)"
awk -v j="$(field "$jit" 3)" -v a="$(field "$aot" 3)" -v jm="$(field "$jit" 4)" \
    -v am="$(field "$aot" 4)" -v jc="$(field "$jit" 10)" -v ac="$(field "$aot" 10)" 'BEGIN {
  printf "  JIT code speed / gcc -O3 -march=native: %.2fx (medians), %.2fx (minima)\n", a / j, am / jm
  printf "  compile + load: JIT %.2fx faster than cc + dlopen\n", ac / jc }'

log="$(mktemp -t nasc-bench-log.XXXXXX)"
trap 'rm -f "$log"' EXIT
python3 "$here/random_genotypes.py" "$n" 1 > "$log"
t0=$(date +%s.%N)
# shellcheck disable=SC2086
"$llvm_dir/tools/nasc" bench --from "$log" $net_opts --runs "$runs" --warmup "$warmup" \
  --format csv > "$log.csv" 2>/dev/null || true
t1=$(date +%s.%N)
ok=$(tail -n +2 "$log.csv" | awk -F, '$1 > 0' | wc -l)
awk -v n="$ok" -v t0="$t0" -v t1="$t1" -v r="$runs" 'BEGIN {
  printf "nasc bench --from: %d random genotypes ranked in %.1f s (%d runs each): %.1f candidates/min\n",
         n, t1 - t0, r, n * 60 / (t1 - t0) }'
awk -F, 'NR > 1 && $1 > 0 { c += $10; m++ } END { if (m) printf "  mean compile %.0f ms per candidate\n", c / m }' "$log.csv"
rm -f "$log.csv"
