/* bilevel.c — the alternating weight / architecture optimisation
 * (bilevel.h), with checkpoints that make a resumed run identical to an
 * uninterrupted one.
 */
#include "search/bilevel.h"
#include "search/bilevel_internal.h"

#include "runtime/ref/grad.h"
#include "runtime/train/train.h"
#include "search/checkpoint.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void search_options_defaults(SearchOptions *o)
{
    memset(o, 0, sizeof *o);
    o->epochs = 50;
    o->lr = 0.025f, o->lr_min = 0.001f, o->momentum = 0.9f, o->weight_decay = 3e-4f;
    o->grad_clip = 5.0f;
    o->arch_lr = 3e-4f, o->arch_weight_decay = 1e-3f;
    o->arch_beta1 = 0.5f, o->arch_beta2 = 0.999f;
    o->ignore_label = 255;
}

typedef struct Loop {
    SuperNet *net;
    const SearchOptions *o;
    const BatchSource *src;
    Tape *tape;
    OptParam *w, *a; /* network weights, architecture params */
    ValueId *wid;    /* the value of each weight */
    int nw, na;
    Sgd sgd;
    Adam adam;
    float *x, *dout;
    uint8_t *labels;
    int64_t n, classes, hw; /* output as [n, classes, hw] */
    float **saved;          /* second order: the weights before the unrolled step */
    float **v;              /* second order: d L_arch / d w' */
    float **dalpha;         /* second order: the arch gradient being assembled */
    OptParam *stats;        /* second order: running statistics, saved in .grad */
    int nstats;
} Loop;

static float *alloc_floats(int64_t n, Diag *d)
{
    float *p = calloc((size_t)(n > 0 ? n : 1), sizeof *p);
    if (!p)
        diag_error(d, (Loc){0}, "out of memory for %lld floats", (long long)n);
    return p;
}

/* Splits the graph's params into weights and arch params. */
static bool collect_params(Loop *L, Diag *d)
{
    const Graph *g = L->net->g;
    bool *stats = ir_fill_stats(g);
    L->w = calloc(g->nval, sizeof *L->w);
    L->a = calloc((size_t)L->net->narch + 1, sizeof *L->a);
    L->wid = calloc(g->nval, sizeof *L->wid);
    L->stats = calloc(g->nval, sizeof *L->stats);
    if (!L->w || !L->a || !L->wid || !L->stats) {
        diag_error(d, (Loc){0}, "out of memory");
        return false;
    }
    for (uint32_t i = 1; i < g->nnode; i++) {
        ValueId v = g->nodes[i].out;
        if (g->nodes[i].op != OP_PARAM)
            continue;
        if (stats[v]) {
            if (g->vals[v].data)
                L->stats[L->nstats++] = (OptParam){g->vals[v].data, NULL,
                                                   shape_numel(&g->vals[v].shape), false};
            continue;
        }
        bool arch = false;
        for (int k = 0; k < L->net->narch; k++)
            arch = arch || L->net->arch[k] == v;
        /* torch's SGD decays every parameter, biases and BN affine included */
        OptParam p = {g->vals[v].data, rt_tape_grad(L->tape, v), shape_numel(&g->vals[v].shape),
                      true};
        if (!p.data || !p.grad) {
            diag_error(d, g->vals[v].loc, "param '%s' has no data or gradient",
                       g->vals[v].name ? g->vals[v].name : "?");
            return false;
        }
        if (arch)
            L->a[L->na++] = p;
        else
            L->wid[L->nw] = v, L->w[L->nw++] = p;
    }
    return true;
}

/* Forward + backward of one batch; the loss is returned in *loss. */
static bool loss_and_grad(Loop *L, int split, int epoch, int64_t step, double *loss, Diag *d)
{
    if (!L->src->fill(L->src->ctx, split, epoch, step, L->x, L->labels, d))
        return false;
    rt_tape_zero_grad(L->tape);
    if (!rt_tape_forward(L->tape, L->x, RT_TRAIN, d))
        return false;
    int64_t counted;
    *loss = rt_softmax_ce(L->n, L->classes, L->hw, rt_tape_output(L->tape), L->labels,
                          L->o->ignore_label, L->dout, &counted);
    return rt_tape_backward(L->tape, L->dout, d);
}

