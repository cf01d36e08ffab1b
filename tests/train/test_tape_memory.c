/* test_tape_memory.c — the tape keeps only what backward reads.
 *
 * A two-level DARTS-like supernet (N=2, 4 channels, 6x6):
 *
 *   x -> conv3x3 -> bn(affine) = s0
 *   mixed(v, alpha[5]) = scale(bn'(conv3x3(relu(v))), 0) + scale(bn'(maxpool3(v)), 1)
 *                      + scale(avgpool3(v), 2) + scale(v, 3)    (bn': affine=False;
 *                                                                alpha[4] is DARTS' 'none')
 *   m1 = mixed(s0, alpha1);  m2 = mixed(m1, alpha2)
 *   out = linear(gavgpool(concat(m1, m2)))
 *
 * Checks, against the contract of train.h and runtime/train/README.md:
 *  - after a forward, rt_tape_value is non-NULL exactly for the graph
 *    output and the values some op's backward reads, by this test's own
 *    list of the kernels' operands (relu and softmax: their output; conv,
 *    linear, scale: both data operands; batchnorm: x and its stats / gamma;
 *    maxpool: x), so every scale output and partial sum is released;
 *  - rt_tape_bytes is below the bytes of all activations and at least the
 *    bytes of the kept ones;
 *  - the eval forward equals the interpreter (1e-6: same kernels, the
 *    scratch reuse must not change a value);
 *  - gradients of both alphas (every element), the input and the second
 *    level's conv weight (samples) match central differences of
 *    sum(out * r) computed by the interpreter, an oracle that shares no
 *    buffer plan with the tape (h = 1e-3, |fd - an| <= 2e-3 + 1e-2 * |g|,
 *    the tolerance and kink rule of test_tape.c: at h = 1e-3 float rounding
 *    of the forward costs ~1e-4 relative, a relu / max-pool kink inside
 *    [p-h, p+h] is recognised by one-sided differences that disagree);
 *  - a second forward + backward on another input gives the gradients of
 *    a fresh tape bit for bit (scratch from the first step leaks nothing).
 */
#include "runtime/interp.h"
#include "runtime/train/train.h"
#include "tests/check.h"

#include <math.h>

enum { N = 2, CIN = 3, H = 6, C = 4, K = 3, NALPHA = 5 };

typedef struct Net {
    Arena arena;
    Graph *g;
    ValueId x, out, alpha[2], conv2_w;
    uint64_t rng;
    int nparam; /* names must be unique: "<name>.<nparam>" */
} Net;

static double uniform(uint64_t *s, double lo, double hi)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return lo + (hi - lo) * (double)(*s >> 11) / 9007199254740992.0;
}

static ValueId param(Net *net, Shape s, const char *name, double lo, double hi)
{
    name = arena_printf(&net->arena, "%s.%d", name, net->nparam++);
    ValueId v = ir_graph_add_param(net->g, s, name, loc_file("test"));
    int64_t n = shape_numel(&s);
    float *p = arena_alloc(&net->arena, (size_t)n * sizeof *p);
    for (int64_t i = 0; i < n; i++)
        p[i] = (float)uniform(&net->rng, lo, hi);
    net->g->vals[v].data = p;
    return v;
}

static ValueId node(Net *net, Op op, const ValueId *in, uint32_t nin, const Attrs *at)
{
    Diag d;
    diag_init(&d);
    ValueId v = ir_graph_add_node(net->g, op, in, nin, at, loc_file("test"), &d);
    if (!v) {
        diag_print(&d, stderr);
        abort();
    }
    diag_free(&d);
    return v;
}

static ValueId node1(Net *net, Op op, ValueId a, const Attrs *at)
{
    return node(net, op, &a, 1, at);
}
static ValueId node2(Net *net, Op op, ValueId a, ValueId b, const Attrs *at)
{
    ValueId in[2] = {a, b};
    return node(net, op, in, 2, at);
}

static ValueId conv3x3(Net *n, ValueId x, int cin, const char *name, ValueId *w)
{
    Attrs a = {0};
    a.conv = (Conv2dAttrs){.stride = {1, 1}, .pad = {1, 1, 1, 1}, .dilation = {1, 1}, .groups = 1};
    *w = param(n, shape4(C, cin, 3, 3), name, -0.4, 0.4);
    return node2(n, OP_CONV2D, x, *w, &a);
}

/* BatchNorm with running statistics; affine adds gamma and beta. */
static ValueId bn(Net *n, ValueId x, bool affine)
{
    Shape sc = shape_make(1, (int64_t[]){C});
    Attrs a = {0};
    a.bn.eps = 1e-5f;
    ValueId in[5] = {x, param(n, sc, "bn.running_mean", -0.2, 0.2),
                     param(n, sc, "bn.running_var", 0.5, 1.5)};
    if (affine)
        in[3] = param(n, sc, "bn.weight", 0.5, 1.5), in[4] = param(n, sc, "bn.bias", -0.2, 0.2);
    return node(n, OP_BATCHNORM, in, affine ? 5 : 3, &a);
}

