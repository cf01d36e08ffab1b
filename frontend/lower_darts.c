/* lower_darts.c — a DARTS genotype and macro config into an IR graph.
 *
 * Mirrors quark0/darts cnn/model.py (NetworkCIFAR, NetworkImageNet, Cell)
 * and cnn/operations.py in eval mode, op by op, so that every param value
 * carries exactly the state_dict key the PyTorch model gives it and every
 * cell output carries a trace key ("stem", "cells.3", ...). Nodes built for
 * a genotype edge are located at that edge in the genotype file, so a shape
 * error points at the op that caused it. The operations.py modules are
 * built by lower_common.c, shared with lower_autodeeplab.c.
 */
#include "frontend/lower_internal.h"

#include <ctype.h>
#include <string.h>

/* Cell(genotype, C_prev_prev, C_prev, C, reduction, reduction_prev). */
static ValueId lower_cell(Lower *L, const GenoCell *cell, int idx, ValueId s0, ValueId s1,
                          int64_t c, bool reduction, bool reduction_prev)
{
    Arena *ar = L->g->arena;
    int nstate = 2 + cell->nedge / 2;
    ValueId *states = arena_calloc(ar, (size_t)nstate, sizeof *states);
    L->loc = cell->loc;
    const char *p0 = arena_printf(ar, "cells.%d.preprocess0", idx);
    states[0] = reduction_prev ? fe_lw_factorized_reduce(L, s0, p0, c)
                               : fe_lw_relu_conv_bn(L, s0, p0, c);
    states[1] = fe_lw_relu_conv_bn(L, s1, arena_printf(ar, "cells.%d.preprocess1", idx), c);
    for (int k = 0; k < cell->nedge; k++) {
        const GenoEdge *e = &cell->edges[k];
        int stride = reduction && e->input < 2 ? 2 : 1;
        L->loc = e->loc;
        ValueId h = fe_lw_edge(L, states[e->input], fe_darts_op(e->op), stride,
                               arena_printf(ar, "cells.%d._ops.%d", idx, k));
        if (k % 2 == 0) {
            states[2 + k / 2] = h;
            continue;
        }
        ValueId sum[2] = {states[2 + k / 2], h};
        states[2 + k / 2] = fe_lw_node(L, OP_ADD, sum, 2, NULL);
        if (states[2 + k / 2])
            ir_value_set_name(L->g, states[2 + k / 2],
                              arena_printf(ar, "cells.%d.node%d", idx, 2 + k / 2));
    }
    ValueId *cat = arena_calloc(ar, (size_t)cell->nconcat, sizeof *cat);
    for (int i = 0; i < cell->nconcat; i++)
        cat[i] = states[cell->concat[i]];
    L->loc = cell->loc;
    ValueId out = fe_lw_node(L, OP_CONCAT, cat, (uint32_t)cell->nconcat, NULL);
    if (out)
        ir_value_set_name(L->g, out, arena_printf(ar, "cells.%d", idx));
    return out;
}

/* The stems: s0 and s1 feed cell 0. */
static void lower_stem(Lower *L, const NetConfig *cfg, ValueId x, ValueId *s0, ValueId *s1)
{
    int64_t C = cfg->C;
    if (cfg->kind == NET_CIFAR) {
        ValueId h = fe_lw_conv(L, x, "stem.0", 3 * C, 3, 3, 1, 1, 1, 1, 1, 1);
        *s0 = *s1 = fe_lw_batchnorm(L, h, "stem.1");
    } else {
        ValueId h = fe_lw_conv(L, x, "stem0.0", C / 2, 3, 3, 2, 2, 1, 1, 1, 1);
        h = fe_lw_relu(L, fe_lw_batchnorm(L, h, "stem0.1"));
        h = fe_lw_conv(L, h, "stem0.3", C, 3, 3, 2, 2, 1, 1, 1, 1);
        *s0 = fe_lw_batchnorm(L, h, "stem0.4");
        h = fe_lw_conv(L, fe_lw_relu(L, *s0), "stem1.1", C, 3, 3, 2, 2, 1, 1, 1, 1);
        *s1 = fe_lw_batchnorm(L, h, "stem1.2");
        if (*s1)
            ir_value_set_name(L->g, *s1, "stem1");
    }
    if (*s0)
        ir_value_set_name(L->g, *s0, cfg->kind == NET_CIFAR ? "stem" : "stem0");
}

/* Global pooling and classifier: AdaptiveAvgPool2d(1) for CIFAR,
 * AvgPool2d(7) for ImageNet (which needs a 7..13 pixel final map). */
