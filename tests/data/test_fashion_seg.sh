#!/usr/bin/env bash
# test_fashion_seg.sh NASC CHECK_FASHION SRC_DIR — `nasc data fashion-seg` end to end:
# same seed -> byte-identical trees, another seed -> different ones, the val
# split independent of --train, masks valid as PNGs (read by Python's zlib)
# and consistent with their images (check_fashion), and located errors.
# Exits 77 (ctest: skipped) when the Fashion-MNIST package is not installed.
set -u
NASC=$1
CHECK=$2
SRC=$3
FM=/usr/share/datasets/fashion-mnist
if [ ! -e $FM/train-images-idx3-ubyte.gz ] && [ ! -e $FM/train-images-idx3-ubyte ]; then
  echo "SKIP: Fashion-MNIST files absent ($FM; Debian package dataset-fashion-mnist)"
  exit 77
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

build() { # DIR args...
  local dir=$1
  shift
  "$NASC" data fashion-seg "$dir" --size 48 --val 12 --per-canvas 2..4 "$@" \
    >"$T/out" 2>"$T/err" || { bad "build $dir $*: $(cat "$T/err")"; return 1; }
}

build "$T/a" --train 40 --seed 7
build "$T/b" --train 40 --seed 7
build "$T/c" --train 40 --seed 8
build "$T/d" --train 20 --seed 7
grep -q "^fashion-seg: val 12/12$" "$T/err" || bad "no progress line: $(cat "$T/err")"
grep -q "40 train + 12 val\|20 train + 12 val" "$T/out" || bad "no summary: $(cat "$T/out")"
diff -r "$T/a" "$T/b" >/dev/null || bad "same seed, different files"
diff -r "$T/a" "$T/c" >/dev/null && bad "seeds 7 and 8 gave the same files"
for f in "$T"/a/JPEGImages/val_* "$T"/a/SegmentationClass/val_*; do
  cmp -s "$f" "${f/\/a\//\/d\/}" || bad "val file $(basename "$f") depends on --train"
done
n=$(ls "$T/a/JPEGImages" | wc -l)
[ "$n" -eq 52 ] || bad "$n images, expected 52"
[ "$(wc -l <"$T/a/ImageSets/Segmentation/train.txt")" -eq 40 ] || bad "train.txt length"
[ -s "$T/a/preview.png" ] || bad "no preview.png"
[ "$(grep -vc '^#' "$T/a/classes.txt")" -eq 11 ] || bad "classes.txt"
python3 "$SRC/tests/data/check_mask_png.py" "$T"/a/SegmentationClass/*.png || bad "mask PNGs"
"$CHECK" "$T/a" 40 12 || bad "check_fashion"

# errors: one located line and status 1; usage errors status 2
"$NASC" data fashion-seg "$T/e" --source "$T/nowhere" >/dev/null 2>"$T/err"
[ $? -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] &&
  grep -q "^$T/nowhere/train-images-idx3-ubyte.gz: error: cannot open" "$T/err" ||
  bad "missing source: $(cat "$T/err")"
"$NASC" data fashion-seg "$T/e" --per-canvas 3..1 >/dev/null 2>&1
[ $? -eq 2 ] || bad "--per-canvas 3..1 accepted"
"$NASC" data fashion-seg "$T/e" --size 8 >/dev/null 2>&1
[ $? -eq 2 ] || bad "--size 8 accepted"
"$NASC" data cifar "$T/e" >/dev/null 2>&1
[ $? -eq 2 ] || bad "unknown dataset kind accepted"
[ $fail -eq 0 ] && echo "ok"
exit $fail
