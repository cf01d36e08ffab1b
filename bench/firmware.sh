#!/usr/bin/env bash
# firmware.sh [BUILD_DIR] [CPU...] — size, memory and instruction count of
# nasc-compiled nets on Cortex-M, one row per (net, CPU) build.
#
# Builds with examples/cortex-m/build.sh (the net at -O2 with the strict
# freestanding flags) the nets tests/firmware runs — DARTS_V2 NetworkCIFAR
# C=8 layers=5 and Auto-DeepLab (autodeeplab_tf.json, F=2, no decoder, 33x33),
# seeded weights — and runs each under QEMU with `-icount shift=0`, where
# virtual time advances 1 ns per executed instruction. Debian's QEMU ships no
# TCG plugins (no libinsn.so), so the count comes from the firmware itself:
# it reads the MPS2 CMSDK timer0 (25 MHz, i.e. one tick per 40 instructions)
# around net_run and around a loop of exactly 2^21 instructions; the report
# is ticks(net) * 2^21 / ticks(loop), accurate to about 40 instructions.
#
# Columns: flash = .text + .rodata + .data image of the whole ELF
# (arm-none-eabi-size -A; the weights are .rodata), net .rodata = the net's own
# .rodata (weights plus conv parameter structs); RAM = workspace
# (NET_WORKSPACE_BYTES) + the worst stack path of net_run (-fcallgraph-info=su:
# frames summed along the deepest call chain) — the stack the firmware
# measured by painting is shown beside it; MACs from `nasc inspect`.
# CPU: cortex-m4 (mps2-an386) and cortex-m7 (mps2-an500) by default.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
shift || true
CPUS=${*:-cortex-m4 cortex-m7}
NASC=$BUILD/tools/nasc
G=$SRC/examples/genotypes
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
for tool in arm-none-eabi-gcc arm-none-eabi-size qemu-system-arm python3 "$NASC"; do
  command -v "$tool" >/dev/null || { echo "firmware.sh: $tool not found" >&2; exit 1; }
done

# Deepest stack path from net_run through the .ci call graph (no recursion
# in emitted code; a cycle would be reported). External callees (memcpy)
# have no frame in the graph and count 0 — the painted figure covers them.
stack_path() { # DIR
  python3 - "$1"/net.ci <<'PY'
import re, sys
size, edges = {}, {}
for line in open(sys.argv[1]):
    m = re.match(r'node: \{ title: "([^"]+)" label: "[^"]*\\n(\d+) bytes', line)
    if m:
        size[m.group(1)] = int(m.group(2))
    m = re.match(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"', line)
    if m:
        edges.setdefault(m.group(1), set()).add(m.group(2))
def worst(f, seen):
    if f in seen:
        sys.exit("recursion through " + f)
    return size.get(f, 0) + max([worst(g, seen | {f}) for g in edges.get(f, ())] or [0])
print(worst("net_run", frozenset()))
PY
}

row() { # NAME CPU -- net args
  local name=$1 cpu=$2 d=$T/$1-$2
  shift 3
  "$SRC/examples/cortex-m/build.sh" -n "$NASC" -o "$d" -c "$cpu" -- "$@" >/dev/null
  "$SRC/examples/cortex-m/run.sh" "$d/fw.elf" "$cpu" -icount shift=0 >"$d/out.txt"
  local text rodata data netro ws stat painted ticks cal calins insns macs
  read -r text rodata data < <(arm-none-eabi-size -A "$d/fw.elf" |
    awk '$1==".text"{t=$2} $1==".rodata"{r=$2} $1==".data"{d=$2} END{print t, r, d}')
  netro=$(arm-none-eabi-size -A "$d/net.o" | awk '$1 ~ /^\.rodata/ {s += $2} END {print s}')
  ws=$(sed -n 's/^#define NET_WORKSPACE_BYTES \([0-9]*\).*/\1/p' "$d/net.h")
  stat=$(stack_path "$d")
  painted=$(sed -n 's/^nasc-fw: stack-used \([0-9]*\).*/\1/p' "$d/out.txt")
  read -r ticks cal calins < <(sed -n \
    's/^nasc-fw: ticks \([0-9]*\) calib-ticks \([0-9]*\) calib-insns \([0-9]*\)/\1 \2 \3/p' \
    "$d/out.txt")
  insns=$((ticks * calins / cal))
  macs=$("$NASC" inspect "$@" | sed -n 's/^MACs *\([0-9]*\).*/\1/p')
  printf '| %s | %s | %d | %d | %d | %d + %d = %d | %d | %d | %.2f |\n' "$name" "$cpu" \
    $((text + rodata + data)) "$netro" "$ws" "$ws" "$stat" $((ws + stat)) "$painted" \
    "$insns" "$(echo "$insns / $macs" | bc -l)"
}

echo "| net | cpu | flash B | net .rodata B | workspace B | RAM B (ws + stack) | stack painted B" \
     "| instructions | insns/MAC |"
echo "|---|---|---|---|---|---|---|---|---|"
for cpu in $CPUS; do
  row darts-v2-c8-l5 "$cpu" -- "$G/darts_v2.json" --C 8 --layers 5
  row adl-f2-33 "$cpu" -- "$G/autodeeplab_tf.json" --F 2 --no-decoder --input 33x33
done
