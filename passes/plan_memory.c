/* plan_memory.c — workspace offsets for intermediate tensors.
 *
 * A value is live over the closed node interval [producer, last use]: it is
 * written while its producer runs and read until its last consumer has run.
 * Two values may share bytes only if their intervals are disjoint. Because
 * the interval is closed at the producer, a node's output is live together
 * with all of its inputs, so no kernel ever writes over its own operands.
 *
 * Placement is first fit in node order (as XNNPACK's memory planner and
 * ggml's gallocr): for each value, collect the already placed values whose
 * intervals intersect its own, sort them by offset and take the lowest gap
 * that fits. Sizes are rounded to 64 bytes, so every offset is 64-aligned.
 * O(V^2 log V), which is milliseconds for the few thousand values of a
 * DARTS network.
 */
#include "passes/passes.h"

#include <stdlib.h>

enum { PLAN_ALIGN = 64 };

typedef struct Span {
    int64_t off, size;
} Span;

static int cmp_span(const void *a, const void *b)
{
    const Span *x = a, *y = b;
    return (x->off > y->off) - (x->off < y->off);
}

/* Values with a workspace slot: results of live, non-param nodes that are
 * not graph outputs (those are written straight into the caller's buffer). */
static bool needs_slot(const Graph *g, ValueId v, const bool *is_output)
{
    NodeId p = g->vals[v].producer;
    if (p == 0 || (g->vals[v].flags & VAL_INPUT) || is_output[v])
        return false;
    Op op = g->nodes[p].op;
    return op != OP_NONE && op != OP_PARAM && g->nodes[p].out == v;
}

static int64_t slot_size(const Value *v)
{
    int64_t bytes = shape_numel(&v->shape) * (int64_t)sizeof(float);
    return (bytes + PLAN_ALIGN - 1) / PLAN_ALIGN * PLAN_ALIGN;
}

/* Lowest offset >= 0 where `size` bytes avoid every span in busy[0..n). */
static int64_t first_fit(Span *busy, uint32_t n, int64_t size)
{
    qsort(busy, n, sizeof *busy, cmp_span);
    int64_t at = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (at + size <= busy[i].off)
            break;
        if (busy[i].off + busy[i].size > at)
            at = busy[i].off + busy[i].size;
    }
    return at;
}

int64_t plan_memory(const Graph *g, int64_t *offset)
{
    uint32_t *last = ir_fill_last_use(g);
    bool *is_output = calloc(g->nval, sizeof *is_output);
    ValueId *placed = malloc(g->nval * sizeof *placed);
    Span *busy = malloc(g->nval * sizeof *busy);
    NASC_ASSERT(is_output && placed && busy);
    for (uint32_t i = 0; i < g->noutput; i++)
        is_output[g->outputs[i]] = true;

    int64_t total = 0;
    uint32_t nplaced = 0;
    for (ValueId v = 0; v < g->nval; v++)
        offset[v] = -1;
    for (NodeId n = 1; n < g->nnode; n++) {
        ValueId v = g->nodes[n].out;
        if (!needs_slot(g, v, is_output))
            continue;
        /* Every placed u was produced before n, so its interval meets v's iff
         * u is still read at n or later. (An unread result, last use 0, dies
         * right after its producer but still gets its own bytes there.) */
        uint32_t nbusy = 0;
        for (uint32_t i = 0; i < nplaced; i++) {
            ValueId u = placed[i];
            if (last[u] >= n)
                busy[nbusy++] = (Span){offset[u], slot_size(&g->vals[u])};
        }
        int64_t size = slot_size(&g->vals[v]);
        offset[v] = first_fit(busy, nbusy, size);
        if (offset[v] + size > total)
            total = offset[v] + size;
        placed[nplaced++] = v;
    }
    free(is_output);
    free(placed);
    free(busy);
    return total;
}
