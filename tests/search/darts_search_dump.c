/* darts_search_dump.c — the nasc side of the DARTS supernet's PyTorch
 * parity test (darts_search_torch.py runs it and checks every figure).
 *
 *   darts_search_dump OUT.safetensors C layers steps multiplier classes H W batch seed
 *
 * Builds the supernet, gives it alphas of scale 1 (so softmax(alpha) is far
 * from uniform and a wrong row or column shows in the logits) and BN
 * running statistics measured on a calibration batch (so eval mode
 * normalises; the identity statistics of a fresh net would let the signal
 * vanish). Writes, as F32 tensors:
 *   param.<name>     every param before any forward (weights, statistics,
 *                    alphas_normal, alphas_reduce)
 *   input, labels    the batch and its class indices (i mod classes)
 *   logits_eval      interpreter, eval mode;  tape_eval: the tape, eval mode
 *   logits_train     tape, train mode (batch statistics)
 *   loss, grad.<name>  mean cross-entropy of logits_train and d loss / d
 *                    param from rt_tape_backward, for every trainable param
 *   after.<name>     running statistics after the train-mode forward
 *   count            [trainable weights without alphas, BN buffers]
 *   derive.<i>.normal / .reduce  random alphas; stdout has their genotype
 *                    as "derive <i>: <literal>" (and "derive parity: ...")
 * Exit 0 on success, 1 with a message on stderr.
 */
#include "runtime/interp.h"
#include "runtime/train/train.h"
#include "search/darts_search.h"

#include "../weights/st_writer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { NDERIVE = 40 };

static void add_f32(StWriter *w, const char *name, const Shape *s, const float *data)
{
    stw_add(w, name, "F32", s->rank, s->d, data, (size_t)shape_numel(s) * sizeof(float));
}

static void add_vec(StWriter *w, const char *name, int64_t n, const float *data)
{
    Shape s = shape_make(1, &n);
    add_f32(w, name, &s, data);
}

static void add_params(StWriter *w, const Graph *g, const char *prefix, bool stats_only,
                       Arena *a)
{
    bool *stats = ir_fill_stats(g);
    for (uint32_t v = 1; v < g->nval; v++) {
        const Value *val = &g->vals[v];
        if (g->nodes[val->producer].op != OP_PARAM || (stats_only && !stats[v]))
            continue;
        add_f32(w, arena_printf(a, "%s%s", prefix, val->name), &val->shape, val->data);
    }
}

/* Mean cross-entropy of logits [n, k] against labels; dout = its gradient. */
static float cross_entropy(const float *logits, const float *labels, int n, int k, float *dout)
{
    double loss = 0;
    for (int i = 0; i < n; i++) {
        const float *z = logits + (size_t)i * k;
        double m = z[0], sum = 0;
        for (int j = 1; j < k; j++)
            m = z[j] > m ? z[j] : m;
        for (int j = 0; j < k; j++)
            sum += exp(z[j] - m);
        int y = (int)labels[i];
        loss += m + log(sum) - z[y];
        for (int j = 0; j < k; j++)
            dout[(size_t)i * k + j] = (float)((exp(z[j] - m) / sum - (j == y)) / n);
    }
    return (float)(loss / n);
}

static bool fail(Diag *d, const char *what)
{
    fprintf(stderr, "darts_search_dump: %s failed\n", what);
    diag_print(d, stderr);
    return false;
}

/* Random alphas (half at the 1e-3 of a fresh search, half at scale 1),
 * derived here, re-derived by the script with the reference rule. */
static bool add_derivations(StWriter *w, const DartsSearchConfig *cfg, uint64_t seed, Arena *a,
                            Diag *d)
{
    int edges = darts_search_edges(cfg->steps);
    Shape s = shape_make(2, (int64_t[]){edges, DARTS_NUM_OPS});
    float *an = arena_calloc(a, (size_t)edges * DARTS_NUM_OPS, sizeof *an);
    float *ar = arena_calloc(a, (size_t)edges * DARTS_NUM_OPS, sizeof *ar);
    for (int i = 0; i < NDERIVE; i++) {
        float scale = i % 2 ? 1.0f : 1e-3f;
        search_init_normal(an, edges * DARTS_NUM_OPS, scale, seed + (uint64_t)i, "derive.n");
        search_init_normal(ar, edges * DARTS_NUM_OPS, scale, seed + (uint64_t)i, "derive.r");
        Genotype g;
        if (!darts_derive(an, ar, cfg->steps, cfg->multiplier, a, &g, d))
            return fail(d, "darts_derive");
        printf("derive %d: %s", i, fe_genotype_to_literal(a, &g));
        add_f32(w, arena_printf(a, "derive.%d.normal", i), &s, an);
        add_f32(w, arena_printf(a, "derive.%d.reduce", i), &s, ar);
    }
    return true;
}

