#!/usr/bin/env bash
# test_cli.sh NASC SRC_DIR — bad input through the real CLI, cproc-style.
#
# Every case must: exit with the given status, print exactly ONE line on
# stderr matching the expected text (file, place and cause), not crash, and
# leave no file at all in the output directory.
set -u
NASC=$1
SRC=$2
PY=${PYTHON:-python3}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
OUT="$T/out"
mkdir -p "$OUT" "$T/in"
pass=0
fail=0

expect_fail() { # NAME STATUS EXPECTED_STDERR_REGEX -- nasc args...
  local name=$1 status=$2 want=$3
  shift 4
  rm -rf "$OUT" && mkdir -p "$OUT"
  "$NASC" "$@" >"$T/stdout" 2>"$T/stderr"
  local rc=$? lines why=""
  lines=$(wc -l <"$T/stderr")
  [ "$rc" -eq "$status" ] || why="exit status $rc, expected $status"
  [ -z "$why" ] && [ "$lines" -ne 1 ] && why="$lines lines on stderr, expected 1"
  [ -z "$why" ] && ! grep -qE -- "$want" "$T/stderr" && why="stderr does not match /$want/"
  [ -z "$why" ] && [ -n "$(ls -A "$OUT")" ] && why="left files behind: $(ls -A "$OUT")"
  if [ -z "$why" ]; then
    pass=$((pass + 1))
    echo "ok   $name: $(cat "$T/stderr")"
  else
    fail=$((fail + 1))
    echo "FAIL $name: $why"
    sed 's/^/     stderr: /' "$T/stderr" | head -5
  fi
}

expect_ok() { # NAME -- nasc args...
  local name=$1
  shift 2
  if "$NASC" "$@" >"$T/stdout" 2>"$T/stderr"; then
    pass=$((pass + 1))
    echo "ok   $name"
  else
    fail=$((fail + 1))
    echo "FAIL $name: exit $?"
    head -5 "$T/stderr"
  fi
}

G="$T/in/g.txt"
write() { printf '%s\n' "$2" >"$T/in/$1"; }
V2="normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=range(2, 6)"
write g.txt "V2 = Genotype($V2)"
SMALL=(--C 4 --layers 3 --genotype V2)

# ---- genotypes ----
write malformed.txt "# a comment
V2 = Genotype(normal=[('sep_conv_3x3', 0) ('sep_conv_3x3', 1)], normal_concat=[2], reduce=[], reduce_concat=[2])"
expect_fail malformed-literal 1 "malformed.txt:2:43: error: expected .,. or .]. after edge, found .\(." -- \
  compile "$T/in/malformed.txt" "${SMALL[@]}" -o "$OUT/net.c"
write unknown_op.txt "V2 = Genotype(${V2/dil_conv_3x3/dil_conv_9x9})"
expect_fail unknown-op 1 "unknown_op.txt:1:[0-9]+: error: unknown op 'dil_conv_9x9'" -- \
  compile "$T/in/unknown_op.txt" "${SMALL[@]}" -o "$OUT/net.c"
write index.txt "V2 = Genotype(${V2/(\'dil_conv_3x3\', 2)/(\'dil_conv_3x3\', 6)})"
expect_fail input-index-out-of-range 1 "index.txt:1:[0-9]+: error: .*out of range" -- \
  compile "$T/in/index.txt" "${SMALL[@]}" -o "$OUT/net.c"
write concat.txt "V2 = Genotype(${V2/normal_concat=\[2, 3, 4, 5\]/normal_concat=[2, 3, 9]})"
expect_fail concat-index 1 "concat.txt:1:[0-9]+: error: .*concat.*9" -- \
  compile "$T/in/concat.txt" "${SMALL[@]}" -o "$OUT/net.c"
expect_fail unknown-genotype-name 1 "g.txt: error: .*DARTS_V9.*V2" -- \
  compile "$G" --genotype DARTS_V9 -o "$OUT/net.c"
expect_fail missing-file 1 "nope.txt: error: .*No such file" -- \
  compile "$T/in/nope.txt" -o "$OUT/net.c"
printf '{\n  "format": "nasc-genotype",\n  "version": 1,\n  "normal": {"edges": [["sep_conv_3x3", 0]], \n' >"$T/in/trunc.json"
expect_fail truncated-json 1 "trunc.json:[0-9]+:[0-9]+: error: " -- \
  compile "$T/in/trunc.json" -o "$OUT/net.c"
expect_fail imagenet-small-input 1 "error: NetworkImageNet ends with AvgPool2d\(7\)" -- \
  compile "$G" --genotype V2 --net imagenet --C 8 --layers 3 --input 64x64 -o "$OUT/net.c"

# ---- weights ----
"$NASC" compile "$G" "${SMALL[@]}" -O0 --emit=ir -o "$T/in/small.nir" || fail=$((fail + 1))
for v in ok missing unexpected shape truncated oob overlap hdrlen badjson; do
  "$PY" "$SRC/tests/cli/mk_weights.py" "$T/in/small.nir" $v "$T/in/$v.safetensors"
