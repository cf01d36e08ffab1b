/* fold_bn.c — batchnorm folded into the convolutions that feed it.
 *
 * Eval-mode BN is a per-channel affine map y = x*s + t with
 * s = gamma/sqrt(var+eps), t = beta - mean*s. Applied to a conv's result it
 * can be applied to the conv's weights instead: output channel oc of
 * conv(x, w, b) scaled by s[oc] is conv(x, w*s[oc], (b-mean)*s + beta)
 * (dense, grouped and depthwise alike: w's first axis is the output
 * channel). BN of a concat of convs (FactorizedReduce) folds slice by slice:
 * the conv at channel offset c0 takes s[c0 .. c0+OC).
 *
 * The folded weights are new params with derived data, named
 * "<w name>+bn" and "<prefix>.bias+bn" (for "<prefix>.weight"): they are
 * not checkpoint tensors. The original conv and BN params stay in the
 * graph, unread (dce keeps params; codegen emits only weights that are
 * read). Arithmetic is in double, rounded once to f32.
 *
 * Two phases: every candidate is matched and its data checked first, so a
 * graph without bound weights is reported (once) and left untouched.
 */
#include "passes/internal.h"

#include <math.h>
#include <string.h>

enum { FOLD_MAXCONV = 64 };

typedef struct Match {
    NodeId bn;
    ValueId x;                    /* the BN's operand: a conv or concat result */
    uint32_t nconv;
    NodeId conv[FOLD_MAXCONV];    /* in channel order */
} Match;

/* v is read once (by the BN or concat being matched) and is no graph output. */
static bool private_result(const Graph *g, const uint32_t *uses, ValueId v)
{
    return uses[v] == 1 && !pass_is_output(g, v);
}

/* Operands 1.. of node n (weights, statistics) are all params. */
static bool params_only(const Graph *g, NodeId n)
{
    const Node *node = &g->nodes[n];
    for (uint32_t i = 1; i < node->nin; i++)
        if (pass_producer_op(g, node->in[i]) != OP_PARAM)
            return false;
    return true;
}

/* A conv read only by the BN or by the concat being matched. A fused
 * addend or act sits between the conv and the BN: folding would scale it
 * too (a fused pre acts on the input and is fine). */
static bool foldable_conv(const Graph *g, const uint32_t *uses, ValueId c)
{
    if (pass_producer_op(g, c) != OP_CONV2D)
        return false;
    const Conv2dAttrs *a = &g->nodes[g->vals[c].producer].attrs.conv;
    return !a->addend && a->act == ACT_NONE && private_result(g, uses, c) &&
           params_only(g, g->vals[c].producer);
}

static bool match_bn(const Graph *g, const uint32_t *uses, NodeId bn, Match *m)
{
    m->bn = bn;
    m->x = g->nodes[bn].in[0];
    m->nconv = 0;
    if (!params_only(g, bn) || !private_result(g, uses, m->x))
        return false;
    if (foldable_conv(g, uses, m->x)) {
        m->conv[m->nconv++] = g->vals[m->x].producer;
        return true;
    }
    const Node *p = &g->nodes[g->vals[m->x].producer];
    if (pass_producer_op(g, m->x) != OP_CONCAT || p->nin > FOLD_MAXCONV)
        return false;
    for (uint32_t i = 0; i < p->nin; i++) {
        if (!foldable_conv(g, uses, p->in[i]))
            return false;
        m->conv[m->nconv++] = g->vals[p->in[i]].producer;
    }
    return true;
}

static bool check_data(const Graph *g, const Node *user, ValueId v, Diag *d)
{
    if (g->vals[v].data)
        return true;
    diag_error(d, user->loc,
               "fold-bn: param '%s' of this %s has no data; bind weights (nasc-opt: --seed N) "
               "before folding",
               g->vals[v].name ? g->vals[v].name : "?", op_info[user->op].name);
    return false;
}

static bool match_has_data(const Graph *g, const Match *m, Diag *d)
{
    const Node *bn = &g->nodes[m->bn];
    for (uint32_t i = 1; i < bn->nin; i++)
        if (!check_data(g, bn, bn->in[i], d))
            return false;
    for (uint32_t k = 0; k < m->nconv; k++) {
        const Node *c = &g->nodes[m->conv[k]];
        for (uint32_t i = 1; i < c->nin; i++)
            if (!check_data(g, c, c->in[i], d))
                return false;
    }
    return true;
}

