/* passes.h — IR analyses and rewrites (lib nasc_passes, depends on ir/).
 *
 * A pass is `int pass_x(Graph *, Diag *)`: it rewrites the graph in place
 * and returns the number of rewrites made, or -1 after reporting to the
 * Diag. Passes are registered by name in passes.def; pipeline.c holds the
 * default -O0/-O1/-O2 pipelines and the driver that runs any list of names
 * with printing, statistics and verification (docs/passes.md).
 *
 * What every rewriting pass guarantees on return: node order is
 * topological, no OP_NONE node is left, every param that was in the graph
 * is still there (an unused param stands for a checkpoint tensor), and the
 * graph's inputs and outputs keep their shapes.
 */
#ifndef NASC_PASSES_PASSES_H
#define NASC_PASSES_PASSES_H

#include "ir/ir.h"

/* plan_memory.c: the workspace of the emitted C. Every non-param, non-input
 * value that is not a graph output gets a byte offset in one workspace so
 * that values alive at the same time never overlap, except where a merge
 * below makes one value live inside another on purpose (docs/passes.md):
 *   PLAN_CONCAT   with batch 1, concat operands sit in their channel slice
 *                 of the result, so their producers write there and the
 *                 concat copies only the others;
 *   PLAN_INPLACE  an elementwise op (relu, leaky_relu, add) writes over an
 *                 operand of its shape when everything in the operand's
 *                 bytes is dead after it (never into a live concat slot);
 *   PLAN_CROP_VIEW a crop read only by strided 1x1 convs (plan_crop_is_view)
 *                 gets no bytes: its readers read the crop's input in place,
 *                 so that input lives until the last of them.
 * Merged values form a slot; each keeps its own live interval, so unwritten
 * parts of a slot are free for others. Placement: first fit in node order
 * and largest-first best fit, each refined against the lower bound; the
 * smallest wins. Slots start 64-byte aligned, members where their channels
 * do. Deterministic. */
enum {
    PLAN_CONCAT = 1 << 0,
    PLAN_INPLACE = 1 << 1,
    PLAN_CROP_VIEW = 1 << 2,
    PLAN_DEFAULT = PLAN_CONCAT | PLAN_INPLACE | PLAN_CROP_VIEW, /* the float C emitter's */
};

/* Whether v is a crop (no graph output) whose every reader is a conv reading
 * it as x with a 1x1 filter, groups 1, a stride other than 1 x 1, no padding
 * and no pre: FactorizedReduce's x[:, :, 1:, 1:]. The float C emitter runs
 * such convs on the crop's input with the crop's offset as negative pads and
 * does not emit the crop (codegen/emit_c_ops.c: crop_folds). */
bool plan_crop_is_view(const Graph *g, ValueId v);

typedef struct MemPlan {
    int64_t *offset;      /* per value: byte offset in the workspace, or -1 (params,
                             inputs, graph outputs live outside it) */
    ValueId *holder;      /* per value: the value whose bytes hold it (a concat result,
                             or the operand an in-place op overwrote), or 0 */
    uint32_t *first, *last; /* per value with an offset: its live node interval,
                               [producer, last reader] */
    int64_t bytes;        /* the workspace: end of the highest slot */
    int64_t lower_bound;  /* max over nodes of the bytes live there, a byte shared by
                             merged values counted once: no placement needs fewer */
    NodeId peak;          /* the first node where lower_bound is reached (0: none) */
    uint32_t nconcat;     /* concat operands placed in their slice (no copy) */
    uint32_t ninplace;    /* elementwise results written over an operand */
    const char *placement; /* the method that won: "first-fit", "greedy-by-size", ... */
    int64_t *scratch_offset; /* per node: byte offset of its scratch, or -1; NULL
                                when no scratch was asked for */
} MemPlan;

/* Plans g with the merges in flags (PLAN_*); the arrays come from a. */
void plan_memory_full(const Graph *g, unsigned flags, Arena *a, MemPlan *plan);
/* plan_memory_full plus scratch: scratch[n] (nnode entries, NULL = none) bytes
 * that node n's kernel needs while it runs, planned with the tensors as a
 * slot live at n alone (in lower_bound too); offsets in scratch_offset. */
void plan_memory_scratch(const Graph *g, unsigned flags, const int64_t *scratch, Arena *a,
                         MemPlan *plan);
/* plan_memory_full without merges (every value in bytes of its own, as the
 * int8 emitter needs): offset[] gets g->nval entries; returns the bytes. */
int64_t plan_memory(const Graph *g, int64_t *offset);

/* ---- the passes (contracts in docs/passes.md) ---- */

/* dce.c: removes every non-param node whose result no node and no graph
 * output reads (transitively). Returns the number of nodes removed. */
int pass_dce(Graph *g, Diag *d);
/* drop_zero.c: add(zero(x), y) and add(y, zero(x)) -> y;
 * zero(zero(x, s1), s2) -> zero(x, s1*s2). The zeros left unread are
 * removed with the other dead nodes. A zero read by a concat stays (it is a
 * block of zero channels). Returns rewrites made. */
