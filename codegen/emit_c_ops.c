/* emit_c_ops.c — one emitter per row of ir/ops.def.
 *
 * ops.def is expanded twice: into prototypes `emitc_<lname>` and into the
 * dispatch table emitc_table[OP_<ENUM>], so an op without an emitter is a
 * link error and there is no switch over ops. An emitter appends the
 * statements of one node to c->body: usually one call of a kernel from
 * emit_c_kernels.c with the node's geometry baked in as constants. Operand
 * names come from cg_val (input / output / workspace slot / weight array).
 */
#include "internal.h"
#include "runtime/ref/ref.h" /* rt_resize_taps: resize tables built at compile time */

#include <math.h>
#include <string.h>

typedef bool (*EmitFn)(CgCtx *c, const Node *n);

#define OP(E, l, ...) static bool emitc_##l(CgCtx *c, const Node *n);
#include "ir/ops.def"
#undef OP

static const EmitFn emitc_table[NOP] = {
#define OP(E, l, ...) [OP_##E] = emitc_##l,
#include "ir/ops.def"
#undef OP
};

_Static_assert(sizeof emitc_table / sizeof emitc_table[0] == NOP, "emitc table out of sync");

bool cg_emit_node(CgCtx *c, NodeId id)
{
    const Node *n = &c->g->nodes[id];
    NASC_ASSERT(n->op > OP_NONE && n->op < NOP && emitc_table[n->op]);
    return emitc_table[n->op](c, n);
}

static const Shape *shape_of(const CgCtx *c, ValueId v)
{
    return &c->g->vals[v].shape;
}

/* Dims as long long for printing; the checks in emit_c.c keep them < INT_MAX. */
static long long dim(const CgCtx *c, ValueId v, int i)
{
    return (long long)cg_dim(shape_of(c, v), i);
}

static long long numel(const CgCtx *c, ValueId v)
{
    return (long long)shape_numel(shape_of(c, v));
}

/* Elements per channel: product of the dims after N and C. */
static long long inner(const CgCtx *c, ValueId v)
{
    return dim(c, v, 2) * dim(c, v, 3);
}

/* Weights are emitted separately, and only when some node uses them. */
static bool emitc_param(CgCtx *c, const Node *n)
{
    (void)c;
    (void)n;
    return true;
}

/* The specialised depthwise kernel of node n (square 3x3 or 5x5 filter,
 * stride 1 or 2 and dilation 1 or 2, each the same along both axes: every
 * DARTS sep_conv and dil_conv), else the generic CK_DWCONV2D. The kernel
 * stages the (K - 1) * D + 1 padded rows one output row reads in a buffer of
 * 896 floats, each row S * half floats (K_DW in emit_c_dw.c, whose row
 * width this repeats): wider maps keep the generic kernel. */
static const char *const dw_name[8] = {"dw3s1d1", "dw3s1d2", "dw3s2d1", "dw3s2d2",
                                       "dw5s1d1", "dw5s1d2", "dw5s2d1", "dw5s2d2"};
_Static_assert(CK_DW5S2D2 - CK_DW3S1D1 == 7, "dw_name follows the CK_DW* order");

static CgKernel dw_kernel(CgCtx *c, const Node *n)
{
    const Conv2dAttrs *a = &n->attrs.conv;
    long long k = dim(c, n->in[1], 2);
    int s = a->stride[0], d = a->dilation[0];
    if (k != dim(c, n->in[1], 3) || (k != 3 && k != 5) || s != a->stride[1] ||
        (s != 1 && s != 2) || d != a->dilation[1] || (d != 1 && d != 2))
        return CK_DWCONV2D;
    long long ow = dim(c, n->out, 3), owr = (ow + 7) / 8 * 8;
    if ((owr - ow) * 4 > ow)
        owr = ow;
    long long half = ((owr - 1) * s + (k - 1) * d + 1 + s - 1) / s;
    if (896 / (s * half) < (k - 1) * d + 1)
        return CK_DWCONV2D;
    return (CgKernel)(CK_DW3S1D1 + (k == 5) * 4 + (s == 2) * 2 + (d == 2));
}

