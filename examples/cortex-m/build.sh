#!/bin/sh
# build.sh — a firmware image of a nasc-compiled network for QEMU's MPS2 boards.
#
#   build.sh -n NASC -o DIR [-c cortex-m4|cortex-m7] [-i X.bin] -- ARCH [net options]
#
# Writes DIR/net.c and DIR/net.h (`nasc compile --target CPU --name net`),
# DIR/input.inc (the bits of X.bin, raw little-endian f32 of the network's
# input size; without -i a seeded normal input is made as DIR/x.bin), the
# objects with their -fstack-usage (.su) and -fcallgraph-info (.ci) files,
# DIR/fw.elf and DIR/fw.map. The net is compiled with exactly the strict
# freestanding flags (plus -O2 and section flags); only the example's own
# files use GNU C. Exit status non-zero on any failure. Run the image with
# run.sh. Environment: CC (default arm-none-eabi-gcc), OPT (default -O2),
# NASC_FLAGS (more `nasc compile` options, e.g. --max-ram 1M).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
nasc= out= cpu=cortex-m4 input=
while getopts n:o:c:i: opt; do
  case $opt in
    n) nasc=$OPTARG ;; o) out=$OPTARG ;; c) cpu=$OPTARG ;; i) input=$OPTARG ;;
    *) echo "usage: build.sh -n NASC -o DIR [-c CPU] [-i X.bin] -- ARCH [net options]" >&2
       exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ -n "$nasc" ] && [ -n "$out" ] && [ $# -gt 0 ] || {
  echo "usage: build.sh -n NASC -o DIR [-c CPU] [-i X.bin] -- ARCH [net options]" >&2; exit 2; }
case $cpu in
  cortex-m4) cpuflags="-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16" ;;
  cortex-m7) cpuflags="-mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-d16" ;;
  *) echo "build.sh: unknown cpu '$cpu' (cortex-m4 or cortex-m7)" >&2; exit 2 ;;
esac
CC=${CC:-arm-none-eabi-gcc}
OPT=${OPT:--O2}
mkdir -p "$out"

# shellcheck disable=SC2086 # NASC_FLAGS is a list of options
"$nasc" compile "$@" --name net --target "$cpu" ${NASC_FLAGS:-} -o "$out/net.c"

insize=$(sed -n 's/^#define NET_INPUT_SIZE \([0-9]*\).*/\1/p' "$out/net.h")
if [ -z "$input" ]; then
  input=$out/x.bin
  python3 -c 'import random, struct, sys
r = random.Random(1); n = int(sys.argv[1])
sys.stdout.buffer.write(struct.pack("<%df" % n, *[r.gauss(0, 1) for _ in range(n)]))' \
    "$insize" >"$input"
fi
bytes=$(wc -c <"$input")
if [ "$bytes" -ne $((insize * 4)) ]; then
  echo "build.sh: $input has $bytes bytes; the network reads $insize floats" >&2
  exit 1
fi
# od prints host-order words; the input file and both targets are little-endian
od -An -v -tx4 "$input" | tr -s ' ' '\n' | sed -n 's/^\([0-9a-f]\{8\}\)$/0x\1u,/p' \
  >"$out/input.inc"

strict="-ffreestanding -std=c99 -Wall -Wextra -Werror -pedantic"
common="$cpuflags $OPT -ffunction-sections -fdata-sections -fstack-usage -fcallgraph-info=su"
# shellcheck disable=SC2086
{
  $CC $common $strict -c "$out/net.c" -o "$out/net.o"
  for f in main startup semihost; do
    $CC $common -ffreestanding -std=gnu99 -Wall -Wextra -Werror -I"$out" -I"$here" \
      -c "$here/$f.c" -o "$out/$f.o"
  done
  # libc (newlib) only for the memcpy the net may call; libgcc for helpers
  $CC $cpuflags -nostdlib -T "$here/cortex-m.ld" -Wl,--gc-sections -Wl,-Map="$out/fw.map" \
    "$out/startup.o" "$out/main.o" "$out/semihost.o" "$out/net.o" -lc -lgcc -o "$out/fw.elf"
}
