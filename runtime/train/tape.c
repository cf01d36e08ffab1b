/* tape.c — the training forward: runs a Graph node by node over the
 * runtime/ref kernels, as runtime/interp.c does, but keeps the activations
 * backward reads (rt_grad_reads, backward.c) and, for each batchnorm run in
 * RT_TRAIN mode, the batch mean and inverse standard deviation it
 * normalised with. Activations no backward reads (a search supernet's
 * mixed-op scale and add outputs, about a third of its bytes) live in
 * scratch slots shared along the forward, as runtime/interp.c frees at last
 * use, but planned once in rt_tape_new (internal.h).
 *
 * Dispatch is a table expanded from ir/ops.def: every row needs a
 * fwd_<lname>(Tape *, const Node *, float *y) adapter from the node's attrs
 * and operand shapes to one kernel call, so an op without one fails to
 * build. Shapes are checked once, by ir_verify in rt_tape_new; the
 * adapters trust them. Buffers (kept and scratch) are allocated once per
 * tape: a training loop runs the same graph every step, so steady state
 * does no malloc.
 */
#include "runtime/train/internal.h"

#include <stdlib.h>
#include <string.h>

typedef bool FwdFn(Tape *t, const Node *n, float *y);

#define OP(E, l, nmin, nmax, ak, fl) static FwdFn fwd_##l;
#include "ir/ops.def"
#undef OP

static FwdFn *const fwd_table[NOP] = {
#define OP(E, l, nmin, nmax, ak, fl) [OP_##E] = fwd_##l,
#include "ir/ops.def"
#undef OP
};

/* ---- helpers shared with backward.c ---- */

static const Shape *shape_of(const Tape *t, ValueId v) { return &t->g->vals[v].shape; }
static const float *in_data(const Tape *t, const Node *n, uint32_t i)
{
    return t->val[n->in[i]];
}
static const float *opt_data(const Tape *t, const Node *n, uint32_t i)
{
    return i < n->nin ? t->val[n->in[i]] : NULL;
}

bool rt_tape_need_ws(Tape *t, const Node *n, size_t floats)
{
    if (floats <= t->ws_cap)
        return true;
    float *ws = realloc(t->ws, floats * sizeof *ws);
    if (!ws) {
        diag_error(t->d, n->loc, "%s: out of memory for %zu floats of scratch",
                   op_info[n->op].name, floats);
        return false;
    }
    t->ws = ws, t->ws_cap = floats;
    return true;
}

RtConv2d rt_tape_conv_geometry(const Graph *g, const Node *n)
{
    const Shape *x = &g->vals[n->in[0]].shape, *w = &g->vals[n->in[1]].shape;
    const Conv2dAttrs *a = &n->attrs.conv;
    /* x[N,C,H,W] * w[OC, C/groups, KH, KW] -> y[N,OC,OH,OW] */
    RtConv2d p = {x->d[0], x->d[1], x->d[2], x->d[3], w->d[0], w->d[2], w->d[3],
                  {a->stride[0], a->stride[1]}, {a->pad[0], a->pad[1], a->pad[2], a->pad[3]},
                  {a->dilation[0], a->dilation[1]}, a->groups};
    return p;
}

RtPool2d rt_tape_pool_geometry(const Graph *g, const Node *n)
{
    const Shape *x = &g->vals[n->in[0]].shape;
    const Pool2dAttrs *a = &n->attrs.pool;
    RtPool2d p = {x->d[0], x->d[1], x->d[2], x->d[3], {a->kernel[0], a->kernel[1]},
                  {a->stride[0], a->stride[1]}, {a->pad[0], a->pad[1], a->pad[2], a->pad[3]},
                  a->count_include_pad};
    return p;
}

/* ---- adapters, in ops.def order ---- */

