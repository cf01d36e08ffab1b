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

/* The border outputs of the specialised 3x3 pooling kernels below: one
 * output (i, j), computed exactly as the generic kernels compute it (same
 * clipped window, tap order, NaN rule and divisor), so a specialised
 * kernel's result is bit-identical to the generic one everywhere. */
const char cg_k_max_at[] =
    "/* Output (i, j) of max pooling over the plane xc, as nasc_rt_maxpool2d. */\n"
    "static float nasc_rt_max_at(const float *xc, const nasc_rt_pool_p *p, int i, int j)\n"
    "{\n"
    "    int h0, h1, w0, w1;\n"
    "    float m;\n"
    "    nasc_rt_window(i, p->h, p->kh, p->sh, p->pt, p->pb, &h0, &h1);\n"
    "    nasc_rt_window(j, p->w, p->kw, p->sw, p->pl, p->pr, &w0, &w1);\n"
    "    m = h0 < h1 && w0 < w1 ? xc[h0 * p->w + w0] : -3.402823466e+38f;\n"
    "    for (int u = h0; u < h1; u++)\n"
    "        for (int v = w0; v < w1; v++) {\n"
    "            float t = xc[u * p->w + v], mx = t > m ? t : m;\n"
    "            m = t <= t ? mx : t; /* t > m, or t is NaN: m = t */\n"
    "        }\n"
    "    return m;\n"
    "}\n"
    ;

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

/* 3x3 pooling, stride S along both axes, as one text with the constants
 * pasted in (DARTS' max_pool_3x3 and avg_pool_3x3 are pad 1, stride 1 in
 * normal cells and 2 in reduction cells). The outputs whose whole
 * window lies inside the input (found once with nasc_rt_span) run a
 * loop without bounds tests whose 9 taps the compiler unrolls, vectorised
 * along the output row; the border goes through nasc_rt_<KIND>_at. The
 * interior computes what the generic kernel computes for a window that is
 * not clipped: max starts from the first tap and takes taps in (ky, kx)
 * order with the same NaN rule (written as two selects: gcc compiled the
 * `t > m || t is NaN` test of the generic kernel to branches in the scalar
 * remainder of each row, much of a 16- or 8-wide row; the selects stay
 * branch-free, and DARTS_V2 ran ~12% faster at -O3); avg sums 0.0f + taps in (ky, kx) order and
 * divides by (float)9, the divisor of an unclipped window whether or not
 * padding counts. Any pads work (the IR keeps them <= 1 here). */
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

#define K_MAX3(S)                                                                           \
    K_POOL3(max, S, "float m = xp[0]", "float mx = t > m ? t : m; m = t <= t ? mx : t;", "m")
#define K_AVG3(S) K_POOL3(avg, S, "float s = 0.0f", "s += t;", "s / (float)9")
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
