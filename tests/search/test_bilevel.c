/* test_bilevel.c — the alternating search loop (search/bilevel.c) on a tiny
 * DARTS supernet (C=4, 3 cells, 8x8 input, batch 2, 3 classes).
 *
 * a) First order: search_run for one epoch of two steps leaves exactly
 *    (bit for bit) the params that the tape, Adam and SGD give when the
 *    steps are written out here.
 * b) Second order: the arch gradient the loop hands to Adam equals the
 *    gradient of the unrolled objective
 *        f(alpha) = L_arch(w - xi (momentum v + dL_w/dw + wd w), alpha)
 *    taken by central finite differences over every alpha entry. The loop
 *    gets there differently (chain rule with the Hessian-vector product by
 *    finite differences of weight gradients, architect.py), so this is an
 *    independent check of the whole formula, momentum and decay included.
 * c) Resume: 2 epochs == 1 epoch + resume, params and checkpoint bytes,
 *    first and second order; arch_start_epoch leaves alphas alone before.
 * d) A truncated or foreign checkpoint is an error naming the file.
 */
#define _GNU_SOURCE /* asprintf */
#include "search/bilevel_internal.h"
#include "search/darts_search.h"
#include "search/data.h"

#include "runtime/ref/grad.h"
#include "runtime/train/train.h"

#include "../check.h"

#include <math.h>
#include <unistd.h>

enum { CLASSES = 3, BATCH = 2, SIDE = 16 };

/* ---- a batch source of fixed random batches ---- */

typedef struct Tiny {
    int64_t nx;
    uint64_t seed;
    BatchSource src;
} Tiny;

/* Uniform inputs of variance 1 and labels 0..2, a pure function of
 * (seed, split, epoch, step). */
static bool tiny_fill(void *ctx, int split, int epoch, int64_t step, float *x, uint8_t *labels,
                      Diag *d)
{
    (void)d;
    const Tiny *t = ctx;
    Rng r;
    uint64_t stream = ((uint64_t)epoch << 40) ^ ((uint64_t)step << 1) ^ (uint64_t)split;
    srch_rng_seed(&r, srch_rng_mix(t->seed, stream));
    for (int64_t i = 0; i < t->nx; i++)
        x[i] = (srch_rng_float(&r) - 0.5f) * 3.4641f;
    for (int b = 0; b < BATCH; b++)
        labels[b] = (uint8_t)srch_rng_below(&r, CLASSES);
    return true;
}

static void tiny_init(Tiny *t, const SuperNet *net, int64_t steps)
{
    const Graph *g = net->g;
    t->nx = shape_numel(&g->vals[g->inputs[0]].shape);
    t->seed = 11;
    t->src = (BatchSource){tiny_fill, t, steps};
}

static bool build(Arena *a, uint64_t seed, int C, SuperNet *net, Diag *d)
{
    DartsSearchConfig c;
    darts_search_defaults(&c);
    c.C = C, c.layers = 3, c.classes = CLASSES, c.h = c.w = SIDE, c.batch = BATCH;
    return darts_supernet_build(a, &c, seed, net, d);
}

static void options(SearchOptions *o, int epochs)
{
    search_options_defaults(o);
    o->epochs = epochs;
    o->arch_lr = 0.05f; /* large enough that the arch step is visible */
}

/* ---- param comparisons ---- */

static bool is_param(const Graph *g, uint32_t node)
{
    return g->nodes[node].op == OP_PARAM && g->vals[g->nodes[node].out].data;
}

/* Every bound param of x equals y's bit for bit (same build, same ids). */
static bool same_params(const Graph *x, const Graph *y)
{
    for (uint32_t i = 1; i < x->nnode; i++) {
        if (!is_param(x, i))
            continue;
        const Value *a = &x->vals[x->nodes[i].out], *b = &y->vals[y->nodes[i].out];
        size_t bytes = sizeof(float) * (size_t)shape_numel(&a->shape);
        if (memcmp(a->data, b->data, bytes) != 0)
            return false;
    }
    return true;
}

static bool same_value(const Graph *x, const Graph *y, ValueId v)
{
    return memcmp(x->vals[v].data, y->vals[v].data,
                  sizeof(float) * (size_t)shape_numel(&x->vals[v].shape)) == 0;
}

/* True if any weight (not arch, not a statistic) differs between x and y. */
static bool weights_differ(const SuperNet *x, const Graph *y)
{
    const bool *stats = ir_fill_stats(x->g);
    for (uint32_t i = 1; i < x->g->nnode; i++) {
        ValueId v = x->g->nodes[i].out;
        bool arch = v == x->arch[0] || v == x->arch[1];
        if (is_param(x->g, i) && !stats[v] && !arch && !same_value(x->g, y, v))
            return true;
    }
    return false;
}

