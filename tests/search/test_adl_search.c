/* test_adl_search.c — the Auto-DeepLab search space (search/adl_search.c,
 * adl_decode.c).
 *
 * Viterbi: random lattices against brute force over every valid path, a
 * uniform lattice whose tie-broken path was worked out by hand from
 * decoding_formulas.py's argmax order, and lattices that push the path to
 * the boundary levels. Cell: hand-made alphas whose rows were worked out by
 * hand from genotype_decode. Decode: the arch passes fe_adl_check, lowers,
 * and survives the JSON round trip. Supernet: it verifies, its parameter
 * count equals one computed here from the module formulas of operations.py /
 * cell_level_search.py / auto_deeplab.py (not from the graph), it is
 * deterministic in the seed, and the beta weights it computes equal
 * adl_normalise_betas. Numerics against PyTorch: adl_search_torch.py.
 */
#include "search/adl_search.h"
#include "runtime/train/train.h"

#include "../check.h"

#include <math.h>

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

static float randn_ish(uint64_t *s) /* sum of uniforms: good enough for lattices */
{
    float x = 0;
    for (int i = 0; i < 4; i++)
        x += (float)(lcg(s) % 10000) / 10000.0f - 0.5f;
    return 2 * x;
}

/* ---- Viterbi ---- */

/* The product of a path's edge weights, times heads[last level] when
 * heads is not NULL; -1 for a path the lattice does not have. */
static double path_weight(const float *space, const float *heads, const int *path, int layers)
{
    if (path[0] < 0 || path[0] > 1)
        return -1;
    double p = space[1 + path[0]]; /* space[0][0][1 + level] */
    for (int l = 1; l < layers; l++) {
        int src = path[l - 1], dir = path[l] - src + 1;
        if (path[l] < 0 || path[l] > 3 || dir < 0 || dir > 2)
            return -1;
        p *= space[(l * ADL_LEVELS + src) * ADL_DIRS + dir];
    }
    return heads ? p * heads[path[layers - 1]] : p;
}

/* Viterbi against every path of random lattices, without and with
 * learned head weights (which scale the last level's path weights). */
static void check_viterbi_brute_force(void)
{
    uint64_t s = 42;
    int trials = 0;
    for (int layers = 3; layers <= 8; layers++) {
        for (int t = 0; t < 40; t++, trials++) {
            float betas[8 * 12], space[8 * 12], random_heads[4];
            for (int i = 0; i < layers * 12; i++)
                betas[i] = randn_ish(&s);
            adl_normalise_betas(layers, betas, space);
            for (int k = 0; k < 4; k++)
                random_heads[k] = 0.05f + (float)(lcg(&s) % 1000) / 1000.0f;
            const float *heads = t % 2 ? random_heads : NULL;
            int path[8], best_path[8] = {0}, cand[8];
            double best = -1;
            for (int code = 0; code < 1 << (2 * layers); code++) {
                for (int l = 0; l < layers; l++)
                    cand[l] = code >> (2 * l) & 3;
                double w = path_weight(space, heads, cand, layers);
                if (w > best) {
                    best = w;
                    memcpy(best_path, cand, sizeof cand);
                }
            }
            adl_viterbi(layers, space, heads, path);
            double got = path_weight(space, heads, path, layers);
            CHECKF(got == best, "layers %d trial %d%s: viterbi weight %.17g, best %.17g",
                   layers, t, heads ? " (heads)" : "", got, best);
            CHECKF(memcmp(path, best_path, (size_t)layers * sizeof *path) == 0,
                   "layers %d trial %d%s: path differs from the brute-force best", layers, t,
                   heads ? " (heads)" : "");
        }
    }
    CHECK(trials == 240);
    /* a dominant head decides the last level against the betas */
    float betas[4 * 12] = {0}, space[4 * 12], heads[4] = {0.01f, 0.01f, 0.01f, 0.97f};
    int plain[4], weighted[4];
    adl_normalise_betas(4, betas, space);
    adl_viterbi(4, space, NULL, plain);
    adl_viterbi(4, space, heads, weighted);
    CHECK(plain[3] == 0 && weighted[3] == 3);
}

/* All betas 0: every valid edge weighs 1/3 (2/3 * 1/2 at the boundary
 * levels), so all reachable paths tie. By the reference's argmax order the
 * walk back takes the lowest last level, then at each step the candidate
 * from the coarser level (rate 0) if it was reachable: 0 <- 1 <- 2 <- 1
 * (level 2 at layer 0 was unreachable, so layer 1's level 2 came from 1). */
