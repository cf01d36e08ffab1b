/* interp.c — the reference interpreter: runs a Graph node by node over the
 * runtime/ref kernels.
 *
 * Dispatch is a table expanded from ir/ops.def: every row needs a function
 * interp_<lname>(Interp *, const Node *, float *y), a thin adapter from the
 * node's attrs and operand shapes to one kernel call, so an op without an
 * adapter fails to build. The driver owns memory: it mallocs each node's
 * output before calling the adapter and frees every buffer right after the
 * node that reads it last (ir_fill_last_use), so the peak is the live set of
 * the widest point of the net, not the sum of all activations; elementwise
 * ops reuse a dying operand's buffer. Params and the graph input are read
 * in place, never copied.
 */
#include "runtime/interp.h"
#include "runtime/ref/ref.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct Interp {
    const Graph *g;
    Diag *d;
    const float **val; /* per value: its data once computed, NULL before/after */
    float **own;       /* per value: buffer this run allocated, freed at last use */
    float *ws;         /* convolution scratch, grown to the largest need */
    size_t ws_cap;     /* floats in ws */
    bool calibrate;    /* set BN running statistics from the batch first */
} Interp;

/* One adapter per op. y is the output buffer (numel of the node's output
 * shape), NULL for params, which expose their bound data instead. */
typedef bool InterpFn(Interp *it, const Node *n, float *y);

#define OP(E, l, nmin, nmax, ak, fl) static InterpFn interp_##l;
#include "ir/ops.def"
#undef OP

static InterpFn *const interp_table[NOP] = {
#define OP(E, l, nmin, nmax, ak, fl) [OP_##E] = interp_##l,
#include "ir/ops.def"
#undef OP
};

/* ---- helpers for the adapters ---- */

static const Shape *shape_of(const Interp *it, ValueId v) { return &it->g->vals[v].shape; }
static const float *in_data(const Interp *it, const Node *n, uint32_t i)
{
    return it->val[n->in[i]];
}
/* Operand i if present (optional bias, gamma, beta), else NULL. */
static const float *opt_data(const Interp *it, const Node *n, uint32_t i)
{
    return i < n->nin ? it->val[n->in[i]] : NULL;
}

static const char *value_name(const Interp *it, ValueId v)
{
    const char *name = it->g->vals[v].name;
    return name ? name : "<unnamed>";
}

/* The kernel's idea of the output shape must be the IR's: a mismatch would
 * mean writing past the buffer, so it is an error, never trusted. */
static bool check_out(Interp *it, const Node *n, bool kernel_ok, int64_t c, int64_t h,
                      int64_t w)
{
    const Shape *s = shape_of(it, n->out);
    Shape k = shape4(s->d[0], c, h, w);
    if (kernel_ok && shape_eq(s, &k))
        return true;
    char a[96], b[96];
    diag_error(it->d, n->loc, "%s: operands give output %s, but the graph says %s",
               op_info[n->op].name, kernel_ok ? shape_str(&k, a, sizeof a) : "nothing valid",
               shape_str(s, b, sizeof b));
    return false;
}

static bool need_ws(Interp *it, const Node *n, size_t floats)
{
    if (floats <= it->ws_cap)
        return true;
    float *ws = realloc(it->ws, floats * sizeof *ws);
    if (!ws) {
        diag_error(it->d, n->loc, "%s: out of memory for %zu floats of scratch",
                   op_info[n->op].name, floats);
        return false;
    }
    it->ws = ws, it->ws_cap = floats;
    return true;
}

static RtPool2d pool_geometry(const Interp *it, const Node *n)
{
    const Shape *x = shape_of(it, n->in[0]);
    const Pool2dAttrs *a = &n->attrs.pool;
    RtPool2d p = {x->d[0], x->d[1], x->d[2], x->d[3], {a->kernel[0], a->kernel[1]},
                  {a->stride[0], a->stride[1]}, {a->pad[0], a->pad[1], a->pad[2], a->pad[3]},
                  a->count_include_pad};
    return p;
}

/* ---- adapters, in ops.def order ---- */

static bool interp_param(Interp *it, const Node *n, float *y)
{
    (void)y;
    const Value *v = &it->g->vals[n->out];
    if (!v->data) {
        diag_error(it->d, n->loc, "param '%s' has no data", value_name(it, n->out));
        return false;
    }
    it->val[n->out] = v->data;
    return true;
}