static double grads_norm(float *const *g, const OptParam *p, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        for (int64_t k = 0; k < p[i].numel; k++)
            s += (double)g[i][k] * g[i][k];
    return sqrt(s);
}

/* w = saved + sign * eps * v for every weight. */
static void shift_weights(Loop *L, float sign_eps)
{
    for (int i = 0; i < L->nw; i++)
        for (int64_t k = 0; k < L->w[i].numel; k++)
            L->w[i].data[k] = L->saved[i][k] + sign_eps * L->v[i][k];
}

/* Saves (save) or restores the running statistics. */
static void keep_stats(Loop *L, bool save)
{
    for (int i = 0; i < L->nstats; i++) {
        OptParam *s = &L->stats[i];
        size_t bytes = sizeof(float) * (size_t)s->numel;
        memcpy(save ? s->grad : s->data, save ? s->data : s->grad, bytes);
    }
}

/* DARTS's unrolled arch gradient (architect.py _backward_step_unrolled),
 * left in the arch params' grad buffers. The net's weights are back to w on
 * return. The reference runs the arch batch on a copy of the model holding
 * w', so that forward must not move the net's running statistics: they are
 * saved around it. The train-batch forwards (unroll and both Hessian-vector
 * product points) update them as in the reference, which runs those on the
 * model itself. */
static bool arch_grad_second_order(Loop *L, int epoch, int64_t step, float lr, double *loss,
                                   Diag *d)
{
    double l;
    if (!loss_and_grad(L, SPLIT_WEIGHTS, epoch, step, &l, d))
        return false;
    for (int i = 0; i < L->nw; i++) { /* w' = w - lr * (momentum * v + dw + wd * w) */
        OptParam *p = &L->w[i];
        memcpy(L->saved[i], p->data, sizeof(float) * (size_t)p->numel);
        float wd = p->decay ? L->o->weight_decay : 0;
        for (int64_t k = 0; k < p->numel; k++)
            p->data[k] -= lr * (L->o->momentum * L->sgd.velocity[i][k] + p->grad[k] +
                                wd * p->data[k]);
    }
    keep_stats(L, true);
    bool ok = loss_and_grad(L, SPLIT_ARCH, epoch, step, loss, d);
    keep_stats(L, false);
    if (!ok)
        return false;
    for (int i = 0; i < L->na; i++)
        memcpy(L->dalpha[i], L->a[i].grad, sizeof(float) * (size_t)L->a[i].numel);
    for (int i = 0; i < L->nw; i++)
        memcpy(L->v[i], L->w[i].grad, sizeof(float) * (size_t)L->w[i].numel);
    double norm = grads_norm(L->v, L->w, L->nw);
    float eps = (float)(0.01 / (norm > 0 ? norm : 1));
    for (int sign = 1; sign >= -1; sign -= 2) {
        shift_weights(L, (float)sign * eps);
        if (!loss_and_grad(L, SPLIT_WEIGHTS, epoch, step, &l, d))
            return false;
        /* dalpha -= lr * (g+ - g-) / (2 eps) */
        float c = -(float)sign * lr / (2 * eps);
        for (int i = 0; i < L->na; i++)
            for (int64_t k = 0; k < L->a[i].numel; k++)
                L->dalpha[i][k] += c * L->a[i].grad[k];
    }
    shift_weights(L, 0);
    for (int i = 0; i < L->na; i++)
        memcpy(L->a[i].grad, L->dalpha[i], sizeof(float) * (size_t)L->a[i].numel);
    return true;
}

/* The arch gradient of one step, in the arch params' grad buffers. */
static bool arch_grad(Loop *L, int epoch, int64_t step, float lr, double *loss, Diag *d)
{
    return L->o->second_order ? arch_grad_second_order(L, epoch, step, lr, loss, d)
                              : loss_and_grad(L, SPLIT_ARCH, epoch, step, loss, d);
}

static bool one_step(Loop *L, int epoch, int64_t step, float lr, SearchStep *s, Diag *d)
{
    s->arch_loss = NAN;
    if (epoch >= L->o->arch_start_epoch && L->na > 0) {
        if (!arch_grad(L, epoch, step, lr, &s->arch_loss, d))
            return false;
        rt_adam_step(&L->adam, L->o->arch_lr);
    }
    if (!loss_and_grad(L, SPLIT_WEIGHTS, epoch, step, &s->loss, d))
        return false;
    if (L->o->grad_clip > 0)
        rt_clip_grad_norm(L->w, L->nw, L->o->grad_clip);
    rt_sgd_step(&L->sgd, lr);
    return true;
}