static void check_viterbi_ties(void)
{
    float betas[4 * 12] = {0}, space[4 * 12];
    adl_normalise_betas(4, betas, space);
    CHECK(space[1] == space[2] && space[(3 * 4 + 3) * 3 + 0] == space[(3 * 4 + 1) * 3 + 1]);
    CHECKF(fabsf(space[1] - 1.0f / 3) < 1e-7f, "boundary weight %g", space[1]);
    CHECK(space[0] == 0 && space[(3 * 4 + 3) * 3 + 2] == 0); /* invalid directions */
    int path[4];
    adl_viterbi(4, space, NULL, path);
    const int want[4] = {1, 2, 1, 0};
    CHECKF(memcmp(path, want, sizeof want) == 0, "tie path %d %d %d %d", path[0], path[1],
           path[2], path[3]);
}

/* Betas favouring one direction drive the path to a boundary (weights by
 * hand: a favoured entry 4 gives 0.965 in the middle, 0.655 = 2/3 * 0.982
 * at the boundary levels; a 0 against a 4 gives 0.018 or 0.012). */
static void check_viterbi_boundaries(void)
{
    enum { L = 6 };
    float betas[L * 12], space[L * 12];
    int path[L];
    /* down everywhere, stay at level 3: 1 2 3 3 3 3 */
    for (int i = 0; i < L * 12; i++)
        betas[i] = i % 3 == 2 || (i / 3 % 4 == 3 && i % 3 == 1) ? 4.0f : 0.0f;
    adl_normalise_betas(L, betas, space);
    adl_viterbi(L, space, NULL, path);
    const int down[L] = {1, 2, 3, 3, 3, 3};
    CHECKF(memcmp(path, down, sizeof down) == 0, "down path %d %d %d %d %d %d", path[0],
           path[1], path[2], path[3], path[4], path[5]);
    /* stay everywhere: level 0 (the stem's level) throughout */
    for (int i = 0; i < L * 12; i++)
        betas[i] = i % 3 == 1 ? 4.0f : 0.0f;
    adl_normalise_betas(L, betas, space);
    adl_viterbi(L, space, NULL, path);
    const int flat[L] = {0, 0, 0, 0, 0, 0};
    CHECK(memcmp(path, flat, sizeof flat) == 0);
    /* up everywhere: level 0 has no up (stay and down both 1/3), so the best
     * path pays 1/3 to go down and takes 0.965 back up: 1 0 1 0 1 0 */
    for (int i = 0; i < L * 12; i++)
        betas[i] = i % 3 == 0 ? 4.0f : 0.0f;
    adl_normalise_betas(L, betas, space);
    adl_viterbi(L, space, NULL, path);
    const int zigzag[L] = {1, 0, 1, 0, 1, 0};
    CHECKF(memcmp(path, zigzag, sizeof zigzag) == 0, "up path %d %d %d %d %d %d", path[0],
           path[1], path[2], path[3], path[4], path[5]);
    /* down to 3 by layer 2; level 3 at layer 3 is uniform (1/3 up or stay);
     * layers 4 and 5 pull up with 9 vs 0 (0.9998): 1 2 3 2 1 0 beats
     * 1 2 3 3 2 1, which pays 2/3 for leaving level 3 at layer 4 */
    for (int i = 0; i < L * 12; i++)
        betas[i] = i % 3 == 2 ? 4.0f : 0.0f;
    for (int l = 4; l < 6; l++) {
        for (int src = 1; src < 4; src++) {
            betas[(l * 4 + src) * 3 + 0] = 9;
            betas[(l * 4 + src) * 3 + 2] = 0;
        }
    }
    adl_normalise_betas(L, betas, space);
    adl_viterbi(L, space, NULL, path);
    const int back[L] = {1, 2, 3, 2, 1, 0};
    CHECKF(memcmp(path, back, sizeof back) == 0, "down-up path %d %d %d %d %d %d", path[0],
           path[1], path[2], path[3], path[4], path[5]);
}

/* ---- cell ---- */

static void set(float *alphas, int row, int op, float v)
{
    alphas[row * ADL_NUM_OPS + op] = v;
}

