/* graph.c — building and editing a Graph.
 *
 * Arrays grow by doubling inside the graph's arena (the old copy is simply
 * abandoned; the arena frees it with everything else). Derived facts (uses,
 * last use) are recomputed on demand, never stored and patched.
 */
#include "ir.h"

#include <string.h>

static void *grow(Arena *a, void *old, uint32_t n, uint32_t *cap, size_t elem)
{
    if (n < *cap)
        return old;
    uint32_t ncap = *cap ? *cap * 2 : 16;
    void *p = arena_calloc(a, ncap, elem);
    NASC_ASSERT(p);
    if (old)
        memcpy(p, old, (size_t)*cap * elem);
    *cap = ncap;
    return p;
}

Graph *ir_graph_new(Arena *a, const char *name)
{
    Graph *g = arena_alloc(a, sizeof *g);
    g->arena = a;
    g->name = arena_strdup(a, name ? name : "graph");
    g->nnode = g->nval = 1; /* slot 0 means "none" */
    g->nodes = grow(a, NULL, 0, &g->capnode, sizeof(Node));
    g->vals = grow(a, NULL, 0, &g->capval, sizeof(Value));
    return g;
}

static ValueId new_value(Graph *g, Shape s, NodeId producer)
{
    g->vals = grow(g->arena, g->vals, g->nval, &g->capval, sizeof(Value));
    ValueId v = g->nval++;
    Value *val = &g->vals[v];
    val->dtype = DT_F32;
    val->shape = s;
    val->producer = producer;
    return v;
}

static NodeId new_node(Graph *g)
{
    g->nodes = grow(g->arena, g->nodes, g->nnode, &g->capnode, sizeof(Node));
    return g->nnode++;
}

ValueId ir_graph_add_input(Graph *g, Shape s, const char *name)
{
    ValueId v = new_value(g, s, 0);
    g->vals[v].flags |= VAL_INPUT;
    if (name)
        g->vals[v].name = arena_strdup(g->arena, name);
    g->inputs = grow(g->arena, g->inputs, g->ninput, &g->capinput, sizeof(ValueId));
    g->inputs[g->ninput++] = v;
    return v;
}

ValueId ir_graph_add_param(Graph *g, Shape s, const char *name, Loc loc)
{
    NodeId n = new_node(g);
    ValueId v = new_value(g, s, n);
    Node *node = &g->nodes[n];
    node->op = OP_PARAM;
    node->out = v;
    node->loc = loc;
    g->vals[v].name = name ? arena_strdup(g->arena, name) : NULL;
    g->vals[v].loc = loc;
    return v;
}

ValueId ir_graph_add_node(Graph *g, Op op, const ValueId *in, uint32_t nin, const Attrs *attrs,
                          Loc loc, Diag *d)
{
    NASC_ASSERT(op > OP_NONE && op < NOP && op != OP_PARAM);
    const OpInfo *info = &op_info[op];
    if ((int)nin < info->nmin || (info->nmax >= 0 && (int)nin > info->nmax)) {
        diag_error(d, loc, "%s: takes %d..%d operands, got %u", info->name, info->nmin,
                   info->nmax, nin);
        return 0;
    }
    for (uint32_t i = 0; i < nin; i++) {
        NASC_ASSERT(in[i] > 0 && in[i] < g->nval);
        if (g->vals[in[i]].dtype != DT_F32) {
            diag_error(d, loc, "%s: operand %u is %s; ops read f32 only", info->name, i,
                       dtype_name(g->vals[in[i]].dtype));
            return 0;
        }
    }
    Node tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.op = op;
    tmp.nin = nin;
    tmp.in = arena_calloc(g->arena, nin ? nin : 1, sizeof(ValueId));
    memcpy(tmp.in, in, nin * sizeof(ValueId));
    if (attrs)
        tmp.attrs = *attrs;
    tmp.loc = loc;
    Shape s;
    if (!info->infer(g, &tmp, &s, d))
        return 0;
    NodeId n = new_node(g);
    ValueId v = new_value(g, s, n);
    tmp.out = v;
    g->nodes[n] = tmp;
    g->vals[v].loc = loc;
    g->vals[v].dtype = info->flags & OPF_OUT_U8 ? DT_U8 : DT_F32;
    return v;
}

