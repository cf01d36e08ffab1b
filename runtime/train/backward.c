/* backward.c — reverse-mode differentiation of a Graph over the tape.
 *
 * Dispatch is a fourth table expanded from ir/ops.def: every row needs a
 * grad_<lname>(Tape *, const Node *, dy, dx) hook, so an op without one
 * fails to build. The driver walks the nodes in reverse topological order;
 * a node whose output received no gradient is skipped. Before calling a
 * hook it resolves, per operand, the buffer its gradient accumulates into:
 * NULL where no gradient is wanted (running statistics, values that depend
 * on no trainable param nor the input), so hooks pass NULL straight to the
 * runtime/ref/grad.h kernels, which then skip that gradient. Every
 * contribution is added, never stored, so a value read by several nodes
 * (or twice by one) gets the sum. A node's output gradient is freed once
 * the node has passed it on: reverse order guarantees every reader of the
 * value came later in the graph and so has already contributed.
 *
 * rt_grad_reads says, per op, which forward data its hook reads; tape.c
 * keeps exactly those values after a forward, and the accessors below
 * check every read against it, so a hook reading a value the table does
 * not declare aborts (NASC_ASSERT) instead of reading a reused buffer.
 */
#include "runtime/train/internal.h"

#include <stdlib.h>
#include <string.h>

/* dy: gradient of n's output; dx[i]: where operand i's gradient
 * accumulates, or NULL. False after reporting to t->d. */
typedef bool GradFn(Tape *t, const Node *n, const float *dy, float *const *dx);

#define OP(E, l, nmin, nmax, ak, fl) static GradFn grad_##l;
#include "ir/ops.def"
#undef OP

static GradFn *const grad_table[NOP] = {
#define OP(E, l, nmin, nmax, ak, fl) [OP_##E] = grad_##l,
#include "ir/ops.def"
#undef OP
};

/* What each hook reads of the forward beyond shapes, attrs and batchnorm's
 * saved batch statistics: RD_IN(i) operand i, RD_OUT the output. One
 * READS_<lname> per ops.def row (a missing one does not compile); the
 * comment says what the data is needed for. */
#define READS_param           0
#define READS_conv2d          (RD_IN(0) | RD_IN(1))  /* x for dw, w for dx; never b */
/* x; mean, var (eval mode) and gamma: usually params, kept anyway */
#define READS_batchnorm       (RD_IN(0) | RD_IN(1) | RD_IN(2) | RD_IN(3))
#define READS_relu            RD_OUT                 /* y > 0 exactly where x > 0 */
#define READS_leaky_relu      RD_IN(0)               /* the sign of x */
#define READS_add             0
#define READS_maxpool2d       RD_IN(0)               /* which element won each window */
#define READS_avgpool2d       0
#define READS_gavgpool        0
#define READS_concat          0
#define READS_crop            0
#define READS_zero            0
#define READS_linear          (RD_IN(0) | RD_IN(1))  /* x for dw, w for dx */
#define READS_resize_bilinear 0
#define READS_argmax          0                      /* refused by rt_tape_new */
#define READS_softmax         RD_OUT                 /* dx = y * (dy - sum(dy * y)) */
#define READS_scale           (RD_IN(0) | RD_IN(1))  /* x for ds, s for dx */
#define READS_space_to_batch  0                      /* refused: no backward */
#define READS_batch_to_space  0                      /* refused: no backward */

const uint32_t rt_grad_reads[] = {
#define OP(E, l, nmin, nmax, ak, fl) [OP_##E] = READS_##l,
#include "ir/ops.def"
#undef OP
};
_Static_assert(sizeof rt_grad_reads / sizeof rt_grad_reads[0] == NOP,
               "rt_grad_reads: one entry per ops.def row");

static const Shape *shape_of(const Tape *t, ValueId v) { return &t->g->vals[v].shape; }
/* Operand i's forward data; the table must declare the read. */
static const float *in_data(const Tape *t, const Node *n, uint32_t i)
{
    NASC_ASSERT(i < RD_MAXIN && (rt_grad_reads[n->op] & RD_IN(i)) && t->val[n->in[i]]);
    return t->val[n->in[i]];
}
static const float *opt_data(const Tape *t, const Node *n, uint32_t i)
{
    return i < n->nin ? in_data(t, n, i) : NULL;
}
static const float *out_data(const Tape *t, const Node *n)
{
    NASC_ASSERT((rt_grad_reads[n->op] & RD_OUT) && t->val[n->out]);
    return t->val[n->out];
}
static float *opt_grad(const Node *n, float *const *dx, uint32_t i)
{
    return i < n->nin ? dx[i] : NULL;
}

/* dst += src over numel floats (NULL dst: not wanted). */
static void accumulate(int64_t numel, const float *src, float *dst)
{
    if (!dst)
        return;
    for (int64_t i = 0; i < numel; i++)
        dst[i] += src[i];
}

/* ---- hooks, in ops.def order ---- */

/* A param is a leaf: its gradient buffer is the optimiser's to read. */
static bool grad_param(Tape *t, const Node *n, const float *dy, float *const *dx)
{
    (void)t, (void)n, (void)dy, (void)dx;
    return true;
}

