/* drop_zero.c — dead `none` edges.
 *
 * DARTS writes a `none` edge as zero(x): zeros shaped like x[:, :, ::s, ::s].
 * Added to another edge's result it changes nothing, so add(zero(x), y) and
 * add(y, zero(x)) become y (add's shape rule already made y's shape the
 * zero's). A zero of a zero only needs the inner zero's input for its shape:
 * zero(zero(x, s1), s2) becomes zero(x, s1*s2) (ceil(ceil(H/a)/b) ==
 * ceil(H/(ab))). A zero read by a concat stays: there it is a block of zero
 * channels the consumer needs.
 *
 * One sweep in topological order suffices: an add is looked at after its
 * operands were rewritten. The zeros no one reads any more are removed
 * here; the producers of their inputs are left to dce.
 *
 * A removed add's trace name moves to y when y has none (a named y keeps
 * its own; the two names denoted the same tensor).
 */
#include "passes/internal.h"

/* Graph outputs must stay distinct values produced by a node. */
static bool can_forward(const Graph *g, ValueId from, ValueId to)
{
    if (!pass_is_output(g, from))
        return true;
    Op p = pass_producer_op(g, to);
    return p != OP_NONE && p != OP_PARAM && !pass_is_output(g, to);
}

static bool drop_add(Graph *g, Node *add)
{
    for (int i = 0; i < 2; i++) {
        ValueId z = add->in[i], y = add->in[1 - i];
        if (pass_producer_op(g, z) != OP_ZERO || !can_forward(g, add->out, y))
            continue;
        pass_replace_uses(g, add->out, y);
        if (!g->vals[y].name)
            g->vals[y].name = g->vals[add->out].name;
        add->op = OP_NONE;
        return true;
    }
    return false;
}

static bool collapse_zero(Graph *g, Node *z)
{
    ValueId inner = z->in[0];
    if (pass_producer_op(g, inner) != OP_ZERO)
        return false;
    const Node *in = &g->nodes[g->vals[inner].producer];
    int64_t s = (int64_t)z->attrs.zero.stride * in->attrs.zero.stride;
    if (s > (1 << 20))
        return false;
    z->in[0] = in->in[0];
    z->attrs.zero.stride = (int)s;
    return true;
}

/* Removes zeros nobody reads, last first so chains of zeros go too. */
static void drop_unread_zeros(Graph *g)
{
    uint32_t *uses = ir_fill_uses(g);
    for (NodeId n = g->nnode - 1; n >= 1; n--) {
        Node *node = &g->nodes[n];
        if (node->op != OP_ZERO || uses[node->out] > 0)
            continue;
        uses[node->in[0]]--;
        node->op = OP_NONE;
    }
}

int pass_drop_zero(Graph *g, Diag *d)
{
    (void)d;
    int rewrites = 0;
    for (NodeId n = 1; n < g->nnode; n++) {
        Node *node = &g->nodes[n];
        if (node->op == OP_ADD)
            rewrites += drop_add(g, node);
        else if (node->op == OP_ZERO)
            rewrites += collapse_zero(g, node);
    }
    if (rewrites) {
        drop_unread_zeros(g);
        ir_graph_compact(g);
    }
    return rewrites;
}
