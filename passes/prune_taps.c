/* prune_taps.c — kernel taps that only ever read padding are dropped.
 *
 * Along one axis, tap k of a conv reads input row o*s - pad_lo + k*d for the
 * output rows o = 0 .. OH-1. When that is outside [0, H) for every o, the
 * tap multiplies zero padding only (a fused pre=relu keeps padding zero) and
 * contributes nothing. The taps that do read the input are a contiguous
 * range [k0, k1] (the rows a tap reads shift monotonically with k), so the
 * conv becomes one with k1 - k0 + 1 taps and the weight sliced to them:
 * pad_lo' = pad_lo - k0*d, and pad_hi' such that the output size is
 * unchanged. The case it exists for: ASPP's 3x3 convs with a rate >= the
 * feature size are really 1x1 convs (then pad 0 and the pointwise kernel
 * takes them).
 *
 * Not rewritten: when pad_lo' would be negative or the rows no live tap
 * reads at the end are a stride or more (the pruned conv would need a crop
 * of its input; only geometries with pad > rate or stride > 1 get there),
 * and when the
 * weight has no bound data to slice (-O1 without weights). The sliced
 * weight is a new derived param "<w name>+taps" (the old one stays,
 * unread, like fold-bn's).
 *
 * Values: the dropped products were w * 0, so the result is the same sum
 * with fewer zero terms; kernels that sum taps in a different order for a
 * different kernel size (im2col + sgemm) may round differently.
 */
#include "passes/internal.h"

#include <string.h>

/* The live taps [*k0, *k1] of one axis, and the new pads. False when no
 * tap is dead or the rewrite is not possible (see above). */
typedef struct Axis {
    int64_t in, out, k;
    int stride, dil, pad_lo, pad_hi;
} Axis;

static bool live_taps(const Axis *a, int64_t *k0, int64_t *k1, int *lo, int *hi)
{
    *k0 = -1, *k1 = -1;
    for (int64_t k = 0; k < a->k; k++) {
        int64_t first = k * a->dil - a->pad_lo, last = first + (a->out - 1) * a->stride;
        if (last >= 0 && first < a->in) {
            if (*k0 < 0)
                *k0 = k;
            *k1 = k;
        }
    }
    if (*k0 < 0 || (*k0 == 0 && *k1 == a->k - 1))
        return false; /* all padding (cannot happen in a valid conv) or nothing to drop */
    int64_t new_lo = a->pad_lo - *k0 * a->dil;
    /* pad_hi' such that the window of the last output row ends exactly at
     * the padded input's end; when that is negative (rows at the end no
     * live tap reads), 0 still gives a->out rows if the excess is less
     * than a stride (the output size rounds down). */
    int64_t window = (*k1 - *k0) * a->dil + 1;
    int64_t new_hi = (a->out - 1) * a->stride + window - a->in - new_lo;
    if (new_hi < 0)
        new_hi = 0;
    if (new_lo < 0 || (a->in + new_lo + new_hi - window) / a->stride + 1 != a->out)
        return false;
    *lo = (int)new_lo, *hi = (int)new_hi;
    return true;
}

/* A new param holding w[:, :, y0:y0+kh, x0:x0+kw]. */
static ValueId sliced_weight(Graph *g, ValueId wid, int64_t y0, int64_t kh, int64_t x0,
                             int64_t kw, Loc loc)
{
    const Value *wv = &g->vals[wid];
    Shape s = wv->shape;
    int64_t outer = s.d[0] * s.d[1], KH = s.d[2], KW = s.d[3];
    const float *w = wv->data;
    /* "<w>+taps" (#2, #3...: two convs sharing a weight may prune it differently) */
    const char *name = pass_unique_param_name(
        g, arena_printf(g->arena, "%s+taps", wv->name ? wv->name : "conv.weight"));
    float *nw = arena_calloc(g->arena, (size_t)(outer * kh * kw), sizeof *nw);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t y = 0; y < kh; y++)
            memcpy(nw + (o * kh + y) * kw, w + (o * KH + y0 + y) * KW + x0,
                   (size_t)kw * sizeof *nw);
    s.d[2] = kh, s.d[3] = kw;
    ValueId id = ir_graph_add_param(g, s, name, loc); /* may move g->nodes and g->vals */
    g->vals[id].data = nw;
    return id;
}

static bool prune_conv(Graph *g, NodeId id)
{
    const Node *n = &g->nodes[id];
    const Conv2dAttrs *a = &n->attrs.conv;
    const Shape *x = &g->vals[n->in[0]].shape, *w = &g->vals[n->in[1]].shape;
    const Shape *y = &g->vals[n->out].shape;
    if (pass_producer_op(g, n->in[1]) != OP_PARAM || !g->vals[n->in[1]].data)
        return false;
    Axis ax[2] = {
        {x->d[2], y->d[2], w->d[2], a->stride[0], a->dilation[0], a->pad[0], a->pad[2]},
        {x->d[3], y->d[3], w->d[3], a->stride[1], a->dilation[1], a->pad[1], a->pad[3]},
    };
    int64_t k0[2], k1[2];
    int lo[2], hi[2];
    bool cut[2];
    for (int i = 0; i < 2; i++) {
        cut[i] = live_taps(&ax[i], &k0[i], &k1[i], &lo[i], &hi[i]);
        if (!cut[i]) /* keep this axis whole */
            k0[i] = 0, k1[i] = ax[i].k - 1, lo[i] = ax[i].pad_lo, hi[i] = ax[i].pad_hi;
    }
    if (!cut[0] && !cut[1])
        return false;
    ValueId nw = sliced_weight(g, n->in[1], k0[0], k1[0] - k0[0] + 1, k0[1],
                               k1[1] - k0[1] + 1, n->loc);
    Node *node = &g->nodes[id]; /* adding the param may have moved the nodes */
    ValueId *in = arena_calloc(g->arena, node->nin, sizeof *in);
    memcpy(in, node->in, node->nin * sizeof *in);
    in[1] = nw;
    node->in = in;
    Conv2dAttrs *na = &node->attrs.conv;
    na->pad[0] = lo[0], na->pad[2] = hi[0], na->pad[1] = lo[1], na->pad[3] = hi[1];
    for (int i = 0; i < 2; i++)
        if (k1[i] == k0[i])
            na->dilation[i] = 1; /* one tap: the rate no longer matters */
    return true;
}

int pass_prune_taps(Graph *g, Diag *d)
{
    (void)d;
    int rewrites = 0;
    NodeId nnode = g->nnode; /* the params added here need no visit */
    for (NodeId n = 1; n < nnode; n++)
        if (g->nodes[n].op == OP_CONV2D)
            rewrites += prune_conv(g, n);
    if (rewrites)
        ir_graph_compact(g);
    return rewrites;
}
