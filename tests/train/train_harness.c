/* train_harness.c — the nasc side of the PyTorch training parity test
 * (train_parity.py): trains a DARTS network for a few SGD steps exactly as
 * quark0/darts cnn/train.py does one step (model.train(), cross-entropy,
 * clip_grad_norm_(5), SGD momentum 0.9, weight decay 3e-4 on every param),
 * then writes every param and running statistic.
 *
 *   train_harness GENOTYPES NAME C LAYERS CLASSES HW BATCH STEPS LR
 *                 WEIGHTS.safetensors X.bin LABELS.u8 OUT_PREFIX
 *   train_harness ... --bench ITERS      (times forward+backward, no output)
 *
 * X.bin: STEPS batches of f32 [BATCH,3,HW,HW]; LABELS.u8: STEPS*BATCH class
 * ids. Writes OUT_PREFIX.losses (one loss per line, %.9g),
 * OUT_PREFIX.bin (params in graph order, f32) and OUT_PREFIX.index ("name
 * numel" per param, in the same order).
 */
#define _POSIX_C_SOURCE 200809L
#include "frontend/frontend.h"
#include "runtime/ref/grad.h"
#include "runtime/train/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct Run {
    Arena arena;
    Diag d;
    Graph *g;
    Tape *tape;
    OptParam *params;
    int nparam;
    int64_t batch, classes, in_numel;
} Run;

static void *read_all(const char *path, size_t want)
{
    FILE *f = fopen(path, "rb");
    void *p = malloc(want ? want : 1);
    bool ok = f && p && fread(p, 1, want, f) == want && fgetc(f) == EOF;
    if (f)
        fclose(f);
    if (!ok) {
        fprintf(stderr, "train_harness: %s: cannot read exactly %zu bytes\n", path, want);
        free(p);
        return NULL;
    }
    return p;
}

/* Genotype, graph at the batch size, weights bound, tape, param list. */
static bool setup(Run *r, char **argv)
{
    Genotype geno;
    if (!fe_load_genotype(&r->arena, argv[1], argv[2], &geno, &r->d))
        return false;
    NetConfig cfg;
    fe_netconfig_default(&cfg, NET_CIFAR);
    cfg.C = atoi(argv[3]), cfg.layers = atoi(argv[4]), cfg.classes = atoi(argv[5]);
    cfg.in_h = cfg.in_w = atoi(argv[6]);
    cfg.batch = atoi(argv[7]);
    r->batch = cfg.batch, r->classes = cfg.classes;
    r->in_numel = (int64_t)cfg.batch * 3 * cfg.in_h * cfg.in_w;
    SafeTensors st;
    if (!(r->g = fe_lower_darts(&r->arena, &geno, &cfg, &r->d)) ||
        !fe_safetensors_load(&r->arena, argv[10], &st, &r->d) ||
        !fe_bind_weights(r->g, &st, NULL, &r->d))
        return false;
    TapeOptions opts = {0.1f};
    if (!(r->tape = rt_tape_new(r->g, &opts, &r->d)))
        return false;
    r->params = calloc(r->g->nval, sizeof *r->params);
    for (NodeId id = 1; id < r->g->nnode; id++) {
        ValueId v = r->g->nodes[id].out;
        float *grad = r->g->nodes[id].op == OP_PARAM ? rt_tape_grad(r->tape, v) : NULL;
        if (grad)
            r->params[r->nparam++] =
                (OptParam){r->g->vals[v].data, grad, shape_numel(&r->g->vals[v].shape), true};
    }
    return true;
}

/* One forward + backward on batch x; the loss, or NAN after an error. */
static double forward_backward(Run *r, const float *x, const uint8_t *labels, float *dlogits)
{
    rt_tape_zero_grad(r->tape);
    if (!rt_tape_forward(r->tape, x, RT_TRAIN, &r->d))
        return NAN;
    int64_t counted;
    double loss = rt_softmax_ce(r->batch, r->classes, 1, rt_tape_output(r->tape), labels, 255,
                                dlogits, &counted);
    if (!rt_tape_backward(r->tape, dlogits, &r->d))
        return NAN;
    return loss;
}

