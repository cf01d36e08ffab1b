/* darts_search.h — the DARTS cell search space (quark0/darts
 * cnn/model_search.py) as a SuperNet, and the genotype derivation.
 *
 * The supernet is Network(C, classes, layers, steps, multiplier,
 * stem_multiplier) op by op: a conv+BN stem, `layers` cells (reduction
 * cells at layers/3 and 2*layers/3), global average pooling and a linear
 * classifier. Each cell has steps*(steps+3)/2 edges; edge e is a MixedOp,
 * the sum over the PRIMITIVES k of scale(op_k(x), softmax(alpha)[e*8+k]),
 * without the 'none' term (an exact zero; alpha_none still counts in the
 * softmax, so values and gradients are the reference's).
 * Every weight carries the state_dict key the PyTorch model gives it
 * ("cells.3._ops.5._ops.4.op.1.weight"); the architecture params are
 * "alphas_normal" and "alphas_reduce", both [edges, 8].
 */
#ifndef NASC_SEARCH_DARTS_SEARCH_H
#define NASC_SEARCH_DARTS_SEARCH_H

#include "frontend/frontend.h"
#include "search/supernet.h"

/* PRIMITIVES of cnn/genotypes.py, in the order of an alpha row. */
enum { DARTS_NUM_OPS = 8 };
extern const char *const darts_primitives[DARTS_NUM_OPS];

typedef struct DartsSearchConfig {
    int C;               /* channels of the first cells (doubled at each reduction) */
    int layers;          /* cells */
    int steps;           /* intermediate nodes per cell */
    int multiplier;      /* last `multiplier` nodes concatenated as the cell output */
    int stem_multiplier; /* stem channels = stem_multiplier * C */
    int classes;
    int in_ch, h, w;     /* input image */
    int batch;           /* N of the graph input */
} DartsSearchConfig;

/* train_search.py's CIFAR-10 setup: C=16 layers=8 steps=4 multiplier=4
 * stem_multiplier=3 classes=10, 3x32x32 input, batch 64. */
void darts_search_defaults(DartsSearchConfig *cfg);

/* Edges (alpha rows) per cell: steps*(steps+3)/2, 14 for 4 steps. */
int darts_search_edges(int steps);

/* Builds the supernet in arena a. Weights get search_init_weights(seed);
 * alphas_normal and alphas_reduce get search_init_normal(1e-3, seed, name),
 * out->arch = {alphas_normal, alphas_reduce}. The output is logits [N, K].
 * False after reporting to d (config out of range, or an input size that a
 * FactorizedReduce could not halve). */
bool darts_supernet_build(Arena *a, const DartsSearchConfig *cfg, uint64_t seed, SuperNet *out,
                          Diag *d);

/* Model.genotype() of model_search.py on raw alphas [edges(steps), 8]:
 * softmax per row; for node i the two incoming edges with the largest
 * non-'none' weight (ties: lower input first), strongest first, each with
 * its strongest non-'none' op (ties: lower op index); concat
 * range(2 + steps - multiplier, steps + 2). Op names point at
 * darts_primitives; the rest is arena memory. Fails on non-finite alphas
 * (a diverged search) or steps/multiplier out of range. */
bool darts_derive(const float *alphas_normal, const float *alphas_reduce, int steps,
                  int multiplier, Arena *a, Genotype *out, Diag *d);

#endif
