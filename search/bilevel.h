/* bilevel.h — the differentiable-search loop shared by every search space.
 *
 * DARTS's alternating optimisation (quark0/darts train_search.py +
 * architect.py), which Auto-DeepLab reuses: per step, first the
 * architecture params take an Adam step on a batch of the "arch" half of
 * the training data (once epoch >= arch_start_epoch), then the network
 * weights take an SGD step (momentum, weight decay, gradient clipping,
 * cosine schedule per epoch) on a batch of the "weights" half. The arch
 * gradient is first order (d L_arch / d alpha at the current weights) or
 * second order (DARTS's unrolled step w' = w - lr * (v + dL/dw + wd w),
 * with the Hessian-vector product by finite differences,
 * eps = 0.01 / |dL_arch/dw'|).
 *
 * Checkpoints (after every epoch when `checkpoint` is set) hold every param,
 * the optimisers' state and the epoch, so a resumed run continues exactly:
 * batch order and augmentation depend only on (seed, epoch, step).
 */
#ifndef NASC_SEARCH_BILEVEL_H
#define NASC_SEARCH_BILEVEL_H

#include "search/supernet.h"

enum { SPLIT_WEIGHTS = 0, SPLIT_ARCH = 1 };

/* Where batches come from. fill() writes batch `step` of `split` for
 * `epoch` into x (the graph input's numel) and labels (output numel /
 * classes: one per pixel, or per image for classification), and must
 * depend only on its arguments so that runs are reproducible. */
typedef struct BatchSource {
    bool (*fill)(void *ctx, int split, int epoch, int64_t step, float *x, uint8_t *labels,
                 Diag *d);
    void *ctx;
    int64_t steps_per_epoch; /* batches per epoch (each split) */
} BatchSource;

typedef struct SearchStep {
    int epoch, epochs;
    int64_t step, steps;
    double loss, arch_loss; /* arch_loss: NaN before arch updates start */
} SearchStep;

typedef struct SearchOptions {
    int epochs, arch_start_epoch;
    float lr, lr_min, momentum, weight_decay, grad_clip;
    float arch_lr, arch_weight_decay, arch_beta1, arch_beta2;
    bool second_order;
    int ignore_label;       /* 255 */
    const char *checkpoint; /* written after every epoch (NULL: none) */
    bool resume;            /* start from `checkpoint` if it exists */
    /* Progress: after every step, and after every epoch (may be NULL). */
    void (*on_step)(void *ctx, const SearchStep *s);
    bool (*on_epoch)(void *ctx, int epoch, double mean_loss, Diag *d);
    void *ctx;
} SearchOptions;

/* DARTS's defaults: 50 epochs, lr 0.025 -> 0.001, momentum 0.9, wd 3e-4,
 * clip 5; Adam 3e-4, wd 1e-3, betas (0.5, 0.999); first order; arch from
 * epoch 0; ignore label 255. */
void search_options_defaults(SearchOptions *o);

/* Runs the search on net (params bound) from epoch 0 or the checkpoint.
 * On return the net's params hold the searched weights and architecture.
 * Returns false after reporting to d. */
bool search_run(SuperNet *net, const BatchSource *src, const SearchOptions *o, Diag *d);

#endif
