#!/usr/bin/env bash
# test_int8_qemu.sh NASC SRC_DIR — an int8 DARTS net (darts_v2, C=8, 5 layers)
# calibrated on 4 seeded inputs, built with examples/cortex-m/build.sh
# (--quantize int8, cortex-m4), run under QEMU mps2-an386; its output bits
# must equal the same emitted C built and run on the host (tests/firmware/
# host_main.c). Exit 77 (skip) without arm-none-eabi-gcc or qemu-system-arm.
set -u
NASC=$1
SRC=$2
for tool in arm-none-eabi-gcc qemu-system-arm; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/cal"
python3 -c 'import random, struct, sys
r = random.Random(5)
for k in range(4):
    open("%s/x%d.bin" % (sys.argv[1], k), "wb").write(
        struct.pack("<3072f", *[r.gauss(0, 1) for _ in range(3072)]))' "$T/cal"
NET=("$SRC/examples/genotypes/darts_v2.json" --C 8 --layers 5)
NASC_FLAGS="--quantize int8 --calib $T/cal" "$SRC/examples/cortex-m/build.sh" -n "$NASC" \
  -o "$T/fw" -c cortex-m4 -- "${NET[@]}" >"$T/log" 2>&1 || {
  echo "FAIL build.sh: $(tail -5 "$T/log")"; exit 1; }
grep -q 'nasc_q8_conv' "$T/fw/net.c" || { echo "FAIL: net.c is not the int8 form"; exit 1; }
timeout 600 "$SRC/examples/cortex-m/run.sh" "$T/fw/fw.elf" cortex-m4 >"$T/fw.txt" || {
  echo "FAIL: qemu: $(head -5 "$T/fw.txt")"; exit 1; }
cc -std=c99 -O2 -Wall -Wextra -Werror -pedantic -c "$T/fw/net.c" -o "$T/host-net.o" &&
  cc -std=c11 -O2 -Wall -Wextra -Werror -I"$T/fw" "$SRC/tests/firmware/host_main.c" \
    "$T/host-net.o" -o "$T/host" && "$T/host" >"$T/host.txt" || {
  echo "FAIL: host build/run"; exit 1; }
fw=$(grep '^y ' "$T/fw.txt" | cut -d' ' -f2)
host=$(grep '^y ' "$T/host.txt" | cut -d' ' -f2)
n=$(echo "$fw" | grep -c .)
if [ "$n" -gt 0 ] && [ "$fw" = "$host" ]; then
  echo "ok   int8 darts_v2 C=8 on QEMU mps2-an386 == host, $n outputs bit for bit;" \
       "$(grep -h 'ticks\|stack' "$T/fw.txt" | tr '\n' ' ')"
  echo "flash: $(arm-none-eabi-size "$T/fw/net.o" | tail -1)"
else
  echo "FAIL: QEMU and host outputs differ"; diff <(echo "$fw") <(echo "$host") | head; exit 1
fi
