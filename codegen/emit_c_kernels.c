/* emit_c_kernels.c — the runtime kernels pasted into emitted C files.
 *
 * Each entry is C99 text that the emitter copies verbatim, once, into any
 * file that calls it (cg_use_kernel marks it). The text must compile clean
 * under -std=c99 -Wall -Wextra -Werror -pedantic with gcc and clang (also
 * -Wconversion -Wshadow -Wdouble-promotion -Wfloat-equal, which firmware
 * builds like), use no libm and no globals, and match runtime/ref/ semantics
 * (the tests run both). Indices are int: the emitter rejects any tensor of
 * more than INT_MAX elements, and every index below is bounded by some
 * tensor's size. A kernel's dependencies have smaller enum values, so
 * emitting in enum order defines everything before use.
 */
#include "internal.h"

static const char k_span[] =
    "/* Outputs o in [*lo, *hi) whose tap o*s + off lies inside [0, n). */\n"
    "static void nasc_rt_span(int off, int s, int n, int nout, int *lo, int *hi)\n"
    "{\n"
    "    int a = -off, b = n - 1 - off; /* want a <= o*s <= b */\n"
    "    *lo = a <= 0 ? 0 : (a + s - 1) / s;\n"
    "    *hi = b < 0 ? 0 : b / s + 1;\n"
    "    if (*hi > nout)\n"
    "        *hi = nout;\n"
    "    if (*lo > *hi)\n"
    "        *lo = *hi;\n"
    "}\n"
    ;

static const char k_conv_p[] =
    "/* Geometry of a convolution x[n,c,h,w] * w[oc, c/groups, kh, kw] -> y[n,oc,oh,ow]:\n"
    " * strides sh, sw; top and left padding pt, pl (bottom and right padding are\n"
    " * implied by oh, ow); dilations dh, dw. */\n"
    "typedef struct nasc_rt_conv_p {\n"
    "    int n, c, h, w, oc, oh, ow, kh, kw, sh, sw, pt, pl, dh, dw, groups;\n"
    "} nasc_rt_conv_p;\n"
    ;

static const char k_pool_p[] =
    "/* Geometry of a pooling window over x[nc,h,w] -> y[nc,oh,ow]; pads are\n"
    " * top, left, bottom, right. */\n"
    "typedef struct nasc_rt_pool_p {\n"
    "    int nc, h, w, oh, ow, kh, kw, sh, sw, pt, pl, pb, pr, count_include_pad;\n"
    "} nasc_rt_pool_p;\n"
    "\n"
    "/* Window of output o along one axis, clipped to the input: [*lo, *hi).\n"
    " * Returns its size clipped to the padded input only, which is the divisor\n"
    " * of average pooling with count_include_pad. */\n"
    "static int nasc_rt_window(int o, int n, int k, int s, int plo, int phi, int *lo, int *hi)\n"
    "{\n"
    "    int b = o * s - plo, e = b + k;\n"
    "    if (e > n + phi)\n"
    "        e = n + phi;\n"
    "    *lo = b < 0 ? 0 : b;\n"
    "    *hi = e > n ? n : e;\n"
    "    return e - b;\n"
    "}\n"
    ;

static const char k_conv_plane[] =
    "/* yo[oh,ow] += correlation of one input plane xi[h,w] with one filter\n"
    " * wk[kh,kw]. Each tap runs over the output range that reads inside the\n"
    " * input, so the zero padding costs nothing and no bounds test is needed. */\n"
    "static void nasc_rt_conv_plane(const float *xi, const float *wk, float *yo,\n"
    "                               const nasc_rt_conv_p *p)\n"
    "{\n"
    "    for (int ky = 0; ky < p->kh; ky++) {\n"
    "        int ylo, yhi;\n"
    "        nasc_rt_span(ky * p->dh - p->pt, p->sh, p->h, p->oh, &ylo, &yhi);\n"
    "        for (int kx = 0; kx < p->kw; kx++) {\n"
    "            int xlo, xhi, offx = kx * p->dw - p->pl;\n"
    "            float wv = wk[ky * p->kw + kx];\n"
    "            nasc_rt_span(offx, p->sw, p->w, p->ow, &xlo, &xhi);\n"
    "            for (int oy = ylo; oy < yhi; oy++) {\n"
    "                const float *xr = xi + (oy * p->sh + ky * p->dh - p->pt) * p->w;\n"
    "                float *yr = yo + oy * p->ow;\n"
    "                for (int ox = xlo; ox < xhi; ox++)\n"
    "                    yr[ox] += wv * xr[ox * p->sw + offx];\n"
    "            }\n"
    "        }\n"
    "    }\n"
    "}\n"
    ;