/* Softmax weights in the comments (rows otherwise 0):
 * node 2: edge 1 dil_conv_5x5 0.51 outranks edge 0, whose best real op
 *         (sep_conv_3x3 0.017) is swamped by 'none' 5: both kept, edge 1
 *         first, and edge 0's argmax is 'none' (the reference allows it);
 * node 3: edge 3 max_pool 0.28; edges 2 and 4 all-zero tie at 0.125: lower
 *         edge 2, whose eight equal ops give 'none' (first index);
 * node 4: edge 8 skip 0.74; edge 6 avg_pool and sep_conv_5x5 tie (0.355):
 *         avg_pool, the lower op;
 * node 5: edges 9 (sep_conv_3x3) and 13 (dil_conv_3x3) tie at 0.28: 9 first;
 * node 6: edge 19 'none' = dil_conv_5x5 = 1 (0.237 ranked, 'none' wins the
 *         argmax tie), edge 15 sep_conv_5x5 0.5 (0.19) beats the zero rows. */
static void hand_alphas(float *a)
{
    memset(a, 0, 20 * ADL_NUM_OPS * sizeof *a);
    set(a, 0, 0, 5), set(a, 0, 4, 1);
    set(a, 1, 7, 2);
    set(a, 3, 1, 1);
    set(a, 8, 3, 3);
    set(a, 6, 2, 2), set(a, 6, 5, 2);
    set(a, 9, 4, 1), set(a, 13, 6, 1);
    set(a, 19, 0, 1), set(a, 19, 7, 1), set(a, 15, 5, 0.5f);
}

/* P-DARTS's skip limit. Softmax weights (rows otherwise 0): edge 0 skip
 * 0.742; edge 1 skip 0.262, sep_conv_3x3 0.159; edge 3 skip 0.514; edge 2
 * dil_conv_3x3 0.280. Unlimited: three skips. Each step zeroes the weakest
 * kept skip: edge 1 falls back to sep_conv_3x3 and stays; edge 3 then ranks
 * 0.070 and loses its place to edge 4 (0.125, max_pool); edge 0 last. */
static void check_max_skip(void)
{
    float alphas[20 * ADL_NUM_OPS];
    memset(alphas, 0, sizeof alphas);
    set(alphas, 0, ADL_OP_SKIP, 3), set(alphas, 1, ADL_OP_SKIP, 1), set(alphas, 1, 4, 0.5f);
    set(alphas, 3, ADL_OP_SKIP, 2), set(alphas, 2, 6, 1);
    static const int want[4][4][2] = {
        /* node 2 and node 3 rows for max_skip -1, 2, 1, 0 */
        {{0, 3}, {1, 3}, {3, 3}, {2, 6}},
        {{0, 3}, {1, 4}, {3, 3}, {2, 6}},
        {{0, 3}, {1, 4}, {2, 6}, {4, 1}},
        {{1, 4}, {0, 1}, {2, 6}, {4, 1}},
    };
    static const int max_skip[4] = {-1, 2, 1, 0};
    for (int t = 0; t < 4; t++) {
        int rows[10][2];
        adl_derive_cell(alphas, 5, false, max_skip[t], rows);
        for (int k = 0; k < 4; k++)
            CHECKF(rows[k][0] == want[t][k][0] && rows[k][1] == want[t][k][1],
                   "max_skip %d row %d: got [%d, %d], want [%d, %d]", max_skip[t], k,
                   rows[k][0], rows[k][1], want[t][k][0], want[t][k][1]);
        /* the zero rows' nodes keep their two lowest edges with max_pool */
        static const int rest[6] = {5, 6, 9, 10, 14, 15};
        for (int k = 4; k < 10; k++)
            CHECKF(rows[k][0] == rest[k - 4] && rows[k][1] == 1,
                   "max_skip %d row %d: got [%d, %d]", max_skip[t], k, rows[k][0], rows[k][1]);
    }
}

static void check_derive_cell(void)
{
    float alphas[20 * ADL_NUM_OPS];
    hand_alphas(alphas);
    int rows[10][2];
    adl_derive_cell(alphas, 5, true, -1, rows);
    const int want[10][2] = {{1, 7}, {0, 0}, {3, 1}, {2, 0}, {8, 3},
                             {6, 2}, {9, 4}, {13, 6}, {19, 0}, {15, 5}};
    for (int k = 0; k < 10; k++)
        CHECKF(rows[k][0] == want[k][0] && rows[k][1] == want[k][1],
               "row %d: got [%d, %d], want [%d, %d]", k, rows[k][0], rows[k][1], want[k][0],
               want[k][1]);
    /* Without 'none' the same edges are kept; their ops become the strongest
     * real ones: edge 0 sep_conv_3x3, edge 2 (all equal) max_pool_3x3, edge
     * 19 dil_conv_5x5 (tied with 'none'). */
    adl_derive_cell(alphas, 5, false, -1, rows);
    const int real[10][2] = {{1, 7}, {0, 4}, {3, 1}, {2, 1}, {8, 3},
                             {6, 2}, {9, 4}, {13, 6}, {19, 7}, {15, 5}};
    for (int k = 0; k < 10; k++)
        CHECKF(rows[k][0] == real[k][0] && rows[k][1] == real[k][1],
               "no-none row %d: got [%d, %d], want [%d, %d]", k, rows[k][0], rows[k][1],
               real[k][0], real[k][1]);
}

