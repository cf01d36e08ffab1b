/* shape_ops.c — kernels that only move (or zero) data: channel concat,
 * spatial crop and the zero op of DARTS ("none").
 *
 * Concat walks the batch outermost: in NCHW, one image's channels are
 * contiguous, so each input contributes one block of cs[i]*hw floats per
 * image, not one block overall.
 */
#include "runtime/ref/ref.h"

#include <string.h>

void rt_ref_concat(int64_t n, int64_t hw, int nx, const float *const *xs, const int64_t *cs,
                   float *y)
{
    for (int64_t b = 0; b < n; b++)
        for (int i = 0; i < nx; i++) {
            size_t len = (size_t)(cs[i] * hw);
            memcpy(y, xs[i] + (size_t)b * len, len * sizeof *y);
            y += len;
        }
}

void rt_ref_crop(int64_t n, int64_t c, int64_t h, int64_t w, int64_t top, int64_t left,
                 int64_t oh, int64_t ow, const float *x, float *y)
{
    for (int64_t nc = 0; nc < n * c; nc++)
        for (int64_t i = 0; i < oh; i++)
            memcpy(y + (nc * oh + i) * ow, x + (nc * h + top + i) * w + left,
                   (size_t)ow * sizeof *y);
}

void rt_ref_space_to_batch(int64_t n, int64_t c, int64_t h, int64_t w, int r, int top,
                           int left, int64_t ph, int64_t pw, const float *x, float *y)
{
    for (int64_t p = 0; p < (int64_t)r * r; p++)
        for (int64_t bc = 0; bc < n * c; bc++) {
            const float *xp = x + bc * h * w;
            float *yp = y + (p * n * c + bc) * ph * pw;
            for (int64_t i = 0; i < ph; i++) {
                int64_t iy = p / r + r * i - top;
                for (int64_t j = 0; j < pw; j++) {
                    int64_t ix = p % r + r * j - left;
                    bool in = iy >= 0 && iy < h && ix >= 0 && ix < w;
                    yp[i * pw + j] = in ? xp[iy * w + ix] : 0.0f;
                }
            }
        }
}

void rt_ref_batch_to_space(int64_t n, int64_t c, int64_t ph, int64_t pw, int r, int top,
                           int left, int64_t oh, int64_t ow, const float *x, float *y)
{
    for (int64_t bc = 0; bc < n * c; bc++)
        for (int64_t oy = 0; oy < oh; oy++) {
            int64_t py = (oy + top) % r, i = (oy + top) / r;
            for (int64_t ox = 0; ox < ow; ox++) {
                int64_t px = (ox + left) % r, j = (ox + left) / r;
                int64_t phase = (py * r + px) * n * c + bc;
                y[(bc * oh + oy) * ow + ox] = x[(phase * ph + i) * pw + j];
            }
        }
}

int64_t rt_zero_out(int64_t in, int stride) { return stride < 1 ? 0 : (in - 1) / stride + 1; }

void rt_ref_zero(int64_t numel, float *y) { memset(y, 0, (size_t)numel * sizeof *y); }

void rt_ref_argmax(int64_t n, int64_t c, int64_t hw, const float *x, uint8_t *y)
{
    for (int64_t b = 0; b < n; b++) {
        const float *xb = x + b * c * hw;
        for (int64_t i = 0; i < hw; i++) {
            int64_t best = 0;
            for (int64_t k = 1; k < c; k++)
                if (xb[k * hw + i] > xb[best * hw + i])
                    best = k;
            y[b * hw + i] = (uint8_t)best;
        }
    }
}