/* The dense kernel of a groups-1 conv that is neither pointwise nor strided
 * pointwise. The packed kernel (emit_c_pack.c: output channels as vector
 * lanes, weights packed at compile time) on host and generic targets for a
 * stride or dilation other than 1 along either axis, >= 16 output channels
 * and c * kh * kw >= 64 multiply-adds per output, when cg_pack_fits. The
 * rule is measured (gcc 12 -O3 -march=native AVX-512, single convs timed
 * interleaved with the register-blocked kernel; codegen/README.md): stride 2
 * runs ~1.2-2x as fast (Auto-DeepLab's stem2 ~2x, DARTS ImageNet's stems),
 * ASPP's dilation 12 ~1.5x, 18 about even; stride-1 undilated convs ran ~15 % slower
 * with gcc (faster with clang) and 3-channel stems (27 per output) ~25 %
 * slower, so those keep the register-blocked kernel (emit_c_conv.c), as do
 * Cortex-M targets (its ~64 KiB frame and the packed copy in flash) and
 * files with a flash budget (which counts params, not packed copies). That
 * kernel takes a horizontal stride of 1 or 2 whose edge blocks fit its
 * buffers; anything else is the generic CK_CONV2D. Before all that, on the
 * host target, a stride-2 conv with oc % 12 == 0, 27 <= c kh kw <= 512 and
 * >= 32 outputs per channel is nasc_rt_i2c_s2 (emit_c_vec.c: gathered
 * patches through the pointwise vector tile on AVX-512, else the
 * register-blocked stride-2 kernel, whose fit it needs): DARTS ImageNet's
 * three stems, 1.86 -> 1.28 ms in the net (gcc, run_so). FactorizedReduce's
 * strided 1x1 convs: see s2g_takes. */
static bool i2c_takes(CgCtx *c, const Node *n)
{
    const Conv2dAttrs *a = &n->attrs.conv;
    ValueId w = n->in[1];
    int64_t taps = dim(c, w, 1) * dim(c, w, 2) * dim(c, w, 3);
    return c->target == CG_TARGET_HOST && a->groups == 1 && a->stride[1] == 2 &&
           dim(c, n->out, 1) % 12 == 0 && taps >= 27 && taps <= 512 &&
           dim(c, n->out, 2) * dim(c, n->out, 3) >= 32 &&
           cg_dconv_fits(a, dim(c, n->in[0], 2), dim(c, n->out, 2), dim(c, w, 2),
                         dim(c, w, 3));
}

static CgKernel dense_kernel(CgCtx *c, const Node *n)
{
    const Conv2dAttrs *a = &n->attrs.conv;
    ValueId w = n->in[1];
    bool host = (c->target == CG_TARGET_HOST || c->target == CG_TARGET_GENERIC) &&
                c->max_flash <= 0; /* check_flash does not count packed copies */
    bool unit = a->stride[0] == 1 && a->stride[1] == 1 && a->dilation[0] == 1 &&
                a->dilation[1] == 1;
    if (i2c_takes(c, n))
        return CK_I2C_S2; /* emit_c_vec.c (the rule: i2c_takes, above) */
    if (host && !unit && dim(c, n->out, 1) >= 16 &&
        dim(c, w, 1) * dim(c, w, 2) * dim(c, w, 3) >= 64 && cg_pack_fits(c, n))
        return a->stride[1] == 1 ? CK_PCONV_S1 : CK_PCONV_S2;
    if (a->groups != 1 || !cg_dconv_fits(a, dim(c, n->in[0], 2), dim(c, n->out, 2),
                                         dim(c, w, 2), dim(c, w, 3)))
        return CK_CONV2D;
    return a->stride[1] == 1 ? CK_DCONV_S1 : CK_DCONV_S2;
}

/* A 1x1 conv (groups 1) with a stride other than 1 x 1 and no padding
 * (FactorizedReduce's) runs the strided pointwise kernel (emit_c_pw.c). */
static bool strided_pointwise(CgCtx *c, const Node *n)
{
    const Conv2dAttrs *a = &n->attrs.conv;
    return dim(c, n->in[1], 2) == 1 && dim(c, n->in[1], 3) == 1 && a->groups == 1 &&
           (a->stride[0] != 1 || a->stride[1] != 1) && !a->pad[0] && !a->pad[1] &&
           !a->pad[2] && !a->pad[3];
}

/* Such a conv on the host target with oc % 12 == 0, c <= 1024 and >= 32
 * output positions runs nasc_rt_pw_s2g (emit_c_pw.c: gathered inputs
 * through the pointwise vector tiles; nasc_rt_pw_strided without them). */
static bool s2g_takes(CgCtx *c, const Node *n)
{
    return c->target == CG_TARGET_HOST && dim(c, n->out, 1) % 12 == 0 &&
           dim(c, n->in[0], 1) <= 1024 && dim(c, n->out, 2) * dim(c, n->out, 3) >= 32;
}

