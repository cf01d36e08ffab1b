/* plan_memory_pass.c — plan_memory() registered as an analysis-only pass,
 * so pipelines and `nasc-opt --stats` report the workspace the current
 * graph would need. plan_memory.c itself (used by codegen) is unchanged;
 * this file is only its wrapper (it cannot be plan_memory.c, the name the
 * file-per-pass rule would give). */
#include "passes/internal.h"

#include <stdlib.h>

int pass_plan_memory(Graph *g, Diag *d)
{
    (void)d;
    int64_t *offset = arena_calloc(g->arena, g->nval, sizeof *offset);
    NASC_ASSERT(offset);
    pass_stat("workspace-bytes", plan_memory(g, offset));
    return 0;
}
