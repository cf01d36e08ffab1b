/* emit_c_pack.c — dense convolution vectorised over output channels, with
 * weights packed at compile time (the MLAS "NCHWc" idea on NCHW activations),
 * and the linear layer on weights packed the same way (at the end).
 *
 * The register-blocked kernels of emit_c_conv.c vectorise over output
 * columns and read the weights in place as scalar broadcasts; at stride 2
 * they must de-interleave staged copies (~35-45 GFLOP/s on AVX-512, peak
 * ~140). Here the vector lanes are output channels instead: a tile is 8
 * consecutive output pixels of one row x 32 output channels, 256
 * accumulators in eight local 32-float arrays written out (16 zmm registers
 * with 512-bit vectors; see k_pw_tiles for why not a loop). Per (input
 * channel, ky, kx) it loads 32 consecutive packed weights (two vectors),
 * broadcasts the 8 input floats the pixels read at (x + p) * sw + kx * dw
 * and does 16 vector multiply-adds, so stride and dilation cost nothing
 * extra: only the addresses of the 8 scalar loads change.
 *
 * Weights: the emitter writes `static const float pk_<weight name>[]` laid
 * out [oc / 32][c][kh][kw][32] (oc rounded up to 32, zeros past oc), so a
 * tap's 32 weights are one contiguous run; the [oc, c, kh, kw] array is then
 * not emitted unless another node reads it. Blob mode adds the packed array
 * to the blob as a derived array (as Winograd's and BatchNorm's).
 *
 * Driver (per image, output row and block of 32 output channels): the tap
 * rows that read inside the input are a range [ky0, ky1), the others are
 * skipped (they would add w * 0). Input channels go in chunks: the chunk's
 * tap rows are copied, zero-padded left and right, into a 16 KiB stage
 * buffer, and every tile of the row runs on it while it is in L1, keeping
 * its accumulators in a per-row array between chunks (exact: the sum just
 * continues). Borders need no other path, and the tile's loads are
 * unit-stride rows; straight from the input, with channels a plane apart,
 * ASPP and stride-2 convs ran ~1.3-2x slower (gcc 12, loaded machine). When ow is not a multiple
 * of 8 the last tile moves back to end at the row's end and recomputes a
 * few outputs identically; maps under 8 wide compute 8 and store ow.
 *
 * Rounding: each output is bias + taps in (input channel, ky, kx) order,
 * taps outside the input skipped or added as w * 0 (which changes at most
 * the sign of a zero): the order of nasc_rt_conv2d and of emit_c_conv.c's
 * kernels, so the same float up to FMA contraction (tests/codegen/pack.c
 * checks equality with the register-blocked kernel). The epilogue (addend,
 * relu) is applied in the store with the operations of nasc_rt_epilogue.
 *
 * Frame: the accumulator rows (12288 floats: rows up to 384 outputs) and
 * the stage buffer (4096 floats), 64 KiB: fine for host threads, not for
 * firmware, so Cortex-M targets keep emit_c_conv.c (dense_kernel).
 */
#include "internal.h"

#include <limits.h>

/* ---- one line of text per pixel n of a tile (0..7) ---- */
#define PK_EACH(F) F(0) F(1) F(2) F(3) F(4) F(5) F(6) F(7)
#define PK_ACC(n) "    float a" #n "[32];\n"
#define PK_LOAD(n) "        a" #n "[j] = acc[" #n " * 32 + j];\n"
#define PK_SAVE(n) "        acc[" #n " * 32 + j] = a" #n "[j];\n"
#define PK_FMA(n) "                    a" #n "[j] += v * u" #n ";\n"
/* Pixel n's input float for the tap at xo: x[xo + n * S]. */
#define PK_U1(n) "                float u" #n " = x[xo + " #n "];\n"
#define PK_U2(n) "                float u" #n " = x[xo + 2 * " #n "];\n"

/* x and w are indexed from the parameters, not advanced as pointers: clang
 * cannot tell a pointer that a loop advances (a phi) from the accumulator
 * arrays, so it vectorised the pointer form without keeping them in
 * registers (~5 GFLOP/s out of line); with indices both gcc and clang keep
 * the 16 zmm accumulators (~130 GFLOP/s each on 304 channels, 3x3). Not
 * inlined (GNU C compilers): gcc inlined it into some constant-propagated
 * driver clones and then kept the accumulators in memory (ImageNet's
 * stride-2 stems 1.3-1.6x slower, Auto-DeepLab's stem2 1.5x, ASPP 1.6x,
 * depending on how many convs the file has); clang runs the same either way. */
