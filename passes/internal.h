/* internal.h — helpers shared by the passes of this folder only. */
#ifndef NASC_PASSES_INTERNAL_H
#define NASC_PASSES_INTERNAL_H

#include "passes/passes.h"

/* rewrite.c */
/* Makes every node operand and graph output that reads `from` read `to`
 * instead. Returns the number of references changed. */
uint32_t pass_replace_uses(Graph *g, ValueId from, ValueId to);

/* True if v is one of g's outputs. */
bool pass_is_output(const Graph *g, ValueId v);

/* conv2d n is pointwise: 1x1 kernel, stride 1, no padding, groups 1 (the
 * form codegen and int8 give their fastest kernel). */
bool pass_conv_is_pointwise(const Graph *g, const Node *n);

/* The conv2d producing v when v is read by one operand alone (uses from
 * ir_fill_uses) and is no graph output, so a fusion may rewrite v's value;
 * else NULL. */
Node *pass_sole_conv_result(Graph *g, const uint32_t *uses, ValueId v);

/* base, or base#2, base#3... whichever no param of g is named yet (two convs
 * sharing one weight tensor may derive two different tensors from it). */
const char *pass_unique_param_name(Graph *g, const char *base);

/* The op of v's producer (OP_NONE for graph inputs). */
static inline Op pass_producer_op(const Graph *g, ValueId v)
{
    NodeId p = g->vals[v].producer;
    return p ? g->nodes[p].op : OP_NONE;
}

#endif