/* ---- decode ---- */

static void check_decode(void)
{
    Arena a;
    arena_init(&a);
    Diag d;
    diag_init(&d);
    AdlSearchConfig cfg;
    adl_search_defaults(&cfg);
    cfg.layers = 6;
    float alphas[20 * ADL_NUM_OPS], betas[6 * 12];
    hand_alphas(alphas);
    for (int i = 0; i < 6 * 12; i++) /* down, then stay at level 3: 1 2 3 3 3 3 */
        betas[i] = i % 3 == 2 || (i / 3 % 4 == 3 && i % 3 == 1) ? 4.0f : 0.0f;
    AdlArch arch;
    CHECK(adl_decode(&cfg, alphas, betas, NULL, &a, &arch, &d));
    diag_print(&d, stderr);
    CHECK(arch.nlayers == 6 && arch.path[0] == 1 && arch.path[2] == 3 && arch.path[5] == 3);
    CHECK(arch.nrows == 10 && arch.rows[0].edge == 1);
    CHECK_STR(arch.rows[0].op, "dil_conv_5x5");
    CHECK_STR(arch.rows[1].op, "sep_conv_3x3"); /* 'none' is never decoded */
    CHECK(arch.F == cfg.filter_multiplier && arch.classes == 11 && arch.in_h == 64);
    Graph *g = fe_lower_autodeeplab(&a, &arch, &d);
    CHECK(g && ir_verify(g, &d));
    if (g) {
        const Shape *s = &g->vals[g->outputs[0]].shape;
        CHECK(s->d[1] == 11 && s->d[2] == 64 && s->d[3] == 64);
    }
    char *json = fe_adl_to_json(&a, &arch);
    AdlArch back;
    fe_adl_defaults(&back);
    CHECK(json && fe_adl_parse_json(&a, "decoded.json", json, strlen(json), &back, &d));
    CHECK(back.nlayers == 6 && memcmp(back.path, arch.path, 6 * sizeof(int)) == 0);
    for (int k = 0; k < 10; k++)
        CHECK(back.rows[k].edge == arch.rows[k].edge && !strcmp(back.rows[k].op, arch.rows[k].op));
    CHECK(d.nerr == 0);

    /* refusals: a 4-step search, a diverged one */
    Diag e;
    diag_init(&e);
    cfg.steps = 4;
    CHECK(!adl_decode(&cfg, alphas, betas, NULL, &a, &arch, &e) && e.nerr == 1);
    cfg.steps = 5;
    alphas[17] = NAN;
    CHECK(!adl_decode(&cfg, alphas, betas, NULL, &a, &arch, &e) && e.nerr == 2);
    CHECK(strstr(check_diag_text(&a, &e), "alphas are not finite") != NULL);
    diag_free(&e);
    diag_free(&d);
    arena_free_all(&a);
}

/* ---- supernet ---- */

