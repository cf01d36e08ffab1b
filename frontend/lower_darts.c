/* lower_darts.c — a DARTS genotype and macro config into an IR graph.
 *
 * Mirrors quark0/darts cnn/model.py (NetworkCIFAR, NetworkImageNet, Cell)
 * and cnn/operations.py in eval mode, op by op, so that every param value
 * carries exactly the state_dict key the PyTorch model gives it and every
 * cell output carries a trace key ("stem", "cells.3", ...). Nodes built for
 * a genotype edge are located at that edge in the genotype file, so a shape
 * error points at the op that caused it.
 */
#include "frontend.h"

#include <ctype.h>
#include <string.h>

typedef struct Lower {
    Graph *g;
    Diag *d;
    Loc loc;     /* where nodes being built come from */
    bool failed; /* a node could not be built; stop quietly, d has why */
} Lower;

static ValueId param(Lower *L, Shape s, const char *name)
{
    return ir_graph_add_param(L->g, s, name, L->loc);
}

static ValueId node(Lower *L, Op op, const ValueId *in, uint32_t nin, const Attrs *a)
{
    if (L->failed)
        return 0;
    for (uint32_t i = 0; i < nin; i++)
        if (!in[i])
            return 0;
    ValueId v = ir_graph_add_node(L->g, op, in, nin, a, L->loc, L->d);
    L->failed = v == 0;
    return v;
}

static int64_t channels(Lower *L, ValueId x)
{
    return x ? L->g->vals[x].shape.d[1] : 1;
}

static ValueId relu(Lower *L, ValueId x)
{
    return node(L, OP_RELU, &x, 1, NULL);
}

/* nn.Conv2d(C_in, oc, (kh, kw), stride=(sh, sw), padding=(ph, pw),
 * dilation=dil, groups, bias=False); weight at "<prefix>.weight". */
static ValueId conv(Lower *L, ValueId x, const char *prefix, int64_t oc, int kh, int kw, int sh,
                    int sw, int ph, int pw, int dil, int groups)
{
    if (!x || L->failed)
        return 0;
    Attrs a = {.conv = {{sh, sw}, {ph, pw, ph, pw}, {dil, dil}, groups}};
    int64_t ic = channels(L, x) / groups;
    ValueId w = param(L, shape4(oc, ic, kh, kw), arena_printf(L->g->arena, "%s.weight", prefix));
    ValueId in[2] = {x, w};
    return node(L, OP_CONV2D, in, 2, &a);
}

/* nn.BatchNorm2d(C, affine=True), eval mode, eps 1e-5. */
static ValueId batchnorm(Lower *L, ValueId x, const char *prefix)
{
    if (!x || L->failed)
        return 0;
    Arena *ar = L->g->arena;
    int64_t c = channels(L, x);
    Shape s = shape_make(1, &c);
    ValueId in[5] = {x, param(L, s, arena_printf(ar, "%s.running_mean", prefix)),
                     param(L, s, arena_printf(ar, "%s.running_var", prefix)),
                     param(L, s, arena_printf(ar, "%s.weight", prefix)),
                     param(L, s, arena_printf(ar, "%s.bias", prefix))};
    Attrs a = {.bn = {1e-5f}};
    return node(L, OP_BATCHNORM, in, 5, &a);
}

static ValueId pool(Lower *L, Op op, ValueId x, int k, int stride, int pad)
{
    Attrs a = {.pool = {{k, k}, {stride, stride}, {pad, pad, pad, pad}, 0}};
    return node(L, op, &x, 1, &a);
}

/* ReLUConvBN(C_in, C_out, 1, 1, 0): op.0 ReLU, op.1 conv, op.2 BN. */
static ValueId relu_conv_bn(Lower *L, ValueId x, const char *prefix, int64_t oc)
{
    Arena *ar = L->g->arena;
    ValueId h = conv(L, relu(L, x), arena_printf(ar, "%s.op.1", prefix), oc, 1, 1, 1, 1, 0, 0,
                     1, 1);
    return batchnorm(L, h, arena_printf(ar, "%s.op.2", prefix));
}

