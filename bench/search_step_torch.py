#!/usr/bin/python3
"""PyTorch CPU reference of nasc's first-order Auto-DeepLab search step.

The supernet is tests/search/adl_search_torch.py's AutoDeeplab (the torch
rebuild of NoamRosenberg/autodeeplab's search model that the parity tests
check nasc's supernet against), imported, not copied. One step is what
search/bilevel.c does per step with first order and arch updates on:

  arch:    zero grads, forward + cross-entropy (ignore 255) + backward on one
           batch, Adam on (alphas, betas): lr 3e-3, betas (0.9, 0.999),
           weight decay 1e-3 (`nasc search adl`'s settings);
  weights: zero grads, forward + backward on another batch, clip the weights'
           gradient norm at 5, SGD lr 0.025, momentum 0.9, weight decay 3e-4.

The model is in train mode (batch statistics, running statistics updated),
as in the search. Batches are random inputs and labels, built before the
timed loop. Prints "median_ms min_ms images_per_s" over the timed steps, a
step consuming 2 x batch images (the arch batch and the weights batch).

Usage: search_step_torch.py [--layers 4] [--F 4] [--batch 8] [--size 64]
       [--classes 11] [--warmup 2] [--steps 10] [--threads 2] [--seed 1]
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "search"))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from adl_search_torch import AutoDeeplab  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    for name, default in (("layers", 4), ("F", 4), ("batch", 8), ("size", 64),
                          ("classes", 11), ("warmup", 2), ("steps", 10), ("threads", 2),
                          ("seed", 1)):
        ap.add_argument("--" + name, type=int, default=default)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = AutoDeeplab(args.classes, args.layers, args.F)
    with torch.no_grad():  # the search's init: 1e-3 * N(0, 1)
        model.alphas.normal_(0, 1e-3)
        model.betas.normal_(0, 1e-3)
    model.train()
    arch = [model.alphas, model.betas]
    weights = [p for n, p in model.named_parameters() if n not in ("alphas", "betas")]
    adam = torch.optim.Adam(arch, lr=3e-3, betas=(0.9, 0.999), weight_decay=1e-3)
    sgd = torch.optim.SGD(weights, lr=0.025, momentum=0.9, weight_decay=3e-4)

    total = args.warmup + args.steps
    shape = (args.batch, 3, args.size, args.size)
    batches = [(torch.rand(shape) * 2 - 1,
                torch.randint(0, args.classes, (args.batch, args.size, args.size)))
               for _ in range(2 * total)]

    def loss_backward(x, y):
        model.zero_grad(set_to_none=False)
        loss = F.cross_entropy(model(x), y, ignore_index=255)
        loss.backward()

    step_ms = []
    for step in range(total):
        t = time.perf_counter()
        loss_backward(*batches[2 * step])
        adam.step()
        loss_backward(*batches[2 * step + 1])
        torch.nn.utils.clip_grad_norm_(weights, 5.0)
        sgd.step()
        if step >= args.warmup:
            step_ms.append((time.perf_counter() - t) * 1e3)
    median = sorted(step_ms)[len(step_ms) // 2]  # as search_step.c: the upper middle
    print(f"{median:.1f} {min(step_ms):.1f} {2 * args.batch / (median / 1e3):.2f}")


if __name__ == "__main__":
    main()