static void derived_names(Graph *g, const char *w, const char **wn, const char **bn)
{
    size_t len = strlen(w), sfx = strlen(".weight");
    *wn = pass_unique_param_name(g, arena_printf(g->arena, "%s+bn", w));
    if (len >= sfx && strcmp(w + len - sfx, ".weight") == 0)
        *bn = arena_printf(g->arena, "%.*s.bias+bn", (int)(len - sfx), w);
    else
        *bn = arena_printf(g->arena, "%s+bn.bias", w);
    *bn = pass_unique_param_name(g, *bn);
}

/* Rewrites conv node c (its output channels are BN channels c0..) to read
 * new folded params. */
static void fold_conv(Graph *g, NodeId c, const Node *bn, int64_t c0)
{
    const Value *wv = &g->vals[g->nodes[c].in[1]];
    const float *w = wv->data;
    const float *b = g->nodes[c].nin > 2 ? g->vals[g->nodes[c].in[2]].data : NULL;
    const float *mean = g->vals[bn->in[1]].data, *var = g->vals[bn->in[2]].data;
    const float *gamma = bn->nin > 3 ? g->vals[bn->in[3]].data : NULL;
    const float *beta = bn->nin > 4 ? g->vals[bn->in[4]].data : NULL;
    int64_t oc = wv->shape.d[0], k = shape_numel(&wv->shape) / oc;
    Shape ws = wv->shape, bs = shape_make(1, &oc);
    Loc loc = g->nodes[c].loc;
    const char *wname, *bname;
    derived_names(g, wv->name ? wv->name : "conv", &wname, &bname);

    float *nw = arena_calloc(g->arena, (size_t)(oc * k), sizeof *nw);
    float *nb = arena_calloc(g->arena, (size_t)oc, sizeof *nb);
    for (int64_t o = 0; o < oc; o++) {
        int64_t ch = c0 + o;
        double s = (gamma ? gamma[ch] : 1.0) / sqrt((double)var[ch] + (double)bn->attrs.bn.eps);
        for (int64_t i = 0; i < k; i++)
            nw[o * k + i] = (float)(w[o * k + i] * s);
        nb[o] = (float)(((b ? b[o] : 0.0) - mean[ch]) * s + (beta ? beta[ch] : 0.0));
    }
    ValueId wid = ir_graph_add_param(g, ws, wname, loc); /* may move g->nodes */
    ValueId bid = ir_graph_add_param(g, bs, bname, loc);
    g->vals[wid].data = nw;
    g->vals[bid].data = nb;
    Node *node = &g->nodes[c];
    ValueId *in = arena_calloc(g->arena, 3, sizeof *in);
    in[0] = node->in[0], in[1] = wid, in[2] = bid;
    node->in = in;
    node->nin = 3;
}

static void fold_match(Graph *g, const Match *m)
{
    Node bn = g->nodes[m->bn]; /* a copy: adding params may move g->nodes */
    int64_t c0 = 0;
    for (uint32_t k = 0; k < m->nconv; k++) {
        fold_conv(g, m->conv[k], &bn, c0);
        c0 += g->vals[g->nodes[m->conv[k]].out].shape.d[1];
    }
    /* The result now computed is the BN's: it takes the BN's readers and
     * name (the pre-BN value no longer exists anywhere). */
    pass_replace_uses(g, bn.out, m->x);
    g->vals[m->x].name = g->vals[bn.out].name;
    g->nodes[m->bn].op = OP_NONE;
}

int pass_fold_bn(Graph *g, Diag *d)
{
    uint32_t *uses = ir_fill_uses(g);
    uint32_t nbn = 0, nm = 0;
    for (NodeId n = 1; n < g->nnode; n++)
        nbn += g->nodes[n].op == OP_BATCHNORM;
    Match *ms = arena_calloc(g->arena, nbn ? nbn : 1, sizeof *ms);
    for (NodeId n = 1; n < g->nnode; n++)
        if (g->nodes[n].op == OP_BATCHNORM && match_bn(g, uses, n, &ms[nm]))
            if (!match_has_data(g, &ms[nm++], d))
                return -1; /* the first one is enough: all weights are bound or none */
    for (uint32_t i = 0; i < nm; i++)
        fold_match(g, &ms[i]);
    if (nm)
        ir_graph_compact(g);
    return (int)nm;
}
