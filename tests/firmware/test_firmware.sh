#!/usr/bin/env bash
# test_firmware.sh NASC SRC_DIR [CASE...] — the Cortex-M firmware path.
#
# Cases (all by default):
#   strict    --target cortex-m4 / cortex-m7 / generic output compiles with the
#             exact strict freestanding flags; no <string.h>, aligned weights,
#             bounded stack (-fstack-usage: no dynamic frames, none over 4 KiB)
#   reemit    same graph + target => same bytes, for every target; the
#             default equals --target host
#   budget    --max-ram / --max-flash: exit 1, one line naming the largest
#             tensors, no file left; a budget equal to the need passes
#   darts     DARTS_V2 C=8 layers=5 on mps2-an386 (Cortex-M4F) vs the host
#             interpreter (compare.py states the tolerance) and vs the host
#             build of the same C (bit for bit)
#   darts-m7  the same net built for Cortex-M7 on mps2-an500
#   adl       Auto-DeepLab (autodeeplab_tf.json, F=2, no decoder, 33x33) on
#             mps2-an386, the same checks
# Exit 77 (ctest SKIP) with the reason when the ARM toolchain or QEMU is absent.
set -u
NASC=$1
SRC=$2
shift 2
CASES=${*:-strict reemit budget darts darts-m7 adl}
FW=$SRC/examples/cortex-m
G=$SRC/examples/genotypes
PY=${PYTHON:-python3}
for tool in arm-none-eabi-gcc qemu-system-arm; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool not found (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi" \
         "qemu-system-arm)"
    exit 77
  fi
done
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
STRICT="-ffreestanding -std=c99 -Wall -Wextra -Werror -pedantic"
M4="-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16"
M7="-mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-d16"
DARTS=("$G/darts_v2.json" --C 8 --layers 5)
ADL=("$G/autodeeplab_tf.json" --F 2 --no-decoder --input 33x33)

# The worst frame in the .su files of a build; "dynamic" frames fail.
check_stack() { # NAME SU_FILE
  local worst
  if grep -q dynamic "$2"; then bad "$1: dynamic stack frame: $(grep dynamic "$2" | head -1)"
    return; fi
  worst=$(sort -t"$(printf '\t')" -k2 -n "$2" | tail -1)
  if [ "$(echo "$worst" | cut -f2)" -le 4096 ]; then ok "$1: largest frame $worst"
  else bad "$1: frame over 4096 bytes: $worst"; fi
}

case_strict() {
  local d=$T/strict t flags
  mkdir -p "$d"
  for t in cortex-m4 cortex-m7 generic; do
    flags=$M4; [ $t = cortex-m7 ] && flags=$M7
    if ! "$NASC" compile "${DARTS[@]}" --target $t --name net -o "$d/$t.c" 2>"$d/err"; then
      bad "strict $t: nasc compile: $(head -1 "$d/err")"; continue; fi
    # shellcheck disable=SC2086
    if arm-none-eabi-gcc $flags $STRICT -c "$d/$t.c" -o "$d/$t.o" 2>"$d/err" &&
       arm-none-eabi-gcc $flags $STRICT -O2 -fstack-usage -c "$d/$t.c" -o "$d/$t-O2.o" \
         2>>"$d/err"; then
      ok "strict $t: compiles with $flags $STRICT (-O0 and -O2)"
    else
      bad "strict $t: $(head -3 "$d/err")"; continue
    fi
    grep -q '#include <string.h>' "$d/$t.c" && bad "strict $t: includes <string.h>"
    # Concat operands are written into their slices (passes/plan_memory.c), so a DARTS file
    # copies nothing; a memcpy that does appear must be declared (-Werror proves it compiles).
    if grep -q 'memcpy' "$d/$t.c" && ! grep -q '^void \*memcpy(' "$d/$t.c"; then
      bad "strict $t: memcpy used but not declared"; fi
    [ $t = generic ] || check_stack "strict $t -O2 stack" "$d/$t-O2.su"
  done
  # weights of a Cortex-M build are aligned .rodata objects
  local sym
  sym=$(arm-none-eabi-objdump -t "$d/cortex-m4-O2.o" | grep -m1 'w_stem_0_weight')
  if echo "$sym" | grep -q '\.rodata'; then ok "strict: weights in .rodata: $sym"
  else bad "strict: w_stem_0_weight not in .rodata: $sym"; fi
  grep -q 'aligned(8)' "$d/cortex-m4.c" && grep -q 'aligned(32)' "$d/cortex-m7.c" &&
    ! grep -q 'NASC_WEIGHTS_ALIGNED' "$d/generic.c" &&
    ok "strict: weight alignment 8 (M4), 32 (M7), none (generic)" ||
    bad "strict: weight alignment attributes not as documented"
  grep -q 'NET_WORKSPACE_ALIGN 8$' "$d/cortex-m4.h" && grep -q 'ALIGN 32$' "$d/cortex-m7.h" &&
    grep -q 'ALIGN 16$' "$d/generic.h" && ok "strict: workspace alignment 8 / 32 / 16" ||
    bad "strict: workspace alignment not as documented"
}