/* y = act(x) for a fused activation (FusedAct) over numel floats; y may
 * equal x. */
static void fused_act(int act, int64_t numel, const float *x, float *y)
{
    if (act == ACT_RELU)
        rt_ref_relu(numel, x, y);
    else if (x != y)
        memcpy(y, x, (size_t)numel * sizeof *y);
}

/* y = act(conv(pre(x), w) + b + addend), composed of the kernels the
 * unfused ops run, in their order, so fusion never changes a bit: pre
 * writes relu(x) into scratch after the conv's own, the addend is added
 * after the bias (a + b == b + a in IEEE arithmetic), act runs last. */
static bool interp_conv2d(Interp *it, const Node *n, float *y)
{
    const Shape *x = shape_of(it, n->in[0]), *w = shape_of(it, n->in[1]);
    const Conv2dAttrs *a = &n->attrs.conv;
    /* x[N,C,H,W] * w[OC, C/groups, KH, KW] -> y[N,OC,OH,OW] */
    RtConv2d p = {x->d[0], x->d[1], x->d[2], x->d[3], w->d[0], w->d[2], w->d[3],
                  {a->stride[0], a->stride[1]}, {a->pad[0], a->pad[1], a->pad[2], a->pad[3]},
                  {a->dilation[0], a->dilation[1]}, a->groups};
    int64_t oh = 0, ow = 0, xn = a->pre ? shape_numel(x) : 0;
    size_t conv_ws = rt_f32_conv2d_workspace(&p);
    bool ok = w->d[1] * a->groups == x->d[1] && rt_conv2d_out_hw(&p, &oh, &ow);
    if (!check_out(it, n, ok, p.oc, oh, ow) || !need_ws(it, n, conv_ws + (size_t)xn))
        return false;
    const float *xd = in_data(it, n, 0);
    if (a->pre) {
        fused_act(a->pre, xn, xd, it->ws + conv_ws);
        xd = it->ws + conv_ws;
    }
    ValueId b = ir_conv_bias(n), r = ir_conv_addend(n);
    rt_f32_conv2d(&p, xd, in_data(it, n, 1), b ? it->val[b] : NULL, y, it->ws);
    int64_t numel = shape_numel(shape_of(it, n->out));
    if (r)
        rt_ref_add(numel, y, it->val[r], y);
    fused_act(a->act, numel, y, y);
    return true;
}

/* Calibration: the BN's running mean and (biased) variance become the
 * statistics of its actual input, per channel over N, H, W, in double. */
static void calibrate_batchnorm(Interp *it, const Node *n)
{
    const Shape *x = shape_of(it, n->in[0]);
    const float *xd = in_data(it, n, 0);
    float *mean = it->g->vals[n->in[1]].data, *var = it->g->vals[n->in[2]].data;
    int64_t hw = x->d[2] * x->d[3];
    for (int64_t c = 0; c < x->d[1]; c++) {
        double s = 0, sq = 0;
        for (int64_t b = 0; b < x->d[0]; b++) {
            const float *p = xd + (b * x->d[1] + c) * hw;
            for (int64_t i = 0; i < hw; i++)
                s += p[i], sq += (double)p[i] * p[i];
        }
        double m = s / (double)(x->d[0] * hw), v = sq / (double)(x->d[0] * hw) - m * m;
        mean[c] = (float)m;
        var[c] = (float)(v > 0 ? v : 0);
    }
}

static bool interp_batchnorm(Interp *it, const Node *n, float *y)
{
    const Shape *x = shape_of(it, n->in[0]);
    if (it->calibrate)
        calibrate_batchnorm(it, n);
    /* operands: x, mean, var [, gamma [, beta]] */
    rt_ref_batchnorm(x->d[0], x->d[1], x->d[2] * x->d[3], in_data(it, n, 0), in_data(it, n, 1),
                     in_data(it, n, 2), opt_data(it, n, 3), opt_data(it, n, 4),
                     n->attrs.bn.eps, y);
    return true;
}

static bool interp_relu(Interp *it, const Node *n, float *y)
{
    rt_ref_relu(shape_numel(shape_of(it, n->out)), in_data(it, n, 0), y);
    return true;
}

static bool interp_leaky_relu(Interp *it, const Node *n, float *y)
{
    rt_ref_leaky_relu(shape_numel(shape_of(it, n->out)), in_data(it, n, 0),
                      n->attrs.leaky.slope, y);
    return true;
}