/* The parity alphas: N(0,1), and their genotype. */
static bool set_alphas(const SuperNet *net, const DartsSearchConfig *cfg, uint64_t seed,
                       Arena *a, Diag *d)
{
    float *alphas[2];
    for (int i = 0; i < 2; i++) {
        Value *v = &net->g->vals[net->arch[i]];
        alphas[i] = v->data;
        search_init_normal(v->data, shape_numel(&v->shape), 1.0f, seed, v->name);
    }
    Genotype g;
    if (!darts_derive(alphas[0], alphas[1], cfg->steps, cfg->multiplier, a, &g, d))
        return fail(d, "darts_derive");
    printf("derive parity: %s", fe_genotype_to_literal(a, &g));
    return true;
}

/* Eval through the interpreter and the tape, then one train-mode forward
 * and backward through the tape. */
static bool run_all(const SuperNet *net, const DartsSearchConfig *cfg, const float *x,
                    StWriter *w, Arena *a, Diag *d)
{
    const Graph *g = net->g;
    const Shape *ys = &g->vals[g->outputs[0]].shape;
    int64_t ny = shape_numel(ys);
    float *y = arena_calloc(a, (size_t)ny, sizeof *y);
    if (!rt_interp_run(g, x, y, NULL, d))
        return fail(d, "interpreter forward");
    add_f32(w, "logits_eval", ys, y);
    Tape *t = rt_tape_new(g, NULL, d);
    if (!t)
        return fail(d, "rt_tape_new");
    bool ok = rt_tape_forward(t, x, RT_EVAL, d);
    if (ok)
        add_f32(w, "tape_eval", ys, rt_tape_output(t));
    ok = ok && rt_tape_forward(t, x, RT_TRAIN, d);
    float *labels = arena_calloc(a, (size_t)cfg->batch, sizeof *labels);
    float *dout = arena_calloc(a, (size_t)ny, sizeof *dout);
    if (ok) {
        for (int i = 0; i < cfg->batch; i++)
            labels[i] = (float)(i % cfg->classes);
        add_f32(w, "logits_train", ys, rt_tape_output(t));
        float loss = cross_entropy(rt_tape_output(t), labels, cfg->batch, cfg->classes, dout);
        add_vec(w, "loss", 1, &loss);
        add_vec(w, "labels", cfg->batch, labels);
        rt_tape_zero_grad(t);
        ok = rt_tape_backward(t, dout, d);
    }
    for (uint32_t v = 1; ok && v < g->nval; v++) {
        float *gr = g->nodes[g->vals[v].producer].op == OP_PARAM ? rt_tape_grad(t, v) : NULL;
        if (gr)
            add_f32(w, arena_printf(a, "grad.%s", g->vals[v].name), &g->vals[v].shape, gr);
    }
    rt_tape_free(t);
    if (!ok)
        return fail(d, "tape train step");
    add_params(w, g, "after.", true, a);
    return true;
}

int main(int argc, char **argv)
{
    if (argc != 11) {
        fprintf(stderr, "usage: darts_search_dump OUT.safetensors C layers steps multiplier "
                        "classes H W batch seed\n");
        return 1;
    }
    DartsSearchConfig cfg;
    darts_search_defaults(&cfg);
    int *fields[] = {&cfg.C, &cfg.layers, &cfg.steps, &cfg.multiplier, &cfg.classes, &cfg.h,
                     &cfg.w, &cfg.batch};
    for (int i = 0; i < 8; i++)
        *fields[i] = atoi(argv[2 + i]);
    uint64_t seed = strtoull(argv[10], NULL, 10);
    Arena a;
    arena_init(&a);
    Diag d;
    diag_init(&d);
    SuperNet net;
    bool ok = darts_supernet_build(&a, &cfg, seed, &net, &d) && ir_verify(net.g, &d);
    if (!ok)
        return !fail(&d, "building the supernet");
    StWriter w;
    stw_init(&w, NULL);
    ok = set_alphas(&net, &cfg, seed + 1, &a, &d) && add_derivations(&w, &cfg, seed, &a, &d);

    const Shape *xs = &net.g->vals[net.g->inputs[0]].shape;
    int64_t nx = shape_numel(xs);
    float *x = arena_calloc(&a, (size_t)nx, sizeof *x);
    float *calib = arena_calloc(&a, (size_t)nx, sizeof *calib);
    search_init_normal(x, nx, 1.0f, seed, "input");
    search_init_normal(calib, nx, 1.0f, seed, "calibration");
    ok = ok && (rt_interp_calibrate_bn(net.g, calib, &d) || fail(&d, "BN calibration"));
    if (ok) {
        int64_t buffers = 0;
        int64_t weights = ir_graph_param_count(net.g, &buffers) -
                          2 * (int64_t)darts_search_edges(cfg.steps) * DARTS_NUM_OPS;
        add_vec(&w, "count", 2, (const float[]){(float)weights, (float)buffers});
        add_params(&w, net.g, "param.", false, &a);
        add_f32(&w, "input", xs, x);
        ok = run_all(&net, &cfg, x, &w, &a, &d);
    }
    size_t len;
    unsigned char *file = stw_finish(&w, &len);
    ok = ok && st_write_bytes(argv[1], file, len);
    free(file);
    diag_free(&d);
    arena_free_all(&a);
    return ok ? 0 : 1;
}
