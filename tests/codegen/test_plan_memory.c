/* test_plan_memory.c — plan_memory() on chains and random DAGs.
 *
 * Liveness is recomputed here independently of ir_fill_last_use: a value
 * is live over [producer, last reader] (outputs: to the end). The checks are
 * exhaustive over all pairs: simultaneously live slots never share a byte,
 * every slot is 64-aligned and inside the total, and exactly the values
 * that need workspace get a slot.
 */
#include "passes/passes.h"
#include "tests/check.h"

#include <stdlib.h>
#include <string.h>



static uint64_t rng = 0x2545f4914f6cdd1dull;
static int rnd(int n)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (int)((rng * 0x2545f4914f6cdd1dull >> 33) % (uint64_t)n);
}

static ValueId add_node(Graph *g, Op op, ValueId *in, uint32_t nin, const Attrs *a)
{
    Diag d;
    diag_init(&d);
    ValueId v = ir_graph_add_node(g, op, in, nin, a, (Loc){0}, &d);
    if (!v) {
        diag_print(&d, stderr);
        abort(); /* a test-construction bug, not a planner failure */
    }
    diag_free(&d);
    return v;
}

static int64_t bytes_of(const Graph *g, ValueId v)
{
    return shape_numel(&g->vals[v].shape) * 4;
}

/* Checks the plan of g; returns its total. */
static int64_t check_plan(const Graph *g, const char *what)
{
    int64_t *off = malloc(g->nval * sizeof *off);
    uint32_t *first = calloc(g->nval, sizeof *first), *last = calloc(g->nval, sizeof *last);
    bool *is_out = calloc(g->nval, sizeof *is_out);
    int64_t total = plan_memory(g, off);
    for (uint32_t i = 0; i < g->noutput; i++)
        is_out[g->outputs[i]] = true;
    for (NodeId n = 1; n < g->nnode; n++) {
        first[g->nodes[n].out] = last[g->nodes[n].out] = n;
        for (uint32_t i = 0; i < g->nodes[n].nin; i++)
            last[g->nodes[n].in[i]] = n;
    }
    for (ValueId v = 1; v < g->nval; v++) {
        const Value *val = &g->vals[v];
        bool slot = val->producer && g->nodes[val->producer].op != OP_PARAM && !is_out[v];
        CHECKF(slot == (off[v] >= 0), "%s: value %u offset %lld", what, v, (long long)off[v]);
        if (off[v] < 0)
            continue;
        CHECKF(off[v] % 64 == 0, "%s: value %u offset %lld not 64-aligned", what, v,
              (long long)off[v]);
        CHECKF(off[v] + bytes_of(g, v) <= total, "%s: value %u ends past total %lld", what, v,
              (long long)total);
        for (ValueId u = 1; u < v; u++) {
            if (off[u] < 0)
                continue;
            bool live_together = first[u] <= last[v] && first[v] <= last[u];
            bool disjoint = off[u] + bytes_of(g, u) <= off[v] || off[v] + bytes_of(g, v) <= off[u];
            CHECKF(!live_together || disjoint,
                  "%s: values %u [%u,%u] and %u [%u,%u] overlap at %lld/%lld", what, u,
                  first[u], last[u], v, first[v], last[v], (long long)off[u],
                  (long long)off[v]);
        }
    }
    free(off);
    free(first);
    free(last);
    free(is_out);
    return total;
}

/* x -> relu -> relu ... -> output: ping-pong between two slots. */
static void test_chain(void)
{
    Arena a;
    arena_init(&a);
    Graph *g = ir_graph_new(&a, "chain");
    ValueId v = ir_graph_add_input(g, shape4(1, 3, 5, 7), "x"); /* 420 bytes -> 448 */
    int64_t sum = 0;
    for (int i = 0; i < 10; i++) {
        v = add_node(g, OP_RELU, &v, 1, NULL);
        if (i < 9)
            sum += 448;
    }
    ir_graph_add_output(g, v);
    int64_t total = check_plan(g, "chain");
    CHECKF(total < sum, "chain: total %lld not below the sum of sizes %lld", (long long)total,
          (long long)sum);
    CHECKF(total == 2 * 448, "chain: total %lld, want two slots (896)", (long long)total);
    arena_free_all(&a);
}

/* Random DAGs of relu / add / concat / maxpool / 1x1 conv over earlier
 * values (so lifetimes interleave), with unread results and an output that
 * may sit in the middle of the graph. */
static void test_random(int seed)
{
    Arena a;
    arena_init(&a);
    Graph *g = ir_graph_new(&a, "random");
    ValueId vals[64];
    int nv = 0;
    vals[nv++] = ir_graph_add_input(g, shape4(1, 2, 6, 6), "x");
    rng = 0x9e3779b97f4a7c15ull * (uint64_t)(seed + 1);
    for (int i = 0; i < 40; i++) {
        ValueId u = vals[nv - 1 - rnd(nv < 6 ? nv : 6)], w = vals[rnd(nv)];
        const Shape *su = &g->vals[u].shape, *sw = &g->vals[w].shape;
        ValueId in[2] = {u, w}, r;
        int kind = rnd(5);
        if (kind == 0) {
            r = add_node(g, OP_RELU, in, 1, NULL);
        } else if (kind == 1 && shape_eq(su, sw)) {
            r = add_node(g, OP_ADD, in, 2, NULL);
        } else if (kind == 2 && su->d[1] + sw->d[1] <= 16) {
            r = add_node(g, OP_CONCAT, in, 2, NULL);
        } else if (kind == 3) {
            Attrs at = {.pool = {{3, 3}, {1, 1}, {1, 1, 1, 1}, 0}};
            r = add_node(g, OP_MAXPOOL2D, in, 1, &at);
        } else {
            Attrs at = {.conv = {.stride = {1, 1}, .pad = {0, 0, 0, 0},
                                 .dilation = {1, 1}, .groups = 1}};
            int64_t oc = 1 + rnd(8);
            in[1] = ir_graph_add_param(g, shape4(oc, su->d[1], 1, 1), "w", (Loc){0});
            r = add_node(g, OP_CONV2D, in, 2, &at);
        }
        vals[nv++] = r;
    }
    ir_graph_add_output(g, vals[nv - 1 - rnd(8)]);
    char what[32];
    snprintf(what, sizeof what, "random seed %d", seed);
    int64_t total = check_plan(g, what);
    int64_t sum = 0;
    for (int i = 1; i < nv; i++)
        sum += (bytes_of(g, vals[i]) + 63) / 64 * 64;
    CHECKF(total <= sum, "%s: total %lld above the sum of sizes %lld", what, (long long)total,
          (long long)sum);
    arena_free_all(&a);
}

/* Params, the input and an output that is the input itself need nothing. */
static void test_trivial(void)
{
    Arena a;
    arena_init(&a);
    Graph *g = ir_graph_new(&a, "identity");
    ValueId x = ir_graph_add_input(g, shape4(1, 1, 2, 2), "x");
    ir_graph_add_output(g, x);
    CHECKF(check_plan(g, "identity") == 0, "identity graph needs no workspace");
    arena_free_all(&a);
}

int main(void)
{
    test_chain();
    test_trivial();
    for (int seed = 0; seed < 50; seed++)
        test_random(seed);
    if (failures) {
        fprintf(stderr, "plan_memory: %d failures\n", failures);
        return 1;
    }
    printf("plan_memory: ok\n");
    return 0;
}