static bool fwd_param(Tape *t, const Node *n, float *y)
{
    (void)y;
    const Value *v = &t->g->vals[n->out];
    if (!v->data) {
        diag_error(t->d, n->loc, "param '%s' has no data", v->name ? v->name : "<unnamed>");
        return false;
    }
    t->val[n->out] = v->data;
    return true;
}

static bool fwd_conv2d(Tape *t, const Node *n, float *y)
{
    RtConv2d p = rt_tape_conv_geometry(t->g, n);
    if (!rt_tape_need_ws(t, n, rt_f32_conv2d_workspace(&p)))
        return false;
    rt_f32_conv2d(&p, in_data(t, n, 0), in_data(t, n, 1), opt_data(t, n, 2), y, t->ws);
    return true;
}

/* A running statistic the forward may update: only a bound param (a
 * computed operand would be overwritten by the next node anyway). */
static float *running_stat(const Tape *t, ValueId v)
{
    const Value *val = &t->g->vals[v];
    return t->g->nodes[val->producer].op == OP_PARAM ? val->data : NULL;
}

static bool fwd_batchnorm(Tape *t, const Node *n, float *y)
{
    const Shape *x = shape_of(t, n->in[0]);
    int64_t hw = x->d[2] * x->d[3];
    /* operands: x, mean, var [, gamma [, beta]] */
    if (t->mode == RT_EVAL) {
        rt_ref_batchnorm(x->d[0], x->d[1], hw, in_data(t, n, 0), in_data(t, n, 1),
                         in_data(t, n, 2), opt_data(t, n, 3), opt_data(t, n, 4),
                         n->attrs.bn.eps, y);
        return true;
    }
    if (x->d[0] * hw < 2) { /* the unbiased variance needs two values, as torch says */
        diag_error(t->d, n->loc, "batchnorm: training mode needs more than one value per "
                   "channel, got batch %lld of %lldx%lld", (long long)x->d[0],
                   (long long)x->d[2], (long long)x->d[3]);
        return false;
    }
    NodeId id = (NodeId)(n - t->g->nodes);
    rt_batchnorm_train_forward(x->d[0], x->d[1], hw, in_data(t, n, 0), opt_data(t, n, 3),
                               opt_data(t, n, 4), n->attrs.bn.eps, t->opts.bn_momentum,
                               running_stat(t, n->in[1]), running_stat(t, n->in[2]),
                               t->bn_mean[id], t->bn_invstd[id], y);
    return true;
}

static bool fwd_relu(Tape *t, const Node *n, float *y)
{
    rt_ref_relu(shape_numel(shape_of(t, n->out)), in_data(t, n, 0), y);
    return true;
}

static bool fwd_leaky_relu(Tape *t, const Node *n, float *y)
{
    rt_ref_leaky_relu(shape_numel(shape_of(t, n->out)), in_data(t, n, 0),
                      n->attrs.leaky.slope, y);
    return true;
}

static bool fwd_add(Tape *t, const Node *n, float *y)
{
    rt_ref_add(shape_numel(shape_of(t, n->out)), in_data(t, n, 0), in_data(t, n, 1), y);
    return true;
}

static bool fwd_maxpool2d(Tape *t, const Node *n, float *y)
{
    RtPool2d p = rt_tape_pool_geometry(t->g, n);
    rt_ref_maxpool2d(&p, in_data(t, n, 0), y);
    return true;
}

static bool fwd_avgpool2d(Tape *t, const Node *n, float *y)
{
    RtPool2d p = rt_tape_pool_geometry(t->g, n);
    rt_ref_avgpool2d(&p, in_data(t, n, 0), y);
    return true;
}

static bool fwd_gavgpool(Tape *t, const Node *n, float *y)
{
    const Shape *x = shape_of(t, n->in[0]);
    rt_ref_gavgpool(x->d[0], x->d[1], x->d[2] * x->d[3], in_data(t, n, 0), y);
    return true;
}

