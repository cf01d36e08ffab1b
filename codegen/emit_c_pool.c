/* emit_c_pool.c — the pooling kernels pasted into emitted C files: generic
 * max and average pooling, their border helpers, the 3x3 stride-1/2 kernels
 * with an unclipped interior, and global average pooling. Same contract as
 * emit_c_kernels.c (C99 text, no libm, runtime/ref/ semantics); the table
 * there lists them.
 */
#include "internal.h"

const char cg_k_maxpool2d[] =
    "/* Max pooling; padding is -inf, so only in-bounds taps compete (the IR\n"
    " * keeps pads <= kernel/2, so no window is empty). NaN propagates. */\n"
    "static void nasc_rt_maxpool2d(const float *x, float *y, const nasc_rt_pool_p *p)\n"
    "{\n"
    "    for (int nc = 0; nc < p->nc; nc++) {\n"
    "        const float *xc = x + nc * p->h * p->w;\n"
    "        float *yc = y + nc * p->oh * p->ow;\n"
    "        for (int i = 0; i < p->oh; i++) {\n"
    "            int h0, h1;\n"
    "            nasc_rt_window(i, p->h, p->kh, p->sh, p->pt, p->pb, &h0, &h1);\n"
    "            for (int j = 0; j < p->ow; j++) {\n"
    "                int w0, w1;\n"
    "                float m;\n"
    "                nasc_rt_window(j, p->w, p->kw, p->sw, p->pl, p->pr, &w0, &w1);\n"
    "                m = h0 < h1 && w0 < w1 ? xc[h0 * p->w + w0] : -3.402823466e+38f;\n"
    "                for (int u = h0; u < h1; u++)\n"
    "                    for (int v = w0; v < w1; v++) {\n"
    "                        float t = xc[u * p->w + v];\n"
    "                        if (t > m || !(t <= t)) /* t > m, or t is NaN */\n"
    "                            m = t;\n"
    "                    }\n"
    "                yc[i * p->ow + j] = m;\n"
    "            }\n"
    "        }\n"
    "    }\n"
    "}\n"
    ;

const char cg_k_avgpool2d[] =
    "/* Average pooling; the divisor is the window clipped to the padded input\n"
    " * (count_include_pad) or to the input itself, as torch's avg_pool2d. */\n"
    "static void nasc_rt_avgpool2d(const float *x, float *y, const nasc_rt_pool_p *p)\n"
    "{\n"
    "    for (int nc = 0; nc < p->nc; nc++) {\n"
    "        const float *xc = x + nc * p->h * p->w;\n"
    "        float *yc = y + nc * p->oh * p->ow;\n"
    "        for (int i = 0; i < p->oh; i++) {\n"
    "            int h0, h1, ph = nasc_rt_window(i, p->h, p->kh, p->sh, p->pt, p->pb, &h0, &h1);\n"
    "            for (int j = 0; j < p->ow; j++) {\n"
    "                int w0, w1;\n"
    "                int pw = nasc_rt_window(j, p->w, p->kw, p->sw, p->pl, p->pr, &w0, &w1);\n"
    "                int div = p->count_include_pad ? ph * pw : (h1 - h0) * (w1 - w0);\n"
    "                float s = 0.0f;\n"
    "                for (int u = h0; u < h1; u++)\n"
    "                    for (int v = w0; v < w1; v++)\n"
    "                        s += xc[u * p->w + v];\n"
    "                yc[i * p->ow + j] = div > 0 ? s / (float)div : 0.0f;\n"
    "            }\n"
    "        }\n"
    "    }\n"
    "}\n"
    ;

/* The border outputs of the specialised 3x3 average pooling kernels below:
 * one output (i, j), computed exactly as the generic kernel computes it
 * (same clipped window, tap order and divisor), so a specialised kernel's
 * result is bit-identical to the generic one everywhere. */
