/* lower_autodeeplab.c — an Auto-DeepLab architecture into an IR graph.
 *
 * Mirrors the eval-mode retrain network of NoamRosenberg/autodeeplab
 * (build_autodeeplab.py Retrain_Autodeeplab: new_model.py newModel and
 * Cell, aspp.py ASPP, decoder.py Decoder, operations.py) with the decisions
 * of docs/autodeeplab.md: row k's op on row k's edge, the decoder fed by
 * ASPP and cell 2's real channel count, TF's dense atrous convs. Every param
 * carries its Retrain_Autodeeplab state_dict key ("encoder.cells.3._ops.7.
 * op.1.weight"), every stage output a trace key ("encoder.stem0",
 * "encoder.cells.3", "aspp", "decoder", "output"). Nodes of a cell row are
 * located at that row, the rest of a cell at its path entry.
 *
 * With bn "abn" (use_ABN) the port swaps NaiveBN for InPlaceABNSync in the
 * stems, ASPP, ReLUConvBN, DilConv and our atrous ops, but not in SepConv
 * (OPS does not pass use_ABN on) nor in the decoder (built without a norm
 * argument): docs/autodeeplab.md, "ABN variant".
 */
#include "frontend/lower_internal.h"

#include <ctype.h>

enum { ADL_ASPP_DEPTH = 256, ADL_LOW_CHANNELS = 48, ADL_STEM_FM = 128 };

/* aspp.py builds its norms as norm(depth, momentum) with momentum = 0.0003:
 * NaiveBN(C, momentum) ignores it, but ABN's second parameter is eps. */
#define ADL_ASPP_ABN_EPS 3e-4f

static int64_t dim(const Lower *L, ValueId x, int axis)
{
    return x ? L->g->vals[x].shape.d[axis] : 1;
}

/* NaiveBN(C): Sequential(BatchNorm2d, ReLU) at "<prefix>.op.0". */
static ValueId naive_bn(Lower *L, ValueId x, const char *prefix)
{
    return fe_lw_relu(L, fe_lw_batchnorm(L, x, arena_printf(L->g->arena, "%s.op.0", prefix)));
}

/* The BatchNorm2d of new_model.py and aspp.py: NaiveBN, or with use_ABN an
 * ABN whose tensors sit at "<prefix>" itself (eps as the caller built it). */
static ValueId norm(Lower *L, const AdlArch *arch, ValueId x, const char *prefix, float abn_eps)
{
    if (arch->bn == ADL_BN_ABN)
        return fe_lw_abn(L, x, prefix, abn_eps);
    return naive_bn(L, x, prefix);
}

/* conv ("<prefix>.0", with bias) then the norm ("<prefix>.1"). */
static ValueId stem_stage(Lower *L, const AdlArch *arch, ValueId x, const char *prefix,
                          int64_t oc, int stride)
{
    Arena *ar = L->g->arena;
    ValueId h = fe_lw_conv_sq(L, x, arena_printf(ar, "%s.0", prefix), oc, 3, stride, 1, 1, true);
    h = norm(L, arch, h, arena_printf(ar, "%s.1", prefix), FE_ABN_EPS);
    fe_lw_name(L, h, prefix);
    return h;
}

static Loc cell_loc(const AdlArch *arch, int i)
{
    return arch->path_loc ? arch->path_loc[i] : arch->loc;
}

/* The params of a ReLUConvBN(c, c, 1, 1, 0) that the forward pass skips:
 * the port builds the module anyway, so checkpoints hold its tensors
 * (conv op.1, BN op.2; with ABN conv op.0, ABN op.1). */
static void unused_relu_conv_bn(Lower *L, const char *prefix, int64_t c, bool abn)
{
    Arena *ar = L->g->arena;
    Shape s = shape_make(1, &c);
    fe_lw_param(L, shape4(c, c, 1, 1), arena_printf(ar, "%s.op.%d.weight", prefix, abn ? 0 : 1));
    static const char *const bn[4] = {"running_mean", "running_var", "weight", "bias"};
    for (int k = 0; k < 4; k++)
        fe_lw_param(L, s, arena_printf(ar, "%s.op.%d.%s", prefix, abn ? 1 : 2, bn[k]));
}

