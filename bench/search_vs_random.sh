#!/usr/bin/env bash
# search_vs_random.sh — does the searched Auto-DeepLab architecture beat
# random ones from the same space? Retrains the searched arch.json and N
# random architectures (bench/random_adl_arch.py, every field but path and
# cell copied from the searched arch.json) with the same budget — same
# data, epochs, batch, seed — and prints each one's final-epoch val mIoU,
# the median of the random ones and whether the searched one beats it.
#
#   bench/search_vs_random.sh NASC DATA SEARCHED_ARCH OUT
#
# Environment: EPOCHS (3), BATCH (8), SEED (1, `nasc train --seed`), N (5
# random architectures), ARCH_SEED (1, random_adl_arch.py's seed).
# RANDOM_ONLY=1 retrains only the random ones, drawn with the search's
# default fields (L=4 F=4 11 classes 64x64) when SEARCHED_ARCH does not
# exist yet (a search still running). A retrain whose OUT/NAME/arch.json is
# byte-identical to the one asked for and whose history has EPOCHS rows is
# not redone, so a later full run reuses those results when the search's
# fields match the defaults (the script says which ones it reused).
# Per retrain OUT/NAME/ holds arch.json, train.log, train_history.csv,
# curves and val_grid.png; the table also goes to OUT/results.md.
set -u
if [ $# -ne 4 ]; then
  echo "usage: $0 NASC DATA SEARCHED_ARCH OUT" >&2
  exit 2
fi
NASC=$1 DATA=$2 SEARCHED=$3 OUT=$4
EPOCHS=${EPOCHS:-3} BATCH=${BATCH:-8} SEED=${SEED:-1} N=${N:-5} ARCH_SEED=${ARCH_SEED:-1}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT/archs" || exit 1
stamp() { date +%H:%M:%S; }

names=()
if [ -e "$SEARCHED" ]; then
  python3 "$HERE/random_adl_arch.py" "$OUT/archs" "$N" "$ARCH_SEED" --template "$SEARCHED" \
    >/dev/null || exit 1
  [ "${RANDOM_ONLY:-0}" = 1 ] || { cp "$SEARCHED" "$OUT/archs/searched.json" && names+=(searched); }
elif [ "${RANDOM_ONLY:-0}" = 1 ]; then
  echo "$SEARCHED does not exist yet: random architectures with the search's default fields"
  python3 "$HERE/random_adl_arch.py" "$OUT/archs" "$N" "$ARCH_SEED" >/dev/null || exit 1
else
  echo "$SEARCHED does not exist (set RANDOM_ONLY=1 to retrain only the random ones)" >&2
  exit 1
fi
for i in $(seq 1 "$N"); do names+=("random_$i"); done

# The last history row's column (epoch,train_loss,val_loss,pixel_acc,miou).
last_col() { tail -n 1 "$1/train_history.csv" | cut -d, -f"$2"; }

retrain() { # NAME: retrains OUT/archs/NAME.json into OUT/NAME unless already done
  local name=$1 arch="$OUT/archs/$1.json" dir="$OUT/$1"
  if cmp -s "$arch" "$dir/arch.json" && [ -s "$dir/train_history.csv" ] &&
     [ "$(($(wc -l <"$dir/train_history.csv") - 1))" -eq "$EPOCHS" ] && [ -s "$dir/w.safetensors" ]
  then
    echo "[$(stamp)] $name: reusing $dir (same arch.json, $EPOCHS epochs done)"
    return 0
  fi
  rm -rf "$dir" && mkdir -p "$dir" || return 1
  echo "[$(stamp)] $name: nasc train $EPOCHS epochs, batch $BATCH, seed $SEED"
  # epoch lines as they come (stdout is not a terminal: no progress bar)
  "$NASC" train "$arch" --data "$DATA" --epochs "$EPOCHS" --batch "$BATCH" --seed "$SEED" \
    --log-dir "$dir" -o "$dir/w.safetensors" 2>"$dir/train.err" | tee "$dir/train.log" |
    while IFS= read -r line; do echo "[$(stamp)] $name: $line"; done
  local rc=${PIPESTATUS[0]}
  if [ "$rc" -ne 0 ]; then
    cat "$dir/train.err" >&2
    echo "[$(stamp)] $name: nasc train failed ($rc)" >&2
    return 1
  fi
  cp "$arch" "$dir/arch.json"
}

for name in "${names[@]}"; do
  retrain "$name" || exit 1
done

{
  echo "| architecture | path | val mIoU | pixel acc |"
  echo "|---|---|---|---|"
  for name in "${names[@]}"; do
    path=$(tr -d '\n ' <"$OUT/$name/arch.json" | sed 's/.*"path":\[\([^]]*\)\].*/\1/')
    printf '| %s | %s | %.4f | %.4f |\n' "$name" "$path" "$(last_col "$OUT/$name" 5)" \
      "$(last_col "$OUT/$name" 4)"
  done
} >"$OUT/results.md"
randoms=$(for i in $(seq 1 "$N"); do last_col "$OUT/random_$i" 5; done)
verdict=$(python3 - "$randoms" "$(
  [ -d "$OUT/searched" ] && last_col "$OUT/searched" 5)" <<'EOF'
import statistics, sys
rand = [float(v) for v in sys.argv[1].split()]
med = statistics.median(rand)
line = f"median of the {len(rand)} random architectures: {med:.4f}"
if sys.argv[2]:
    s = float(sys.argv[2])
    line += f"; searched {s:.4f}: " + ("beats it" if s > med else "does NOT beat it")
print(line)
EOF
)
echo "$verdict" >>"$OUT/results.md"
echo "budget: $EPOCHS epochs, batch $BATCH, seed $SEED, data $DATA" >>"$OUT/results.md"
cat "$OUT/results.md"
