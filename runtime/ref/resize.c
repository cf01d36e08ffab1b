/* resize.c — bilinear resize with PyTorch's CPU coefficients
 * (F.interpolate(mode='bilinear', size=...), ATen UpSampleKernel.cpp).
 *
 * Bilinear resize is separable: output row oy reads two input rows with
 * weights (1 - ly, ly), output column ox two input columns with (1 - lx, lx).
 * rt_resize_taps computes one axis's (i0, i1, lambda) as ATen does, which
 * was established by probing torch 1.13 with impulse inputs: scale is a
 * float, (in-1)/(out-1) or in/out; the source coordinate and lambda are
 * computed in double from that float scale (src = scale*dst, or
 * scale*(dst+0.5)-0.5 clamped at 0), i0 = floor(src) (<= in-1), i1 = i0+1
 * unless i0 is the last index, and only lambda is rounded to float;
 * in == out is an exact copy. With these taps the weights agree with torch
 * bit for bit. The kernel mixes the two columns first and the two rows
 * second, ATen's order for NCHW tensors; the results then differ from torch
 * only by rounding (torch's AVX2 build contracts to FMA). The C emitter calls
 * rt_resize_taps at compile time for its tables, so the emitted code and the
 * interpreter share one definition of the coefficients.
 */
#include "runtime/ref/ref.h"

void rt_resize_taps(int64_t in, int64_t out, int align_corners, int64_t dst, RtResizeTap *t)
{
    if (in == out) {
        t->i0 = t->i1 = dst, t->lambda = 0.0f;
        return;
    }
    double src;
    if (align_corners) {
        float scale = out > 1 ? (float)(in - 1) / (float)(out - 1) : 0.0f;
        src = (double)scale * (double)dst;
    } else {
        float scale = (float)in / (float)out;
        src = (double)scale * ((double)dst + 0.5) - 0.5;
        if (src < 0.0)
            src = 0.0;
    }
    int64_t i0 = (int64_t)src; /* src >= 0: truncation is floor */
    if (i0 > in - 1)
        i0 = in - 1;
    double lambda = src - (double)i0;
    t->i0 = i0;
    t->i1 = i0 < in - 1 ? i0 + 1 : i0;
    t->lambda = (float)(lambda < 0.0 ? 0.0 : lambda > 1.0 ? 1.0 : lambda);
}

/* x[nc, h, w] -> y[nc, oh, ow], one plane at a time; the taps are
 * recomputed per pixel (a few flops next to four loads) so the kernel
 * needs no scratch. */
void rt_ref_resize_bilinear(int64_t nc, int64_t h, int64_t w, int64_t oh, int64_t ow,
                            int align_corners, const float *x, float *y)
{
    for (int64_t p = 0; p < nc; p++, x += h * w)
        for (int64_t oy = 0; oy < oh; oy++) {
            RtResizeTap ty;
            rt_resize_taps(h, oh, align_corners, oy, &ty);
            const float *r0 = x + ty.i0 * w, *r1 = x + ty.i1 * w;
            float ly1 = ty.lambda, ly0 = 1.0f - ly1;
            for (int64_t ox = 0; ox < ow; ox++) {
                RtResizeTap tx;
                rt_resize_taps(w, ow, align_corners, ox, &tx);
                float lx1 = tx.lambda, lx0 = 1.0f - lx1;
                float t0 = r0[tx.i0] * lx0 + r0[tx.i1] * lx1;
                float t1 = r1[tx.i0] * lx0 + r1[tx.i1] * lx1;
                *y++ = t0 * ly0 + t1 * ly1;
            }
        }
}
