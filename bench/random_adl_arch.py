#!/usr/bin/env python3
"""Random Auto-DeepLab architectures from the space `nasc search adl` searches.

  random_adl_arch.py OUTDIR N SEED [--template ARCH.json]
                     [--layers 4 --F 4 --classes 11 --size 64]

Writes OUTDIR/random_1.json .. random_N.json in the canonical JSON that
`nasc search adl` writes (arch.json). Every field but "name", "path" and
"cell" comes from --template (the searched arch.json, so that F, classes,
input, ASPP rates, decoder and BN match) or, without one, from the options
and what search/adl_decode.c sets (rates 6/12/18, decoder when there are at
least 3 layers, plain BN, B = 5). With a template, the path has as many
layers as the template's.

The space (search/adl_decode.c adl_viterbi, frontend fe_adl_check):
- path: layer 0 at level 0 or 1 (the stem sits at level 0 and stays or goes
  down one level); each next layer at most one level from the previous,
  levels 0..3. Each layer's level is drawn uniformly among its allowed
  moves (uniform per step, not over whole paths).
- cell: nodes 2..6; node n reads states 0..n-1 through edges
  offset(n) + j, offset = 0, 2, 5, 9, 14. Each node gets two distinct
  input states drawn uniformly, each with an op drawn uniformly from the
  seven non-'none' PRIMITIVES.
Only the standard library; the same SEED gives the same files.
"""
import argparse
import json
import os
import random
import sys

PRIMITIVES = ["none", "max_pool_3x3", "avg_pool_3x3", "skip_connect",
              "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5"]
LEVELS = 4
NODES = 5


def edge_offset(node):
    """First edge of node 2..6: 0, 2, 5, 9, 14."""
    return sum(range(2, node))


def random_path(rng, layers):
    path = [rng.choice([0, 1])]
    for _ in range(1, layers):
        last = path[-1]
        path.append(rng.choice([lv for lv in (last - 1, last, last + 1) if 0 <= lv < LEVELS]))
    return path


def random_cell(rng):
    rows = []
    for node in range(2, 2 + NODES):
        for state in rng.sample(range(node), 2):
            rows.append([edge_offset(node) + state, rng.choice(PRIMITIVES[1:])])
    return rows


def base_fields(args):
    if args.template:
        with open(args.template) as f:
            t = json.load(f)
        if t.get("space") != "autodeeplab":
            sys.exit(f"{args.template}: not an Auto-DeepLab architecture")
        return t, len(t["path"])
    fields = {"format": "nasc-genotype", "version": 1, "space": "autodeeplab",
              "F": args.F, "B": NODES, "classes": args.classes,
              "input": [args.size, args.size], "aspp_rates": [6, 12, 18],
              "decoder": args.layers >= 3, "bn": "bn"}
    return fields, args.layers


def to_json(arch):
    """The layout fe_adl_to_json writes: one cell row per line."""
    lines = ["{"]
    keys = ["format", "version", "space", "name", "path", "cell", "F", "B", "classes",
            "input", "aspp_rates", "decoder", "bn"]
    keys += [k for k in arch if k not in keys]
    items = []
    for k in keys:
        if k not in arch:
            continue
        if k == "cell":
            rows = ",\n".join(f"    [{e}, {json.dumps(op)}]" for e, op in arch[k])
            items.append(f'  "cell": [\n{rows}\n  ]')
        else:
            items.append(f"  {json.dumps(k)}: {json.dumps(arch[k])}")
    lines.append(",\n".join(items))
    lines.append("}")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("n", type=int)
    ap.add_argument("seed", type=int)
    ap.add_argument("--template")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--F", type=int, default=4)
    ap.add_argument("--classes", type=int, default=11)
    ap.add_argument("--size", type=int, default=64)
    args = ap.parse_args()
    fields, layers = base_fields(args)
    rng = random.Random(args.seed)
    os.makedirs(args.outdir, exist_ok=True)
    for i in range(1, args.n + 1):
        arch = dict(fields)
        arch["name"] = f"random_{i}"
        arch["path"] = random_path(rng, layers)
        arch["cell"] = random_cell(rng)
        path = os.path.join(args.outdir, f"random_{i}.json")
        with open(path, "w") as f:
            f.write(to_json(arch))
        print(path)


if __name__ == "__main__":
    main()