/* A 1x1 conv, groups 1, stride 1, no padding: the pointwise kernels'. */
static bool pointwise_unit(CgCtx *c, const Node *n)
{
    const Conv2dAttrs *a = &n->attrs.conv;
    return dim(c, n->in[1], 2) == 1 && dim(c, n->in[1], 3) == 1 && a->groups == 1 &&
           a->stride[0] == 1 && a->stride[1] == 1 && !a->pad[0] && !a->pad[1] && !a->pad[2] &&
           !a->pad[3];
}

/* Whether conv n is dense (groups 1, not depthwise, no pre, not pointwise
 * with or without a stride) and dense_kernel picks the packed kernel. */
static bool dense_packed(CgCtx *c, const Node *n)
{
    const Conv2dAttrs *a = &n->attrs.conv;
    if (a->groups != 1 || a->pre || pointwise_unit(c, n) || strided_pointwise(c, n))
        return false;
    CgKernel k = dense_kernel(c, n);
    return k == CK_PCONV_S1 || k == CK_PCONV_S2;
}

/* Suffixes of the pointwise kernel's forms, CK_CONV2D_1X1 + (pre, addend, act)
 * as a binary number. */
static const char *const pw_form[8] = {"", "_relu", "_add", "_add_relu", "_pre", "_pre_relu",
                                       "_pre_add", "_pre_add_relu"};
_Static_assert(CK_CONV2D_1X1_PRE_ADD_RELU - CK_CONV2D_1X1 == 7, "pw_form follows CK_CONV2D_1X1*");
_Static_assert(CK_CONV2D_1X1P_PRE_ADD_RELU - CK_CONV2D_1X1P == 7, "and CK_CONV2D_1X1P*");

/* Index of node n's form in pw_form (and after CK_CONV2D_1X1 / _1X1P). */
static int pw_form_index(const Node *n)
{
    const Conv2dAttrs *a = &n->attrs.conv;
    return (a->pre != ACT_NONE) * 4 + (ir_conv_addend(n) != 0) * 2 + (a->act == ACT_RELU);
}

/* The params of conv n reading x with top and left pads pt, pl (its own x
 * and pads, or a folded crop's input: crop_folds). */
static void conv_params_on(CgCtx *c, const Node *n, ValueId x, int pt, int pl)
{
    const Conv2dAttrs *a = &n->attrs.conv;
    ValueId w = n->in[1], y = n->out;
    cg_buf_printf(&c->body,
                  "    {\n"
                  "        static const nasc_rt_conv_p p = {\n"
                  "            .n = %lld, .c = %lld, .h = %lld, .w = %lld,"
                  " .oc = %lld, .oh = %lld, .ow = %lld,\n"
                  "            .kh = %lld, .kw = %lld, .sh = %d, .sw = %d, .pt = %d, .pl = %d,"
                  " .dh = %d, .dw = %d,\n"
                  "            .groups = %d};\n",
                  dim(c, x, 0), dim(c, x, 1), dim(c, x, 2), dim(c, x, 3), dim(c, y, 1),
                  dim(c, y, 2), dim(c, y, 3), dim(c, w, 2), dim(c, w, 3), a->stride[0],
                  a->stride[1], pt, pl, a->dilation[0], a->dilation[1], a->groups);
}

void cg_conv_params(CgCtx *c, const Node *n)
{
    conv_params_on(c, n, n->in[0], n->attrs.conv.pad[0], n->attrs.conv.pad[1]);
}

/* Whether the crop producing v is folded into its readers (the workspace
 * plan's crop view, passes/passes.h: plan_crop_is_view): every one is a
 * strided 1x1 conv reading it as x, which reads the crop's input in place
 * with the crop's offset as negative pads (nasc_rt_pw_strided and pw_s2g
 * take them), and the crop is not emitted. Why: FactorizedReduce's
 * x[:, :, 1:, 1:] copied nearly a whole map of which its conv reads a quarter
 * (DARTS ImageNet: three crops, ~1 % of the net in the JIT profile). */
static bool crop_folds(CgCtx *c, ValueId v)
{
    return plan_crop_is_view(c->g, v);
}

/* conv2d: a pointwise, dense or depthwise kernel when the geometry allows, else
 * the generic one. x [N,C,H,W], w [OC,C/g,KH,KW], optional b [OC], fused
 * pre / addend / act (ir.h Conv2dAttrs). The pointwise and generic kernels
 * apply the fusions themselves (a "_pre" text for pre=relu); the depthwise
 * and dense kernels have no prologue, so a pre=relu conv goes to the
 * generic kernel, and get the epilogue as a nasc_rt_epilogue pass over
 * their output right after the call. */
