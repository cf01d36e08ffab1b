/* ref.h — array kernels of the nasc runtime: NCHW f32, no IR types.
 *
 * Two kinds live here. rt_ref_* are the naive kernels: short loops that
 * define each op's semantics (they match PyTorch) and serve as the oracle
 * for everything faster. rt_f32_<op>__<variant> are the optimised kernels
 * (XNNPACK naming); each is tested against the rt_ref_ one. Kernels never
 * allocate: any scratch memory is passed in by the caller, whose size a
 * *_workspace() function reports, so out-of-memory is the caller's to
 * report. Pointers given to one kernel call must not alias unless said.
 */
#ifndef NASC_RUNTIME_REF_REF_H
#define NASC_RUNTIME_REF_REF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- sgemm.c ---- */

/* Row-major C[m,n] = alpha * op(A) * op(B) + beta * C, op(X) = X or X^T.
 * A is [m,k] (ta false) or [k,m] (ta true) with row stride lda; likewise B
 * is [k,n] or [n,k] with ldb. The only place that chooses OpenBLAS
 * (NASC_WITH_OPENBLAS) or the built-in loop. */
void rt_sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
              int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc);
/* The built-in loop alone, whatever the build option (for tests). */
void rt_sgemm__naive(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                     const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                     float *c, int64_t ldc);
/* "openblas" or "naive": which one rt_sgemm uses. */
const char *rt_sgemm_backend(void);

/* ---- conv.c ---- */

/* Geometry of a convolution, as torch.nn.Conv2d with explicit padding:
 * x[n,c,h,w] * w[oc, c/groups, kh, kw] -> y[n, oc, oh, ow]. */
typedef struct RtConv2d {
    int64_t n, c, h, w; /* input */
    int64_t oc, kh, kw; /* weight */
    int stride[2];      /* h, w */
    int pad[4];         /* top, left, bottom, right (zeros) */
    int dilation[2];    /* h, w */
    int groups;         /* divides c and oc */
} RtConv2d;

/* One output dimension of a window op: floor((in + lo + hi - dil*(k-1) - 1)
 * / stride) + 1; a value < 1 means the geometry is invalid. */
int64_t rt_window_out(int64_t in, int64_t k, int stride, int pad_lo, int pad_hi, int dil);
/* Output height and width of p; false if either would be < 1 or the
 * geometry is invalid (non-positive sizes, groups not dividing c and oc). */
bool rt_conv2d_out_hw(const RtConv2d *p, int64_t *oh, int64_t *ow);

/* The outputs o in [*lo, *hi) of an axis of `out` whose input index
 * o*stride - pad + off lies in [0, in): the taps of kernel offset off that
 * read no padding, so fast loops need no per-tap bounds check. */
void rt_conv_tap_range(int64_t out, int64_t in, int stride, int pad, int64_t off, int64_t *lo,
                       int64_t *hi);
/* 1x1, stride 1, no padding: x[c, h*w] already is its im2col matrix. */
bool rt_conv2d_is_pointwise(const RtConv2d *p);
/* One group of one image: xg[cg, h, w] -> cols[cg*kh*kw, oh*ow], padding
 * taps 0 (shared by the forward im2col path and the backward). */
void rt_im2col(const RtConv2d *p, int64_t cg, int64_t oh, int64_t ow, const float *xg,
               float *cols);

/* Naive direct convolution; b may be NULL (no bias). */
void rt_ref_conv2d(const RtConv2d *p, const float *x, const float *w, const float *b, float *y);

/* Floats of scratch rt_f32_conv2d__im2col_sgemm needs (0 for 1x1 / stride 1
 * / no pad, which multiplies x directly). */
size_t rt_f32_conv2d__im2col_sgemm_workspace(const RtConv2d *p);
/* Per batch item and group: cols[c/g*kh*kw, oh*ow] = im2col(x), then
 * y[oc/g, oh*ow] = w[oc/g, c/g*kh*kw] * cols with rt_sgemm. */
void rt_f32_conv2d__im2col_sgemm(const RtConv2d *p, const float *x, const float *w,
                                 const float *b, float *y, float *ws);

/* Depthwise (groups == c == oc) direct loop, any stride/pad/dilation. */
bool rt_f32_dwconv2d__direct_applies(const RtConv2d *p);
void rt_f32_dwconv2d__direct(const RtConv2d *p, const float *x, const float *w, const float *b,
                             float *y);

/* The fast path for p: depthwise direct when it applies, else im2col+sgemm.
 * ws must hold rt_f32_conv2d_workspace(p) floats. */
size_t rt_f32_conv2d_workspace(const RtConv2d *p);
void rt_f32_conv2d(const RtConv2d *p, const float *x, const float *w, const float *b, float *y,
                   float *ws);

/* ---- pool.c ---- */

/* Geometry of a pooling window over x[n,c,h,w] (no ceil mode). */
typedef struct RtPool2d {
    int64_t n, c, h, w;
    int kernel[2], stride[2];
    int pad[4];            /* top, left, bottom, right */
    int count_include_pad; /* avgpool only: 1 divides by the window clipped to
                              the padded input, 0 by in-bounds taps only */
} RtPool2d;

bool rt_pool2d_out_hw(const RtPool2d *p, int64_t *oh, int64_t *ow);
/* The window of output o along axis 0 (height) or 1 (width): [*lo, *hi)
 * inside the input; returns its size clipped to the padded input only
 * (the count_include_pad divisor). Shared with the backward kernels. */