static ValueId mixed(Net *n, ValueId v, ValueId alpha, ValueId *conv_w)
{
    Attrs pool = {0};
    pool.pool = (Pool2dAttrs){{3, 3}, {1, 1}, {1, 1, 1, 1}, 0};
    ValueId cand[4] = {bn(n, conv3x3(n, node1(n, OP_RELU, v, NULL), C, "mixed.conv", conv_w),
                          false),
                       bn(n, node1(n, OP_MAXPOOL2D, v, &pool), false),
                       node1(n, OP_AVGPOOL2D, v, &pool), v};
    ValueId w = node1(n, OP_SOFTMAX, alpha, NULL), sum = 0;
    for (int k = 0; k < 4; k++) {
        Attrs ix = {0};
        ix.index.index = k;
        ValueId term = node2(n, OP_SCALE, cand[k], w, &ix);
        sum = sum ? node2(n, OP_ADD, sum, term, NULL) : term;
    }
    return sum;
}

static void build(Net *n)
{
    arena_init(&n->arena);
    n->g = ir_graph_new(&n->arena, "tape_memory");
    n->rng = 777;
    n->nparam = 0;
    n->x = ir_graph_add_input(n->g, shape4(N, CIN, H, H), "x");
    ValueId w0;
    ValueId s0 = bn(n, conv3x3(n, n->x, CIN, "stem.w", &w0), true);
    ValueId w1;
    for (int i = 0; i < 2; i++)
        n->alpha[i] = param(n, shape_make(1, (int64_t[]){NALPHA}), "alpha", -1.0, 1.0);
    ValueId m1 = mixed(n, s0, n->alpha[0], &w1);
    ValueId m2 = mixed(n, m1, n->alpha[1], &n->conv2_w);
    ValueId gp = node1(n, OP_GAVGPOOL, node2(n, OP_CONCAT, m1, m2, NULL), NULL);
    ValueId lin[3] = {gp, param(n, shape_make(2, (int64_t[]){K, 2 * C}), "fc.w", -0.5, 0.5),
                      param(n, shape_make(1, (int64_t[]){K}), "fc.b", -0.1, 0.1)};
    n->out = node(n, OP_LINEAR, lin, 3, NULL);
    ir_graph_add_output(n->g, n->out);
}

/* This test's statement of which activations backward needs. */
static bool *expected_kept(const Graph *g)
{
    bool *kept = calloc(g->nval, sizeof *kept);
    kept[g->outputs[0]] = true;
    for (NodeId id = 1; id < g->nnode; id++) {
        const Node *n = &g->nodes[id];
        bool in0 = n->op == OP_MAXPOOL2D || n->op == OP_BATCHNORM;
        bool in01 = n->op == OP_CONV2D || n->op == OP_LINEAR || n->op == OP_SCALE;
        for (uint32_t i = 0; i < n->nin; i++)
            kept[n->in[i]] = kept[n->in[i]] || (i == 0 && (in0 || in01)) || (i == 1 && in01) ||
                             (n->op == OP_BATCHNORM && i <= 3);
        kept[n->out] = kept[n->out] || n->op == OP_RELU || n->op == OP_SOFTMAX;
    }
    return kept;
}

static void check_kept(Net *net, Tape *t)
{
    const Graph *g = net->g;
    bool *want = expected_kept(g);
    size_t all = 0, kept = 0;
    int released_sums = 0;
    for (NodeId id = 1; id < g->nnode; id++) {
        const Node *n = &g->nodes[id];
        if (n->op == OP_PARAM)
            continue;
        size_t bytes = (size_t)shape_numel(&g->vals[n->out].shape) * sizeof(float);
        bool have = rt_tape_value(t, n->out) != NULL;
        all += bytes, kept += have ? bytes : 0;
        CHECKF(have == want[n->out], "%s output %u: kept %d, expected %d", op_info[n->op].name,
               n->out, have, want[n->out]);
        if (n->op == OP_SCALE || n->op == OP_ADD)
            released_sums += !have;
    }
    size_t tb = rt_tape_bytes(t);
    printf("activations %zu bytes, kept %zu, tape holds %zu (scratch %zu); %d of 14 scale/add "
           "outputs released\n", all, kept, tb, tb - kept, released_sums);
    CHECK(tb < all && tb >= kept);
    /* m1 stays (maxpool and the identity candidate read it); the other 12 go */
    CHECK(released_sums == 13);
    CHECK(rt_tape_value(t, net->x) && rt_tape_value(t, net->alpha[0]) && rt_tape_output(t));
    free(want);
}

