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

bool pass_conv_is_pointwise(const Graph *g, const Node *n)
{
    const Conv2dAttrs *a = &n->attrs.conv;
    const Shape *w = &g->vals[n->in[1]].shape;
    return w->d[2] == 1 && w->d[3] == 1 && a->stride[0] == 1 && a->stride[1] == 1 &&
           !a->pad[0] && !a->pad[1] && !a->pad[2] && !a->pad[3] && a->groups == 1;
}

Node *pass_sole_conv_result(Graph *g, const uint32_t *uses, ValueId v)
{
    if (pass_producer_op(g, v) != OP_CONV2D || uses[v] != 1 || pass_is_output(g, v))
        return NULL;
    return &g->nodes[g->vals[v].producer];
}

static bool param_name_taken(const Graph *g, const char *name)
{
    for (NodeId n = 1; n < g->nnode; n++)
        if (g->nodes[n].op == OP_PARAM && g->vals[g->nodes[n].out].name &&
            strcmp(g->vals[g->nodes[n].out].name, name) == 0)
            return true;
    return false;
}

const char *pass_unique_param_name(Graph *g, const char *base)
{
    const char *name = base;
    for (int k = 2; param_name_taken(g, name); k++)
        name = arena_printf(g->arena, "%s#%d", base, k);
    return name;
}
