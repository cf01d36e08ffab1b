/* darts_search.c — the DARTS search supernet (model_search.py) as IR, and
 * the genotype derivation (Network.genotype()).
 *
 * The idea needed to read it: a MixedOp is no special op. Each of its
 * candidates is built as ordinary IR (operations.py with affine=False BN,
 * pools followed by BatchNorm2d(C, affine=False)), multiplied by one
 * element of softmax(alphas) with a `scale` node, and the products are
 * summed with `add` in PRIMITIVES order, as MixedOp.forward's sum() (whose
 * 'none' term, an exact zero, is left out).
 * The softmax of each alpha tensor is one node shared by all cells of its
 * kind, so the training engine differentiates through it like any op.
 * Params are added right before their reader with their state_dict keys.
 */
#include "search/darts_search.h"
#include "search/build.h"

#include <math.h>
#include <string.h>

const char *const darts_primitives[DARTS_NUM_OPS] = {
    "none", "max_pool_3x3", "avg_pool_3x3", "skip_connect",
    "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5",
};

enum { PRIM_NONE = 0 }; /* index of 'none' in darts_primitives */

void darts_search_defaults(DartsSearchConfig *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->C = 16;
    cfg->layers = 8;
    cfg->steps = 4;
    cfg->multiplier = 4;
    cfg->stem_multiplier = 3;
    cfg->classes = 10;
    cfg->in_ch = 3;
    cfg->h = cfg->w = 32;
    cfg->batch = 64;
}

int darts_search_edges(int steps)
{
    return steps * (steps + 3) / 2; /* node i reads 2 + i states */
}

/* ---- builders: one per operations.py module (search/build.h) ---- */

typedef struct Build {
    Lower lw;           /* graph, diagnostics, failed */
    ValueId weights[2]; /* softmax(alphas_normal), softmax(alphas_reduce) */
} Build;

/* FactorizedReduce(C_in, oc, affine=False) given r = relu(x):
 * bn(cat(conv_1(r), conv_2(r[:, :, 1:, 1:]))), both 1x1 stride 2. */
static ValueId b_factorized_reduce(Lower *L, ValueId r, const char *prefix, int64_t oc)
{
    Arena *ar = L->g->arena;
    Attrs crop = {.crop = {1, 1}};
    ValueId shifted = fe_lw_node(L, OP_CROP, &r, 1, &crop);
    ValueId halves[2] = {
        fe_lw_conv_sq(L, r, arena_printf(ar, "%s.conv_1", prefix), oc / 2, 1, 2, 0, 1, false),
        fe_lw_conv_sq(L, shifted, arena_printf(ar, "%s.conv_2", prefix), oc / 2, 1, 2, 0, 1,
                      false)};
    ValueId cat = fe_lw_node(L, OP_CONCAT, halves, 2, NULL);
    return search_lw_bn_plain(L, cat, arena_printf(ar, "%s.bn", prefix));
}

/* SepConv (stages 2: two ReLU-dw-pw-BN stages, only the first strided,
 * module indices op.0..op.7) or DilConv (stages 1: op.0..op.3), given
 * r = relu(x), the first stage's ReLU. */
static ValueId b_sep_or_dil(Lower *L, ValueId r, const char *prefix, const DartsOp *o,
                            int stride, int stages)
{
    Arena *ar = L->g->arena;
    int64_t c = fe_lw_channels(L, r);
    ValueId h = r;
    for (int s = 0; s < stages; s++) {
        int base = 4 * s;
        h = s ? fe_lw_relu(L, h) : h;
        int st = s ? 1 : stride;
        h = fe_lw_conv(L, h, arena_printf(ar, "%s.op.%d", prefix, base + 1), c, o->kernel,
                       o->kernel, st, st, o->pad, o->pad, o->dilation, (int)c);
        h = fe_lw_conv_sq(L, h, arena_printf(ar, "%s.op.%d", prefix, base + 2), c, 1, 1, 0, 1,
                          false);
        h = search_lw_bn_plain(L, h, arena_printf(ar, "%s.op.%d", prefix, base + 3));
    }
    return h;
}

/* OPS[primitive](C, stride, affine=False), wrapped as MixedOp wraps it:
 * pools are Sequential(pool, BatchNorm2d(C, affine=False)). Not 'none'
 * (b_mixed leaves its zero term out). rx = relu(x) is shared by the
 * candidates that start with a ReLU: the same values, one activation. */
