/* emit_c_conv.c — the dense convolution kernels pasted into emitted C files
 * (groups 1, any kernel size, padding and dilation, horizontal stride 1 or 2).
 *
 * The generic nasc_rt_conv2d adds one tap of one input plane into a whole
 * output plane at a time: every multiply-add loads and stores its output,
 * so it runs at memory speed. Auto-DeepLab spends ~80 % of its multiply-adds
 * in dense 3x3 convolutions (stems, ASPP, decoder) and the DARTS ImageNet
 * stems are dense 3x3 stride-2 convolutions, so these get register-blocked
 * kernels. The one idea: a tile is 8 output channels x 2 output rows x 16
 * output columns, 256 accumulators in sixteen local 16-float arrays written
 * out rather than looped over (see k_pw_tiles for why) — sixteen zmm
 * registers with 512-bit vectors, leaving room for two input rows and eight
 * broadcast weights; per input channel and tap it loads one 16-column vector
 * per row, broadcasts eight weights and does sixteen vector multiply-adds.
 *
 * Along each axis the outputs fall into segments (nasc_rt_dc_next) inside
 * which every tap reads inside the input for all outputs or for none: the
 * interior, and at the borders one segment per tap that starts or stops
 * reading padding (ASPP's dilation 18 on a 41-wide map: [0,18) without the
 * left tap, [18,23) with all three, [23,41) without the right one). Three
 * routines compute tiles; the stride-1 driver picks per block:
 *
 * - nasc_rt_dc_tile: a block inside one row segment and one column segment
 *   at least 16 wide runs only the taps that read inside, straight from the
 *   input planes, all channels in registers. Blocks start at the segment's
 *   first row and column; the last one is moved back to end at the
 *   segment's end and recomputes a few outputs bit for bit.
 * - nasc_rt_dc_strip: narrow column segments (<= 8 columns: pads, the
 *   middle of ASPP 18) and the last <= 4 columns of a wide one, when the row
 *   segment has >= 16 rows: one column x 16 rows x 16 output channels, rows
 *   as vector lanes, the input columns copied one channel ahead (a strided
 *   load per tap is built element by element: gcc does not use gathers
 *   here). So an 81-wide map with pad 1 costs 4 tiles, a moved-back one
 *   and two strips, not 6 tiles.
 * - nasc_rt_dc_edge_s<S>: everything else (short row segments, wider
 *   narrow segments, maps under 16 wide or 8 channels) and every stride-2
 *   block: the tile's loop over zero-padded copies of the input rows it
 *   reads, staged one input channel ahead in a double buffer so the loads do
 *   not wait on the copy's stores. For stride 2 the copy splits even and odd
 *   columns, so every tap again loads 16 consecutive floats (gcc does not
 *   vectorise a 16-lane stride-2 load at 512 bits: the group would end past
 *   the last element it reads). Taps whose rows or columns all read padding
 *   are skipped. The copies hold at most 320 floats a buffer
 *   (cg_dconv_fits): firmware frames stay under 4 KiB.
 *
 * Weights are read in their [oc, c, kh, kw] layout: the eight weights of one
 * (channel, tap) are scalar broadcasts c * kh * kw floats apart, so no packed
 * copy is needed and firmware, blob and JIT files share the arrays. Each
 * output is bias + taps in (input channel, ky, kx) order, taps outside the
 * input skipped (the edge adds w * 0 for the padding part of a tap, which
 * changes at most the sign of a zero): the order of nasc_rt_conv2d, so the
 * rounding is the same up to FMA contraction. Output channels past the last
 * multiple of 8 (16 for strips) are covered by moving the last block back;
 * with fewer than 8 channels the edge repeats the last one.
 */
#include "internal.h"

/* ---- one line of text per output channel n of a tile (0..7) ---- */
#define DC_EACH(F) F(0) F(1) F(2) F(3) F(4) F(5) F(6) F(7)
/* s<n> accumulates output row 0 of channel n, t<n> row 1. */
#define DC_ACC(n) "    float s" #n "[16], t" #n "[16];\n"
#define DC_INIT(n) "        s" #n "[j] = bv" #n ", t" #n "[j] = bv" #n ";\n"
#define DC_FMA(n) "                    s" #n "[j] += v" #n " * u0, t" #n "[j] += v" #n " * u1;\n"
/* The 16 columns of both rows x0 and x1 times the eight weights v0..v7, into
 * the tile's accumulators (shared by the interior tile and the edge blocks). */
