/* interp.h — the reference interpreter: runs a Graph with the kernels in
 * runtime/ref/ (convolutions as im2col + OpenBLAS sgemm). It is the
 * semantic reference every other path (emitted C, JIT) is checked against.
 */
#ifndef NASC_RUNTIME_INTERP_H
#define NASC_RUNTIME_INTERP_H

#include "ir/ir.h"

/* Runs g on `input` (numel of the graph's single input, NCHW f32) and
 * writes the single output to `output`. Every param must have data bound.
 * If trace_dir is non-NULL, every named non-param value is written there
 * as "<name>.bin" (raw little-endian f32). Returns false after reporting to d
 * (unbound param, unwritable trace file, out of memory). */
bool rt_interp_run(const Graph *g, const float *input, float *output, const char *trace_dir,
                   Diag *d);

#endif