const char cg_k_avg_at[] =
    "/* Output (i, j) of average pooling over the plane xc, as nasc_rt_avgpool2d. */\n"
    "static float nasc_rt_avg_at(const float *xc, const nasc_rt_pool_p *p, int i, int j)\n"
    "{\n"
    "    int h0, h1, w0, w1;\n"
    "    int ph = nasc_rt_window(i, p->h, p->kh, p->sh, p->pt, p->pb, &h0, &h1);\n"
    "    int pw = nasc_rt_window(j, p->w, p->kw, p->sw, p->pl, p->pr, &w0, &w1);\n"
    "    int div = p->count_include_pad ? ph * pw : (h1 - h0) * (w1 - w0);\n"
    "    float s = 0.0f;\n"
    "    for (int u = h0; u < h1; u++)\n"
    "        for (int v = w0; v < w1; v++)\n"
    "            s += xc[u * p->w + v];\n"
    "    return div > 0 ? s / (float)div : 0.0f;\n"
    "}\n"
    ;

/* 3x3 average pooling, stride S along both axes, as one text with the
 * constants pasted in (DARTS' avg_pool_3x3 is pad 1, stride 1 in normal
 * cells and 2 in reduction cells). The outputs whose whole window lies
 * inside the input (found once with nasc_rt_span) run a loop without
 * bounds tests whose 9 taps the compiler unrolls, vectorised along the
 * output row; the border goes through nasc_rt_avg_at. The interior sums
 * 0.0f + taps in (ky, kx) order and divides by (float)9, the divisor of an
 * unclipped window whether or not padding counts. Any pads work (the IR
 * keeps them <= 1 here). */
#define K_POOL3(KIND, S, INIT, TAP, DONE)                                                   \
    "/* " #KIND " pooling 3x3, stride " #S ". */\n"                                             \
    "static void nasc_rt_" #KIND "pool3s" #S "(const float *restrict x, float *restrict y,\n"  \
    "        const nasc_rt_pool_p *p)\n"                                                      \
    "{\n"                                                                                     \
    "    int h = p->h, wd = p->w, oh = p->oh, ow = p->ow, ylo, yhi, xlo, xhi;\n"              \
    "    nasc_rt_span(-p->pt, " #S ", h - 2, oh, &ylo, &yhi);\n"                              \
    "    nasc_rt_span(-p->pl, " #S ", wd - 2, ow, &xlo, &xhi);\n"                             \
    "    for (int nc = 0; nc < p->nc; nc++) {\n"                                              \
    "        const float *restrict xc = x + nc * h * wd;\n"                                   \
    "        float *restrict yc = y + nc * oh * ow;\n"                                       \
    "        for (int oy = 0; oy < oh; oy++) {\n"                                             \
    "            float *restrict yr = yc + oy * ow;\n"                                        \
    "            int inside = oy >= ylo && oy < yhi;\n"                                       \
    "            int lo = inside ? xlo : ow, hi = inside ? xhi : ow;\n"                       \
    "            for (int ox = 0; ox < lo; ox++)\n"                                           \
    "                yr[ox] = nasc_rt_" #KIND "_at(xc, p, oy, ox);\n"                        \
    "            for (int ox = lo; ox < hi; ox++) {\n"                                        \
    "                const float *restrict xp = xc + (oy * " #S " - p->pt) * wd\n"            \
    "                                           + ox * " #S " - p->pl;\n"                     \
    "                " INIT ";\n"                                                              \
    "                for (int ky = 0; ky < 3; ky++)\n"                                        \
    "                    for (int kx = 0; kx < 3; kx++) {\n"                                  \
    "                        float t = xp[ky * wd + kx];\n"                                   \
    "                        " TAP "\n"                                                        \
    "                    }\n"                                                                 \
    "                yr[ox] = " DONE ";\n"                                                    \
    "            }\n"                                                                         \
    "            for (int ox = hi; ox < ow; ox++)\n"                                          \
    "                yr[ox] = nasc_rt_" #KIND "_at(xc, p, oy, ox);\n"                        \
    "        }\n"                                                                             \
    "    }\n"                                                                                 \
    "}\n"

#define K_AVG3(S) K_POOL3(avg, S, "float s = 0.0f", "s += t;", "s / (float)9")