static bool interp_add(Interp *it, const Node *n, float *y)
{
    rt_ref_add(shape_numel(shape_of(it, n->out)), in_data(it, n, 0), in_data(it, n, 1), y);
    return true;
}

/* Pool geometry of n, checked against the IR's output shape. */
static bool pool_checked(Interp *it, const Node *n, RtPool2d *p)
{
    *p = pool_geometry(it, n);
    int64_t oh = 0, ow = 0;
    bool ok = rt_pool2d_out_hw(p, &oh, &ow); /* before check_out reads oh, ow */
    return check_out(it, n, ok, p->c, oh, ow);
}

static bool interp_maxpool2d(Interp *it, const Node *n, float *y)
{
    RtPool2d p;
    if (!pool_checked(it, n, &p))
        return false;
    rt_ref_maxpool2d(&p, in_data(it, n, 0), y);
    return true;
}

static bool interp_avgpool2d(Interp *it, const Node *n, float *y)
{
    RtPool2d p;
    if (!pool_checked(it, n, &p))
        return false;
    rt_ref_avgpool2d(&p, in_data(it, n, 0), y);
    return true;
}

static bool interp_gavgpool(Interp *it, const Node *n, float *y)
{
    const Shape *x = shape_of(it, n->in[0]);
    if (!check_out(it, n, true, x->d[1], 1, 1))
        return false;
    rt_ref_gavgpool(x->d[0], x->d[1], x->d[2] * x->d[3], in_data(it, n, 0), y);
    return true;
}

static bool interp_concat(Interp *it, const Node *n, float *y)
{
    const float **xs = malloc(n->nin * sizeof *xs);
    int64_t *cs = malloc(n->nin * sizeof *cs);
    if (!xs || !cs) {
        free(xs), free(cs);
        diag_error(it->d, n->loc, "concat: out of memory");
        return false;
    }
    const Shape *out = shape_of(it, n->out);
    int64_t ctot = 0;
    for (uint32_t i = 0; i < n->nin; i++) {
        const Shape *x = shape_of(it, n->in[i]);
        xs[i] = in_data(it, n, i), cs[i] = x->d[1], ctot += x->d[1];
    }
    bool ok = check_out(it, n, true, ctot, out->d[2], out->d[3]);
    if (ok)
        rt_ref_concat(out->d[0], out->d[2] * out->d[3], (int)n->nin, xs, cs, y);
    free(xs), free(cs);
    return ok;
}

static bool interp_crop(Interp *it, const Node *n, float *y)
{
    const Shape *x = shape_of(it, n->in[0]);
    const CropAttrs *a = &n->attrs.crop;
    bool ok = a->top >= 0 && a->left >= 0 && a->top < x->d[2] && a->left < x->d[3];
    int64_t oh = x->d[2] - a->top, ow = x->d[3] - a->left;
    if (!check_out(it, n, ok, x->d[1], oh, ow))
        return false;
    rt_ref_crop(x->d[0], x->d[1], x->d[2], x->d[3], a->top, a->left, oh, ow, in_data(it, n, 0),
                y);
    return true;
}

static bool interp_space_to_batch(Interp *it, const Node *n, float *y)
{
    const Shape *x = shape_of(it, n->in[0]), *out = shape_of(it, n->out);
    const S2bAttrs *a = &n->attrs.s2b;
    rt_ref_space_to_batch(x->d[0], x->d[1], x->d[2], x->d[3], a->block, a->pad[0], a->pad[1],
                          out->d[2], out->d[3], in_data(it, n, 0), y);
    return true;
}

static bool interp_batch_to_space(Interp *it, const Node *n, float *y)
{
    const Shape *x = shape_of(it, n->in[0]), *out = shape_of(it, n->out);
    const B2sAttrs *a = &n->attrs.b2s;
    rt_ref_batch_to_space(out->d[0], x->d[1], x->d[2], x->d[3], a->block, a->crop[0],
                          a->crop[1], out->d[2], out->d[3], in_data(it, n, 0), y);
    return true;
}

static bool interp_zero(Interp *it, const Node *n, float *y)
{
    const Shape *x = shape_of(it, n->in[0]);
    int s = n->attrs.zero.stride;
    if (!check_out(it, n, s >= 1, x->d[1], rt_zero_out(x->d[2], s), rt_zero_out(x->d[3], s)))
        return false;
    rt_ref_zero(shape_numel(shape_of(it, n->out)), y);
    return true;
}

