/* quantize.c — builds the int8 plan (quantize.h) of a float graph.
 *
 * One walk in node order: each node's planner (a table expanded from
 * ir/ops.def, plan_<lname>) fixes its output's quantisation — its own from
 * the calibration range, or its input's for the ops that only move or
 * select values — and appends the kernel calls that compute it, with the
 * integer constants (weights, biases, multipliers, taps) derived here once.
 * Nothing here runs a kernel; runtime/int8 and codegen/emit_c_int8.c do.
 */
#include "passes/quantize.h"

#include <math.h>
#include <string.h>

typedef struct QPlanner {
    const Graph *g;
    const QRange *range;
    Arena *a;
    QPlan *plan;
    uint32_t cap;
    Diag *d;
} QPlanner;

typedef bool PlanFn(QPlanner *qp, const Node *n);
#define OP(E, l, nmin, nmax, ak, fl) static PlanFn plan_##l;
#include "ir/ops.def"
#undef OP
static PlanFn *const plan_table[NOP] = {
#define OP(E, l, nmin, nmax, ak, fl) [OP_##E] = plan_##l,
#include "ir/ops.def"
#undef OP
};

const char *pass_quant_kernel_name(Q8Kernel k)
{
    static const char *const names[NQ8K] = {
#define X(E, n) #n,
        Q8_KERNELS(X)
#undef X
    };
    return k < NQ8K ? names[k] : "?";
}

void pass_quant_multiplier(double m, int32_t *M, int32_t *shift)
{
    *M = 0, *shift = 0;
    if (!(m > 0))
        return;
    int e;
    double f = frexp(m, &e); /* m = f * 2^e, f in [0.5, 1) */
    int64_t q = (int64_t)llround(f * 2147483648.0);
    if (q == ((int64_t)1 << 31))
        q /= 2, e++;
    if (e < -31)
        return; /* below 2^-32: every int32 product rounds to 0 or +-1 */
    if (e > 30)
        q = INT32_MAX, e = 30; /* saturate: never met by calibrated ranges */
    *M = (int32_t)q, *shift = e;
}

QParam pass_quant_param(QRange r)
{
    double lo = r.lo < 0 ? r.lo : 0, hi = r.hi > 0 ? r.hi : 0;
    if (!(hi - lo > 1e-12)) /* constant zero (or NaN range): any scale works */
        return (QParam){1.0f, 0};
    float scale = (float)((hi - lo) / 255.0);
    long zp = lround(-128.0 - lo / scale);
    zp = zp < -128 ? -128 : zp > 127 ? 127 : zp;
    return (QParam){scale, (int32_t)zp};
}

/* ---- helpers ---- */

/* Dimension i of s, or 1 past its rank. */
static int64_t dim1(const Shape *s, int i) { return i < s->rank ? s->d[i] : 1; }
static const Shape *shp(const QPlanner *qp, ValueId v) { return &qp->g->vals[v].shape; }
static QParam *qof(QPlanner *qp, ValueId v) { return &qp->plan->q[v]; }

static Q8Step *add_step(QPlanner *qp, Q8Kernel k, const Node *n, ValueId a, ValueId b)
{
    QPlan *p = qp->plan;
    if (p->nstep == qp->cap) {
        uint32_t cap = qp->cap ? qp->cap * 2 : 64;
        Q8Step *s = arena_calloc(qp->a, cap, sizeof *s);
        if (p->nstep)
            memcpy(s, p->steps, p->nstep * sizeof *s);
        p->steps = s, qp->cap = cap;
    }
    Q8Step *s = &p->steps[p->nstep++];
    *s = (Q8Step){.k = k, .node = (NodeId)(n - qp->g->nodes), .y = n->out, .a = a, .b = b};
    return s;
}

static void set_p(Q8Step *s, const int32_t *v, int n)
{
    NASC_ASSERT(n <= Q8_MAXP);
    memcpy(s->p, v, (size_t)n * sizeof *v);
    s->np = n;
}

static void own_param(QPlanner *qp, ValueId v)
{
    qp->plan->q[v] = pass_quant_param(qp->range[v]);
}

static int32_t clamp_i32(double v)
{
    return v > 2147483647.0 ? INT32_MAX : v < -2147483648.0 ? INT32_MIN : (int32_t)llround(v);
}

/* Per-output-channel int8 weights w[oc][per] (real wr, per-channel scale
 * factor fold[] multiplies them when non-NULL, as a BN scale does) and the
 * table bias[oc], M[oc], shift[oc] for input x and output y. */
