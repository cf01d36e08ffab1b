/* train.h — the training engine: forward with saved activations, backward
 * through the op table's grad_<lname> hooks, and the optimisers.
 *
 * A Tape runs one Graph (single f32 input, single f32 output, batch N in
 * the input shape) and keeps, of the last forward, the activations some
 * op's backward reads (and the output); the others share scratch buffers
 * during the forward and are gone after it. Params are read from Value.data (the Graph's bound
 * weights), so an optimiser step that updates Value.data in place is seen
 * by the next forward; the trainer owns that memory. Gradients exist for
 * every param that is not a running statistic (ir_fill_stats) and for the
 * graph input; they accumulate across backward calls until zeroed.
 *
 * Modes: RT_TRAIN uses batch statistics in every batchnorm and updates its
 * running statistics (momentum), RT_EVAL uses the running statistics, as
 * torch's module.train() / module.eval(). Backward is legal after either.
 *
 * Memory is malloc'd by the tape (activations are per-step data, not IR),
 * freed by rt_tape_free. Errors go to the Diag, never printed.
 */
#ifndef NASC_RUNTIME_TRAIN_TRAIN_H
#define NASC_RUNTIME_TRAIN_TRAIN_H

#include "ir/ir.h"

typedef enum RtMode { RT_EVAL, RT_TRAIN } RtMode;

typedef struct TapeOptions {
    float bn_momentum; /* running-statistics momentum, torch's default 0.1 */
} TapeOptions;

typedef struct Tape Tape;

/* Checks the graph (one f32 input, one f32 output, no u8 values, params
 * bound) and allocates activation and gradient buffers. NULL after
 * reporting to d. opts may be NULL (defaults). */
Tape *rt_tape_new(const Graph *g, const TapeOptions *opts, Diag *d);
void rt_tape_free(Tape *t);

/* Runs the graph on input (numel of the input value); the output stays
 * readable through rt_tape_output until the next forward. */
bool rt_tape_forward(Tape *t, const float *input, RtMode mode, Diag *d);
const float *rt_tape_output(const Tape *t);
/* The value's data from the last forward (params, the input, the output
 * and the activations backward reads), or NULL: for an activation no
 * backward reads (e.g. mixed-op scale and add outputs), released. */
const float *rt_tape_value(const Tape *t, ValueId v);
/* Bytes of activation buffers the tape holds (kept values and the scratch
 * the others share; not params, gradients, the input copy or workspace). */
size_t rt_tape_bytes(const Tape *t);

/* Backward from dout = d loss / d output (numel of the output value):
 * accumulates into every param gradient and the input gradient. Needs a
 * forward first. */
bool rt_tape_backward(Tape *t, const float *dout, Diag *d);
/* Gradient buffer of a param or the graph input (numel floats), or NULL for
 * values without one (running statistics, activations). */
float *rt_tape_grad(Tape *t, ValueId v);
/* Zeroes every param and input gradient. */
void rt_tape_zero_grad(Tape *t);

/* ---- optim.c: optimisers over a set of params ---- */

/* One trainable tensor: its data (updated in place), gradient and size. */
typedef struct OptParam {
    float *data;
    float *grad;       /* the tape's buffer; clipping scales it */
    int64_t numel;
    bool decay; /* weight decay applies */
} OptParam;

/* SGD with momentum and (coupled, L2) weight decay, as torch.optim.SGD:
 * g = grad + wd * w; v = momentum * v + g; w -= lr * v. */
typedef struct Sgd {
    float momentum, weight_decay;
    int nparam;
    OptParam *params;
    float **velocity; /* per param, numel floats, zero at start */
} Sgd;

/* Adam as torch.optim.Adam (L2 weight decay added to the gradient,
 * bias-corrected moments). */
typedef struct Adam {
    float beta1, beta2, eps, weight_decay;
    int nparam;
    OptParam *params;
    float **m, **v;
    int64_t step;
} Adam;

/* Both take a copy of params; false after reporting out of memory. */
bool rt_sgd_init(Sgd *o, const OptParam *params, int nparam, float momentum,
                 float weight_decay, Diag *d);
void rt_sgd_step(Sgd *o, float lr);
void rt_sgd_free(Sgd *o);
bool rt_adam_init(Adam *o, const OptParam *params, int nparam, float beta1, float beta2,
                  float eps, float weight_decay, Diag *d);
void rt_adam_step(Adam *o, float lr);
void rt_adam_free(Adam *o);

/* Cosine annealing as torch's CosineAnnealingLR stepped per epoch:
 * lr_min + (lr_max - lr_min) * (1 + cos(pi * epoch / epochs)) / 2. */
float rt_cosine_lr(float lr_max, float lr_min, int epoch, int epochs);
/* Scales all gradients so their global L2 norm is at most max_norm, as
 * torch.nn.utils.clip_grad_norm_; returns the norm before clipping. */
double rt_clip_grad_norm(const OptParam *params, int nparam, double max_norm);

#endif
