#!/usr/bin/env bash
# test_train_darts.sh — `nasc train` on a DARTS genotype, no search:
# DARTS_V2 (C=4, 3 cells) for 1 epoch on 256 Fashion-MNIST images, then
# `nasc compile --in-ch 1 --input 28x28` of the trained weights, built with
# -Wall -Wextra -Werror; on the first test images the emitted C's argmax
# must equal the interpreter's (`nasc run`). Exit 77 = Fashion-MNIST absent.
# Usage: test_train_darts.sh NASC SRC_DIR
set -u
NASC=$1 SRC=$2
CC=${CC:-cc}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
FM=/usr/share/datasets/fashion-mnist
[ -e "$FM/t10k-images-idx3-ubyte.gz" ] || { echo "SKIP: no Fashion-MNIST in $FM"; exit 77; }
G="$SRC/examples/genotypes/darts_v2.json"
NET="--C 4 --layers 3"
# shellcheck disable=SC2086
"$NASC" train "$G" $NET --data "$FM" --epochs 1 --images 256 --val-images 64 --batch 8 \
  --seed 2 --log-dir "$T/log" -o "$T/w.safetensors" >"$T/train.log" 2>&1 ||
  { cat "$T/train.log"; fail "train"; }
grep -q "^epoch 1/1 .*val top-1" "$T/train.log" || fail "no epoch line"
[ "$(wc -l <"$T/log/train_history.csv")" -eq 2 ] || fail "history"
# shellcheck disable=SC2086
"$NASC" compile "$G" $NET --in-ch 1 --input 28x28 --classes 10 --weights "$T/w.safetensors" \
  --name fm -o "$T/fm.c" || fail "compile"
"$CC" -std=c99 -Wall -Wextra -Werror -pedantic -O2 -I"$T" "$SRC/tests/search/cls_harness.c" \
  "$T/fm.c" -o "$T/harness" -lm || fail "emitted C does not build"
# the first 8 test images, normalised as the trainer does
/usr/bin/python3 - "$FM" "$T" <<'PY' || fail "inputs"
import gzip, struct, sys
raw = gzip.open(sys.argv[1] + "/t10k-images-idx3-ubyte.gz").read()[16:]
for i in range(8):
    px = raw[i * 784:(i + 1) * 784]
    vals = [(p / 255.0 - 0.2860) / 0.3530 for p in px]
    open("%s/x%d.bin" % (sys.argv[2], i), "wb").write(struct.pack("<784f", *vals))
PY
want="" got=""
for i in 0 1 2 3 4 5 6 7; do
  # shellcheck disable=SC2086
  "$NASC" run "$G" $NET --in-ch 1 --input 28x28 --classes 10 --weights "$T/w.safetensors" \
    --in "$T/x$i.bin" --top 1 >"$T/run$i.txt" || fail "nasc run"
  want="$want $(sed -n 's/^  #1  class \([0-9]*\) .*/\1/p' "$T/run$i.txt")"
done
got=" $("$T/harness" "$T"/x[0-7].bin | tr '\n' ' ' | sed 's/ $//')" || fail "harness"
echo "interpreter:$want"
echo "emitted C:  $got"
[ "$want" = "$got" ] || fail "emitted C predictions differ from the interpreter's"
echo "ok"