static void quant_channels(QPlanner *qp, Q8Step *s, const float *wr, const float *fold,
                           const float *bias, int64_t oc, int64_t per, ValueId x, ValueId y)
{
    int8_t *w = arena_alloc(qp->a, (size_t)(oc * per));
    int32_t *t = arena_calloc(qp->a, (size_t)(3 * oc), sizeof *t);
    double sx = qof(qp, x)->scale, sy = qof(qp, y)->scale;
    for (int64_t o = 0; o < oc; o++) {
        double f = fold ? fold[o] : 1.0, mx = 0;
        for (int64_t k = 0; k < per; k++)
            mx = fmax(mx, fabs(wr[o * per + k] * f));
        double sw = mx > 0 ? mx / 127.0 : 1.0;
        for (int64_t k = 0; k < per; k++) {
            long q = lround(wr[o * per + k] * f / sw);
            w[o * per + k] = (int8_t)(q < -127 ? -127 : q > 127 ? 127 : q);
        }
        t[o] = bias ? clamp_i32(bias[o] / (sx * sw)) : 0;
        pass_quant_multiplier(sx * sw / sy, &t[oc + o], &t[2 * oc + o]);
    }
    s->w = w, s->nw = oc * per, s->t = t, s->nt = 3 * oc;
}

static bool need_data(QPlanner *qp, const Node *n, uint32_t i)
{
    if (i >= n->nin || qp->g->vals[n->in[i]].data)
        return true;
    diag_error(qp->d, n->loc, "quantize: %s operand %u has no bound data", op_info[n->op].name,
               i);
    return false;
}

/* conv-shaped call: geometry p[0..14], then zx zy lo hi, then the fusions
 * pre zb Mb sb (none here: 0). */
static void conv_params(QPlanner *qp, Q8Step *s, const Conv2dAttrs *c, int64_t kh, int64_t kw,
                        ValueId x, ValueId y)
{
    const Shape *xs = shp(qp, x), *ys = shp(qp, y);
    int32_t p[23] = {(int32_t)xs->d[1], (int32_t)dim1(xs, 2), (int32_t)dim1(xs, 3),
                     (int32_t)ys->d[1], (int32_t)dim1(ys, 2), (int32_t)dim1(ys, 3),
                     (int32_t)kh, (int32_t)kw, c->stride[0], c->stride[1], c->pad[0],
                     c->pad[1], c->dilation[0], c->dilation[1], c->groups,
                     qof(qp, x)->zp, qof(qp, y)->zp, -128, 127, 0, 0, 0, 0};
    set_p(s, p, 23);
}

/* A conv's fusions in int8 (quantize.h): relu(x) keeps x's quantisation,
 * so pre reads max(q, zx); the addend (step operand b) is rescaled onto
 * the output's scale and added before the clamp; act=relu clamps below at
 * the output's zero point. */
static void conv_fusions(QPlanner *qp, Q8Step *s, const Node *n)
{
    const Conv2dAttrs *c = &n->attrs.conv;
    ValueId r = ir_conv_addend(n);
    s->p[19] = c->pre == ACT_RELU;
    if (r) {
        s->b = r;
        s->p[20] = qof(qp, r)->zp;
        pass_quant_multiplier((double)qof(qp, r)->scale / qof(qp, n->out)->scale, &s->p[21],
                              &s->p[22]);
    }
    if (c->act == ACT_RELU)
        s->p[17] = qof(qp, n->out)->zp;
}

/* ---- planners, one per op ---- */

static bool plan_param(QPlanner *qp, const Node *n) { (void)qp, (void)n; return true; }

static bool plan_conv2d(QPlanner *qp, const Node *n)
{
    ValueId b = ir_conv_bias(n);
    if (!need_data(qp, n, 1) || (b && !need_data(qp, n, 2)))
        return false;
    const Value *w = &qp->g->vals[n->in[1]];
    const Conv2dAttrs *c = &n->attrs.conv;
    own_param(qp, n->out);
    bool pw = w->shape.d[2] == 1 && w->shape.d[3] == 1 && c->stride[0] == 1 &&
              c->stride[1] == 1 && !c->pad[0] && !c->pad[1] && !c->pad[2] && !c->pad[3] &&
              c->groups == 1;
    Q8Step *s = add_step(qp, pw ? Q8K_CONV1X1 : Q8K_CONV2D, n, n->in[0], 0);
    int64_t oc = w->shape.d[0], per = shape_numel(&w->shape) / oc;
    quant_channels(qp, s, w->data, NULL, b ? qp->g->vals[b].data : NULL, oc, per, n->in[0],
                   n->out);
    s->wname = w->name;
    conv_params(qp, s, c, w->shape.d[2], w->shape.d[3], n->in[0], n->out);
    conv_fusions(qp, s, n);
    return true;
}