#define DC_FMA_ROWS                                                                         \
    "                for (int j = 0; j < 16; j++) {\n"                                      \
    "                    float u0 = x0[j], u1 = x1[j];\n"                                   \
    DC_EACH(DC_FMA)                                                                         \
    "                }\n"

/* The tile: x points at input (channel 0, the tile's first row and column,
 * its first tap that reads inside), w at the weight of its first output
 * channel for that tap, b at its first bias or is NULL, y at its first
 * output; it runs nky x nkx taps from there. */
#define DC_TBIAS(n) "    float bv" #n " = b ? b[" #n "] : 0.0f;\n"
#define DC_TWEIGHT(n) "                float v" #n " = wk[" #n " * ws];\n"
#define DC_TSTORE(n)                                                                        \
    "        y[" #n " * ys + j] = s" #n "[j], y[" #n " * ys + p->ow + j] = t" #n "[j];\n"

#define DC_TILE                                                                             \
    "/* 8 output channels x 2 rows x 16 columns of a dense stride-1 convolution\n"          \
    " * whose taps each read inside the input for the whole tile or for none of\n"          \
    " * it; see nasc_rt_dc_band. */\n"                                                      \
    "static void nasc_rt_dc_tile(const float *restrict x, const float *restrict w,\n"       \
    "        const float *restrict b, float *restrict y, const nasc_rt_conv_p *p,\n"        \
    "        int nky, int nkx)\n"                                                           \
    "{\n"                                                                                   \
    "    int xs = p->h * p->w, rs = p->sh * p->w, dhw = p->dh * p->w;\n"                    \
    "    int khw = p->kh * p->kw, ws = p->c * khw, ys = p->oh * p->ow;\n"                   \
    DC_EACH(DC_TBIAS)                                                                       \
    DC_EACH(DC_ACC)                                                                         \
    "    for (int j = 0; j < 16; j++) {\n"                                                  \
    DC_EACH(DC_INIT)                                                                        \
    "    }\n"                                                                               \
    "    int c = p->c, kw = p->kw, dw = p->dw;\n"                                           \
    "    for (int i = 0; i < c; i++, x += xs, w += khw)\n"                                  \
    "        for (int ky = 0; ky < nky; ky++) {\n"                                          \
    "            const float *restrict x0 = x + ky * dhw, *restrict wk = w + ky * kw;\n"    \
    "            for (int kx = 0; kx < nkx; kx++, x0 += dw, wk++) {\n"                      \
    "                const float *restrict x1 = x0 + rs;\n"                                 \
    DC_EACH(DC_TWEIGHT)                                                                     \
    DC_FMA_ROWS                                                                             \
    "            }\n"                                                                       \
    "        }\n"                                                                           \
    "    for (int j = 0; j < 16; j++) {\n"                                                  \
    DC_EACH(DC_TSTORE)                                                                      \
    "    }\n"                                                                               \
    "}\n"                                                                                   \
    "\n"

/* ---- the strip: 16 output channels, one line per channel n ---- */
#define DS_EACH(F) DC_EACH(F) F(8) F(9) F(10) F(11) F(12) F(13) F(14) F(15)
#define DS_DECL(n)                                                                          \
    "    const float *restrict w" #n " = w + (o0 + " #n ") * ws;\n"                         \
    "    float s" #n "[16], bv" #n " = b ? b[o0 + " #n "] : 0.0f;\n"
#define DS_INIT(n) "        s" #n "[j] = bv" #n ";\n"
#define DS_WEIGHT(n) "                float v" #n " = w" #n "[t + kx];\n"
#define DS_FMA(n) "                    s" #n "[j] += v" #n " * u;\n"
#define DS_STORE(n) "        y[((o0 + " #n ") * p->oh + oy0 + j) * p->ow + ox] = s" #n "[j];\n"

