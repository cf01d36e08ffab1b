/* passes.h — IR analyses and rewrites. Rewrites are
 * `int pass_x(Graph *, Diag *)` (rewrites made, or -1 after a diagnostic),
 * registered by name in passes.def (arrives with the optimizer issue).
 */
#ifndef NASC_PASSES_PASSES_H
#define NASC_PASSES_PASSES_H

#include "ir/ir.h"

/* plan_memory.c: assigns every non-param, non-input value a byte offset in
 * one workspace so that values alive at the same time never overlap (first
 * fit by lifetime, offsets 64-byte aligned). offset[] has g->nval entries
 * (-1 for params, inputs and graph outputs, which live outside the
 * workspace). Returns the workspace size in bytes. */
int64_t plan_memory(const Graph *g, int64_t *offset);

#endif