static bool fwd_concat(Tape *t, const Node *n, float *y)
{
    const float **xs = malloc(n->nin * sizeof *xs);
    int64_t *cs = malloc(n->nin * sizeof *cs);
    if (!xs || !cs) {
        free(xs), free(cs);
        diag_error(t->d, n->loc, "concat: out of memory");
        return false;
    }
    for (uint32_t i = 0; i < n->nin; i++)
        xs[i] = in_data(t, n, i), cs[i] = shape_of(t, n->in[i])->d[1];
    const Shape *out = shape_of(t, n->out);
    rt_ref_concat(out->d[0], out->d[2] * out->d[3], (int)n->nin, xs, cs, y);
    free(xs), free(cs);
    return true;
}

static bool fwd_crop(Tape *t, const Node *n, float *y)
{
    const Shape *x = shape_of(t, n->in[0]), *out = shape_of(t, n->out);
    rt_ref_crop(x->d[0], x->d[1], x->d[2], x->d[3], n->attrs.crop.top, n->attrs.crop.left,
                out->d[2], out->d[3], in_data(t, n, 0), y);
    return true;
}

/* space_to_batch, batch_to_space: the conv lowering passes/lower_dilation.c
 * makes for the emitted C. They have no backward, so the tape refuses them
 * at once rather than after a forward. */
static bool fwd_space_to_batch(Tape *t, const Node *n, float *y)
{
    (void)y;
    diag_error(t->d, n->loc, "space_to_batch: no backward (train the graph before lowering)");
    return false;
}

static bool fwd_batch_to_space(Tape *t, const Node *n, float *y)
{
    (void)y;
    diag_error(t->d, n->loc, "batch_to_space: no backward (train the graph before lowering)");
    return false;
}

static bool fwd_zero(Tape *t, const Node *n, float *y)
{
    rt_ref_zero(shape_numel(shape_of(t, n->out)), y);
    return true;
}

static bool fwd_linear(Tape *t, const Node *n, float *y)
{
    /* x[N,C] or [N,C,1,1], w[K,C] -> y[N,K] */
    const Shape *x = shape_of(t, n->in[0]), *w = shape_of(t, n->in[1]);
    rt_ref_linear(x->d[0], x->d[1], w->d[0], in_data(t, n, 0), in_data(t, n, 1),
                  opt_data(t, n, 2), y);
    return true;
}

static bool fwd_resize_bilinear(Tape *t, const Node *n, float *y)
{
    const Shape *x = shape_of(t, n->in[0]);
    const ResizeAttrs *a = &n->attrs.resize;
    rt_ref_resize_bilinear(x->d[0] * x->d[1], x->d[2], x->d[3], a->size[0], a->size[1],
                           a->align_corners, in_data(t, n, 0), y);
    return true;
}

/* Unreachable: rt_tape_new refuses graphs with u8 values. */
static bool fwd_argmax(Tape *t, const Node *n, float *y)
{
    (void)y;
    diag_error(t->d, n->loc, "argmax: a u8 label map cannot be trained through");
    return false;
}

static bool fwd_softmax(Tape *t, const Node *n, float *y)
{
    const Shape *x = shape_of(t, n->in[0]);
    int64_t k = x->d[x->rank - 1];
    rt_ref_softmax(shape_numel(x) / k, k, in_data(t, n, 0), y);
    return true;
}

static bool fwd_scale(Tape *t, const Node *n, float *y)
{
    float s = in_data(t, n, 1)[n->attrs.index.index];
    rt_ref_scale(shape_numel(shape_of(t, n->out)), in_data(t, n, 0), s, y);
    return true;
}

/* ---- the tape ---- */

static float *alloc_floats(const Shape *s)
{
    int64_t numel = shape_numel(s);
    return calloc((size_t)(numel > 0 ? numel : 1), sizeof(float));
}

