/* lower_common.c — the operations.py modules as IR builders, shared by the
 * DARTS and Auto-DeepLab lowerings (lower_internal.h has the contract).
 *
 * Params are added right before the node that reads them, in the module's
 * own order (weight, then bias; BN mean, var, gamma, beta), so the printed
 * IR reads like the PyTorch forward pass.
 */
#include "frontend/lower_internal.h"

ValueId fe_lw_param(Lower *L, Shape s, const char *name)
{
    return ir_graph_add_param(L->g, s, name, L->loc);
}

ValueId fe_lw_node(Lower *L, Op op, const ValueId *in, uint32_t nin, const Attrs *a)
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

int64_t fe_lw_channels(const Lower *L, ValueId x)
{
    return x ? L->g->vals[x].shape.d[1] : 1;
}

void fe_lw_name(Lower *L, ValueId v, const char *name)
{
    if (v)
        ir_value_set_name(L->g, v, name);
}

ValueId fe_lw_relu(Lower *L, ValueId x)
{
    return fe_lw_node(L, OP_RELU, &x, 1, NULL);
}

/* The conv node of both conv builders: weight [oc, C_in/groups, kh, kw]. */
static ValueId conv_node(Lower *L, ValueId x, const char *prefix, int64_t oc, int kh, int kw,
                         const Attrs *a, bool bias)
{
    if (!x || L->failed)
        return 0;
    Arena *ar = L->g->arena;
    int64_t ic = fe_lw_channels(L, x) / a->conv.groups;
    ValueId in[3] = {x, fe_lw_param(L, shape4(oc, ic, kh, kw),
                                     arena_printf(ar, "%s.weight", prefix)), 0};
    if (bias)
        in[2] = fe_lw_param(L, shape_make(1, &oc), arena_printf(ar, "%s.bias", prefix));
    return fe_lw_node(L, OP_CONV2D, in, bias ? 3 : 2, a);
}

ValueId fe_lw_conv(Lower *L, ValueId x, const char *prefix, int64_t oc, int kh, int kw, int sh,
                   int sw, int ph, int pw, int dil, int groups)
{
    Attrs a = {.conv = {.stride = {sh, sw}, .pad = {ph, pw, ph, pw},
                        .dilation = {dil, dil}, .groups = groups}};
    return conv_node(L, x, prefix, oc, kh, kw, &a, false);
}

ValueId fe_lw_conv_sq(Lower *L, ValueId x, const char *prefix, int64_t oc, int k, int stride,
                      int pad, int dil, bool bias)
{
    Attrs a = {.conv = {.stride = {stride, stride}, .pad = {pad, pad, pad, pad},
                        .dilation = {dil, dil}, .groups = 1}};
    return conv_node(L, x, prefix, oc, k, k, &a, bias);
}

ValueId fe_lw_batchnorm(Lower *L, ValueId x, const char *prefix)
{
    return fe_lw_batchnorm_eps(L, x, prefix, 1e-5f);
}

ValueId fe_lw_batchnorm_eps(Lower *L, ValueId x, const char *prefix, float eps)
{
    if (!x || L->failed)
        return 0;
    Arena *ar = L->g->arena;
    int64_t c = fe_lw_channels(L, x);
    Shape s = shape_make(1, &c);
    ValueId in[5] = {x, fe_lw_param(L, s, arena_printf(ar, "%s.running_mean", prefix)),
                     fe_lw_param(L, s, arena_printf(ar, "%s.running_var", prefix)),
                     fe_lw_param(L, s, arena_printf(ar, "%s.weight", prefix)),
                     fe_lw_param(L, s, arena_printf(ar, "%s.bias", prefix))};
    Attrs a = {.bn = {eps}};
    return fe_lw_node(L, OP_BATCHNORM, in, 5, &a);
}

