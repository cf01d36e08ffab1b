/* stats.c — multiply-add counts, as the DARTS papers count them: conv and
 * linear layers only (BN, pooling and adds are not counted). */
#include "ir.h"

int64_t ir_node_macs(const Graph *g, const Node *n)
{
    const Shape *out = &g->vals[n->out].shape;
    if (n->op == OP_CONV2D) {
        const Shape *w = &g->vals[n->in[1]].shape; /* [OC, IC/g, KH, KW] */
        return shape_numel(out) * w->d[1] * w->d[2] * w->d[3];
    }
    if (n->op == OP_LINEAR)
        return shape_numel(&g->vals[n->in[1]].shape) * out->d[0];
    return 0;
}
