/* adl_search.c — the Auto-DeepLab search supernet (auto_deeplab.py
 * AutoDeeplab, cell_level_search.py Cell and MixedOp) as IR.
 *
 * The idea needed to read it: nothing here is a special op. A MixedOp is
 * its seven non-zero candidates (operations.py, affine=False BN; pools
 * followed by BatchNorm2d(C, affine=False)) each multiplied by one element
 * of softmax(alphas) with a `scale` node and summed with `add` ('none' is
 * Zero: w * 0 adds nothing and sends no gradient, so it is left out). A
 * cell's weights are made once and read by its down/same/up runs, as the
 * PyTorch Cell calls the same modules three times. The level outputs are
 * beta-weighted sums, again `scale` + `add`, so the training engine
 * differentiates alphas and betas through the op table like any weight.
 *
 * Layout of the lattice (auto_deeplab.py __init__/forward): the stem is
 * the level-0 source of layer 0; cell (layer, level) exists for level <=
 * layer + 1; its prev-prev input is its own level two layers back (the
 * stem for (1, 0)), absent before that, in which case the edges from state
 * 0 have no MixedOp (the reference's None ops). Cells are numbered in
 * (layer, level) order, the `cells.<i>` of the state_dict.
 */
#include "search/adl_search.h"
#include "search/build.h"

#include <string.h>

enum { ASPP_BASE_RATE = 24 }; /* rates 24, 12, 6, 3: "96 / stride" in auto_deeplab.py */

/* ASPP's concate_bn is BatchNorm2d(C, momentum) with momentum = 0.0003 in
 * the eps position: torch takes it as eps. */
#define ASPP_CONCAT_EPS 3e-4f

typedef struct Build {
    Lower lw;                    /* graph, diagnostics, failed (search/build.h) */
    const AdlSearchConfig *cfg;
    int64_t size[ADL_LEVELS][2]; /* spatial size of each level */
    ValueId alpha_w;             /* softmax(alphas) [edges, 8] */
    ValueId *beta_w;             /* [layers * 4] normalised betas */
} Build;

/* The weights of one MixedOp: the BN statistics of the two pools, and the
 * depthwise, pointwise and BN statistics of each conv stage of sep_conv_3x3,
 * sep_conv_5x5 (two stages), dil_conv_3x3 and dil_conv_5x5 (one stage). */
typedef struct MixedW {
    ValueId pool_stats[2][2];       /* max, avg: running mean, var */
    ValueId dw[4][2], pw[4][2];     /* [conv op][stage] */
    ValueId stats[4][2][2];         /* [conv op][stage]: running mean, var */
} MixedW;

/* PRIMITIVES 4..7: kernel, padding, dilation, stages (operations.py OPS). */
static const struct { int kernel, pad, dilation, stages; } conv_ops[4] = {
    {3, 1, 1, 2}, {5, 2, 1, 2}, {3, 2, 2, 1}, {5, 4, 2, 1},
};
enum { PRIM_MAXPOOL = 1, PRIM_AVGPOOL = 2, PRIM_SKIP = 3, PRIM_FIRST_CONV = 4 };

/* ---- node builders: a 0 operand or an earlier failure gives 0 ---- */

/* A conv reading the shared weight w (a MixedOp's, made once per cell). */
static ValueId conv_w(Lower *L, ValueId x, ValueId w, int stride, int pad, int dil, int groups)
{
    ValueId in[2] = {x, w};
    Attrs a = {.conv = {.stride = {stride, stride}, .pad = {pad, pad, pad, pad},
                        .dilation = {dil, dil}, .groups = groups}};
    return fe_lw_node(L, OP_CONV2D, in, 2, &a);
}

/* ---- MixedOp ---- */

