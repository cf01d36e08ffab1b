/* grad.h — backward (and training-mode forward) array kernels: NCHW f32,
 * no IR types, the training engine's counterpart of ref.h.
 *
 * Conventions, for every kernel here:
 *  - Gradients ACCUMULATE: dx += ..., dw += ... . A value read by several
 *    nodes receives the sum of their contributions, so the caller zeroes
 *    gradient buffers once per step, never the kernels.
 *  - Any gradient output may be NULL: that gradient is not wanted (a frozen
 *    input, the network input, running statistics) and is not computed.
 *  - Geometry structs are ref.h's (RtConv2d, RtPool2d), describing the
 *    FORWARD op; dy has the forward output's shape.
 *  - Kernels never allocate; scratch comes from the caller, sized by the
 *    matching *_workspace() function (in floats).
 *  - Each kernel is checked against central finite differences of its
 *    forward kernel in tests/train.
 */
#ifndef NASC_RUNTIME_REF_GRAD_H
#define NASC_RUNTIME_REF_GRAD_H

#include "runtime/ref/ref.h"

/* ---- grad_conv.c: convolution, linear, batch norm ---- */

/* Floats of scratch rt_conv2d_backward needs for p. */
size_t rt_conv2d_backward_workspace(const RtConv2d *p);
/* Backward of y = conv2d(x, w) + b (any stride, padding, dilation, groups;
 * depthwise included): dx += conv_transpose(dy, w), dw += dy (*) x,
 * db += sum of dy over n, h, w. */
void rt_conv2d_backward(const RtConv2d *p, const float *x, const float *w, const float *dy,
                        float *dx, float *dw, float *db, float *ws);

/* Backward of y[n,k] = x[n,c] . w[k,c] + b[k]. */
void rt_linear_backward(int64_t n, int64_t c, int64_t k, const float *x, const float *w,
                        const float *dy, float *dx, float *dw, float *db);

/* Training-mode BatchNorm2d forward over x[n,c,hw], as torch: per channel
 * the batch mean and biased variance normalise x; save_mean and
 * save_invstd (c floats each, 1/sqrt(var_biased + eps)) keep them for the
 * backward. running_mean / running_var (may be NULL: not tracked) become
 * (1 - momentum) * running + momentum * batch, with the UNBIASED variance
 * (count / (count - 1), count = n * hw) as torch does. gamma / beta NULL
 * mean 1 / 0 (affine=False). y may not alias x. */
void rt_batchnorm_train_forward(int64_t n, int64_t c, int64_t hw, const float *x,
                                const float *gamma, const float *beta, float eps,
                                float momentum, float *running_mean, float *running_var,
                                float *save_mean, float *save_invstd, float *y);
/* Backward of the training-mode forward (the batch statistics depend on x):
 * dx, dgamma, dbeta accumulate. */
void rt_batchnorm_train_backward(int64_t n, int64_t c, int64_t hw, const float *x,
                                 const float *gamma, const float *save_mean,
                                 const float *save_invstd, const float *dy, float *dx,
                                 float *dgamma, float *dbeta);
/* Backward of the eval-mode forward (rt_ref_batchnorm: constant statistics). */
void rt_batchnorm_eval_backward(int64_t n, int64_t c, int64_t hw, const float *x,
                                const float *mean, const float *var, const float *gamma,
                                float eps, const float *dy, float *dx, float *dgamma,
                                float *dbeta);

/* ---- grad_misc.c: everything else ---- */

/* dx += dy where x > 0 (torch's relu backward: 0 at x == 0). */
void rt_relu_backward(int64_t numel, const float *x, const float *dy, float *dx);
/* dx += dy * (x > 0 ? 1 : slope). */
void rt_leaky_relu_backward(int64_t numel, const float *x, float slope, const float *dy,
                            float *dx);
/* Each output's dy goes to the input element that won the max (the first
 * in window scan order on ties, padding never wins), as torch. */
void rt_maxpool2d_backward(const RtPool2d *p, const float *x, const float *dy, float *dx);
/* dy spread evenly over each window with the forward's divisor. */
void rt_avgpool2d_backward(const RtPool2d *p, const float *dy, float *dx);
/* dx[n,c,i] += dy[n,c] / hw. */
void rt_gavgpool_backward(int64_t n, int64_t c, int64_t hw, const float *dy, float *dx);
/* Splits dy[n, sum cs, hw] back into dxs[i][n, cs[i], hw]; dxs[i] may be
 * NULL. */
void rt_concat_backward(int64_t n, int64_t hw, int nx, const int64_t *cs, const float *dy,
                        float *const *dxs);
/* dx[:, :, top:top+oh, left:left+ow] += dy for the forward rt_ref_crop. */
void rt_crop_backward(int64_t n, int64_t c, int64_t h, int64_t w, int64_t top, int64_t left,
                      int64_t oh, int64_t ow, const float *dy, float *dx);
/* Transpose of rt_ref_resize_bilinear (same taps, rt_resize_taps). */
void rt_resize_bilinear_backward(int64_t nc, int64_t h, int64_t w, int64_t oh, int64_t ow,
                                 int align_corners, const float *dy, float *dx);
/* Backward of y = rt_ref_softmax(x) along rows of k, from y:
 * dx += y * (dy - sum(dy * y)). */
void rt_softmax_backward(int64_t rows, int64_t k, const float *y, const float *dy, float *dx);
/* Backward of y = x * s: dx += dy * s; *ds += sum(dy * x) (ds may be NULL). */
void rt_scale_backward(int64_t numel, const float *x, float s, const float *dy, float *dx,
                       float *ds);

/* Per-pixel softmax cross-entropy over logits[n, c, hw] against labels
 * [n, hw] (class ids < c; `ignore`, e.g. 255, pixels count for nothing),
 * averaged over the counted pixels, as torch's
 * F.cross_entropy(ignore_index=ignore, reduction='mean'). Returns the loss
 * (0 if nothing counts) and sets *counted; writes (not accumulates)
 * dlogits = d loss / d logits if dlogits is non-NULL. A label >= c that is
 * not `ignore` is the caller's bug: the loader validates masks. */
double rt_softmax_ce(int64_t n, int64_t c, int64_t hw, const float *logits,
                     const uint8_t *labels, int ignore, float *dlogits, int64_t *counted);

#endif