/* Strips need vertical stride 1 and a column copy of nkx * len <= 192 floats;
 * the driver checks both (no strips otherwise). */
#define DC_STRIP                                                                            \
    "/* Output column ox, rows [oy0, oy0 + 16), channels [o0, o0 + 16) of a dense\n"        \
    " * convolution (vertical stride 1) whose tap rows [ky0, ky1) read inside the\n"        \
    " * input for all those rows and the others for none: rows are the vector\n"            \
    " * lanes. The input columns the taps read are copied, one channel ahead into\n"        \
    " * a double buffer, so every tap loads 16 consecutive floats; taps whose\n"            \
    " * column reads padding are skipped. */\n"                                             \
    "static void nasc_rt_dc_strip(const float *restrict x, const float *restrict w,\n"      \
    "        const float *restrict b, float *restrict y, const nasc_rt_conv_p *p,\n"        \
    "        int o0, int oy0, int ox, int ky0, int ky1)\n"                                  \
    "{\n"                                                                                   \
    "    int xs = p->h * p->w, khw = p->kh * p->kw, ws = p->c * khw, kx0, kx1;\n"           \
    "    int cx = ox * p->sw - p->pl, iy = oy0 - p->pt + ky0 * p->dh;\n"                    \
    "    nasc_rt_span(cx, p->dw, p->w, p->kw, &kx0, &kx1);\n"                               \
    "    int nky = ky1 - ky0, nkx = kx1 - kx0, len = 15 + (nky - 1) * p->dh + 1;\n"         \
    "    float cbuf[2][192];\n"                                                             \
    DS_EACH(DS_DECL)                                                                        \
    "    for (int j = 0; j < 16; j++) {\n"                                                  \
    DS_EACH(DS_INIT)                                                                        \
    "    }\n"                                                                               \
    "    for (int i = -1; i < p->c && nky > 0 && nkx > 0; i++) {\n"                         \
    "        if (i + 1 < p->c) { /* column cx + kx * dw, rows iy + [0, len) */\n"           \
    "            const float *restrict xc = x + (i + 1) * xs + iy * p->w + cx + kx0 * p->dw;\n" \
    "            float *restrict d = cbuf[(i + 1) % 2];\n"                                  \
    "            for (int kx = 0; kx < nkx; kx++, xc += p->dw, d += len)\n"                 \
    "                for (int r = 0; r < len; r++)\n"                                       \
    "                    d[r] = xc[r * p->w];\n"                                            \
    "        }\n"                                                                           \
    "        for (int ky = 0; ky < nky && i >= 0; ky++) {\n"                                \
    "            const float *restrict ck = cbuf[i % 2] + ky * p->dh;\n"                    \
    "            int t = (i * p->kh + ky0 + ky) * p->kw + kx0;\n"                           \
    "            for (int kx = 0; kx < nkx; kx++) {\n"                                      \
    "                const float *restrict xk = ck + kx * len;\n"                           \
    DS_EACH(DS_WEIGHT)                                                                      \
    "                for (int j = 0; j < 16; j++) {\n"                                      \
    "                    float u = xk[j];\n"                                                \
    DS_EACH(DS_FMA)                                                                         \
    "                }\n"                                                                   \
    "            }\n"                                                                       \
    "        }\n"                                                                           \
    "    }\n"                                                                               \
    "    for (int j = 0; j < 16; j++) {\n"                                                  \
    DS_EACH(DS_STORE)                                                                       \
    "    }\n"                                                                               \
    "}\n"                                                                                   \
    "\n"                                                                                    \
    "/* Strips over columns [c0, c1) of rows [r0, r1) (r1 - r0 >= 16, oc >= 16). */\n"      \
    "static void nasc_rt_dc_strips(const float *x, const float *w, const float *b, float *y,\n" \
    "        const nasc_rt_conv_p *p, int r0, int r1, int c0, int c1, int ky0, int ky1)\n"  \
    "{\n"                                                                                   \
    "    for (int oy = r0; oy < r1; oy += 16)\n"                                            \
    "        for (int o = 0; o < p->oc; o += 16)\n"                                         \
    "            for (int ox = c0; ox < c1; ox++)\n"                                        \
    "                nasc_rt_dc_strip(x, w, b, y, p, o + 16 <= p->oc ? o : p->oc - 16,\n"   \
    "                                 oy + 16 <= r1 ? oy : r1 - 16, ox, ky0, ky1);\n"       \
    "}\n"                                                                                   \
    "\n"