static bool emitc_conv2d(CgCtx *c, const Node *n)
{
    if (cg_wino_chosen(c, n))
        return cg_emit_wino(c, n); /* emit_c_wino.c */
    if (dense_packed(c, n))
        return cg_emit_pack(c, n); /* emit_c_pack.c */
    const Conv2dAttrs *a = &n->attrs.conv;
    int form = pw_form_index(n);
    if (pointwise_unit(c, n) && cg_pwp_takes(c, n)) /* emit_c_pwp.c */
        return cg_emit_pwp(c, n, form, pw_form[form]);
    ValueId x = n->in[0], w = n->in[1], y = n->out, b = ir_conv_bias(n), r = ir_conv_addend(n);
    const Node *crop = crop_folds(c, x) ? &c->g->nodes[c->g->vals[x].producer] : NULL;
    if (crop)
        x = crop->in[0]; /* read in place, at the crop's offset (below) */
    const char *xs = cg_val(c, x), *wv = cg_val(c, w), *bs = b ? cg_val(c, b) : "NULL";
    const char *rs = r ? cg_val(c, r) : "NULL", *ys = cg_val(c, y);
    const char *sfx = a->pre == ACT_RELU ? "_pre" : "";
    int relu = a->act == ACT_RELU;
    long long ch = dim(c, x, 1), oc = dim(c, y, 1);
    if (pointwise_unit(c, n)) {
        cg_use_kernel(c, (CgKernel)(CK_CONV2D_1X1 + form));
        cg_buf_printf(&c->body, "    nasc_rt_conv2d_1x1%s(%s, %s, %s, %s%s%s, %lld, %lld, %lld, "
                      "%lld);\n", pw_form[form], xs, wv, bs, r ? rs : "", r ? ", " : "", ys,
                      dim(c, x, 0), ch, oc, inner(c, x));
        return true;
    }
    bool depthwise = a->groups == ch && oc == ch;
    CgKernel k = a->pre ? CK_CONV2D_PRE
                 : strided_pointwise(c, n) ? (s2g_takes(c, n) ? CK_PW_S2G : CK_PW_STRIDED)
                 : depthwise ? dw_kernel(c, n) : dense_kernel(c, n);
    bool generic = k == CK_CONV2D || k == CK_CONV2D_PRE;
    cg_use_kernel(c, k);
    if (crop) {
        NASC_ASSERT(k == CK_PW_S2G || k == CK_PW_STRIDED);
        conv_params_on(c, n, x, -crop->attrs.crop.top, -crop->attrs.crop.left);
    } else {
        cg_conv_params(c, n);
    }
    if (k == CK_I2C_S2) {
        cg_use_kernel(c, CK_EPILOGUE);
        cg_buf_printf(&c->body, "        nasc_rt_i2c_s2(%s, %s, %s, %s, %s, &p, %d);\n    }\n",
                      xs, wv, bs, rs, ys, relu);
        return true;
    }
    if (generic) {
        cg_buf_printf(&c->body, "        nasc_rt_conv2d%s(%s, %s, %s, %s, %s, &p, %d);\n    }\n",
                      sfx, xs, wv, bs, rs, ys, relu);
        return true;
    }
    cg_buf_printf(&c->body, "        nasc_rt_%s(%s, %s, %s, %s, &p);\n",
                  k == CK_DCONV_S1 ? "dconv_s1" : k == CK_DCONV_S2 ? "dconv_s2"
                  : k == CK_PW_STRIDED ? "pw_strided" : k == CK_PW_S2G ? "pw_s2g"
                  : k == CK_DWCONV2D ? "dwconv2d" : dw_name[k - CK_DW3S1D1],
                  xs, wv, bs, ys);
    if (r || relu) {
        cg_use_kernel(c, CK_EPILOGUE);
        cg_buf_printf(&c->body, "        nasc_rt_epilogue(%s, %s, %d, %lld);\n", ys, rs, relu,
                      numel(c, y));
    }
    cg_buf_printf(&c->body, "    }\n");
    return true;
}

/* Requires operand i of a batchnorm to be a weight: its statistics are
 * folded at compile time. */
static const Value *bn_param(CgCtx *c, const Node *n, uint32_t i, const char *what)
{
    if (i >= n->nin)
        return NULL;
    const Value *v = &c->g->vals[n->in[i]];
    if (!v->producer || c->g->nodes[v->producer].op != OP_PARAM) {
        diag_error(c->d, n->loc, "codegen: batchnorm %%%u: %s must be a param to be folded "
                   "at compile time", c->num[n->out], what);
        return NULL;
    }
    return v;
}

