/* grad_conv.c — backward of convolution, linear and batch norm, and the
 * training-mode batch norm forward.
 *
 * Convolution backward has three paths, chosen as the forward chooses:
 *  - pointwise (1x1, stride 1, no padding): x[cg, h*w] already is the
 *    im2col matrix, so dw += dy_g * x_g^T and dx_g += w_g^T * dy_g are
 *    single rt_sgemm calls per image and group;
 *  - depthwise (groups == c == oc): a direct loop per channel and tap, the
 *    mirror of rt_f32_dwconv2d__direct; rows of valid taps are found once
 *    per tap (rt_conv_tap_range), so the inner loops carry no bounds checks;
 *  - everything else: cols = rt_im2col(x_g), dw_g += dy_g * cols^T, then
 *    cols = w_g^T * dy_g (reusing the buffer) scattered back by col2im.
 * Reductions (dw taps, db, batch-norm sums) run over float chunks of at
 * most CHUNK elements with 8 independent lanes, so they vectorise without
 * -ffast-math, and the chunk sums are added in double.
 */
#include "runtime/ref/grad.h"

#include <math.h>
#include <string.h>

enum { CHUNK = 512, LANES = 8 };

/* ---- reductions ---- */

/* sum of a[0..n) for n <= CHUNK, in LANES float lanes. */
static float sum_chunk(int64_t n, const float *a)
{
    float lane[LANES] = {0};
    int64_t j = 0;
    for (; j + LANES <= n; j += LANES)
        for (int k = 0; k < LANES; k++)
            lane[k] += a[j + k];
    float s = 0.0f;
    for (; j < n; j++)
        s += a[j];
    for (int k = 0; k < LANES; k++)
        s += lane[k];
    return s;
}

/* sum of a[0..n), float within chunks, double across them. */
static double sum_f64(int64_t n, const float *a)
{
    double s = 0.0;
    for (int64_t j = 0; j < n; j += CHUNK)
        s += sum_chunk(n - j < CHUNK ? n - j : CHUNK, a + j);
    return s;
}

/* sum of (a - m)^2 over a chunk of n <= CHUNK. */
static float sqdev_chunk(int64_t n, const float *a, float m)
{
    float lane[LANES] = {0};
    int64_t j = 0;
    for (; j + LANES <= n; j += LANES)
        for (int k = 0; k < LANES; k++)
            lane[k] += (a[j + k] - m) * (a[j + k] - m);
    float s = 0.0f;
    for (; j < n; j++)
        s += (a[j] - m) * (a[j] - m);
    for (int k = 0; k < LANES; k++)
        s += lane[k];
    return s;
}

/* sum of dy * (x - m) over a chunk of n <= CHUNK. */
static float dotdev_chunk(int64_t n, const float *dy, const float *x, float m)
{
    float lane[LANES] = {0};
    int64_t j = 0;
    for (; j + LANES <= n; j += LANES)
        for (int k = 0; k < LANES; k++)
            lane[k] += dy[j + k] * (x[j + k] - m);
    float s = 0.0f;
    for (; j < n; j++)
        s += dy[j] * (x[j] - m);
    for (int k = 0; k < LANES; k++)
        s += lane[k];
    return s;
}

/* db[o] += sum of dy[n, o, 0..hw) over n. */
static void bias_backward(int64_t n, int64_t c, int64_t hw, const float *dy, float *db)
{
    for (int64_t o = 0; o < c; o++) {
        double s = 0.0;
        for (int64_t i = 0; i < n; i++)
            s += sum_f64(hw, dy + (i * c + o) * hw);
        db[o] += (float)s;
    }
}

size_t rt_conv2d_backward_workspace(const RtConv2d *p)
{
    int64_t oh, ow;
    if (!rt_conv2d_out_hw(p, &oh, &ow))
        return 0;
    if (rt_f32_dwconv2d__direct_applies(p))
        return (size_t)ow; /* one row of per-column dw partial sums */
    if (rt_conv2d_is_pointwise(p))
        return 0;
    return (size_t)(p->c / p->groups * p->kh * p->kw * oh * ow);
}

/* ---- general path: im2col (conv.c) / col2im ---- */

/* y[0..n) += x[0..n); restrict: no alias check in the vector loop. */
static void add_row(int64_t n, const float *restrict x, float *restrict y)
{
    for (int64_t j = 0; j < n; j++)
        y[j] += x[j];
}

/* The transpose of im2col: dxg[cg, h, w] += every cols entry at the input
 * position it was read from (padding taps are dropped). */