/* ---- the edge routine, stride S ---- */

/* Stages the rows one input channel plane xi contributes to an edge block
 * into d: staged row q (sb floats apart) is input row iq + q when ur, else
 * iq + min(q % 2, nr - 1) * sh + q / 2 * dh (row q % 2 of tap row q / 2);
 * its float k is input column cx + k (stride 1) or, stride 2, float k < sb / 2
 * is column cx + 2k and float sb / 2 + k column cx + 2k + 1. Columns and rows
 * outside the plane are left alone: the caller zeroed the buffer once, and
 * they are the same for every channel. Columns are copied 16 at a time (the
 * last 16 moved back), narrow rows one by one (no loop gcc would turn into
 * a memcpy call: a call in the channel loop spills the accumulators). */
#define DC_STAGE_S1                                                                         \
    "    int a = cx < 0 ? -cx : 0, e = p->w - cx < sb ? p->w - cx : sb;\n"                  \
    "    for (int q = 0; q < nrow; q++, d += sb) {\n"                                       \
    "        int iy = ur ? iq + q : iq + (q % 2 < nr ? q % 2 : nr - 1) * p->sh + q / 2 * p->dh;\n" \
    "        if (iy < 0 || iy >= p->h)\n"                                                   \
    "            continue;\n"                                                               \
    "        const float *restrict row = xi + iy * p->w;\n"                                 \
    "        if (e - a < 16) {\n"                                                           \
    "            for (int k = 0; k < 16; k++)\n"                                            \
    "                if (a + k < e)\n"                                                      \
    "                    d[a + k] = row[cx + a + k];\n"                                     \
    "            continue;\n"                                                               \
    "        }\n"                                                                           \
    "        for (int k0 = a; k0 < e; k0 += 16) {\n"                                        \
    "            int kk = k0 + 16 <= e ? k0 : e - 16;\n"                                    \
    "            for (int k = 0; k < 16; k++)\n"                                            \
    "                d[kk + k] = row[cx + kk + k];\n"                                       \
    "        }\n"                                                                           \
    "    }\n"
/* Stride 2: even columns [ae, ee), odd ones [ao, eo) of the half rows, both
 * at once where both exist (a whole group of loads: vectorised), which leaves
 * at most one odd at the left and one even at the right. */
#define DC_STAGE_S2                                                                         \
    "    int h2 = sb / 2;\n"                                                                \
    "    int ae = cx < 0 ? (1 - cx) / 2 : 0, ee = (p->w - cx + 1) / 2;\n"                   \
    "    int ao = cx < 0 ? -cx / 2 : 0, eo = (p->w - cx) / 2;\n"                            \
    "    ee = ee < h2 ? ee : h2, eo = eo < h2 ? eo : h2;\n"                                 \
    "    for (int q = 0; q < nrow; q++, d += sb) {\n"                                       \
    "        int iy = ur ? iq + q : iq + (q % 2 < nr ? q % 2 : nr - 1) * p->sh + q / 2 * p->dh;\n" \
    "        if (iy < 0 || iy >= p->h)\n"                                                   \
    "            continue;\n"                                                               \
    "        const float *restrict row = xi + iy * p->w;\n"                                 \
    "        for (int k = ae; k < eo; k++)\n"                                               \
    "            d[k] = row[cx + 2 * k], d[h2 + k] = row[cx + 2 * k + 1];\n"                \
    "        if (ao < ae && ao < eo)\n"                                                     \
    "            d[h2 + ao] = row[cx + 2 * ao + 1];\n"                                      \
    "        if (eo < ee && eo >= ae)\n"                                                    \
    "            d[eo] = row[cx + 2 * eo];\n"                                               \
    "    }\n"