static void bn_comment_name(CgCtx *c, const Value *v, const char *role)
{
    cg_buf_printf(&c->decls, " * %s: ", role);
    cg_buf_comment_text(&c->decls, v && v->name ? v->name : v ? "(unnamed)" : "(none)");
    cg_buf_printf(&c->decls, "\n");
}

/* The identifier stem of a BN: its params' common state_dict prefix
 * ("cells.0.preprocess0.op.2" of "cells.0.preprocess0.op.2.running_var"). */
static const char *bn_stem(CgCtx *c, const Value *var)
{
    if (!var->name)
        return NULL;
    const char *dot = strrchr(var->name, '.');
    return dot ? arena_strndup(&c->arena, var->name, (size_t)(dot - var->name)) : var->name;
}

/* The firmware file's `static const float NAME[ch]` of a BN scale. */
static void bn_scale_decl(CgCtx *c, const Node *n, const char *sname, const float *scale,
                          int64_t ch, const Value *gamma, const Value *var)
{
    float eps = n->attrs.bn.eps;
    cg_buf_printf(&c->decls, "\n/* batchnorm %%%u, eps = %.9g: scale = gamma / sqrt(var + eps),\n"
                  " * computed by nasc from\n", c->num[n->out], (double)eps);
    bn_comment_name(c, gamma, "gamma");
    bn_comment_name(c, var, "var");
    cg_buf_printf(&c->decls, " * (mean and beta are used as they are) */\n"
                  "static const float %s[%lld] = {\n", sname, (long long)ch);
    cg_buf_floats(&c->decls, scale, ch);
    cg_buf_printf(&c->decls, "};\n");
}

/* Eval-mode BN: the emitter computes scale = gamma / sqrt(var + eps) in
 * double, as runtime/ref does, so the emitted code needs no sqrt; mean and
 * beta stay weight arrays and the kernel computes (x - mean) * scale + beta. */
static bool emitc_batchnorm(CgCtx *c, const Node *n)
{
    const Value *mean = bn_param(c, n, 1, "mean"), *var = bn_param(c, n, 2, "var");
    const Value *gamma = bn_param(c, n, 3, "gamma");
    if (!mean || !var || (n->nin > 3 && !gamma) || (n->nin > 4 && !bn_param(c, n, 4, "beta")))
        return false;
    int64_t ch = cg_dim(&var->shape, 0);
    float eps = n->attrs.bn.eps;
    float *scale = arena_calloc(&c->arena, (size_t)ch, sizeof *scale);
    NASC_ASSERT(scale);
    for (int64_t k = 0; k < ch; k++) {
        double s = (gamma ? gamma->data[k] : 1.0) / sqrt((double)var->data[k] + (double)eps);
        scale[k] = (float)s;
        if (!isfinite(scale[k])) {
            diag_error(c->d, n->loc, "codegen: batchnorm %%%u: channel %lld has scale %g "
                       "(var %g, eps %g); it must be finite", c->num[n->out], (long long)k,
                       s, (double)var->data[k], (double)eps);
            return false;
        }
    }
    const char *sname = cg_unique_name(c, "bn_", bn_stem(c, var), n->out, "_scale");
    if (c->blob)
        cg_blob_add_derived(c, sname, scale, ch);
    else
        bn_scale_decl(c, n, sname, scale, ch, gamma, var);

    ValueId x = n->in[0];
    const char *xs = cg_val(c, x), *ms = cg_val(c, n->in[1]), *bs = cg_opt_operand(c, n, 4);
    cg_use_kernel(c, CK_BATCHNORM);
    cg_buf_printf(&c->body, "    nasc_rt_batchnorm(%s, %s, %s, %s, %s, %lld, %lld, %lld);\n", xs,
                  ms, sname, bs, cg_val(c, n->out), dim(c, x, 0), dim(c, x, 1), inner(c, x));
    return true;
}

/* Mixed-op weights belong to the search supernet; a derived network has
 * none, so reaching one here means the genotype was never derived. */
static bool emitc_search_op(CgCtx *c, const Node *n)
{
    diag_error(c->d, n->loc, "%s: architecture-search op in the graph; derive the genotype "
               "first (nasc search writes it)", op_info[n->op].name);
    return false;
}
static bool emitc_softmax(CgCtx *c, const Node *n) { return emitc_search_op(c, n); }
static bool emitc_scale(CgCtx *c, const Node *n) { return emitc_search_op(c, n); }

