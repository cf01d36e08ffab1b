#!/usr/bin/env bash
# demo.sh — the main job on the bundled default: compile DARTS_V2
# (NetworkCIFAR, C=36, 20 cells) to C, build that C with plain cc, run it on
# the bundled 32x32 image, print the top classes and the time.
# Run ./setup.sh first (the README's demo command does).
set -euo pipefail
cd "$(dirname "$0")"
NASC="${NASC_BUILD_DIR:-build}/tools/nasc"
OUT=out/demo
mkdir -p "$OUT"
echo "== nasc inspect =="
"$NASC" inspect examples/genotypes/darts_v2.json | head -6
echo "== nasc compile (seeded weights: this demo ships no trained checkpoint) =="
time "$NASC" compile examples/genotypes/darts_v2.json --name net -o "$OUT/net.c"
ls -l "$OUT/net.c" "$OUT/net.h"
echo "== cc (the generated net.c needs no library, not even libm) =="
time cc -O3 -march=native -std=c11 -I"$OUT" examples/demo/main.c "$OUT/net.c" -o "$OUT/demo"
echo "== run =="
"$OUT/demo" examples/demo/airplane.ppm
echo "(untrained, seeded weights: the classes are not meaningful; pass --weights W.safetensors"
echo " with a DARTS checkpoint's state_dict to nasc compile for real predictions)"