/* FactorizedReduce: relu; cat(conv_1(x), conv_2(x[:, :, 1:, 1:])); bn. */
static ValueId factorized_reduce(Lower *L, ValueId x, const char *prefix, int64_t oc)
{
    Arena *ar = L->g->arena;
    ValueId r = relu(L, x);
    Attrs crop = {.crop = {1, 1}};
    ValueId shifted = node(L, OP_CROP, &r, 1, &crop);
    ValueId halves[2] = {
        conv(L, r, arena_printf(ar, "%s.conv_1", prefix), oc / 2, 1, 1, 2, 2, 0, 0, 1, 1),
        conv(L, shifted, arena_printf(ar, "%s.conv_2", prefix), oc / 2, 1, 1, 2, 2, 0, 0, 1, 1)};
    ValueId cat = node(L, OP_CONCAT, halves, 2, NULL);
    return batchnorm(L, cat, arena_printf(ar, "%s.bn", prefix));
}

/* SepConv (two ReLU-dw-pw-BN stages, only the first strided) or, with
 * stages == 1, DilConv. Module indices: op.0 relu, op.1 dw, op.2 pw, op.3
 * BN, then op.4..op.7 for the second stage. */
static ValueId sep_or_dil(Lower *L, ValueId x, const char *prefix, const DartsOp *o, int stride,
                          int stages)
{
    Arena *ar = L->g->arena;
    int64_t c = channels(L, x);
    ValueId h = x;
    for (int s = 0; s < stages; s++) {
        int base = 4 * s, k = o->kernel;
        h = relu(L, h);
        h = conv(L, h, arena_printf(ar, "%s.op.%d", prefix, base + 1), c, k, k, s ? 1 : stride,
                 s ? 1 : stride, o->pad, o->pad, o->dilation, (int)c);
        h = conv(L, h, arena_printf(ar, "%s.op.%d", prefix, base + 2), c, 1, 1, 1, 1, 0, 0, 1, 1);
        h = batchnorm(L, h, arena_printf(ar, "%s.op.%d", prefix, base + 3));
    }
    return h;
}

/* One genotype edge: OPS[name](C, stride, affine=True) applied to x. */
static ValueId lower_edge(Lower *L, ValueId x, const DartsOp *o, int stride, const char *prefix)
{
    Arena *ar = L->g->arena;
    int64_t c = channels(L, x);
    switch (o->kind) { /* DARTS primitives, not IR ops: the IR stays table-driven */
    case DK_NONE: {
        Attrs a = {.zero = {stride}};
        return node(L, OP_ZERO, &x, 1, &a);
    }
    case DK_MAXPOOL:
        return pool(L, OP_MAXPOOL2D, x, 3, stride, 1);
    case DK_AVGPOOL:
        return pool(L, OP_AVGPOOL2D, x, 3, stride, 1);
    case DK_SKIP:
        return stride == 1 ? x : factorized_reduce(L, x, prefix, c);
    case DK_SEPCONV:
        return sep_or_dil(L, x, prefix, o, stride, 2);
    case DK_DILCONV:
        return sep_or_dil(L, x, prefix, o, stride, 1);
    case DK_CONV7x1_1x7: {
        ValueId h = relu(L, x);
        h = conv(L, h, arena_printf(ar, "%s.1", prefix), c, 1, 7, 1, stride, 0, 3, 1, 1);
        h = conv(L, h, arena_printf(ar, "%s.2", prefix), c, 7, 1, stride, 1, 3, 0, 1, 1);
        return batchnorm(L, h, arena_printf(ar, "%s.3", prefix));
    }
    }
    NASC_ASSERT(!"unknown DARTS primitive kind");
    return 0;
}