/* Trainable parameters from the reference's module formulas. */
static int64_t expected_params(const AdlSearchConfig *c)
{
    int64_t F = c->filter_multiplier, B = c->block_multiplier, K = c->classes;
    int64_t half = F / 2 * B, fb = F * B;
    int64_t n = c->in_ch * half * 9 + 3 * half; /* stem0: conv + bias, BN gamma/beta */
    n += half * half * 9 + 3 * half;
    n += half * fb * 9 + 3 * fb;
    int64_t edges = adl_search_edges(c->steps);
    for (int layer = 0; layer < c->layers; layer++) {
        for (int lvl = 0; lvl <= layer + 1 && lvl < 4; lvl++) {
            int64_t C = F << lvl;
            bool pp = layer >= lvl + 1;
            if (pp && B != 1)
                n += B * C * C; /* pre_preprocess on B*C channels */
            if (lvl >= 1)
                n += (lvl == 1 && layer == 0 ? fb : B * (C / 2)) * C; /* preprocess_down */
            if (layer >= lvl)
                n += (layer == 0 ? fb : B * C) * C; /* preprocess_same */
            if (lvl <= 2 && layer >= lvl + 1)
                n += B * 2 * C * C; /* preprocess_up */
            int64_t mixed = edges - (pp ? 0 : c->steps);
            n += mixed * (102 * C + 6 * C * C); /* sep3, sep5, dil3, dil5 */
        }
    }
    for (int lvl = 0; lvl < 4; lvl++) {
        int64_t cc = B * (F << lvl);
        n += 5 * cc * cc + 9 * cc * cc + cc * K + 4 * 2 * cc;
    }
    n += edges * 8; /* alphas */
    for (int layer = 0; layer < c->layers; layer++)
        for (int src = 0; src <= layer && src < 4; src++)
            n += src == 0 || src == 3 ? 2 : 3;
    return n;
}

