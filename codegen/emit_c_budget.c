/* emit_c_budget.c — the memory budgets of cg_emit_c (CgOptions.max_ram,
 * max_flash): a workspace or weights over budget fail with one line naming
 * the largest live tensors or weight arrays, so users know what to shrink.
 */
#include "internal.h"

#include <stdlib.h>

typedef struct Tensor {
    const char *what; /* name (or %N) and shape, for the message */
    int64_t bytes;
} Tensor;

static int cmp_tensor_bytes(const void *a, const void *b)
{
    const Tensor *x = a, *y = b;
    return (x->bytes < y->bytes) - (x->bytes > y->bytes); /* largest first */
}

/* "cells.3 f32[1,32,16,16] (32768 B)" for value v (%N when unnamed). */
static const char *tensor_text(CgCtx *c, ValueId v)
{
    const Value *val = &c->g->vals[v];
    char shape[128];
    CgBuf b = {0};
    if (val->name)
        cg_buf_comment_text(&b, val->name);
    const char *name = b.oom || !val->name ? arena_printf(&c->arena, "%%%u", c->num[v])
                                            : arena_strdup(&c->arena, b.p);
    cg_buf_free(&b);
    return arena_printf(&c->arena, "%s %s", name, shape_str(&val->shape, shape, sizeof shape));
}

/* "a (n B), b (m B), c (k B)": the three largest of t[0..n), sorted in place. */
static const char *largest_text(CgCtx *c, Tensor *t, uint32_t n)
{
    qsort(t, n, sizeof *t, cmp_tensor_bytes);
    const char *s = "";
    for (uint32_t i = 0; i < n && i < 3; i++)
        s = arena_printf(&c->arena, "%s%s%s (%lld B)", s, i ? ", " : "", t[i].what,
                         (long long)t[i].bytes);
    return s;
}

/* True if a value whose bytes hold v (a concat result v was written into,
 * or the operand an in-place op overwrote) is live at node `at` too. */
static bool held_live(const MemPlan *plan, ValueId v, NodeId at)
{
    for (ValueId h = plan->holder[v]; h; h = plan->holder[h])
        if (plan->first[h] <= at && at <= plan->last[h])
            return true;
    return false;
}

/* Names the values live where the plan's lower bound peaks (each byte once:
 * a value inside a live holder is not counted again), which is what a
 * different architecture or input size must shrink. */
bool cg_check_ram(CgCtx *c, const MemPlan *plan, int64_t max_ram)
{
    if (max_ram <= 0 || plan->bytes <= max_ram)
        return true;
    const Graph *g = c->g;
    NodeId at = plan->peak;
    NASC_ASSERT(at);
    Tensor *live = arena_calloc(&c->arena, g->nval, sizeof *live);
    NASC_ASSERT(live);
    uint32_t n = 0;
    int64_t live_bytes = 0;
    for (ValueId v = 1; v < g->nval; v++)
        if (plan->offset[v] >= 0 && plan->first[v] <= at && at <= plan->last[v] &&
            !held_live(plan, v, at)) {
            live[n++] = (Tensor){tensor_text(c, v), shape_numel(&g->vals[v].shape) * 4};
            live_bytes += live[n - 1].bytes;
        }
    int64_t scratch = cg_node_scratch_bytes(c, &g->nodes[at]);
    const char *plus = scratch ? arena_printf(&c->arena, " (plus %lld bytes of its kernel's "
                                              "scratch)", (long long)scratch) : "";
    diag_error(c->d, (Loc){0}, "codegen: @%s needs a %lld-byte workspace, more than the RAM "
               "budget of %lld bytes; at its peak (node %%%u, %s%s) %u tensors of %lld bytes "
               "are live, the largest: %s", g->name, (long long)plan->bytes,
               (long long)max_ram, c->num[g->nodes[at].out], op_info[g->nodes[at].op].name,
               plus, n, (long long)live_bytes, largest_text(c, live, n));
    return false;
}

/* After emit_body: every weight array the file defines, params and BN scales. */
bool cg_check_flash(CgCtx *c, int64_t max_flash)
{
    if (max_flash <= 0)
        return true;
    const Graph *g = c->g;
    Tensor *w = arena_calloc(&c->arena, g->nval + g->nnode, sizeof *w);
    NASC_ASSERT(w);
    uint32_t n = 0;
    int64_t total = 0;
    for (ValueId v = 1; v < g->nval; v++)
        if (c->cname[v])
            w[n++] = (Tensor){tensor_text(c, v), shape_numel(&g->vals[v].shape) * 4};
    for (NodeId k = 1; k < g->nnode; k++)
        if (g->nodes[k].op == OP_BATCHNORM) /* one scale array each (emitc_batchnorm) */
            w[n++] = (Tensor){arena_printf(&c->arena, "batchnorm %%%u scale",
                                           c->num[g->nodes[k].out]),
                              cg_dim(&g->vals[g->nodes[k].in[2]].shape, 0) * 4};
    for (uint32_t i = 0; i < n; i++)
        total += w[i].bytes;
    if (total <= max_flash)
        return true;
    diag_error(c->d, (Loc){0}, "codegen: @%s has %lld bytes of weights in %u arrays, more than "
               "the flash budget of %lld bytes; the largest: %s", g->name, (long long)total, n,
               (long long)max_flash, largest_text(c, w, n));
    return false;
}
