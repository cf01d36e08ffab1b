/* lower_dilation.c — a dilated conv as a dense conv on the input's phases.
 *
 * A conv with rate r and stride 1 reads, for output row oy, the padded
 * input rows oy, oy + r, oy + 2r, ...: all in the same phase oy mod r. So
 *   y = batch_to_space(conv_d1(space_to_batch(x, r, pad'), w), r, crop)
 * where space_to_batch puts the r*r phase sub-images of the zero-padded
 * input in the batch, conv_d1 is the same conv with dilation 1 and no
 * padding (the ordinary dense or depthwise kernel, no bounds checks at
 * all), and batch_to_space interleaves the phase outputs back. pad' adds
 * to the bottom/right pad what makes the padded size a multiple of r; the
 * extra output rows that makes are cropped (crop bottom/right).
 *
 * Two passes, one rewrite:
 *   lower-dilation-s2b  every conv it applies to (--dilation=s2b);
 *   lower-dilation      the ones the cost model below picks (the default
 *                       pipelines; --dilation=direct leaves it out).
 * Applies to: conv2d, stride 1, equal rates r >= 2 along both axes, no
 * fused addend (its operand is in the output's layout, not the phases').
 * (A phase always holds the kernel: the padded size is at least (k-1)r + 1,
 * so ceil(padded / r) >= k.) Fused pre and act stay on the
 * phase conv (relu(0) = 0, so pre on the zero padding is the same).
 *
 * Values: every output is the same sum of the same products; zero-padding
 * products are computed rather than skipped, and the phase kernel may sum
 * in another order (different tiles), so it matches within f32 rounding.
 */
#include "passes/internal.h"

/* Geometry of one conv lowered to phases. */
typedef struct Phases {
    int r;
    int64_t ph, pw;     /* phase sub-image size */
    int extra_h, extra_w; /* pad added at the bottom/right = rows cropped */
} Phases;

static bool lowerable(const Graph *g, const Node *n, Phases *p)
{
    const Conv2dAttrs *a = &n->attrs.conv;
    const Shape *x = &g->vals[n->in[0]].shape, *w = &g->vals[n->in[1]].shape;
    if (n->op != OP_CONV2D || a->stride[0] != 1 || a->stride[1] != 1 || a->addend ||
        a->dilation[0] != a->dilation[1] || a->dilation[0] < 2 || a->dilation[0] > 64)
        return false;
    int r = a->dilation[0];
    int64_t hp = x->d[2] + a->pad[0] + a->pad[2], wp = x->d[3] + a->pad[1] + a->pad[3];
    p->r = r;
    p->ph = (hp + r - 1) / r, p->pw = (wp + r - 1) / r;
    p->extra_h = (int)(p->ph * r - hp), p->extra_w = (int)(p->pw * r - wp);
    return p->ph >= w->d[2] && p->pw >= w->d[3]; /* always true for a valid conv */
}

/* ---- the cost model (passes/README.md, "Dilated convs") ----
 * Units: multiply-adds of the direct kernel. Calibrated with
 * `test_dilation --bench` (tests/codegen/dilation.c) on the ADL and DARTS
 * dilated convs, gcc -O3 -march=native, AVX-512 host:
 *   direct  the emitted kernels skip the taps in the padding, so `live`
 *           multiply-adds (per axis: sum over taps of the outputs whose
 *           input row is in bounds), plus BORDER per output position where
 *           some tap falls in the padding (border segments / edge helpers;
 *           measured small: the kernels split the border off);
 *   s2b     every tap of every phase output, padding included (`phase`),
 *           slowed by 1 + SMALL_TILE / (phase output width) for dense convs
 *           (a 3x3..7x7 phase output leaves the dense kernel's register tiles
 *           mostly empty: 2.6x slower per MAC at width 7, 6x at width 3),
 *           plus MOVE per float space_to_batch and batch_to_space move (a
 *           strided gather/scatter outside the conv: ~0.9 ns a float against
 *           ~0.13 ns a depthwise MAC). */
static const double BORDER = 0.5, MOVE = 7.0, SMALL_TILE = 12.0;

typedef struct Cost {
    double direct, s2b;
} Cost;

/* Output rows (or columns) of one axis whose every tap is inside the input. */
static int64_t interior(int64_t in, int64_t out, int64_t k, int r, int pad_lo)
{
    int64_t lo = pad_lo, hi = in + pad_lo - (k - 1) * r; /* oy in [lo, hi) */
    if (hi > out)
        hi = out;
    return hi > lo ? hi - lo : 0;
}