static ValueId b_candidate(Lower *L, ValueId x, ValueId rx, int prim, int stride,
                           const char *prefix)
{
    const DartsOp *o = fe_darts_op(darts_primitives[prim]);
    NASC_ASSERT(o);
    Arena *ar = L->g->arena;
    switch (o->kind) { /* primitives, not IR ops */
    case DK_MAXPOOL:
    case DK_AVGPOOL: {
        Attrs a = {.pool = {{o->kernel, o->kernel}, {stride, stride},
                            {o->pad, o->pad, o->pad, o->pad}, 0}}; /* count_include_pad=False */
        ValueId p = fe_lw_node(L, o->kind == DK_MAXPOOL ? OP_MAXPOOL2D : OP_AVGPOOL2D, &x, 1, &a);
        return search_lw_bn_plain(L, p, arena_printf(ar, "%s.1", prefix));
    }
    case DK_SKIP:
        return stride == 1 ? x : b_factorized_reduce(L, rx, prefix, fe_lw_channels(L, x));
    case DK_SEPCONV:
        return b_sep_or_dil(L, rx, prefix, o, stride, 2);
    case DK_DILCONV:
        return b_sep_or_dil(L, rx, prefix, o, stride, 1);
    default:
        break;
    }
    NASC_ASSERT(!"primitive outside the DARTS search space");
    return 0;
}

/* MixedOp(C, stride) on x with alpha row `row` of `weights`:
 * sum_k scale(op_k(x), weights.flat[row * 8 + k]). The 'none' term is
 * left out: w * Zero(x) adds exact zeros to the sum and gives w a zero
 * gradient, so dropping it changes no value and no gradient (alpha_none
 * still acts through the softmax), and saves three activations per edge. */
static ValueId b_mixed(Lower *L, ValueId x, int stride, ValueId weights, int row,
                       const char *prefix)
{
    ValueId sum = 0, rx = fe_lw_relu(L, x);
    for (int k = 0; k < DARTS_NUM_OPS && !L->failed; k++) {
        if (k == PRIM_NONE)
            continue;
        const char *p = arena_printf(L->g->arena, "%s._ops.%d", prefix, k);
        ValueId term = b_candidate(L, x, rx, k, stride, p);
        sum = search_lw_add(L, sum, search_lw_scale(L, term, weights, row * DARTS_NUM_OPS + k));
    }
    return sum;
}

/* Cell(steps, multiplier, C_prev_prev, C_prev, C, reduction, reduction_prev). */
static ValueId b_cell(Build *b, const DartsSearchConfig *cfg, int idx, ValueId s0, ValueId s1,
                      int64_t c, bool reduction, bool reduction_prev)
{
    Lower *L = &b->lw;
    Arena *ar = L->g->arena;
    int nstate = 2 + cfg->steps;
    ValueId *states = arena_calloc(ar, (size_t)nstate, sizeof *states);
    const char *p0 = arena_printf(ar, "cells.%d.preprocess0", idx);
    states[0] = reduction_prev ? b_factorized_reduce(L, fe_lw_relu(L, s0), p0, c)
                               : search_lw_relu_conv_bn(L, s0, p0, c);
    states[1] = search_lw_relu_conv_bn(L, s1, arena_printf(ar, "cells.%d.preprocess1", idx), c);
    ValueId weights = b->weights[reduction ? 1 : 0];
    int edge = 0;
    for (int i = 0; i < cfg->steps; i++) {
        ValueId sum = 0;
        for (int j = 0; j < 2 + i; j++, edge++) {
            int stride = reduction && j < 2 ? 2 : 1;
            ValueId h = b_mixed(L, states[j], stride, weights, edge,
                                arena_printf(ar, "cells.%d._ops.%d", idx, edge));
            sum = search_lw_add(L, sum, h);
        }
        states[2 + i] = sum;
        if (sum)
            ir_value_set_name(L->g, sum, arena_printf(ar, "cells.%d.node%d", idx, 2 + i));
    }
    ValueId out = fe_lw_node(L, OP_CONCAT, states + nstate - cfg->multiplier,
                         (uint32_t)cfg->multiplier, NULL);
    if (out)
        ir_value_set_name(L->g, out, arena_printf(ar, "cells.%d", idx));
    return out;
}

static bool is_reduction(const DartsSearchConfig *cfg, int i)
{
    return i == cfg->layers / 3 || i == 2 * cfg->layers / 3;
}

