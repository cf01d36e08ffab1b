/* emit_c_conv.c — the dense convolution kernels pasted into emitted C files
 * (groups 1, any kernel size, padding and dilation, horizontal stride 1 or 2).
 *
 * The generic nasc_rt_conv2d adds one tap of one input plane into a whole
 * output plane at a time: every multiply-add loads and stores its output,
 * so it runs at memory speed. Auto-DeepLab spends ~92 % of its multiply-adds
 * in dense 3x3 convolutions (stems, ASPP, decoder) and the DARTS ImageNet
 * stems are dense 3x3 stride-2 convolutions, so these get a register-blocked
 * kernel like the pointwise one (emit_c_kernels.c):
 *
 * - a tile is 4 output channels x 2 output rows x 16 output columns, 128
 *   accumulators in eight local 16-float arrays written out rather than
 *   looped over (see k_pw_tiles for why): sixteen ymm registers, which gcc
 *   -march=native keeps in registers on the AVX-512 host (it prefers 256-bit
 *   vectors; 8 channels spilled). For each input channel and tap the tile
 *   loads two 16-column input rows and broadcasts four weights. Tiles of
 *   2 x 16 waste less on these nets' maps (11 to 161 columns) than 1 x 32.
 * - Only tiles whose every tap reads inside the input run it ("interior":
 *   rows and columns found once per call with nasc_rt_span; columns from the
 *   first multiple of 16 at or after the interior's start, so a pad-1 border
 *   is one 16-wide edge block, not a 1-wide one; the last interior row pair
 *   is moved back to end at the interior's end and recomputes a row, bit for
 *   bit the same). Everything else (border blocks, the channels past the
 *   last multiple of 4, interiors narrower than a tile) goes through an edge
 *   routine that runs the same 16-wide loop on zero-padded copies of the
 *   input rows, double buffered (a copy read right after its stores stalled
 *   on store forwarding and made the edge ~60 % of the time); taps whose
 *   columns all read padding (large dilations: ASPP's 12 and 18 on a 41x41
 *   map) are skipped. Each copy holds two rows of span = 15 * sw + (kw - 1)
 *   * dw + 1 <= 128 floats (firmware frames stay under 4 KiB: 2 KiB of
 *   copies); emitc_conv2d keeps the generic kernel beyond that.
 * - The horizontal stride is a constant of the text (two copies, _s1 and
 *   _s2), so the tile's loads are unit-stride or stride-2 loads the compiler
 *   vectorises; vertical stride, dilation and kernel size are run-time
 *   values: they only move the row pointers, outside the 16-wide loop.
 *
 * Weights are read in their [oc, c, kh, kw] layout: the four weights of one
 * (channel, tap) are scalar broadcasts c * kh * kw floats apart, so no packed copy
 * is needed, and firmware, blob and JIT files use the same arrays. Each
 * output is bias + taps in (input channel, ky, kx) order, taps outside the
 * input skipped (the edge adds w * 0 for them, which changes at most the sign
 * of a zero): the order of nasc_rt_conv2d, so the rounding is the same up to
 * FMA contraction.
 */
#include "internal.h"

/* Eight lines of text, one per output channel n of the tile. */
#define DC_EACH(F) F(0) F(1) F(2) F(3)
#define DC_DECL(n) "    float p" #n "[16], q" #n "[16], bv" #n " = b ? b[" #n "] : 0.0f;\n"
#define DC_INIT(n) "        p" #n "[j] = bv" #n ", q" #n "[j] = bv" #n ";\n"
#define DC_WEIGHT(n) "                float v" #n " = w[" #n " * ws];\n"
#define DC_FMA(n) "                    p" #n "[j] += v" #n " * u, q" #n "[j] += v" #n " * t;\n"
#define DC_STORE(n)                                                                         \
    "        y[" #n " * ys + j] = p" #n "[j], y[" #n " * ys + p->ow + j] = q" #n "[j];\n"

/* The tile: x points at input (channel 0, top-left tap of the tile), w at
 * the weights of its first output channel, b at its first bias or is NULL,
 * y at its first output. p rows named p* hold output row 0, q* row 1. */