done
expect_ok weights-ok -- run "$G" "${SMALL[@]}" --weights "$T/in/ok.safetensors" --top 0
expect_fail weights-missing 1 \
  "missing.safetensors: error: missing tensor 'cells.0.preprocess1.op.1.weight'" -- \
  compile "$G" "${SMALL[@]}" --weights "$T/in/missing.safetensors" -o "$OUT/net.c"
expect_fail weights-unexpected 1 "unexpected.safetensors: error: .*'cells.0.extra.weight'" -- \
  compile "$G" "${SMALL[@]}" --weights "$T/in/unexpected.safetensors" -o "$OUT/net.c"
expect_fail weights-shape 1 "shape.safetensors: error: .*'stem.0.weight'.*\[13,3,3,3\].*\[12,3,3,3\]" -- \
  compile "$G" "${SMALL[@]}" --weights "$T/in/shape.safetensors" -o "$OUT/net.c"
expect_fail weights-truncated 1 "truncated.safetensors: error: " -- \
  compile "$G" "${SMALL[@]}" --weights "$T/in/truncated.safetensors" -o "$OUT/net.c"
expect_fail weights-offsets-out-of-bounds 1 "oob.safetensors: error: .*classifier.bias" -- \
  compile "$G" "${SMALL[@]}" --weights "$T/in/oob.safetensors" -o "$OUT/net.c"
expect_fail weights-overlap 1 "overlap.safetensors: error: .*overlap" -- \
  compile "$G" "${SMALL[@]}" --weights "$T/in/overlap.safetensors" -o "$OUT/net.c"
expect_fail weights-header-too-long 1 "hdrlen.safetensors: error: .*header" -- \
  compile "$G" "${SMALL[@]}" --weights "$T/in/hdrlen.safetensors" -o "$OUT/net.c"
expect_fail weights-bad-json 1 "badjson.safetensors: error: " -- \
  compile "$G" "${SMALL[@]}" --weights "$T/in/badjson.safetensors" -o "$OUT/net.c"

# ---- outputs ----
expect_fail unwritable-dir 1 "$T/no/such/dir/net.c: error: cannot write: No such file" -- \
  compile "$G" "${SMALL[@]}" -o "$T/no/such/dir/net.c"
touch "$T/in/plainfile"
expect_fail output-under-a-file 1 "plainfile/net.c: error: cannot write: Not a directory" -- \
  compile "$G" "${SMALL[@]}" -o "$T/in/plainfile/net.c"
expect_fail run-input-size 1 "small.nir: error: expected exactly 3072 f32 values" -- \
  run "$G" "${SMALL[@]}" --in "$T/in/small.nir" --out "$OUT/y.bin"
expect_fail bad-usage 2 "unexpected argument '--frobnicate'" -- \
  compile "$G" --frobnicate -o "$OUT/net.c"
expect_fail bad-name 2 "--name must be a C identifier" -- \
  compile "$G" "${SMALL[@]}" --name 9net -o "$OUT/net.c"

# ---- a good compile leaves exactly the two files ----
rm -rf "$OUT" && mkdir -p "$OUT"
if "$NASC" compile "$G" "${SMALL[@]}" --name tiny -o "$OUT/tiny.c" 2>"$T/stderr" &&
  [ "$(ls "$OUT" | tr '\n' ' ')" = "tiny.c tiny.h " ]; then
  pass=$((pass + 1)); echo "ok   compile-writes-c-and-h"
else
  fail=$((fail + 1)); echo "FAIL compile-writes-c-and-h: $(ls -A "$OUT")"; cat "$T/stderr"
fi

# ---- convert round trip: literal -> JSON -> literal -> JSON is lossless ----
if "$NASC" convert "$G" --genotype V2 -o "$T/in/v2.json" &&
  "$NASC" convert "$T/in/v2.json" --to literal -o "$T/in/v2.txt" &&
  "$NASC" convert "$T/in/v2.txt" -o "$T/in/v2b.json" &&
  cmp -s "$T/in/v2.json" "$T/in/v2b.json" &&
  grep -q "^V2 = Genotype(normal=\[('sep_conv_3x3', 0), " "$T/in/v2.txt" &&
  grep -q "reduce_concat=\[2, 3, 4, 5\])" "$T/in/v2.txt"; then
  pass=$((pass + 1)); echo "ok   convert-roundtrip"
else
  fail=$((fail + 1)); echo "FAIL convert-roundtrip"
fi

# ---- the same inputs give byte-identical C ----
mkdir -p "$T/d1" "$T/d2"
if "$NASC" compile "$G" "${SMALL[@]}" -o "$T/d1/net.c" &&
  "$NASC" compile "$G" "${SMALL[@]}" -o "$T/d2/net.c" &&
  cmp -s "$T/d1/net.c" "$T/d2/net.c" && cmp -s "$T/d1/net.h" "$T/d2/net.h" &&
  "$NASC" compile "$G" "${SMALL[@]}" --weights "$T/in/ok.safetensors" -o "$T/d1/net.c" &&
  "$NASC" compile "$G" "${SMALL[@]}" --weights "$T/in/ok.safetensors" -o "$T/d2/net.c" &&
  cmp -s "$T/d1/net.c" "$T/d2/net.c"; then
  pass=$((pass + 1)); echo "ok   deterministic-output"