#define PK_TILE(S)                                                                          \
    "/* 8 output pixels (horizontal stride " #S ") x 32 output channels: acc[p * 32 + o]\n"   \
    " * += the taps of nc input channels (xs floats apart in x, wcs in w) x nky tap\n"       \
    " * rows (rs floats apart in x, kw * 32 in w) x kw taps (dw floats apart in x,\n"       \
    " * 32 in w). x[0] is pixel 0's first tap, w[0 .. 32) its packed weights. */\n"        \
    "#ifdef __GNUC__\n"                                                                   \
    "__attribute__((noinline))\n"                                                         \
    "#endif\n"                                                                            \
    "static void nasc_rt_pk_tile_s" #S "(const float *restrict x, const float *restrict w,\n" \
    "        float *restrict acc, int xs, int wcs, int rs, int nc, int nky, int kw, int dw)\n" \
    "{\n"                                                                                   \
    PK_EACH(PK_ACC)                                                                         \
    "    for (int j = 0; j < 32; j++) {\n"                                                  \
    PK_EACH(PK_LOAD)                                                                        \
    "    }\n"                                                                               \
    "    for (int i = 0; i < nc; i++)\n"                                                    \
    "        for (int ky = 0; ky < nky; ky++) {\n"                                          \
    "            int wo = i * wcs + ky * kw * 32;\n"                                        \
    "            for (int kx = 0, xo = i * xs + ky * rs; kx < kw; kx++, xo += dw, wo += 32) {\n" \
    PK_EACH(PK_U##S)                                                                        \
    "                for (int j = 0; j < 32; j++) {\n"                                      \
    "                    float v = w[wo + j];\n"                                            \
    PK_EACH(PK_FMA)                                                                         \
    "                }\n"                                                                   \
    "            }\n"                                                                       \
    "        }\n"                                                                           \
    "    for (int j = 0; j < 32; j++) {\n"                                                  \
    PK_EACH(PK_SAVE)                                                                        \
    "    }\n"                                                                               \
    "}\n"                                                                                   \
    "\n"

/* The driver, horizontal stride S (any vertical stride); see the file comment. */
#define PK_DRIVER(S)                                                                        \
    "/* Dense convolution (groups 1), horizontal stride " #S ", output channels as\n"       \
    " * vector lanes (emit_c_pack.c). wp: the weights packed [oc / 32][c][kh][kw][32];\n"  \
    " * b and r (the fused addend) may be NULL. Each output is bias + taps in\n"            \
    " * (c, ky, kx) order, then + r, then relu when relu is set. cg_pack_fits\n"            \
    " * checked that (ow + 7) / 8 * 256 <= 12288 and kh * wst <= 4096. */\n"                \
    "static void nasc_rt_pconv_s" #S "(const float *restrict x, const float *restrict wp,\n" \
    "        const float *restrict b, const float *restrict r, float *restrict y,\n"        \
    "        const nasc_rt_conv_p *p, int relu)\n"                                          \
    "{\n"                                                                                   \
    "    float acc[12288], st[4096];\n"                                                     \
    "    int hw = p->h * p->w, ohw = p->oh * p->ow, khw = p->kh * p->kw, wcs = khw * 32;\n" \
    "    int np = p->ow < 8 ? p->ow : 8, nt = (p->ow + 7) / 8;\n"                           \
    "    int wst = ((p->ow < 8 ? 8 : p->ow) - 1) * " #S " + (p->kw - 1) * p->dw + 1;\n"     \
    "    for (int n = 0; n < p->n; n++, x += p->c * hw, y += p->oc * ohw) {\n"              \
    "        const float *restrict rn = r ? r + n * p->oc * ohw : r;\n"                     \
    "        for (int oy = 0; oy < p->oh; oy++) {\n"                                        \
    "            int iy0 = oy * p->sh - p->pt, ky0 = 0, ky1 = p->kh;\n"                     \
    "            while (ky0 < ky1 && iy0 + ky0 * p->dh < 0)\n"                              \
    "                ky0++;\n"                                                              \
    "            while (ky1 > ky0 && iy0 + (ky1 - 1) * p->dh >= p->h)\n"                    \
    "                ky1--;\n"                                                              \
    "            int nky = ky1 - ky0, iy = iy0 + ky0 * p->dh;\n"                            \
    "            int cc = nky ? 4096 / (nky * wst) : p->c;\n"                               \
    "            for (int o0 = 0; o0 < p->oc; o0 += 32) {\n"                                \
    "                int no = p->oc - o0 < 32 ? p->oc - o0 : 32;\n"                         \
    "                for (int t = 0; t < nt * 8; t++)\n"                                    \
    "                    for (int j = 0; j < 32; j++)\n"                                    \
    "                        acc[t * 32 + j] = b && j < no ? b[o0 + j] : 0.0f;\n"           \
    "                for (int i0 = 0; nky && i0 < p->c; i0 += cc) {\n"                      \
    "                    int nc = p->c - i0 < cc ? p->c - i0 : cc;\n"                       \
    "                    const float *restrict wi = wp + (o0 * p->c + i0 * 32) * khw;\n"    \
    "                    nasc_rt_pk_stage(x + i0 * hw, st, p, iy, nky, nc, wst);\n"         \
    "                    for (int t = 0; t < nt; t++) {\n"                                  \
    "                        int ox = t * 8 < p->ow - np ? t * 8 : p->ow - np;\n"           \
    "                        nasc_rt_pk_tile_s" #S "(st + ox * " #S ", wi + ky0 * p->kw * 32,\n" \
    "                                acc + t * 256, nky * wst, wcs, wst, nc, nky, p->kw,\n" \
    "                                p->dw);\n"                                             \
    "                    }\n"                                                               \
    "                }\n"                                                                   \
    "                for (int t = 0; t < nt; t++) {\n"                                      \
    "                    int ox = t * 8 < p->ow - np ? t * 8 : p->ow - np;\n"               \
    "                    nasc_rt_pk_store(acc + t * 256, rn, y, p, o0, no, oy * p->ow + ox,\n" \
    "                                     np, relu);\n"                                     \
    "                }\n"                                                                   \
    "            }\n"                                                                       \
    "        }\n"                                                                           \
    "    }\n"                                                                               \
    "}\n"

const char cg_k_pk_common[] =
    "/* Input rows iy, iy + dh, ... (nky rows) of nc channels of x, zero-padded:\n"
    " * st[(i * nky + k) * wst + q] is column q - pl of row k of channel i, or 0\n"
    " * outside the input. */\n"
    "static void nasc_rt_pk_stage(const float *restrict x, float *restrict st,\n"
    "        const nasc_rt_conv_p *p, int iy, int nky, int nc, int wst)\n"
    "{\n"
    "    int lo = p->pl < wst ? p->pl : wst;\n"
    "    int hi = p->pl + p->w < wst ? p->pl + p->w : wst;\n"
    "    for (int i = 0; i < nc; i++)\n"
    "        for (int k = 0; k < nky; k++) {\n"
    "            int at = (i * p->h + iy + k * p->dh) * p->w - p->pl;\n"
    "            float *restrict d = st + (i * nky + k) * wst;\n"
    "            for (int q = 0; q < lo; q++)\n"
    "                d[q] = 0.0f;\n"
    "            for (int q = lo; q < hi; q++)\n"
    "                d[q] = x[at + q];\n"
    "            for (int q = hi; q < wst; q++)\n"
    "                d[q] = 0.0f;\n"
    "        }\n"
    "}\n"
    "\n"
    "/* Output channels [o0, o0 + no) of pixels [at, at + np) of one image's map\n"
    " * from acc[p * 32 + o], + r (may be NULL) then relu, as nasc_rt_epilogue. */\n"
    "static void nasc_rt_pk_store(const float *restrict acc, const float *restrict r,\n"
    "        float *restrict y, const nasc_rt_conv_p *p, int o0, int no, int at, int np,\n"
    "        int relu)\n"
    "{\n"
    "    int ohw = p->oh * p->ow;\n"
    "    for (int o = 0; o < no; o++) {\n"
    "        float *restrict yo = y + (o0 + o) * ohw + at;\n"
    "        for (int q = 0; q < np; q++) {\n"
    "            float s = acc[q * 32 + o];\n"
    "            if (r)\n"
    "                s = s + r[(o0 + o) * ohw + at + q];\n"
    "            yo[q] = relu && !(s > 0.0f) ? 0.0f : s;\n"
    "        }\n"
    "    }\n"
    "}\n"
    "\n";

const char cg_k_pconv_s1[] = PK_TILE(1) PK_DRIVER(1);
const char cg_k_pconv_s2[] = PK_TILE(2) PK_DRIVER(2);

/* Whether conv n can run packed: groups 1, no pre, horizontal stride 1 or
 * 2, its weight a param with data (packed here), one input channel's
 * staged rows (kh rows of span floats) within the 2048-float stage buffer,
 * and the packed array under INT_MAX floats. The choice among the dense
 * kernels is dense_kernel's (emit_c_ops.c). */
bool cg_pack_fits(const CgCtx *c, const Node *n)
{
    const Conv2dAttrs *a = &n->attrs.conv;
    const Value *w = &c->g->vals[n->in[1]];
    bool param = cg_const_param(c, n->in[1]);
    int64_t oc = cg_dim(&w->shape, 0), kh = cg_dim(&w->shape, 2), kw = cg_dim(&w->shape, 3);
    int64_t ow = cg_dim(&c->g->vals[n->out].shape, 3), s = a->stride[1];
    int64_t wst = ((ow < 8 ? 8 : ow) - 1) * s + (kw - 1) * a->dilation[1] + 1;
    int64_t packed = (oc + 31) / 32 * 32 * cg_dim(&w->shape, 1) * kh * kw;
    return param && a->groups == 1 && !a->pre && (s == 1 || s == 2) && kh * wst <= 4096 &&
           (ow + 7) / 8 * 256 <= 12288 &&
           packed < INT_MAX;
}

/* w [oc, c, kh, kw] as [oc / 32][c][kh][kw][32], zeros past oc. */
static float *pack_weights(CgCtx *c, const Value *w, int64_t *nout)
{
    int64_t oc = cg_dim(&w->shape, 0), ch = cg_dim(&w->shape, 1);
    int64_t khw = cg_dim(&w->shape, 2) * cg_dim(&w->shape, 3);
    *nout = (oc + 31) / 32 * 32 * ch * khw;
    float *u = arena_calloc(&c->arena, (size_t)*nout, sizeof *u);
    NASC_ASSERT(u);
    for (int64_t o = 0; o < oc; o++)
        for (int64_t i = 0; i < ch; i++)
            for (int64_t t = 0; t < khw; t++)
                u[((o / 32 * ch + i) * khw + t) * 32 + o % 32] = w->data[(o * ch + i) * khw + t];
    return u;
}

/* (internal.h) */
const char *cg_packed_array(CgCtx *c, const Node *n, float *u, int64_t nu, const char *layout)
{
    const Value *w = &c->g->vals[n->in[1]];
    const char *name = cg_unique_name(c, "pk_", w->name, n->in[1], "");
    if (c->blob) {
        cg_blob_add_derived(c, name, u, nu);
        return name;
    }
    cg_buf_printf(&c->decls, "\n/* %s %%%u: the weights of ", op_info[n->op].name, c->num[n->out]);
    cg_buf_comment_text(&c->decls, w->name ? w->name : "(unnamed)");
    cg_buf_printf(&c->decls, " packed by nasc as\n * %s */\n"
                  "static const float %s[%lld] = {\n", layout, name, (long long)nu);
    cg_buf_floats(&c->decls, u, nu);
    cg_buf_printf(&c->decls, "};\n");
    return name;
}

bool cg_emit_pack(CgCtx *c, const Node *n)
{
    const Conv2dAttrs *a = &n->attrs.conv;
    ValueId x = n->in[0], y = n->out, b = ir_conv_bias(n), r = ir_conv_addend(n);
    int64_t nu;
    float *u = pack_weights(c, &c->g->vals[n->in[1]], &nu);
    const char *xs = cg_val(c, x);
    const char *ws = cg_packed_array(c, n, u, nu, "[oc / 32][c][kh][kw][32]");
    const char *bs = b ? cg_val(c, b) : "NULL", *rs = r ? cg_val(c, r) : "NULL";
    cg_use_kernel(c, a->stride[1] == 1 ? CK_PCONV_S1 : CK_PCONV_S2);
    cg_conv_params(c, n);
    cg_buf_printf(&c->body, "        nasc_rt_pconv_s%d(%s, %s, %s, %s, %s, &p, %d);\n    }\n",
                  a->stride[1], xs, ws, bs, rs, cg_val(c, y), a->act == ACT_RELU);
    return true;
}

/* ---- linear with packed weights ---- */

/* The ImageNet classifier (768 -> 1000, 3 MB) read as 32 strided rows took
 * 0.32 ms (gathers, ~10 GB/s); as one contiguous stream 0.10 ms. Four
 * blocks run at once where they are full, so 8 vectors of sums are in
 * flight instead of 2 (one block waits on the multiply-add latency): alone,
 * weights hot, 0.100 -> 0.088 ms; in the net within noise. They are four
 * named arrays indexed from wp: as s[4][32], clang kept them in memory (5x
 * slower; DARTS ImageNet +0.65 ms). Blocks of
 * 32 rows are stored [c][32], the last [c][k % 32], so nothing is padded
 * (firmware flash). Each output is b[o] + x[0] w[o,0] + x[1] w[o,1] + ...,
 * the order of nasc_rt_linear and runtime/ref. */
const char cg_k_linear_pk[] =
    "/* y[n,k] = sum_c x[n,c] * w[k,c] + b[k]; b may be NULL; wp holds w packed by\n"
    " * nasc in blocks of 32 rows, each [c][32] (the last [c][k % 32]). 32 outputs\n"
    " * at a time as lanes, each summed in c order. */\n"
    "static void nasc_rt_linear_pk(const float *restrict x, const float *restrict wp,\n"
    "                              const float *restrict b, float *restrict y, int n, int c,\n"
    "                              int k)\n"
    "{\n"
    CG_LINEAR_BLOCKS
    "            if (o0 + 128 <= k) { /* four full blocks at once, then past them */\n"
    "                int p0 = o0 * c, p1 = p0 + 32 * c, p2 = p1 + 32 * c, p3 = p2 + 32 * c;\n"
    "                float s0[32], s1[32], s2[32], s3[32];\n"
    "                for (int q = 0; q < 32; q++) {\n"
    "                    s0[q] = b ? b[o0 + q] : 0.0f;\n"
    "                    s1[q] = b ? b[o0 + 32 + q] : 0.0f;\n"
    "                    s2[q] = b ? b[o0 + 64 + q] : 0.0f;\n"
    "                    s3[q] = b ? b[o0 + 96 + q] : 0.0f;\n"
    "                }\n"
    "                for (int j = 0; j < c; j++) {\n"
    "                    float xj = x[j];\n"
    "                    for (int q = 0; q < 32; q++) {\n"
    "                        s0[q] += xj * wp[p0 + j * 32 + q];\n"
    "                        s1[q] += xj * wp[p1 + j * 32 + q];\n"
    "                        s2[q] += xj * wp[p2 + j * 32 + q];\n"
    "                        s3[q] += xj * wp[p3 + j * 32 + q];\n"
    "                    }\n"
    "                }\n"
    "                for (int q = 0; q < 32; q++) {\n"
    "                    y[o0 + q] = s0[q];\n"
    "                    y[o0 + 32 + q] = s1[q];\n"
    "                    y[o0 + 64 + q] = s2[q];\n"
    "                    y[o0 + 96 + q] = s3[q];\n"
    "                }\n"
    "                o0 += 96;\n"
    "                continue;\n"
    "            }\n"
    "            const float *restrict p = wp + o0 * c;\n"
    "            float s[32];\n"
    "            for (int q = 0; q < 32; q++)\n"
    "                s[q] = b ? b[o0 + (q < no ? q : no - 1)] : 0.0f;\n"
    "            if (no == 32)\n"
    "                for (int j = 0; j < c; j++)\n"
    "                    for (int q = 0; q < 32; q++)\n"
    "                        s[q] += x[j] * p[j * 32 + q];\n"
    "            else\n"
    "                for (int j = 0; j < c; j++)\n"
    "                    for (int q = 0; q < no; q++)\n"
    "                        s[q] += x[j] * p[j * no + q];\n"
    "            for (int q = 0; q < no; q++)\n"
    "                y[o0 + q] = s[q];\n"
    "        }\n"
    "}\n";

bool cg_emit_linear_pk(CgCtx *c, const Node *n)
{
    const Value *w = &c->g->vals[n->in[1]];
    int64_t k = cg_dim(&w->shape, 0), ch = cg_dim(&w->shape, 1);
    float *u = arena_calloc(&c->arena, (size_t)(k * ch), sizeof *u);
    NASC_ASSERT(u);
    for (int64_t o = 0; o < k; o++) {
        int64_t o0 = o / 32 * 32, no = k - o0 < 32 ? k - o0 : 32;
        for (int64_t j = 0; j < ch; j++)
            u[o0 * ch + j * no + o - o0] = w->data[o * ch + j];
    }
    const char *ws = cg_packed_array(c, n, u, k * ch,
                                  "blocks of 32 rows [c][32], the last [c][k % 32]");
    const char *xs = cg_val(c, n->in[0]), *bs = cg_opt_operand(c, n, 2);
    cg_use_kernel(c, CK_LINEAR_PK);
    cg_buf_printf(&c->body, "    nasc_rt_linear_pk(%s, %s, %s, %s, %lld, %lld, %lld);\n", xs, ws,
                  bs, cg_val(c, n->out), (long long)cg_dim(&c->g->vals[n->in[0]].shape, 0),
                  (long long)ch, (long long)k);
    return true;
}