/* u8 results live in buffers sized for floats; only their bytes are used */
static bool interp_argmax(Interp *it, const Node *n, float *y)
{
    const Shape *x = shape_of(it, n->in[0]);
    rt_ref_argmax(x->d[0], x->d[1], x->d[2] * x->d[3], in_data(it, n, 0), (uint8_t *)(void *)y);
    return true;
}

static bool interp_softmax(Interp *it, const Node *n, float *y)
{
    const Shape *x = shape_of(it, n->in[0]);
    int64_t k = x->d[x->rank - 1];
    rt_ref_softmax(shape_numel(x) / k, k, in_data(it, n, 0), y);
    return true;
}

static bool interp_scale(Interp *it, const Node *n, float *y)
{
    float s = in_data(it, n, 1)[n->attrs.index.index];
    rt_ref_scale(shape_numel(shape_of(it, n->out)), in_data(it, n, 0), s, y);
    return true;
}

static bool interp_linear(Interp *it, const Node *n, float *y)
{
    /* x[N,C] or [N,C,1,1], w[K,C] -> y[N,K] */
    const Shape *x = shape_of(it, n->in[0]), *w = shape_of(it, n->in[1]);
    const Shape *out = shape_of(it, n->out);
    if (w->d[1] != x->d[1] || out->rank != 2 || out->d[0] != x->d[0] || out->d[1] != w->d[0] ||
        shape_numel(x) != x->d[0] * x->d[1]) {
        diag_error(it->d, n->loc, "linear: operand shapes disagree with the output shape");
        return false;
    }
    rt_ref_linear(x->d[0], x->d[1], w->d[0], in_data(it, n, 0), in_data(it, n, 1),
                  opt_data(it, n, 2), y);
    return true;
}

/* x[N,C,H,W] -> y[N,C,size[0],size[1]] */
static bool interp_resize_bilinear(Interp *it, const Node *n, float *y)
{
    const Shape *x = shape_of(it, n->in[0]);
    const ResizeAttrs *a = &n->attrs.resize;
    bool ok = a->size[0] >= 1 && a->size[1] >= 1 && (a->align_corners & ~1) == 0 &&
              x->d[2] >= 1 && x->d[3] >= 1;
    if (!check_out(it, n, ok, x->d[1], a->size[0], a->size[1]))
        return false;
    rt_ref_resize_bilinear(x->d[0] * x->d[1], x->d[2], x->d[3], a->size[0], a->size[1],
                           a->align_corners, in_data(it, n, 0), y);
    return true;
}

/* ---- driver ---- */

/* Writes value v (data p) as trace_dir/<name>.bin if it is named. */
static bool trace_value(Interp *it, const char *dir, ValueId v, const float *p)
{
    const Value *val = &it->g->vals[v];
    if (!dir || !val->name)
        return true;
    size_t len = strlen(dir) + strlen(val->name) + 6;
    char *path = malloc(len);
    if (!path) {
        diag_error(it->d, val->loc, "out of memory tracing '%s'", val->name);
        return false;
    }
    snprintf(path, len, "%s/%s.bin", dir, val->name);
    size_t count = (size_t)shape_numel(&val->shape);
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(p, dtype_size(val->dtype), count, f) == count;
    int err = errno;
    if (f && fclose(f) != 0 && ok)
        ok = false, err = errno;
    if (!ok)
        diag_error(it->d, val->loc, "cannot write trace file '%s': %s", path, strerror(err));
    free(path);
    return ok;
}

static void release(Interp *it, ValueId v)
{
    free(it->own[v]);
    it->own[v] = NULL;
    it->val[v] = NULL;
}

/* Elementwise ops (OPF_ELEMWISE in ops.def; their kernels allow y == x)
 * write over an operand this node reads last, if this run owns it and it
 * has the output's size: no malloc, no page faults, half the traffic. The
 * buffer moves to the output; the operand keeps a view until released. */
static float *inplace_buffer(Interp *it, const Node *n, NodeId id, const uint32_t *last)
{
    if (!(op_info[n->op].flags & OPF_ELEMWISE))
        return NULL;
    int64_t numel = shape_numel(shape_of(it, n->out));
    for (uint32_t i = 0; i < n->nin; i++) {
        ValueId v = n->in[i];
        if (it->own[v] && last[v] == id && shape_numel(shape_of(it, v)) == numel) {
            float *y = it->own[v];
            it->own[v] = NULL;
            return y;
        }
    }
    return NULL;
}