static void mixed_params(Lower *L, const char *prefix, int64_t c, MixedW *m)
{
    Arena *ar = L->g->arena;
    for (int p = 0; p < 2; p++) /* Sequential(pool, BatchNorm2d): the BN is module 1 */
        search_lw_bn_stats_params(L, arena_printf(ar, "%s._ops.%d.1", prefix, PRIM_MAXPOOL + p),
                                  c, m->pool_stats[p]);
    for (int k = 0; k < 4; k++) {
        const char *op = arena_printf(ar, "%s._ops.%d.op", prefix, PRIM_FIRST_CONV + k);
        int ks = conv_ops[k].kernel;
        for (int s = 0; s < conv_ops[k].stages; s++) { /* ReLU, dw, pw, BN per stage */
            m->dw[k][s] = fe_lw_param(L, shape4(c, 1, ks, ks),
                                      arena_printf(ar, "%s.%d.weight", op, 4 * s + 1));
            m->pw[k][s] = fe_lw_param(L, shape4(c, c, 1, 1),
                                      arena_printf(ar, "%s.%d.weight", op, 4 * s + 2));
            search_lw_bn_stats_params(L, arena_printf(ar, "%s.%d", op, 4 * s + 3), c,
                                      m->stats[k][s]);
        }
    }
}

static ValueId conv_candidate(Lower *L, ValueId x, const MixedW *m, int k)
{
    ValueId h = x;
    int groups = (int)fe_lw_channels(L, x);
    for (int s = 0; s < conv_ops[k].stages; s++) {
        h = conv_w(L, fe_lw_relu(L, h), m->dw[k][s], 1, conv_ops[k].pad, conv_ops[k].dilation,
                   groups);
        h = conv_w(L, h, m->pw[k][s], 1, 0, 1, 1);
        h = search_lw_bn_stats(L, h, m->stats[k][s]);
    }
    return h;
}

/* MixedOp.forward: sum over PRIMITIVES 1..7 of w[k] * op_k(x). */
static ValueId mixed(Build *b, ValueId x, const MixedW *m, int edge)
{
    Lower *L = &b->lw;
    ValueId sum = 0;
    for (int k = PRIM_MAXPOOL; k < ADL_NUM_OPS; k++) {
        ValueId y;
        if (k == PRIM_MAXPOOL || k == PRIM_AVGPOOL) { /* 3x3, stride 1, pad 1; avg excludes pad */
            Attrs a = {.pool = {{3, 3}, {1, 1}, {1, 1, 1, 1}, 0}};
            y = fe_lw_node(L, k == PRIM_MAXPOOL ? OP_MAXPOOL2D : OP_AVGPOOL2D, &x, 1, &a);
            y = search_lw_bn_stats(L, y, m->pool_stats[k - PRIM_MAXPOOL]);
        } else if (k == PRIM_SKIP) {
            y = x;
        } else {
            y = conv_candidate(L, x, m, k - PRIM_FIRST_CONV);
        }
        sum = search_lw_add(L, sum, search_lw_scale(L, y, b->alpha_w, edge * ADL_NUM_OPS + k));
    }
    return sum;
}

/* ---- cells ---- */

/* One run of the cell DAG on (s0, s1); s0 == 0 when the cell has no
 * prev-prev input. Returns the concatenation of the last B nodes. */
static ValueId cell_dag(Build *b, ValueId s0, ValueId s1, const MixedW *mw)
{
    Lower *L = &b->lw;
    ValueId states[2 + ADL_MAX_STEPS] = {s0, s1};
    int steps = b->cfg->steps, offset = 0;
    for (int i = 0; i < steps; i++) {
        ValueId sum = 0;
        for (int j = 0; j < 2 + i; j++)
            if (j > 0 || s0)
                sum = search_lw_add(L, sum, mixed(b, states[j], &mw[offset + j], offset + j));
        states[2 + i] = sum;
        offset += 2 + i;
    }
    int nb = b->cfg->block_multiplier;
    return fe_lw_node(L, OP_CONCAT, states + 2 + steps - nb, (uint32_t)nb, NULL);
}

/* Index of direction dir in the beta param of source level src. */
static int beta_slot(int src, int dir)
{
    int lo, hi;
    adl_beta_dirs(src, &lo, &hi);
    return dir - lo;
}