case_reemit() {
  local d=$T/reemit t
  mkdir -p "$d"
  "$NASC" compile "${DARTS[@]}" --name default -o "$d/default.c" || {
    bad "reemit: compile"; return; }
  for t in host generic cortex-m4 cortex-m7; do
    mkdir -p "$d/a-$t" "$d/b-$t"
    "$NASC" compile "${DARTS[@]}" --target $t --name default -o "$d/a-$t/default.c" &&
      "$NASC" compile "${DARTS[@]}" --target=$t --name default -o "$d/b-$t/default.c" &&
      cmp -s "$d/a-$t/default.c" "$d/b-$t/default.c" &&
      cmp -s "$d/a-$t/default.h" "$d/b-$t/default.h" && ok "reemit $t: same bytes twice" ||
      bad "reemit $t: two emissions differ"
  done
  cmp -s "$d/default.c" "$d/a-host/default.c" && cmp -s "$d/default.h" "$d/a-host/default.h" &&
    ok "reemit: no --target == --target host" || bad "reemit: default differs from host"
  # numerics do not depend on the target: past the prelude the bodies agree
  if diff <(sed -n '/^int default_run/,$p' "$d/a-host/default.c") \
          <(sed -n '/^int default_run/,$p' "$d/a-cortex-m4/default.c") >/dev/null; then
    ok "reemit: NAME_run identical for host and cortex-m4"
  else
    bad "reemit: NAME_run differs between host and cortex-m4"
  fi
}

# expect_budget NAME REGEX -- nasc compile args: exit 1, one line, no file
expect_budget() {
  local name=$1 want=$2 rc lines
  shift 3
  rm -rf "$T/budget" && mkdir -p "$T/budget"
  "$NASC" compile "$@" -o "$T/budget/net.c" >/dev/null 2>"$T/err"
  rc=$?
  lines=$(wc -l <"$T/err")
  if [ $rc -eq 1 ] && [ "$lines" -eq 1 ] && grep -qE -- "$want" "$T/err" &&
     [ -z "$(ls -A "$T/budget")" ]; then
    ok "budget $name: $(cat "$T/err")"
  else
    bad "budget $name: exit $rc, $lines lines, files: $(ls -A "$T/budget")"
    head -3 "$T/err"
  fi
}

