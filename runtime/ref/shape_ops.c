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
