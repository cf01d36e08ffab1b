/* retrain.c — training a derived network from scratch (trainer.h).
 *
 * Retraining is the search loop with no architecture params: search_run
 * with narch = 0 takes only SGD steps, and brings checkpoints and exact
 * resume along. Validation runs the reference interpreter (eval-mode
 * batchnorm, batch 1, full-size images) on a second lowering of the same
 * architecture whose params point at the trained ones.
 */
#include "search/trainer.h"

#include "runtime/interp.h"
#include "runtime/ref/grad.h"

#include <stdlib.h>
#include <string.h>

void srch_train_defaults(TrainOptions *o)
{
    memset(o, 0, sizeof *o);
    o->epochs = 20;
    o->lr = 0.05f, o->lr_min = 0.0005f, o->momentum = 0.9f, o->weight_decay = 3e-4f;
    o->grad_clip = 5.0f;
    o->ignore_label = DS_IGNORE;
}

/* Points every param of `to` at the same-named param data of `from`. */
static bool share_params(Graph *to, const Graph *from, Diag *d)
{
    for (uint32_t i = 1; i < to->nnode; i++) {
        if (to->nodes[i].op != OP_PARAM)
            continue;
        Value *v = &to->vals[to->nodes[i].out];
        const Value *match = NULL;
        for (uint32_t k = 1; k < from->nval && !match; k++)
            if (from->vals[k].name && v->name && from->vals[k].data &&
                strcmp(from->vals[k].name, v->name) == 0)
                match = &from->vals[k];
        if (!match || !shape_eq(&match->shape, &v->shape)) {
            diag_error(d, v->loc, "eval graph param '%s' has no same-shaped training param",
                       v->name ? v->name : "?");
            return false;
        }
        v->data = match->data;
    }
    return true;
}

bool srch_evaluate(const Graph *g, const Dataset *val, int ignore_label, SegMetrics *m, Diag *d)
{
    const Shape *in = &g->vals[g->inputs[0]].shape, *out = &g->vals[g->outputs[0]].shape;
    int64_t h = in->d[2], w = in->d[3], classes = out->d[1];
    float *x = malloc(sizeof *x * (size_t)shape_numel(in));
    float *logits = malloc(sizeof *logits * (size_t)shape_numel(out));
    uint8_t *truth = malloc((size_t)(h * w)), *pred = malloc((size_t)(h * w));
    bool ok = x && logits && truth && pred;
    if (!ok)
        diag_error(d, (Loc){0}, "out of memory");
    srch_metrics_reset(m);
    Rng unused;
    srch_rng_seed(&unused, 0);
    for (int64_t i = 0; ok && i < val->n; i++) {
        /* a crop of the full size at offset 0: the whole image, no flip */
        ok = srch_ds_batch(val, &unused, &i, 1, (int)h, (int)w, false, x, truth, d) &&
             rt_interp_run(g, x, logits, NULL, d);
        if (!ok)
            break;
        int64_t counted;
        m->loss_sum += rt_softmax_ce(1, classes, h * w, logits, truth, ignore_label, NULL,
                                     &counted) * (double)counted;
        m->loss_pixels += counted;
        rt_ref_argmax(1, classes, h * w, logits, pred);
        srch_metrics_add(m, truth, pred, h * w);
    }
    free(x), free(logits), free(truth), free(pred);
    return ok;
}

typedef struct TrainCtx {
    const TrainOptions *o;
    Graph *g_eval;
    const Dataset *val;
    SegMetrics m;
} TrainCtx;

static void train_step(void *ctx, const SearchStep *s)
{
    TrainCtx *t = ctx;
    if (t->o->on_step)
        t->o->on_step(t->o->ctx, s);
}

static bool train_epoch_done(void *ctx, int epoch, double loss, Diag *d)
{
    TrainCtx *t = ctx;
    if (!srch_evaluate(t->g_eval, t->val, t->o->ignore_label, &t->m, d))
        return false;
    return t->o->on_epoch ? t->o->on_epoch(t->o->ctx, epoch, loss, &t->m, d) : true;
}

bool srch_train(Graph *g_train, Graph *g_eval, const BatchSource *src, const Dataset *val,
                const TrainOptions *o, Diag *d)
{
    int classes = (int)g_eval->vals[g_eval->outputs[0]].shape.d[1];
    TrainCtx t = {o, g_eval, val, {0}};
    if (!share_params(g_eval, g_train, d) || !srch_metrics_init(&t.m, classes, d))
        return false;
    SearchOptions so;
    search_options_defaults(&so);
    so.epochs = o->epochs;
    so.lr = o->lr, so.lr_min = o->lr_min, so.momentum = o->momentum;
    so.weight_decay = o->weight_decay, so.grad_clip = o->grad_clip;
    so.ignore_label = o->ignore_label;
    so.checkpoint = o->checkpoint, so.resume = o->resume;
    so.on_step = train_step, so.on_epoch = train_epoch_done, so.ctx = &t;
    SuperNet net = {g_train, 0, NULL};
    bool ok = search_run(&net, src, &so, d);
    srch_metrics_free(&t.m);
    return ok;
}