/* Sum over taps of the outputs where the tap reads the input (one axis). */
static int64_t live_reads(int64_t in, int64_t out, int64_t k, int r, int pad_lo)
{
    int64_t sum = 0;
    for (int64_t t = 0; t < k; t++) {
        int64_t lo = pad_lo - t * r, hi = in + pad_lo - t * r; /* oy in [lo, hi) */
        lo = lo < 0 ? 0 : lo, hi = hi > out ? out : hi;
        sum += hi > lo ? hi - lo : 0;
    }
    return sum;
}

static Cost cost(const Graph *g, const Node *n, const Phases *p)
{
    const Conv2dAttrs *a = &n->attrs.conv;
    const Shape *x = &g->vals[n->in[0]].shape, *w = &g->vals[n->in[1]].shape;
    const Shape *y = &g->vals[n->out].shape;
    int64_t kh = w->d[2], kw = w->d[3], oh = y->d[2], ow = y->d[3];
    double per_tap = (double)(y->d[0] * y->d[1]) * (double)w->d[1]; /* MACs of one tap */
    double live = (double)live_reads(x->d[2], oh, kh, p->r, a->pad[0]) *
                  (double)live_reads(x->d[3], ow, kw, p->r, a->pad[1]);
    double border = (double)(oh * ow) - (double)interior(x->d[2], oh, kh, p->r, a->pad[0]) *
                                            (double)interior(x->d[3], ow, kw, p->r, a->pad[1]);
    int64_t pw_out = p->pw - kw + 1; /* phase output width */
    double phase = (double)p->r * p->r * (double)(p->ph - kh + 1) * (double)pw_out *
                   (double)(kh * kw);
    double tile = a->groups == 1 ? 1.0 + SMALL_TILE / (double)pw_out : 1.0;
    double moved = (double)(x->d[0] * x->d[1]) * (double)(p->ph * p->pw) * p->r * p->r +
                   (double)(y->d[0] * y->d[1]) * (double)(oh * ow);
    Cost c;
    c.direct = per_tap * (live + BORDER * border);
    c.s2b = per_tap * phase * tile + MOVE * moved;
    return c;
}

/* ---- the rewrite ---- */

static bool lower(Graph *g, NodeId id, const Phases *p, Diag *d)
{
    Node conv = g->nodes[id]; /* a copy: adding nodes may move g->nodes */
    const Conv2dAttrs *a = &conv.attrs.conv;
    Attrs sa = {.s2b = {p->r, {a->pad[0], a->pad[1], a->pad[2] + p->extra_h,
                               a->pad[3] + p->extra_w}}};
    ValueId phases = ir_graph_add_node(g, OP_SPACE_TO_BATCH, conv.in, 1, &sa, conv.loc, d);
    if (!phases)
        return false;
    ValueId *in = arena_calloc(g->arena, conv.nin, sizeof *in);
    for (uint32_t i = 0; i < conv.nin; i++)
        in[i] = conv.in[i];
    in[0] = phases;
    Attrs ca = {.conv = *a};
    ca.conv.dilation[0] = ca.conv.dilation[1] = 1;
    ca.conv.pad[0] = ca.conv.pad[1] = ca.conv.pad[2] = ca.conv.pad[3] = 0;
    ValueId y = ir_graph_add_node(g, OP_CONV2D, in, conv.nin, &ca, conv.loc, d);
    if (!y)
        return false;
    /* The original node becomes the interleave: its result keeps its id,
     * name and readers. */
    Node *node = &g->nodes[id];
    ValueId *bin = arena_calloc(g->arena, 1, sizeof *bin);
    bin[0] = y;
    node->op = OP_BATCH_TO_SPACE;
    node->in = bin;
    node->nin = 1;
    node->attrs = (Attrs){.b2s = {p->r, {0, 0, p->extra_h, p->extra_w}}};
    return true;
}

static int lower_all(Graph *g, Diag *d, bool by_cost)
{
    int rewrites = 0;
    NodeId nnode = g->nnode; /* the nodes added here need no visit */
    for (NodeId n = 1; n < nnode; n++) {
        Phases p;
        if (g->nodes[n].op != OP_CONV2D || !lowerable(g, &g->nodes[n], &p))
            continue;
        if (by_cost) {
            Cost c = cost(g, &g->nodes[n], &p);
            if (c.s2b >= c.direct)
                continue;
        }
        if (!lower(g, n, &p, d))
            return -1;
        rewrites++;
    }
    if (rewrites)
        ir_graph_compact(g);
    return rewrites;
}

int pass_lower_dilation(Graph *g, Diag *d) { return lower_all(g, d, true); }

int pass_lower_dilation_s2b(Graph *g, Diag *d) { return lower_all(g, d, false); }
