/* grad_misc.c — backward kernels of the cheap ops (activations, pools,
 * concat, crop, bilinear resize, softmax, scale) and the segmentation loss.
 *
 * Each backward is the transpose of its forward kernel in this folder, so
 * it re-derives the forward's windows, taps and divisors rather than
 * restating them: the window clipping of pool.c, the taps of
 * rt_resize_taps, the scan order of the max. Everything accumulates into
 * the gradient buffers (grad.h) except rt_softmax_ce, which writes.
 *
 * rt_softmax_ce works on blocks of CE_BLOCK pixels held in stack arrays:
 * in NCHW one pixel's logits are hw apart, so looping channel-outer over a
 * block of contiguous pixels keeps the inner loops unit-stride (and
 * vectorisable) without asking the caller for scratch.
 */
#include "runtime/ref/grad.h"

#include <math.h>

void rt_relu_backward(int64_t numel, const float *x, const float *dy, float *dx)
{
    if (!dx)
        return;
    for (int64_t i = 0; i < numel; i++) {
        float g = dy[i]; /* loaded unconditionally so the select vectorises */
        dx[i] += x[i] > 0.0f ? g : 0.0f;
    }
}

void rt_leaky_relu_backward(int64_t numel, const float *x, float slope, const float *dy,
                            float *dx)
{
    if (!dx)
        return;
    for (int64_t i = 0; i < numel; i++) {
        float m = x[i] > 0.0f ? 1.0f : slope; /* a select of constants vectorises */
        dx[i] += dy[i] * m;
    }
}

/* Index in xc (an h x w plane) of the element rt_ref_maxpool2d picks for
 * the window [h0,h1) x [w0,w1), or -1 for an empty window. Same scan and
 * test as the forward (torch's too): the first strict maximum wins, a NaN
 * always takes over, and an all -inf window picks its first element. */
static int64_t max_index(const float *xc, int64_t w, int64_t h0, int64_t h1, int64_t w0,
                         int64_t w1)
{
    if (h0 >= h1 || w0 >= w1)
        return -1;
    int64_t best = h0 * w + w0;
    float m = -INFINITY;
    for (int64_t u = h0; u < h1; u++)
        for (int64_t v = w0; v < w1; v++) {
            float t = xc[u * w + v];
            if (t > m || isnan(t))
                m = t, best = u * w + v;
        }
    return best;
}

void rt_maxpool2d_backward(const RtPool2d *p, const float *x, const float *dy, float *dx)
{
    if (!dx)
        return;
    int64_t oh, ow;
    if (!rt_pool2d_out_hw(p, &oh, &ow))
        return;
    int64_t plane = p->h * p->w;
    for (int64_t nc = 0; nc < p->n * p->c; nc++) {
        const float *xc = x + nc * plane, *dyc = dy + nc * oh * ow;
        float *dxc = dx + nc * plane;
        for (int64_t i = 0; i < oh; i++) {
            int64_t h0, h1;
            rt_pool2d_window(p, 0, i, &h0, &h1);
            for (int64_t j = 0; j < ow; j++) {
                int64_t w0, w1;
                rt_pool2d_window(p, 1, j, &w0, &w1);
                int64_t at = max_index(xc, p->w, h0, h1, w0, w1);
                if (at >= 0)
                    dxc[at] += dyc[i * ow + j];
            }
        }
    }
}

void rt_avgpool2d_backward(const RtPool2d *p, const float *dy, float *dx)
{
    if (!dx)
        return;
    int64_t oh, ow;
    if (!rt_pool2d_out_hw(p, &oh, &ow))
        return;
    int64_t plane = p->h * p->w;
    for (int64_t nc = 0; nc < p->n * p->c; nc++) {
        const float *dyc = dy + nc * oh * ow;
        float *dxc = dx + nc * plane;
        for (int64_t i = 0; i < oh; i++) {
            int64_t h0, h1;
            int64_t ph = rt_pool2d_window(p, 0, i, &h0, &h1);
            for (int64_t j = 0; j < ow; j++) {
                int64_t w0, w1;
                int64_t pw = rt_pool2d_window(p, 1, j, &w0, &w1);
                int64_t div = p->count_include_pad ? ph * pw : (h1 - h0) * (w1 - w0);
                if (div <= 0) /* the forward wrote 0: a window wholly in padding */
                    continue;
                /* the forward's s / (float)div, differentiated */
                float g = dyc[i * ow + j] / (float)div;
                for (int64_t u = h0; u < h1; u++)
                    for (int64_t v = w0; v < w1; v++)
                        dxc[u * p->w + v] += g;
            }
        }
    }
}

