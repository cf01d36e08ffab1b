/* int8.h — calibration and the int8 reference interpreter (lib nasc_int8).
 *
 * rt_q8_calibrate runs the float reference interpreter over calibration
 * inputs and records each value's range; passes/quantize.h turns the ranges
 * into a plan; rt_q8_run executes a plan with integer kernels only
 * (q8_kernels.inc, the very text codegen/emit_c_int8.c emits), so it is
 * the oracle the emitted int8 C must equal bit for bit.
 */
#ifndef NASC_RUNTIME_INT8_INT8_H
#define NASC_RUNTIME_INT8_INT8_H

#include "passes/quantize.h"

/* range[nval] gets min/max over n inputs (each the graph input's numel of
 * f32, stored one after another) of every f32 non-param value. Uses the
 * interpreter's --trace in a fresh temporary directory (removed again).
 * Returns false after reporting to d. */
bool rt_q8_calibrate(const Graph *g, const float *inputs, int64_t n, QRange *range, Diag *d);

/* Runs the plan on one float input: quantises it with q[in], runs every
 * step, then writes the output as floats (dequantised) or, for a label
 * output, bytes. If q8_out is non-NULL it also gets the raw int8 output
 * (the argmax's input for label outputs). Returns false after reporting
 * to d (out of memory). */
bool rt_q8_run(const Graph *g, const QPlan *plan, const float *input, void *output,
               int8_t *q8_out, Diag *d);

#endif