/* Cell `index` at (layer, level): prev[] are layer-1's outputs per level
 * (the stem at level 0 for layer 0), pp the prev-prev input or 0. */
static ValueId build_cell(Build *b, int index, int layer, int level, const ValueId *prev,
                          ValueId pp)
{
    Lower *L = &b->lw;
    static const char *const branch[3] = {"down", "same", "up"};
    Arena *ar = L->g->arena;
    int64_t c = (int64_t)b->cfg->filter_multiplier << level;
    int64_t h = b->size[level][0], w = b->size[level][1];
    const char *prefix = arena_printf(ar, "cells.%d", index);
    ValueId s0 = 0;
    if (pp) {
        s0 = fe_lw_resize(L, pp, h, w);
        if (fe_lw_channels(L, s0) != c)
            s0 = search_lw_relu_conv_bn(L, s0, arena_printf(ar, "%s.pre_preprocess", prefix), c);
    }
    int edges = adl_search_edges(b->cfg->steps);
    MixedW *mw = arena_calloc(ar, (size_t)edges, sizeof *mw);
    for (int i = 0, e = 0; i < b->cfg->steps; i++)
        for (int j = 0; j < 2 + i; j++, e++)
            if (j > 0 || s0)
                mixed_params(L, arena_printf(ar, "%s._ops.%d", prefix, e), c, &mw[e]);
    ValueId sum = 0;
    for (int k = 0; k < 3; k++) { /* order of the reference's sum: down, same, up */
        int src = level - 1 + k, dir = 2 - k;
        if (src < 0 || src >= ADL_LEVELS || !prev[src])
            continue;
        const Shape *s = &L->g->vals[prev[src]].shape;
        ValueId x = prev[src];
        bool up = src > level;
        if (src != level)
            x = fe_lw_resize(L, x, fe_lw_scale_dim(s->d[2], up), fe_lw_scale_dim(s->d[3], up));
        x = search_lw_relu_conv_bn(L, x, arena_printf(ar, "%s.preprocess_%s", prefix, branch[k]),
                                   c);
        ValueId out = cell_dag(b, s0, x, mw);
        ValueId bw = b->beta_w[layer * ADL_LEVELS + src];
        sum = search_lw_add(L, sum, search_lw_scale(L, out, bw, beta_slot(src, dir)));
    }
    if (sum)
        ir_value_set_name(L->g, sum, prefix);
    return sum;
}

/* ---- heads and stem ---- */

/* operations.py ASPP(C, classes, rate, rate) on x, upsampled to the input. */
static ValueId build_aspp(Build *b, ValueId x, int level)
{
    Lower *L = &b->lw;
    Arena *ar = L->g->arena;
    const char *p = arena_printf(ar, "aspp_%d.0", 4 << level);
    int base = b->cfg->aspp_rate ? b->cfg->aspp_rate : ASPP_BASE_RATE;
    int rate = base >> level > 1 ? base >> level : 1;
    int64_t c = fe_lw_channels(L, x);
    ValueId br[3];
    br[0] = fe_lw_conv_sq(L, x, arena_printf(ar, "%s.conv11.0", p), c, 1, 1, 0, 1, false);
    br[0] = fe_lw_batchnorm(L, br[0], arena_printf(ar, "%s.conv11.1", p));
    br[1] = fe_lw_conv_sq(L, x, arena_printf(ar, "%s.conv33.0", p), c, 3, 1, rate, rate, false);
    br[1] = fe_lw_batchnorm(L, br[1], arena_printf(ar, "%s.conv33.1", p));
    br[2] = fe_lw_node(L, OP_GAVGPOOL, &x, 1, NULL); /* AvgPool2d(kernel = the whole map) */
    br[2] = fe_lw_conv_sq(L, br[2], arena_printf(ar, "%s.conv_p.0", p), c, 1, 1, 0, 1, false);
    br[2] = fe_lw_relu(L, fe_lw_batchnorm(L, br[2], arena_printf(ar, "%s.conv_p.1", p)));
    br[2] = fe_lw_resize(L, br[2], b->size[level][0], b->size[level][1]);
    ValueId h = fe_lw_node(L, OP_CONCAT, br, 3, NULL);
    h = fe_lw_conv_sq(L, h, arena_printf(ar, "%s.concate_conv", p), c, 1, 1, 0, 1, false);
    h = fe_lw_batchnorm_eps(L, h, arena_printf(ar, "%s.concate_bn", p), ASPP_CONCAT_EPS);
    h = fe_lw_conv_sq(L, h, arena_printf(ar, "%s.final_conv", p), b->cfg->classes, 1, 1, 0, 1,
                      false);
    if (h)
        ir_value_set_name(L->g, h, arena_printf(ar, "aspp_%d", 4 << level));
    return fe_lw_resize(L, h, b->cfg->h, b->cfg->w);
}