/* ---- checkpoints: params, optimiser state, epochs done ---- */

static const char *prefixed(Arena *a, const char *prefix, const OptParam *p, const Graph *g)
{
    for (uint32_t i = 1; i < g->nval; i++)
        if (g->vals[i].data == p->data)
            return arena_printf(a, "%s%s", prefix, g->vals[i].name ? g->vals[i].name : "?");
    return arena_printf(a, "%s?", prefix);
}

static CkTensor flat(const char *name, const float *data, int64_t numel)
{
    CkTensor t = {name, 1, {numel}, data};
    return t;
}

static bool save_checkpoint(Loop *L, int epochs_done, Diag *d)
{
    const Graph *g = L->net->g;
    size_t cap = g->nval + 3 * (size_t)(L->nw + L->na) + 1;
    CkTensor *t = malloc(sizeof *t * cap);
    if (!t) {
        diag_error(d, loc_file(L->o->checkpoint), "out of memory");
        return false;
    }
    Arena scratch;
    arena_init(&scratch);
    int n = srch_graph_tensors(g, t);
    for (int i = 0; i < L->nw; i++)
        t[n++] = flat(prefixed(&scratch, "optim.sgd.", &L->w[i], g), L->sgd.velocity[i],
                      L->w[i].numel);
    for (int i = 0; i < L->na; i++) {
        t[n++] = flat(prefixed(&scratch, "optim.adam.m.", &L->a[i], g), L->adam.m[i],
                      L->a[i].numel);
        t[n++] = flat(prefixed(&scratch, "optim.adam.v.", &L->a[i], g), L->adam.v[i],
                      L->a[i].numel);
    }
    /* small integers, exact in f32 */
    float state[2] = {(float)epochs_done, (float)L->adam.step};
    t[n++] = flat("search.state", state, 2);
    bool ok = srch_st_write(L->o->checkpoint, t, n, d);
    arena_free_all(&scratch);
    free(t);
    return ok;
}

/* Restores everything save_checkpoint wrote; *start = epochs done. */
static bool load_checkpoint(Loop *L, int *start, Diag *d)
{
    const Graph *g = L->net->g;
    Arena a;
    arena_init(&a);
    SafeTensors st;
    bool ok = fe_safetensors_load(&a, L->o->checkpoint, &st, d);
    for (uint32_t i = 1; ok && i < g->nnode; i++) {
        const Value *v = &g->vals[g->nodes[i].out];
        if (g->nodes[i].op == OP_PARAM && v->data && v->name)
            ok = srch_st_get(&st, v->name, v->data, shape_numel(&v->shape), d);
    }
    for (int i = 0; ok && i < L->nw; i++)
        ok = srch_st_get(&st, prefixed(&a, "optim.sgd.", &L->w[i], g), L->sgd.velocity[i],
                         L->w[i].numel, d);
    for (int i = 0; ok && i < L->na; i++)
        ok = srch_st_get(&st, prefixed(&a, "optim.adam.m.", &L->a[i], g), L->adam.m[i],
                         L->a[i].numel, d) &&
             srch_st_get(&st, prefixed(&a, "optim.adam.v.", &L->a[i], g), L->adam.v[i],
                         L->a[i].numel, d);
    float state[2];
    ok = ok && srch_st_get(&st, "search.state", state, 2, d);
    if (ok) {
        *start = (int)state[0];
        L->adam.step = (int64_t)state[1];
    }
    arena_free_all(&a);
    return ok;
}

/* ---- the loop ---- */