static bool plan_linear(QPlanner *qp, const Node *n)
{
    if (!need_data(qp, n, 1) || !need_data(qp, n, 2))
        return false;
    const Value *w = &qp->g->vals[n->in[1]];
    own_param(qp, n->out);
    Q8Step *s = add_step(qp, Q8K_CONV1X1, n, n->in[0], 0);
    quant_channels(qp, s, w->data, NULL, n->nin > 2 ? qp->g->vals[n->in[2]].data : NULL,
                   w->shape.d[0], w->shape.d[1], n->in[0], n->out);
    s->wname = w->name;
    Conv2dAttrs c = {.stride = {1, 1}, .pad = {0, 0, 0, 0}, .dilation = {1, 1}, .groups = 1};
    conv_params(qp, s, &c, 1, 1, n->in[0], n->out);
    s->p[0] = (int32_t)w->shape.d[1], s->p[3] = (int32_t)w->shape.d[0];
    return true;
}

/* An unfolded eval BatchNorm is a per-channel affine map: a depthwise 1x1
 * conv with weight gamma / sqrt(var + eps) and bias beta - mean * weight. */
static bool plan_batchnorm(QPlanner *qp, const Node *n)
{
    for (uint32_t i = 1; i < n->nin; i++)
        if (!need_data(qp, n, i))
            return false;
    int64_t ch = shp(qp, n->in[0])->d[1];
    float *scale = arena_calloc(qp->a, (size_t)ch, sizeof *scale);
    float *shift = arena_calloc(qp->a, (size_t)ch, sizeof *shift);
    float *one = arena_calloc(qp->a, (size_t)ch, sizeof *one);
    const float *mean = qp->g->vals[n->in[1]].data, *var = qp->g->vals[n->in[2]].data;
    const float *gamma = n->nin > 3 ? qp->g->vals[n->in[3]].data : NULL;
    const float *beta = n->nin > 4 ? qp->g->vals[n->in[4]].data : NULL;
    for (int64_t c = 0; c < ch; c++) {
        double s = (gamma ? gamma[c] : 1.0) / sqrt((double)var[c] + n->attrs.bn.eps);
        scale[c] = (float)s, one[c] = 1.0f;
        shift[c] = (float)((beta ? beta[c] : 0.0) - mean[c] * s);
    }
    own_param(qp, n->out);
    Q8Step *s = add_step(qp, Q8K_CONV2D, n, n->in[0], 0);
    quant_channels(qp, s, one, scale, shift, ch, 1, n->in[0], n->out);
    s->wname = qp->g->vals[n->in[1]].name;
    Conv2dAttrs c = {.stride = {1, 1}, .pad = {0, 0, 0, 0}, .dilation = {1, 1}, .groups = (int)ch};
    conv_params(qp, s, &c, 1, 1, n->in[0], n->out);
    return true;
}

static void same_q(QPlanner *qp, const Node *n) { *qof(qp, n->out) = *qof(qp, n->in[0]); }

static bool plan_relu(QPlanner *qp, const Node *n)
{
    same_q(qp, n);
    Q8Step *s = add_step(qp, Q8K_RELU, n, n->in[0], 0);
    set_p(s, (int32_t[]){(int32_t)shape_numel(shp(qp, n->out)), qof(qp, n->out)->zp}, 2);
    return true;
}

static bool plan_leaky_relu(QPlanner *qp, const Node *n)
{
    float slope = n->attrs.leaky.slope;
    if (slope < 0) {
        diag_error(qp->d, n->loc, "quantize: leaky_relu with a negative slope has no int8 form");
        return false;
    }
    own_param(qp, n->out);
    double r = (double)qof(qp, n->in[0])->scale / qof(qp, n->out)->scale;
    int32_t p[7] = {(int32_t)shape_numel(shp(qp, n->out)), qof(qp, n->in[0])->zp,
                    qof(qp, n->out)->zp, 0, 0, 0, 0};
    pass_quant_multiplier(r, &p[3], &p[4]);
    pass_quant_multiplier(r * slope, &p[5], &p[6]);
    set_p(add_step(qp, Q8K_LEAKY_RELU, n, n->in[0], 0), p, 7);
    return true;
}