case_budget() {
  local ws
  expect_budget ram "error: .*294912-byte workspace, more than the RAM budget of 102400 \
bytes; .*largest: [^ ]* f32\[1,24,32,32\] \(98304 B\)" -- "${DARTS[@]}" --max-ram 100k
  expect_budget flash "error: .*144680 bytes of weights in 127 arrays, more than the flash \
budget of 65536 bytes; the largest: cells\.4\.preprocess1\.op\.1\.weight\+bn f32\[32,128,1,1\] \
\(16384 B\)" -- "${DARTS[@]}" --max-flash 64k
  expect_budget adl-ram "RAM budget of 4096 bytes; at its peak .*largest: " -- "${ADL[@]}" \
    --max-ram=4096
  mkdir -p "$T/fit"
  "$NASC" compile "${DARTS[@]}" --max-ram 294912 --max-flash 144680 -o "$T/fit/net.c" &&
    ws=$(sed -n 's/^#define NET_WORKSPACE_BYTES //p' "$T/fit/net.h") && [ "$ws" = 294912 ] &&
    ok "budget: exactly the need (294912 / 144680 bytes) passes" ||
    bad "budget: a budget equal to the need was refused"
  "$NASC" compile "${DARTS[@]}" --max-ram 294911 -o "$T/fit/x.c" 2>/dev/null &&
    bad "budget: one byte short was accepted" || ok "budget: one byte short is refused"
  "$NASC" compile "${DARTS[@]}" --max-ram 12x -o "$T/fit/y.c" 2>"$T/err"
  [ $? -eq 2 ] && grep -q "expects a byte count" "$T/err" && ok "budget: --max-ram 12x is usage" ||
    bad "budget: --max-ram 12x: $(cat "$T/err")"
  "$NASC" compile "${DARTS[@]}" --target cortex-m9 -o "$T/fit/z.c" 2>"$T/err"
  [ $? -eq 2 ] && grep -q "expects host, generic" "$T/err" && ok "budget: unknown target" ||
    bad "budget: --target cortex-m9: $(cat "$T/err")"
}

# run_net NAME CPU -- net args: build, run under QEMU, compare
run_net() {
  local name=$1 cpu=$2 d=$T/$1
  shift 3
  if ! "$FW/build.sh" -n "$NASC" -o "$d" -c "$cpu" -- "$@" >"$T/log" 2>&1; then
    bad "$name: build.sh: $(tail -3 "$T/log")"; return; fi
  if ! timeout 600 "$FW/run.sh" "$d/fw.elf" "$cpu" >"$d/fw.txt" 2>"$T/log"; then
    bad "$name: qemu exit status (firmware output: $(head -3 "$d/fw.txt"))"; return; fi
  "$NASC" run "$@" --in "$d/x.bin" --out "$d/ref.bin" --top 0 || {
    bad "$name: nasc run"; return; }
  # the net as C99 (no FP contraction, as on the target), the driver as C11
  cc -std=c99 -O2 -Wall -Wextra -Werror -c "$d/net.c" -o "$d/host-net.o" &&
    cc -std=c11 -O2 -Wall -Wextra -Werror -I"$d" "$SRC/tests/firmware/host_main.c" \
      "$d/host-net.o" -o "$d/host" && "$d/host" >"$d/host.txt" || {
    bad "$name: host build of net.c"; return; }
  if "$PY" "$SRC/tests/firmware/compare.py" "$d/fw.txt" "$d/ref.bin" "$d/host.txt" \
       >"$T/log" 2>&1; then
    ok "$name ($cpu): $(tr '\n' ' ' <"$T/log") | $(grep -h 'ticks\|stack' "$d/fw.txt" |
       tr '\n' ' ')"
  else
    bad "$name ($cpu): $(cat "$T/log")"
  fi
}

for c in $CASES; do
  case $c in
    strict) case_strict ;;
    reemit) case_reemit ;;
    budget) case_budget ;;
    darts) run_net darts cortex-m4 -- "${DARTS[@]}" ;;
    darts-m7) run_net darts-m7 cortex-m7 -- "${DARTS[@]}" ;;
    adl) run_net adl cortex-m4 -- "${ADL[@]}" ;;
    *) bad "unknown case $c" ;;
  esac
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