/* ---- a) first order == the steps written out ---- */

typedef struct Hand {
    Tape *tape;
    OptParam *w, a[2];
    int nw, na;
    float *x, *dout;
    uint8_t labels[BATCH];
} Hand;

static bool hand_batch(Hand *h, const Tiny *t, int split, int64_t step, Diag *d)
{
    tiny_fill((void *)t, split, 0, step, h->x, h->labels, d);
    rt_tape_zero_grad(h->tape);
    if (!rt_tape_forward(h->tape, h->x, RT_TRAIN, d))
        return false;
    int64_t counted;
    rt_softmax_ce(BATCH, CLASSES, 1, rt_tape_output(h->tape), h->labels, 255, h->dout,
                  &counted);
    return rt_tape_backward(h->tape, h->dout, d);
}

static bool by_hand(SuperNet *net, const Tiny *t, const SearchOptions *o, int64_t steps,
                    Diag *d)
{
    Graph *g = net->g;
    Hand h = {rt_tape_new(g, NULL, d), calloc(g->nval, sizeof(OptParam)), {{0}}, 0, 0,
              calloc((size_t)t->nx, sizeof(float)), calloc(BATCH * CLASSES, sizeof(float)),
              {0}};
    const bool *stats = ir_fill_stats(g);
    for (uint32_t i = 1; h.tape && i < g->nnode; i++) {
        ValueId v = g->nodes[i].out;
        if (!is_param(g, i) || stats[v])
            continue;
        OptParam p = {g->vals[v].data, rt_tape_grad(h.tape, v), shape_numel(&g->vals[v].shape),
                      true};
        if (v == net->arch[0] || v == net->arch[1])
            h.a[h.na++] = p;
        else
            h.w[h.nw++] = p;
    }
    Sgd sgd;
    Adam adam;
    bool ok = h.tape && h.w && h.x && h.dout && h.na == 2 &&
              rt_sgd_init(&sgd, h.w, h.nw, o->momentum, o->weight_decay, d) &&
              rt_adam_init(&adam, h.a, h.na, o->arch_beta1, o->arch_beta2, 1e-8f,
                           o->arch_weight_decay, d);
    float lr = rt_cosine_lr(o->lr, o->lr_min, 0, o->epochs);
    for (int64_t s = 0; ok && s < steps; s++) {
        ok = hand_batch(&h, t, SPLIT_ARCH, s, d);
        rt_adam_step(&adam, o->arch_lr);
        ok = ok && hand_batch(&h, t, SPLIT_WEIGHTS, s, d);
        rt_clip_grad_norm(h.w, h.nw, o->grad_clip);
        rt_sgd_step(&sgd, lr);
    }
    if (ok)
        rt_sgd_free(&sgd), rt_adam_free(&adam);
    rt_tape_free(h.tape);
    free(h.w), free(h.x), free(h.dout);
    return ok;
}

static void test_first_order(void)
{
    Arena a;
    arena_init(&a);
    Diag d;
    diag_init(&d);
    SuperNet run, hand, fresh;
    CHECK(build(&a, 3, 4, &run, &d) && build(&a, 3, 4, &hand, &d) &&
          build(&a, 3, 4, &fresh, &d));
    Tiny t;
    tiny_init(&t, &run, 2);
    SearchOptions o;
    options(&o, 1);
    CHECK(search_run(&run, &t.src, &o, &d));
    CHECK(by_hand(&hand, &t, &o, 2, &d));
    CHECK(same_params(run.g, hand.g));
    /* not vacuous: both kinds of params moved */
    CHECK(!same_value(run.g, fresh.g, run.arch[0]) && !same_value(run.g, fresh.g, run.arch[1]));
    CHECK(weights_differ(&run, fresh.g));
    for (int i = 0; i < d.nmsg; i++)
        fprintf(stderr, "%s\n", d.msg[i]);
    diag_free(&d);
    arena_free_all(&a);
}

/* ---- b) second order == finite differences of the unrolled objective ---- */

typedef struct Unroll {
    SuperNet *net;
    const Tiny *t;
    const SearchOptions *o;
    float xi;
    float **vel;   /* per value id, NULL for non-weights */
    Tape *tape;
    float *x, *dout, *saved;
    uint8_t labels[BATCH];
} Unroll;

static bool weight_value(const SuperNet *net, const bool *stats, uint32_t node)
{
    ValueId v = net->g->nodes[node].out;
    return is_param(net->g, node) && !stats[v] && v != net->arch[0] && v != net->arch[1];
}

