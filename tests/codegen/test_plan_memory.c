/* test_plan_memory.c — the workspace planner (passes/plan_memory.c).
 *
 * plan_memory() (no merges, what the int8 emitter uses) is checked pair by
 * pair: liveness is recomputed here independently, simultaneously live values
 * never share a byte, every slot is 64-aligned and inside the total.
 *
 * plan_memory_full() with concat elimination and in-place reuse is checked by
 * running the graph's memory traffic on a tagged workspace, as the emitted C
 * would: each float slot holds the identity of the element last written there
 * (a concat's elements are its operands' elements, copied or written in
 * place), every operand is checked to still be intact when a node reads it,
 * and every write checks the overlap rules the kernels rely on (an output
 * never overlaps an input, except an elementwise result exactly over its
 * operand and a concat operand exactly in its channel slice). The lower bound
 * is checked against the live bytes measured under the plan, and on the
 * published DARTS and Auto-DeepLab networks the workspace must stay within
 * 1.10x of it (argv[1]: the examples/genotypes folder).
 */
#include "frontend/frontend.h"
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

/* Live intervals recomputed here: [producer, last reader]; graph outputs and
 * unread values as their producers leave them. */
/* The value whose bytes a read of x reads: a crop view's input (PLAN_CROP_VIEW
 * in flags), else x. */
static ValueId bytes_read(const Graph *g, unsigned flags, ValueId x)
{
    if ((flags & PLAN_CROP_VIEW) && plan_crop_is_view(g, x))
        return g->nodes[g->vals[x].producer].in[0];
    return x;
}

static void liveness(const Graph *g, unsigned flags, uint32_t *first, uint32_t *last)
{
    for (NodeId n = 1; n < g->nnode; n++) {
        first[g->nodes[n].out] = last[g->nodes[n].out] = n;
        for (uint32_t i = 0; i < g->nodes[n].nin; i++)
            last[g->nodes[n].in[i]] = last[bytes_read(g, flags, g->nodes[n].in[i])] = n;
    }
}

static bool needs_slot(const Graph *g, unsigned flags, ValueId v, const bool *is_out)
{
    const Value *val = &g->vals[v];
    return val->producer && g->nodes[val->producer].op != OP_PARAM && !is_out[v] &&
           bytes_read(g, flags, v) == v;
}

static bool *outputs_of(const Graph *g)
{
    bool *is_out = calloc(g->nval, sizeof *is_out);
    for (uint32_t i = 0; i < g->noutput; i++)
        is_out[g->outputs[i]] = true;
    return is_out;
}