static void check_supernet(void)
{
    Arena a;
    arena_init(&a);
    Diag d;
    diag_init(&d);
    AdlSearchConfig cfg;
    adl_search_defaults(&cfg);
    cfg.layers = 5;
    cfg.batch = 2; /* 64x64: the smallest input whose level sizes round-trip */
    SuperNet net, net2, net3;
    AdlSearchVars v, v2, v3;
    CHECK(adl_supernet_build(&a, &cfg, 7, &net, &v, &d));
    diag_print(&d, stderr);
    if (!net.g) {
        arena_free_all(&a);
        return;
    }
    const Shape *out = &net.g->vals[net.g->outputs[0]].shape;
    CHECK(out->d[0] == 2 && out->d[1] == 11 && out->d[2] == 64 && out->d[3] == 64);
    CHECK(net.narch == 1 + (1 + 2 + 3 + 4 + 4)); /* alphas, betas per (layer, src) */
    CHECK(net.arch[0] == v.alphas && net.g->vals[v.alphas].shape.d[0] == 20);
    int64_t got = ir_graph_param_count(net.g, NULL), want = expected_params(&cfg);
    CHECKF(got == want, "params %lld, formula %lld", (long long)got, (long long)want);

    /* determinism: same seed, same IR and data; another seed, other data */
    CHECK(adl_supernet_build(&a, &cfg, 7, &net2, &v2, &d));
    CHECK(adl_supernet_build(&a, &cfg, 8, &net3, &v3, &d));
    CHECK(strcmp(ir_print_str(net.g, &a), ir_print_str(net2.g, &a)) == 0);
    bool same = true, differs = false;
    for (uint32_t i = 1; i < net.g->nval; i++) {
        const Value *x = &net.g->vals[i], *y = &net2.g->vals[i], *z = &net3.g->vals[i];
        if (!x->data)
            continue;
        size_t n = (size_t)shape_numel(&x->shape) * sizeof(float);
        same = same && memcmp(x->data, y->data, n) == 0;
        differs = differs || memcmp(x->data, z->data, n) != 0;
    }
    CHECK(same && differs);
    CHECK(fabsf(net.g->vals[v.alphas].data[0]) < 0.01f); /* 1e-3 * N(0, 1) */

    /* the graph's beta weights are adl_normalise_betas of its betas */
    Value *b0 = &net.g->vals[v.betas[4 * 4 + 1]];
    b0->data[0] = 1.5f, b0->data[2] = -2.0f;
    net.g->vals[v.betas[0]].data[1] = 0.7f;
    net.g->vals[v.betas[3 * 4 + 3]].data[0] = -0.4f;
    Tape *t = rt_tape_new(net.g, NULL, &d);
    CHECK(t != NULL);
    float *x = calloc((size_t)shape_numel(&net.g->vals[net.g->inputs[0]].shape), sizeof *x);
    for (int i = 0; i < 2 * 3 * 64 * 64; i++)
        x[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;
    if (t && rt_tape_forward(t, x, RT_TRAIN, &d)) {
        float alphas[20 * 8], betas[5 * 12], space[5 * 12];
        adl_read_arch(net.g, &v, alphas, betas);
        adl_normalise_betas(5, betas, space);
        int checked = 0;
        for (int i = 0; i < 5 * 4; i++) {
            if (!v.beta_weights[i])
                continue;
            int lo, hi;
            adl_beta_dirs(i % 4, &lo, &hi);
            const float *w = rt_tape_value(t, v.beta_weights[i]);
            for (int k = lo; k < hi; k++, checked++)
                CHECKF(fabsf(w[k - lo] - space[i * 3 + k]) < 1e-6f, "beta %d.%d dir %d: "
                       "graph %g, decoder %g", i / 4, i % 4, k, w[k - lo], space[i * 3 + k]);
        }
        CHECK(checked == 2 + 5 + 8 + 10 + 10);
        const float *y = rt_tape_output(t);
        bool finite = true;
        for (int64_t i = 0; i < shape_numel(out); i++)
            finite = finite && isfinite(y[i]);
        CHECK(finite);
    }
    diag_print(&d, stderr);
    rt_tape_free(t);
    free(x);

    /* refusals: too few layers; a size whose levels do not round-trip */
    Diag e;
    diag_init(&e);
    cfg.layers = 2;
    CHECK(!adl_supernet_build(&a, &cfg, 7, &net2, &v2, &e) && e.nerr == 1);
    cfg.layers = 4;
    cfg.h = 50;
    CHECK(!adl_supernet_build(&a, &cfg, 7, &net2, &v2, &e) && e.nerr == 2);
    CHECK(strstr(check_diag_text(&a, &e), "upsampling level 2 (4) gives 8, not 7") != NULL);
    diag_free(&e);
    diag_free(&d);
    arena_free_all(&a);
}

/* --head-weights: one more arch param; with all head weights equal (the
 * softmax of zeros, exactly 1/4) the output is exactly a quarter of the
 * unweighted supernet's (same seed, so same weights by name). */
static void check_supernet_heads(void)
{
    Arena a;
    arena_init(&a);
    Diag d;
    diag_init(&d);
    AdlSearchConfig cfg;
    adl_search_defaults(&cfg);
    cfg.layers = 4;
    cfg.batch = 2; /* train-mode BN of the 1x1 pooled ASPP branch needs 2 */
    SuperNet plain, weighted;
    AdlSearchVars vp, vw;
    CHECK(adl_supernet_build(&a, &cfg, 3, &plain, &vp, &d));
    cfg.head_weights = true;
    CHECK(adl_supernet_build(&a, &cfg, 3, &weighted, &vw, &d));
    diag_print(&d, stderr);
    if (!plain.g || !weighted.g) {
        arena_free_all(&a);
        return;
    }
    CHECK(vp.heads == 0 && vw.heads != 0);
    CHECK(weighted.narch == plain.narch + 1 && weighted.arch[weighted.narch - 1] == vw.heads);
    CHECK(ir_graph_param_count(weighted.g, NULL) == ir_graph_param_count(plain.g, NULL) + 4);
    float heads[4];
    CHECK(!adl_read_heads(plain.g, &vp, heads));
    memset(weighted.g->vals[vw.heads].data, 0, 4 * sizeof(float));
    CHECK(adl_read_heads(weighted.g, &vw, heads) && heads[0] == 0.25f && heads[3] == 0.25f);
    int64_t n = 2 * 3 * 64 * 64, ny = 2 * 11 * 64 * 64;
    float *x = calloc((size_t)n, sizeof *x);
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)((i * 53) % 97) / 48.0f - 1.0f;
    Tape *tp = rt_tape_new(plain.g, NULL, &d), *tw = rt_tape_new(weighted.g, NULL, &d);
    if (tp && tw && rt_tape_forward(tp, x, RT_TRAIN, &d) && rt_tape_forward(tw, x, RT_TRAIN, &d)) {
        const float *yp = rt_tape_output(tp), *yw = rt_tape_output(tw);
        int64_t bad = 0;
        float top = 0;
        for (int64_t i = 0; i < ny; i++) {
            bad += yw[i] != 0.25f * yp[i];
            top = fabsf(yp[i]) > top ? fabsf(yp[i]) : top;
        }
        CHECKF(bad == 0, "%lld of %lld outputs are not exactly a quarter", (long long)bad,
               (long long)ny);
        CHECK(top > 0);
    } else {
        CHECK(!"tapes of the two supernets");
    }
    diag_print(&d, stderr);
    rt_tape_free(tp), rt_tape_free(tw);
    free(x);
    diag_free(&d);
    arena_free_all(&a);
}

int main(void)
{
    check_viterbi_brute_force();
    check_supernet_heads();
    check_viterbi_ties();
    check_viterbi_boundaries();
    check_derive_cell();
    check_max_skip();
    check_decode();
    check_supernet();
    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    return failures ? 1 : 0;
}