static bool plan_add(QPlanner *qp, const Node *n)
{
    own_param(qp, n->out);
    QParam qa = *qof(qp, n->in[0]), qb = *qof(qp, n->in[1]), qy = *qof(qp, n->out);
    double twice = 2.0 * fmax(qa.scale, qb.scale);
    int32_t p[10] = {(int32_t)shape_numel(shp(qp, n->out)), qa.zp, qb.zp, qy.zp};
    pass_quant_multiplier(qa.scale / twice, &p[4], &p[5]);
    pass_quant_multiplier(qb.scale / twice, &p[6], &p[7]);
    pass_quant_multiplier(twice / ((double)(1 << 20) * qy.scale), &p[8], &p[9]);
    set_p(add_step(qp, Q8K_ADD, n, n->in[0], n->in[1]), p, 10);
    return true;
}

static bool plan_pool(QPlanner *qp, const Node *n, bool avg)
{
    same_q(qp, n);
    const Shape *xs = shp(qp, n->in[0]), *ys = shp(qp, n->out);
    const Pool2dAttrs *a = &n->attrs.pool;
    int32_t p[16] = {(int32_t)xs->d[1], (int32_t)xs->d[2], (int32_t)xs->d[3],
                     (int32_t)ys->d[2], (int32_t)ys->d[3], a->kernel[0], a->kernel[1],
                     a->stride[0], a->stride[1], a->pad[0], a->pad[1], a->pad[2], a->pad[3],
                     a->count_include_pad, qof(qp, n->out)->zp, avg};
    set_p(add_step(qp, Q8K_POOL2D, n, n->in[0], 0), p, 16);
    return true;
}
static bool plan_maxpool2d(QPlanner *qp, const Node *n) { return plan_pool(qp, n, false); }
static bool plan_avgpool2d(QPlanner *qp, const Node *n) { return plan_pool(qp, n, true); }

static bool plan_gavgpool(QPlanner *qp, const Node *n)
{
    own_param(qp, n->out);
    const Shape *xs = shp(qp, n->in[0]);
    QParam qx = *qof(qp, n->in[0]), qy = *qof(qp, n->out);
    int32_t hw = (int32_t)(xs->d[2] * xs->d[3]);
    int32_t p[6] = {(int32_t)xs->d[1], hw, qx.zp, qy.zp, 0, 0};
    pass_quant_multiplier((double)qx.scale / ((double)qy.scale * hw), &p[4], &p[5]);
    set_p(add_step(qp, Q8K_GAVGPOOL, n, n->in[0], 0), p, 6);
    return true;
}

static bool plan_concat(QPlanner *qp, const Node *n)
{
    own_param(qp, n->out);
    QParam qy = *qof(qp, n->out);
    int64_t hw = dim1(shp(qp, n->out), 2) * dim1(shp(qp, n->out), 3), off = 0;
    int64_t cy = shp(qp, n->out)->d[1];
    for (uint32_t i = 0; i < n->nin; i++) {
        QParam qx = *qof(qp, n->in[i]);
        int64_t cx = shp(qp, n->in[i])->d[1];
        int32_t p[9] = {1, (int32_t)(cx * hw), (int32_t)(cy * hw), (int32_t)(off * hw),
                        qx.zp, qy.zp, 0, 0,
                        qx.scale == qy.scale && qx.zp == qy.zp};
        pass_quant_multiplier((double)qx.scale / qy.scale, &p[6], &p[7]);
        set_p(add_step(qp, Q8K_REQUANT, n, n->in[i], 0), p, 9);
        off += cx;
    }
    return true;
}

static bool plan_crop(QPlanner *qp, const Node *n)
{
    same_q(qp, n);
    const Shape *xs = shp(qp, n->in[0]), *ys = shp(qp, n->out);
    int32_t p[7] = {(int32_t)xs->d[1], (int32_t)xs->d[2], (int32_t)xs->d[3],
                    (int32_t)ys->d[2], (int32_t)ys->d[3], n->attrs.crop.top,
                    n->attrs.crop.left};
    set_p(add_step(qp, Q8K_CROP, n, n->in[0], 0), p, 7);
    return true;
}

static bool plan_zero(QPlanner *qp, const Node *n)
{
    *qof(qp, n->out) = (QParam){1.0f, 0};
    set_p(add_step(qp, Q8K_FILL, n, 0, 0),
          (int32_t[]){(int32_t)shape_numel(shp(qp, n->out)), 0}, 2);
    return true;
}