static bool emitc_relu(CgCtx *c, const Node *n)
{
    const char *xs = cg_val(c, n->in[0]);
    cg_use_kernel(c, CK_RELU);
    cg_buf_printf(&c->body, "    nasc_rt_relu(%s, %s, %lld);\n", xs, cg_val(c, n->out),
                  numel(c, n->out));
    return true;
}

/* The slope as an exact float literal (the shape rule keeps it finite). */
static bool emitc_leaky_relu(CgCtx *c, const Node *n)
{
    char slope[48];
    cg_format_float(slope, sizeof slope, n->attrs.leaky.slope);
    cg_use_kernel(c, CK_LEAKY_RELU);
    cg_buf_printf(&c->body, "    nasc_rt_leaky_relu(%s, %s, %s, %lld);\n", cg_val(c, n->in[0]),
                  slope, cg_val(c, n->out), numel(c, n->out));
    return true;
}

static bool emitc_add(CgCtx *c, const Node *n)
{
    const char *as = cg_val(c, n->in[0]), *bs = cg_val(c, n->in[1]);
    cg_use_kernel(c, CK_ADD);
    cg_buf_printf(&c->body, "    nasc_rt_add(%s, %s, %s, %lld);\n", as, bs, cg_val(c, n->out),
                  numel(c, n->out));
    return true;
}

static bool emit_pool(CgCtx *c, const Node *n, CgKernel k, const char *fn)
{
    const Pool2dAttrs *a = &n->attrs.pool;
    ValueId x = n->in[0], y = n->out;
    const char *xs = cg_val(c, x), *ys = cg_val(c, y);
    cg_use_kernel(c, k);
    cg_buf_printf(&c->body,
                  "    {\n"
                  "        static const nasc_rt_pool_p p = {\n"
                  "            .nc = %lld, .h = %lld, .w = %lld, .oh = %lld, .ow = %lld,"
                  " .kh = %d, .kw = %d, .sh = %d, .sw = %d,\n"
                  "            .pt = %d, .pl = %d, .pb = %d, .pr = %d,"
                  " .count_include_pad = %d};\n"
                  "        nasc_rt_%s(%s, %s, &p);\n"
                  "    }\n",
                  dim(c, x, 0) * dim(c, x, 1), dim(c, x, 2), dim(c, x, 3), dim(c, y, 2),
                  dim(c, y, 3), a->kernel[0], a->kernel[1], a->stride[0], a->stride[1],
                  a->pad[0], a->pad[1], a->pad[2], a->pad[3], a->count_include_pad ? 1 : 0,
                  fn, xs, ys);
    return true;
}

/* The specialised pooling kernel of node n (3x3 window, stride 1 or 2 the
 * same along both axes: every DARTS max_pool_3x3 and avg_pool_3x3), else
 * the generic one. Average pooling takes any pads and count_include_pad
 * (the border helper handles them as the generic kernel does); max pooling
 * pads <= 1 and rows <= CG_MAXPOOL3_W (see K_MAX3 in emit_c_pool.c). */
static const char *const pool3_name[4] = {"maxpool3s1", "maxpool3s2", "avgpool3s1",
                                          "avgpool3s2"};
_Static_assert(CK_AVGPOOL3S2 - CK_MAXPOOL3S1 == 3, "pool3_name follows the CK_*POOL3* order");

static bool emit_pool3(CgCtx *c, const Node *n, CgKernel generic, const char *fn)
{
    const Pool2dAttrs *a = &n->attrs.pool;
    int s = a->stride[0];
    if (a->kernel[0] != 3 || a->kernel[1] != 3 || s != a->stride[1] || (s != 1 && s != 2))
        return emit_pool(c, n, generic, fn);
    bool small_pads = a->pad[0] <= 1 && a->pad[1] <= 1 && a->pad[2] <= 1 && a->pad[3] <= 1;
    if (generic == CK_MAXPOOL2D && (!small_pads || dim(c, n->in[0], 3) > CG_MAXPOOL3_W))
        return emit_pool(c, n, generic, fn); /* nasc_rt_maxpool3s* do not take it */
    CgKernel k = (CgKernel)(CK_MAXPOOL3S1 + (generic == CK_AVGPOOL2D) * 2 + (s == 2));
    return emit_pool(c, n, k, pool3_name[k - CK_MAXPOOL3S1]);
}

static bool emitc_maxpool2d(CgCtx *c, const Node *n)
{
    return emit_pool3(c, n, CK_MAXPOOL2D, "maxpool2d");
}

static bool emitc_avgpool2d(CgCtx *c, const Node *n)
{
    return emit_pool3(c, n, CK_AVGPOOL2D, "avgpool2d");
}