#define DC_TILE(S)                                                                          \
    "/* 4 output channels x 2 rows x 16 columns of a dense convolution whose\n"              \
    " * every tap lies inside the input; see nasc_rt_dconv_s" #S ". */\n"                     \
    "static void nasc_rt_dc_tile_s" #S "(const float *restrict x, const float *restrict w,\n" \
    "        const float *restrict b, float *restrict y, const nasc_rt_conv_p *p)\n"         \
    "{\n"                                                                                     \
    "    int xs = p->h * p->w, rs = p->sh * p->w, dhw = p->dh * p->w;\n"                     \
    "    int ws = p->c * p->kh * p->kw, ys = p->oh * p->ow;\n"                               \
    DC_EACH(DC_DECL)                                                                          \
    "    for (int j = 0; j < 16; j++) {\n"                                                    \
    DC_EACH(DC_INIT)                                                                          \
    "    }\n"                                                                                 \
    "    int c = p->c, kh = p->kh, kw = p->kw, dw = p->dw;\n"                                \
    "    for (int i = 0; i < c; i++, x += xs)\n"                                              \
    "        for (int ky = 0; ky < kh; ky++) {\n"                                             \
    "            const float *restrict x0 = x + ky * dhw;\n"                                  \
    "            for (int kx = 0; kx < kw; kx++, x0 += dw, w++) {\n"                          \
    DC_EACH(DC_WEIGHT)                                                                        \
    "                for (int j = 0; j < 16; j++) {\n"                                        \
    "                    float u = x0[j * " #S "], t = x0[rs + j * " #S "];\n"               \
    DC_EACH(DC_FMA)                                                                           \
    "                }\n"                                                                     \
    "            }\n"                                                                         \
    "        }\n"                                                                             \
    "    for (int j = 0; j < 16; j++) {\n"                                                    \
    DC_EACH(DC_STORE)                                                                         \
    "    }\n"                                                                                 \
    "}\n"                                                                                     \
    "\n"

/* Blocks with a tap outside the input. Channels past no take the last
 * one's weights and bias, rows and columns past nr and nw read padding;
 * neither is stored. */
#define DE_DECL(n)                                                                          \
    "    const float *restrict w" #n " = w + (o0 + (" #n " < no ? " #n " : no - 1)) * ws;\n"  \
    "    float p" #n "[16], q" #n "[16];\n"                                                   \
    "    float bv" #n " = b ? b[o0 + (" #n " < no ? " #n " : no - 1)] : 0.0f;\n"
#define DE_WEIGHT(n) "                float v" #n " = w" #n "[tap];\n"
#define DE_STORE(n)                                                                         \
    "    for (int r = 0; " #n " < no && r < nr; r++)\n"                                       \
    "        for (int j = 0; j < nw; j++)\n"                                                  \
    "            y[((o0 + " #n ") * p->oh + oy0 + r) * p->ow + ox0 + j] = r ? q" #n "[j]"     \
    " : p" #n "[j];\n"