/* w -> w' = w - xi (momentum vel + dL_w/dw + wd w) for every weight, the old
 * weights kept in u->saved (restore = true puts them back instead). */
static void unroll_weights(Unroll *u, bool restore)
{
    Graph *g = u->net->g;
    const bool *stats = ir_fill_stats(g);
    int64_t at = 0;
    for (uint32_t i = 1; i < g->nnode; i++) {
        if (!weight_value(u->net, stats, i))
            continue;
        ValueId v = g->nodes[i].out;
        float *w = g->vals[v].data;
        const float *dw = rt_tape_grad(u->tape, v);
        for (int64_t k = 0; k < shape_numel(&g->vals[v].shape); k++, at++) {
            if (restore) {
                w[k] = u->saved[at];
                continue;
            }
            u->saved[at] = w[k];
            w[k] -= u->xi * (u->o->momentum * u->vel[v][k] + dw[k] + u->o->weight_decay * w[k]);
        }
    }
}

/* f(alpha) at the net's current alphas; with grads, also the first-order
 * part d L_arch(w', alpha) / d alpha into grads[2]. */
static double unrolled_loss(Unroll *u, float **grads, Diag *d)
{
    int64_t counted;
    tiny_fill((void *)u->t, SPLIT_WEIGHTS, 0, 0, u->x, u->labels, d);
    rt_tape_zero_grad(u->tape);
    bool ok = rt_tape_forward(u->tape, u->x, RT_TRAIN, d);
    rt_softmax_ce(BATCH, CLASSES, 1, rt_tape_output(u->tape), u->labels, 255, u->dout, &counted);
    ok = ok && rt_tape_backward(u->tape, u->dout, d);
    unroll_weights(u, false);
    tiny_fill((void *)u->t, SPLIT_ARCH, 0, 0, u->x, u->labels, d);
    rt_tape_zero_grad(u->tape);
    ok = ok && rt_tape_forward(u->tape, u->x, RT_TRAIN, d);
    double loss = rt_softmax_ce(BATCH, CLASSES, 1, rt_tape_output(u->tape), u->labels, 255,
                                u->dout, &counted);
    if (grads && ok && rt_tape_backward(u->tape, u->dout, d))
        for (int k = 0; k < 2; k++)
            memcpy(grads[k], rt_tape_grad(u->tape, u->net->arch[k]),
                   sizeof(float) * (size_t)shape_numel(&u->net->g->vals[u->net->arch[k]].shape));
    unroll_weights(u, true);
    return ok ? loss : NAN;
}

static double dist(float *const *x, float *const *y, int64_t n)
{
    double s = 0;
    for (int k = 0; k < 2; k++)
        for (int64_t i = 0; i < n; i++)
            s += ((double)x[k][i] - y[k][i]) * ((double)x[k][i] - y[k][i]);
    return sqrt(s);
}

/* alphas += s * (x - y), x and y per arch param. */
static void shift_alphas(SuperNet *net, float *const *x, float *const *y, float s)
{
    for (int k = 0; k < 2; k++) {
        float *alpha = net->g->vals[net->arch[k]].data;
        for (int64_t i = 0; i < shape_numel(&net->g->vals[net->arch[k]].shape); i++)
            alpha[i] += s * (x[k][i] - y[k][i]);
    }
}