static bool grad_conv2d(Tape *t, const Node *n, const float *dy, float *const *dx)
{
    RtConv2d p = rt_tape_conv_geometry(t->g, n);
    if (!rt_tape_need_ws(t, n, rt_conv2d_backward_workspace(&p)))
        return false;
    rt_conv2d_backward(&p, in_data(t, n, 0), in_data(t, n, 1), dy, dx[0], dx[1],
                       opt_grad(n, dx, 2), t->ws);
    return true;
}

/* Train mode differentiates through the batch statistics the forward
 * saved; eval mode treats the running statistics as constants. */
static bool grad_batchnorm(Tape *t, const Node *n, const float *dy, float *const *dx)
{
    const Shape *x = shape_of(t, n->in[0]);
    int64_t hw = x->d[2] * x->d[3];
    NodeId id = (NodeId)(n - t->g->nodes);
    if (t->mode == RT_TRAIN)
        rt_batchnorm_train_backward(x->d[0], x->d[1], hw, in_data(t, n, 0), opt_data(t, n, 3),
                                    t->bn_mean[id], t->bn_invstd[id], dy, dx[0],
                                    opt_grad(n, dx, 3), opt_grad(n, dx, 4));
    else
        rt_batchnorm_eval_backward(x->d[0], x->d[1], hw, in_data(t, n, 0), in_data(t, n, 1),
                                   in_data(t, n, 2), opt_data(t, n, 3), n->attrs.bn.eps, dy,
                                   dx[0], opt_grad(n, dx, 3), opt_grad(n, dx, 4));
    return true;
}

/* From the output: the kernel's mask x > 0 equals y > 0, and the output is
 * often kept anyway (the conv after it reads it) where the input is a
 * mixed-op sum nothing else needs. */
static bool grad_relu(Tape *t, const Node *n, const float *dy, float *const *dx)
{
    if (dx[0])
        rt_relu_backward(shape_numel(shape_of(t, n->out)), out_data(t, n), dy, dx[0]);
    return true;
}

static bool grad_leaky_relu(Tape *t, const Node *n, const float *dy, float *const *dx)
{
    if (dx[0])
        rt_leaky_relu_backward(shape_numel(shape_of(t, n->out)), in_data(t, n, 0),
                               n->attrs.leaky.slope, dy, dx[0]);
    return true;
}

static bool grad_add(Tape *t, const Node *n, const float *dy, float *const *dx)
{
    int64_t numel = shape_numel(shape_of(t, n->out));
    accumulate(numel, dy, dx[0]);
    accumulate(numel, dy, dx[1]);
    return true;
}

static bool grad_maxpool2d(Tape *t, const Node *n, const float *dy, float *const *dx)
{
    RtPool2d p = rt_tape_pool_geometry(t->g, n);
    if (dx[0])
        rt_maxpool2d_backward(&p, in_data(t, n, 0), dy, dx[0]);
    return true;
}

static bool grad_avgpool2d(Tape *t, const Node *n, const float *dy, float *const *dx)
{
    RtPool2d p = rt_tape_pool_geometry(t->g, n);
    if (dx[0])
        rt_avgpool2d_backward(&p, dy, dx[0]);
    return true;
}

static bool grad_gavgpool(Tape *t, const Node *n, const float *dy, float *const *dx)
{
    const Shape *x = shape_of(t, n->in[0]);
    if (dx[0])
        rt_gavgpool_backward(x->d[0], x->d[1], x->d[2] * x->d[3], dy, dx[0]);
    return true;
}

static bool grad_concat(Tape *t, const Node *n, const float *dy, float *const *dx)
{
    int64_t *cs = malloc(n->nin * sizeof *cs);
    if (!cs) {
        diag_error(t->d, n->loc, "concat: out of memory");
        return false;
    }
    for (uint32_t i = 0; i < n->nin; i++)
        cs[i] = shape_of(t, n->in[i])->d[1];
    const Shape *out = shape_of(t, n->out);
    rt_concat_backward(out->d[0], out->d[2] * out->d[3], (int)n->nin, cs, dy, dx);
    free(cs);
    return true;
}

static bool grad_crop(Tape *t, const Node *n, const float *dy, float *const *dx)
{
    const Shape *x = shape_of(t, n->in[0]), *out = shape_of(t, n->out);
    if (dx[0])
        rt_crop_backward(x->d[0], x->d[1], x->d[2], x->d[3], n->attrs.crop.top,
                         n->attrs.crop.left, out->d[2], out->d[3], dy, dx[0]);
    return true;
}

/* The dilated-conv lowering's data movement: only in graphs lowered for
 * codegen (passes/lower_dilation.c), which are not trained. */
static bool grad_space_to_batch(Tape *t, const Node *n, const float *dy, float *const *dx)
{
    (void)dy, (void)dx;
    diag_error(t->d, n->loc, "space_to_batch: no backward");
    return false;
}

static bool grad_batch_to_space(Tape *t, const Node *n, const float *dy, float *const *dx)
{
    (void)dy, (void)dx;
    diag_error(t->d, n->loc, "batch_to_space: no backward");
    return false;
}

