/* adl_decode.c — from searched alphas and betas to a retrain architecture
 * (decoding_formulas.py Decoder of NoamRosenberg/autodeeplab).
 *
 * Network level: the betas, normalised as the supernet uses them, weigh
 * the edges of the layer x level lattice; viterbi_decode keeps for every
 * (layer, level) the best product of edge weights reaching it and its
 * predecessor, then walks back from the best last level. Cell level:
 * genotype_decode keeps the two strongest incoming edges of each node
 * (strength = largest non-'none' softmax weight) with their argmax ops.
 * Ties are resolved as numpy's argmax and Python's stable sort do, so the
 * same arch params give the reference's answer.
 */
#include "search/adl_search.h"

#include <math.h>
#include <string.h>

void adl_read_arch(const Graph *g, const AdlSearchVars *v, float *alphas, float *betas)
{
    const Value *av = &g->vals[v->alphas];
    memcpy(alphas, av->data, (size_t)shape_numel(&av->shape) * sizeof(float));
    memset(betas, 0, (size_t)v->layers * ADL_LEVELS * ADL_DIRS * sizeof(float));
    for (int i = 0; i < v->layers * ADL_LEVELS; i++) {
        if (!v->betas[i])
            continue;
        int lo, hi;
        adl_beta_dirs(i % ADL_LEVELS, &lo, &hi);
        memcpy(betas + i * ADL_DIRS + lo, g->vals[v->betas[i]].data,
               (size_t)(hi - lo) * sizeof(float));
    }
}

/* Softmax of the n values a, in double: what every arch param's
 * normalisation (alpha rows, betas, head weights) computes. */
static void softmax_n(const float *a, int n, double *p)
{
    float top = a[0];
    for (int k = 1; k < n; k++)
        top = a[k] > top ? a[k] : top;
    double sum = 0;
    for (int k = 0; k < n; k++)
        sum += p[k] = exp((double)a[k] - top);
    for (int k = 0; k < n; k++)
        p[k] /= sum;
}

bool adl_read_heads(const Graph *g, const AdlSearchVars *v, float *heads)
{
    if (!v->heads)
        return false;
    double p[ADL_LEVELS];
    softmax_n(g->vals[v->heads].data, ADL_LEVELS, p);
    for (int k = 0; k < ADL_LEVELS; k++)
        heads[k] = (float)p[k];
    return true;
}

void adl_normalise_betas(int layers, const float *betas, float *space)
{
    memset(space, 0, (size_t)layers * ADL_LEVELS * ADL_DIRS * sizeof(float));
    for (int layer = 0; layer < layers; layer++) {
        for (int src = 0; src <= layer && src < ADL_LEVELS; src++) {
            const float *b = betas + (layer * ADL_LEVELS + src) * ADL_DIRS;
            float *s = space + (layer * ADL_LEVELS + src) * ADL_DIRS;
            int lo, hi;
            adl_beta_dirs(src, &lo, &hi);
            double p[ADL_DIRS];
            softmax_n(b + lo, hi - lo, p);
            /* boundary levels: softmax * (2/3), as auto_deeplab.py */
            double f = src == 0 || src == ADL_LEVELS - 1 ? 2.0 / 3.0 : 1.0;
            for (int k = lo; k < hi; k++)
                s[k] = (float)(p[k - lo] * f);
        }
    }
}

void adl_viterbi(int layers, const float *space, const float *heads, int *path)
{
    double prob[ADL_SEARCH_MAX_LAYERS][ADL_LEVELS] = {{0}};
    int from[ADL_SEARCH_MAX_LAYERS][ADL_LEVELS] = {{0}};
    NASC_ASSERT(layers >= 1 && layers <= ADL_SEARCH_MAX_LAYERS);
#define SPACE(l, src, dir) ((double)space[((l) * ADL_LEVELS + (src)) * ADL_DIRS + (dir)])
    prob[0][0] = SPACE(0, 0, 1); /* the stem (level 0) stays or goes down */
    prob[0][1] = SPACE(0, 0, 2);
    for (int l = 1; l < layers; l++) {
        for (int level = 0; level < ADL_LEVELS && level <= l + 1; level++) {
            double best = -1;
            /* rate 0: from level + 1 (coarser), 1: same, 2: from level - 1 */
            for (int rate = 0; rate < ADL_DIRS; rate++) {
                int src = level + 1 - rate;
                if (src < 0 || src >= ADL_LEVELS)
                    continue;
                double p = prob[l - 1][src] * SPACE(l, src, rate);
                if (p > best) { /* strict: the first maximum wins, as np.argmax */
                    best = p;
                    from[l][level] = src;
                }
            }
            prob[l][level] = best;
        }
    }
#undef SPACE
    /* the supernet's output is the heads' weighted sum: a path ending at a
     * level counts with that level's head weight */
    double end[ADL_LEVELS];
    for (int level = 0; level < ADL_LEVELS; level++)
        end[level] = prob[layers - 1][level] * (heads ? (double)heads[level] : 1.0);
    int last = 0;
    for (int level = 1; level < ADL_LEVELS; level++)
        if (end[level] > end[last])
            last = level;
    path[layers - 1] = last;
    for (int l = layers - 1; l > 0; l--)
        path[l - 1] = from[l][path[l]];
}

/* DARTS's rule on softmax'd rows p [edges][8]: per node the two incoming
 * edges with the largest non-'none' weight, each with its argmax op. */
