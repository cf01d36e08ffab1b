/* pool.c — max, average and global average pooling (PyTorch semantics).
 *
 * Windows start at o*stride - pad and never use ceil mode. Max pooling
 * treats padding as -inf (padding never wins). Average pooling follows
 * torch's avg_pool2d: the window is first clipped to the padded input
 * [-pad_lo, in + pad_hi) — that size is the count_include_pad divisor — and
 * then to the input itself, whose size is the divisor otherwise.
 */
#include "runtime/ref/ref.h"

#include <math.h>

bool rt_pool2d_out_hw(const RtPool2d *p, int64_t *oh, int64_t *ow)
{
    if (p->n < 1 || p->c < 1)
        return false;
    *oh = rt_window_out(p->h, p->kernel[0], p->stride[0], p->pad[0], p->pad[2], 1);
    *ow = rt_window_out(p->w, p->kernel[1], p->stride[1], p->pad[1], p->pad[3], 1);
    return *oh > 0 && *ow > 0;
}

int64_t rt_pool2d_window(const RtPool2d *p, int axis, int64_t o, int64_t *lo, int64_t *hi)
{
    int64_t in = axis ? p->w : p->h;
    int pad_lo = p->pad[axis], pad_hi = p->pad[axis + 2];
    int64_t s = o * p->stride[axis] - pad_lo, e = s + p->kernel[axis];
    if (e > in + pad_hi)
        e = in + pad_hi;
    int64_t padded = e - s;
    *lo = s < 0 ? 0 : s;
    *hi = e > in ? in : e;
    return padded;
}

void rt_ref_maxpool2d(const RtPool2d *p, const float *x, float *y)
{
    int64_t oh, ow;
    if (!rt_pool2d_out_hw(p, &oh, &ow))
        return;
    for (int64_t nc = 0; nc < p->n * p->c; nc++) {
        const float *xc = x + nc * p->h * p->w;
        for (int64_t i = 0; i < oh; i++)
            for (int64_t j = 0; j < ow; j++) {
                int64_t h0, h1, w0, w1;
                rt_pool2d_window(p, 0, i, &h0, &h1);
                rt_pool2d_window(p, 1, j, &w0, &w1);
                float m = -INFINITY;
                for (int64_t u = h0; u < h1; u++)
                    for (int64_t v = w0; v < w1; v++) {
                        float t = xc[u * p->w + v];
                        if (t > m || isnan(t)) /* NaN propagates, as in torch */
                            m = t;
                    }
                y[(nc * oh + i) * ow + j] = m;
            }
    }
}

void rt_ref_avgpool2d(const RtPool2d *p, const float *x, float *y)
{
    int64_t oh, ow;
    if (!rt_pool2d_out_hw(p, &oh, &ow))
        return;
    for (int64_t nc = 0; nc < p->n * p->c; nc++) {
        const float *xc = x + nc * p->h * p->w;
        for (int64_t i = 0; i < oh; i++)
            for (int64_t j = 0; j < ow; j++) {
                int64_t h0, h1, w0, w1;
                int64_t ph = rt_pool2d_window(p, 0, i, &h0, &h1);
                int64_t pw = rt_pool2d_window(p, 1, j, &w0, &w1);
                float s = 0.0f;
                for (int64_t u = h0; u < h1; u++)
                    for (int64_t v = w0; v < w1; v++)
                        s += xc[u * p->w + v];
                int64_t div = p->count_include_pad ? ph * pw : (h1 - h0) * (w1 - w0);
                /* div is 0 only for a window wholly in padding (pad >= kernel) */
                y[(nc * oh + i) * ow + j] = div > 0 ? s / (float)div : 0.0f;
            }
    }
}

void rt_ref_gavgpool(int64_t n, int64_t c, int64_t hw, const float *x, float *y)
{
    for (int64_t nc = 0; nc < n * c; nc++) {
        const float *xc = x + nc * hw;
        double s = 0.0; /* double: 56x56 maps would lose bits in f32 */
        for (int64_t j = 0; j < hw; j++)
            s += xc[j];
        y[nc] = (float)(s / (double)hw);
    }
}