/* plan_memory() without merges; returns its total. */
static int64_t check_plan(const Graph *g, const char *what)
{
    int64_t *off = malloc(g->nval * sizeof *off);
    uint32_t *first = calloc(g->nval, sizeof *first), *last = calloc(g->nval, sizeof *last);
    bool *is_out = outputs_of(g);
    int64_t total = plan_memory(g, off);
    liveness(g, 0, first, last);
    for (ValueId v = 1; v < g->nval; v++) {
        CHECKF(needs_slot(g, 0, v, is_out) == (off[v] >= 0), "%s: value %u offset %lld", what, v,
               (long long)off[v]);
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

/* ---- the simulation ---- */

/* Identity of element k of v (never 0, which marks garbage): a concat's
 * elements are those of its operands, anything else makes new ones. */
static uint64_t elem_id(const Graph *g, ValueId v, int64_t k)
{
    for (;;) {
        const Node *n = &g->nodes[g->vals[v].producer];
        if (!g->vals[v].producer || n->op != OP_CONCAT)
            return ((uint64_t)v << 32 | (uint64_t)k) + 1;
        const Shape *s = &g->vals[v].shape;
        int64_t cy = s->d[1], inner = shape_numel(s) / (s->d[0] * cy);
        int64_t img = k / (cy * inner), c = k / inner % cy, j = k % inner, c0 = 0;
        uint32_t i = 0;
        while (c >= c0 + g->vals[n->in[i]].shape.d[1])
            c0 += g->vals[n->in[i++]].shape.d[1];
        int64_t cx = g->vals[n->in[i]].shape.d[1];
        v = n->in[i];
        k = (img * cx + c - c0) * inner + j;
    }
}

static bool disjoint(const Graph *g, const MemPlan *p, ValueId a, ValueId b)
{
    return p->offset[a] + bytes_of(g, a) <= p->offset[b] ||
           p->offset[b] + bytes_of(g, b) <= p->offset[a];
}

/* Element k of the result of a non-concat node n overwrites nothing n reads:
 * an output overlaps an operand only exactly, and only when elementwise. */
static void check_write(const Graph *g, unsigned flags, const MemPlan *p, const Node *n,
                        const char *what)
{
    ValueId y = n->out;
    for (uint32_t i = 0; i < n->nin; i++) {
        ValueId x = bytes_read(g, flags, n->in[i]);
        if (p->offset[x] < 0)
            continue;
        bool exact = p->offset[x] == p->offset[y] && bytes_of(g, x) == bytes_of(g, y);
        CHECKF(disjoint(g, p, x, y) || (exact && (op_info[n->op].flags & OPF_ELEMWISE)),
               "%s: %s %u overlaps its operand %u", what, op_info[n->op].name, y, x);
    }
}

/* True if operand x of the running node still holds its elements. */
static bool intact(const Graph *g, const MemPlan *p, const uint64_t *ws, ValueId x)
{
    for (int64_t k = 0; p->offset[x] >= 0 && k < bytes_of(g, x) / 4; k++)
        if (ws[p->offset[x] / 4 + k] != elem_id(g, x, k))
            return false;
    return true;
}

/* A concat as emitc_concat runs it: operands in order, each either already
 * in its slice (exactly where the plan says it is held) or copied there by a
 * memcpy whose source must be intact and must not overlap the destination. */
static void run_concat(const Graph *g, const MemPlan *p, uint64_t *ws, const Node *n,
                       const char *what)
{
    ValueId y = n->out;
    const Shape *s = &g->vals[y].shape;
    int64_t cy = s->d[1], inner = shape_numel(s) / (s->d[0] * cy), c0 = 0;
    for (uint32_t i = 0; i < n->nin; c0 += g->vals[n->in[i]].shape.d[1], i++) {
        ValueId x = n->in[i];
        int64_t cx = g->vals[x].shape.d[1], len = cx * inner * 4;
        bool in_place = s->d[0] == 1 && p->offset[x] == p->offset[y] + c0 * inner * 4;
        CHECKF(in_place == (p->holder[x] == y), "%s: operand %u of concat %u: %s its slice "
               "at channel %lld", what, x, y, in_place ? "in" : "held but not in",
               (long long)c0);
        if (in_place)
            continue;
        CHECKF(intact(g, p, ws, x), "%s: concat %u copies operand %u overwritten", what, y, x);
        for (int64_t b = 0; b < s->d[0]; b++) {
            int64_t dst = p->offset[y] + (b * cy + c0) * inner * 4;
            CHECKF(p->offset[x] < 0 || p->offset[x] + bytes_of(g, x) <= dst ||
                       dst + len <= p->offset[x],
                   "%s: concat %u copies operand %u onto itself", what, y, x);
            for (int64_t k = 0; k < cx * inner; k++)
                ws[dst / 4 + k] = elem_id(g, y, (b * cy + c0) * inner + k);
        }
    }
}

/* Runs g's memory traffic under the plan p; see the file comment. */
static void simulate(const Graph *g, unsigned flags, const MemPlan *p, const char *what)
{
    uint64_t *ws = calloc((size_t)p->bytes / 4 + 1, sizeof *ws);
    int before = failures;
    for (NodeId id = 1; id < g->nnode && failures - before < 3; id++) {
        const Node *n = &g->nodes[id];
        if (n->op == OP_NONE || n->op == OP_PARAM)
            continue;
        for (uint32_t i = 0; i < n->nin; i++)
            CHECKF(intact(g, p, ws, bytes_read(g, flags, n->in[i])),
                   "%s: node %u reads operand %u overwritten", what, id, n->in[i]);
        ValueId y = n->out;
        if (p->offset[y] < 0)
            continue;
        if (n->op == OP_CONCAT) {
            run_concat(g, p, ws, n, what);
            continue;
        }
        check_write(g, flags, p, n, what);
        for (int64_t k = 0; k < bytes_of(g, y) / 4; k++)
            ws[p->offset[y] / 4 + k] = elem_id(g, y, k);
    }
    free(ws);
}

static int cmp_i64(const void *a, const void *b)
{
    const int64_t *x = a, *y = b;
    return (x[0] > y[0]) - (x[0] < y[0]);
}

/* Max over nodes of the bytes the plan keeps live there (a union of ranges);
 * *nlive gets the most values live at one node. */
static int64_t measured_peak(const Graph *g, unsigned flags, const MemPlan *p, uint32_t *nlive)
{
    uint32_t *first = calloc(g->nval, sizeof *first), *last = calloc(g->nval, sizeof *last);
    int64_t *r = malloc(2 * g->nval * sizeof *r), max = 0;
    liveness(g, flags, first, last);
    *nlive = 0;
    for (NodeId t = 1; t < g->nnode; t++) {
        uint32_t k = 0;
        for (ValueId v = 1; v < g->nval; v++)
            if (p->offset[v] >= 0 && first[v] <= t && t <= last[v]) {
                r[2 * k] = p->offset[v];
                r[2 * k++ + 1] = p->offset[v] + bytes_of(g, v);
            }
        qsort(r, k, 2 * sizeof *r, cmp_i64);
        int64_t sum = 0, end = 0;
        for (uint32_t i = 0; i < k; i++) {
            int64_t lo = r[2 * i] > end ? r[2 * i] : end;
            if (r[2 * i + 1] > lo)
                sum += r[2 * i + 1] - lo, end = r[2 * i + 1];
        }
        if (sum > max)
            max = sum;
        if (k > *nlive)
            *nlive = k;
    }
    free(first);
    free(last);
    free(r);
    return max;
}

/* plan_memory_full(flags): offsets where codegen needs them, the simulation
 * (when `sim`), and the bound between the measured peak and the workspace. */
static MemPlan check_full(const Graph *g, unsigned flags, Arena *a, const char *what, bool sim)
{
    MemPlan p;
    plan_memory_full(g, flags, a, &p);
    bool *is_out = outputs_of(g);
    for (ValueId v = 1; v < g->nval; v++) {
        CHECKF(needs_slot(g, flags, v, is_out) == (p.offset[v] >= 0),
               "%s: value %u offset %lld", what, v, (long long)p.offset[v]);
        CHECKF(p.offset[v] < 0 || (p.offset[v] + bytes_of(g, v) <= p.bytes &&
                                   (p.holder[v] || p.offset[v] % 64 == 0)),
               "%s: value %u at %lld (+%lld) outside %lld bytes or a misaligned slot", what, v,
               (long long)p.offset[v], (long long)bytes_of(g, v), (long long)p.bytes);
    }
    free(is_out);
    if (sim)
        simulate(g, flags, &p, what);
    uint32_t nlive;
    int64_t peak = measured_peak(g, flags, &p, &nlive);
    CHECKF(peak <= p.lower_bound && p.lower_bound <= peak + 64 * (int64_t)nlive &&
               p.lower_bound <= p.bytes,
           "%s: measured peak %lld, lower bound %lld, workspace %lld", what, (long long)peak,
           (long long)p.lower_bound, (long long)p.bytes);
    return p;
}

static const unsigned k_flag_sets[] = {0, PLAN_CONCAT, PLAN_INPLACE, PLAN_DEFAULT};

/* plan_memory_scratch: every node's scratch is 64-aligned, inside the
 * workspace, and shares no byte with a value live at that node (liveness
 * recomputed here) nor with the tensor plan's offsets moved; the bound counts
 * it. Returns the plan. */
static MemPlan check_scratch(const Graph *g, unsigned flags, const int64_t *scratch, Arena *a,
                             const char *what)
{
    MemPlan p;
    plan_memory_scratch(g, flags, scratch, a, &p);
    uint32_t *first = calloc(g->nval, sizeof *first), *last = calloc(g->nval, sizeof *last);
    liveness(g, flags, first, last);
    for (NodeId n = 1; n < g->nnode; n++) {
        int64_t at = p.scratch_offset[n], size = scratch[n];
        CHECKF((size > 0) == (at >= 0), "%s: node %u scratch %lld at %lld", what, n,
               (long long)size, (long long)at);
        if (at < 0)
            continue;
        CHECKF(at % 64 == 0 && at + size <= p.bytes && size <= p.lower_bound,
               "%s: node %u scratch at %lld (+%lld), workspace %lld, bound %lld", what, n,
               (long long)at, (long long)size, (long long)p.bytes, (long long)p.lower_bound);
        for (ValueId v = 1; v < g->nval; v++) {
            if (p.offset[v] < 0 || first[v] > n || n > last[v])
                continue;
            bool disjoint = p.offset[v] + bytes_of(g, v) <= at || at + size <= p.offset[v];
            CHECKF(disjoint, "%s: node %u scratch [%lld, +%lld) meets live value %u at %lld",
                   what, n, (long long)at, (long long)size, v, (long long)p.offset[v]);
        }
    }
    free(first);
    free(last);
    return p;
}

/* ---- hand-made graphs ---- */

static ValueId conv1x1(Graph *g, ValueId x, int stride, const char *name)
{
    Attrs at = {.conv = {{stride, stride}, {0, 0, 0, 0}, {1, 1}, 1}};
    int64_t c = g->vals[x].shape.d[1];
    ValueId in[2] = {x, ir_graph_add_param(g, shape4(c, c, 1, 1), name, (Loc){0})};
    return add_node(g, OP_CONV2D, in, 2, &at);
}

/* FactorizedReduce's shape: a = relu(x), y = concat(conv_s2(a), conv_s2(crop(a))),
 * with a 1 KiB value made between the two convs that does not read a. The
 * crop is a view under PLAN_CROP_VIEW (no bytes), and a must then live until
 * the second conv, which reads it in place: otherwise the 1 KiB value could
 * take a's bytes (the simulation checks a is intact there). A crop that is
 * also read by a relu, read by a stride-1 conv, or a graph output, is none. */
static void test_crop_view(void)
{
    Arena ar;
    arena_init(&ar);
    Graph *g = ir_graph_new(&ar, "crop view");
    ValueId x = ir_graph_add_input(g, shape4(1, 4, 8, 8), "x");
    ValueId a = add_node(g, OP_RELU, &x, 1, NULL);
    Attrs crop = {.crop = {1, 1}};
    ValueId c = add_node(g, OP_CROP, &a, 1, &crop);
    ValueId y1 = conv1x1(g, a, 2, "w1");
    ValueId four[4] = {y1, y1, y1, y1};
    ValueId t = add_node(g, OP_CONCAT, four, 4, NULL); /* [1,16,4,4]: 1 KiB */
    ValueId out[2] = {t, conv1x1(g, c, 2, "w2")};
    ir_graph_add_output(g, add_node(g, OP_CONCAT, out, 2, NULL));
    CHECKF(plan_crop_is_view(g, c), "crop view: the crop is no view");
    MemPlan p = check_full(g, PLAN_DEFAULT, &ar, "crop view", true);
    CHECKF(p.offset[c] < 0, "crop view: the view has bytes at %lld", (long long)p.offset[c]);
    p = check_full(g, PLAN_CONCAT | PLAN_INPLACE, &ar, "crop copied", true);
    CHECKF(p.offset[c] >= 0, "crop copied: the crop has no bytes");

    Graph *h = ir_graph_new(&ar, "crop views not");
    x = ir_graph_add_input(h, shape4(1, 4, 8, 8), "x");
    ValueId cs[3];
    for (int i = 0; i < 3; i++)
        cs[i] = add_node(h, OP_CROP, &x, 1, &crop);
    ValueId outs[3] = {conv1x1(h, cs[0], 2, "w0"), conv1x1(h, cs[1], 1, "w1"), cs[2]};
    outs[0] = add_node(h, OP_RELU, &cs[0], 1, NULL); /* cs[0]: a relu reads it too */
    ir_graph_add_output(h, outs[0]);
    ir_graph_add_output(h, outs[1]); /* cs[1]: read by a stride-1 conv */
    ir_graph_add_output(h, outs[2]); /* cs[2]: a graph output */
    for (int i = 0; i < 3; i++)
        CHECKF(!plan_crop_is_view(h, cs[i]), "crop views not: crop %d is a view", i);
    check_full(h, PLAN_DEFAULT, &ar, "crop views not", true);
    arena_free_all(&ar);
}

/* x -> relu -> relu ... -> output: ping-pong between two slots, or one in place. */
static void test_chain(void)
{
    Arena a;
    arena_init(&a);
    Graph *g = ir_graph_new(&a, "chain");
    ValueId v = ir_graph_add_input(g, shape4(1, 3, 5, 7), "x"); /* 420 bytes -> 448 */
    for (int i = 0; i < 10; i++)
        v = add_node(g, OP_RELU, &v, 1, NULL);
    ir_graph_add_output(g, v);
    int64_t total = check_plan(g, "chain");
    CHECKF(total == 2 * 448, "chain: total %lld, want two slots (896)", (long long)total);
    MemPlan p = check_full(g, PLAN_DEFAULT, &a, "chain in place", true);
    CHECKF(p.bytes == 448 && p.lower_bound == 448 && p.ninplace == 8,
           "chain in place: %lld bytes, bound %lld, %u in place; want 448, 448, 8",
           (long long)p.bytes, (long long)p.lower_bound, p.ninplace);
    /* scratch at two relus: 1000 -> 1024 bytes beside the one in-place slot;
     * the second (100 -> 128) reuses the first's bytes. The bound counts
     * live bytes: 420 of the relu results plus 1000. */
    int64_t *scratch = arena_calloc(&a, g->nnode, sizeof *scratch);
    scratch[3] = 1000, scratch[7] = 100;
    p = check_scratch(g, PLAN_DEFAULT, scratch, &a, "chain scratch");
    CHECKF(p.bytes == 448 + 1024 && p.lower_bound == 420 + 1000,
           "chain scratch: %lld bytes, bound %lld; want 1472, 1420", (long long)p.bytes,
           (long long)p.lower_bound);
    arena_free_all(&a);
}

/* A DARTS-like cell: three ops into one concat, one of them read again after
 * it. Each operand sits at its channel offset; one slot of the concat's size. */
static void test_cell(void)
{
    Arena a;
    arena_init(&a);
    Graph *g = ir_graph_new(&a, "cell");
    ValueId x = ir_graph_add_input(g, shape4(1, 2, 5, 5), "x"); /* 200 bytes */
    Attrs pool = {.pool = {{3, 3}, {1, 1}, {1, 1, 1, 1}, 0}};
    ValueId n0 = add_node(g, OP_RELU, &x, 1, NULL);
    ValueId n1 = add_node(g, OP_MAXPOOL2D, &n0, 1, &pool);
    ValueId n2 = add_node(g, OP_MAXPOOL2D, &x, 1, &pool);
    ValueId in[3] = {n0, n1, n2};
    ValueId c = add_node(g, OP_CONCAT, in, 3, NULL);
    ValueId r = add_node(g, OP_MAXPOOL2D, &c, 1, &pool);
    ValueId late[2] = {r, n1};
    ir_graph_add_output(g, add_node(g, OP_CONCAT, late, 2, NULL));
    MemPlan p = check_full(g, PLAN_DEFAULT, &a, "cell", true);
    for (int i = 0; i < 3; i++)
        CHECKF(p.holder[in[i]] == c && p.offset[in[i]] == p.offset[c] + 200 * i,
               "cell: operand %d at %lld (holder %u), concat at %lld", i,
               (long long)p.offset[in[i]], p.holder[in[i]], (long long)p.offset[c]);
    /* at r: the concat's slot and r, 600 bytes each, rounded to 640 */
    CHECKF(p.nconcat == 3 && p.bytes == 1280 && p.lower_bound == 1280,
           "cell: %u operands in place, %lld bytes, bound %lld; want 3, 1280, 1280", p.nconcat,
           (long long)p.bytes, (long long)p.lower_bound);
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
    CHECKF(check_full(g, PLAN_DEFAULT, &a, "identity", true).bytes == 0,
           "identity graph needs no workspace");
    arena_free_all(&a);
}

/* ---- random DAGs ---- */

/* One random node over earlier values (so lifetimes interleave): relu,
 * leaky_relu, add, concat of 1-3 operands (repeats and the input allowed),
 * maxpool or 1x1 conv. */
static ValueId random_node(Graph *g, const ValueId *vals, int nv)
{
    ValueId u = vals[nv - 1 - rnd(nv < 6 ? nv : 6)], w = vals[rnd(nv)];
    const Shape *su = &g->vals[u].shape, *sw = &g->vals[w].shape;
    ValueId in[3] = {u, w, vals[nv - 1 - rnd(nv < 4 ? nv : 4)]};
    int kind = rnd(7);
    if (kind == 0)
        return add_node(g, OP_RELU, in, 1, NULL);
    if (kind == 1) {
        Attrs at = {.leaky = {0.25f}};
        return add_node(g, OP_LEAKY_RELU, in, 1, &at);
    }
    if (kind == 2 && shape_eq(su, sw))
        return add_node(g, OP_ADD, in, 2, NULL);
    uint32_t nin = 1 + (uint32_t)rnd(3);
    int64_t ch = 0;
    for (uint32_t i = 0; i < nin; i++)
        ch += g->vals[in[i]].shape.d[1];
    if (kind <= 4 && ch <= 24)
        return add_node(g, OP_CONCAT, in, nin, NULL);
    if (kind == 5) {
        Attrs at = {.pool = {{3, 3}, {1, 1}, {1, 1, 1, 1}, 0}};
        return add_node(g, OP_MAXPOOL2D, in, 1, &at);
    }
    Attrs at = {.conv = {{1, 1}, {0, 0, 0, 0}, {1, 1}, 1}};
    in[1] = ir_graph_add_param(g, shape4(1 + rnd(8), su->d[1], 1, 1), "w", (Loc){0});
    return add_node(g, OP_CONV2D, in, 2, &at);
}

static void test_random(int seed)
{
    Arena a;
    arena_init(&a);
    Graph *g = ir_graph_new(&a, "random");
    ValueId vals[64];
    int nv = 0;
    rng = 0x9e3779b97f4a7c15ull * (uint64_t)(seed + 1);
    vals[nv++] = ir_graph_add_input(g, shape4(seed % 4 == 3 ? 2 : 1, 2, 6, 6), "x");
    for (int i = 0; i < 48; i++) {
        vals[nv] = random_node(g, vals, nv);
        nv++;
    }
    ir_graph_add_output(g, vals[nv - 1 - rnd(8)]);
    if (rnd(2))
        ir_graph_add_output(g, vals[nv - 1 - rnd(16)]);
    char what[64];
    snprintf(what, sizeof what, "random seed %d", seed);
    int64_t plain = check_plan(g, what), sum = 0;
    for (int i = 1; i < nv; i++)
        sum += (bytes_of(g, vals[i]) + 63) / 64 * 64;
    CHECKF(plain <= sum, "%s: total %lld above the sum of sizes %lld", what, (long long)plain,
           (long long)sum);
    for (size_t f = 0; f < sizeof k_flag_sets / sizeof k_flag_sets[0]; f++) {
        snprintf(what, sizeof what, "random seed %d flags %u", seed, k_flag_sets[f]);
        MemPlan p = check_full(g, k_flag_sets[f], &a, what, true);
        CHECKF((k_flag_sets[f] & PLAN_CONCAT) || p.nconcat == 0, "%s: concat merges", what);
        CHECKF((k_flag_sets[f] & PLAN_INPLACE) || p.ninplace == 0, "%s: in-place", what);
        if (k_flag_sets[f] == 0)
            CHECKF(p.bytes == plain, "%s: %lld bytes, plan_memory %lld", what,
                   (long long)p.bytes, (long long)plain);
        int64_t *scratch = arena_calloc(&a, g->nnode, sizeof *scratch);
        for (NodeId n = 1; n < g->nnode; n++)
            scratch[n] = rnd(3) ? 0 : 1 + rnd(600);
        check_scratch(g, k_flag_sets[f], scratch, &a, what);
    }
    arena_free_all(&a);
}

/* ---- published networks ---- */

/* The -O2 pipeline on seeded weights, as `nasc compile` runs it. */
static bool optimise(Graph *g)
{
    Diag d;
    diag_init(&d);
    fe_init_weights(g, 1);
    int n;
    const char *const *names = pass_pipeline_for_level(2, &n);
    bool ok = pass_run_pipeline(g, names, n, NULL, &d) >= 0;
    if (!ok)
        diag_print(&d, stderr);
    diag_free(&d);
    return ok;
}

static Graph *darts_net(Arena *a, const char *dir, NetKind kind, int C, int layers, int hw)
{
    Diag d;
    diag_init(&d);
    Genotype geno;
    const char *path = arena_printf(a, "%s/darts_v2.json", dir);
    NetConfig cfg;
    fe_netconfig_default(&cfg, kind);
    cfg.C = C, cfg.layers = layers, cfg.in_h = cfg.in_w = hw;
    Graph *g = fe_load_genotype(a, path, NULL, &geno, &d) ? fe_lower_darts(a, &geno, &cfg, &d)
                                                          : NULL;
    if (!g)
        diag_print(&d, stderr);
    diag_free(&d);
    return g && optimise(g) ? g : NULL;
}

static Graph *adl_net(Arena *a, const char *dir, const char *file, int F, int hw)
{
    Diag d;
    diag_init(&d);
    AdlArch arch;
    fe_adl_defaults(&arch);
    size_t len;
    const char *path = arena_printf(a, "%s/%s", dir, file);
    char *text = fe_read_file(a, path, &len, &d);
    bool ok = text && (fe_sniff_arch(text, len) == FE_ARCH_ADL_JSON
                           ? fe_adl_parse_json(a, path, text, len, &arch, &d)
                           : fe_adl_parse_tf(a, path, text, len, &arch, &d));
    if (F)
        arch.F = F, arch.in_h = arch.in_w = hw;
    Graph *g = ok && fe_adl_check(&arch, &d) ? fe_lower_autodeeplab(a, &arch, &d) : NULL;
    if (!g)
        diag_print(&d, stderr);
    diag_free(&d);
    return g && optimise(g) ? g : NULL;
}

/* Published sizes: workspace <= 1.10 x the bound. Small sizes: simulated. */
static void test_published(const char *dir)
{
    static const char *const adl[] = {"autodeeplab_tf.json", "autodeeplab_port.json",
                                      "hnasnet_tf.py"};
    for (int i = 0; i < 7; i++) {
        Arena a;
        arena_init(&a);
        Graph *g = i == 0 ? darts_net(&a, dir, NET_CIFAR, 36, 20, 32)
                   : i == 1 ? darts_net(&a, dir, NET_IMAGENET, 48, 14, 224)
                   : i < 5 ? adl_net(&a, dir, adl[i - 2], 0, 0)
                   : i == 5 ? darts_net(&a, dir, NET_IMAGENET, 8, 5, 224)
                            : adl_net(&a, dir, adl[0], 4, 65);
        CHECKF(g, "published net %d did not build", i);
        if (!g) {
            arena_free_all(&a);
            continue;
        }
        MemPlan p = check_full(g, PLAN_DEFAULT, &a, g->name, i >= 5);
        printf("  %-26s workspace %10lld  bound %10lld  ratio %.3f  (%u concat, %u elementwise "
               "in place; %s)\n", g->name, (long long)p.bytes, (long long)p.lower_bound,
               (double)p.bytes / (double)p.lower_bound, p.nconcat, p.ninplace, p.placement);
        CHECKF(p.bytes * 100 <= p.lower_bound * 110, "%s: workspace %lld > 1.10 x bound %lld",
               g->name, (long long)p.bytes, (long long)p.lower_bound);
        CHECKF(p.nconcat > 0, "%s: no concat operand written in place", g->name);
        arena_free_all(&a);
    }
}

int main(int argc, char **argv)
{
    test_chain();
    test_crop_view();
    test_cell();
    test_trivial();
    for (int seed = 0; seed < 100; seed++)
        test_random(seed);
    if (argc > 1)
        test_published(argv[1]);
    if (failures) {
        fprintf(stderr, "plan_memory: %d failures\n", failures);
        return 1;
    }
    printf("plan_memory: ok\n");
    return 0;
}