static bool loop_init(Loop *L, Diag *d)
{
    const Graph *g = L->net->g;
    const Shape *out = &g->vals[g->outputs[0]].shape;
    L->tape = rt_tape_new(g, NULL, d);
    if (!L->tape || !collect_params(L, d))
        return false;
    L->n = out->d[0], L->classes = out->d[1];
    L->hw = shape_numel(out) / (L->n * L->classes);
    L->x = alloc_floats(shape_numel(&g->vals[g->inputs[0]].shape), d);
    L->dout = alloc_floats(shape_numel(out), d);
    L->labels = malloc((size_t)(L->n * L->hw));
    if (!L->x || !L->dout || !L->labels)
        return false;
    const SearchOptions *o = L->o;
    if (!rt_sgd_init(&L->sgd, L->w, L->nw, o->momentum, o->weight_decay, d) ||
        !rt_adam_init(&L->adam, L->a, L->na, o->arch_beta1, o->arch_beta2, 1e-8f,
                      o->arch_weight_decay, d))
        return false;
    if (!o->second_order)
        return true;
    L->saved = calloc((size_t)L->nw + 1, sizeof *L->saved);
    L->v = calloc((size_t)L->nw + 1, sizeof *L->v);
    L->dalpha = calloc((size_t)L->na + 1, sizeof *L->dalpha);
    if (!L->saved || !L->v || !L->dalpha)
        return false;
    for (int i = 0; i < L->nw; i++)
        if (!(L->saved[i] = alloc_floats(L->w[i].numel, d)) ||
            !(L->v[i] = alloc_floats(L->w[i].numel, d)))
            return false;
    for (int i = 0; i < L->na; i++)
        if (!(L->dalpha[i] = alloc_floats(L->a[i].numel, d)))
            return false;
    for (int i = 0; i < L->nstats; i++)
        if (!(L->stats[i].grad = alloc_floats(L->stats[i].numel, d)))
            return false;
    return true;
}

static void loop_free(Loop *L)
{
    for (int i = 0; L->saved && i < L->nw; i++)
        free(L->saved[i]), free(L->v[i]);
    for (int i = 0; L->dalpha && i < L->na; i++)
        free(L->dalpha[i]);
    for (int i = 0; L->stats && i < L->nstats; i++)
        free(L->stats[i].grad);
    free(L->saved), free(L->v), free(L->dalpha), free(L->stats), free(L->wid);
    if (L->sgd.params)
        rt_sgd_free(&L->sgd);
    if (L->adam.params)
        rt_adam_free(&L->adam);
    free(L->x), free(L->dout), free(L->labels), free(L->w), free(L->a);
    rt_tape_free(L->tape);
}

bool search_run(SuperNet *net, const BatchSource *src, const SearchOptions *o, Diag *d)
{
    Loop L = {.net = net, .o = o, .src = src};
    bool ok = loop_init(&L, d);
    int start = 0;
    if (ok && o->resume && o->checkpoint && access(o->checkpoint, F_OK) == 0)
        ok = load_checkpoint(&L, &start, d);
    for (int epoch = start; ok && epoch < o->epochs; epoch++) {
        float lr = rt_cosine_lr(o->lr, o->lr_min, epoch, o->epochs);
        double sum = 0;
        SearchStep s = {epoch, o->epochs, 0, src->steps_per_epoch, 0, NAN};
        for (int64_t step = 0; ok && step < src->steps_per_epoch; step++) {
            s.step = step;
            ok = one_step(&L, epoch, step, lr, &s, d);
            sum += s.loss;
            if (ok && o->on_step)
                o->on_step(o->ctx, &s);
        }
        if (ok && o->checkpoint)
            ok = save_checkpoint(&L, epoch + 1, d);
        if (ok && o->on_epoch)
            ok = o->on_epoch(o->ctx, epoch, sum / (double)src->steps_per_epoch, d);
    }
    loop_free(&L);
    return ok;
}

bool search_arch_grad(SuperNet *net, const BatchSource *src, const SearchOptions *o, int epoch,
                     int64_t step, float lr, const float *const *velocity, float **grads,
                     double *loss, Diag *d)
{
    Loop L = {.net = net, .o = o, .src = src};
    bool ok = loop_init(&L, d);
    for (int i = 0; ok && velocity && i < L.nw; i++)
        if (velocity[L.wid[i]])
            memcpy(L.sgd.velocity[i], velocity[L.wid[i]], sizeof(float) * (size_t)L.w[i].numel);
    ok = ok && arch_grad(&L, epoch, step, lr, loss, d);
    for (int k = 0; ok && k < net->narch; k++) {
        const Value *v = &net->g->vals[net->arch[k]];
        for (int i = 0; i < L.na; i++)
            if (L.a[i].data == v->data)
                memcpy(grads[k], L.a[i].grad, sizeof(float) * (size_t)L.a[i].numel);
    }
    loop_free(&L);
    return ok;
}
