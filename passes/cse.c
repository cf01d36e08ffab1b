/* cse.c — common subexpression elimination: a tensor computed twice is
 * computed once and shared.
 *
 * Two nodes compute the same tensor when they have the same op, the same
 * operands (in order; either order for OPF_COMMUTES ops, whose results are
 * bitwise equal) and equal attributes, compared field by field through the
 * attribute schema (the Attrs union's unused bytes are never read). Every
 * op but param is a pure function of its operands; params are distinct
 * tensors even when equal. In DARTS every edge applies its own ReLU to the
 * state it reads, so a state read by three edges had three relu nodes; a
 * reduction cell pools the same state with the same window twice.
 *
 * One sweep in topological order with a hash table keyed on (op, operands,
 * attrs): a node's operands are first renamed through the merges made so
 * far, so chains of twins (relu -> pool of the same state) merge in the
 * same sweep. The first node of a class stays; it keeps its trace name,
 * or takes its twin's when it has none. A twin that is a graph output is
 * kept when the survivor is one too (outputs stay distinct values).
 */
#include "passes/internal.h"

#include <string.h>

typedef struct Cse {
    const Graph *g;
    NodeId *slot;   /* open addressing, capacity a power of two; 0 = empty */
    uint32_t mask;
} Cse;

/* Operand i of n in canonical order: the two operands of a commuting op
 * sorted by id. */
static ValueId operand(const Node *n, uint32_t i)
{
    if (!(op_info[n->op].flags & OPF_COMMUTES) || n->nin != 2)
        return n->in[i];
    bool swap = n->in[0] > n->in[1];
    return n->in[i ^ (uint32_t)swap];
}

static uint32_t mix(uint32_t h, uint32_t v)
{
    return (h ^ v) * 16777619u;
}

static uint32_t hash_node(const Node *n)
{
    uint32_t h = mix(2166136261u, (uint32_t)n->op);
    for (uint32_t i = 0; i < n->nin; i++)
        h = mix(h, operand(n, i));
    const AttrField *fl = attr_fields(op_info[n->op].attr_kind);
    for (int f = 0; fl[f].name; f++) {
        uint32_t w[4] = {0};
        NASC_ASSERT(fl[f].count <= 4);
        memcpy(w, (const char *)&n->attrs + fl[f].offset, (size_t)fl[f].count * 4);
        for (int k = 0; k < fl[f].count; k++)
            h = mix(h, w[k]);
    }
    return h;
}

static bool same_node(const Node *a, const Node *b)
{
    if (a->op != b->op || a->nin != b->nin)
        return false;
    for (uint32_t i = 0; i < a->nin; i++)
        if (operand(a, i) != operand(b, i))
            return false;
    const AttrField *fl = attr_fields(op_info[a->op].attr_kind);
    for (int f = 0; fl[f].name; f++)
        if (memcmp((const char *)&a->attrs + fl[f].offset,
                   (const char *)&b->attrs + fl[f].offset, (size_t)fl[f].count * 4))
            return false;
    return true;
}

/* The earlier twin of node n, or n itself after recording it. */
static NodeId find_or_add(Cse *c, NodeId n)
{
    const Node *node = &c->g->nodes[n];
    for (uint32_t i = hash_node(node) & c->mask;; i = (i + 1) & c->mask) {
        if (!c->slot[i]) {
            c->slot[i] = n;
            return n;
        }
        if (same_node(&c->g->nodes[c->slot[i]], node))
            return c->slot[i];
    }
}

int pass_cse(Graph *g, Diag *d)
{
    (void)d;
    uint32_t cap = 16;
    while (cap < 2 * g->nnode)
        cap *= 2;
    Cse c = {g, arena_calloc(g->arena, cap, sizeof(NodeId)), cap - 1};
    ValueId *repl = arena_calloc(g->arena, g->nval, sizeof *repl); /* 0: not merged */
    int merged = 0;
    for (NodeId n = 1; n < g->nnode; n++) {
        Node *node = &g->nodes[n];
        if (node->op == OP_NONE || node->op == OP_PARAM)
            continue;
        for (uint32_t i = 0; i < node->nin; i++)
            if (repl[node->in[i]])
                node->in[i] = repl[node->in[i]];
        NodeId twin = find_or_add(&c, n);
        ValueId keep = g->nodes[twin].out;
        if (twin == n || (pass_is_output(g, node->out) && pass_is_output(g, keep)))
            continue;
        repl[node->out] = keep;
        if (!g->vals[keep].name)
            g->vals[keep].name = g->vals[node->out].name;
        node->op = OP_NONE;
        merged++;
    }
    for (uint32_t i = 0; i < g->noutput; i++)
        if (repl[g->outputs[i]])
            g->outputs[i] = repl[g->outputs[i]];
    if (merged)
        ir_graph_compact(g);
    return merged;
}