void ir_graph_add_output(Graph *g, ValueId v)
{
    g->outputs = grow(g->arena, g->outputs, g->noutput, &g->capoutput, sizeof(ValueId));
    g->outputs[g->noutput++] = v;
}

void ir_value_set_name(Graph *g, ValueId v, const char *name)
{
    g->vals[v].name = name ? arena_strdup(g->arena, name) : NULL;
}

uint32_t *ir_fill_uses(const Graph *g)
{
    uint32_t *uses = arena_calloc(g->arena, g->nval, sizeof *uses);
    for (NodeId n = 1; n < g->nnode; n++) {
        const Node *node = &g->nodes[n];
        if (node->op == OP_NONE)
            continue;
        for (uint32_t i = 0; i < node->nin; i++)
            uses[node->in[i]]++;
    }
    for (uint32_t i = 0; i < g->noutput; i++)
        uses[g->outputs[i]]++;
    return uses;
}

uint32_t *ir_fill_last_use(const Graph *g)
{
    uint32_t *last = arena_calloc(g->arena, g->nval, sizeof *last);
    for (NodeId n = 1; n < g->nnode; n++) {
        const Node *node = &g->nodes[n];
        if (node->op == OP_NONE)
            continue;
        for (uint32_t i = 0; i < node->nin; i++)
            last[node->in[i]] = n;
    }
    for (uint32_t i = 0; i < g->noutput; i++)
        last[g->outputs[i]] = g->nnode;
    return last;
}

/* Compaction after edits. Passes edit in place: a removed node becomes
 * OP_NONE, a new node (often a derived param) is appended at the end even
 * when an earlier node reads it. A depth-first walk in the old node order
 * emits each node after its producers, so an already topological stretch
 * keeps its order and an appended node lands right before its first reader.
 * Every param stays, read or not: an unread param is still a checkpoint
 * tensor. Ids are renumbered (inputs first, then results in node order). */
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

void ir_graph_compact(Graph *g)
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


/* A param that nothing reads still stands for a checkpoint tensor: the
 * frontend keeps the tensors of modules the forward pass skips (Auto-DeepLab
 * pre_preprocess), whose role only their state_dict name still tells. */
static bool named_stat(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    return (n >= 13 && strcmp(name + n - 13, ".running_mean") == 0) ||
           (n >= 12 && strcmp(name + n - 12, ".running_var") == 0);
}

bool *ir_fill_stats(const Graph *g)
{
    bool *is_stat = arena_calloc(g->arena, g->nval, sizeof *is_stat);
    uint32_t *uses = ir_fill_uses(g);
    for (NodeId n = 1; n < g->nnode; n++) {
        const Node *node = &g->nodes[n];
        if (op_info[node->op].flags & OPF_STATS)
            for (uint32_t i = 1; i < node->nin && i <= 2; i++)
                is_stat[node->in[i]] = true;
        if (node->op == OP_PARAM && !uses[node->out] && named_stat(g->vals[node->out].name))
            is_stat[node->out] = true;
    }
    return is_stat;
}

int64_t ir_graph_param_count(const Graph *g, int64_t *buffers)
{
    bool *is_stat = ir_fill_stats(g);
    int64_t total = 0, stats = 0;
    for (NodeId n = 1; n < g->nnode; n++) {
        if (g->nodes[n].op != OP_PARAM)
            continue;
        ValueId v = g->nodes[n].out;
        *(is_stat[v] ? &stats : &total) += shape_numel(&g->vals[v].shape);
    }
    if (buffers)
        *buffers = stats;
    return total;
}