/* Conv (with bias) + BatchNorm2d + ReLU, as stem0..stem2. */
static ValueId stem_stage(Build *b, ValueId x, const char *name, int64_t oc, int stride)
{
    Lower *L = &b->lw;
    Arena *ar = L->g->arena;
    ValueId h = fe_lw_conv_sq(L, x, arena_printf(ar, "%s.0", name), oc, 3, stride, 1, 1, true);
    h = fe_lw_relu(L, fe_lw_batchnorm(L, h, arena_printf(ar, "%s.1", name)));
    if (h)
        ir_value_set_name(L->g, h, name);
    return h;
}

/* ---- architecture params ---- */

/* The constant 2/3 that scales the boundary betas, as a [N, C, 1, 2] value
 * with no gradient path. The IR has no constants and every param that is
 * not a running statistic gets trained, so it is computed from the input:
 * softmax over a singleton axis is exactly 1 (its backward exactly 0);
 * resized to width 2 and average-pooled 1x3 with the padding counted, each
 * element is (1 + 1 + 0) / 3, the float torch multiplies by. */
static ValueId two_thirds(Build *b, ValueId input)
{
    Lower *L = &b->lw;
    ValueId h = fe_lw_node(L, OP_GAVGPOOL, &input, 1, NULL);
    h = fe_lw_node(L, OP_SOFTMAX, &h, 1, NULL);
    h = fe_lw_resize(L, h, 1, 2);
    Attrs a = {.pool = {{1, 3}, {1, 1}, {0, 1, 0, 1}, 1}};
    h = fe_lw_node(L, OP_AVGPOOL2D, &h, 1, &a);
    if (h)
        ir_value_set_name(L->g, h, "betas.two_thirds");
    return h;
}

void adl_beta_dirs(int level, int *lo, int *hi)
{
    *lo = level == 0 ? 1 : 0;               /* no level below 0 */
    *hi = level == ADL_LEVELS - 1 ? 2 : 3;  /* none above 3 */
}

/* betas.<layer>.<src> for src <= layer, and their normalised weights. */
static void build_betas(Build *b, AdlSearchVars *v, ValueId input)
{
    Lower *L = &b->lw;
    Arena *ar = L->g->arena;
    int layers = b->cfg->layers;
    ValueId third2 = two_thirds(b, input);
    v->betas = arena_calloc(ar, (size_t)layers * ADL_LEVELS, sizeof *v->betas);
    v->beta_weights = arena_calloc(ar, (size_t)layers * ADL_LEVELS, sizeof *v->beta_weights);
    for (int layer = 0; layer < layers; layer++) {
        for (int src = 0; src <= layer && src < ADL_LEVELS; src++) {
            int lo, hi;
            adl_beta_dirs(src, &lo, &hi);
            int64_t n = hi - lo;
            ValueId p = fe_lw_param(L, shape_make(1, &n),
                                    arena_printf(ar, "betas.%d.%d", layer, src));
            ValueId s = fe_lw_node(L, OP_SOFTMAX, &p, 1, NULL);
            if (src == 0 || src == ADL_LEVELS - 1)
                s = search_lw_scale(L, s, third2, 0);
            if (s)
                ir_value_set_name(L->g, s, arena_printf(ar, "beta_weights.%d.%d", layer, src));
            v->betas[layer * ADL_LEVELS + src] = p;
            v->beta_weights[layer * ADL_LEVELS + src] = s;
        }
    }
    b->beta_w = v->beta_weights;
}