/* sum(out * r) in double, forward by the interpreter (eval mode). */
static double interp_loss(const Graph *g, const float *x, const float *r)
{
    Diag d;
    diag_init(&d);
    float y[N * K];
    CHECK(rt_interp_run(g, x, y, NULL, &d));
    diag_free(&d);
    double s = 0;
    for (int i = 0; i < N * K; i++)
        s += (double)y[i] * r[i];
    return s;
}

typedef struct Fd {
    const Graph *g;
    float *x, *r;
    int checked, skipped;
    double worst;
} Fd;

static void check_element(Fd *f, float *p, float an, const char *what, int64_t idx)
{
    const float h = 1e-3f;
    float p0 = *p, plus = p0 + h, minus = p0 - h;
    double l0 = interp_loss(f->g, f->x, f->r);
    *p = plus;
    double lp = interp_loss(f->g, f->x, f->r);
    *p = minus;
    double lm = interp_loss(f->g, f->x, f->r);
    *p = p0;
    double fd = (lp - lm) / ((double)plus - minus);
    double right = (lp - l0) / ((double)plus - p0), left = (l0 - lm) / ((double)p0 - minus);
    double bound = 2e-3 + 1e-2 * fmax(fabs(fd), fabs((double)an));
    if (fabs(right - left) > bound) { /* a kink inside [p-h, p+h] */
        f->skipped++;
        return;
    }
    f->worst = fmax(f->worst, fabs(fd - an) / bound);
    f->checked++;
    CHECKF(fabs(fd - an) <= bound, "%s[%lld]: analytic %.6g, finite difference %.6g", what,
           (long long)idx, an, fd);
}

static void check_tensor(Fd *f, float *data, const float *grad, int64_t numel, const char *what)
{
    int64_t step = numel > 24 ? numel / 24 : 1;
    for (int64_t i = 0; i < numel; i += step)
        check_element(f, &data[i], grad[i], what, i);
}

/* Forward (eval) + backward of x on a tape; false on error. */
static bool step(Tape *t, const float *x, const float *r)
{
    Diag d;
    diag_init(&d);
    rt_tape_zero_grad(t);
    bool ok = rt_tape_forward(t, x, RT_EVAL, &d) && rt_tape_backward(t, r, &d);
    diag_print(&d, stderr);
    diag_free(&d);
    return ok;
}

int main(void)
{
    Net net;
    build(&net);
    const Graph *g = net.g;
    Diag d;
    diag_init(&d);
    Tape *t = rt_tape_new(g, NULL, &d);
    float x[N * CIN * H * H], x2[N * CIN * H * H], r[N * K], y[N * K];
    for (int i = 0; i < N * CIN * H * H; i++)
        x[i] = (float)uniform(&net.rng, -1, 1), x2[i] = (float)uniform(&net.rng, -1, 1);
    for (int i = 0; i < N * K; i++)
        r[i] = (float)uniform(&net.rng, -1, 1);
    CHECK(t && step(t, x, r));
    if (!t)
        return 1;
    check_kept(&net, t);

    CHECK(rt_interp_run(g, x, y, NULL, &d));
    double diff = 0;
    for (int i = 0; i < N * K; i++)
        diff = fmax(diff, fabs((double)rt_tape_output(t)[i] - y[i]));
    printf("eval forward vs interpreter: max|diff| = %.3g\n", diff);
    CHECK(diff <= 1e-6);

    Fd f = {g, x, r, 0, 0, 0};
    for (int i = 0; i < 2; i++)
        check_tensor(&f, g->vals[net.alpha[i]].data, rt_tape_grad(t, net.alpha[i]), NALPHA,
                     i ? "alpha2" : "alpha1");
    check_tensor(&f, x, rt_tape_grad(t, net.x), N * CIN * H * H, "x");
    check_tensor(&f, g->vals[net.conv2_w].data, rt_tape_grad(t, net.conv2_w), C * C * 9,
                 "conv2.w");
    printf("finite differences: %d checked (worst %.2f of the bound), %d at kinks\n", f.checked,
           f.worst, f.skipped);
    CHECK(f.checked >= 40 && f.skipped * 4 <= f.checked);

    /* a second step on the same tape == a fresh tape, bit for bit */
    Tape *fresh = rt_tape_new(g, NULL, &d);
    CHECK(fresh && step(t, x2, r) && step(fresh, x2, r));
    ValueId check[4] = {net.alpha[0], net.alpha[1], net.x, net.conv2_w};
    for (int i = 0; i < 4 && fresh; i++) {
        size_t bytes = (size_t)shape_numel(&g->vals[check[i]].shape) * sizeof(float);
        CHECKF(memcmp(rt_tape_grad(t, check[i]), rt_tape_grad(fresh, check[i]), bytes) == 0,
               "value %u: second step differs from a fresh tape", check[i]);
    }
    CHECK(d.nerr == 0);
    diag_print(&d, stderr);
    diag_free(&d);
    rt_tape_free(t);
    rt_tape_free(fresh);
    arena_free_all(&net.arena);
    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    return failures != 0;
}