/* One axis of torch's bilinear map: source index of dst and its i1 weight. */
static void resize_axis(int32_t *t, int64_t in, int64_t out, int ac)
{
    for (int64_t o = 0; o < out; o++) {
        double src = ac ? (out > 1 ? (double)o * (double)(in - 1) / (double)(out - 1) : 0.0)
                        : ((double)o + 0.5) * (double)in / (double)out - 0.5;
        if (src < 0)
            src = 0;
        int64_t i0 = (int64_t)src;
        if (i0 > in - 1)
            i0 = in - 1;
        int64_t i1 = i0 + 1 < in ? i0 + 1 : in - 1;
        t[o] = (int32_t)i0, t[out + o] = (int32_t)i1;
        t[2 * out + o] = (int32_t)lround((src - (double)i0) * 2048.0);
        if (t[2 * out + o] > 2048)
            t[2 * out + o] = 2048;
    }
}

static bool plan_resize_bilinear(QPlanner *qp, const Node *n)
{
    same_q(qp, n);
    const Shape *xs = shp(qp, n->in[0]), *ys = shp(qp, n->out);
    int64_t oh = ys->d[2], ow = ys->d[3];
    int32_t *t = arena_calloc(qp->a, (size_t)(3 * (oh + ow)), sizeof *t);
    resize_axis(t, xs->d[2], oh, n->attrs.resize.align_corners);
    resize_axis(t + 3 * oh, xs->d[3], ow, n->attrs.resize.align_corners);
    Q8Step *s = add_step(qp, Q8K_RESIZE, n, n->in[0], 0);
    s->t = t, s->nt = 3 * (oh + ow);
    set_p(s, (int32_t[]){(int32_t)xs->d[1], (int32_t)xs->d[2], (int32_t)xs->d[3],
                         (int32_t)oh, (int32_t)ow}, 5);
    return true;
}

static bool plan_argmax(QPlanner *qp, const Node *n)
{
    const Shape *xs = shp(qp, n->in[0]);
    set_p(add_step(qp, Q8K_ARGMAX, n, n->in[0], 0),
          (int32_t[]){(int32_t)xs->d[1], (int32_t)(xs->d[2] * xs->d[3])}, 2);
    return true;
}

static bool no_int8(QPlanner *qp, const Node *n)
{
    diag_error(qp->d, n->loc, "quantize: %s has no int8 form (a search-only op)",
               op_info[n->op].name);
    return false;
}
static bool plan_softmax(QPlanner *qp, const Node *n) { return no_int8(qp, n); }
static bool plan_scale(QPlanner *qp, const Node *n) { return no_int8(qp, n); }
/* The dilated-conv lowering is for the float emitter (int8 graphs take
 * the int8 pipeline without lower-dilation). */
static bool float_only(QPlanner *qp, const Node *n)
{
    diag_error(qp->d, n->loc, "quantize: %s has no int8 form (quantize before lower-dilation)",
               op_info[n->op].name);
    return false;
}
static bool plan_space_to_batch(QPlanner *qp, const Node *n) { return float_only(qp, n); }
static bool plan_batch_to_space(QPlanner *qp, const Node *n) { return float_only(qp, n); }

bool pass_quant_plan(const Graph *g, const QRange *range, Arena *a, QPlan *plan, Diag *d)
{
    *plan = (QPlan){0};
    if (g->ninput != 1 || g->noutput != 1) {
        diag_error(d, (Loc){0}, "quantize: graph needs one input and one output");
        return false;
    }
    for (ValueId v = 1; v < g->nval; v++) {
        if (g->vals[v].shape.rank > 0 && g->vals[v].shape.d[0] != 1 &&
            g->nodes[g->vals[v].producer].op != OP_PARAM) {
            diag_error(d, g->vals[v].loc, "quantize: batch %lld, int8 supports batch 1",
                       (long long)g->vals[v].shape.d[0]);
            return false;
        }
    }
    QPlanner qp = {g, range, a, plan, 0, d};
    plan->q = arena_calloc(a, g->nval, sizeof *plan->q);
    plan->in = g->inputs[0], plan->out = g->outputs[0];
    plan->labels = g->vals[plan->out].dtype == DT_U8;
    own_param(&qp, plan->in);
    plan->in_inv_scale = 1.0f / plan->q[plan->in].scale;
    for (NodeId id = 1; id < g->nnode; id++) {
        const Node *n = &g->nodes[id];
        if (n->op != OP_NONE && !plan_table[n->op](&qp, n))
            return false;
    }
    return true;
}