static void test_second_order(void)
{
    Arena a;
    arena_init(&a);
    Diag d;
    diag_init(&d);
    SuperNet net;
    CHECK(build(&a, 5, 4, &net, &d));
    Graph *g = net.g;
    Tiny t;
    tiny_init(&t, &net, 1);
    SearchOptions o;
    options(&o, 1);
    o.second_order = true;
    o.weight_decay = 0.03f; /* 100x DARTS's, so the decay term counts */
    Unroll u = {&net, &t, &o, 0.01f, arena_calloc(&a, g->nval, sizeof(float *)),
                rt_tape_new(g, NULL, &d), arena_calloc(&a, (size_t)t.nx, sizeof(float)),
                arena_calloc(&a, BATCH * CLASSES, sizeof(float)),
                arena_calloc(&a, (size_t)ir_graph_param_count(g, NULL), sizeof(float)), {0}};
    const bool *stats = ir_fill_stats(g);
    Rng r;
    srch_rng_seed(&r, 42);
    for (uint32_t i = 1; i < g->nnode; i++) { /* a momentum buffer of scale 0.05 */
        if (!weight_value(&net, stats, i))
            continue;
        ValueId v = g->nodes[i].out;
        int64_t n = shape_numel(&g->vals[v].shape);
        u.vel[v] = arena_calloc(&a, (size_t)n, sizeof(float));
        for (int64_t k = 0; k < n; k++)
            u.vel[v][k] = (srch_rng_float(&r) - 0.5f) * 0.1f;
    }
    int64_t n = shape_numel(&g->vals[net.arch[0]].shape);
    float *loop[2], *fd[2], *first[2], *no_mom[2];
    for (int k = 0; k < 2; k++) {
        loop[k] = arena_calloc(&a, (size_t)n, sizeof(float));
        fd[k] = arena_calloc(&a, (size_t)n, sizeof(float));
        first[k] = arena_calloc(&a, (size_t)n, sizeof(float));
        no_mom[k] = arena_calloc(&a, (size_t)n, sizeof(float));
    }
    double loss, unused;
    CHECK(u.tape && search_arch_grad(&net, &t.src, &o, 0, 0, u.xi,
                                     (const float *const *)u.vel, loop, &loss, &d));
    CHECK(search_arch_grad(&net, &t.src, &o, 0, 0, u.xi, NULL, no_mom, &unused, &d));
    double f0 = unrolled_loss(&u, first, &d);
    CHECKF(fabs(f0 - loss) < 1e-5, "unrolled loss %.8f, loop's arch loss %.8f", f0, loss);
    /* Per entry, central differences with h = 1e-2 (4-point stencil:
     * truncation O(h^4)). The residual is not f32 rounding (~1e-7 of the
     * loss) but kinks: dL_w/dw, inside f, jumps where a ReLU or max-pool
     * switches, and both this difference and the loop's Hessian-vector
     * product step across some. Measured: 2.4% of |fd|; the tolerance is
     * 5%, the Hessian term alone is ~3% and the momentum term ~9%. */
    const float h = 1e-2f;
    for (int k = 0; k < 2; k++)
        for (int64_t i = 0; i < n; i++) {
            float *alpha = g->vals[net.arch[k]].data, keep = alpha[i];
            double f[4];
            for (int j = 0; j < 4; j++) { /* at keep - 2h, keep - h, keep + h, keep + 2h */
                alpha[i] = keep + (float)(j < 2 ? j - 2 : j - 1) * h;
                f[j] = unrolled_loss(&u, NULL, &d);
            }
            alpha[i] = keep;
            fd[k][i] = (float)((f[0] - 8 * f[1] + 8 * f[2] - f[3]) / (12.0 * h));
        }
    double norm = 0;
    for (int k = 0; k < 2; k++)
        for (int64_t i = 0; i < n; i++)
            norm += (double)fd[k][i] * fd[k][i];
    norm = sqrt(norm);
    double err = dist(loop, fd, n), second = dist(first, fd, n), mom = dist(no_mom, fd, n);
    printf("second order: |fd| %.3e  |loop - fd| %.3e  |first-order part - fd| %.3e  "
           "|no momentum - fd| %.3e\n", norm, err, second, mom);
    CHECKF(err <= 0.05 * norm, "loop %.3e from fd (|fd| %.3e)", err, norm);
    CHECK(mom > 2 * err);
    /* Along the Hessian term's own direction the signal is the term itself:
     * the slope of f there must be the loop's, not the first-order part's
     * (measured within 0.07..0.28 of the term for h = 1e-3..8e-3). */
    double term = dist(loop, first, n), want = 0, wrong = 0;
    for (int k = 0; k < 2; k++)
        for (int64_t i = 0; i < n; i++) {
            double dir = ((double)loop[k][i] - first[k][i]) / term;
            want += loop[k][i] * dir, wrong += first[k][i] * dir;
        }
    for (float step = 1e-3f; step < 1e-2f; step *= 2) {
        double f[4];
        for (int j = 0; j < 4; j++) {
            float s = (float)(j < 2 ? j - 2 : j - 1) * step;
            for (int k = 0; k < 2; k++)
                memcpy(no_mom[k], g->vals[net.arch[k]].data, sizeof(float) * (size_t)n);
            shift_alphas(&net, loop, first, s / (float)term);
            f[j] = unrolled_loss(&u, NULL, &d);
            for (int k = 0; k < 2; k++) /* back exactly */
                memcpy(g->vals[net.arch[k]].data, no_mom[k], sizeof(float) * (size_t)n);
        }
        double slope = (f[0] - 8 * f[1] + 8 * f[2] - f[3]) / (12.0 * step);
        printf("  along the Hessian term, h %.0e: fd %.6e  loop %.6e  first order %.6e\n",
               (double)step, slope, want, wrong);
        CHECKF(fabs(slope - want) <= 0.35 * fabs(want - wrong), "h %g", (double)step);
    }
    rt_tape_free(u.tape);
    for (int i = 0; i < d.nmsg; i++)
        fprintf(stderr, "%s\n", d.msg[i]);
    diag_free(&d);
    arena_free_all(&a);
}

