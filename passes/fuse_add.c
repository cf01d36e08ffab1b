/* fuse_add.c — a sum accumulated straight into a convolution's output.
 *
 * add(conv(x, w[, b]), y) -> conv(x, w[, b], y){addend=1}: the conv adds y
 * to its result as it stores it, so the sum needs no pass of its own and
 * the conv's result no buffer of its own. A DARTS node is the sum of two
 * edges, most ending in a pointwise conv (sep_conv, dil_conv). Rounding is
 * unchanged: the conv's value is formed as before, then one IEEE addition,
 * which commutes, so conv + y == y + conv bit for bit.
 *
 * Conditions: the conv's result is read by this add alone and is no graph
 * output; the conv has no addend and no act yet (act applies after the
 * addend, but the add adds to the activated value); y is no param (the
 * addend stays an activation, with a calibrated range for int8). When both
 * operands qualify, a pointwise conv (whose kernel adds in registers) wins,
 * then the later one (its operand is ready when it runs). y may come after
 * the conv in node order; the final compaction moves the conv after it
 * (nothing reads the conv's result but the add, so no cycle can form). The
 * conv's result takes the add's readers and trace name.
 */
#include "passes/internal.h"

/* The producer of v if it is a conv that may take an addend, else 0. */
static NodeId absorbing_conv(Graph *g, const uint32_t *uses, ValueId v, ValueId other)
{
    const Node *conv = pass_sole_conv_result(g, uses, v);
    if (!conv || pass_producer_op(g, other) == OP_PARAM)
        return 0;
    const Conv2dAttrs *a = &conv->attrs.conv;
    return a->addend || a->act != ACT_NONE ? 0 : g->vals[v].producer;
}

/* Which operand of add (0 or 1) is the conv to fuse into; -1 for none. */
static int pick(Graph *g, const uint32_t *uses, const Node *add)
{
    NodeId c0 = absorbing_conv(g, uses, add->in[0], add->in[1]);
    NodeId c1 = absorbing_conv(g, uses, add->in[1], add->in[0]);
    if (!c0 || !c1)
        return c0 ? 0 : c1 ? 1 : -1;
    bool pw0 = pass_conv_is_pointwise(g, &g->nodes[c0]);
    bool pw1 = pass_conv_is_pointwise(g, &g->nodes[c1]);
    if (pw0 != pw1)
        return pw0 ? 0 : 1;
    return c0 > c1 ? 0 : 1;
}

static void fuse(Graph *g, Node *add, int i)
{
    ValueId v = add->in[i], y = add->in[1 - i];
    Node *conv = &g->nodes[g->vals[v].producer];
    ValueId *in = arena_calloc(g->arena, conv->nin + 1, sizeof *in);
    for (uint32_t k = 0; k < conv->nin; k++)
        in[k] = conv->in[k];
    in[conv->nin] = y;
    conv->in = in;
    conv->nin++;
    conv->attrs.conv.addend = 1;
    pass_replace_uses(g, add->out, v);
    g->vals[v].name = g->vals[add->out].name;
    add->op = OP_NONE;
}

int pass_fuse_add(Graph *g, Diag *d)
{
    (void)d;
    uint32_t *uses = ir_fill_uses(g);
    int fused = 0;
    for (NodeId n = 1; n < g->nnode; n++) {
        Node *node = &g->nodes[n];
        int i = node->op == OP_ADD ? pick(g, uses, node) : -1;
        if (i < 0)
            continue;
        fuse(g, node, i);
        fused++;
    }
    if (fused)
        ir_graph_compact(g);
    return fused;
}
