#!/usr/bin/env bash
# ablation.sh — which passes buy what: the emitted C of each benchmark net compiled with -O0,
# with each -O2 pass alone (--passes=P) and with -O2, built with cc -O3 -march=native and
# timed with run_so (bench/run_so.c) in interleaved rounds, so load drifts hit every
# configuration alike. Prints per net and configuration the median latency, the speed-up
# over -O0 and NAME_WORKSPACE_BYTES, then a Markdown table (the one in README.md).
#
#   bench/ablation.sh [BUILD_DIR]
#
# BUILD_DIR (default build/) holds tools/nasc and tools/nasc-opt. Environment:
#   NETS      cifar,imagenet,adl (DARTS_V2 NetworkCIFAR C=36/20, NetworkImageNet C=48/14,
#             Auto-DeepLab examples/genotypes/autodeeplab_port.json F=20 19 classes 321x321)
#   RUNS      timed runs per configuration and round (default 10), WARMUP (2), ROUNDS (3)
#   WEIGHTS   a directory laid out like bench/peers.sh's KEEP_WORKDIR (NET/weights.safetensors,
#             adl/arch.json) to time those weights; default: nasc's seeded initialisation
#   CONFIGS   space-separated list overriding the configurations (e.g. "-O0 -O2")
#   CC        compiler (default cc)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
build="${1:-$root/build}"
nasc="$build/tools/nasc"
[ -x "$nasc" ] || { echo "ablation.sh: no $nasc (build it)" >&2; exit 2; }
cc="${CC:-cc}"
work="$(mktemp -d -t nasc-ablation.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# -O0, each rewriting pass of -O2 alone (plan-memory is an analysis), -O2.
if [ -n "${CONFIGS:-}" ]; then
  read -r -a configs <<<"$CONFIGS"
else
  o2=$("$build/tools/nasc-opt" --list-passes | sed -n 's/^-O2: //p' | tr ',' ' ')
  configs=(-O0)
  for p in $o2; do [ "$p" = plan-memory ] || configs+=("--passes=$p"); done
  configs+=(-O2)
fi

net_args() { # NET: the compile arguments (architecture, net options, weights)
  local w="${WEIGHTS:-}"
  case $1 in
    cifar) echo "$root/examples/genotypes/darts_v2.json --net cifar --C 36 --layers 20" \
                "--classes 10 --input 32x32" ;;
    imagenet) echo "$root/examples/genotypes/darts_v2.json --net imagenet --C 48 --layers 14" \
                   "--classes 1000 --input 224x224" ;;
    adl) if [ -n "$w" ] && [ -f "$w/adl/arch.json" ]; then echo "$w/adl/arch.json"
         else echo "$root/examples/genotypes/autodeeplab_port.json --F 20 --classes 19" \
                   "--input 321x321"; fi ;;
    *) echo "ablation.sh: unknown net $1" >&2; return 1 ;;
  esac
  if [ -n "$w" ] && [ -f "$w/$1/weights.safetensors" ]; then
    echo "--weights $w/$1/weights.safetensors"
  fi
}

"$cc" -O2 -o "$work/run_so" "$here/run_so.c" -ldl
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); $("$cc" --version |
  head -1); load average $(cut -d' ' -f1 /proc/loadavg)"
IFS=, read -r -a nets <<<"${NETS:-cifar,imagenet,adl}"
declare -A ws nin nout
for net in "${nets[@]}"; do
  read -r -a args <<<"$(net_args "$net")"
  for i in "${!configs[@]}"; do
    d="$work/$net.$i"
    mkdir -p "$d"
    "$nasc" compile "${args[@]}" "${configs[$i]}" --name net -o "$d/net.c"
    "$cc" -O3 -march=native -fPIC -shared "$d/net.c" -o "$d/net.so"
    ws[$net.$i]=$(sed -n 's/^#define NET_WORKSPACE_BYTES \([0-9]*\).*/\1/p' "$d/net.h")
    nin[$net]=$(sed -n 's/^#define NET_INPUT_SIZE \([0-9]*\).*/\1/p' "$d/net.h")
    nout[$net]=$(( $(sed -n 's/^#define NET_OUTPUT_SIZE \([0-9]*\).*/\1/p' "$d/net.h") * 4 ))
  done
  echo "  built $net: ${#configs[@]} configurations"
done

declare -A times # "$net.$i" -> space-separated round medians
for r in $(seq 1 "${ROUNDS:-3}"); do
  for net in "${nets[@]}"; do
    for i in "${!configs[@]}"; do
      m=$("$work/run_so" "$work/$net.$i/net.so" net "${nin[$net]}" "${nout[$net]}" \
          "${ws[$net.$i]}" "${WARMUP:-2}" "${RUNS:-10}" | cut -d' ' -f1)
      times[$net.$i]="${times[$net.$i]:-} $m"
    done
  done
  echo "  round $r/${ROUNDS:-3} done, load average $(cut -d' ' -f1 /proc/loadavg)"
done

median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo
hdr="| configuration |"
for col in ms "vs -O0" "workspace B"; do
  for net in "${nets[@]}"; do hdr+=" $net $col |"; done
done
echo "$hdr"
printf '|---%.0s' $(seq 0 $((3 * ${#nets[@]}))); echo '|'
declare -A base
for i in "${!configs[@]}"; do
  row="| \`${configs[$i]}\` |"; sp="" wsb=""
  for net in "${nets[@]}"; do
    m=$(echo "${times[$net.$i]}" | median)
    [ "$i" -gt 0 ] || base[$net]=$m
    row+=" $m |"
    sp+=" $(awk -v a="${base[$net]}" -v b="$m" 'BEGIN {printf "%.2fx", a / b}') |"
    wsb+=" $(echo "${ws[$net.$i]}" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta') |"
  done
  echo "$row$sp$wsb"
done