/* Runs node id; on success its output is in it->val and the buffers of
 * operands it read last are freed. */
static bool run_node(Interp *it, NodeId id, const uint32_t *last, const char *trace_dir)
{
    const Node *n = &it->g->nodes[id];
    for (uint32_t i = 0; i < n->nin; i++)
        if (!it->val[n->in[i]]) {
            diag_error(it->d, n->loc, "%s: operand %u is not computed before use",
                       op_info[n->op].name, i);
            return false;
        }
    if (op_info[n->op].flags & OPF_PARAM)
        return interp_param(it, n, NULL);
    int64_t numel = shape_numel(shape_of(it, n->out));
    float *y = inplace_buffer(it, n, id, last);
    if (!y)
        y = malloc((size_t)(numel > 0 ? numel : 1) * sizeof *y);
    if (!y) {
        diag_error(it->d, n->loc, "%s: out of memory for %lld floats of output",
                   op_info[n->op].name, (long long)numel);
        return false;
    }
    it->own[n->out] = y;
    it->val[n->out] = y;
    if (!interp_table[n->op](it, n, y) || !trace_value(it, trace_dir, n->out, y))
        return false;
    for (uint32_t i = 0; i < n->nin; i++)
        if (last[n->in[i]] == id)
            release(it, n->in[i]);
    if (last[n->out] < id) /* never read and not an output */
        release(it, n->out);
    return true;
}

static bool interp_run(const Graph *g, const float *input, void *output, const char *trace_dir,
                       bool calibrate, Diag *d)
{
    Loc none = {NULL, 0, 0};
    if (g->ninput != 1 || g->noutput != 1) {
        diag_error(d, none, "interpreter: graph '%s' has %u inputs and %u outputs, needs 1 and 1",
                   g->name ? g->name : "", g->ninput, g->noutput);
        return false;
    }
    Interp it = {g, d, calloc(g->nval, sizeof *it.val), calloc(g->nval, sizeof *it.own), NULL, 0,
                 calibrate};
    bool ok = it.val && it.own;
    if (!ok)
        diag_error(d, none, "interpreter: out of memory for %u values", g->nval);
    if (ok) {
        const uint32_t *last = ir_fill_last_use(g);
        ValueId in = g->inputs[0], out = g->outputs[0];
        it.val[in] = input;
        ok = trace_value(&it, trace_dir, in, input);
        for (NodeId id = 1; ok && id < g->nnode; id++)
            if (g->nodes[id].op != OP_NONE)
                ok = run_node(&it, id, last, trace_dir);
        if (ok && !it.val[out]) {
            diag_error(d, none, "interpreter: graph output is never computed");
            ok = false;
        }
        if (ok)
            memcpy(output, it.val[out],
                   (size_t)shape_numel(&g->vals[out].shape) * dtype_size(g->vals[out].dtype));
    }
    for (uint32_t v = 0; it.own && v < g->nval; v++)
        free(it.own[v]);
    free(it.own), free(it.val), free(it.ws);
    return ok;
}

bool rt_interp_run(const Graph *g, const float *input, void *output, const char *trace_dir,
                   Diag *d)
{
    return interp_run(g, input, output, trace_dir, false, d);
}

bool rt_interp_calibrate_bn(Graph *g, const float *input, Diag *d)
{
    for (NodeId id = 1; id < g->nnode; id++) {
        const Node *n = &g->nodes[id];
        if (n->op == OP_BATCHNORM && (g->nodes[g->vals[n->in[1]].producer].op != OP_PARAM ||
                                      g->nodes[g->vals[n->in[2]].producer].op != OP_PARAM)) {
            diag_error(d, n->loc, "batchnorm: running statistics must be params to calibrate");
            return false;
        }
    }
    if (g->noutput != 1)
        return interp_run(g, input, NULL, NULL, true, d); /* reports the arity */
    float *out = malloc((size_t)shape_numel(&g->vals[g->outputs[0]].shape) * sizeof *out);
    if (!out) {
        diag_error(d, loc_file(NULL), "interpreter: out of memory");
        return false;
    }
    bool ok = interp_run(g, input, out, NULL, true, d);
    free(out);
    return ok;
}