/* Edge tile lines: channels past no take the last one's weights and bias,
 * row 1 past nr repeats row 0; they store the same values to the same place. */
#define DE_DECL(n)                                                                          \
    "    int c" #n " = o0 + (" #n " < no ? " #n " : no - 1);\n"                             \
    "    const float *restrict w" #n " = w + c" #n " * ws;\n"                               \
    "    float bv" #n " = b ? b[c" #n "] : 0.0f;\n"
#define DE_WEIGHT(n) "                float v" #n " = w" #n "[t + kx];\n"
#define DE_STORE(n)                                                                         \
    "            y[c" #n " * ys + j] = s" #n "[j], y[c" #n " * ys + r1 + j] = t" #n "[j];\n"

/* The tap's offset in a staged row: column kx * dw (stride 1), or its half
 * and position there (stride 2). */
#define DC_OFF_1 "kx * p->dw"
#define DC_OFF_2 "kx * p->dw / 2 + kx * p->dw % 2 * (sb / 2)"

#define DC_EDGE(S)                                                                          \
    "/* Stages one input channel for nasc_rt_dc_edge_s" #S "; see there. */\n"              \
    "static void nasc_rt_dc_stage_s" #S "(const float *restrict xi, float *restrict d,\n"   \
    "        const nasc_rt_conv_p *p, int nrow, int ur, int iq, int nr, int cx, int sb)\n"  \
    "{\n"                                                                                   \
    DC_STAGE_S##S                                                                           \
    "}\n"                                                                                   \
    "\n"                                                                                    \
    "/* Outputs [o0, o0 + no) x [oy0, oy0 + nr) x [ox0, ox0 + nw) of one image\n"           \
    " * (no <= 8, nr <= 2, nw <= 16) where taps may read padding: the tile's\n"             \
    " * loop on zero-padded copies of the input rows (nasc_rt_dc_stage_s" #S "),\n"         \
    " * staged one channel ahead. Rows are staged once when the tile's two rows\n"          \
    " * share them (ur: small dilation), else per (tap row, row). Taps whose\n"             \
    " * rows or columns all read padding are skipped. cg_dconv_fits checked\n"              \
    " * that nrow * sb <= 320. */\n"                                                        \
    "static void nasc_rt_dc_edge_s" #S "(const float *restrict x, const float *restrict w,\n" \
    "        const float *restrict b, float *restrict y, const nasc_rt_conv_p *p,\n"        \
    "        int o0, int no, int oy0, int nr, int ox0, int nw)\n"                           \
    "{\n"                                                                                   \
    "    int xs = p->h * p->w, khw = p->kh * p->kw, ws = p->c * khw, ys = p->oh * p->ow;\n" \
    "    int cx = ox0 * " #S " - p->pl, iy = oy0 * p->sh - p->pt, ky0, ky1, kx0, kx1;\n"    \
    "    int sb = " #S " * (16 + (p->kw - 1) * p->dw / " #S ");\n"                          \
    "    int rh = (nr - 1) * p->sh; /* ky0, ky1: tap rows some row reads inside */\n"       \
    "    nasc_rt_span(iy + rh, p->dh, p->h + rh, p->kh, &ky0, &ky1);\n"                     \
    "    nasc_rt_span(cx + 15 * " #S ", p->dw, p->w + 15 * " #S ", p->kw, &kx0, &kx1);\n"   \
    "    int nk = ky1 - ky0, span = rh + (nk - 1) * p->dh + 1;\n"                           \
    "    int ur = span <= 2 * nk, nrow = nk < 1 ? 0 : ur ? span : 2 * nk;\n"                \
    "    int rq = (ur ? p->sh : 1) * (nr > 1) * sb, kq = (ur ? p->dh : 2) * sb;\n"          \
    "    float sbuf[2][320];\n"                                                             \
    "    for (int k = 0; k < nrow * sb; k++)\n"                                             \
    "        sbuf[0][k] = 0.0f, sbuf[1][k] = 0.0f;\n"                                       \
    DC_EACH(DE_DECL)                                                                        \
    DC_EACH(DC_ACC)                                                                         \
    "    for (int j = 0; j < 16; j++) {\n"                                                  \
    DC_EACH(DC_INIT)                                                                        \
    "    }\n"                                                                               \
    "    for (int i = -1; i < p->c && nk > 0; i++) {\n"                                     \
    "        if (i + 1 < p->c)\n"                                                           \
    "            nasc_rt_dc_stage_s" #S "(x + (i + 1) * xs, sbuf[(i + 1) % 2], p, nrow, ur,\n" \
    "                                 iy + ky0 * p->dh, nr, cx, sb);\n"                     \
    "        for (int ky = ky0; ky < ky1 && i >= 0; ky++) {\n"                              \
    "            const float *restrict r0 = sbuf[i % 2] + (ky - ky0) * kq;\n"               \
    "            int t = (i * p->kh + ky) * p->kw;\n"                                       \
    "            for (int kx = kx0; kx < kx1; kx++) {\n"                                    \
    "                const float *restrict x0 = r0 + " DC_OFF_##S ", *restrict x1 = x0 + rq;\n" \
    DC_EACH(DE_WEIGHT)                                                                      \
    DC_FMA_ROWS                                                                             \
    "            }\n"                                                                       \
    "        }\n"                                                                           \
    "    }\n"                                                                               \
    "    int r1 = (nr > 1) * p->ow;\n"                                                      \
    "    y += oy0 * p->ow + ox0;\n"                                                         \
    "    if (nw == 16)\n"                                                                   \
    "        for (int j = 0; j < 16; j++) {\n"                                              \
    DC_EACH(DE_STORE)                                                                       \
    "        }\n"                                                                           \
    "    else\n"                                                                            \
    "        for (int j = 0; j < nw; j++) {\n"                                              \
    DC_EACH(DE_STORE)                                                                       \
    "        }\n"                                                                           \
    "}\n"                                                                                   \
    "\n"                                                                                    \
    "/* Rows [r0, r1) of one image, every channel and column, as edge blocks. */\n"         \
    "static void nasc_rt_dc_rows_s" #S "(const float *x, const float *w, const float *b,\n" \
    "        float *y, const nasc_rt_conv_p *p, int r0, int r1)\n"                          \
    "{\n"                                                                                   \
    "    int nr = p->oh < 2 ? p->oh : 2, no = p->oc < 8 ? p->oc : 8;\n"                     \
    "    int nw = p->ow < 16 ? p->ow : 16;\n"                                               \
    "    for (int oy = r0; oy < r1; oy += 2)\n"                                             \
    "        for (int o = 0; o < p->oc; o += 8)\n"                                          \
    "            for (int ox = 0; ox < p->ow; ox += 16)\n"                                  \
    "                nasc_rt_dc_edge_s" #S "(x, w, b, y, p, o + no <= p->oc ? o : p->oc - no,\n" \
    "                    no, oy + nr <= p->oh ? oy : p->oh - nr, nr,\n"                     \
    "                    ox + nw <= p->ow ? ox : p->ow - nw, nw);\n"                        \
    "}\n"                                                                                   \
    "\n"