static bool config_ok(const DartsSearchConfig *cfg, Diag *d)
{
    if (cfg->C < 2 || cfg->C > 4096 || cfg->C % 2 || cfg->layers < 1 || cfg->layers > 1000 ||
        cfg->steps < 1 || cfg->steps > 64 || cfg->multiplier < 1 ||
        cfg->multiplier > cfg->steps || cfg->stem_multiplier < 1 ||
        cfg->stem_multiplier > 64 || cfg->classes < 1 || cfg->classes > 1000000 ||
        cfg->in_ch < 1 || cfg->in_ch > 4096 || cfg->h < 1 || cfg->w < 1 || cfg->h > 16384 ||
        cfg->w > 16384 || cfg->batch < 1 || cfg->batch > 65536) {
        diag_error(d, (Loc){0}, "DARTS search config out of range: C=%d (even) layers=%d "
                   "steps=%d multiplier=%d (1..steps) stem_multiplier=%d classes=%d "
                   "input=%dx%dx%d batch=%d", cfg->C, cfg->layers, cfg->steps, cfg->multiplier,
                   cfg->stem_multiplier, cfg->classes, cfg->in_ch, cfg->h, cfg->w, cfg->batch);
        return false;
    }
    /* Each reduction halves the map with a FactorizedReduce, whose two
     * halves only agree in size on an even input. */
    int nred = 0;
    for (int i = 0; i < cfg->layers; i++)
        nred += is_reduction(cfg, i);
    int64_t div = (int64_t)1 << nred;
    if (cfg->h % div || cfg->w % div) {
        diag_error(d, (Loc){0}, "DARTS search input %dx%d: %d reduction cells need height and "
                   "width divisible by %lld", cfg->h, cfg->w, nred, (long long)div);
        return false;
    }
    return true;
}

/* Adds alphas_<kind> [edges, 8] with 1e-3 * N(0,1) data and its softmax. */
static ValueId b_alphas(Lower *L, const DartsSearchConfig *cfg, const char *name, uint64_t seed,
                        ValueId *alpha)
{
    int64_t dims[2] = {darts_search_edges(cfg->steps), DARTS_NUM_OPS};
    *alpha = fe_lw_param(L, shape_make(2, dims), name);
    Value *v = &L->g->vals[*alpha];
    v->data = arena_calloc(L->g->arena, (size_t)(dims[0] * dims[1]), sizeof(float));
    search_init_normal(v->data, dims[0] * dims[1], 1e-3f, seed, name);
    ValueId w = fe_lw_node(L, OP_SOFTMAX, alpha, 1, NULL);
    if (w)
        ir_value_set_name(L->g, w, arena_printf(L->g->arena, "%s.softmax", name));
    return w;
}

/* AdaptiveAvgPool2d(1) and Linear(C_prev, classes). */
static ValueId b_head(Lower *L, const DartsSearchConfig *cfg, ValueId s1)
{
    ValueId pooled = fe_lw_node(L, OP_GAVGPOOL, &s1, 1, NULL);
    if (pooled)
        ir_value_set_name(L->g, pooled, "global_pooling");
    int64_t wd[2] = {cfg->classes, fe_lw_channels(L, s1)};
    ValueId in[3] = {pooled, fe_lw_param(L, shape_make(2, wd), "classifier.weight"),
                     fe_lw_param(L, shape_make(1, wd), "classifier.bias")};
    ValueId out = fe_lw_node(L, OP_LINEAR, in, 3, NULL);
    if (out)
        ir_value_set_name(L->g, out, "classifier");
    return out;
}

bool darts_supernet_build(Arena *a, const DartsSearchConfig *cfg, uint64_t seed, SuperNet *out,
                          Diag *d)
{
    memset(out, 0, sizeof *out);
    if (!config_ok(cfg, d))
        return false;
    Build b = {.lw = {.g = ir_graph_new(a, "darts_search"), .d = d}};
    Lower *L = &b.lw;
    ValueId x = ir_graph_add_input(L->g, shape4(cfg->batch, cfg->in_ch, cfg->h, cfg->w), "input");
    ValueId *arch = arena_calloc(a, 2, sizeof *arch);
    b.weights[0] = b_alphas(L, cfg, "alphas_normal", seed, &arch[0]);
    b.weights[1] = b_alphas(L, cfg, "alphas_reduce", seed, &arch[1]);

    int64_t c_curr = (int64_t)cfg->stem_multiplier * cfg->C;
    ValueId h = fe_lw_conv_sq(L, x, "stem.0", c_curr, 3, 1, 1, 1, false);
    ValueId s0 = fe_lw_batchnorm(L, h, "stem.1"), s1 = s0;
    if (s0)
        ir_value_set_name(L->g, s0, "stem");
    c_curr = cfg->C;
    bool reduction_prev = false;
    for (int i = 0; i < cfg->layers && !L->failed; i++) {
        bool reduction = is_reduction(cfg, i);
        if (reduction)
            c_curr *= 2;
        ValueId cell = b_cell(&b, cfg, i, s0, s1, c_curr, reduction, reduction_prev);
        reduction_prev = reduction;
        s0 = s1;
        s1 = cell;
    }
    ValueId logits = L->failed ? 0 : b_head(L, cfg, s1);
    if (!logits)
        return false;
    ir_graph_add_output(L->g, logits);
    search_init_weights(L->g, seed);
    out->g = L->g;
    out->narch = 2;
    out->arch = arch;
    return true;
}