/* One f32 input and output, no u8 value, params bound, shapes verified. */
static bool check_graph(const Graph *g, Diag *d)
{
    Loc none = {NULL, 0, 0};
    const char *name = g->name ? g->name : "";
    if (g->ninput != 1 || g->noutput != 1) {
        diag_error(d, none, "tape: graph '%s' has %u inputs and %u outputs, needs 1 and 1",
                   name, g->ninput, g->noutput);
        return false;
    }
    if (!ir_verify(g, d))
        return false;
    /* Fusions (passes fuse-act, fuse-add) are inference rewrites of -O2;
     * training runs the graph as lowered, so the backward has no rules. */
    for (NodeId n = 1; n < g->nnode; n++) {
        if (g->nodes[n].op == OP_CONV2D && ir_conv_fused(&g->nodes[n])) {
            diag_error(d, g->nodes[n].loc, "tape: graph '%s' has a conv2d with fused "
                       "pre/addend/act attributes (an inference-only rewrite); train the "
                       "unoptimised graph", name);
            return false;
        }
    }
    for (ValueId v = 1; v < g->nval; v++) {
        const Value *val = &g->vals[v];
        if (val->dtype != DT_F32) {
            diag_error(d, val->loc, "tape: graph '%s' has a %s value (%s): not differentiable",
                       name, dtype_name(val->dtype), val->name ? val->name : "unnamed");
            return false;
        }
        if (val->producer && g->nodes[val->producer].op == OP_PARAM && !val->data) {
            diag_error(d, val->loc, "tape: param '%s' has no data",
                       val->name ? val->name : "<unnamed>");
            return false;
        }
    }
    return true;
}

/* Which values a gradient reaches: the input, trainable params, and what
 * depends on them (zero's output depends on nothing). */
static void fill_needs_grad(Tape *t, const bool *is_stat)
{
    const Graph *g = t->g;
    t->needs_grad[g->inputs[0]] = true;
    for (NodeId id = 1; id < g->nnode; id++) {
        const Node *n = &g->nodes[id];
        if (n->op == OP_NONE)
            continue;
        bool needs = n->op == OP_PARAM && !is_stat[n->out];
        for (uint32_t i = 0; i < n->nin && n->op != OP_ZERO; i++)
            needs = needs || t->needs_grad[n->in[i]];
        t->needs_grad[n->out] = needs;
    }
}

/* Which activations survive the forward: the output and what a backward
 * that will run reads (a node's runs only if a gradient reaches its
 * output). */
static void fill_kept(const Tape *t, bool *kept)
{
    const Graph *g = t->g;
    kept[g->outputs[0]] = true;
    for (NodeId id = 1; id < g->nnode; id++) {
        const Node *n = &g->nodes[id];
        if (n->op == OP_NONE || n->op == OP_PARAM)
            continue;
        if (!t->needs_grad[n->out])
            continue;
        uint32_t reads = rt_grad_reads[n->op];
        for (uint32_t i = 0; i < n->nin && i < RD_MAXIN; i++)
            if (reads & RD_IN(i))
                kept[n->in[i]] = true;
        if (reads & RD_OUT)
            kept[n->out] = true;
    }
}

/* A free slot for `need` floats, marked busy: the smallest free one that
 * fits, else the largest free one grown, else a new one. */
static uint32_t pick_slot(size_t *cap, bool *busy, uint32_t *nslot, size_t need)
{
    uint32_t best = UINT32_MAX, largest = UINT32_MAX;
    for (uint32_t s = 0; s < *nslot; s++) {
        if (busy[s])
            continue;
        if (cap[s] >= need && (best == UINT32_MAX || cap[s] < cap[best]))
            best = s;
        if (largest == UINT32_MAX || cap[s] > cap[largest])
            largest = s;
    }
    if (best == UINT32_MAX && largest != UINT32_MAX)
        best = largest, cap[best] = need;
    if (best == UINT32_MAX)
        best = (*nslot)++, cap[best] = need;
    busy[best] = true;
    return best;
}

/* Gives every activation not kept a slot, busy from its producer to its
 * last reader in the forward (ir_fill_last_use); slot sizes in floats go
 * to cap. A node's output never shares a slot with its operands. Returns
 * the number of slots. */
