/* compact.c — what every rewriting pass runs last.
 *
 * Passes edit in place: a removed node becomes OP_NONE, a new node (often a
 * derived param) is appended at the end even when an earlier node reads it.
 * pass_graph_compact turns that back into a graph the verifier accepts: a
 * depth-first walk in the old node order emits each node after its
 * producers, so an already topological stretch keeps its order and an
 * appended param lands right before its first reader. Ids are renumbered
 * (inputs first, then results in the new node order).
 */
#include "passes/internal.h"

#include <string.h>

enum { UNSEEN, ACTIVE, DONE };

typedef struct Walk {
    const Graph *g;
    unsigned char *state; /* per old node */
    NodeId *order;        /* old node ids in the new order */
    uint32_t n;
} Walk;

/* Emits node n after its producers. Iterative (explicit stack of
 * (node, next operand)) so a long appended chain cannot overflow the C
 * stack. */
static void walk_from(Walk *w, NodeId root, NodeId *stack, uint32_t *next)
{
    const Graph *g = w->g;
    uint32_t sp = 0;
    stack[sp] = root, next[sp] = 0, sp++;
    w->state[root] = ACTIVE;
    while (sp) {
        NodeId n = stack[sp - 1];
        const Node *node = &g->nodes[n];
        if (next[sp - 1] < node->nin) {
            NodeId p = g->vals[node->in[next[sp - 1]++]].producer;
            NASC_ASSERT(p == 0 || g->nodes[p].op != OP_NONE); /* reads a removed node */
            NASC_ASSERT(p == 0 || w->state[p] != ACTIVE);     /* a cycle */
            if (p && w->state[p] == UNSEEN) {
                w->state[p] = ACTIVE;
                stack[sp] = p, next[sp] = 0, sp++;
            }
            continue;
        }
        w->state[n] = DONE;
        w->order[w->n++] = n;
        sp--;
    }
}

void pass_graph_compact(Graph *g)
{
    Arena *a = g->arena;
    Walk w = {g, arena_calloc(a, g->nnode, 1), arena_calloc(a, g->nnode, sizeof(NodeId)), 0};
    NodeId *stack = arena_calloc(a, g->nnode, sizeof *stack);
    uint32_t *next = arena_calloc(a, g->nnode, sizeof *next);
    for (NodeId n = 1; n < g->nnode; n++)
        if (g->nodes[n].op != OP_NONE && w.state[n] == UNSEEN)
            walk_from(&w, n, stack, next);

    ValueId *vmap = arena_calloc(a, g->nval, sizeof *vmap);
    Node *nodes = arena_calloc(a, w.n + 1, sizeof *nodes);
    Value *vals = arena_calloc(a, g->ninput + w.n + 1, sizeof *vals);
    uint32_t nv = 1;
    for (uint32_t i = 0; i < g->ninput; i++) {
        vals[nv] = g->vals[g->inputs[i]];
        vmap[g->inputs[i]] = nv++;
    }
    for (uint32_t k = 0; k < w.n; k++) {
        Node node = g->nodes[w.order[k]];
        for (uint32_t i = 0; i < node.nin; i++) {
            NASC_ASSERT(vmap[node.in[i]]);
            node.in[i] = vmap[node.in[i]];
        }
        vals[nv] = g->vals[node.out];
        vals[nv].producer = k + 1;
        vmap[node.out] = nv;
        node.out = nv++;
        nodes[k + 1] = node;
    }
    for (uint32_t i = 0; i < g->ninput; i++)
        g->inputs[i] = vmap[g->inputs[i]];
    for (uint32_t i = 0; i < g->noutput; i++) {
        NASC_ASSERT(vmap[g->outputs[i]]);
        g->outputs[i] = vmap[g->outputs[i]];
    }
    g->nodes = nodes;
    g->vals = vals;
    g->nnode = g->capnode = w.n + 1;
    g->nval = g->capval = nv;
}

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