void rt_gavgpool_backward(int64_t n, int64_t c, int64_t hw, const float *dy, float *dx)
{
    if (!dx)
        return;
    for (int64_t nc = 0; nc < n * c; nc++) {
        float g = (float)((double)dy[nc] / (double)hw);
        float *dxc = dx + nc * hw;
        for (int64_t j = 0; j < hw; j++)
            dxc[j] += g;
    }
}

void rt_concat_backward(int64_t n, int64_t hw, int nx, const int64_t *cs, const float *dy,
                        float *const *dxs)
{
    /* dy: [n, sum cs, hw]; per image, input i owns the next cs[i]*hw floats */
    for (int64_t b = 0; b < n; b++)
        for (int i = 0; i < nx; i++) {
            int64_t len = cs[i] * hw;
            if (dxs[i]) {
                float *dxi = dxs[i] + b * len;
                for (int64_t j = 0; j < len; j++)
                    dxi[j] += dy[j];
            }
            dy += len;
        }
}

void rt_crop_backward(int64_t n, int64_t c, int64_t h, int64_t w, int64_t top, int64_t left,
                      int64_t oh, int64_t ow, const float *dy, float *dx)
{
    if (!dx)
        return;
    for (int64_t nc = 0; nc < n * c; nc++)
        for (int64_t i = 0; i < oh; i++) {
            const float *src = dy + (nc * oh + i) * ow;
            float *dst = dx + (nc * h + top + i) * w + left;
            for (int64_t j = 0; j < ow; j++)
                dst[j] += src[j];
        }
}

/* The forward computes y = (r0[i0]*lx0 + r0[i1]*lx1)*ly0 + (r1[i0]*lx0 +
 * r1[i1]*lx1)*ly1 per output pixel, so each dy scatters to the same four
 * taps with the products of the weights; coinciding taps (i1 == i0 at the
 * last index, or in == out) simply receive both shares. */
void rt_resize_bilinear_backward(int64_t nc, int64_t h, int64_t w, int64_t oh, int64_t ow,
                                 int align_corners, const float *dy, float *dx)
{
    if (!dx)
        return;
    for (int64_t p = 0; p < nc; p++, dx += h * w)
        for (int64_t oy = 0; oy < oh; oy++) {
            RtResizeTap ty;
            rt_resize_taps(h, oh, align_corners, oy, &ty);
            float *r0 = dx + ty.i0 * w, *r1 = dx + ty.i1 * w;
            float ly1 = ty.lambda, ly0 = 1.0f - ly1;
            for (int64_t ox = 0; ox < ow; ox++) {
                RtResizeTap tx;
                rt_resize_taps(w, ow, align_corners, ox, &tx);
                float lx1 = tx.lambda, lx0 = 1.0f - lx1;
                float g = *dy++;
                float g0 = g * ly0, g1 = g * ly1;
                r0[tx.i0] += g0 * lx0;
                r0[tx.i1] += g0 * lx1;
                r1[tx.i0] += g1 * lx0;
                r1[tx.i1] += g1 * lx1;
            }
        }
}

void rt_softmax_backward(int64_t rows, int64_t k, const float *y, const float *dy, float *dx)
{
    if (!dx)
        return;
    for (int64_t r = 0; r < rows; r++) {
        const float *yr = y + r * k, *dyr = dy + r * k;
        float *dxr = dx + r * k;
        double dot = 0.0;
        for (int64_t i = 0; i < k; i++)
            dot += (double)dyr[i] * (double)yr[i];
        float fdot = (float)dot;
        for (int64_t i = 0; i < k; i++)
            dxr[i] += yr[i] * (dyr[i] - fdot);
    }
}