static uint32_t plan_slots(Tape *t, const bool *kept, size_t *cap, bool *busy)
{
    const Graph *g = t->g;
    const uint32_t *last = ir_fill_last_use(g);
    uint32_t nslot = 0;
    for (NodeId id = 1; id < g->nnode; id++) {
        const Node *n = &g->nodes[id];
        if (n->op == OP_NONE || n->op == OP_PARAM)
            continue;
        if (!kept[n->out]) {
            int64_t numel = shape_numel(shape_of(t, n->out));
            t->slot_of[n->out] = 1 + pick_slot(cap, busy, &nslot, (size_t)(numel > 0 ? numel : 1));
        }
        for (uint32_t i = 0; i < n->nin; i++)
            if (t->slot_of[n->in[i]] && last[n->in[i]] == id)
                busy[t->slot_of[n->in[i]] - 1] = false;
        if (t->slot_of[n->out] && last[n->out] < id) /* never read */
            busy[t->slot_of[n->out] - 1] = false;
    }
    return nslot;
}

/* Plans and allocates the scratch slots; false if out of memory. */
static bool alloc_slots(Tape *t, const bool *kept)
{
    size_t *cap = calloc(t->g->nval, sizeof *cap);
    bool *busy = calloc(t->g->nval, sizeof *busy);
    bool ok = cap && busy;
    if (ok)
        t->nslot = plan_slots(t, kept, cap, busy);
    if (ok && t->nslot)
        ok = (t->slots = calloc(t->nslot, sizeof *t->slots)) != NULL;
    for (uint32_t s = 0; ok && s < t->nslot; s++) {
        ok = (t->slots[s] = calloc(cap[s], sizeof(float))) != NULL;
        t->bytes += cap[s] * sizeof(float);
    }
    free(cap), free(busy);
    return ok;
}

/* Kept activation, gradient and batchnorm buffers, then the scratch slots;
 * false if out of memory. */
static bool alloc_buffers(Tape *t, const bool *is_stat, const bool *kept)
{
    const Graph *g = t->g;
    ValueId in = g->inputs[0];
    t->input = alloc_floats(&g->vals[in].shape);
    t->grad[in] = alloc_floats(&g->vals[in].shape);
    t->persistent[in] = true;
    if (!t->input || !t->grad[in])
        return false;
    for (NodeId id = 1; id < g->nnode; id++) {
        const Node *n = &g->nodes[id];
        const Shape *s = &g->vals[n->out].shape;
        if (n->op == OP_NONE)
            continue;
        if (n->op == OP_PARAM) {
            if (is_stat[n->out])
                continue;
            t->persistent[n->out] = true;
            if (!(t->grad[n->out] = alloc_floats(s)))
                return false;
            continue;
        }
        if (kept[n->out]) {
            if (!(t->act[n->out] = alloc_floats(s)))
                return false;
            t->bytes += (size_t)shape_numel(s) * sizeof(float);
        }
        if (n->op == OP_BATCHNORM) {
            int64_t c = g->vals[n->in[0]].shape.d[1];
            t->bn_mean[id] = calloc((size_t)c, sizeof(float));
            t->bn_invstd[id] = calloc((size_t)c, sizeof(float));
            if (!t->bn_mean[id] || !t->bn_invstd[id])
                return false;
        }
    }
    return alloc_slots(t, kept);
}