static void col2im(const RtConv2d *p, int64_t cg, int64_t oh, int64_t ow, const float *cols,
                   float *dxg)
{
    int sh = p->stride[0], sw = p->stride[1];
    for (int64_t ic = 0; ic < cg; ic++)
        for (int64_t u = 0; u < p->kh; u++) {
            int64_t offh = u * p->dilation[0], ilo, ihi;
            rt_conv_tap_range(oh, p->h, sh, p->pad[0], offh, &ilo, &ihi);
            for (int64_t v = 0; v < p->kw; v++) {
                const float *rows = cols + ((ic * p->kh + u) * p->kw + v) * oh * ow;
                int64_t off = v * p->dilation[1], lo, hi;
                rt_conv_tap_range(ow, p->w, sw, p->pad[1], off, &lo, &hi);
                for (int64_t i = ilo; i < ihi; i++) {
                    const float *row = rows + i * ow;
                    int64_t ih = i * sh - p->pad[0] + offh;
                    int64_t base = (ic * p->h + ih) * p->w + off - p->pad[1];
                    if (sw == 1)
                        add_row(hi - lo, row + lo, dxg + (base + lo));
                    else /* distinct j hit distinct columns: no conflicts */
                        for (int64_t j = lo; j < hi; j++)
                            dxg[base + j * sw] += row[j];
                }
            }
        }
}

/* Pointwise and im2col paths, per image and group:
 *   dw_g[ocg, K] += dy_g[ocg, P] * cols[K, P]^T,
 *   dx_g[cg, h*w] += col2im(w_g[ocg, K]^T * dy_g[ocg, P]),
 * with K = cg*kh*kw, P = oh*ow and cols = x_g itself when pointwise. */
static void conv_backward_gemm(const RtConv2d *p, int64_t oh, int64_t ow, const float *x,
                               const float *w, const float *dy, float *dx, float *dw,
                               float *ws)
{
    int64_t cg = p->c / p->groups, ocg = p->oc / p->groups, k = cg * p->kh * p->kw;
    int64_t np = oh * ow, hw = p->h * p->w;
    bool direct = rt_conv2d_is_pointwise(p);
    for (int64_t n = 0; n < p->n; n++)
        for (int64_t g = 0; g < p->groups; g++) {
            const float *xg = x + (n * p->c + g * cg) * hw;
            const float *dyg = dy + (n * p->oc + g * ocg) * np;
            const float *wg = w + g * ocg * k;
            if (dw) {
                if (!direct)
                    rt_im2col(p, cg, oh, ow, xg, ws);
                rt_sgemm(false, true, ocg, k, np, 1.0f, dyg, np, direct ? xg : ws, np, 1.0f,
                         dw + g * ocg * k, k);
            }
            if (!dx)
                continue;
            float *dxg = dx + (n * p->c + g * cg) * hw;
            if (direct) {
                rt_sgemm(true, false, cg, np, ocg, 1.0f, wg, k, dyg, np, 1.0f, dxg, np);
                continue;
            }
            rt_sgemm(true, false, k, np, ocg, 1.0f, wg, k, dyg, np, 0.0f, ws, np);
            col2im(p, cg, oh, ow, ws, dxg);
        }
}

/* ---- depthwise path ---- */

/* One tap row, stride 1: t += dy * xr (dw partial sums), dr += wv * dy. */
static void dw_row_s1(int64_t n, const float *restrict dy, const float *restrict xr, float wv,
                      float *restrict t, float *restrict dr)
{
    if (t)
        for (int64_t j = 0; j < n; j++)
            t[j] += dy[j] * xr[j];
    if (dr)
        for (int64_t j = 0; j < n; j++)
            dr[j] += wv * dy[j];
}

/* The same with input column stride s. */
static void dw_row_strided(int64_t n, int s, const float *restrict dy, const float *restrict xr,
                           float wv, float *restrict t, float *restrict dr)
{
    if (t)
        for (int64_t j = 0; j < n; j++)
            t[j] += dy[j] * xr[j * s];
    if (dr)
        for (int64_t j = 0; j < n; j++)
            dr[j * s] += wv * dy[j];
}

/* One channel of one image: dwc[kh*kw] += taps of dy (*) x, dxc += the
 * transposed convolution of dy with wc. t holds ow floats of scratch. */
static void dwconv_channel_backward(const RtConv2d *p, int64_t oh, int64_t ow, const float *x,
                                    const float *wc, const float *dy, float *dxc, float *dwc,
                                    float *t)
{
    int sh = p->stride[0], sw = p->stride[1];
    for (int64_t u = 0; u < p->kh; u++) {
        int64_t offh = u * p->dilation[0], ilo, ihi;
        rt_conv_tap_range(oh, p->h, sh, p->pad[0], offh, &ilo, &ihi);
        for (int64_t v = 0; v < p->kw; v++) {
            int64_t off = v * p->dilation[1], lo, hi;
            rt_conv_tap_range(ow, p->w, sw, p->pad[1], off, &lo, &hi);
            if (lo >= hi || ilo >= ihi)
                continue; /* this tap only ever reads padding */
            float wv = wc[u * p->kw + v];
            if (dwc)
                memset(t, 0, (size_t)(hi - lo) * sizeof *t);
            for (int64_t i = ilo; i < ihi; i++) {
                /* index of the input read by output (i, lo) */
                int64_t first = (i * sh - p->pad[0] + offh) * p->w + off - p->pad[1] + lo * sw;
                const float *dyr = dy + i * ow + lo;
                float *dr = dxc ? dxc + first : NULL;
                if (sw == 1)
                    dw_row_s1(hi - lo, dyr, x + first, wv, dwc ? t : NULL, dr);
                else
                    dw_row_strided(hi - lo, sw, dyr, x + first, wv, dwc ? t : NULL, dr);
            }
            if (dwc)
                dwc[u * p->kw + v] += (float)sum_f64(hi - lo, t);
        }
    }
}

