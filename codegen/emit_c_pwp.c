/* emit_c_pwp.c — pointwise convolution on weights packed [oc / 12][c][12],
 * for maps whose last block of 32 positions has 17 (hw % 32 == 17).
 *
 * Why: the pointwise tiles (emit_c_kernels.c, emit_c_vec.c) put positions
 * in the vector lanes, so a block is 16 or 32 positions. DARTS ImageNet's
 * 7x7 cells (49 = 32 + 17, about a quarter of its multiply-adds) then end
 * each row of 12 output channels with a 32-wide tile moved back over 15
 * positions already done: 64 lanes for 49 outputs. Here that last block is
 * nasc_rt_pwp_tile12_17: 16 positions as lanes plus one column whose lanes
 * are the 12 output channels, which needs an input channel's 12 weights to
 * be one contiguous run, hence the packing; the 32-wide tile of the other
 * blocks reads its broadcasts from the same array. DARTS ImageNet (run_so,
 * gcc 12 -O3 -march=native, AVX-512): 9.99 -> 9.36 ms. Auto-DeepLab's 41x41
 * maps (1681 = 52 x 32 + 17) have the size, but its convs' channel counts
 * are not multiples of 12: the peers' ADL file has no call of it.
 *
 * Rounding: each output is bias + w[o,0] x[0] + w[o,1] x[1] + ... in channel
 * order, one multiply-add per term, in every tile and in the portable loop
 * (builds without NASC_RT_VEC), as nasc_rt_conv2d_1x1: the same floats bit
 * for bit (tests/codegen: memcmp against the portable build). The epilogue
 * (addend, relu) is nasc_rt_epilogue on each block, as there.
 *
 * The rule (cg_pwp_takes): host and generic targets without a flash budget
 * (the budget counts params; the packed array replaces the param but is 4
 * floats longer), a weight that is a param with data, oc % 12 == 0,
 * hw >= 49 with hw % 32 == 17, and c <= 1024 (the pre form's relu(x) block,
 * col[c][32], is 128 KiB of stack at most). The array is pk_<weight> of
 * oc * c + 4 floats: the 17-position tile loads an input channel's 12
 * weights as 16 lanes, and the last channel's 4 extra lanes are the padding.
 */
#include "internal.h"

const char cg_k_pwp_block[] =
    "/* y[0..12, 0..np) (rows hw floats apart) of a pointwise convolution on\n"
    " * packed weights wp[c][12]; rows of x are xs floats apart. The vector tiles\n"
    " * take np == 32 and np == 17, the loop any np <= 32. */\n"
    "static void nasc_rt_pwp_block(const float *restrict x, const float *restrict wp,\n"
    "        const float *restrict b, float *restrict y, int c, int xs, int hw, int np,\n"
    "        const float *nw)\n"
    "{\n"
    "#ifdef NASC_RT_VEC\n"
    "    if (np == 32) {\n"
    "        nasc_rt_pwp_tile12(x, wp, b, y, c, xs, hw, nw);\n"
    "        return;\n"
    "    }\n"
    "    if (np == 17) {\n"
    "        nasc_rt_pwp_tile12_17(x, wp, b, y, c, xs, hw);\n"
    "        return;\n"
    "    }\n"
    "#endif\n"
    "    (void)nw;\n"
    "    float acc[12][32];\n"
    "    for (int r = 0; r < 12; r++)\n"
    "        for (int q = 0; q < 32; q++)\n"
    "            acc[r][q] = b ? b[r] : 0.0f;\n"
    "    for (int i = 0; i < c; i++)\n"
    "        for (int r = 0; r < 12; r++) {\n"
    "            float s = wp[i * 12 + r];\n"
    "            for (int q = 0; q < np; q++)\n"
    "                acc[r][q] += s * x[i * xs + q];\n"
    "        }\n"
    "    for (int r = 0; r < 12; r++)\n"
    "        for (int q = 0; q < np; q++)\n"
    "            y[r * hw + q] = acc[r][q];\n"
    "}\n";

/* The x block a driver's tiles read: in place, or (pre form) relu(x) of the
 * block's np positions gathered into col[c][32]. */
#define PWP_IN_PLACE                                                                        \
    "            const float *xb = x + j;\n"                                                \
    "            int xs = hw;\n"
#define PWP_GATHER_RELU                                                                     \
    "            float col[1024 * 32];\n"                                                   \
    "            for (int i = 0; i < c; i++)\n"                                             \
    "                for (int q = 0; q < np; q++) {\n"                                      \
    "                    float v = x[i * hw + j + q];\n"                                    \
    "                    col[i * 32 + q] = v > 0.0f ? v : 0.0f;\n"                          \
    "                }\n"                                                                   \
    "            const float *xb = col;\n"                                                  \
    "            int xs = 32;\n"

/* One driver per form, as nasc_rt_conv2d_1x1's (see K_PW_DRIVER for why
 * forms are functions, not flags). EPI: the epilogue of a 12 x np block. */