void rt_scale_backward(int64_t numel, const float *x, float s, const float *dy, float *dx,
                       float *ds)
{
    if (dx)
        for (int64_t i = 0; i < numel; i++)
            dx[i] += dy[i] * s;
    if (ds) {
        double sum = 0.0;
        for (int64_t i = 0; i < numel; i++)
            sum += (double)dy[i] * (double)x[i];
        *ds += (float)sum;
    }
}

enum { CE_BLOCK = 64 };

/* Pixels of one image whose label counts: neither `ignore` nor out of
 * range (a caller bug, grad.h; skipped so it never reads past logits). */
static int64_t ce_count(int64_t hw, int64_t c, const uint8_t *lab, int ignore)
{
    int64_t k = 0;
    for (int64_t i = 0; i < hw; i++)
        k += lab[i] != ignore && lab[i] < c;
    return k;
}

/* One block of nb <= CE_BLOCK pixels of one image: x points at the first
 * pixel's class-0 logit (classes are hw apart). Returns the block's summed
 * loss; writes dlogits (when d is non-NULL) scaled by inv_count. */
static double ce_block(int64_t c, int64_t hw, int64_t nb, const float *x, const uint8_t *lab,
                       int ignore, float inv_count, float *d)
{
    float top[CE_BLOCK], sum[CE_BLOCK];
    for (int64_t j = 0; j < nb; j++)
        top[j] = x[j], sum[j] = 0.0f;
    for (int64_t k = 1; k < c; k++)
        for (int64_t j = 0; j < nb; j++)
            top[j] = x[k * hw + j] > top[j] ? x[k * hw + j] : top[j];
    for (int64_t k = 0; k < c; k++)
        for (int64_t j = 0; j < nb; j++)
            sum[j] += expf(x[k * hw + j] - top[j]);
    double loss = 0.0;
    for (int64_t j = 0; j < nb; j++)
        if (lab[j] != ignore && lab[j] < c) /* -log softmax = lse - x[label] */
            loss += (double)top[j] + log((double)sum[j]) - (double)x[lab[j] * hw + j];
    if (!d)
        return loss;
    for (int64_t j = 0; j < nb; j++) /* reuse sum as the per-pixel factor */
        sum[j] = lab[j] != ignore && lab[j] < c ? inv_count / sum[j] : 0.0f;
    for (int64_t k = 0; k < c; k++)
        for (int64_t j = 0; j < nb; j++)
            /* an ignored pixel's logits may be anything, even inf: never read them into d */
            d[k * hw + j] = sum[j] != 0.0f ? expf(x[k * hw + j] - top[j]) * sum[j] : 0.0f;
    for (int64_t j = 0; j < nb; j++) /* the one-hot term of softmax - onehot */
        if (lab[j] != ignore && lab[j] < c)
            d[lab[j] * hw + j] -= inv_count;
    return loss;
}

double rt_softmax_ce(int64_t n, int64_t c, int64_t hw, const float *logits,
                     const uint8_t *labels, int ignore, float *dlogits, int64_t *counted)
{
    int64_t count = 0;
    for (int64_t b = 0; b < n; b++)
        count += ce_count(hw, c, labels + b * hw, ignore);
    if (counted)
        *counted = count;
    /* nothing counts: loss 0, all gradients 0 (ce_block zeroes them) */
    float inv_count = count > 0 ? (float)(1.0 / (double)count) : 0.0f;
    double loss = 0.0;
    for (int64_t b = 0; b < n; b++)
        for (int64_t i = 0; i < hw; i += CE_BLOCK) {
            int64_t nb = hw - i < CE_BLOCK ? hw - i : CE_BLOCK;
            const float *x = logits + b * c * hw + i;
            float *d = dlogits ? dlogits + b * c * hw + i : NULL;
            loss += ce_block(c, hw, nb, x, labels + b * hw + i, ignore, inv_count, d);
        }
    return count > 0 ? loss / (double)count : 0.0;
}
