#!/usr/bin/env bash
# demo.sh — the main job on the bundled default: compile DARTS_V2
# (NetworkCIFAR, C=36, 20 cells) to C, build that C with plain cc, run it on
# the bundled 32x32 image, print the top classes and the time. Then, at toy
# scale, the search flow: a fashion-seg dataset, an Auto-DeepLab search, a
# retrain of what it found, and the emitted C segmenting a val image.
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

# Part 2: search -> train -> compile on fashion-seg (a few minutes at toy
# scale; the full-size commands are in docs/search.md). Skip with DEMO_SEARCH=0.
if [ "${DEMO_SEARCH:-1}" = 0 ]; then exit 0; fi
S=out/demo/search
mkdir -p "$S"
echo "== nasc data fashion-seg (Fashion-MNIST garments composited on 64x64 canvases) =="
"$NASC" data fashion-seg "$S/data" --train 400 --val 100 --seed 0 | tail -n 3
echo "== nasc search adl (Auto-DeepLab: 2 epochs, architecture updates in the second) =="
"$NASC" search adl --data "$S/data" --layers 4 --F 4 --epochs 2 --arch-start 1 \
  --aspp-rate 5 --max-skip 2 --head-weights --out "$S/run"
echo "== nasc train (the found architecture, from scratch, 3 epochs) =="
"$NASC" train "$S/run/arch.json" --data "$S/data" --epochs 3 --log-dir "$S/train" \
  -o "$S/train/weights.safetensors"
echo "== nasc compile --output argmax, cc, segment a val image with the emitted C =="
"$NASC" compile "$S/run/arch.json" --weights "$S/train/weights.safetensors" --output argmax \
  --name seg -o "$S/seg.c"
cc -O3 -march=native -std=c11 -I"$S" examples/segdemo/main.c "$S/seg.c" -lstb -o "$S/segdemo"
id=$(head -n 1 "$S/data/ImageSets/Segmentation/val.txt")
"$S/segdemo" "$S/data/JPEGImages/$id.png" "$S/mask.png" "$S/data/SegmentationClass/$id.png"
echo "pictures: $S/run/*.svg (search), $S/train/val_grid.png, $S/mask.png"
