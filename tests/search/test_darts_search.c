/* test_darts_search.c — the DARTS search space (search/darts_search.c).
 *
 * Derivation: hand-made alphas whose genotypes were worked out by hand
 * from model_search.py's genotype() rule (softmax first, top-2 inputs by
 * strongest non-'none' weight, ties to the lower index, 'none' never
 * chosen). Supernet: it verifies, its trainable-parameter and buffer counts
 * equal the reference's, computed here from the module formulas of
 * operations.py / model_search.py (not from the graph), its state_dict
 * names are the reference's, and it is deterministic in the seed. The
 * numerics are checked against PyTorch by darts_search_torch.py.
 */
#include "search/darts_search.h"

#include "../check.h"

#include <math.h>

/* ---- derivation ---- */

static void set_row(float *alphas, int row, const float v[DARTS_NUM_OPS])
{
    memcpy(alphas + row * DARTS_NUM_OPS, v, DARTS_NUM_OPS * sizeof *v);
}

/* Normal cell (softmax weights in the comments):
 * node 2: edge 1 sep_conv_3x3 0.74 beats edge 0, whose 'none' is strongest
 *         and whose best real op is max_pool 0.017 (both inputs are kept);
 * node 3: inputs 0 and 2 have identical rows (0.356) and tie: lower input
 *         first; inside the row avg_pool and skip tie: avg_pool;
 * node 4: input 3 has 'none' 3.0 > dil_conv_5x5 2.9 but dil_conv_5x5's
 *         0.41 still beats input 1's dil_conv_3x3 0.39;
 * node 5: all zero: every input ties (0, 1), every op ties (max_pool). */
static void normal_alphas(float *a)
{
    memset(a, 0, 14 * DARTS_NUM_OPS * sizeof *a);
    set_row(a, 0, (const float[]){5, 1, 0, 0, 0, 0, 0, 0});
    set_row(a, 1, (const float[]){0, 0, 0, 0, 3, 0, 0, 0});
    set_row(a, 2, (const float[]){0, 0, 2, 2, 0, 0, 0, 0});
    set_row(a, 3, (const float[]){0, 1, 0, 0, 0, 0, 0, 0});
    set_row(a, 4, (const float[]){0, 0, 2, 2, 0, 0, 0, 0});
    set_row(a, 6, (const float[]){0, 0, 0, 0, 0, 0, 1.5f, 0});
    set_row(a, 7, (const float[]){0, 0, 0, 0, 0, 1, 0, 0});
    set_row(a, 8, (const float[]){3, 0, 0, 0, 0, 0, 0, 2.9f});
}

/* Reduction cell:
 * node 2: skip_connect 0.28 (input 0) before sep_conv_5x5 0.19 (input 1);
 * node 3: softmax, not raw alphas, ranks: input 1's two 2.5s (raw max
 *         2.5, weight 0.40; max_pool wins the op tie) lose to input 0's
 *         single 2.0 (0.51) and input 2's 1.9 (0.49);
 * node 4: input 3 skip 0.7 first, input 0 avg_pool 0.6 second;
 * node 5: inputs 1 and 4 identical: 1 first. */
static void reduce_alphas(float *a)
{
    memset(a, 0, 14 * DARTS_NUM_OPS * sizeof *a);
    set_row(a, 0, (const float[]){0, 0, 0, 1, 0, 0, 0, 0});
    set_row(a, 1, (const float[]){0, 0, 0, 0, 0, 0.5f, 0, 0});
    set_row(a, 2, (const float[]){0, 0, 0, 0, 2, 0, 0, 0});
    set_row(a, 3, (const float[]){0, 2.5f, 2.5f, 0, 0, 0, 0, 0});
    set_row(a, 4, (const float[]){0, 0, 0, 0, 0, 0, 1.9f, 0});
    set_row(a, 5, (const float[]){0, 0, 0.6f, 0, 0, 0, 0, 0});
    set_row(a, 8, (const float[]){0, 0, 0, 0.7f, 0, 0, 0, 0});
    set_row(a, 10, (const float[]){0, 0, 0, 0, 0, 1, 0, 0});
    set_row(a, 13, (const float[]){0, 0, 0, 0, 0, 1, 0, 0});
}

