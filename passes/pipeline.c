/* pipeline.c — the pass registry, the default pipelines and the driver.
 *
 * The registry is passes.def expanded into a table; pipelines are lists of
 * pass names, so `nasc-opt --passes=...`, -O levels and the compiler all go
 * through pass_run_pipeline, which adds what a pass should not do itself:
 * printing the IR after a pass, counting rewrites, running the verifier.
 */
#include "passes/internal.h"

#include <string.h>

static const PassInfo registry[] = {
#define PASS(name, fn, summary) {name, fn, summary},
#include "passes/passes.def"
#undef PASS
};
enum { NPASS = sizeof registry / sizeof registry[0] };

/* ---- the default pipelines, read top to bottom ---- */

/* -O1: structural clean-ups and fusions that need no weight data. */
static const char *const pipeline_o1[] = {
    "drop-zero", /* add(zero(x), y) -> y before dce sees the zeros' inputs */
    "prune-taps", /* sliced weights need bound data: convs without keep their taps */
    "dce",
    "cse",       /* one relu per state, before fuse-act counts a relu's readers */
    "fuse-add",  /* before fuse-act: relu(conv + y) then fuses as act after addend */
    "fuse-act",
    "lower-dilation", /* after the fusions: a conv with a fused addend stays direct */
    "plan-memory",
};

/* -O2: -O1 plus rewrites that compute new weights (bound data needed). */
static const char *const pipeline_o2[] = {
    "drop-zero",
    "fold-bn",   /* after drop-zero: no folding of BNs on edges that are then dropped */
    "prune-taps", /* after fold-bn: slices the folded weight, not the checkpoint's */
    "dce",       /* the dropped zeros' inputs, anything else left unread */
    "cse",
    "fuse-add",  /* after fold-bn: a BN between conv and add has become the conv */
    "fuse-act",
    "lower-dilation", /* after the fusions: a conv with a fused addend stays direct */
    "plan-memory",
};

const PassInfo *pass_registry(int *n)
{
    *n = NPASS;
    return registry;
}

const PassInfo *pass_lookup(const char *name)
{
    for (int i = 0; i < NPASS; i++)
        if (strcmp(registry[i].name, name) == 0)
            return &registry[i];
    return NULL;
}

const char *const *pass_pipeline_for_level(int level, int *n)
{
    if (level <= 0) {
        *n = 0;
        return pipeline_o1; /* any non-NULL array; length 0 */
    }
    if (level == 1) {
        *n = (int)(sizeof pipeline_o1 / sizeof pipeline_o1[0]);
        return pipeline_o1;
    }
    *n = (int)(sizeof pipeline_o2 / sizeof pipeline_o2[0]);
    return pipeline_o2;
}

const char *const *pass_pipeline_for_dilation(Arena *a, int level, const char *strategy,
                                              int *n)
{
    bool keep = !strcmp(strategy, "auto"), s2b = !strcmp(strategy, "s2b");
    if (!keep && !s2b && strcmp(strategy, "direct"))
        return NULL;
    int len;
    const char *const *names = pass_pipeline_for_level(level, &len);
    const char **v = arena_calloc(a, (size_t)len + 1, sizeof *v);
    *n = 0;
    for (int i = 0; i < len; i++) {
        if (strcmp(names[i], "lower-dilation") || keep)
            v[(*n)++] = names[i];
        else if (s2b)
            v[(*n)++] = "lower-dilation-s2b";
    }
    return v;
}

/* ---- statistics ---- */

enum { STAT_MAX = 4 };
typedef struct PassRun {
    const char *name;
    int rewrites;
    int nstat;
    const char *stat_name[STAT_MAX];
    int64_t stat[STAT_MAX];
} PassRun;

/* The run pass_stat() records into; set only while a pass runs. */
static _Thread_local PassRun *current_run;

void pass_stat(const char *what, int64_t value)
{
    if (!current_run || current_run->nstat == STAT_MAX)
        return;
    current_run->stat_name[current_run->nstat] = what;
    current_run->stat[current_run->nstat++] = value;
}

static void print_stats(FILE *f, const PassRun *runs, int n)
{
    long total = 0;
    fprintf(f, "// pass statistics (rewrites per pass run)\n");
    for (int i = 0; i < n; i++) {
        fprintf(f, "//   %-14s %6d", runs[i].name, runs[i].rewrites);
        for (int k = 0; k < runs[i].nstat; k++)
            fprintf(f, "  %s=%lld", runs[i].stat_name[k], (long long)runs[i].stat[k]);
        fputc('\n', f);
        total += runs[i].rewrites;
    }
    fprintf(f, "//   %-14s %6ld\n", "total", total);
}

/* ---- the driver ---- */

static bool check_names(const char *const *names, int n, Diag *d)
{
    bool ok = true;
    for (int i = 0; i < n; i++) {
        if (!pass_lookup(names[i])) {
            diag_error(d, (Loc){0}, "unknown pass '%s' (nasc-opt --list-passes lists them)",
                       names[i]);
            ok = false;
        }
    }
    return ok;
}

static bool want_verify(const PassOptions *opt)
{
#ifndef NDEBUG
    (void)opt;
    return true;
#else
    return opt->verify_each;
#endif
}

static void print_after(const Graph *g, const PassRun *run, const PassOptions *opt)
{
    if (!opt->print_after_all && !(opt->print_after && !strcmp(opt->print_after, run->name)))
        return;
    FILE *f = opt->print_to ? opt->print_to : stderr;
    fprintf(f, "// *** IR after %s (%d rewrites) ***\n", run->name, run->rewrites);
    ir_print(g, f);
}

int pass_run_pipeline(Graph *g, const char *const *names, int n, const PassOptions *opt,
                      Diag *d)
{
    static const PassOptions none;
    if (!opt)
        opt = &none;
    if (!check_names(names, n, d))
        return -1;
    PassRun *runs = arena_calloc(g->arena, n ? (size_t)n : 1, sizeof *runs);
    int total = 0, done = 0;
    for (; done < n; done++) {
        PassRun *run = &runs[done];
        run->name = names[done];
        current_run = run;
        run->rewrites = pass_lookup(names[done])->fn(g, d);
        current_run = NULL;
        if (run->rewrites < 0) {
            diag_error(d, (Loc){0}, "pass '%s' failed", run->name);
            break;
        }
        if (want_verify(opt) && !ir_verify(g, d)) {
            diag_error(d, (Loc){0}, "the graph is invalid after pass '%s'", run->name);
            run->rewrites = -1;
            break;
        }
        total += run->rewrites;
        print_after(g, run, opt);
    }
    if (opt->stats_to)
        print_stats(opt->stats_to, runs, done);
    return done == n ? total : -1;
}
