/* supernet.h — what every architecture-search space gives the search loop.
 *
 * A search space (DARTS cells: darts_search.c; Auto-DeepLab lattice:
 * adl_search.c) builds its supernet as an ordinary IR Graph: mixed ops are
 * `scale` nodes (one candidate's output times one element of
 * softmax(alpha)) summed with `add`, so the training engine
 * (runtime/train) runs and differentiates it through the same op table as
 * every derived network. The search loop (bilevel.c) only needs this
 * struct: which params are architecture parameters, the rest being
 * network weights (running statistics excluded, ir_fill_stats).
 */
#ifndef NASC_SEARCH_SUPERNET_H
#define NASC_SEARCH_SUPERNET_H

#include "ir/ir.h"

typedef struct SuperNet {
    Graph *g;       /* one f32 input [N,C,H,W]; one output: logits [N,K] or
                       [N,K,H,W] at the input resolution */
    int narch;
    ValueId *arch;  /* architecture params (alphas, betas), OP_PARAM values */
} SuperNet;

/* Training initialisation of every param of g (not the arch params, which
 * the space initialises, DARTS-style 1e-3 * N(0,1)): conv and linear
 * weights kaiming-uniform as torch's default (bound 1/sqrt(fan_in)),
 * biases 0, batchnorm gamma 1, beta 0, running mean 0, running var 1.
 * A param's role comes from the node reading it and the operand index,
 * not from its name. Deterministic in seed and the param's name. */
void search_init_weights(Graph *g, uint64_t seed);

/* N(0,1) * scale into data[n], deterministic in seed and name. */
void search_init_normal(float *data, int64_t n, float scale, uint64_t seed, const char *name);

#endif