/* Cell(genotype, C_prev_prev, C_prev, C, reduction, reduction_prev). */
static ValueId lower_cell(Lower *L, const GenoCell *cell, int idx, ValueId s0, ValueId s1,
                          int64_t c, bool reduction, bool reduction_prev)
{
    Arena *ar = L->g->arena;
    int nstate = 2 + cell->nedge / 2;
    ValueId *states = arena_calloc(ar, (size_t)nstate, sizeof *states);
    L->loc = cell->loc;
    const char *p0 = arena_printf(ar, "cells.%d.preprocess0", idx);
    states[0] = reduction_prev ? factorized_reduce(L, s0, p0, c) : relu_conv_bn(L, s0, p0, c);
    states[1] = relu_conv_bn(L, s1, arena_printf(ar, "cells.%d.preprocess1", idx), c);
    for (int k = 0; k < cell->nedge; k++) {
        const GenoEdge *e = &cell->edges[k];
        int stride = reduction && e->input < 2 ? 2 : 1;
        L->loc = e->loc;
        ValueId h = lower_edge(L, states[e->input], fe_darts_op(e->op), stride,
                               arena_printf(ar, "cells.%d._ops.%d", idx, k));
        if (k % 2 == 0) {
            states[2 + k / 2] = h;
            continue;
        }
        ValueId sum[2] = {states[2 + k / 2], h};
        states[2 + k / 2] = node(L, OP_ADD, sum, 2, NULL);
        if (states[2 + k / 2])
            ir_value_set_name(L->g, states[2 + k / 2],
                              arena_printf(ar, "cells.%d.node%d", idx, 2 + k / 2));
    }
    ValueId *cat = arena_calloc(ar, (size_t)cell->nconcat, sizeof *cat);
    for (int i = 0; i < cell->nconcat; i++)
        cat[i] = states[cell->concat[i]];
    L->loc = cell->loc;
    ValueId out = node(L, OP_CONCAT, cat, (uint32_t)cell->nconcat, NULL);
    if (out)
        ir_value_set_name(L->g, out, arena_printf(ar, "cells.%d", idx));
    return out;
}

/* The stems: s0 and s1 feed cell 0. */
static void lower_stem(Lower *L, const NetConfig *cfg, ValueId x, ValueId *s0, ValueId *s1)
{
    int64_t C = cfg->C;
    if (cfg->kind == NET_CIFAR) {
        ValueId h = conv(L, x, "stem.0", 3 * C, 3, 3, 1, 1, 1, 1, 1, 1);
        *s0 = *s1 = batchnorm(L, h, "stem.1");
    } else {
        ValueId h = conv(L, x, "stem0.0", C / 2, 3, 3, 2, 2, 1, 1, 1, 1);
        h = relu(L, batchnorm(L, h, "stem0.1"));
        h = conv(L, h, "stem0.3", C, 3, 3, 2, 2, 1, 1, 1, 1);
        *s0 = batchnorm(L, h, "stem0.4");
        h = conv(L, relu(L, *s0), "stem1.1", C, 3, 3, 2, 2, 1, 1, 1, 1);
        *s1 = batchnorm(L, h, "stem1.2");
        if (*s1)
            ir_value_set_name(L->g, *s1, "stem1");
    }
    if (*s0)
        ir_value_set_name(L->g, *s0, cfg->kind == NET_CIFAR ? "stem" : "stem0");
}

/* Global pooling and classifier: AdaptiveAvgPool2d(1) for CIFAR,
 * AvgPool2d(7) for ImageNet (which needs a 7..13 pixel final map). */
