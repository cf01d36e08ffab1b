#!/usr/bin/env bash
# int8.sh [BUILD_DIR] — float vs int8 on a trained Auto-DeepLab net.
#
#   1. `nasc data fashion-seg` (400 train + 100 val canvases of 64x64);
#   2. `nasc train` of a small Auto-DeepLab (path 0,0,1,1, sep_conv/skip cell,
#      F=4, no decoder; $EPOCHS epochs, default 4);
#   3. `nasc compile --output argmax` twice: float, and `--quantize int8
#      --calib` on the first 32 train images (the trainer's normalisation,
#      written by tests/search/val_dump);
#   4. both emitted nets scored on the 100 val images by
#      tests/search/miou_harness.c (mIoU, host ms per image at -O2);
#   5. both built for Cortex-M4 by examples/cortex-m/build.sh (the strict
#      freestanding flags of docs/firmware.md; logits output, as the example
#      prints floats): arm-none-eabi-size of net.o
#      (flash = text + data + rodata; the weights are rodata) and the
#      instructions of one net_run under QEMU mps2-an386 with -icount
#      shift=0 (the timer method of bench/firmware.sh).
# Needs Fashion-MNIST in /usr/share/datasets/fashion-mnist; step 5 needs
# arm-none-eabi-gcc and qemu-system-arm (skipped without them).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
NASC=$BUILD/tools/nasc
VAL_DUMP=$BUILD/tests/search/val_dump
EPOCHS=${EPOCHS:-4}
CC=${CC:-cc}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
for tool in "$NASC" "$VAL_DUMP"; do
  [ -x "$tool" ] || { echo "int8.sh: $tool not built" >&2; exit 1; }
done

cat >"$T/arch.json" <<'EOF'
{
  "format": "nasc-genotype", "version": 1, "space": "autodeeplab",
  "path": [0, 0, 1, 1],
  "cell": [[0, "sep_conv_3x3"], [1, "skip_connect"], [2, "sep_conv_3x3"],
           [3, "sep_conv_3x3"], [5, "sep_conv_3x3"], [6, "skip_connect"],
           [9, "sep_conv_3x3"], [11, "skip_connect"], [14, "sep_conv_3x3"],
           [16, "skip_connect"]],
  "F": 4, "B": 5, "classes": 11, "input": [64, 64],
  "aspp_rates": [6, 12, 18], "decoder": false, "bn": "bn"
}
EOF

"$NASC" data fashion-seg "$T/fs" --train 400 --val 100 --seed 1 >/dev/null
"$NASC" train "$T/arch.json" --data "$T/fs" --epochs "$EPOCHS" --batch 8 --seed 1 \
  --log-dir "$T/train" -o "$T/w.safetensors" >"$T/train.log" 2>&1 ||
  { cat "$T/train.log"; exit 1; }
echo "trainer: $(grep "^epoch" "$T/train.log" | tail -n 1)"

mkdir -p "$T/val" "$T/trainset" "$T/calib"
"$VAL_DUMP" "$T/fs" val "$T/val" >/dev/null
"$VAL_DUMP" "$T/fs" train "$T/trainset" >/dev/null

head -c $((32 * 3 * 64 * 64 * 4)) "$T/trainset/x.bin" >"$T/calib/train32.bin"
head -c $((3 * 64 * 64 * 4)) "$T/val/x.bin" >"$T/val0.bin"

NET=("$T/arch.json" --weights "$T/w.safetensors")
declare -A MIOU MS FLASH INSNS
for kind in float int8; do
  q=()
  [ "$kind" = int8 ] && q=(--quantize int8 --calib "$T/calib")
  mkdir -p "$T/$kind"
  "$NASC" compile "${NET[@]}" --output argmax --name seg "${q[@]}" -o "$T/$kind/seg.c"
  "$CC" -std=c99 -O2 -Wall -Wextra -Werror -pedantic -I"$T/$kind" \
    "$SRC/tests/search/miou_harness.c" "$T/$kind/seg.c" -o "$T/$kind/harness"
  t0=$(date +%s%N)
  MIOU[$kind]=$("$T/$kind/harness" "$T/val" | sed 's/^mIoU //')
  t1=$(date +%s%N)
  MS[$kind]=$(echo "($t1 - $t0) / 1000000 / 100" | bc -l)
  FLASH[$kind]=- INSNS[$kind]=-
  if command -v arm-none-eabi-gcc >/dev/null && command -v qemu-system-arm >/dev/null; then
    d=$T/$kind/fw
    NASC_FLAGS="${q[*]}" "$SRC/examples/cortex-m/build.sh" -n "$NASC" -o "$d" -c cortex-m4 \
      -i "$T/val0.bin" -- "${NET[@]}" >/dev/null
    FLASH[$kind]=$(arm-none-eabi-size "$d/net.o" | awk 'NR == 2 {print $4}')
    "$SRC/examples/cortex-m/run.sh" "$d/fw.elf" cortex-m4 -icount shift=0 >"$d/out.txt"
    read -r ticks cal calins < <(sed -n \
      's/^nasc-fw: ticks \([0-9]*\) calib-ticks \([0-9]*\) calib-insns \([0-9]*\)/\1 \2 \3/p' \
      "$d/out.txt")
    INSNS[$kind]=$((ticks * calins / cal))
  fi
done

echo "| net | val mIoU | host ms/image | net.o flash B (cortex-m4) | QEMU instructions |"
echo "|---|---|---|---|---|"
for kind in float int8; do
  printf '| %s | %.4f | %.3f | %s | %s |\n' "$kind" "${MIOU[$kind]}" "${MS[$kind]}" \
    "${FLASH[$kind]}" "${INSNS[$kind]}"
done
drop=$(echo "(${MIOU[float]} - ${MIOU[int8]}) * 100" | bc -l)
printf 'mIoU drop float -> int8: %.2f points (target <= 1)\n' "$drop"
