/* quantize.h — the int8 quantisation plan of a graph (docs/firmware.md, "int8").
 *
 * pass_quant_plan turns a float graph (normally after -O2, BatchNorm folded)
 * and per-value calibration ranges into a list of int8 kernel calls: one or
 * more Q8Step per node, each naming a kernel of runtime/int8/q8_kernels.inc,
 * its operand values, its int8 weights, an int32 table (bias, multiplier
 * and shift per output channel, or resize taps) and its int32 parameters.
 * The int8 reference interpreter (runtime/int8/) executes the steps and
 * codegen/emit_c_int8.c prints them, so the two share every constant.
 *
 * Scheme: activations per tensor asymmetric (real = scale * (q - zp), the
 * range widened to contain 0), weights per output channel symmetric
 * (max |w| -> 127), biases int32 at scale in_scale * w_scale, requant
 * multipliers as (M in [2^30, 2^31), shift) with gemmlowp rounding. relu,
 * max/avg pooling, crop and resize keep their input's quantisation; conv,
 * linear, batchnorm, add, leaky_relu, global pooling and concat get their
 * own from the calibration range (concat requantises each operand into its
 * slice). Fused convs (passes fuse-act, fuse-add) stay one step: pre=relu
 * clamps the input at its zero point, the addend is requantised onto the
 * output and added before the clamp, act=relu clamps at the output's zero
 * point; the output's range is the fused value's, as calibrated.
 */
#ifndef NASC_PASSES_QUANTIZE_H
#define NASC_PASSES_QUANTIZE_H

#include "ir/ir.h"

/* The kernels, X(ENUM, name): runtime function nasc_q8_<name>. The order
 * here is the order of the dispatch tables expanded from it. */
#define Q8_KERNELS(X)          \
    X(CONV2D, conv2d)          \
    X(CONV1X1, conv1x1)        \
    X(ADD, add)                \
    X(REQUANT, requant)        \
    X(RELU, relu)              \
    X(LEAKY_RELU, leaky_relu)  \
    X(POOL2D, pool2d)          \
    X(GAVGPOOL, gavgpool)      \
    X(CROP, crop)              \
    X(FILL, fill)              \
    X(RESIZE, resize)          \
    X(ARGMAX, argmax)

typedef enum Q8Kernel {
#define X(E, n) Q8K_##E,
    Q8_KERNELS(X)
#undef X
    NQ8K
} Q8Kernel;

const char *pass_quant_kernel_name(Q8Kernel k); /* "conv2d" */

/* Per-value calibration range (float min and max seen). */
typedef struct QRange { float lo, hi; } QRange;
/* real = scale * (q - zp); q in [-128, 127]. */
typedef struct QParam { float scale; int32_t zp; } QParam;

enum { Q8_MAXP = 24 };
typedef struct Q8Step {
    Q8Kernel k;
    NodeId node;          /* the IR node this call computes (part of) */
    ValueId y, a, b;      /* output, operands (0: none) */
    const int8_t *w;      /* nw int8 weights, or NULL */
    int64_t nw;
    const int32_t *t;     /* nt int32 table entries, or NULL */
    int64_t nt;
    const char *wname;    /* state_dict name of the weight, for comments */
    int32_t p[Q8_MAXP];   /* parameters, as the kernel's comment lists */
    int np;
} Q8Step;

typedef struct QPlan {
    QParam *q;            /* per value (graph's nval entries) */
    Q8Step *steps;
    uint32_t nstep;
    ValueId in, out;      /* the graph's input and output */
    bool labels;          /* the output is argmax labels (u8) */
    float in_inv_scale;   /* 1 / q[in].scale, the entry quantiser's factor */
} QPlan;

/* Real multiplier m >= 0 as (M, shift): m ~ M * 2^(shift - 31),
 * M in [2^30, 2^31) or M = 0 (m too small; then shift = 0); shift <= 30. */
void pass_quant_multiplier(double m, int32_t *M, int32_t *shift);
/* The tensor quantisation of a range (widened to contain 0). */
QParam pass_quant_param(QRange r);

/* Builds the plan of g (one input, one output, batch 1) from range[nval]
 * (entries for params are ignored). Memory from a. Returns false after
 * reporting to d: an op without an int8 form (softmax, scale), a batch
 * above 1, unbound weights. */
bool pass_quant_plan(const Graph *g, const QRange *range, Arena *a, QPlan *plan, Diag *d);

#endif