static bool emitc_gavgpool(CgCtx *c, const Node *n)
{
    ValueId x = n->in[0];
    const char *xs = cg_val(c, x);
    cg_use_kernel(c, CK_GAVGPOOL);
    cg_buf_printf(&c->body, "    nasc_rt_gavgpool(%s, %s, %lld, %lld);\n", xs, cg_val(c, n->out),
                  dim(c, x, 0) * dim(c, x, 1), inner(c, x));
    return true;
}

static bool emitc_argmax(CgCtx *c, const Node *n)
{
    ValueId x = n->in[0];
    const char *xs = cg_val(c, x);
    cg_use_kernel(c, CK_ARGMAX);
    cg_buf_printf(&c->body, "    nasc_rt_argmax(%s, %s, %lld, %lld, %lld);\n", xs,
                  cg_val(c, n->out), dim(c, x, 0), dim(c, x, 1), inner(c, x));
    return true;
}

/* Each operand is copied into its channel slice of the result, unless the
 * memory plan put it there already (passes/plan_memory.c: batch 1, a
 * workspace value not already in another concat), so that its producer wrote
 * it in place. Equal addresses are the test: two distinct values live
 * together here cannot share bytes otherwise. */
static bool emitc_concat(CgCtx *c, const Node *n)
{
    ValueId y = n->out;
    const char *ys = cg_val(c, y);
    long long c0 = 0;
    cg_buf_printf(&c->body, "    {\n");
    for (uint32_t i = 0; i < n->nin; i++) {
        ValueId x = n->in[i];
        long long cx = dim(c, x, 1);
        int64_t slice = c->offset[y] + c0 * inner(c, y) * (int64_t)sizeof(float);
        if (dim(c, y, 0) == 1 && c->offset[y] >= 0 && c->offset[x] == slice) {
            cg_buf_printf(&c->body, "        /* channels [%lld, %lld) were written in place "
                          "*/\n", c0, c0 + cx);
        } else {
            cg_use_kernel(c, CK_COPY_CHANNELS);
            cg_buf_printf(&c->body, "        nasc_rt_copy_channels(%s, %s, %lld, %lld, %lld, "
                          "%lld, %lld);\n", cg_val(c, x), ys, dim(c, y, 0), cx, dim(c, y, 1),
                          c0, inner(c, y));
        }
        c0 += cx;
    }
    cg_buf_printf(&c->body, "    }\n");
    return true;
}

static bool emitc_crop(CgCtx *c, const Node *n)
{
    ValueId x = n->in[0], y = n->out;
    const char *xs = cg_val(c, x);
    if (crop_folds(c, y)) {
        cg_buf_printf(&c->body, "    /* not copied: its readers read %s in place */\n", xs);
        return true;
    }
    cg_use_kernel(c, CK_CROP);
    cg_buf_printf(&c->body, "    nasc_rt_crop(%s, %s, %lld, %lld, %lld, %lld, %lld, %d, %d);\n",
                  xs, cg_val(c, y), dim(c, x, 0) * dim(c, x, 1), dim(c, x, 2), dim(c, x, 3),
                  dim(c, y, 2), dim(c, y, 3), n->attrs.crop.top, n->attrs.crop.left);
    return true;
}

/* The operand only gives the shape: it is not read. */
static bool emitc_zero(CgCtx *c, const Node *n)
{
    cg_use_kernel(c, CK_ZERO);
    cg_buf_printf(&c->body, "    nasc_rt_zero(%s, %lld);\n", cg_val(c, n->out),
                  numel(c, n->out));
    return true;
}

/* x [N,C] or [N,C,1,1] (same layout), w [K,C], optional b [K] -> [N,K]. */
static bool emitc_linear(CgCtx *c, const Node *n)
{
    ValueId x = n->in[0], w = n->in[1];
    /* packed: the same bytes (nothing padded), but not counted by the flash
     * budget, which therefore turns every packed copy off */
    if (cg_const_param(c, w) && c->max_flash <= 0)
        return cg_emit_linear_pk(c, n);
    const char *xs = cg_val(c, x), *wv = cg_val(c, w), *bs = cg_opt_operand(c, n, 2);
    cg_use_kernel(c, CK_LINEAR);
    cg_buf_printf(&c->body, "    nasc_rt_linear(%s, %s, %s, %s, %lld, %lld, %lld);\n", xs, wv,
                  bs, cg_val(c, n->out), dim(c, x, 0), dim(c, w, 1), dim(c, w, 0));
    return true;
}