ValueId fe_lw_abn(Lower *L, ValueId x, const char *prefix, float eps)
{
    Attrs a = {.leaky = {FE_ABN_SLOPE}};
    ValueId h = fe_lw_batchnorm_eps(L, x, prefix, eps);
    return fe_lw_node(L, OP_LEAKY_RELU, &h, 1, &a);
}

ValueId fe_lw_conv_abn(Lower *L, ValueId x, const char *prefix, int64_t oc)
{
    Arena *ar = L->g->arena;
    ValueId h = fe_lw_conv(L, x, arena_printf(ar, "%s.op.0", prefix), oc, 1, 1, 1, 1, 0, 0, 1,
                           1);
    return fe_lw_abn(L, h, arena_printf(ar, "%s.op.1", prefix), FE_ABN_EPS);
}

ValueId fe_lw_pool(Lower *L, Op op, ValueId x, int k, int stride, int pad)
{
    Attrs a = {.pool = {{k, k}, {stride, stride}, {pad, pad, pad, pad}, 0}};
    return fe_lw_node(L, op, &x, 1, &a);
}

ValueId fe_lw_relu_conv_bn(Lower *L, ValueId x, const char *prefix, int64_t oc)
{
    Arena *ar = L->g->arena;
    ValueId h = fe_lw_conv(L, fe_lw_relu(L, x), arena_printf(ar, "%s.op.1", prefix), oc, 1, 1,
                           1, 1, 0, 0, 1, 1);
    return fe_lw_batchnorm(L, h, arena_printf(ar, "%s.op.2", prefix));
}

ValueId fe_lw_factorized_reduce(Lower *L, ValueId x, const char *prefix, int64_t oc)
{
    Arena *ar = L->g->arena;
    ValueId r = fe_lw_relu(L, x);
    Attrs crop = {.crop = {1, 1}};
    ValueId shifted = fe_lw_node(L, OP_CROP, &r, 1, &crop);
    ValueId halves[2] = {
        fe_lw_conv(L, r, arena_printf(ar, "%s.conv_1", prefix), oc / 2, 1, 1, 2, 2, 0, 0, 1, 1),
        fe_lw_conv(L, shifted, arena_printf(ar, "%s.conv_2", prefix), oc / 2, 1, 1, 2, 2, 0, 0,
                   1, 1)};
    ValueId cat = fe_lw_node(L, OP_CONCAT, halves, 2, NULL);
    return fe_lw_batchnorm(L, cat, arena_printf(ar, "%s.bn", prefix));
}

/* SepConv (two ReLU-dw-pw-BN stages, only the first strided) or, with
 * stages == 1, DilConv. Module indices: op.0 relu, op.1 dw, op.2 pw, op.3
 * BN, then op.4..op.7 for the second stage. */
static ValueId sep_or_dil(Lower *L, ValueId x, const char *prefix, const DartsOp *o, int stride,
                          int stages)
{
    Arena *ar = L->g->arena;
    int64_t c = fe_lw_channels(L, x);
    ValueId h = x;
    for (int s = 0; s < stages; s++) {
        int base = 4 * s, k = o->kernel;
        h = fe_lw_relu(L, h);
        h = fe_lw_conv(L, h, arena_printf(ar, "%s.op.%d", prefix, base + 1), c, k, k,
                       s ? 1 : stride, s ? 1 : stride, o->pad, o->pad, o->dilation, (int)c);
        h = fe_lw_conv(L, h, arena_printf(ar, "%s.op.%d", prefix, base + 2), c, 1, 1, 1, 1, 0,
                       0, 1, 1);
        h = fe_lw_batchnorm(L, h, arena_printf(ar, "%s.op.%d", prefix, base + 3));
    }
    return h;
}

