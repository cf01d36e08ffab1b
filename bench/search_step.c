/* search_step.c — times nasc's first-order Auto-DeepLab search step (the
 * work of `nasc search adl` per step) for bench/search_throughput.sh.
 *
 *   search_step [LAYERS F BATCH H W WARMUP STEPS SEED]
 *
 * Defaults: the `nasc search adl` config (L=4, F=4, batch 8, 64x64, 11
 * classes). Builds the supernet with adl_supernet_build and runs search_run
 * for one epoch of WARMUP + STEPS steps with arch updates from the first
 * step, first order, no checkpoint: per step an Adam step on the arch
 * params from one batch, then an SGD step (momentum, weight decay, clip 5)
 * on the weights from another. Batches are pseudo-random inputs and labels
 * (fixed by SEED) so that no image decoding is timed. Prints one line:
 * "median_ms min_ms images_per_s" over the STEPS timed steps, where a step
 * consumes 2 x BATCH images (the arch batch and the weights batch).
 */
#include "search/adl_search.h"
#include "search/bilevel.h"
#include "search/data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct Bench {
    int64_t in_numel, label_numel;
    int classes;
    uint64_t seed;
    int64_t done;   /* steps reported so far */
    double last_ms; /* when the previous step ended */
    double *step_ms;
    int64_t warmup, steps;
} Bench;

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* N(0,1)-ish inputs and uniform labels, a pure function of (split, step). */
static bool fill_random(void *ctx, int split, int epoch, int64_t step, float *x,
                        uint8_t *labels, Diag *d)
{
    (void)d;
    const Bench *b = ctx;
    Rng r;
    uint64_t stream = ((uint64_t)epoch * 2 + (uint64_t)split) << 32 ^ (uint64_t)step;
    srch_rng_seed(&r, srch_rng_mix(b->seed, stream));
    for (int64_t i = 0; i < b->in_numel; i++)
        x[i] = 2.0f * srch_rng_float(&r) - 1.0f;
    for (int64_t i = 0; i < b->label_numel; i++)
        labels[i] = (uint8_t)srch_rng_below(&r, (uint32_t)b->classes);
    return true;
}

static void on_step(void *ctx, const SearchStep *s)
{
    (void)s;
    Bench *b = ctx;
    double t = now_ms();
    if (b->done >= b->warmup)
        b->step_ms[b->done - b->warmup] = t - b->last_ms;
    b->last_ms = t;
    b->done++;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    AdlSearchConfig cfg;
    adl_search_defaults(&cfg);
    long v[8] = {cfg.layers, cfg.filter_multiplier, cfg.batch, cfg.h, cfg.w, 2, 10, 1};
    if (argc != 1 && argc != 9) {
        fprintf(stderr, "usage: search_step [LAYERS F BATCH H W WARMUP STEPS SEED]\n");
        return 2;
    }
    for (int i = 1; i < argc; i++)
        v[i - 1] = atol(argv[i]);
    cfg.layers = (int)v[0], cfg.filter_multiplier = (int)v[1], cfg.batch = (int)v[2];
    cfg.h = (int)v[3], cfg.w = (int)v[4];
    if (v[5] < 1 || v[6] < 1) { /* the first step also allocates the tape */
        fprintf(stderr, "search_step: need WARMUP >= 1 and STEPS >= 1\n");
        return 2;
    }
    Arena a;
    arena_init(&a);
    Diag d;
    diag_init(&d);
    SuperNet net;
    AdlSearchVars vars;
    Bench b = {.classes = cfg.classes, .seed = (uint64_t)v[7], .warmup = v[5], .steps = v[6]};
    b.in_numel = (int64_t)cfg.batch * cfg.in_ch * cfg.h * cfg.w;
    b.label_numel = (int64_t)cfg.batch * cfg.h * cfg.w;
    b.step_ms = calloc((size_t)b.steps, sizeof *b.step_ms);
    bool ok = b.step_ms && adl_supernet_build(&a, &cfg, b.seed, &net, &vars, &d);
    if (ok) {
        BatchSource src = {fill_random, &b, b.warmup + b.steps};
        SearchOptions o;
        search_options_defaults(&o);
        o.epochs = 1, o.arch_start_epoch = 0; /* arch step from the first step */
        o.arch_lr = 3e-3f, o.arch_beta1 = 0.9f; /* as `nasc search adl` */
        o.on_step = on_step, o.ctx = &b;
        b.last_ms = now_ms();
        ok = search_run(&net, &src, &o, &d);
    }
    if (!ok) {
        diag_print(&d, stderr);
        return 1;
    }
    qsort(b.step_ms, (size_t)b.steps, sizeof *b.step_ms, cmp_double);
    double median = b.step_ms[b.steps / 2], best = b.step_ms[0];
    printf("%.1f %.1f %.2f\n", median, best, 2.0 * cfg.batch / (median / 1e3));
    free(b.step_ms);
    diag_free(&d);
    arena_free_all(&a);
    return 0;
}
