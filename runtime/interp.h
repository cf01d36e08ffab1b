/* interp.h — the reference interpreter: runs a Graph with the kernels in
 * runtime/ref/ (convolutions as im2col + OpenBLAS sgemm). It is the
 * semantic reference every other path (emitted C, JIT) is checked against.
 */
#ifndef NASC_RUNTIME_INTERP_H
#define NASC_RUNTIME_INTERP_H

#include "ir/ir.h"

/* Runs g on `input` (numel of the graph's single input, NCHW f32) and
 * writes the single output to `output` (f32, or bytes for a u8 output).
 * Every param must have data bound. If trace_dir is non-NULL, every named
 * non-param value is written there as "<name>.bin" (raw little-endian f32,
 * or bytes for u8). Returns false after reporting to d
 * (unbound param, unwritable trace file, out of memory). */
bool rt_interp_run(const Graph *g, const float *input, void *output, const char *trace_dir,
                   Diag *d);

/* Data-dependent initialisation: runs g on `input` and, at every
 * batchnorm, first sets its running mean and variance to the statistics of
 * the BN's actual input, so every BN normalises as in a trained net. Gives
 * seeded weights a realistic activation scale (no collapse to the BN shifts,
 * no overflow); deterministic for a given machine's BLAS. */
bool rt_interp_calibrate_bn(Graph *g, const float *input, Diag *d);

#endif