int64_t rt_pool2d_window(const RtPool2d *p, int axis, int64_t o, int64_t *lo, int64_t *hi);
/* Max over the window; padding counts as -inf. */
void rt_ref_maxpool2d(const RtPool2d *p, const float *x, float *y);
/* Mean over the window, divisor per count_include_pad (as PyTorch). */
void rt_ref_avgpool2d(const RtPool2d *p, const float *x, float *y);
/* y[n,c] = mean of x[n,c,:,:] over hw elements. */
void rt_ref_gavgpool(int64_t n, int64_t c, int64_t hw, const float *x, float *y);

/* ---- elementwise.c ---- */

/* y = max(x, 0); y may equal x. */
void rt_ref_relu(int64_t numel, const float *x, float *y);
/* y = x > 0 ? x : x * slope (F.leaky_relu, negative_slope = slope); y may
 * equal x. */
void rt_ref_leaky_relu(int64_t numel, const float *x, float slope, float *y);
/* y = a + b; y may equal a or b. */
void rt_ref_add(int64_t numel, const float *a, const float *b, float *y);
/* y[r, :] = softmax(x[r, :]) for rows x k (max-subtracted, in float); y
 * may equal x. */
void rt_ref_softmax(int64_t rows, int64_t k, const float *x, float *y);
/* y = x * s; y may equal x. */
void rt_ref_scale(int64_t numel, const float *x, float s, float *y);
/* Eval-mode batch norm over x[n,c,hw]: y = (x - mean) / sqrt(var + eps) *
 * gamma + beta, per channel; gamma NULL means 1, beta NULL means 0. */
void rt_ref_batchnorm(int64_t n, int64_t c, int64_t hw, const float *x, const float *mean,
                      const float *var, const float *gamma, const float *beta, float eps,
                      float *y);
/* y[n,k] = sum_c x[n,c] * w[k,c] + b[k]; b may be NULL. */
void rt_ref_linear(int64_t n, int64_t c, int64_t k, const float *x, const float *w,
                   const float *b, float *y);

/* ---- shape_ops.c ---- */

/* Concatenates nx tensors xs[i][n, cs[i], hw] along channels into
 * y[n, sum cs, hw]. */
/* y[b, 0, i] = the channel c of x[b, :, i] with the largest value (the
 * first on ties; NaN never wins), for C <= 256. */
void rt_ref_argmax(int64_t n, int64_t c, int64_t hw, const float *x, uint8_t *y);

void rt_ref_concat(int64_t n, int64_t hw, int nx, const float *const *xs, const int64_t *cs,
                   float *y);
/* y = x[:, :, top:top+oh, left:left+ow] for x[n,c,h,w]; caller ensures
 * top+oh <= h and left+ow <= w. */
void rt_ref_crop(int64_t n, int64_t c, int64_t h, int64_t w, int64_t top, int64_t left,
                 int64_t oh, int64_t ow, const float *x, float *y);
/* space_to_batch: x[n,c,h,w] read as zero-padded by top/left (and whatever
 * bottom/right the phase size ph x pw needs); phase (py,px) of block r goes
 * to y[(py*r+px)*n + b, :, i, j] = xpad[b, :, py + r*i, px + r*j]. */
void rt_ref_space_to_batch(int64_t n, int64_t c, int64_t h, int64_t w, int r, int top,
                           int left, int64_t ph, int64_t pw, const float *x, float *y);
/* batch_to_space: the inverse interleave of phases x[r*r*n, c, ph, pw] with
 * the first top rows and left columns cropped: y[b, :, oy, ox] for
 * oy + top = r*i + py is x[(py*r+px)*n + b, :, i, j]. y is [n, c, oh, ow]. */
void rt_ref_batch_to_space(int64_t n, int64_t c, int64_t ph, int64_t pw, int r, int top,
                           int left, int64_t oh, int64_t ow, const float *x, float *y);
/* Output spatial size of zero with stride s: (in - 1) / s + 1. */
int64_t rt_zero_out(int64_t in, int stride);
/* y = 0 (numel floats): the "none" op, shaped like x[:, :, ::s, ::s]. */
void rt_ref_zero(int64_t numel, float *y);

/* ---- resize.c ---- */

/* One output coordinate of a bilinear resize along one axis: it reads input
 * indices i0 and i1 with weights 1 - lambda and lambda (i1 == i0 at the last
 * index, and everywhere when in == out: a copy). */
typedef struct RtResizeTap {
    int64_t i0, i1;
    float lambda; /* in [0, 1] */
} RtResizeTap;

/* The taps of output index dst (0 <= dst < out) when an axis of `in`
 * elements is resized to `out` (both >= 1), bit-identical to PyTorch's CPU
 * coefficients: align_corners 1 maps src = dst*(in-1)/(out-1) (0 if
 * out == 1); 0 maps src = (dst+0.5)*in/out - 0.5, clamped below at 0; the
 * scale is a float, src and lambda are computed in double (as ATen does). */
void rt_resize_taps(int64_t in, int64_t out, int align_corners, int64_t dst, RtResizeTap *t);
/* y[nc, oh, ow] = F.interpolate(x[nc, h, w], size=(oh, ow), mode='bilinear',
 * align_corners) — any scale, up or down, including from 1x1. */
void rt_ref_resize_bilinear(int64_t nc, int64_t h, int64_t w, int64_t oh, int64_t ow,
                            int align_corners, const float *x, float *y);

#endif
