/* conv.c — 2-D convolution: the naive definition and the two fast paths.
 *
 * All three compute torch.nn.functional.conv2d on an explicitly padded
 * input (pad top/left/bottom/right may differ). rt_ref_conv2d is the
 * definition. The fast paths avoid per-tap bounds checks by computing, for
 * each kernel tap, the range of output columns whose input column is in
 * bounds (rt_conv_tap_range); everything outside it reads zero padding.
 */
#include "runtime/ref/ref.h"

#include <string.h>

int64_t rt_window_out(int64_t in, int64_t k, int stride, int pad_lo, int pad_hi, int dil)
{
    if (in < 1 || k < 1 || stride < 1 || dil < 1 || pad_lo < 0 || pad_hi < 0)
        return 0;
    int64_t span = in + pad_lo + pad_hi - (int64_t)dil * (k - 1) - 1;
    return span < 0 ? 0 : span / stride + 1;
}

bool rt_conv2d_out_hw(const RtConv2d *p, int64_t *oh, int64_t *ow)
{
    if (p->n < 1 || p->c < 1 || p->oc < 1 || p->groups < 1 || p->c % p->groups ||
        p->oc % p->groups)
        return false;
    *oh = rt_window_out(p->h, p->kh, p->stride[0], p->pad[0], p->pad[2], p->dilation[0]);
    *ow = rt_window_out(p->w, p->kw, p->stride[1], p->pad[1], p->pad[3], p->dilation[1]);
    return *oh > 0 && *ow > 0;
}

void rt_ref_conv2d(const RtConv2d *p, const float *x, const float *w, const float *b, float *y)
{
    int64_t oh, ow;
    if (!rt_conv2d_out_hw(p, &oh, &ow))
        return;
    int64_t cg = p->c / p->groups, ocg = p->oc / p->groups;
    for (int64_t n = 0; n < p->n; n++)
        for (int64_t o = 0; o < p->oc; o++) {
            int64_t c0 = o / ocg * cg; /* first input channel of o's group */
            for (int64_t i = 0; i < oh; i++)
                for (int64_t j = 0; j < ow; j++) {
                    float s = b ? b[o] : 0.0f;
                    for (int64_t ic = 0; ic < cg; ic++)
                        for (int64_t u = 0; u < p->kh; u++)
                            for (int64_t v = 0; v < p->kw; v++) {
                                int64_t ih = i * p->stride[0] - p->pad[0] + u * p->dilation[0];
                                int64_t iw = j * p->stride[1] - p->pad[1] + v * p->dilation[1];
                                if (ih < 0 || ih >= p->h || iw < 0 || iw >= p->w)
                                    continue;
                                s += x[((n * p->c + c0 + ic) * p->h + ih) * p->w + iw] *
                                     w[((o * cg + ic) * p->kh + u) * p->kw + v];
                            }
                    y[((n * p->oc + o) * oh + i) * ow + j] = s;
                }
        }
}

/* floor(a / b) and ceil(a / b) for b > 0 and any sign of a. */
static int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
static int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

void rt_conv_tap_range(int64_t out, int64_t in, int stride, int pad, int64_t off, int64_t *lo,
                       int64_t *hi)
{
    int64_t l = ceil_div(pad - off, stride), h = floor_div(in - 1 + pad - off, stride) + 1;
    *lo = l < 0 ? 0 : l > out ? out : l;
    *hi = h > out ? out : h < *lo ? *lo : h;
}

bool rt_conv2d_is_pointwise(const RtConv2d *p)
{
    return p->kh == 1 && p->kw == 1 && p->stride[0] == 1 && p->stride[1] == 1 && !p->pad[0] &&
           !p->pad[1] && !p->pad[2] && !p->pad[3];
}

size_t rt_f32_conv2d__im2col_sgemm_workspace(const RtConv2d *p)
{
    int64_t oh, ow;
    if (rt_conv2d_is_pointwise(p) || !rt_conv2d_out_hw(p, &oh, &ow))
        return 0;
    return (size_t)(p->c / p->groups * p->kh * p->kw * oh * ow);
}

void rt_im2col(const RtConv2d *p, int64_t cg, int64_t oh, int64_t ow, const float *xg,
               float *cols)
{
    int sh = p->stride[0], sw = p->stride[1];
    for (int64_t ic = 0; ic < cg; ic++)
        for (int64_t u = 0; u < p->kh; u++) {
            int64_t offh = u * p->dilation[0], ilo, ihi;
            rt_conv_tap_range(oh, p->h, sh, p->pad[0], offh, &ilo, &ihi);
            for (int64_t v = 0; v < p->kw; v++) {
                float *rows = cols + ((ic * p->kh + u) * p->kw + v) * oh * ow;
                int64_t off = v * p->dilation[1], lo, hi;
                rt_conv_tap_range(ow, p->w, sw, p->pad[1], off, &lo, &hi);
                memset(rows, 0, (size_t)(ilo * ow) * sizeof *rows);
                for (int64_t i = ilo; i < ihi; i++) {
                    float *row = rows + i * ow;
                    int64_t ih = i * sh - p->pad[0] + offh;
                    /* index of tap j; >= 0 for j >= lo (no pointer below xg) */
                    int64_t base = (ic * p->h + ih) * p->w + off - p->pad[1];
                    for (int64_t j = 0; j < lo; j++)
                        row[j] = 0.0f;
                    if (sw == 1)
                        memcpy(row + lo, xg + (base + lo), (size_t)(hi - lo) * sizeof *row);
                    else
                        for (int64_t j = lo; j < hi; j++)
                            row[j] = xg[base + j * sw];
                    for (int64_t j = hi; j < ow; j++)
                        row[j] = 0.0f;
                }
                memset(rows + ihi * ow, 0, (size_t)((oh - ihi) * ow) * sizeof *rows);
            }
        }
}