/* The output is constant: nothing reaches the operand (the driver never
 * gets here, as a zero's output carries no gradient). */
static bool grad_zero(Tape *t, const Node *n, const float *dy, float *const *dx)
{
    (void)t, (void)n, (void)dy, (void)dx;
    return true;
}

static bool grad_linear(Tape *t, const Node *n, const float *dy, float *const *dx)
{
    /* x[N,C] or [N,C,1,1], w[K,C] -> y[N,K] */
    const Shape *x = shape_of(t, n->in[0]), *w = shape_of(t, n->in[1]);
    rt_linear_backward(x->d[0], x->d[1], w->d[0], in_data(t, n, 0), in_data(t, n, 1), dy,
                       dx[0], dx[1], opt_grad(n, dx, 2));
    return true;
}

static bool grad_resize_bilinear(Tape *t, const Node *n, const float *dy, float *const *dx)
{
    const Shape *x = shape_of(t, n->in[0]);
    const ResizeAttrs *a = &n->attrs.resize;
    if (dx[0])
        rt_resize_bilinear_backward(x->d[0] * x->d[1], x->d[2], x->d[3], a->size[0],
                                    a->size[1], a->align_corners, dy, dx[0]);
    return true;
}

static bool grad_argmax(Tape *t, const Node *n, const float *dy, float *const *dx)
{
    (void)dy, (void)dx;
    diag_error(t->d, n->loc, "argmax: not differentiable (a u8 label map)");
    return false;
}

static bool grad_softmax(Tape *t, const Node *n, const float *dy, float *const *dx)
{
    const Shape *x = shape_of(t, n->in[0]);
    int64_t k = x->d[x->rank - 1];
    if (dx[0])
        rt_softmax_backward(shape_numel(x) / k, k, out_data(t, n), dy, dx[0]);
    return true;
}

/* y = x * s.flat[index]: only that element of s gets a gradient. */
static bool grad_scale(Tape *t, const Node *n, const float *dy, float *const *dx)
{
    int index = n->attrs.index.index;
    float s = in_data(t, n, 1)[index];
    rt_scale_backward(shape_numel(shape_of(t, n->out)), in_data(t, n, 0), s, dy, dx[0],
                      dx[1] ? &dx[1][index] : NULL);
    return true;
}

/* ---- driver ---- */

/* The buffer v's gradient accumulates into, allocated zeroed at its first
 * contribution; NULL (and *ok untouched) if v takes no gradient. */
static float *grad_buffer(Tape *t, ValueId v, bool *ok)
{
    if (!t->needs_grad[v] || t->grad[v])
        return t->grad[v];
    int64_t numel = shape_numel(shape_of(t, v));
    t->grad[v] = calloc((size_t)(numel > 0 ? numel : 1), sizeof(float));
    if (!t->grad[v]) {
        diag_error(t->d, t->g->vals[v].loc, "backward: out of memory for %lld floats of "
                   "gradient", (long long)numel);
        *ok = false;
    }
    return t->grad[v];
}

static void free_activation_grad(Tape *t, ValueId v)
{
    if (!t->persistent[v]) {
        free(t->grad[v]);
        t->grad[v] = NULL;
    }
}

/* Passes node id's output gradient to its operands, then frees it. */
static bool backward_node(Tape *t, NodeId id, float **dx)
{
    const Node *n = &t->g->nodes[id];
    const float *dy = t->grad[n->out];
    if (n->op == OP_NONE || n->op == OP_PARAM || !dy)
        return true;
    bool ok = true, any = false;
    for (uint32_t i = 0; i < n->nin && ok; i++) {
        dx[i] = grad_buffer(t, n->in[i], &ok);
        any = any || dx[i];
    }
    if (ok && any)
        ok = grad_table[n->op](t, n, dy, dx);
    free_activation_grad(t, n->out);
    return ok;
}

bool rt_tape_backward(Tape *t, const float *dout, Diag *d)
{
    const Graph *g = t->g;
    if (!t->have_forward) {
        diag_error(d, loc_file(NULL), "backward: no forward to differentiate on this tape");
        return false;
    }
    ValueId out = g->outputs[0];
    if (!t->needs_grad[out])
        return true; /* the output depends on nothing trainable */
    uint32_t maxin = 1;
    for (NodeId id = 1; id < g->nnode; id++)
        maxin = g->nodes[id].nin > maxin ? g->nodes[id].nin : maxin;
    float **dx = malloc(maxin * sizeof *dx);
    t->d = d;
    bool ok = dx != NULL;
    if (!ok)
        diag_error(d, loc_file(NULL), "backward: out of memory");
    float *dy = ok ? grad_buffer(t, out, &ok) : NULL;
    if (ok)
        accumulate(shape_numel(shape_of(t, out)), dout, dy);
    for (NodeId id = g->nnode - 1; ok && id >= 1; id--)
        ok = backward_node(t, id, dx);
    for (ValueId v = 1; v < g->nval; v++) /* left over only after an error */
        free_activation_grad(t, v);
    free(dx);
    t->d = NULL;
    return ok;
}