static bool write_outputs(const Run *r, const char *prefix, const double *losses, int steps)
{
    char path[4096];
    snprintf(path, sizeof path, "%s.losses", prefix);
    FILE *fl = fopen(path, "w");
    snprintf(path, sizeof path, "%s.bin", prefix);
    FILE *fb = fopen(path, "wb");
    snprintf(path, sizeof path, "%s.index", prefix);
    FILE *fi = fopen(path, "w");
    bool ok = fl && fb && fi;
    for (int s = 0; ok && s < steps; s++)
        fprintf(fl, "%.9g\n", losses[s]);
    for (NodeId id = 1; ok && id < r->g->nnode; id++) {
        if (r->g->nodes[id].op != OP_PARAM)
            continue;
        const Value *v = &r->g->vals[r->g->nodes[id].out];
        size_t n = (size_t)shape_numel(&v->shape);
        ok = fwrite(v->data, sizeof(float), n, fb) == n;
        fprintf(fi, "%s %zu\n", v->name, n);
    }
    if (fl)
        ok = fclose(fl) == 0 && ok;
    if (fb)
        ok = fclose(fb) == 0 && ok;
    if (fi)
        ok = fclose(fi) == 0 && ok;
    return ok;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc != 14 && !(argc == 15 && strcmp(argv[13], "--bench") == 0)) {
        fprintf(stderr, "usage: train_harness GENOTYPES NAME C LAYERS CLASSES HW BATCH STEPS "
                        "LR WEIGHTS X.bin LABELS.u8 OUT_PREFIX|--bench ITERS\n");
        return 2;
    }
    Run r = {0};
    arena_init(&r.arena);
    diag_init(&r.d);
    int steps = atoi(argv[8]);
    float lr = (float)atof(argv[9]);
    bool ok = setup(&r, argv);
    float *x = NULL, *dlogits = NULL;
    uint8_t *labels = NULL;
    if (ok) {
        x = read_all(argv[11], (size_t)(r.in_numel * steps) * sizeof *x);
        labels = read_all(argv[12], (size_t)(r.batch * steps));
        dlogits = malloc((size_t)(r.batch * r.classes) * sizeof *dlogits);
        ok = x && labels && dlogits;
    }
    if (ok && argc == 15) { /* bench: forward + backward of the first batch */
        int iters = atoi(argv[14]);
        forward_backward(&r, x, labels, dlogits); /* warm-up: page faults, scratch */
        double t0 = now();
        for (int i = 0; i < iters && ok; i++)
            ok = !isnan(forward_backward(&r, x, labels, dlogits));
        printf("nasc forward+backward: %.1f ms per step (batch %lld, mean of %d)\n",
               (now() - t0) / iters * 1e3, (long long)r.batch, iters);
    } else if (ok) {
        Sgd sgd;
        double *losses = calloc((size_t)steps, sizeof *losses);
        ok = losses && rt_sgd_init(&sgd, r.params, r.nparam, 0.9f, 3e-4f, &r.d);
        for (int s = 0; ok && s < steps; s++) {
            losses[s] = forward_backward(&r, x + s * r.in_numel, labels + s * r.batch, dlogits);
            ok = !isnan(losses[s]);
            rt_clip_grad_norm(r.params, r.nparam, 5.0);
            rt_sgd_step(&sgd, lr);
        }
        ok = ok && write_outputs(&r, argv[13], losses, steps);
        if (losses)
            rt_sgd_free(&sgd);
        free(losses);
    }
    diag_print(&r.d, stderr);
    int rc = ok && r.d.nerr == 0 ? 0 : 1;
    rt_tape_free(r.tape);
    free(r.params), free(x), free(labels), free(dlogits);
    diag_free(&r.d);
    arena_free_all(&r.arena);
    return rc;
}
