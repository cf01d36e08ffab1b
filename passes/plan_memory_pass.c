/* plan_memory_pass.c — the float emitter's memory plan registered as an
 * analysis-only pass, so pipelines and `nasc-opt --stats` report the
 * workspace the current graph would need, the lower bound it is measured
 * against and how many copies the merges removed. The planner lives in
 * plan_memory.c (the name the file-per-pass rule would give this wrapper),
 * shared with codegen. */
#include "passes/internal.h"

int pass_plan_memory(Graph *g, Diag *d)
{
    (void)d;
    MemPlan plan;
    plan_memory_full(g, PLAN_DEFAULT, g->arena, &plan);
    pass_stat("workspace-bytes", plan.bytes);
    pass_stat("lower-bound-bytes", plan.lower_bound);
    pass_stat("concat-in-place", plan.nconcat);
    pass_stat("elementwise-in-place", plan.ninplace);
    return 0;
}