static const char k_conv2d[] =
    "/* Direct convolution with stride, padding, dilation and groups; b may be NULL. */\n"
    "static void nasc_rt_conv2d(const float *x, const float *w, const float *b, float *y,\n"
    "                           const nasc_rt_conv_p *p)\n"
    "{\n"
    "    int icg = p->c / p->groups, ocg = p->oc / p->groups;\n"
    "    int hw = p->h * p->w, ohw = p->oh * p->ow, khw = p->kh * p->kw;\n"
    "    for (int n = 0; n < p->n; n++)\n"
    "        for (int o = 0; o < p->oc; o++) {\n"
    "            const float *xg = x + (n * p->c + o / ocg * icg) * hw; /* o's group */\n"
    "            float *yo = y + (n * p->oc + o) * ohw;\n"
    "            float bias = b ? b[o] : 0.0f;\n"
    "            for (int i = 0; i < ohw; i++)\n"
    "                yo[i] = bias;\n"
    "            for (int i = 0; i < icg; i++)\n"
    "                nasc_rt_conv_plane(xg + i * hw, w + (o * icg + i) * khw, yo, p);\n"
    "        }\n"
    "}\n"
    ;

static const char k_conv2d_1x1[] =
    "/* Pointwise convolution y[n,oc,hw] = w[oc,c] * x[n,c,hw] + b; b may be NULL. */\n"
    "static void nasc_rt_conv2d_1x1(const float *x, const float *w, const float *b, float *y,\n"
    "                               int n, int c, int oc, int hw)\n"
    "{\n"
    "    for (int in = 0; in < n; in++) {\n"
    "        const float *xn = x + in * c * hw;\n"
    "        for (int o = 0; o < oc; o++) {\n"
    "            const float *wr = w + o * c; /* the weight row, hoisted */\n"
    "            float *yo = y + (in * oc + o) * hw;\n"
    "            float bias = b ? b[o] : 0.0f;\n"
    "            for (int j = 0; j < hw; j++)\n"
    "                yo[j] = bias;\n"
    "            for (int i = 0; i < c; i++) {\n"
    "                const float *xi = xn + i * hw;\n"
    "                float wv = wr[i];\n"
    "                for (int j = 0; j < hw; j++)\n"
    "                    yo[j] += wv * xi[j];\n"
    "            }\n"
    "        }\n"
    "    }\n"
    "}\n"
    ;

static const char k_dwconv2d[] =
    "/* Depthwise convolution (groups == c == oc): one filter per channel. */\n"
    "static void nasc_rt_dwconv2d(const float *x, const float *w, const float *b, float *y,\n"
    "                             const nasc_rt_conv_p *p)\n"
    "{\n"
    "    int hw = p->h * p->w, ohw = p->oh * p->ow, khw = p->kh * p->kw;\n"
    "    for (int n = 0; n < p->n; n++)\n"
    "        for (int ch = 0; ch < p->c; ch++) {\n"
    "            float *yo = y + (n * p->c + ch) * ohw;\n"
    "            float bias = b ? b[ch] : 0.0f;\n"
    "            for (int i = 0; i < ohw; i++)\n"
    "                yo[i] = bias;\n"
    "            nasc_rt_conv_plane(x + (n * p->c + ch) * hw, w + ch * khw, yo, p);\n"
    "        }\n"
    "}\n"
    ;