#define DC_EDGE(S)                                                                          \
    "/* Stages the two input rows iy, iy + sh (the second only if nr > 1) that\n"             \
    " * one (channel, ky) of an edge block reads into d (span columns from input\n"           \
    " * column cx each): columns [a, e) from the plane xi, the others stay 0\n"               \
    " * (zeroed by the caller); rows outside the plane read 0. */\n"                          \
    "static void nasc_rt_dc_stage_s" #S "(const float *restrict xi, float *restrict d,\n"     \
    "        const nasc_rt_conv_p *p, int iy, int nr, int cx, int span, int a, int e)\n"      \
    "{\n"                                                                                     \
    "    for (int r = 0; r < 2; r++, d += span, iy += p->sh) {\n"                             \
    "        if (r < nr && iy >= 0 && iy < p->h)\n"                                           \
    "            for (int k = a; k < e; k++)\n"                                               \
    "                d[k] = xi[iy * p->w + cx + k];\n"                                        \
    "        else\n"                                                                          \
    "            for (int k = a; k < e; k++)\n"                                               \
    "                d[k] = 0.0f;\n"                                                          \
    "    }\n"                                                                                 \
    "}\n"                                                                                     \
    "\n"                                                                                      \
    "/* Outputs [o0, o0 + no) x [oy0, oy0 + nr) x [ox0, ox0 + nw) of one image\n"            \
    " * (no <= 4, nr <= 2, nw <= 16) where some tap reads padding: the tile's loop\n"         \
    " * on zero-padded copies of the two rows each (channel, ky) contributes,\n"              \
    " * double buffered (the next pair is copied before this one is read, so the\n"          \
    " * loads do not wait on the copy's stores). nasc checks at compile time that\n"         \
    " * span <= 128. Taps whose columns all read padding are skipped. Channels\n"             \
    " * past no repeat the last one; nothing past no, nr, nw is stored. */\n"                 \
    "static void nasc_rt_dc_edge_s" #S "(const float *restrict x, const float *restrict w,\n" \
    "        const float *restrict b, float *restrict y, const nasc_rt_conv_p *p,\n"         \
    "        int o0, int no, int oy0, int nr, int ox0, int nw)\n"                             \
    "{\n"                                                                                     \
    "    int ws = p->c * p->kh * p->kw, cx = ox0 * " #S " - p->pl, xs = p->h * p->w;\n"       \
    "    int span = 15 * " #S " + (p->kw - 1) * p->dw + 1, iy0 = oy0 * p->sh - p->pt;\n"      \
    "    int a = cx < 0 ? -cx : 0, e = p->w - cx < span ? p->w - cx : span;\n"               \
    "    float sb[2][256];\n"                                                                 \
    DC_EACH(DE_DECL)                                                                          \
    "    for (int k = 0; k < 2 * span; k++)\n"                                                \
    "        sb[0][k] = 0.0f, sb[1][k] = 0.0f;\n"                                             \
    "    nasc_rt_dc_stage_s" #S "(x, sb[0], p, iy0, nr, cx, span, a, e);\n"                   \
    "    for (int j = 0; j < 16; j++) {\n"                                                    \
    DC_EACH(DC_INIT)                                                                          \
    "    }\n"                                                                                 \
    "    for (int q = 0, tap = 0; q < p->c * p->kh; q++) { /* q = i * kh + ky */\n"           \
    "        const float *restrict s = sb[q % 2];\n"                                          \
    "        int nq = q + 1;\n"                                                              \
    "        if (nq < p->c * p->kh)\n"                                                        \
    "            nasc_rt_dc_stage_s" #S "(x + nq / p->kh * xs, sb[nq % 2], p,\n"              \
    "                                iy0 + nq % p->kh * p->dh, nr, cx, span, a, e);\n"        \
    "        for (int kx = 0; kx < p->kw; kx++, tap++) {\n"                                   \
    "            int c0 = cx + kx * p->dw;\n"                                                 \
    "            const float *restrict x0 = s + kx * p->dw;\n"                                \
    "            if (c0 + 15 * " #S " < 0 || c0 >= p->w)\n"                                   \
    "                continue; /* all 16 columns read padding */\n"                           \
    "            {\n"                                                                         \
    DC_EACH(DE_WEIGHT)                                                                        \
    "                for (int j = 0; j < 16; j++) {\n"                                        \
    "                    float u = x0[j * " #S "], t = x0[span + j * " #S "];\n"              \
    DC_EACH(DC_FMA)                                                                           \
    "                }\n"                                                                     \
    "            }\n"                                                                         \
    "        }\n"                                                                             \
    "    }\n"                                                                                 \
    DC_EACH(DE_STORE)                                                                         \
    "}\n"                                                                                     \
    "\n"                                                                                      \
    "/* Columns [c0, c1) of the same block, 16 at a time. */\n"                               \
    "static void nasc_rt_dc_cols_s" #S "(const float *x, const float *w, const float *b,\n"   \
    "        float *y, const nasc_rt_conv_p *p, int o0, int no, int oy0, int nr, int c0,\n"   \
    "        int c1)\n"                                                                       \
    "{\n"                                                                                     \
    "    for (int ox = c0; ox < c1; ox += 16)\n"                                              \
    "        nasc_rt_dc_edge_s" #S "(x, w, b, y, p, o0, no, oy0, nr, ox,\n"                   \
    "                               c1 - ox < 16 ? c1 - ox : 16);\n"                          \
    "}\n"                                                                                     \
    "\n"                                                                                      \
    "/* Rows [r0, r1) of one image, all channels, through the edge routine. */\n"             \
    "static void nasc_rt_dc_rows_s" #S "(const float *x, const float *w, const float *b,\n"   \
    "        float *y, const nasc_rt_conv_p *p, int r0, int r1)\n"                            \
    "{\n"                                                                                     \
    "    for (int oy = r0; oy < r1; oy += 2)\n"                                               \
    "        for (int o = 0; o < p->oc; o += 4)\n"                                            \
    "            nasc_rt_dc_cols_s" #S "(x, w, b, y, p, o, p->oc - o < 4 ? p->oc - o : 4, oy,\n" \
    "                                   r1 - oy < 2 ? 1 : 2, 0, p->ow);\n"                    \
    "}\n"                                                                                     \
    "\n"

