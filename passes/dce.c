/* dce.c — dead code elimination.
 *
 * A node is dead when it is not a param and neither a node nor a graph
 * output reads its result. Walking the nodes backwards in topological order
 * with use counts finds whole dead chains in one sweep: removing a node
 * decrements its operands' counts before they are looked at. Params are
 * never removed, read or not: an unread param is still a tensor of the
 * checkpoint (weights are bound by name, and `nasc inspect` counts them);
 * codegen emits only the weights that are read.
 */
#include "passes/internal.h"

int pass_dce(Graph *g, Diag *d)
{
    (void)d;
    uint32_t *uses = ir_fill_uses(g);
    int removed = 0;
    for (NodeId n = g->nnode - 1; n >= 1; n--) {
        Node *node = &g->nodes[n];
        if (node->op == OP_NONE || node->op == OP_PARAM || uses[node->out] > 0)
            continue;
        for (uint32_t i = 0; i < node->nin; i++)
            uses[node->in[i]]--;
        node->op = OP_NONE;
        removed++;
    }
    if (removed)
        ir_graph_compact(g);
    return removed;
}