/* ReLUConvBN(C_in, c, 1, 1, 0, use_ABN) on x. */
static ValueId preprocess(Lower *L, const AdlArch *arch, ValueId x, const char *prefix,
                          int64_t c)
{
    if (arch->bn == ADL_BN_ABN)
        return fe_lw_conv_abn(L, x, prefix, c);
    return fe_lw_relu_conv_bn(L, x, prefix, c);
}

/* Node n's two rows applied to their edges' states and summed. */
static ValueId lower_node(Lower *L, const AdlArch *arch, int i, int n, const ValueId *states)
{
    Arena *ar = L->g->arena;
    int first = fe_adl_edge_offset(n);
    ValueId sum = 0;
    int found = 0;
    for (int k = 0; k < arch->nrows; k++) {
        const AdlRow *r = &arch->rows[k];
        if (r->edge < first || r->edge >= first + n)
            continue;
        L->loc = r->loc;
        ValueId x = states[r->edge - first];
        const char *prefix = arena_printf(ar, "encoder.cells.%d._ops.%d", i, k);
        ValueId h = arch->bn == ADL_BN_ABN ? fe_lw_edge_abn(L, x, fe_adl_op(r->op), prefix)
                                           : fe_lw_edge(L, x, fe_adl_op(r->op), 1, prefix);
        ValueId in[2] = {sum, h};
        sum = found++ ? fe_lw_node(L, OP_ADD, in, 2, NULL) : h;
    }
    NASC_ASSERT(L->failed || found == 2); /* fe_adl_check: two rows per node */
    fe_lw_name(L, sum, arena_printf(ar, "encoder.cells.%d.node%d", i, n));
    return sum;
}

/* Cell i at level path[i] on (prev_prev, prev); returns the B*C-channel
 * concatenation of its last B nodes. */
static ValueId lower_cell(Lower *L, const AdlArch *arch, int i, ValueId pp, ValueId p)
{
    Arena *ar = L->g->arena;
    int level = arch->path[i], prev_level = i ? arch->path[i - 1] : 0;
    int64_t c = (int64_t)arch->F << level;
    L->loc = cell_loc(arch, i);
    if (level != prev_level) {
        bool up = level < prev_level;
        p = fe_lw_resize(L, p, fe_lw_scale_dim(dim(L, p, 2), up),
                         fe_lw_scale_dim(dim(L, p, 3), up));
    }
    pp = fe_lw_resize(L, pp, dim(L, p, 2), dim(L, p, 3));
    const char *pre = arena_printf(ar, "encoder.cells.%d.pre_preprocess", i);
    ValueId states[2 + ADL_NODES];
    if (fe_lw_channels(L, pp) == c) {
        states[0] = pp;
        unused_relu_conv_bn(L, pre, c, arch->bn == ADL_BN_ABN);
    } else {
        states[0] = preprocess(L, arch, pp, pre, c);
    }
    states[1] = preprocess(L, arch, p, arena_printf(ar, "encoder.cells.%d.preprocess", i), c);
    for (int n = 2; n < 2 + ADL_NODES; n++)
        states[n] = lower_node(L, arch, i, n, states);
    L->loc = cell_loc(arch, i);
    ValueId out = fe_lw_node(L, OP_CONCAT, states + 2 + ADL_NODES - arch->B, (uint32_t)arch->B,
                             NULL);
    fe_lw_name(L, out, arena_printf(ar, "encoder.cells.%d", i));
    return out;
}

/* ASPP(C, 256, norm): four conv branches and the image pool, each with its
 * norm, then conv2 + bn2 over the 1280-channel concatenation. */
static ValueId lower_aspp(Lower *L, const AdlArch *arch, ValueId x)
{
    Arena *ar = L->g->arena;
    ValueId br[5];
    for (int b = 0; b < 4; b++) {
        int rate = b ? arch->aspp_rates[b - 1] : 1;
        br[b] = fe_lw_conv_sq(L, x, arena_printf(ar, "aspp.aspp%d", b + 1), ADL_ASPP_DEPTH,
                              b ? 3 : 1, 1, b ? rate : 0, rate, false);
        br[b] = norm(L, arch, br[b], arena_printf(ar, "aspp.aspp%d_bn", b + 1),
                     ADL_ASPP_ABN_EPS);
    }
    ValueId pooled = fe_lw_node(L, OP_GAVGPOOL, &x, 1, NULL);
    br[4] = fe_lw_conv_sq(L, pooled, "aspp.aspp5", ADL_ASPP_DEPTH, 1, 1, 0, 1, false);
    br[4] = norm(L, arch, br[4], "aspp.aspp5_bn", ADL_ASPP_ABN_EPS);
    br[4] = fe_lw_resize(L, br[4], dim(L, x, 2), dim(L, x, 3));
    ValueId cat = fe_lw_node(L, OP_CONCAT, br, 5, NULL);
    ValueId h = fe_lw_conv_sq(L, cat, "aspp.conv2", ADL_ASPP_DEPTH, 1, 1, 0, 1, false);
    h = norm(L, arch, h, "aspp.bn2", ADL_ASPP_ABN_EPS);
    fe_lw_name(L, h, "aspp");
    return h;
}