/* The driver: border rows above the interior, interior row pairs (the last
 * moved back to end at yhi), border rows below. Interior rows run aligned,
 * non-overlapping tiles across [lo, hi), lo the first multiple of 16 at or
 * after xlo (so the left border is one 16-wide edge block, not a 1-wide one),
 * and edge blocks on either side. The tile's input pointer is formed in one
 * expression: it stands inside the plane. */
#define DC_DRIVER(S)                                                                        \
    "/* Dense convolution (groups 1), horizontal stride " #S "; b may be NULL. Interior\n"     \
    " * tiles of 4 channels x 2 rows x 16 columns run nasc_rt_dc_tile_s" #S ", the rest\n"    \
    " * nasc_rt_dc_edge_s" #S "; each output is bias + taps in (c, ky, kx) order. */\n"       \
    "static void nasc_rt_dconv_s" #S "(const float *restrict x, const float *restrict w,\n"  \
    "        const float *restrict b, float *restrict y, const nasc_rt_conv_p *p)\n"         \
    "{\n"                                                                                     \
    "    int ylo, yhi, xlo, xhi, lo, hi, ocb = p->oc - p->oc % 4;\n"                          \
    "    nasc_rt_span(-p->pt, p->sh, p->h - (p->kh - 1) * p->dh, p->oh, &ylo, &yhi);\n"       \
    "    nasc_rt_span(-p->pl, " #S ", p->w - (p->kw - 1) * p->dw, p->ow, &xlo, &xhi);\n"      \
    "    lo = (xlo + 15) / 16 * 16;\n"                                                        \
    "    hi = xhi - lo >= 16 ? lo + (xhi - lo) / 16 * 16 : lo;\n"                             \
    "    if (yhi - ylo < 2 || hi == lo || ocb == 0)\n"                                        \
    "        ylo = yhi = 0; /* no tile fits: all edge */\n"                                   \
    "    for (int n = 0; n < p->n; n++) {\n"                                                  \
    "        const float *xn = x + n * p->c * p->h * p->w;\n"                                 \
    "        float *yn = y + n * p->oc * p->oh * p->ow;\n"                                    \
    "        nasc_rt_dc_rows_s" #S "(xn, w, b, yn, p, 0, ylo);\n"                             \
    "        for (int oy = ylo; oy < yhi; oy += 2) {\n"                                       \
    "            int oy0 = oy + 2 <= yhi ? oy : yhi - 2;\n"                                   \
    "            for (int o = 0; o < ocb; o += 4) {\n"                                        \
    "                const float *wo = w + o * p->c * p->kh * p->kw;\n"                       \
    "                float *yo = yn + (o * p->oh + oy0) * p->ow;\n"                           \
    "                nasc_rt_dc_cols_s" #S "(xn, w, b, yn, p, o, 4, oy0, 2, 0, lo);\n"         \
    "                for (int ox = lo; ox < hi; ox += 16)\n"                                  \
    "                    nasc_rt_dc_tile_s" #S "(\n"                                          \
    "                        xn + (oy0 * p->sh - p->pt) * p->w + ox * " #S " - p->pl, wo,\n"  \
    "                        b ? b + o : b, yo + ox, p);\n"                                   \
    "                nasc_rt_dc_cols_s" #S "(xn, w, b, yn, p, o, 4, oy0, 2, hi, p->ow);\n"     \
    "            }\n"                                                                         \
    "            if (ocb < p->oc)\n"                                                          \
    "                nasc_rt_dc_cols_s" #S "(xn, w, b, yn, p, ocb, p->oc - ocb, oy0, 2, 0,\n"  \
    "                                      p->ow);\n"                                         \
    "        }\n"                                                                             \
    "        nasc_rt_dc_rows_s" #S "(xn, w, b, yn, p, yhi, p->oh);\n"                         \
    "    }\n"                                                                                 \
    "}\n"

#define DC_KERNEL(S) DC_TILE(S) DC_EDGE(S) DC_DRIVER(S)

const char cg_k_dconv_s1[] = DC_KERNEL(1);
const char cg_k_dconv_s2[] = DC_KERNEL(2);