static const char k_batchnorm[] =
    "/* Eval-mode batch norm per channel: y = (x - mean) * scale + beta, where\n"
    " * scale = gamma / sqrt(var + eps) was computed by the compiler. Keeping the\n"
    " * mean subtraction (rather than folding it into a shift) avoids cancellation\n"
    " * when |mean| >> |x - mean|. beta may be NULL. */\n"
    "static void nasc_rt_batchnorm(const float *x, const float *mean, const float *scale,\n"
    "                              const float *beta, float *y, int n, int c, int hw)\n"
    "{\n"
    "    for (int in = 0; in < n; in++)\n"
    "        for (int ch = 0; ch < c; ch++) {\n"
    "            const float *xc = x + (in * c + ch) * hw;\n"
    "            float *yc = y + (in * c + ch) * hw;\n"
    "            float m = mean[ch], s = scale[ch], t = beta ? beta[ch] : 0.0f;\n"
    "            for (int j = 0; j < hw; j++)\n"
    "                yc[j] = (xc[j] - m) * s + t;\n"
    "        }\n"
    "}\n"
    ;

static const char k_relu[] =
    "static void nasc_rt_relu(const float *x, float *y, int count)\n"
    "{\n"
    "    for (int i = 0; i < count; i++)\n"
    "        y[i] = x[i] > 0.0f ? x[i] : 0.0f;\n"
    "}\n"
    ;

/* torch's CPU formula; no libm. */
static const char k_leaky_relu[] =
    "static void nasc_rt_leaky_relu(const float *x, float slope, float *y, int count)\n"
    "{\n"
    "    for (int i = 0; i < count; i++)\n"
    "        y[i] = x[i] > 0.0f ? x[i] : x[i] * slope;\n"
    "}\n"
    ;

static const char k_add[] =
    "static void nasc_rt_add(const float *a, const float *b, float *y, int count)\n"
    "{\n"
    "    for (int i = 0; i < count; i++)\n"
    "        y[i] = a[i] + b[i];\n"
    "}\n"
    ;

static const char k_maxpool2d[] =
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

static const char k_avgpool2d[] =
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

static const char k_gavgpool[] =
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

static const char k_argmax[] =
    "/* Labels: y[b, i] = the first channel with the largest x[b, :, i]. */\n"
    "static void nasc_rt_argmax(const float *x, uint8_t *y, int n, int c, int hw)\n"
    "{\n"
    "    for (int b = 0; b < n; b++)\n"
    "        for (int i = 0; i < hw; i++) {\n"
    "            const float *xi = x + (size_t)b * (size_t)c * (size_t)hw + i;\n"
    "            int best = 0;\n"
    "            for (int k = 1; k < c; k++)\n"
    "                if (xi[(size_t)k * (size_t)hw] > xi[(size_t)best * (size_t)hw])\n"
    "                    best = k;\n"
    "            y[(size_t)b * (size_t)hw + (size_t)i] = (uint8_t)best;\n"
    "        }\n"
    "}\n"
    ;

static const char k_copy_channels[] =
    "/* Concat step: x[n,cx,hw] into channels [c0, c0 + cx) of y[n,cy,hw]. In\n"
    " * NCHW one image's channels are contiguous, so it is one copy per image. */\n"
    "static void nasc_rt_copy_channels(const float *x, float *y, int n, int cx, int cy, int c0,\n"
    "                                  int hw)\n"
    "{\n"
    "    for (int in = 0; in < n; in++)\n"
    "        memcpy(y + (in * cy + c0) * hw, x + in * cx * hw,\n"
    "               (size_t)cx * (size_t)hw * sizeof *x);\n"
    "}\n"
    ;

static const char k_crop[] =
    "/* y[k,i,j] = x[k, top + i, left + j] for x[nc,h,w], y[nc,oh,ow]. */\n"
    "static void nasc_rt_crop(const float *x, float *y, int nc, int h, int w, int oh, int ow,\n"
    "                         int top, int left)\n"
    "{\n"
    "    for (int k = 0; k < nc; k++)\n"
    "        for (int i = 0; i < oh; i++) {\n"
    "            const float *xr = x + (k * h + top + i) * w + left;\n"
    "            float *yr = y + (k * oh + i) * ow;\n"
    "            for (int j = 0; j < ow; j++)\n"
    "                yr[j] = xr[j];\n"
    "        }\n"
    "}\n"
    ;

static const char k_zero[] =
    "static void nasc_rt_zero(float *y, int count)\n"
    "{\n"
    "    for (int i = 0; i < count; i++)\n"
    "        y[i] = 0.0f;\n"
    "}\n"
    ;