static void test_derive(void)
{
    Arena a;
    arena_init(&a);
    Diag d;
    diag_init(&d);
    float an[14 * DARTS_NUM_OPS], ar[14 * DARTS_NUM_OPS];
    normal_alphas(an);
    reduce_alphas(ar);
    Genotype g;
    CHECK(darts_derive(an, ar, 4, 4, &a, &g, &d));
    CHECK_STR(fe_genotype_to_literal(&a, &g),
              "Genotype(normal=[('sep_conv_3x3', 1), ('max_pool_3x3', 0), "
              "('avg_pool_3x3', 0), ('avg_pool_3x3', 2), ('dil_conv_5x5', 3), "
              "('dil_conv_3x3', 1), ('max_pool_3x3', 0), ('max_pool_3x3', 1)], "
              "normal_concat=[2, 3, 4, 5], reduce=[('skip_connect', 0), ('sep_conv_5x5', 1), "
              "('sep_conv_3x3', 0), ('dil_conv_3x3', 2), ('skip_connect', 3), "
              "('avg_pool_3x3', 0), ('sep_conv_5x5', 1), ('sep_conv_5x5', 4)], "
              "reduce_concat=[2, 3, 4, 5])\n");
    CHECK(fe_genotype_check(&g, &d));

    /* The JSON form reads back to the same genotype. */
    char *json = fe_genotype_to_json(&a, &g);
    Genotype back;
    CHECK(fe_parse_genotype_json(&a, "derived.json", json, strlen(json), &back, &d));
    CHECK_STR(fe_genotype_to_literal(&a, &back), fe_genotype_to_literal(&a, &g));

    /* multiplier 2 keeps the last two nodes; steps 2 has 5 edges: node 2
     * reads rows 0-1, node 3 rows 2-4 (the same rows as above). */
    CHECK(darts_derive(an, ar, 2, 2, &a, &g, &d));
    CHECK_STR(fe_genotype_to_literal(&a, &g),
              "Genotype(normal=[('sep_conv_3x3', 1), ('max_pool_3x3', 0), "
              "('avg_pool_3x3', 0), ('avg_pool_3x3', 2)], normal_concat=[2, 3], "
              "reduce=[('skip_connect', 0), ('sep_conv_5x5', 1), ('sep_conv_3x3', 0), "
              "('dil_conv_3x3', 2)], reduce_concat=[2, 3])\n");
    CHECK(darts_derive(an, ar, 4, 2, &a, &g, &d));
    CHECK(g.normal.nconcat == 2 && g.normal.concat[0] == 4 && g.normal.concat[1] == 5);
    CHECK(d.nerr == 0);

    /* A diverged search is an error naming the element, not a genotype. */
    ar[3 * DARTS_NUM_OPS + 2] = NAN;
    CHECK(!darts_derive(an, ar, 4, 4, &a, &g, &d));
    CHECK(d.nerr == 1 && strstr(d.msg[0], "alphas_reduce[3][2] is not finite"));
    CHECK(!darts_derive(an, an, 4, 5, &a, &g, &d));
    CHECK(!darts_derive(an, an, 0, 0, &a, &g, &d));
    CHECK(d.nerr == 3);
    diag_free(&d);
    arena_free_all(&a);
}

/* ---- supernet ---- */

typedef struct Counts {
    int64_t params;  /* trainable weights, alphas excluded (torch: parameters()) */
    int64_t buffers; /* BN running mean + var */
} Counts;

/* OPS[prim](C, stride, False) inside a MixedOp, from operations.py. */
static void count_candidate(int prim, int64_t c, int stride, Counts *n)
{
    static const int kernel[DARTS_NUM_OPS] = {0, 3, 3, 0, 3, 5, 3, 5};
    if (prim == 1 || prim == 2) { /* pool, then BatchNorm2d(C, affine=False) */
        n->buffers += 2 * c;
    } else if (prim == 3 && stride == 2) { /* FactorizedReduce(C, C) */
        n->params += 2 * c * (c / 2);
        n->buffers += 2 * c;
    } else if (prim == 4 || prim == 5) { /* SepConv: 2 x (dw k*k, pw 1x1, BN) */
        n->params += 2 * (c * kernel[prim] * kernel[prim] + c * c);
        n->buffers += 4 * c;
    } else if (prim == 6 || prim == 7) { /* DilConv: dw k*k, pw 1x1, BN */
        n->params += c * kernel[prim] * kernel[prim] + c * c;
        n->buffers += 2 * c;
    }
}

static Counts reference_counts(const DartsSearchConfig *cfg)
{
    Counts n = {0, 0};
    int64_t c = (int64_t)cfg->stem_multiplier * cfg->C;
    n.params += c * cfg->in_ch * 9 + 2 * c; /* stem conv, affine BN */
    n.buffers += 2 * c;
    int64_t c_pp = c, c_p = c, c_curr = cfg->C;
    bool reduction_prev = false;
    for (int i = 0; i < cfg->layers; i++) {
        bool reduction = i == cfg->layers / 3 || i == 2 * cfg->layers / 3;
        if (reduction)
            c_curr *= 2;
        n.params += reduction_prev ? 2 * c_pp * (c_curr / 2) : c_pp * c_curr;
        n.params += c_p * c_curr;
        n.buffers += 4 * c_curr;
        for (int node = 0; node < cfg->steps; node++)
            for (int j = 0; j < 2 + node; j++)
                for (int k = 0; k < DARTS_NUM_OPS; k++)
                    count_candidate(k, c_curr, reduction && j < 2 ? 2 : 1, &n);
        reduction_prev = reduction;
        c_pp = c_p;
        c_p = (int64_t)cfg->multiplier * c_curr;
    }
    n.params += c_p * cfg->classes + cfg->classes;
    return n;
}