else
  fail=$((fail + 1)); echo "FAIL deterministic-output"
fi

# ---- Auto-DeepLab through the CLI ----
ADL="$T/in/adl.json"
cat >"$ADL" <<'JSON'
{
  "format": "nasc-genotype", "version": 1, "space": "autodeeplab", "name": "tiny",
  "path": [0, 1, 1, 2],
  "cell": [[0, "sep_conv_3x3"], [1, "skip_connect"], [2, "dil_conv_3x3"], [4, "max_pool_3x3"],
           [5, "atrous_3x3"], [8, "avg_pool_3x3"], [11, "sep_conv_5x5"], [13, "none"],
           [14, "dil_conv_5x5"], [19, "atrous_5x5"]],
  "F": 4, "B": 5, "classes": 5, "input": [33, 41],
  "aspp_rates": [6, 12, 18], "decoder": true, "bn": "bn"
}
JSON
sed 's/"path": \[0, 1, 1, 2\]/"path": [0, 2, 1, 2]/' "$ADL" >"$T/in/adl_step.json"
expect_fail adl-path-step 1 "adl_step.json:3:15: error: .*level 0 to level 2" -- \
  compile "$T/in/adl_step.json" -o "$OUT/net.c"
sed 's/"atrous_5x5"\]\]/"atrous_9x9"]]/' "$ADL" >"$T/in/adl_op.json"
expect_fail adl-unknown-op 1 "adl_op.json:[0-9]+:[0-9]+: error: .*atrous_9x9" -- \
  compile "$T/in/adl_op.json" -o "$OUT/net.c"
expect_fail argmax-on-classifier 1 "--output argmax needs a segmentation network" -- \
  compile "$G" "${SMALL[@]}" --output argmax -o "$OUT/net.c"
expect_fail mask-on-classifier 1 "mask.png: error: -o writes a segmentation mask" -- \
  run "$G" "${SMALL[@]}" -o "$OUT/mask.png"

# labels: emitted C (uint8_t output) == interpreter, and == argmax of the logits
CC=${CC:-cc}
if "$NASC" compile "$ADL" --output argmax --name net -o "$T/d1/net.c" &&
  "$CC" -std=c99 -Wall -Wextra -Werror -pedantic -O2 -I"$T/d1" \
    "$SRC/tests/cli/labels_harness.c" "$T/d1/net.c" -o "$T/d1/labels" &&
  "$PY" -c "import struct,sys; sys.stdout.buffer.write(struct.pack('<%df' % (3*33*41), *[((i * 7919) % 200) / 100.0 - 1 for i in range(3*33*41)]))" >"$T/in/x.bin" &&
  "$T/d1/labels" "$T/in/x.bin" "$T/d1/c_labels.bin" &&
  "$NASC" run "$ADL" --output argmax --in "$T/in/x.bin" --out "$T/d1/i_labels.bin" --top 0 &&
  "$NASC" run "$ADL" --in "$T/in/x.bin" --out "$T/d1/logits.bin" --top 0 &&
  cmp -s "$T/d1/c_labels.bin" "$T/d1/i_labels.bin" &&
  "$PY" - "$T/d1/logits.bin" "$T/d1/i_labels.bin" <<'PY'
import struct, sys
k, h, w = 5, 33, 41
y = struct.unpack('<%df' % (k * h * w), open(sys.argv[1], 'rb').read())
lab = open(sys.argv[2], 'rb').read()
want = bytes(max(range(k), key=lambda c: (y[c * h * w + i], -c)) for i in range(h * w))
sys.exit(0 if lab == want and len(set(lab)) > 1 else 1)
PY
then
  pass=$((pass + 1)); echo "ok   argmax-labels-c-equals-interpreter"
else
  fail=$((fail + 1)); echo "FAIL argmax-labels-c-equals-interpreter"
fi

# an image in, a VOC-palette PNG mask out, at the image's own size (32x32)
rm -rf "$OUT" && mkdir -p "$OUT"
if "$NASC" run "$ADL" --image "$SRC/examples/demo/airplane.ppm" -o "$OUT/mask.png" --top 0 &&
  "$PY" - "$OUT/mask.png" <<'PY'
import struct, sys
b = open(sys.argv[1], 'rb').read()
ok = b[:8] == b'\x89PNG\r\n\x1a\n' and struct.unpack('>II', b[16:24]) == (32, 32)
sys.exit(0 if ok else 1)
PY
then
  pass=$((pass + 1)); echo "ok   image-to-mask-png"
else
  fail=$((fail + 1)); echo "FAIL image-to-mask-png"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