/* ---- c) resume, arch_start_epoch; d) bad checkpoints ---- */

/* Runs `epochs` epochs of 2 steps on a fresh net of `seed`; net out. */
static bool run(Arena *a, uint64_t seed, int C, int epochs, bool second, int arch_start,
                const char *ckpt, bool resume, SuperNet *net, Diag *d)
{
    if (!build(a, seed, C, net, d))
        return false;
    Tiny t;
    tiny_init(&t, net, 2);
    SearchOptions o;
    options(&o, 2);
    o.epochs = epochs, o.second_order = second, o.arch_start_epoch = arch_start;
    o.checkpoint = ckpt, o.resume = resume;
    return search_run(net, &t.src, &o, d);
}

static bool same_file(const char *x, const char *y)
{
    size_t nx, ny;
    char *a = check_slurp(x, &nx), *b = check_slurp(y, &ny);
    bool same = a && b && nx == ny && memcmp(a, b, nx) == 0;
    free(a), free(b);
    return same;
}

static void test_resume(const char *dir, bool second)
{
    Arena a;
    arena_init(&a);
    Diag d;
    diag_init(&d);
    const char *whole = arena_printf(&a, "%s/bilevel_whole_%d.ckpt", dir, second);
    const char *part = arena_printf(&a, "%s/bilevel_part_%d.ckpt", dir, second);
    unlink(whole), unlink(part);
    SuperNet full, half, resumed, late, fresh;
    CHECK(run(&a, 3, 4, 2, second, 0, whole, false, &full, &d));
    CHECK(run(&a, 3, 4, 1, second, 0, part, false, &half, &d));
    /* another seed: everything must come from the checkpoint */
    CHECK(run(&a, 99, 4, 2, second, 0, part, true, &resumed, &d));
    CHECK(same_params(full.g, resumed.g));
    CHECK(same_file(whole, part));
    CHECK(!same_params(full.g, half.g));
    /* arch_start_epoch 1: the first epoch moves weights only */
    CHECK(run(&a, 3, 4, 1, second, 1, NULL, false, &late, &d));
    CHECK(build(&a, 3, 4, &fresh, &d));
    CHECK(same_value(late.g, fresh.g, late.arch[0]) && same_value(late.g, fresh.g, late.arch[1]));
    CHECK(weights_differ(&late, fresh.g));
    CHECK(run(&a, 3, 4, 2, second, 1, NULL, false, &late, &d));
    CHECK(!same_value(late.g, fresh.g, late.arch[0]));
    for (int i = 0; i < d.nmsg; i++)
        fprintf(stderr, "%s\n", d.msg[i]);
    diag_free(&d);
    arena_free_all(&a);
}

/* Resuming from `path` fails with an error that names it and says `why`. */
static void check_bad_checkpoint(const char *path, int C, const char *why)
{
    Arena a;
    arena_init(&a);
    Diag d;
    diag_init(&d);
    SuperNet net;
    CHECK(!run(&a, 3, C, 2, false, 0, path, true, &net, &d));
    const char *text = check_diag_text(&a, &d);
    CHECKF(d.nerr > 0 && strstr(text, path) && strstr(text, why), "got: %s", text);
    diag_free(&d);
    arena_free_all(&a);
}

static void test_bad_checkpoints(const char *dir)
{
    char *good = NULL, *cut = NULL;
    size_t n;
    if (asprintf(&good, "%s/bilevel_part_0.ckpt", dir) < 0 ||
        asprintf(&cut, "%s/bilevel_cut.ckpt", dir) < 0)
        return;
    char *bytes = check_slurp(good, &n);
    CHECK(bytes && n > 100);
    size_t lengths[3] = {3, 40, n / 2};
    const char *why[3] = {"too short", "", "truncated"};
    for (int i = 0; bytes && i < 3; i++) {
        FILE *f = fopen(cut, "wb");
        CHECK(f && fwrite(bytes, 1, lengths[i], f) == lengths[i]);
        if (f)
            fclose(f);
        check_bad_checkpoint(cut, 4, why[i]);
    }
    /* a whole checkpoint of another network: C=6 */
    check_bad_checkpoint(good, 6, "elements, expected");
    free(bytes), free(good), free(cut);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    test_first_order();
    test_resume(dir, false);
    test_resume(dir, true);
    test_bad_checkpoints(dir);
    test_second_order();
    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    return failures ? 1 : 0;
}
