/* elementwise.c — per-element and per-channel kernels: relu, leaky_relu, add,
 * eval-mode batch norm, and the fully connected layer.
 *
 * Batch norm computes gamma / sqrt(var + eps) once per channel (in double)
 * and keeps the subtraction of the mean: (x - mean) * scale + beta. Folding
 * the mean into the shift instead would cancel badly when |mean| >> |x - mean|.
 */
#include "runtime/ref/ref.h"

#include <math.h>

void rt_ref_relu(int64_t numel, const float *x, float *y)
{
    for (int64_t i = 0; i < numel; i++)
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void rt_ref_leaky_relu(int64_t numel, const float *x, float slope, float *y)
{
    /* torch's CPU kernel: x > 0 ? x : x * slope (so -0 stays -0, NaN stays NaN) */
    for (int64_t i = 0; i < numel; i++)
        y[i] = x[i] > 0.0f ? x[i] : x[i] * slope;
}

void rt_ref_add(int64_t numel, const float *a, const float *b, float *y)
{
    for (int64_t i = 0; i < numel; i++)
        y[i] = a[i] + b[i];
}

void rt_ref_batchnorm(int64_t n, int64_t c, int64_t hw, const float *x, const float *mean,
                      const float *var, const float *gamma, const float *beta, float eps,
                      float *y)
{
    for (int64_t k = 0; k < c; k++) {
        float fs = (float)((gamma ? gamma[k] : 1.0) / sqrt((double)var[k] + (double)eps));
        float fm = mean[k], fb = beta ? beta[k] : 0.0f;
        for (int64_t i = 0; i < n; i++) {
            const float *xc = x + (i * c + k) * hw;
            float *yc = y + (i * c + k) * hw;
            for (int64_t j = 0; j < hw; j++)
                yc[j] = (xc[j] - fm) * fs + fb;
        }
    }
}

void rt_ref_linear(int64_t n, int64_t c, int64_t k, const float *x, const float *w,
                   const float *b, float *y)
{
    for (int64_t i = 0; i < n; i++)
        for (int64_t o = 0; o < k; o++) {
            float s = b ? b[o] : 0.0f;
            for (int64_t j = 0; j < c; j++)
                s += x[i * c + j] * w[o * c + j];
            y[i * k + o] = s;
        }
}

void rt_ref_softmax(int64_t rows, int64_t k, const float *x, float *y)
{
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * k;
        float *yr = y + r * k;
        float top = xr[0], sum = 0;
        for (int64_t i = 1; i < k; i++)
            top = xr[i] > top ? xr[i] : top;
        for (int64_t i = 0; i < k; i++)
            sum += yr[i] = expf(xr[i] - top);
        for (int64_t i = 0; i < k; i++)
            yr[i] /= sum;
    }
}

void rt_ref_scale(int64_t numel, const float *x, float s, float *y)
{
    for (int64_t i = 0; i < numel; i++)
        y[i] = x[i] * s;
}