Tape *rt_tape_new(const Graph *g, const TapeOptions *opts, Diag *d)
{
    if (!check_graph(g, d))
        return NULL;
    Tape *t = calloc(1, sizeof *t);
    bool ok = t != NULL;
    if (ok) {
        t->g = g;
        t->opts.bn_momentum = opts ? opts->bn_momentum : 0.1f;
        t->val = calloc(g->nval, sizeof *t->val);
        t->act = calloc(g->nval, sizeof *t->act);
        t->slot_of = calloc(g->nval, sizeof *t->slot_of);
        t->grad = calloc(g->nval, sizeof *t->grad);
        t->persistent = calloc(g->nval, sizeof *t->persistent);
        t->needs_grad = calloc(g->nval, sizeof *t->needs_grad);
        t->bn_mean = calloc(g->nnode, sizeof *t->bn_mean);
        t->bn_invstd = calloc(g->nnode, sizeof *t->bn_invstd);
        ok = t->val && t->act && t->slot_of && t->grad && t->persistent && t->needs_grad &&
             t->bn_mean && t->bn_invstd;
    }
    bool *kept = ok ? calloc(g->nval, sizeof *kept) : NULL;
    if ((ok = kept != NULL)) {
        const bool *is_stat = ir_fill_stats(g);
        fill_needs_grad(t, is_stat);
        fill_kept(t, kept);
        ok = alloc_buffers(t, is_stat, kept);
    }
    free(kept);
    if (!ok) {
        diag_error(d, loc_file(NULL), "tape: out of memory for graph '%s'",
                   g->name ? g->name : "");
        rt_tape_free(t);
        return NULL;
    }
    return t;
}

void rt_tape_free(Tape *t)
{
    if (!t)
        return;
    for (uint32_t v = 0; v < t->g->nval; v++) {
        if (t->act)
            free(t->act[v]);
        if (t->grad)
            free(t->grad[v]);
    }
    for (uint32_t s = 0; t->slots && s < t->nslot; s++)
        free(t->slots[s]);
    for (uint32_t n = 0; n < t->g->nnode; n++) {
        if (t->bn_mean)
            free(t->bn_mean[n]);
        if (t->bn_invstd)
            free(t->bn_invstd[n]);
    }
    free(t->val), free(t->act), free(t->slot_of), free(t->slots), free(t->grad);
    free(t->persistent), free(t->needs_grad), free(t->bn_mean), free(t->bn_invstd);
    free(t->input), free(t->ws);
    free(t);
}

/* After a forward: values in scratch slots are no longer readable. */
static void release_scratch(Tape *t)
{
    for (ValueId v = 1; v < t->g->nval; v++)
        if (t->slot_of[v])
            t->val[v] = NULL;
}

bool rt_tape_forward(Tape *t, const float *input, RtMode mode, Diag *d)
{
    const Graph *g = t->g;
    ValueId in = g->inputs[0];
    t->d = d, t->mode = mode, t->have_forward = false;
    memcpy(t->input, input, (size_t)shape_numel(&g->vals[in].shape) * sizeof *input);
    t->val[in] = t->input;
    bool ok = true;
    for (NodeId id = 1; ok && id < g->nnode; id++) {
        const Node *n = &g->nodes[id];
        if (n->op == OP_NONE)
            continue;
        uint32_t slot = t->slot_of[n->out];
        float *y = slot ? t->slots[slot - 1] : t->act[n->out];
        t->val[n->out] = y;
        ok = fwd_table[n->op](t, n, y);
    }
    release_scratch(t);
    t->d = NULL;
    t->have_forward = ok;
    return ok;
}

const float *rt_tape_output(const Tape *t) { return t->val[t->g->outputs[0]]; }

const float *rt_tape_value(const Tape *t, ValueId v)
{
    return v > 0 && v < t->g->nval ? t->val[v] : NULL;
}

size_t rt_tape_bytes(const Tape *t) { return t->bytes; }

float *rt_tape_grad(Tape *t, ValueId v)
{
    return v > 0 && v < t->g->nval && t->persistent[v] ? t->grad[v] : NULL;
}

void rt_tape_zero_grad(Tape *t)
{
    for (ValueId v = 1; v < t->g->nval; v++)
        if (t->persistent[v])
            memset(t->grad[v], 0, (size_t)shape_numel(&t->g->vals[v].shape) * sizeof(float));
}
