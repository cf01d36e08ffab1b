/* internal.h — helpers shared by the files of ir/ only. */
#ifndef NASC_IR_INTERNAL_H
#define NASC_IR_INTERNAL_H

#include "ir.h"

/* Shape-rule prototypes, one per row of ops.def. */
#define OP(E, l, nmin, nmax, ak, fl) \
    bool infer_##l(const Graph *g, const Node *n, Shape *out, Diag *d);
#include "ops.def"
#undef OP

/* Operand i's shape. */
static inline const Shape *in_shape(const Graph *g, const Node *n, uint32_t i)
{
    return &g->vals[n->in[i]].shape;
}

/* Reports "<op>: operand i must be rank 4 (got f32[...])" and returns false. */
bool need_rank(const Graph *g, const Node *n, uint32_t i, int rank, Diag *d);
/* Requires operand i to have exactly shape s. */
bool need_shape(const Graph *g, const Node *n, uint32_t i, const Shape *s, Diag *d);
/* Output size of a sliding window: floor((in + pads - dil*(k-1) - 1)/stride) + 1. */
int64_t window_out(int64_t in, int pad_lo, int pad_hi, int k, int stride, int dil);

#endif