static void derive_from_probs(const double (*p)[ADL_NUM_OPS], int steps, bool allow_none,
                              int (*rows)[2])
{
    int start = 0, nrow = 0;
    for (int i = 0; i < steps; i++) {
        int n = 2 + i, order[2 + ADL_MAX_STEPS];
        double key[2 + ADL_MAX_STEPS];
        for (int j = 0; j < n; j++) {
            const double *pj = p[start + j];
            key[j] = pj[1];
            for (int k = 2; k < ADL_NUM_OPS; k++) /* pj[0] is 'none': not ranked */
                key[j] = pj[k] > key[j] ? pj[k] : key[j];
            /* stable insertion by descending key: equal keys keep edge order */
            int at = j;
            while (at > 0 && key[order[at - 1]] < key[j]) {
                order[at] = order[at - 1];
                at--;
            }
            order[at] = j;
        }
        for (int t = 0; t < 2; t++) {
            const double *pj = p[start + order[t]];
            int best = allow_none ? 0 : 1;
            for (int k = best + 1; k < ADL_NUM_OPS; k++)
                if (pj[k] > pj[best])
                    best = k;
            rows[nrow][0] = start + order[t];
            rows[nrow][1] = best;
            nrow++;
        }
        start += n;
    }
}

void adl_derive_cell(const float *alphas, int steps, bool allow_none, int max_skip,
                     int (*rows)[2])
{
    double p[ADL_MAX_STEPS * (ADL_MAX_STEPS + 3) / 2][ADL_NUM_OPS];
    int edges = steps * (steps + 3) / 2;
    NASC_ASSERT(steps >= 1 && steps <= ADL_MAX_STEPS);
    for (int e = 0; e < edges; e++)
        softmax_n(alphas + e * ADL_NUM_OPS, ADL_NUM_OPS, p[e]);
    derive_from_probs((const double (*)[ADL_NUM_OPS])p, steps, allow_none, rows);
    /* P-DARTS: while the cell keeps more than max_skip skip_connects, zero
     * the weakest kept skip_connect's weight and derive again (its edge may
     * then take another op, or lose its place to another edge). */
    for (;;) {
        int nskip = 0, weakest = -1;
        for (int r = 0; r < 2 * steps; r++) {
            int e = rows[r][0];
            if (rows[r][1] != ADL_OP_SKIP)
                continue;
            nskip++;
            if (weakest < 0 || p[e][ADL_OP_SKIP] < p[weakest][ADL_OP_SKIP])
                weakest = e;
        }
        if (max_skip < 0 || nskip <= max_skip)
            return;
        p[weakest][ADL_OP_SKIP] = 0;
        derive_from_probs((const double (*)[ADL_NUM_OPS])p, steps, allow_none, rows);
    }
}

static bool all_finite(const float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return false;
    return true;
}

bool adl_decode(const AdlSearchConfig *cfg, const float *alphas, const float *betas,
                const float *heads, Arena *a, AdlArch *out, Diag *d)
{
    Loc none = {0};
    int before = d->nerr, layers = cfg->layers;
    if (cfg->steps != ADL_NODES || cfg->block_multiplier != ADL_NODES)
        diag_error(d, none, "Auto-DeepLab decode: the retrain cell has %d nodes, all "
                   "concatenated; the search has steps %d and B %d", ADL_NODES, cfg->steps,
                   cfg->block_multiplier);
    if (layers < 1 || layers > ADL_SEARCH_MAX_LAYERS)
        diag_error(d, none, "Auto-DeepLab decode: layers must be 1..%d, found %d",
                   ADL_SEARCH_MAX_LAYERS, layers);
    if (d->nerr != before)
        return false;
    if (!all_finite(alphas, (int64_t)adl_search_edges(cfg->steps) * ADL_NUM_OPS))
        diag_error(d, none, "Auto-DeepLab decode: the alphas are not finite (did the "
                   "search diverge?)");
    for (int l = 0; l < layers; l++) {
        for (int src = 0; src <= l && src < ADL_LEVELS; src++) {
            int lo, hi;
            adl_beta_dirs(src, &lo, &hi);
            if (!all_finite(betas + (l * ADL_LEVELS + src) * ADL_DIRS + lo, hi - lo))
                diag_error(d, none, "Auto-DeepLab decode: betas[%d][%d] are not finite (did "
                           "the search diverge?)", l, src);
        }
    }
    if (heads && !all_finite(heads, ADL_LEVELS))
        diag_error(d, none, "Auto-DeepLab decode: the head weights are not finite (did the "
                   "search diverge?)");
    if (d->nerr != before)
        return false;

    float *space = arena_calloc(a, (size_t)layers * ADL_LEVELS * ADL_DIRS, sizeof(float));
    adl_normalise_betas(layers, betas, space);
    fe_adl_defaults(out);
    out->name = "adl_search";
    out->nlayers = layers;
    out->path = arena_calloc(a, (size_t)layers, sizeof *out->path);
    adl_viterbi(layers, space, heads, out->path);
    int rows[ADL_ROWS][2];
    adl_derive_cell(alphas, ADL_NODES, false, cfg->max_skip, rows);
    for (int k = 0; k < ADL_ROWS; k++) {
        out->rows[k].edge = rows[k][0];
        out->rows[k].op = fe_adl_ops[rows[k][1]].name;
    }
    out->nrows = ADL_ROWS;
    out->F = cfg->filter_multiplier;
    out->classes = cfg->classes;
    out->in_h = cfg->h;
    out->in_w = cfg->w;
    out->decoder = layers >= 3;
    return fe_adl_check(out, d);
}