ValueId fe_lw_edge_abn(Lower *L, ValueId x, const DartsOp *o, const char *prefix)
{
    Arena *ar = L->g->arena;
    int64_t c = fe_lw_channels(L, x);
    int k = o->kernel;
    switch (o->kind) {
    case DK_DILCONV: { /* Sequential(dw dilated, pw, ABN) */
        ValueId h = fe_lw_conv(L, x, arena_printf(ar, "%s.op.0", prefix), c, k, k, 1, 1, o->pad,
                               o->pad, o->dilation, (int)c);
        h = fe_lw_conv(L, h, arena_printf(ar, "%s.op.1", prefix), c, 1, 1, 1, 1, 0, 0, 1, 1);
        return fe_lw_abn(L, h, arena_printf(ar, "%s.op.2", prefix), FE_ABN_EPS);
    }
    case DK_ATROUS: { /* nasc's own: Sequential(dense rate-2 conv, ABN) */
        ValueId h = fe_lw_conv_sq(L, x, arena_printf(ar, "%s.op.0", prefix), c, k, 1, o->pad,
                                  o->dilation, false);
        return fe_lw_abn(L, h, arena_printf(ar, "%s.op.1", prefix), FE_ABN_EPS);
    }
    default: /* no norm (pools, skip, none) or, for SepConv, not given use_ABN */
        return fe_lw_edge(L, x, o, 1, prefix);
    }
}

ValueId fe_lw_edge(Lower *L, ValueId x, const DartsOp *o, int stride, const char *prefix)
{
    Arena *ar = L->g->arena;
    int64_t c = fe_lw_channels(L, x);
    switch (o->kind) { /* primitives, not IR ops: the IR stays table-driven */
    case DK_NONE: {
        Attrs a = {.zero = {stride}};
        return fe_lw_node(L, OP_ZERO, &x, 1, &a);
    }
    case DK_MAXPOOL:
        return fe_lw_pool(L, OP_MAXPOOL2D, x, 3, stride, 1);
    case DK_AVGPOOL:
        return fe_lw_pool(L, OP_AVGPOOL2D, x, 3, stride, 1);
    case DK_SKIP:
        return stride == 1 ? x : fe_lw_factorized_reduce(L, x, prefix, c);
    case DK_SEPCONV:
        return sep_or_dil(L, x, prefix, o, stride, 2);
    case DK_DILCONV:
        return sep_or_dil(L, x, prefix, o, stride, 1);
    case DK_CONV7x1_1x7: {
        ValueId h = fe_lw_relu(L, x);
        h = fe_lw_conv(L, h, arena_printf(ar, "%s.1", prefix), c, 1, 7, 1, stride, 0, 3, 1, 1);
        h = fe_lw_conv(L, h, arena_printf(ar, "%s.2", prefix), c, 7, 1, stride, 1, 3, 0, 1, 1);
        return fe_lw_batchnorm(L, h, arena_printf(ar, "%s.3", prefix));
    }
    case DK_ATROUS: { /* Sequential(ReLU, dense k x k rate-2 conv, BN) */
        ValueId h = fe_lw_relu(L, x);
        h = fe_lw_conv_sq(L, h, arena_printf(ar, "%s.op.1", prefix), c, o->kernel, stride,
                          o->pad, o->dilation, false);
        return fe_lw_batchnorm(L, h, arena_printf(ar, "%s.op.2", prefix));
    }
    }
    NASC_ASSERT(!"unknown primitive kind");
    return 0;
}

int64_t fe_lw_scale_dim(int64_t d, bool up)
{
    if (up)
        return d % 2 ? 2 * d - 1 : 2 * d;
    return d % 2 ? (d - 1) / 2 + 1 : d / 2;
}

ValueId fe_lw_resize(Lower *L, ValueId x, int64_t h, int64_t w)
{
    if (!x || L->failed)
        return 0;
    const Shape *s = &L->g->vals[x].shape;
    if (s->d[2] == h && s->d[3] == w)
        return x;
    Attrs a = {.resize = {{(int)h, (int)w}, 1}};
    return fe_lw_node(L, OP_RESIZE_BILINEAR, &x, 1, &a);
}