/* Decoder: 48-channel projection of cell 2's output, the ASPP output
 * resized to it, last_conv over the 304-channel concatenation. Always
 * NaiveBN: Retrain_Autodeeplab builds it without its norm, ABN or not. */
static ValueId lower_decoder(Lower *L, const AdlArch *arch, ValueId x, ValueId low)
{
    low = fe_lw_conv_sq(L, low, "decoder.conv1", ADL_LOW_CHANNELS, 1, 1, 0, 1, false);
    low = naive_bn(L, low, "decoder.bn1");
    ValueId cat[2] = {fe_lw_resize(L, x, dim(L, low, 2), dim(L, low, 3)), low};
    ValueId h = fe_lw_node(L, OP_CONCAT, cat, 2, NULL);
    h = fe_lw_conv_sq(L, h, "decoder.last_conv.0", ADL_ASPP_DEPTH, 3, 1, 1, 1, false);
    h = naive_bn(L, h, "decoder.last_conv.1"); /* .2 Dropout: identity in eval */
    h = fe_lw_conv_sq(L, h, "decoder.last_conv.3", ADL_ASPP_DEPTH, 3, 1, 1, 1, false);
    h = naive_bn(L, h, "decoder.last_conv.4"); /* .5 Dropout */
    h = fe_lw_conv_sq(L, h, "decoder.last_conv.6", arch->classes, 1, 1, 0, 1, true);
    fe_lw_name(L, h, "decoder");
    return h;
}

static const char *graph_name(Arena *a, const AdlArch *arch)
{
    char *name = arena_strdup(a, arch->name ? arch->name : "autodeeplab");
    for (char *p = name; *p; p++)
        *p = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '_';
    return name;
}

Graph *fe_lower_autodeeplab(Arena *a, const AdlArch *arch, Diag *d)
{
    if (!fe_adl_check(arch, d))
        return NULL;
    Lower L = {ir_graph_new(a, graph_name(a, arch)), d, arch->loc, false};
    int64_t batch = arch->batch > 0 ? arch->batch : 1, in_ch = arch->in_ch > 0 ? arch->in_ch : 3;
    ValueId x = ir_graph_add_input(L.g, shape4(batch, in_ch, arch->in_h, arch->in_w), "input");
    ValueId h = stem_stage(&L, arch, x, "encoder.stem0", ADL_STEM_FM / 2, 2);
    ValueId pp = stem_stage(&L, arch, h, "encoder.stem1", ADL_STEM_FM / 2, 1);
    ValueId p = stem_stage(&L, arch, pp, "encoder.stem2", ADL_STEM_FM, 2);
    ValueId low = 0;
    for (int i = 0; i < arch->nlayers && !L.failed; i++) {
        ValueId out = lower_cell(&L, arch, i, pp, p);
        pp = p; /* the previous input before this cell resized it */
        p = out;
        if (i == 2)
            low = out;
    }
    L.loc = arch->loc;
    h = lower_aspp(&L, arch, p);
    if (arch->decoder) {
        h = lower_decoder(&L, arch, h, low);
    } else { /* DeepLabv3 head: the conv3 that aspp.py leaves commented out */
        h = fe_lw_conv_sq(&L, h, "aspp.conv3", arch->classes, 1, 1, 0, 1, true);
    }
    h = fe_lw_resize(&L, h, arch->in_h, arch->in_w);
    if (L.failed || !h)
        return NULL;
    fe_lw_name(&L, h, "output");
    ir_graph_add_output(L.g, h);
    return L.g;
}