#define K_PWP_DRIVER(SFX, FORM, RPARAM, RSTEP, IN, EPI)                                     \
    "/* Pointwise convolution y[n,oc,hw] = " FORM " on weights packed by nasc\n"           \
    " * [oc / 12][c][12] (oc % 12 == 0, c <= 1024); b may be NULL. Blocks of 32\n"          \
    " * positions, the last one shorter. */\n"                                              \
    "static void nasc_rt_conv2d_1x1p" SFX "(const float *restrict x, const float *restrict wp,\n" \
    "        const float *restrict b, " RPARAM "float *restrict y, int n, int c, int oc,\n" \
    "        int hw)\n"                                                                     \
    "{\n"                                                                                   \
    "    for (int in = 0; in < n; in++, x += c * hw, y += oc * hw" RSTEP ") {\n"            \
    "        for (int j = 0; j < hw; j += 32) {\n"                                          \
    "            int np = hw - j < 32 ? hw - j : 32;\n"                                     \
    IN                                                                                      \
    "            for (int o = 0; o < oc; o += 12) {\n"                                      \
    "                const float *nw = o + 12 < oc ? wp + (o + 12) * c : NULL;\n"           \
    "                nasc_rt_pwp_block(xb, wp + o * c, b ? b + o : b, y + o * hw + j, c,\n" \
    "                                  xs, hw, np, nw);\n"                                  \
    EPI                                                                                     \
    "            }\n"                                                                       \
    "        }\n"                                                                           \
    "    }\n"                                                                               \
    "}\n"

#define PWP_EPI(R, RELU)                                                                    \
    "                for (int q = 0; q < 12; q++)\n"                                        \
    "                    nasc_rt_epilogue(y + (o + q) * hw + j, " R ", " RELU ", np);\n"
#define RP "const float *restrict r, "
#define RS ", r += oc * hw"
#define RQ "r + (o + q) * hw + j"

const char cg_k_conv2d_1x1p[] = K_PWP_DRIVER("", "w * x + b", "", "", PWP_IN_PLACE, "");
const char cg_k_conv2d_1x1p_relu[] =
    K_PWP_DRIVER("_relu", "relu(w * x + b)", "", "", PWP_IN_PLACE, PWP_EPI("NULL", "1"));
const char cg_k_conv2d_1x1p_add[] =
    K_PWP_DRIVER("_add", "w * x + b + r", RP, RS, PWP_IN_PLACE, PWP_EPI(RQ, "0"));
const char cg_k_conv2d_1x1p_add_relu[] =
    K_PWP_DRIVER("_add_relu", "relu(w * x + b + r)", RP, RS, PWP_IN_PLACE, PWP_EPI(RQ, "1"));
const char cg_k_conv2d_1x1p_pre[] =
    K_PWP_DRIVER("_pre", "w * relu(x) + b", "", "", PWP_GATHER_RELU, "");
const char cg_k_conv2d_1x1p_pre_relu[] = K_PWP_DRIVER(
    "_pre_relu", "relu(w * relu(x) + b)", "", "", PWP_GATHER_RELU, PWP_EPI("NULL", "1"));
const char cg_k_conv2d_1x1p_pre_add[] = K_PWP_DRIVER(
    "_pre_add", "w * relu(x) + b + r", RP, RS, PWP_GATHER_RELU, PWP_EPI(RQ, "0"));
const char cg_k_conv2d_1x1p_pre_add_relu[] = K_PWP_DRIVER(
    "_pre_add_relu", "relu(w * relu(x) + b + r)", RP, RS, PWP_GATHER_RELU, PWP_EPI(RQ, "1"));

/* (internal.h; the rule is the file comment's) */
bool cg_pwp_takes(const CgCtx *c, const Node *n)
{
    const Value *w = &c->g->vals[n->in[1]], *y = &c->g->vals[n->out];
    int64_t oc = cg_dim(&w->shape, 0), ch = cg_dim(&w->shape, 1);
    int64_t hw = cg_dim(&y->shape, 2) * cg_dim(&y->shape, 3);
    bool target = c->target == CG_TARGET_HOST || c->target == CG_TARGET_GENERIC;
    return target && c->max_flash <= 0 && cg_const_param(c, n->in[1]) && oc % 12 == 0 &&
           ch <= 1024 && hw >= 49 && hw % 32 == 17;
}

/* (internal.h) */
bool cg_emit_pwp(CgCtx *c, const Node *n, int form, const char *suffix)
{
    const Value *w = &c->g->vals[n->in[1]];
    int64_t oc = cg_dim(&w->shape, 0), ch = cg_dim(&w->shape, 1), nu = oc * ch + 4;
    float *u = arena_calloc(&c->arena, (size_t)nu, sizeof *u);
    NASC_ASSERT(u);
    for (int64_t o = 0; o < oc; o++)
        for (int64_t i = 0; i < ch; i++)
            u[(o / 12 * ch + i) * 12 + o % 12] = w->data[o * ch + i];
    const char *ws = cg_packed_array(c, n, u, nu, "[oc / 12][c][12], then 4 zeros");
    ValueId b = ir_conv_bias(n), r = ir_conv_addend(n);
    const Value *x = &c->g->vals[n->in[0]];
    cg_use_kernel(c, (CgKernel)(CK_CONV2D_1X1P + form));
    cg_buf_printf(&c->body, "    nasc_rt_conv2d_1x1p%s(%s, %s, %s, %s%s%s, "
                  "%lld, %lld, %lld, %lld);\n", suffix, cg_val(c, n->in[0]), ws,
                  b ? cg_val(c, b) : "NULL", r ? cg_val(c, r) : "", r ? ", " : "",
                  cg_val(c, n->out),
                  (long long)cg_dim(&x->shape, 0), (long long)ch, (long long)oc,
                  (long long)(cg_dim(&x->shape, 2) * cg_dim(&x->shape, 3)));
    return true;
}