/* 1e-3 * N(0, 1), as _initialize_alphas_betas; fills out->arch. */
static void init_arch(Graph *g, const AdlSearchVars *v, int layers, uint64_t seed, SuperNet *out)
{
    out->arch = arena_calloc(g->arena, (size_t)layers * ADL_LEVELS + 2, sizeof *out->arch);
    out->arch[out->narch++] = v->alphas;
    for (int i = 0; i < layers * ADL_LEVELS; i++)
        if (v->betas[i])
            out->arch[out->narch++] = v->betas[i];
    if (v->heads)
        out->arch[out->narch++] = v->heads;
    for (int i = 0; i < out->narch; i++) {
        Value *val = &g->vals[out->arch[i]];
        int64_t n = shape_numel(&val->shape);
        val->data = arena_calloc(g->arena, (size_t)n, sizeof(float));
        search_init_normal(val->data, n, 1e-3f, seed, val->name);
    }
}

/* ---- config and sizes ---- */

static void check_range(Diag *d, const char *what, int v, int lo, int hi)
{
    if (v < lo || v > hi)
        diag_error(d, (Loc){0}, "Auto-DeepLab search: %s must be %d..%d, found %d", what, lo,
                   hi, v);
}

static bool check_config(const AdlSearchConfig *c, Diag *d)
{
    int before = d->nerr;
    check_range(d, "layers", c->layers, 3, ADL_SEARCH_MAX_LAYERS);
    check_range(d, "the filter multiplier F", c->filter_multiplier, 2, 1024);
    check_range(d, "steps", c->steps, 1, ADL_MAX_STEPS);
    check_range(d, "the block multiplier B", c->block_multiplier, 1,
                c->steps < ADL_MAX_STEPS ? c->steps : ADL_MAX_STEPS);
    check_range(d, "the number of classes", c->classes, 1, 65536);
    check_range(d, "the input channels", c->in_ch, 1, 4096);
    check_range(d, "the input height", c->h, 1, 16384);
    check_range(d, "the input width", c->w, 1, 16384);
    check_range(d, "the batch", c->batch, 1, 65536);
    return d->nerr == before;
}

/* Level sizes after the stem (two 3x3 stride-2 pad-1 convs) and the cells'
 * down-resizing; the up-resizing must give them back, or the runs of a
 * cell would have different sizes (the reference fails the same way). */
static bool level_sizes(const AdlSearchConfig *c, int64_t size[ADL_LEVELS][2], Diag *d)
{
    int64_t in[2] = {c->h, c->w};
    for (int k = 0; k < 2; k++) {
        size[0][k] = ((in[k] - 1) / 2) / 2 + 1; /* (d + 2 - 3) / 2 + 1, twice */
        for (int l = 1; l < ADL_LEVELS; l++)
            size[l][k] = fe_lw_scale_dim(size[l - 1][k], false);
    }
    for (int l = 0; l + 1 < ADL_LEVELS; l++) {
        for (int k = 0; k < 2; k++) {
            if (fe_lw_scale_dim(size[l + 1][k], true) == size[l][k])
                continue;
            diag_error(d, (Loc){0}, "Auto-DeepLab search: input %dx%d gives level sizes "
                       "%lld, %lld, %lld, %lld along %s, and upsampling level %d (%lld) gives "
                       "%lld, not %lld; try a size such as 64 or 65", c->h, c->w,
                       (long long)size[0][k], (long long)size[1][k], (long long)size[2][k],
                       (long long)size[3][k], k ? "the width" : "the height", l + 1,
                       (long long)size[l + 1][k], (long long)fe_lw_scale_dim(size[l + 1][k], true),
                       (long long)size[l][k]);
            return false;
        }
    }
    return true;
}