static void check_counts(const DartsSearchConfig *cfg)
{
    Arena a;
    arena_init(&a);
    Diag d;
    diag_init(&d);
    SuperNet net;
    CHECK(darts_supernet_build(&a, cfg, 1, &net, &d));
    if (!net.g) {
        diag_print(&d, stderr);
        return;
    }
    CHECK(ir_verify(net.g, &d));
    int64_t buffers = 0, total = ir_graph_param_count(net.g, &buffers);
    int64_t alphas = 2 * (int64_t)darts_search_edges(cfg->steps) * DARTS_NUM_OPS;
    Counts want = reference_counts(cfg);
    CHECKF(total - alphas == want.params, "C=%d layers=%d: %lld weights, reference %lld",
           cfg->C, cfg->layers, (long long)(total - alphas), (long long)want.params);
    CHECK(buffers == want.buffers);
    int64_t macs = 0;
    for (uint32_t i = 1; i < net.g->nnode; i++)
        macs += ir_node_macs(net.g, &net.g->nodes[i]);
    printf("darts supernet C=%d layers=%d %dx%d: %lld weights + %lld alphas, %lld BN buffers, "
           "%.1f M MACs per image, %u nodes\n", cfg->C, cfg->layers, cfg->h, cfg->w,
           (long long)(total - alphas), (long long)alphas, (long long)buffers,
           (double)macs / cfg->batch / 1e6, net.g->nnode - 1);
    diag_free(&d);
    arena_free_all(&a);
}

static const Value *find_value(const Graph *g, const char *name)
{
    for (uint32_t v = 1; v < g->nval; v++)
        if (g->vals[v].name && strcmp(g->vals[v].name, name) == 0)
            return &g->vals[v];
    return NULL;
}

static void small_config(DartsSearchConfig *cfg)
{
    darts_search_defaults(cfg);
    cfg->C = 4;
    cfg->layers = 5;
    cfg->h = cfg->w = 16;
    cfg->batch = 2;
}

/* state_dict names, shapes and the architecture params of a 5-cell net:
 * reductions at cells 1 and 3, FactorizedReduce preprocess0 in 2 and 4. */
static void test_names(void)
{
    Arena a;
    arena_init(&a);
    Diag d;
    diag_init(&d);
    DartsSearchConfig cfg;
    small_config(&cfg);
    SuperNet net;
    CHECK(darts_supernet_build(&a, &cfg, 7, &net, &d));
    const Graph *g = net.g;
    if (!g) {
        diag_print(&d, stderr);
        return;
    }
    static const char *const present[] = {
        "stem.0.weight", "stem.1.weight", "stem.1.bias", "stem.1.running_var",
        "cells.0.preprocess0.op.1.weight", "cells.0.preprocess1.op.2.running_mean",
        "cells.0._ops.0._ops.1.1.running_mean", "cells.0._ops.13._ops.2.1.running_var",
        "cells.0._ops.13._ops.4.op.7.running_var", "cells.0._ops.5._ops.6.op.3.running_mean",
        "cells.1._ops.0._ops.3.conv_1.weight", "cells.1._ops.3._ops.3.bn.running_var",
        "cells.2.preprocess0.conv_2.weight", "cells.4.preprocess0.bn.running_mean",
        "classifier.weight", "classifier.bias", "alphas_normal", "alphas_reduce",
    };
    for (size_t i = 0; i < sizeof present / sizeof present[0]; i++)
        CHECKF(find_value(g, present[i]) != NULL, "no value named %s", present[i]);
    static const char *const absent[] = {
        "cells.0._ops.0._ops.3.conv_1.weight", /* stride-1 skip is Identity */
        "cells.1._ops.4._ops.3.conv_1.weight", /* edge 4 reads node 2: stride 1 */
        "cells.0.preprocess0.op.2.weight",     /* affine=False */
        "cells.1.preprocess0.conv_1.weight",   /* cell 0 is no reduction */
    };
    for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++)
        CHECKF(find_value(g, absent[i]) == NULL, "unexpected value %s", absent[i]);
    const Value *w = find_value(g, "cells.3._ops.0._ops.5.op.1.weight");
    CHECK(w && w->shape.rank == 4 && w->shape.d[0] == 16 && w->shape.d[1] == 1 &&
          w->shape.d[2] == 5);
    CHECK(net.narch == 2 && strcmp(g->vals[net.arch[0]].name, "alphas_normal") == 0 &&
          strcmp(g->vals[net.arch[1]].name, "alphas_reduce") == 0);
    const Value *al = &g->vals[net.arch[1]];
    CHECK(al->shape.rank == 2 && al->shape.d[0] == 14 && al->shape.d[1] == 8);
    /* 1e-3 * N(0,1): small, not all equal. */
    float amax = 0;
    for (int i = 0; i < 112; i++)
        amax = fmaxf(amax, fabsf(al->data[i]));
    CHECK(amax > 5e-4f && amax < 6e-3f);
    const Value *y = &g->vals[g->outputs[0]];
    CHECK(y->shape.rank == 2 && y->shape.d[0] == 2 && y->shape.d[1] == 10);

    /* Mixed ops: every (edge, op != none) weight is read once per cell of
     * its kind (3 normal, 2 reduction cells); 'none' never (exact zero). */
    int uses[2][14 * DARTS_NUM_OPS] = {{0}};
    for (uint32_t i = 1; i < g->nnode; i++) {
        const Node *n = &g->nodes[i];
        CHECK(n->op != OP_ZERO);
        if (n->op != OP_SCALE)
            continue;
        const Node *sm = &g->nodes[g->vals[n->in[1]].producer];
        int kind = sm->op == OP_SOFTMAX && sm->in[0] == net.arch[1];
        CHECK(sm->op == OP_SOFTMAX && (sm->in[0] == net.arch[0] || kind));
        uses[kind][n->attrs.index.index]++;
    }
    for (int i = 0; i < 14 * DARTS_NUM_OPS; i++) {
        bool none = i % DARTS_NUM_OPS == 0;
        CHECKF(uses[0][i] == (none ? 0 : 3) && uses[1][i] == (none ? 0 : 2),
               "weight %d: read %d times (normal), %d (reduce)", i, uses[0][i], uses[1][i]);
    }
    diag_free(&d);
    arena_free_all(&a);
}

