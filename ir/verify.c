/* verify.c — structural invariants every pass must keep.
 *
 * Checked: operand counts and ids in range, operands defined before use
 * (node order is topological), each node's result recorded as produced by
 * it, shapes equal to what the op's shape rule derives now, graph inputs
 * and outputs defined, param names present and unique.
 */
#include "ir.h"

#include <stdlib.h>
#include <string.h>

static bool verify_node(const Graph *g, NodeId n, const bool *defined, Diag *d)
{
    const Node *node = &g->nodes[n];
    const OpInfo *info = &op_info[node->op];
    if ((int)node->nin < info->nmin || (info->nmax >= 0 && (int)node->nin > info->nmax)) {
        diag_error(d, node->loc, "verify: %s node %u has %u operands", info->name, n, node->nin);
        return false;
    }
    for (uint32_t i = 0; i < node->nin; i++) {
        ValueId v = node->in[i];
        if (v == 0 || v >= g->nval || !defined[v]) {
            diag_error(d, node->loc, "verify: %s node %u uses value %u before its definition",
                       info->name, n, v);
            return false;
        }
    }
    if (node->out == 0 || node->out >= g->nval || g->vals[node->out].producer != n) {
        diag_error(d, node->loc, "verify: %s node %u has a bad result id", info->name, n);
        return false;
    }
    Shape s;
    if (!info->infer(g, node, &s, d))
        return false;
    if (!shape_eq(&s, &g->vals[node->out].shape)) {
        char a[96], b[96];
        diag_error(d, node->loc, "verify: %s node %u records %s but its shape rule gives %s",
                   info->name, n, shape_str(&g->vals[node->out].shape, a, sizeof a),
                   shape_str(&s, b, sizeof b));
        return false;
    }
    DType want = info->flags & OPF_OUT_U8 ? DT_U8 : DT_F32;
    if (g->vals[node->out].dtype != want) {
        diag_error(d, node->loc, "verify: %s node %u result is %s, not %s", info->name, n,
                   dtype_name(g->vals[node->out].dtype), dtype_name(want));
        return false;
    }
    for (uint32_t i = 0; i < node->nin; i++) {
        if (g->vals[node->in[i]].dtype != DT_F32) {
            diag_error(d, node->loc, "verify: %s node %u reads a %s value", info->name, n,
                       dtype_name(g->vals[node->in[i]].dtype));
            return false;
        }
    }
    if (node->op == OP_PARAM && !g->vals[node->out].name) {
        diag_error(d, node->loc, "verify: param node %u has no name", n);
        return false;
    }
    return true;
}

typedef struct NamedNode {
    const char *name;
    NodeId n;
} NamedNode;

static int cmp_named(const void *a, const void *b)
{
    const NamedNode *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->n > y->n) - (x->n < y->n);
}

static bool verify_param_names(const Graph *g, Diag *d)
{
    NamedNode *names = arena_calloc(g->arena, g->nnode, sizeof *names);
    uint32_t k = 0;
    for (NodeId n = 1; n < g->nnode; n++)
        if (g->nodes[n].op == OP_PARAM)
            names[k++] = (NamedNode){g->vals[g->nodes[n].out].name, n};
    qsort(names, k, sizeof *names, cmp_named);
    for (uint32_t i = 1; i < k; i++) {
        if (strcmp(names[i - 1].name, names[i].name) == 0) {
            diag_error(d, g->nodes[names[i].n].loc, "verify: param name '%s' used twice",
                       names[i].name);
            return false;
        }
    }
    return true;
}

bool ir_verify(const Graph *g, Diag *d)
{
    bool *defined = arena_calloc(g->arena, g->nval, sizeof *defined);
    for (uint32_t i = 0; i < g->ninput; i++) {
        ValueId v = g->inputs[i];
        if (v == 0 || v >= g->nval || g->vals[v].producer != 0) {
            diag_error(d, loc_file(NULL), "verify: graph input %u is not an input value", i);
            return false;
        }
        defined[v] = true;
    }
    for (NodeId n = 1; n < g->nnode; n++) {
        if (g->nodes[n].op == OP_NONE)
            continue;
        if (!verify_node(g, n, defined, d))
            return false;
        defined[g->nodes[n].out] = true;
    }
    for (uint32_t i = 0; i < g->noutput; i++) {
        ValueId v = g->outputs[i];
        if (v == 0 || v >= g->nval || !defined[v]) {
            diag_error(d, loc_file(NULL), "verify: graph output %u is undefined", i);
            return false;
        }
    }
    if (g->noutput == 0) {
        diag_error(d, loc_file(NULL), "verify: graph @%s has no outputs", g->name);
        return false;
    }
    return verify_param_names(g, d);
}