static void dwconv_backward(const RtConv2d *p, int64_t oh, int64_t ow, const float *x,
                            const float *w, const float *dy, float *dx, float *dw, float *ws)
{
    int64_t hw = p->h * p->w, taps = p->kh * p->kw;
    for (int64_t n = 0; n < p->n; n++)
        for (int64_t c = 0; c < p->c; c++) {
            int64_t nc = n * p->c + c;
            dwconv_channel_backward(p, oh, ow, x + nc * hw, w + c * taps, dy + nc * oh * ow,
                                    dx ? dx + nc * hw : NULL, dw ? dw + c * taps : NULL, ws);
        }
}

void rt_conv2d_backward(const RtConv2d *p, const float *x, const float *w, const float *dy,
                        float *dx, float *dw, float *db, float *ws)
{
    int64_t oh, ow;
    if (!rt_conv2d_out_hw(p, &oh, &ow))
        return;
    if (db)
        bias_backward(p->n, p->oc, oh * ow, dy, db);
    if (!dx && !dw)
        return;
    if (rt_f32_dwconv2d__direct_applies(p))
        dwconv_backward(p, oh, ow, x, w, dy, dx, dw, ws);
    else
        conv_backward_gemm(p, oh, ow, x, w, dy, dx, dw, ws);
}

/* ---- linear ---- */

void rt_linear_backward(int64_t n, int64_t c, int64_t k, const float *x, const float *w,
                        const float *dy, float *dx, float *dw, float *db)
{
    if (dx) /* dx[n, c] += dy[n, k] * w[k, c] */
        rt_sgemm(false, false, n, c, k, 1.0f, dy, k, w, c, 1.0f, dx, c);
    if (dw) /* dw[k, c] += dy[n, k]^T * x[n, c] */
        rt_sgemm(true, false, k, c, n, 1.0f, dy, k, x, c, 1.0f, dw, c);
    if (db)
        for (int64_t o = 0; o < k; o++) {
            double s = 0.0;
            for (int64_t i = 0; i < n; i++)
                s += dy[i * k + o];
            db[o] += (float)s;
        }
}

/* ---- batch norm ---- */

/* Per channel of x[n, c, hw]: the mean of rows i*c + k. */
static double channel_mean(int64_t n, int64_t c, int64_t hw, const float *x, int64_t k)
{
    double s = 0.0;
    for (int64_t i = 0; i < n; i++)
        s += sum_f64(hw, x + (i * c + k) * hw);
    return s / (double)(n * hw);
}

/* Per channel: sum of (x - mean)^2 in float chunks (two passes: no
 * cancellation of E[x^2] - E[x]^2). Centring on the float mean adds
 * cnt * (mean - fm)^2, a relative 1e-14 of mean^2: nothing. */
static double channel_sqdev(int64_t n, int64_t c, int64_t hw, const float *x, int64_t k,
                            float mean)
{
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) {
        const float *xr = x + (i * c + k) * hw;
        for (int64_t j = 0; j < hw; j += CHUNK)
            s += sqdev_chunk(hw - j < CHUNK ? hw - j : CHUNK, xr + j, mean);
    }
    return s;
}

/* y[rows of channel k] = (x - mean) * scale + shift; the mean is kept
 * out of the shift (as rt_ref_batchnorm) against cancellation when
 * |mean| >> std. */
static void channel_affine(int64_t n, int64_t c, int64_t hw, const float *x, int64_t k,
                           float mean, float scale, float shift, float *y)
{
    for (int64_t i = 0; i < n; i++) {
        const float *restrict xr = x + (i * c + k) * hw;
        float *restrict yr = y + (i * c + k) * hw;
        for (int64_t j = 0; j < hw; j++)
            yr[j] = (xr[j] - mean) * scale + shift;
    }
}