static void test_deterministic(void)
{
    Arena a;
    arena_init(&a);
    Diag d;
    diag_init(&d);
    DartsSearchConfig cfg;
    small_config(&cfg);
    cfg.layers = 3;
    SuperNet n1, n2, n3;
    CHECK(darts_supernet_build(&a, &cfg, 42, &n1, &d));
    CHECK(darts_supernet_build(&a, &cfg, 42, &n2, &d));
    CHECK(darts_supernet_build(&a, &cfg, 43, &n3, &d));
    if (!n1.g || !n2.g || !n3.g)
        return;
    CHECK_STR(ir_print_str(n1.g, &a), ir_print_str(n2.g, &a));
    CHECK(n1.g->nval == n2.g->nval && n1.g->nval == n3.g->nval);
    int same = 0, differ = 0, bound = 0;
    for (uint32_t v = 1; v < n1.g->nval && v < n3.g->nval; v++) {
        const Value *x = &n1.g->vals[v], *y2 = &n2.g->vals[v], *z = &n3.g->vals[v];
        if (!x->data)
            continue;
        bound++;
        size_t bytes = (size_t)shape_numel(&x->shape) * sizeof(float);
        same += y2->data && memcmp(x->data, y2->data, bytes) == 0;
        differ += z->data && memcmp(x->data, z->data, bytes) != 0;
    }
    CHECK(bound > 0 && same == bound);
    /* Every weight and both alphas move with the seed (BN stats do not). */
    CHECKF(differ > bound / 3, "%d of %d params differ across seeds", differ, bound);
    CHECK(memcmp(n1.g->vals[n1.arch[0]].data, n3.g->vals[n3.arch[0]].data, 112 * 4) != 0);
    diag_free(&d);
    arena_free_all(&a);
}

static void test_bad_config(void)
{
    Arena a;
    arena_init(&a);
    Diag d;
    diag_init(&d);
    DartsSearchConfig cfg;
    SuperNet net;
    small_config(&cfg);
    cfg.C = 5;
    CHECK(!darts_supernet_build(&a, &cfg, 1, &net, &d) && net.g == NULL);
    small_config(&cfg);
    cfg.h = 18; /* two reductions: 18 -> 9 -> FactorizedReduce of an odd map */
    CHECK(!darts_supernet_build(&a, &cfg, 1, &net, &d));
    CHECK(d.nerr == 2 && strstr(d.msg[1], "divisible by 4"));
    diag_free(&d);
    arena_free_all(&a);
}

int main(void)
{
    test_derive();
    test_names();
    test_deterministic();
    test_bad_config();
    DartsSearchConfig cfg;
    small_config(&cfg);
    check_counts(&cfg);
    cfg.layers = 3;
    cfg.steps = 3;
    cfg.multiplier = 2;
    check_counts(&cfg);
    darts_search_defaults(&cfg);
    cfg.batch = 1;
    check_counts(&cfg);
    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    return failures != 0;
}