/* ---- derivation: Network.genotype() ---- */

/* F.softmax over one row of n, in f32 as torch computes it. */
static void softmax_row(const float *x, int n, float *y)
{
    float m = x[0], sum = 0.0f;
    for (int k = 1; k < n; k++)
        m = x[k] > m ? x[k] : m;
    for (int k = 0; k < n; k++) {
        y[k] = expf(x[k] - m);
        sum += y[k];
    }
    for (int k = 0; k < n; k++)
        y[k] /= sum;
}

/* The strongest non-'none' op of a weight row (first on ties, as the
 * reference's strict `>`). */
static int best_op(const float *w)
{
    int best = -1;
    for (int k = 0; k < DARTS_NUM_OPS; k++)
        if (k != PRIM_NONE && (best < 0 || w[k] > w[best]))
            best = k;
    return best;
}

/* How strongly edge e is kept: its largest non-'none' weight. */
static float edge_strength(const float *weights, int e)
{
    const float *w = weights + (size_t)e * DARTS_NUM_OPS;
    return w[best_op(w)];
}

/* _parse(weights): weights is [edges, 8] softmaxed. For each node, the
 * reference sorts its inputs by -edge_strength with Python's stable sort
 * and keeps two: the strongest first, ties to the lower input. */
static void parse_cell(const float *weights, int steps, int multiplier, Arena *a, GenoCell *cell)
{
    cell->nedge = 2 * steps;
    cell->edges = arena_calloc(a, (size_t)cell->nedge, sizeof *cell->edges);
    int start = 0;
    for (int i = 0; i < steps; i++) {
        int ninput = 2 + i, first = -1;
        for (int r = 0; r < 2; r++) {
            int pick = -1; /* strict > keeps the lower input on ties */
            for (int j = 0; j < ninput; j++)
                if (j != first && (pick < 0 || edge_strength(weights, start + j) >
                                                   edge_strength(weights, start + pick)))
                    pick = j;
            GenoEdge *e = &cell->edges[2 * i + r];
            e->op = darts_primitives[best_op(weights + (size_t)(start + pick) * DARTS_NUM_OPS)];
            e->input = pick;
            first = pick;
        }
        start += ninput;
    }
    cell->nconcat = multiplier;
    cell->concat = arena_calloc(a, (size_t)multiplier, sizeof *cell->concat);
    cell->concat_loc = arena_calloc(a, (size_t)multiplier, sizeof *cell->concat_loc);
    for (int i = 0; i < multiplier; i++)
        cell->concat[i] = 2 + steps - multiplier + i;
}

/* Softmax of every row of alphas [edges, 8] into arena memory; NULL after
 * reporting a non-finite alpha. */
static float *softmax_rows(const float *alphas, int edges, const char *name, Arena *a, Diag *d)
{
    for (int i = 0; i < edges * DARTS_NUM_OPS; i++) {
        if (!isfinite(alphas[i])) {
            diag_error(d, (Loc){0}, "%s[%d][%d] is not finite (%g): the search diverged",
                       name, i / DARTS_NUM_OPS, i % DARTS_NUM_OPS, (double)alphas[i]);
            return NULL;
        }
    }
    float *w = arena_calloc(a, (size_t)edges * DARTS_NUM_OPS, sizeof *w);
    for (int e = 0; e < edges; e++)
        softmax_row(alphas + e * DARTS_NUM_OPS, DARTS_NUM_OPS, w + e * DARTS_NUM_OPS);
    return w;
}

bool darts_derive(const float *alphas_normal, const float *alphas_reduce, int steps,
                  int multiplier, Arena *a, Genotype *out, Diag *d)
{
    memset(out, 0, sizeof *out);
    if (steps < 1 || steps > 64 || multiplier < 1 || multiplier > steps) {
        diag_error(d, (Loc){0}, "darts_derive: steps=%d, multiplier=%d (need 1 <= multiplier "
                   "<= steps <= 64)", steps, multiplier);
        return false;
    }
    int edges = darts_search_edges(steps);
    float *wn = softmax_rows(alphas_normal, edges, "alphas_normal", a, d);
    float *wr = wn ? softmax_rows(alphas_reduce, edges, "alphas_reduce", a, d) : NULL;
    if (!wr)
        return false;
    parse_cell(wn, steps, multiplier, a, &out->normal);
    parse_cell(wr, steps, multiplier, a, &out->reduce);
    return true;
}