void rt_batchnorm_train_forward(int64_t n, int64_t c, int64_t hw, const float *x,
                                const float *gamma, const float *beta, float eps,
                                float momentum, float *running_mean, float *running_var,
                                float *save_mean, float *save_invstd, float *y)
{
    int64_t cnt = n * hw;
    if (cnt < 1)
        return;
    for (int64_t k = 0; k < c; k++) {
        double mean = channel_mean(n, c, hw, x, k);
        double sq = channel_sqdev(n, c, hw, x, k, (float)mean);
        double var = sq / (double)cnt;
        double invstd = 1.0 / sqrt(var + (double)eps);
        double g = gamma ? gamma[k] : 1.0, b = beta ? beta[k] : 0.0;
        channel_affine(n, c, hw, x, k, (float)mean, (float)(invstd * g), (float)b, y);
        if (save_mean)
            save_mean[k] = (float)mean;
        if (save_invstd)
            save_invstd[k] = (float)invstd;
        /* torch's unbiased variance; a single value has none, keep biased */
        double unbiased = cnt > 1 ? sq / (double)(cnt - 1) : var;
        double m = momentum;
        if (running_mean)
            running_mean[k] = (float)((1.0 - m) * running_mean[k] + m * mean);
        if (running_var)
            running_var[k] = (float)((1.0 - m) * running_var[k] + m * unbiased);
    }
}

/* Per channel k: *sdy = sum dy, *sdx = sum dy * (x - mean). */
static void channel_dy_sums(int64_t n, int64_t c, int64_t hw, const float *x, const float *dy,
                            int64_t k, float mean, double *sdy, double *sdx)
{
    double a = 0.0, b = 0.0;
    for (int64_t i = 0; i < n; i++) {
        const float *xr = x + (i * c + k) * hw, *dyr = dy + (i * c + k) * hw;
        for (int64_t j = 0; j < hw; j += CHUNK) {
            int64_t len = hw - j < CHUNK ? hw - j : CHUNK;
            a += sum_chunk(len, dyr + j);
            b += dotdev_chunk(len, dyr + j, xr + j, mean);
        }
    }
    *sdy = a;
    *sdx = b;
}

/* dx[rows of channel k] += dy * a + (x - mean) * b + shift. */
static void channel_dx(int64_t n, int64_t c, int64_t hw, const float *x, const float *dy,
                       int64_t k, float a, float mean, float b, float shift, float *dx)
{
    for (int64_t i = 0; i < n; i++) {
        const float *restrict xr = x + (i * c + k) * hw;
        const float *restrict dyr = dy + (i * c + k) * hw;
        float *restrict dr = dx + (i * c + k) * hw;
        for (int64_t j = 0; j < hw; j++)
            dr[j] += dyr[j] * a + (xr[j] - mean) * b + shift;
    }
}

/* With xhat = (x - mean) * invstd, cnt = n*hw:
 *   dbeta = sum dy, dgamma = sum dy * xhat,
 *   dx = g * invstd * (dy - sum dy / cnt - xhat * dgamma / cnt). */
void rt_batchnorm_train_backward(int64_t n, int64_t c, int64_t hw, const float *x,
                                 const float *gamma, const float *save_mean,
                                 const float *save_invstd, const float *dy, float *dx,
                                 float *dgamma, float *dbeta)
{
    double cnt = (double)(n * hw);
    for (int64_t k = 0; k < c; k++) {
        double sdy, sdx, invstd = save_invstd[k];
        channel_dy_sums(n, c, hw, x, dy, k, save_mean[k], &sdy, &sdx);
        if (dbeta)
            dbeta[k] += (float)sdy;
        if (dgamma)
            dgamma[k] += (float)(sdx * invstd);
        if (!dx)
            continue;
        double a = (gamma ? gamma[k] : 1.0) * invstd;
        /* dx = a*dy - a*sdy/cnt - a*invstd^2*sdx/cnt * (x - mean) */
        double b = -a * invstd * invstd * sdx / cnt;
        channel_dx(n, c, hw, x, dy, k, (float)a, save_mean[k], (float)b, (float)(-a * sdy / cnt),
                   dx);
    }
}

void rt_batchnorm_eval_backward(int64_t n, int64_t c, int64_t hw, const float *x,
                                const float *mean, const float *var, const float *gamma,
                                float eps, const float *dy, float *dx, float *dgamma,
                                float *dbeta)
{
    for (int64_t k = 0; k < c; k++) {
        double invstd = 1.0 / sqrt((double)var[k] + (double)eps);
        if (dgamma || dbeta) {
            double sdy, sdx;
            channel_dy_sums(n, c, hw, x, dy, k, mean[k], &sdy, &sdx);
            if (dbeta)
                dbeta[k] += (float)sdy;
            if (dgamma)
                dgamma[k] += (float)(sdx * invstd);
        }
        if (dx)
            channel_dx(n, c, hw, x, dy, k, (float)((gamma ? gamma[k] : 1.0) * invstd), 0.0f,
                       0.0f, 0.0f, dx);
    }
}