static const char k_linear[] =
    "/* y[n,k] = sum_c x[n,c] * w[k,c] + b[k]; b may be NULL. */\n"
    "static void nasc_rt_linear(const float *x, const float *w, const float *b, float *y, int n,\n"
    "                           int c, int k)\n"
    "{\n"
    "    for (int in = 0; in < n; in++)\n"
    "        for (int o = 0; o < k; o++) {\n"
    "            const float *xr = x + in * c, *wr = w + o * c;\n"
    "            float s = b ? b[o] : 0.0f;\n"
    "            for (int j = 0; j < c; j++)\n"
    "                s += xr[j] * wr[j];\n"
    "            y[in * k + o] = s;\n"
    "        }\n"
    "}\n"
    ;

static const char k_resize_bilinear[] =
    "/* Bilinear resize x[nc,h,w] -> y[nc,oh,ow] through tap tables made by nasc:\n"
    " * output row i mixes input rows y0[i], y1[i] with weights 1 - ly[i], ly[i],\n"
    " * output column j input columns x0[j], x1[j] with 1 - lx[j], lx[j]. Columns\n"
    " * are mixed first, then rows, in runtime/ref's order (same rounding). */\n"
    "static void nasc_rt_resize_bilinear(const float *x, float *y, int nc, int h, int w, int oh,\n"
    "                                    int ow, const int *y0, const int *y1, const float *ly,\n"
    "                                    const int *x0, const int *x1, const float *lx)\n"
    "{\n"
    "    for (int k = 0; k < nc; k++, x += h * w)\n"
    "        for (int i = 0; i < oh; i++) {\n"
    "            const float *r0 = x + y0[i] * w, *r1 = x + y1[i] * w;\n"
    "            float b = ly[i], a = 1.0f - b;\n"
    "            for (int j = 0; j < ow; j++) {\n"
    "                float d = lx[j], e = 1.0f - d;\n"
    "                float t0 = r0[x0[j]] * e + r0[x1[j]] * d;\n"
    "                float t1 = r1[x0[j]] * e + r1[x1[j]] * d;\n"
    "                *y++ = t0 * a + t1 * b;\n"
    "            }\n"
    "        }\n"
    "}\n"
    ;

const CgKernelDef cg_kernels[NCK] = {
    [CK_SPAN] = {k_span, {-1, -1}, false},
    [CK_CONV_P] = {k_conv_p, {-1, -1}, false},
    [CK_POOL_P] = {k_pool_p, {-1, -1}, false},
    [CK_CONV_PLANE] = {k_conv_plane, {CK_SPAN, CK_CONV_P}, false},
    [CK_CONV2D] = {k_conv2d, {CK_CONV_PLANE, -1}, false},
    [CK_CONV2D_1X1] = {k_conv2d_1x1, {-1, -1}, false},
    [CK_DWCONV2D] = {k_dwconv2d, {CK_CONV_PLANE, -1}, false},
    [CK_BATCHNORM] = {k_batchnorm, {-1, -1}, false},
    [CK_RELU] = {k_relu, {-1, -1}, false},
    [CK_LEAKY_RELU] = {k_leaky_relu, {-1, -1}, false},
    [CK_ADD] = {k_add, {-1, -1}, false},
    [CK_MAXPOOL2D] = {k_maxpool2d, {CK_POOL_P, -1}, false},
    [CK_AVGPOOL2D] = {k_avgpool2d, {CK_POOL_P, -1}, false},
    [CK_GAVGPOOL] = {k_gavgpool, {-1, -1}, false},
    [CK_COPY_CHANNELS] = {k_copy_channels, {-1, -1}, true},
    [CK_CROP] = {k_crop, {-1, -1}, false},
    [CK_ZERO] = {k_zero, {-1, -1}, false},
    [CK_LINEAR] = {k_linear, {-1, -1}, false},
    [CK_RESIZE_BILINEAR] = {k_resize_bilinear, {-1, -1}, false},
    [CK_ARGMAX] = {k_argmax, {-1, -1}, false},
};

_Static_assert(sizeof cg_kernels / sizeof cg_kernels[0] == NCK, "kernel table incomplete");
