/* rewrite.c — small editing helpers the rewriting passes share. Every
 * rewriting pass ends with ir_graph_compact (ir/graph.c), which drops dead
 * nodes and restores a topological order. */
#include "passes/internal.h"

#include <string.h>

uint32_t pass_replace_uses(Graph *g, ValueId from, ValueId to)
{
    uint32_t changed = 0;
    for (NodeId n = 1; n < g->nnode; n++) {
        Node *node = &g->nodes[n];
        if (node->op == OP_NONE)
            continue;
        for (uint32_t i = 0; i < node->nin; i++)
            if (node->in[i] == from)
                node->in[i] = to, changed++;
    }
    for (uint32_t i = 0; i < g->noutput; i++)
        if (g->outputs[i] == from)
            g->outputs[i] = to, changed++;
    return changed;
}

bool pass_is_output(const Graph *g, ValueId v)
{
    for (uint32_t i = 0; i < g->noutput; i++)
        if (g->outputs[i] == v)
            return true;
    return false;
}