static void add_bias(int64_t n, int64_t c, int64_t hw, const float *b, float *y)
{
    for (int64_t i = 0; i < n; i++)
        for (int64_t o = 0; o < c; o++) {
            float *yo = y + (i * c + o) * hw;
            for (int64_t j = 0; j < hw; j++)
                yo[j] += b[o];
        }
}

void rt_f32_conv2d__im2col_sgemm(const RtConv2d *p, const float *x, const float *w,
                                 const float *b, float *y, float *ws)
{
    int64_t oh, ow;
    if (!rt_conv2d_out_hw(p, &oh, &ow))
        return;
    int64_t cg = p->c / p->groups, ocg = p->oc / p->groups, k = cg * p->kh * p->kw;
    bool direct = rt_conv2d_is_pointwise(p); /* x[cg, h*w] already is the cols matrix */
    for (int64_t n = 0; n < p->n; n++)
        for (int64_t g = 0; g < p->groups; g++) {
            const float *xg = x + (n * p->c + g * cg) * p->h * p->w;
            float *yg = y + (n * p->oc + g * ocg) * oh * ow;
            if (!direct)
                rt_im2col(p, cg, oh, ow, xg, ws);
            /* yg[ocg, oh*ow] = w[g][ocg, k] * cols[k, oh*ow] */
            rt_sgemm(false, false, ocg, oh * ow, k, 1.0f, w + g * ocg * k, k, direct ? xg : ws,
                     oh * ow, 0.0f, yg, oh * ow);
        }
    if (b)
        add_bias(p->n, p->oc, oh * ow, b, y);
}

bool rt_f32_dwconv2d__direct_applies(const RtConv2d *p)
{
    return p->groups > 1 && p->groups == p->c && p->oc == p->c;
}

/* y[0..n) += a * x[0..n); restrict: no alias check in the vector loop. */
static void axpy(int64_t n, float a, const float *restrict x, float *restrict y)
{
    for (int64_t j = 0; j < n; j++)
        y[j] += a * x[j];
}

/* One channel: y[oh, ow] += taps of x[h, w] * w[kh, kw]. */
static void dwconv_channel(const RtConv2d *p, int64_t oh, int64_t ow, const float *x,
                           const float *w, float *y)
{
    for (int64_t v = 0; v < p->kw; v++) {
        int64_t off = v * p->dilation[1], lo, hi;
        rt_conv_tap_range(ow, p->w, p->stride[1], p->pad[1], off, &lo, &hi);
        for (int64_t u = 0; u < p->kh; u++) {
            float wv = w[u * p->kw + v];
            for (int64_t i = 0; i < oh; i++) {
                int64_t ih = i * p->stride[0] - p->pad[0] + u * p->dilation[0];
                if (ih < 0 || ih >= p->h)
                    continue;
                int64_t base = ih * p->w + off - p->pad[1];
                float *yr = y + i * ow;
                if (p->stride[1] == 1) /* contiguous: vectorisable */
                    axpy(hi - lo, wv, x + base + lo, yr + lo);
                else
                    for (int64_t j = lo; j < hi; j++)
                        yr[j] += wv * x[base + j * p->stride[1]];
            }
        }
    }
}

void rt_f32_dwconv2d__direct(const RtConv2d *p, const float *x, const float *w, const float *b,
                             float *y)
{
    int64_t oh, ow;
    if (!rt_conv2d_out_hw(p, &oh, &ow))
        return;
    for (int64_t n = 0; n < p->n; n++)
        for (int64_t c = 0; c < p->c; c++) {
            float *yc = y + (n * p->c + c) * oh * ow;
            float init = b ? b[c] : 0.0f;
            for (int64_t j = 0; j < oh * ow; j++)
                yc[j] = init;
            dwconv_channel(p, oh, ow, x + (n * p->c + c) * p->h * p->w, w + c * p->kh * p->kw,
                           yc);
        }
}

size_t rt_f32_conv2d_workspace(const RtConv2d *p)
{
    return rt_f32_dwconv2d__direct_applies(p) ? 0 : rt_f32_conv2d__im2col_sgemm_workspace(p);
}

void rt_f32_conv2d(const RtConv2d *p, const float *x, const float *w, const float *b, float *y,
                   float *ws)
{
    if (rt_f32_dwconv2d__direct_applies(p))
        rt_f32_dwconv2d__direct(p, x, w, b, y);
    else
        rt_f32_conv2d__im2col_sgemm(p, x, w, b, y, ws);
}
