/* adl_search_dump.c — the nasc side of the Auto-DeepLab supernet's PyTorch
 * parity test (adl_search_torch.py runs it and checks every figure).
 *
 *   adl_search_dump OUT.safetensors layers F classes H W batch seed
 *
 * Builds the supernet (steps 5, B 5), gives alphas and betas scale 1 (so
 * softmax weights are far from uniform and a wrong row, level or direction
 * shows in the logits) and BN running statistics measured on a calibration
 * batch (a train-mode forward with momentum 1), so that eval mode really
 * normalises. Writes, as F32 tensors:
 *   param.<name>      every param before the checked forwards
 *   input, dout       the batch and a fixed d loss / d logits (loss =
 *                     sum(logits * dout))
 *   logits_eval, logits_train   the tape in eval and train mode
 *   grad_eval.<name>, grad_train.<name>   d loss / d param for the arch
 *                     params and every weight, after each mode's forward
 *   after.<name>      running statistics after the train-mode forward
 *   space, path, cell the decoder's normalised betas, Viterbi path and cell
 *                     rows (as floats) of the params
 * Exit 0 on success, 1 with a message on stderr.
 */
#include "runtime/train/train.h"
#include "search/adl_search.h"

#include "../weights/st_writer.h"

#include <stdlib.h>
#include <string.h>

static void add_f32(StWriter *w, const char *name, const Shape *s, const float *data)
{
    stw_add(w, name, "F32", s->rank, s->d, data, (size_t)shape_numel(s) * sizeof(float));
}

static void add_vec(StWriter *w, const char *name, int64_t n, const float *data)
{
    Shape s = shape_make(1, &n);
    add_f32(w, name, &s, data);
}

static bool fail(Diag *d, const char *what)
{
    fprintf(stderr, "adl_search_dump: %s\n", what);
    diag_print(d, stderr);
    return false;
}

/* BN statistics from a calibration batch; affine BN params moved off 1/0. */
static bool calibrate(Graph *g, const float *x, uint64_t seed, Diag *d)
{
    TapeOptions opts = {1.0f};
    Tape *t = rt_tape_new(g, &opts, d);
    bool ok = t && rt_tape_forward(t, x, RT_TRAIN, d);
    rt_tape_free(t);
    for (uint32_t i = 1; ok && i < g->nnode; i++) {
        const Node *n = &g->nodes[i];
        if (n->op != OP_BATCHNORM || n->nin < 5)
            continue;
        for (int k = 3; k < 5; k++) {
            Value *p = &g->vals[n->in[k]];
            int64_t c = shape_numel(&p->shape);
            search_init_normal(p->data, c, 0.2f, seed, p->name);
            for (int64_t j = 0; k == 3 && j < c; j++)
                p->data[j] += 1.0f;
        }
    }
    return ok;
}

/* forward in `mode`, backward of sum(logits * dout), everything written */
static bool run_mode(StWriter *w, Graph *g, Tape *t, const float *x, const float *dout,
                     RtMode mode, const char *tag, Arena *a, Diag *d)
{
    if (!rt_tape_forward(t, x, mode, d))
        return false;
    add_f32(w, arena_printf(a, "logits_%s", tag), &g->vals[g->outputs[0]].shape,
            rt_tape_output(t));
    rt_tape_zero_grad(t);
    if (!rt_tape_backward(t, dout, d))
        return false;
    for (uint32_t v = 1; v < g->nval; v++) {
        const float *grad = g->nodes[g->vals[v].producer].op == OP_PARAM ? rt_tape_grad(t, v)
                                                                         : NULL;
        if (grad)
            add_f32(w, arena_printf(a, "grad_%s.%s", tag, g->vals[v].name), &g->vals[v].shape,
                    grad);
    }
    return true;
}