/* 3x3 max pooling, stride S, pads <= 1, rows of at most CG_MAXPOOL3_W
 * floats, as two passes per output row (max is separable): the column max of
 * its three input rows into v (vectorised along the row), then the max of
 * three neighbours in v per output. A row or column index in the padding
 * is clamped to the nearest one inside, which is in the window too (pads
 * <= 1), so the maximum is the clipped window's: the generic kernel's value,
 * up to which zero wins between -0 and +0, and NaN still propagates (the
 * select takes t when t is NaN, and t > m is false when m is).
 * Why: the kernel before this one took 9 taps per output and sent the top
 * row and left column (a quarter of DARTS ImageNet's 14x14 and 7x7 outputs)
 * through a per-output helper with bounds tests: 96 planes 28x28 -> 14x14,
 * hot, 68 -> 28 us; 192 planes 14x14 -> 7x7, 62 -> 24 us (gcc -O3). */
#define K_MAX3_STR(n) #n
#define K_MAX3_XSTR(n) K_MAX3_STR(n)
#define K_MAX3_ROW K_MAX3_XSTR(CG_MAXPOOL3_ROW)
#define K_MAX3(S)                                                                           \
    "/* max pooling 3x3, stride " #S ", pads <= 1, w + 2 <= " K_MAX3_ROW ". */\n"            \
    "static void nasc_rt_maxpool3s" #S "(const float *restrict x, float *restrict y,\n"        \
    "        const nasc_rt_pool_p *p)\n"                                                      \
    "{\n"                                                                                     \
    "    int h = p->h, wd = p->w, oh = p->oh, ow = p->ow;\n"                                  \
    "    float v[" K_MAX3_ROW "]; /* v[1 + i]: column i's max; v[0], v[wd + 1] clamped */\n" \
    "    for (int nc = 0; nc < p->nc; nc++) {\n"                                              \
    "        const float *restrict xc = x + nc * h * wd;\n"                                   \
    "        float *restrict yc = y + nc * oh * ow;\n"                                        \
    "        for (int oy = 0; oy < oh; oy++) {\n"                                             \
    "            int r = oy * " #S " - p->pt, r0 = r < 0 ? 0 : r;\n"                            \
    "            int r2 = r + 2 < h ? r + 2 : h - 1, r1 = r + 1 < h ? r + 1 : h - 1;\n"        \
    "            const float *restrict a = xc + r0 * wd, *restrict b = xc + r1 * wd;\n"      \
    "            const float *restrict e = xc + r2 * wd;\n"                                   \
    "            for (int i = 0; i < wd; i++) {\n"                                            \
    "                float m = a[i], t = b[i], mx = t > m ? t : m;\n"                         \
    "                m = t <= t ? mx : t;\n"                                                  \
    "                t = e[i], mx = t > m ? t : m;\n"                                         \
    "                v[i + 1] = t <= t ? mx : t;\n"                                           \
    "            }\n"                                                                         \
    "            v[0] = v[1];\n"                                                              \
    "            v[wd + 1] = v[wd];\n"                                                        \
    "            const float *restrict vr = v + 1 - p->pl;\n"                                 \
    "            float *restrict yr = yc + oy * ow;\n"                                        \
    "            for (int ox = 0; ox < ow; ox++) {\n"                                         \
    "                float m = vr[ox * " #S "], t = vr[ox * " #S " + 1], mx = t > m ? t : m;\n" \
    "                m = t <= t ? mx : t;\n"                                                  \
    "                t = vr[ox * " #S " + 2], mx = t > m ? t : m;\n"                          \
    "                yr[ox] = t <= t ? mx : t;\n"                                             \
    "            }\n"                                                                         \
    "        }\n"                                                                             \
    "    }\n"                                                                                 \
    "}\n"
const char cg_k_maxpool3s1[] = K_MAX3(1);
const char cg_k_maxpool3s2[] = K_MAX3(2);
const char cg_k_avgpool3s1[] = K_AVG3(1);
const char cg_k_avgpool3s2[] = K_AVG3(2);

const char cg_k_gavgpool[] =
    "/* y[nc] = mean of x[nc, hw]; summed in double as the reference does, since\n"
    " * f32 sums over large maps lose bits. */\n"
    "static void nasc_rt_gavgpool(const float *x, float *y, int nc, int hw)\n"
    "{\n"
    "    for (int i = 0; i < nc; i++) {\n"
    "        const float *xc = x + i * hw;\n"
    "        double s = 0.0;\n"
    "        for (int j = 0; j < hw; j++)\n"
    "            s += (double)xc[j];\n"
    "        y[i] = (float)(s / (double)hw);\n"
    "    }\n"
    "}\n"
    ;