int adl_search_edges(int steps)
{
    return steps * (steps + 3) / 2;
}

void adl_search_defaults(AdlSearchConfig *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->layers = 4;
    cfg->filter_multiplier = 4;
    cfg->steps = 5;
    cfg->block_multiplier = 5;
    cfg->classes = 11;
    cfg->in_ch = 3;
    cfg->h = cfg->w = 64;
    cfg->batch = 8;
    cfg->max_skip = -1;
}

/* ---- the network ---- */

/* The stem, then the lattice layer by layer; returns the (weighted) sum of the heads. */
static ValueId build_net(Build *b, ValueId x, AdlSearchVars *v)
{
    Lower *L = &b->lw;
    const AdlSearchConfig *c = b->cfg;
    int64_t fb = (int64_t)c->filter_multiplier * c->block_multiplier;
    int64_t half = (int64_t)(c->filter_multiplier / 2) * c->block_multiplier;
    ValueId h = stem_stage(b, x, "stem0", half, 2);
    h = stem_stage(b, h, "stem1", half, 1);
    ValueId prev[ADL_LEVELS] = {stem_stage(b, h, "stem2", fb, 2)};
    ValueId pp[ADL_LEVELS] = {0}, cur[ADL_LEVELS];

    int64_t shape[2] = {adl_search_edges(c->steps), ADL_NUM_OPS};
    v->alphas = fe_lw_param(L, shape_make(2, shape), "alphas");
    b->alpha_w = fe_lw_node(L, OP_SOFTMAX, &v->alphas, 1, NULL);
    build_betas(b, v, x);

    int index = 0;
    for (int layer = 0; layer < c->layers && !L->failed; layer++) {
        memset(cur, 0, sizeof cur);
        for (int level = 0; level <= layer + 1 && level < ADL_LEVELS; level++)
            cur[level] = build_cell(b, index++, layer, level, prev, pp[level]);
        memcpy(pp, prev, sizeof pp);
        memcpy(prev, cur, sizeof prev);
    }
    ValueId head_w = 0;
    if (c->head_weights) {
        int64_t n = ADL_LEVELS;
        v->heads = fe_lw_param(L, shape_make(1, &n), "head_weights");
        head_w = fe_lw_node(L, OP_SOFTMAX, &v->heads, 1, NULL);
    }
    ValueId sum = 0;
    for (int level = 0; level < ADL_LEVELS; level++) {
        ValueId head = build_aspp(b, prev[level], level);
        if (head_w)
            head = search_lw_scale(L, head, head_w, level);
        sum = search_lw_add(L, sum, head);
    }
    return sum;
}

bool adl_supernet_build(Arena *a, const AdlSearchConfig *cfg, uint64_t seed, SuperNet *out,
                        AdlSearchVars *v, Diag *d)
{
    memset(out, 0, sizeof *out);
    memset(v, 0, sizeof *v);
    Build b = {.lw = {.d = d}, .cfg = cfg};
    if (!check_config(cfg, d) || !level_sizes(cfg, b.size, d))
        return false;
    b.lw.g = ir_graph_new(a, "autodeeplab_search");
    v->layers = cfg->layers;
    v->steps = cfg->steps;
    ValueId x = ir_graph_add_input(b.lw.g, shape4(cfg->batch, cfg->in_ch, cfg->h, cfg->w), "input");
    ValueId y = build_net(&b, x, v);
    if (b.lw.failed || !y)
        return false;
    ir_value_set_name(b.lw.g, y, "output");
    ir_graph_add_output(b.lw.g, y);
    search_init_weights(b.lw.g, seed);
    init_arch(b.lw.g, v, cfg->layers, seed, out);
    out->g = b.lw.g;
    return ir_verify(b.lw.g, d);
}