/* The stride-1 driver: row segments of >= 2 rows go in pairs through
 * nasc_rt_dc_band, their narrow column parts through strips when the row
 * segment has >= 16 rows; shorter row segments and small maps are edge
 * blocks. nasc_rt_dc_strip_cols says how many columns at the end of a column
 * segment strips take: a strip costs about 2.7 columns of a tile, an edge
 * block about 23. */
#define DC_DRIVER_S1                                                                        \
    "/* The first output after o, along one axis (stride s, leading pad, k taps d\n"        \
    " * apart, n inputs, nout outputs), where some tap starts or stops reading\n"           \
    " * inside the input; nout if none. */\n"                                               \
    "static int nasc_rt_dc_next(int o, int s, int pad, int k, int d, int n, int nout)\n"    \
    "{\n"                                                                                   \
    "    int nx = nout;\n"                                                                  \
    "    for (int t = 0; t < k; t++) {\n"                                                   \
    "        int lo, hi;\n"                                                                 \
    "        nasc_rt_span(t * d - pad, s, n, nout, &lo, &hi);\n"                            \
    "        if (lo > o && lo < nx)\n"                                                      \
    "            nx = lo;\n"                                                                \
    "        if (hi > o && hi < nx)\n"                                                      \
    "            nx = hi;\n"                                                                \
    "    }\n"                                                                               \
    "    return nx;\n"                                                                      \
    "}\n"                                                                                   \
    "\n"                                                                                    \
    "/* Columns at the end of an n-wide segment that strips compute. */\n"                  \
    "static int nasc_rt_dc_strip_cols(int n)\n"                                             \
    "{\n"                                                                                   \
    "    return n < 16 ? (n <= 8 ? n : 0) : (n % 16 <= 4 ? n % 16 : 0);\n"                  \
    "}\n"                                                                                   \
    "\n"                                                                                    \
    "/* Output rows oy0, oy0 + 1, which read tap rows [ky0, ky1) inside: per column\n"      \
    " * segment, tiles over >= 16 columns and edge blocks over narrower ones, but\n"        \
    " * for the columns strips take when strips is set. */\n"                               \
    "static void nasc_rt_dc_band(const float *x, const float *w, const float *b, float *y,\n" \
    "        const nasc_rt_conv_p *p, int oy0, int ky0, int ky1, int strips)\n"             \
    "{\n"                                                                                   \
    "    int khw = p->kh * p->kw, iy = oy0 * p->sh - p->pt + ky0 * p->dh;\n"                \
    "    for (int o = 0; o < p->oc; o += 8) {\n"                                            \
    "        int o0 = o + 8 <= p->oc ? o : p->oc - 8;\n"                                    \
    "        for (int ca = 0, cb; ca < p->ow; ca = cb) {\n"                                 \
    "            cb = nasc_rt_dc_next(ca, 1, p->pl, p->kw, p->dw, p->w, p->ow);\n"          \
    "            int kx0, kx1, n = cb - ca, ns = strips ? nasc_rt_dc_strip_cols(n) : 0;\n"  \
    "            if (n < 16) {\n"                                                           \
    "                if (!ns)\n"                                                            \
    "                    nasc_rt_dc_edge_s1(x, w, b, y, p, o0, 8, oy0, 2, ca, n);\n"        \
    "                continue;\n"                                                           \
    "            }\n"                                                                       \
    "            nasc_rt_span(ca - p->pl, p->dw, p->w, p->kw, &kx0, &kx1);\n"               \
    "            int nky = ky1 - ky0, nkx = kx1 - kx0, in = nky > 0 && nkx > 0, end = cb - ns;\n" \
    "            for (int ox = ca; ox < end; ox += 16) {\n"                                 \
    "                int ox0 = ox + 16 <= end ? ox : end - 16;\n"                           \
    "                nasc_rt_dc_tile(in ? x + iy * p->w + ox0 - p->pl + kx0 * p->dw : x,\n" \
    "                                w + o0 * p->c * khw + (in ? ky0 * p->kw + kx0 : 0),\n" \
    "                                b ? b + o0 : b, y + (o0 * p->oh + oy0) * p->ow + ox0, p,\n" \
    "                                in ? nky : 0, in ? nkx : 0);\n"                        \
    "            }\n"                                                                       \
    "        }\n"                                                                           \
    "    }\n"                                                                               \
    "}\n"                                                                                   \
    "\n"                                                                                    \
    "/* Dense convolution (groups 1), horizontal stride 1; b may be NULL. Tiles run\n"      \
    " * nasc_rt_dc_tile, narrow columns nasc_rt_dc_strip, the rest nasc_rt_dc_edge_s1;\n"   \
    " * each output is bias + taps in (c, ky, kx) order. */\n"                              \
    "static void nasc_rt_dconv_s1(const float *restrict x, const float *restrict w,\n"      \
    "        const float *restrict b, float *restrict y, const nasc_rt_conv_p *p)\n"        \
    "{\n"                                                                                   \
    "    for (int n = 0; n < p->n; n++) {\n"                                                \
    "        const float *xn = x + n * p->c * p->h * p->w;\n"                               \
    "        float *yn = y + n * p->oc * p->oh * p->ow;\n"                                  \
    "        for (int ra = 0, rb; ra < p->oh; ra = rb) {\n"                                 \
    "            int ky0, ky1;\n"                                                           \
    "            rb = nasc_rt_dc_next(ra, p->sh, p->pt, p->kh, p->dh, p->h, p->oh);\n"      \
    "            nasc_rt_span(ra * p->sh - p->pt, p->dh, p->h, p->kh, &ky0, &ky1);\n"       \
    "            if (rb - ra < 2 || p->oc < 8 || p->ow < 16) {\n"                           \
    "                nasc_rt_dc_rows_s1(xn, w, b, yn, p, ra, rb);\n"                        \
    "                continue;\n"                                                           \
    "            }\n"                                                                       \
    "            int strips = rb - ra >= 16 && p->oc >= 16 && p->sh == 1 &&\n"              \
    "                         p->kw * (16 + (p->kh - 1) * p->dh) <= 192;\n"                 \
    "            for (int oy = ra; oy < rb; oy += 2)\n"                                     \
    "                nasc_rt_dc_band(xn, w, b, yn, p, oy + 2 <= rb ? oy : rb - 2, ky0, ky1,\n" \
    "                                strips);\n"                                            \
    "            for (int ca = 0, cb; strips && ca < p->ow; ca = cb) {\n"                   \
    "                cb = nasc_rt_dc_next(ca, 1, p->pl, p->kw, p->dw, p->w, p->ow);\n"      \
    "                int ns = nasc_rt_dc_strip_cols(cb - ca);\n"                            \
    "                nasc_rt_dc_strips(xn, w, b, yn, p, ra, rb, cb - ns, cb, ky0, ky1);\n"  \
    "            }\n"                                                                       \
    "        }\n"                                                                           \
    "    }\n"                                                                               \
    "}\n"