int pass_drop_zero(Graph *g, Diag *d);
/* prune_taps.c: a conv2d whose kernel taps along an axis read only padding
 * for every output position gets the smaller kernel of the taps that read
 * the input (weight sliced into a new param "<w name>+taps", pads adjusted,
 * same output). Convs whose weight has no bound data are left alone.
 * Returns the number of convs rewritten. */
int pass_prune_taps(Graph *g, Diag *d);
/* lower_dilation.c: conv2d with rate r >= 2 (both axes), stride 1, no fused
 * addend -> batch_to_space(conv2d_dilation1(space_to_batch(x))), the same
 * result; lower-dilation-s2b rewrites every such conv, lower-dilation the
 * ones its cost model picks. Returns convs rewritten. */
int pass_lower_dilation(Graph *g, Diag *d);
int pass_lower_dilation_s2b(Graph *g, Diag *d);
/* fold_bn.c: batchnorm(conv2d(x, w[, b])) -> conv2d(x, w', b') when the
 * conv's result is read only by the batchnorm; the same for a batchnorm of
 * concat(conv, conv, ...) (FactorizedReduce), slice by slice. w', b' are new
 * params named "<w name>+bn" / "<w name>+bn.bias" (derived data, not
 * checkpoint tensors); the old params stay in the graph, unread. Needs bound
 * data on every param it folds: returns -1 with a diagnostic otherwise.
 * Returns the number of batchnorms folded. */
int pass_fold_bn(Graph *g, Diag *d);
/* cse.c: merges nodes that compute the same tensor (same op, operands —
 * either order for OPF_COMMUTES — and attrs; never params) into the first
 * of them, which keeps its trace name or takes its twin's. Returns the
 * number of nodes merged. */
int pass_cse(Graph *g, Diag *d);
/* fuse_add.c: add(c, y) -> the conv c with addend y (attrs.conv.addend,
 * y appended to its operands) when c is a conv read only by the add, no
 * graph output, without addend or act, and y is no param. Bit-exact.
 * Returns the number of adds fused. */
int pass_fuse_add(Graph *g, Diag *d);
/* fuse_act.c: relu(c) -> c{act=relu} when conv c is read only by the relu
 * and no graph output; else relu(x) read only by pointwise convs (as
 * their input) -> those convs read x with pre=relu. Bit-exact. Returns the
 * number of relus fused. */
int pass_fuse_act(Graph *g, Diag *d);
/* plan_memory_pass.c: analysis only. Records the statistics of
 * plan_memory_full(PLAN_DEFAULT): "workspace-bytes", "lower-bound-bytes",
 * "concat-in-place" (operands), "elementwise-in-place"; returns 0. */
int pass_plan_memory(Graph *g, Diag *d);

/* ---- pipeline.c: registry, default pipelines, driver ---- */

typedef int (*PassFn)(Graph *g, Diag *d);
typedef struct PassInfo {
    const char *name;    /* "fold-bn" */
    PassFn fn;
    const char *summary;
} PassInfo;

/* The registry (passes.def order); *n gets the count. */
const PassInfo *pass_registry(int *n);
/* The pass called `name`, or NULL. */
const PassInfo *pass_lookup(const char *name);
/* Default pipeline for optimisation level 0..2 (-O0 is empty); *n gets its
 * length. Levels above 2 give the -O2 pipeline. */
const char *const *pass_pipeline_for_level(int level, int *n);
/* The level's pipeline for a dilated-conv strategy (nasc --dilation):
 * "auto" is the level's own (lower-dilation: the cost model picks per
 * conv), "direct" leaves lower-dilation out, "s2b" runs lower-dilation-s2b
 * in its place. NULL for another strategy; the array comes from a. */
const char *const *pass_pipeline_for_dilation(Arena *a, int level, const char *strategy,
                                              int *n);

typedef struct PassOptions {
    const char *print_after; /* print the IR after every run of this pass (or NULL) */
    bool print_after_all;    /* print the IR after every pass */
    FILE *print_to;          /* where printing goes (NULL: stderr) */
    bool verify_each;        /* ir_verify after every pass; always on without NDEBUG */
    FILE *stats_to;          /* non-NULL: a rewrites-per-pass table is written there */
} PassOptions;

/* Runs the passes names[0..n) in order on g. Unknown names are reported
 * (all of them) before anything runs. Stops at the first pass that returns
 * -1 or after which ir_verify fails (the message names the pass). `opt` may
 * be NULL (no printing, no statistics). Returns the total number of
 * rewrites, or -1 after reporting to d. */
int pass_run_pipeline(Graph *g, const char *const *names, int n, const PassOptions *opt,
                      Diag *d);

/* Records a named number of the running pass besides its rewrite count
 * (MLIR pass statistics), shown by --stats. Outside pass_run_pipeline it
 * does nothing. At most 4 per pass run are kept. */
void pass_stat(const char *what, int64_t value);

#endif