/* Appends `static const int NAME[n] = {...};` to the file-scope decls. */
static void decl_ints(CgCtx *c, const char *name, const int *v, int64_t n)
{
    cg_buf_printf(&c->decls, "static const int %s[%lld] = {\n", name, (long long)n);
    for (int64_t i = 0; i < n; i++)
        cg_buf_printf(&c->decls, "%s%d,%s", i % 16 ? " " : "    ", v[i],
                      i % 16 == 15 || i == n - 1 ? "\n" : "");
    cg_buf_printf(&c->decls, "};\n");
}

/* Name stem S of the tap tables S_i0, S_i1 (int) and S_l (float) of one
 * resized axis. A stem is shared by every resize with the same (in, out,
 * align_corners) along H or W, so each table is emitted once. Only this
 * function makes "rsz_" names, and it registers all three together, so a
 * taken S_i0 means the tables exist and a free one that all three are free. */
static const char *resize_axis_tables(CgCtx *c, int64_t in, int64_t out, int ac)
{
    const char *stem = arena_printf(&c->arena, "rsz_%lld_%lld_ac%d", (long long)in,
                                    (long long)out, ac);
    const char *name[3] = {arena_printf(&c->arena, "%s_i0", stem),
                           arena_printf(&c->arena, "%s_i1", stem),
                           arena_printf(&c->arena, "%s_l", stem)};
    for (uint32_t k = 0; k < c->nnames; k++)
        if (strcmp(c->names[k], name[0]) == 0)
            return stem;
    for (int k = 0; k < 3; k++)
        NASC_ASSERT(strcmp(cg_unique_name(c, "", name[k], 0, ""), name[k]) == 0);
    int *i0 = arena_calloc(&c->arena, (size_t)out, sizeof *i0);
    int *i1 = arena_calloc(&c->arena, (size_t)out, sizeof *i1);
    float *lam = arena_calloc(&c->arena, (size_t)out, sizeof *lam);
    NASC_ASSERT(i0 && i1 && lam);
    for (int64_t o = 0; o < out; o++) {
        RtResizeTap t;
        rt_resize_taps(in, out, ac, o, &t);
        i0[o] = (int)t.i0, i1[o] = (int)t.i1, lam[o] = t.lambda;
    }
    cg_buf_printf(&c->decls,
                  "\n/* Bilinear taps of an axis resized %lld -> %lld, align_corners = %d,\n"
                  " * computed by nasc with runtime/ref's rt_resize_taps (PyTorch's weights):\n"
                  " * output o reads inputs i0[o], i1[o] with weights 1 - l[o], l[o]. */\n",
                  (long long)in, (long long)out, ac);
    decl_ints(c, name[0], i0, out);
    decl_ints(c, name[1], i1, out);
    cg_buf_printf(&c->decls, "static const float %s[%lld] = {\n", name[2], (long long)out);
    cg_buf_floats(&c->decls, lam, out);
    cg_buf_printf(&c->decls, "};\n");
    return stem;
}

/* x [N,C,H,W] -> [N,C,size[0],size[1]]: the kernel only gathers and mixes;
 * every index and weight is a table made here, so the emitted code needs no
 * floor or division (and no libm). */
static bool emitc_resize_bilinear(CgCtx *c, const Node *n)
{
    ValueId x = n->in[0], y = n->out;
    int ac = n->attrs.resize.align_corners;
    const char *ry = resize_axis_tables(c, dim(c, x, 2), dim(c, y, 2), ac);
    const char *rx = resize_axis_tables(c, dim(c, x, 3), dim(c, y, 3), ac);
    const char *xs = cg_val(c, x);
    cg_use_kernel(c, CK_RESIZE_BILINEAR);
    cg_buf_printf(&c->body,
                  "    nasc_rt_resize_bilinear(%s, %s, %lld, %lld, %lld, %lld, %lld,\n"
                  "                            %s_i0, %s_i1, %s_l, %s_i0, %s_i1, %s_l);\n",
                  xs, cg_val(c, y), dim(c, x, 0) * dim(c, x, 1), dim(c, x, 2), dim(c, x, 3),
                  dim(c, y, 2), dim(c, y, 3), ry, ry, ry, rx, rx, rx);
    return true;
}

/* The phases of a dilated conv (passes/lower_dilation.c): emit_c_s2b.c. */
static bool emitc_space_to_batch(CgCtx *c, const Node *n)
{
    return cg_emit_space_to_batch(c, n);
}

static bool emitc_batch_to_space(CgCtx *c, const Node *n)
{
    return cg_emit_batch_to_space(c, n);
}