#define DC_DRIVER_S2                                                                        \
    "/* Dense convolution (groups 1), horizontal stride 2; b may be NULL. Every\n"          \
    " * block runs nasc_rt_dc_edge_s2 (stride-2 loads want the staged even and\n"           \
    " * odd columns); each output is bias + taps in (c, ky, kx) order. */\n"                \
    "static void nasc_rt_dconv_s2(const float *restrict x, const float *restrict w,\n"      \
    "        const float *restrict b, float *restrict y, const nasc_rt_conv_p *p)\n"        \
    "{\n"                                                                                   \
    "    for (int n = 0; n < p->n; n++)\n"                                                  \
    "        nasc_rt_dc_rows_s2(x + n * p->c * p->h * p->w, w, b,\n"                        \
    "                           y + n * p->oc * p->oh * p->ow, p, 0, p->oh);\n"             \
    "}\n"

const char cg_k_dconv_s1[] = DC_TILE DC_STRIP DC_EDGE(1) DC_DRIVER_S1;
const char cg_k_dconv_s2[] = DC_EDGE(2) DC_DRIVER_S2;

/* Staged rows (the widest tap-row range any edge block reads) times the
 * floats of a staged row must fit nasc_rt_dc_edge_s<S>'s 320-float buffers. */
bool cg_dconv_fits(const Conv2dAttrs *a, int64_t h, int64_t oh, int64_t kh, int64_t kw)
{
    int64_t s = a->stride[1], sh = a->stride[0], dh = a->dilation[0], nk = 0;
    if (s != 1 && s != 2)
        return false;
    for (int64_t ky = 0; ky < kh; ky++) { /* tap rows some output row reads inside */
        int64_t lo = ky * dh - a->pad[0], hi = lo + (oh - 1) * sh;
        nk += hi >= 0 && lo < h;
    }
    int64_t sb = s * (16 + (kw - 1) * a->dilation[1] / s);
    int64_t span = (oh > 1) * sh + (nk - 1) * dh + 1, rows = span <= 2 * nk ? span : 2 * nk;
    return nk == 0 || rows * sb <= 320;
}