static ValueId lower_head(Lower *L, const NetConfig *cfg, ValueId s1)
{
    ValueId pooled;
    if (cfg->kind == NET_CIFAR) {
        pooled = fe_lw_node(L, OP_GAVGPOOL, &s1, 1, NULL);
    } else {
        const Shape *s = &L->g->vals[s1].shape;
        if (!L->failed && (s->d[2] < 7 || s->d[2] > 13 || s->d[3] < 7 || s->d[3] > 13)) {
            diag_error(L->d, L->loc, "NetworkImageNet ends with AvgPool2d(7), which needs a "
                       "final feature map of 7x7 to 13x13, but input %dx%d gives %lldx%lld "
                       "(use --input 224x224)", cfg->in_h, cfg->in_w, (long long)s->d[2],
                       (long long)s->d[3]);
            L->failed = true;
            return 0;
        }
        pooled = fe_lw_pool(L, OP_AVGPOOL2D, s1, 7, 7, 0);
    }
    if (pooled)
        ir_value_set_name(L->g, pooled, "global_pooling");
    int64_t wd[2] = {cfg->classes, fe_lw_channels(L, s1)};
    ValueId in[3] = {pooled, fe_lw_param(L, shape_make(2, wd), "classifier.weight"),
                     fe_lw_param(L, shape_make(1, wd), "classifier.bias")};
    ValueId out = fe_lw_node(L, OP_LINEAR, in, 3, NULL);
    if (out)
        ir_value_set_name(L->g, out, "classifier");
    return out;
}

void fe_netconfig_default(NetConfig *c, NetKind k)
{
    memset(c, 0, sizeof *c);
    c->kind = k;
    c->C = k == NET_CIFAR ? 36 : 48;
    c->layers = k == NET_CIFAR ? 20 : 14;
    c->classes = k == NET_CIFAR ? 10 : 1000;
    c->in_h = c->in_w = k == NET_CIFAR ? 32 : 224;
}

static bool config_ok(const NetConfig *cfg, Loc at, Diag *d)
{
    if (cfg->C < 1 || cfg->C > 4096 || cfg->layers < 1 || cfg->layers > 1000 ||
        cfg->classes < 1 || cfg->classes > 1000000 || cfg->in_h < 1 || cfg->in_w < 1 ||
        cfg->in_h > 16384 || cfg->in_w > 16384) {
        diag_error(d, at, "network config out of range: C=%d layers=%d classes=%d input=%dx%d",
                   cfg->C, cfg->layers, cfg->classes, cfg->in_h, cfg->in_w);
        return false;
    }
    if (cfg->C % 2 || (cfg->kind == NET_IMAGENET && cfg->C % 4)) {
        diag_error(d, at, "C=%d must be even (FactorizedReduce halves it)%s", cfg->C,
                   cfg->kind == NET_IMAGENET ? ", and a multiple of 4 for ImageNet" : "");
        return false;
    }
    return true;
}

static const char *graph_name(Arena *a, const Genotype *geno, const NetConfig *cfg)
{
    char *name = arena_printf(a, "%s_%s", geno->name ? geno->name : "genotype",
                              cfg->kind == NET_CIFAR ? "cifar" : "imagenet");
    for (char *p = name; *p; p++)
        *p = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '_';
    return name;
}

Graph *fe_lower_darts(Arena *a, const Genotype *geno, const NetConfig *cfg, Diag *d)
{
    if (!fe_genotype_check(geno, d) || !config_ok(cfg, geno->loc, d))
        return NULL;
    Lower L = {ir_graph_new(a, graph_name(a, geno, cfg)), d, geno->loc, false};
    int64_t batch = cfg->batch > 0 ? cfg->batch : 1, in_ch = cfg->in_ch > 0 ? cfg->in_ch : 3;
    ValueId x = ir_graph_add_input(L.g, shape4(batch, in_ch, cfg->in_h, cfg->in_w), "input");
    ValueId s0, s1;
    int64_t c_curr = cfg->C;
    lower_stem(&L, cfg, x, &s0, &s1);
    bool reduction_prev = cfg->kind == NET_IMAGENET;
    for (int i = 0; i < cfg->layers && !L.failed; i++) {
        bool reduction = i == cfg->layers / 3 || i == 2 * cfg->layers / 3;
        if (reduction)
            c_curr *= 2;
        const GenoCell *cell = reduction ? &geno->reduce : &geno->normal;
        ValueId out = lower_cell(&L, cell, i, s0, s1, c_curr, reduction, reduction_prev);
        reduction_prev = reduction;
        s0 = s1;
        s1 = out;
    }
    L.loc = geno->loc;
    ValueId out = L.failed ? 0 : lower_head(&L, cfg, s1);
    if (!out)
        return NULL;
    ir_graph_add_output(L.g, out);
    return L.g;
}
