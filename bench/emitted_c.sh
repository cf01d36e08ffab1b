#!/usr/bin/env bash
# emitted_c.sh — speed of the emitted firmware C for DARTS_V2 NetworkCIFAR
# (C=36, 20 cells, 32x32, 528,359,040 MACs), built as a shared object with
# `cc -O3 -march=native` and with `cc -O2`, timed with run_so.c.
#
#   bench/emitted_c.sh [BUILD_DIR] [BASE_BUILD_DIR]
#
# BUILD_DIR (default build/) holds tools/nasc. BASE_BUILD_DIR, if given,
# holds another nasc (e.g. one built from `git archive HEAD`, the kernels
# before a change) whose output is timed in the same run, and the ratio of
# medians is printed. Environment: RUNS (default 25, median and min of
# them after WARMUP, default 3, untimed runs), ROUNDS (default 3: each
# build is timed ROUNDS times, interleaved; the median of the round medians
# and the min of the round minima are printed), NASC_OPT (default -O2).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
build="${1:-$root/build}"
base="${2:-}"
runs="${RUNS:-25}" warmup="${WARMUP:-3}" rounds="${ROUNDS:-3}" opt="${NASC_OPT:--O2}"
genos="$root/../shared/design/genotypes/darts.txt"
pick=(--genotype DARTS_V2)
[ -f "$genos" ] || { genos="$root/examples/genotypes/darts_v2.json"; pick=(); }
macs=528359040
work="$(mktemp -d -t nasc-emitted-c.XXXXXX)"
trap 'rm -rf "$work"' EXIT
cc -O2 -o "$work/run_so" "$here/run_so.c" -ldl

# emit TAG NASC: writes $work/TAG/darts.c and builds darts_o3.so, darts_o2.so
emit() {
  mkdir -p "$work/$1"
  "$2" compile "$genos" "${pick[@]}" "$opt" --name darts -o "$work/$1/darts.c"
  cc -O3 -march=native -shared -fPIC "$work/$1/darts.c" -o "$work/$1/darts_o3.so"
  cc -O2 -shared -fPIC "$work/$1/darts.c" -o "$work/$1/darts_o2.so"
}
emit new "$build/tools/nasc"
[ -n "$base" ] && emit base "$base/tools/nasc"
ws=$(sed -n 's/^#define DARTS_WORKSPACE_BYTES \([0-9]*\).*/\1/p' "$work/new/darts.h")

tags=(new); [ -n "$base" ] && tags=(base new)
for r in $(seq "$rounds"); do
  for t in "${tags[@]}"; do
    for o in o3 o2; do
      [ "$t" = base ] && w=$(sed -n 's/^#define DARTS_WORKSPACE_BYTES \([0-9]*\).*/\1/p' \
                               "$work/base/darts.h") || w=$ws
      echo "$t $o $("$work/run_so" "$work/$t/darts_$o.so" darts 3072 40 "$w" "$warmup" "$runs")"
    done
  done
done > "$work/times"

echo "DARTS_V2 NetworkCIFAR C=36 layers=20, nasc $opt, $rounds rounds x $runs runs after $warmup warm-up"
awk -v macs="$macs" '
  { k = $1 " " $2; n[k]++; med[k, n[k]] = $3; if (!(k in mn) || $4 < mn[k]) mn[k] = $4 }
  END {
    split("o3 o2", os, " "); split("base new", ts, " ")
    flags["o3"] = "cc -O3 -march=native"; flags["o2"] = "cc -O2"
    printf "  %-8s %-22s %10s %10s %10s\n", "kernels", "build", "median ms", "min ms", "GFLOP/s"
    for (i = 1; i <= 2; i++) for (j = 1; j <= 2; j++) {
      k = ts[j] " " os[i]; if (!(k in n)) continue
      m = n[k]; for (a = 1; a <= m; a++) v[a] = med[k, a]
      for (a = 1; a <= m; a++) for (b = a + 1; b <= m; b++) if (v[b] < v[a]) { t = v[a]; v[a] = v[b]; v[b] = t }
      md[k] = v[int((m + 1) / 2)]
      printf "  %-8s %-22s %10.2f %10.2f %10.1f\n", ts[j], flags[os[i]], md[k], mn[k], 2 * macs / md[k] / 1e6
    }
    for (i = 1; i <= 2; i++) { b = "base " os[i]; w = "new " os[i]
      if ((b in md) && (w in md)) printf "  speed-up %-22s %.2fx (medians), %.2fx (minima)\n", flags[os[i]], md[b] / md[w], mn[b] / mn[w] }
  }' "$work/times"
