#!/usr/bin/env python3
"""random_genotypes.py N [SEED] — N random DARTS-space genotypes, printed as a
search log would print them (log lines around `genotype = Genotype(...)`),
for `nasc bench --from`. Each node picks two distinct earlier states and a
non-`none` primitive per edge, as DARTS's derived genotypes do."""
import random
import sys

PRIMS = ["max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3",
         "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5"]


def cell(rng):
    edges = []
    for node in range(2, 6):
        for j in rng.sample(range(node), 2):
            edges.append((rng.choice(PRIMS), j))
    return edges


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
    for i in range(n):
        print(f"2024-01-01 00:{i // 60:02d}:{i % 60:02d} epoch {i} train_acc 0.{rng.randint(10, 99)}")
        print(f"2024-01-01 00:{i // 60:02d}:{i % 60:02d} genotype = Genotype("
              f"normal={cell(rng)}, normal_concat=range(2, 6), "
              f"reduce={cell(rng)}, reduce_concat=range(2, 6))")


if __name__ == "__main__":
    main()
