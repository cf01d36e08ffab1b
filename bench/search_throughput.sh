#!/usr/bin/env bash
# search_throughput.sh — supernet training throughput of the Auto-DeepLab
# search, nasc vs PyTorch CPU, the same first-order step on the same machine.
#
#   bench/search_throughput.sh [BUILD_DIR]
#
# BUILD_DIR (default build) must hold tests/search/search_step_bench
# (bench/search_step.c: adl_supernet_build + search_run). The torch side is
# bench/search_step_torch.py (tests/search/adl_search_torch.py's AutoDeeplab)
# under /usr/bin/python3. Both time the `nasc search adl` default config:
# L=4, F=4, 64x64, batch 8, 11 classes; one step = arch batch forward +
# backward + Adam, then weights batch forward + backward + clip + SGD
# (momentum, weight decay), train-mode batchnorm; images/s = 2 x 8 images /
# the median step time. nasc uses OpenBLAS's threads (2 on this machine);
# torch runs with torch.set_num_threads(2) (the target's reference) and
# with 1 thread (on a loaded 2-core machine OpenMP's 2 threads can be far
# slower than 1; the ratio is also given against the faster of the two).
#
# Environment: WARMUP (1) and STEPS (5) steps per run, ROUNDS (2) runs of
# each side interleaved, TORCH_TIMEOUT (900 s per torch run). Each result
# line carries the load averages just before the run; the summary takes the
# best round of each side (the least disturbed by other processes).
set -u
BUILD=${1:-build}
WARMUP=${WARMUP:-1} STEPS=${STEPS:-5} ROUNDS=${ROUNDS:-2} TORCH_TIMEOUT=${TORCH_TIMEOUT:-900}
HERE=$(cd "$(dirname "$0")" && pwd)
DRIVER=$BUILD/tests/search/search_step_bench
if [ ! -x "$DRIVER" ]; then
  echo "no $DRIVER: build the search_step_bench target" >&2
  exit 1
fi
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  echo "no torch in /usr/bin/python3" >&2
  exit 77
fi

load() { cut -d' ' -f1-3 /proc/loadavg; }
best_nasc=0 best_t2=0 best_t1=0
keep_best() { python3 -c 'import sys; print(max(float(a) for a in sys.argv[1:]))' "$1" "$2"; }

echo "config: L=4 F=4 64x64 batch 8, 11 classes, first order; $WARMUP warm-up + $STEPS timed steps"
echo "columns: median ms/step, min ms/step, images/s (2 x 8 per step by the median)"
for round in $(seq 1 "$ROUNDS"); do
  l=$(load)
  r=$("$DRIVER" 4 4 8 64 64 "$WARMUP" "$STEPS" "$round") || exit 1
  echo "round $round  nasc           $r   (load before: $l)"
  best_nasc=$(keep_best "$best_nasc" "$(echo "$r" | cut -d' ' -f3)")
  for threads in 2 1; do
    l=$(load)
    r=$(timeout "$TORCH_TIMEOUT" /usr/bin/python3 "$HERE/search_step_torch.py" \
        --warmup "$WARMUP" --steps "$STEPS" --threads "$threads" --seed "$round")
    if [ -z "$r" ]; then
      echo "round $round  torch ${threads} thread(s) timed out after ${TORCH_TIMEOUT} s" \
           "(load before: $l)"
      continue
    fi
    echo "round $round  torch ${threads} thread(s) $r   (load before: $l)"
    ips=$(echo "$r" | cut -d' ' -f3)
    if [ "$threads" = 2 ]; then best_t2=$(keep_best "$best_t2" "$ips")
    else best_t1=$(keep_best "$best_t1" "$ips"); fi
  done
done
echo "load after: $(load)"
python3 - "$best_nasc" "$best_t2" "$best_t1" <<'EOF'
import sys
nasc, t2, t1 = (float(v) for v in sys.argv[1:])
print(f"best round: nasc {nasc:.2f} images/s, torch 2 threads {t2:.2f}, torch 1 thread {t1:.2f}")
if t2 > 0:
    print(f"nasc / torch (2 threads): {nasc / t2:.2f}x")
if max(t1, t2) > 0:
    print(f"nasc / torch (faster of 1 and 2 threads): {nasc / max(t1, t2):.2f}x")
EOF