static ValueId lower_head(Lower *L, const NetConfig *cfg, ValueId s1)
{
    ValueId pooled;
    if (cfg->kind == NET_CIFAR) {
        pooled = node(L, OP_GAVGPOOL, &s1, 1, NULL);
    } else {
        const Shape *s = &L->g->vals[s1].shape;
        if (!L->failed && (s->d[2] < 7 || s->d[2] > 13 || s->d[3] < 7 || s->d[3] > 13)) {
            diag_error(L->d, L->loc, "NetworkImageNet ends with AvgPool2d(7), which needs a "
                       "final feature map of 7x7 to 13x13, but input %dx%d gives %lldx%lld "
                       "(use --input 224x224)", cfg->in_h, cfg->in_w, (long long)s->d[2],
                       (long long)s->d[3]);
            L->failed = true;
            return 0;
        }
        pooled = pool(L, OP_AVGPOOL2D, s1, 7, 7, 0);
    }
    if (pooled)
        ir_value_set_name(L->g, pooled, "global_pooling");
    int64_t wd[2] = {cfg->classes, channels(L, s1)};
    ValueId in[3] = {pooled, param(L, shape_make(2, wd), "classifier.weight"),
                     param(L, shape_make(1, wd), "classifier.bias")};
    ValueId out = node(L, OP_LINEAR, in, 3, NULL);
    if (out)
        ir_value_set_name(L->g, out, "classifier");
    return out;
}

void fe_netconfig_default(NetConfig *c, NetKind k)
{
    memset(c, 0, sizeof *c);
    c->kind = k;
    c->C = k == NET_CIFAR ? 36 : 48;
    c->layers = k == NET_CIFAR ? 20 : 14;
    c->classes = k == NET_CIFAR ? 10 : 1000;
    c->in_h = c->in_w = k == NET_CIFAR ? 32 : 224;
}

static bool config_ok(const NetConfig *cfg, Loc at, Diag *d)
{
    if (cfg->C < 1 || cfg->C > 4096 || cfg->layers < 1 || cfg->layers > 1000 ||
        cfg->classes < 1 || cfg->classes > 1000000 || cfg->in_h < 1 || cfg->in_w < 1 ||
        cfg->in_h > 16384 || cfg->in_w > 16384) {
        diag_error(d, at, "network config out of range: C=%d layers=%d classes=%d input=%dx%d",
                   cfg->C, cfg->layers, cfg->classes, cfg->in_h, cfg->in_w);
        return false;
    }
    if (cfg->C % 2 || (cfg->kind == NET_IMAGENET && cfg->C % 4)) {
        diag_error(d, at, "C=%d must be even (FactorizedReduce halves it)%s", cfg->C,
                   cfg->kind == NET_IMAGENET ? ", and a multiple of 4 for ImageNet" : "");
        return false;
    }
    return true;
}

static const char *graph_name(Arena *a, const Genotype *geno, const NetConfig *cfg)
{
    char *name = arena_printf(a, "%s_%s", geno->name ? geno->name : "genotype",
                              cfg->kind == NET_CIFAR ? "cifar" : "imagenet");
    for (char *p = name; *p; p++)
        *p = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '_';
    return name;
}

Graph *fe_lower_darts(Arena *a, const Genotype *geno, const NetConfig *cfg, Diag *d)
{
    if (!fe_genotype_check(geno, d) || !config_ok(cfg, geno->loc, d))
        return NULL;
    Lower L = {ir_graph_new(a, graph_name(a, geno, cfg)), d, geno->loc, false};
    ValueId x = ir_graph_add_input(L.g, shape4(1, 3, cfg->in_h, cfg->in_w), "input");
    ValueId s0, s1;
    int64_t c_curr = cfg->C;
    lower_stem(&L, cfg, x, &s0, &s1);
    bool reduction_prev = cfg->kind == NET_IMAGENET;
    for (int i = 0; i < cfg->layers && !L.failed; i++) {
        bool reduction = i == cfg->layers / 3 || i == 2 * cfg->layers / 3;
        if (reduction)
            c_curr *= 2;
        const GenoCell *cell = reduction ? &geno->reduce : &geno->normal;
        ValueId out = lower_cell(&L, cell, i, s0, s1, c_curr, reduction, reduction_prev);
        reduction_prev = reduction;
        s0 = s1;
        s1 = out;
    }
    L.loc = geno->loc;
    ValueId out = L.failed ? 0 : lower_head(&L, cfg, s1);
    if (!out)
        return NULL;
    ir_graph_add_output(L.g, out);
    return L.g;
}