static bool dump(const char *out_path, const AdlSearchConfig *cfg, uint64_t seed, Arena *a, Diag *d)
{
    SuperNet net;
    AdlSearchVars v;
    if (!adl_supernet_build(a, cfg, seed, &net, &v, d))
        return fail(d, "build failed");
    Graph *g = net.g;
    for (int i = 0; i < net.narch; i++) { /* scale 1 instead of 1e-3 */
        Value *p = &g->vals[net.arch[i]];
        search_init_normal(p->data, shape_numel(&p->shape), 1.0f, seed + 1, p->name);
    }
    int64_t nx = shape_numel(&g->vals[g->inputs[0]].shape);
    int64_t ny = shape_numel(&g->vals[g->outputs[0]].shape);
    float *x = malloc((size_t)nx * sizeof *x), *dout = malloc((size_t)ny * sizeof *dout);
    search_init_normal(x, nx, 1.0f, seed + 2, "calibration");
    if (!calibrate(g, x, seed + 3, d))
        return fail(d, "calibration failed");
    search_init_normal(x, nx, 1.0f, seed + 4, "input");
    search_init_normal(dout, ny, 1.0f, seed + 5, "dout");

    StWriter w;
    stw_init(&w, NULL);
    for (uint32_t i = 1; i < g->nval; i++)
        if (g->nodes[g->vals[i].producer].op == OP_PARAM)
            add_f32(&w, arena_printf(a, "param.%s", g->vals[i].name), &g->vals[i].shape,
                    g->vals[i].data);
    add_f32(&w, "input", &g->vals[g->inputs[0]].shape, x);
    add_f32(&w, "dout", &g->vals[g->outputs[0]].shape, dout);

    int layers = cfg->layers, edges = adl_search_edges(cfg->steps);
    float *alphas = arena_calloc(a, (size_t)edges * ADL_NUM_OPS, sizeof(float));
    float *betas = arena_calloc(a, (size_t)layers * 12, sizeof(float));
    float *space = arena_calloc(a, (size_t)layers * 12, sizeof(float));
    float *fpath = arena_calloc(a, (size_t)layers, sizeof(float));
    float cell[20];
    int path[ADL_SEARCH_MAX_LAYERS], rows[10][2];
    adl_read_arch(g, &v, alphas, betas);
    adl_normalise_betas(layers, betas, space);
    adl_viterbi(layers, space, NULL, path);
    adl_derive_cell(alphas, cfg->steps, true, -1, rows); /* the reference's rule */
    for (int l = 0; l < layers; l++)
        fpath[l] = (float)path[l];
    for (int k = 0; k < 20; k++)
        cell[k] = (float)rows[k / 2][k % 2];
    add_vec(&w, "space", layers * 12, space);
    add_vec(&w, "path", layers, fpath);
    add_vec(&w, "cell", 20, cell);

    Tape *t = rt_tape_new(g, NULL, d);
    bool ok = t && run_mode(&w, g, t, x, dout, RT_EVAL, "eval", a, d) &&
              run_mode(&w, g, t, x, dout, RT_TRAIN, "train", a, d);
    bool *stats = ir_fill_stats(g);
    for (uint32_t i = 1; ok && i < g->nval; i++)
        if (stats[i])
            add_f32(&w, arena_printf(a, "after.%s", g->vals[i].name), &g->vals[i].shape,
                    g->vals[i].data);
    rt_tape_free(t);
    free(x);
    free(dout);
    if (!ok)
        return fail(d, "tape failed");
    size_t len;
    unsigned char *bytes = stw_finish(&w, &len);
    FILE *f = fopen(out_path, "wb");
    ok = f && fwrite(bytes, 1, len, f) == len;
    if (f)
        ok = fclose(f) == 0 && ok;
    free(bytes);
    printf("params %lld\n", (long long)ir_graph_param_count(g, NULL));
    return ok ? true : fail(d, "cannot write the output");
}

int main(int argc, char **argv)
{
    if (argc != 9 && argc != 10) {
        fprintf(stderr, "usage: adl_search_dump OUT layers F classes H W batch seed [aspp_rate]\n");
        return 1;
    }
    AdlSearchConfig cfg;
    adl_search_defaults(&cfg);
    cfg.layers = atoi(argv[2]);
    cfg.filter_multiplier = atoi(argv[3]);
    cfg.classes = atoi(argv[4]);
    cfg.h = atoi(argv[5]);
    cfg.w = atoi(argv[6]);
    cfg.batch = atoi(argv[7]);
    cfg.aspp_rate = argc == 10 ? atoi(argv[9]) : 0;
    Arena a;
    arena_init(&a);
    Diag d;
    diag_init(&d);
    bool ok = dump(argv[1], &cfg, (uint64_t)strtoull(argv[8], NULL, 10), &a, &d);
    diag_free(&d);
    arena_free_all(&a);
    return ok ? 0 : 1;
}
