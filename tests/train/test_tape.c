/* test_tape.c — the training engine (tape forward + backward) against
 * central finite differences of the whole graph, on a small graph that
 * uses every differentiable op:
 *
 *   x -> conv3x3+b -> bn(train|eval, affine) -> relu = r --+-> add(r, r) = rr (one node, twice)
 *   r -> dwconv3x3 s2 (dilation 2) -> bn(affine=False) = d   (r read by 4 nodes)
 *   r -> leaky_relu -> maxpool3 s1 -> add(., r) -> crop(1,1) -> resize 5x5->3x3 = q
 *   rr -> avgpool3 s2 (count_include_pad=0) = a;   zero(r, stride 2) = z
 *   mixed op: softmax(alpha[3]); m = scale(a,0) + scale(d,1) + scale(q,2)
 *   concat(a, d, z, m, q) -> resize 3x3->4x4 (align_corners) -> gavgpool -> linear+b
 *
 * loss = sum(out * r) for a fixed random r, so d loss / d out = r. For the
 * input and every trainable param, the analytic gradient of a sample of
 * elements is compared with (L(p+h) - L(p-h)) / (2h), the loss summed in
 * double; h is the float step actually taken. Train-mode BN runs with
 * momentum 0 so the running statistics do not move between evaluations.
 * Then: forward in eval mode equals the interpreter, running statistics
 * move by the momentum in train mode and get no gradient, gradients
 * accumulate across backward calls until zeroed, and misuse is reported.
 */
#include "runtime/interp.h"
#include "runtime/train/train.h"
#include "tests/check.h"

#include <math.h>

enum { N = 2, CIN = 3, H = 6, C = 4, K = 5, NPARAM_MAX = 16 };

typedef struct Net {
    Arena arena;
    Graph *g;
    ValueId x, out, alpha, bn_mean, bn_var;
    uint64_t rng;
} Net;

static double uniform(uint64_t *s, double lo, double hi)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return lo + (hi - lo) * (double)(*s >> 11) / 9007199254740992.0;
}

static ValueId param(Net *net, Shape s, const char *name, double lo, double hi)
{
    ValueId v = ir_graph_add_param(net->g, s, name, loc_file("test"));
    int64_t n = shape_numel(&s);
    float *p = arena_alloc(&net->arena, (size_t)n * sizeof *p);
    for (int64_t i = 0; i < n; i++)
        p[i] = (float)uniform(&net->rng, lo, hi);
    net->g->vals[v].data = p;
    return v;
}

static ValueId node(Net *net, Op op, ValueId a, ValueId b, const Attrs *at)
{
    Diag d;
    diag_init(&d);
    ValueId in[2] = {a, b};
    ValueId v = ir_graph_add_node(net->g, op, in, b ? 2 : 1, at, loc_file("test"), &d);
    if (!v) {
        diag_print(&d, stderr);
        abort();
    }
    diag_free(&d);
    return v;
}

static ValueId node_n(Net *net, Op op, const ValueId *in, uint32_t nin, const Attrs *at)
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

static Attrs conv_attrs(int stride, int pad, int dil, int groups)
{
    Attrs a = {0};
    a.conv = (Conv2dAttrs){.stride = {stride, stride}, .pad = {pad, pad, pad, pad},
                           .dilation = {dil, dil}, .groups = groups};
    return a;
}

static Attrs pool_attrs(int k, int stride, int pad, int include_pad)
{
    Attrs a = {0};
    a.pool = (Pool2dAttrs){{k, k}, {stride, stride}, {pad, pad, pad, pad}, include_pad};
    return a;
}

static Attrs resize_attrs(int h, int w, int align)
{
    Attrs a = {0};
    a.resize = (ResizeAttrs){{h, w}, align};
    return a;
}

/* The graph of the file comment. */
static void build(Net *net)
{
    arena_init(&net->arena);
    net->g = ir_graph_new(&net->arena, "tape_test");
    net->rng = 12345;
    Net *n = net;
    n->x = ir_graph_add_input(n->g, shape4(N, CIN, H, H), "x");
    Attrs a = conv_attrs(1, 1, 1, 1);
    ValueId cin[3] = {n->x, param(n, shape4(C, CIN, 3, 3), "c1.w", -0.5, 0.5),
                      param(n, shape_make(1, (int64_t[]){C}), "c1.b", -0.2, 0.2)};
    ValueId c1 = node_n(n, OP_CONV2D, cin, 3, &a);
    Shape sc = shape_make(1, (int64_t[]){C});
    n->bn_mean = param(n, sc, "bn1.running_mean", -0.3, 0.3);
    n->bn_var = param(n, sc, "bn1.running_var", 0.5, 1.5);
    Attrs bn = {0};
    bn.bn.eps = 1e-5f;
    ValueId bin[5] = {c1, n->bn_mean, n->bn_var, param(n, sc, "bn1.weight", 0.5, 1.5),
                      param(n, sc, "bn1.bias", -0.2, 0.2)};
    ValueId r = node(n, OP_RELU, node_n(n, OP_BATCHNORM, bin, 5, &bn), 0, NULL);
    ValueId rr = node(n, OP_ADD, r, r, NULL);
    a = conv_attrs(2, 2, 2, C);
    ValueId dconv = node(n, OP_CONV2D, r, param(n, shape4(C, 1, 3, 3), "dw.w", -0.5, 0.5), &a);
    ValueId bin2[3] = {dconv, param(n, sc, "bn2.running_mean", -0.1, 0.1),
                       param(n, sc, "bn2.running_var", 0.5, 1.5)};
    ValueId dv = node_n(n, OP_BATCHNORM, bin2, 3, &bn);
    Attrs lk = {0};
    lk.leaky.slope = 0.1f;
    a = pool_attrs(3, 1, 1, 0);
    ValueId mp = node(n, OP_MAXPOOL2D, node(n, OP_LEAKY_RELU, r, 0, &lk), 0, &a);
    Attrs cr = {0};
    cr.crop = (CropAttrs){1, 1};
    ValueId cropped = node(n, OP_CROP, node(n, OP_ADD, mp, r, NULL), 0, &cr);
    a = resize_attrs(3, 3, 0);
    ValueId q = node(n, OP_RESIZE_BILINEAR, cropped, 0, &a);
    a = pool_attrs(3, 2, 1, 0);
    ValueId av = node(n, OP_AVGPOOL2D, rr, 0, &a);
    Attrs zr = {0};
    zr.zero.stride = 2;
    ValueId z = node(n, OP_ZERO, r, 0, &zr);
    n->alpha = param(n, shape_make(1, (int64_t[]){3}), "alpha", -1.0, 1.0);
    ValueId w = node(n, OP_SOFTMAX, n->alpha, 0, NULL);
    Attrs ix[3];
    memset(ix, 0, sizeof ix);
    for (int i = 0; i < 3; i++)
        ix[i].index.index = i;
    ValueId m = node(n, OP_ADD, node(n, OP_SCALE, av, w, &ix[0]),
                     node(n, OP_SCALE, dv, w, &ix[1]), NULL);
    m = node(n, OP_ADD, m, node(n, OP_SCALE, q, w, &ix[2]), NULL);
    ValueId cat_in[5] = {av, dv, z, m, q};
    ValueId cat = node_n(n, OP_CONCAT, cat_in, 5, NULL);
    a = resize_attrs(4, 4, 1);
    ValueId gp = node(n, OP_GAVGPOOL, node(n, OP_RESIZE_BILINEAR, cat, 0, &a), 0, NULL);
    ValueId lin[3] = {gp, param(n, shape_make(2, (int64_t[]){K, 5 * C}), "fc.w", -0.5, 0.5),
                      param(n, shape_make(1, (int64_t[]){K}), "fc.b", -0.1, 0.1)};
    n->out = node_n(n, OP_LINEAR, lin, 3, NULL);
    ir_graph_add_output(n->g, n->out);
}

/* sum(out * r) in double after a forward of x. */
static double loss_of(Tape *t, const float *x, const float *r, int64_t nout, RtMode mode)
{
    Diag d;
    diag_init(&d);
    bool ok = rt_tape_forward(t, x, mode, &d);
    CHECK(ok);
    diag_free(&d);
    const float *y = rt_tape_output(t);
    double s = 0;
    for (int64_t i = 0; i < nout; i++)
        s += (double)y[i] * r[i];
    return s;
}

typedef struct Fd {
    Tape *t;
    float *x, *r;
    int64_t nout;
    RtMode mode;
    float h;
    double worst; /* largest |fd - an| / (atol + rtol * max(|fd|, |an|)) */
    int checked, skipped;
} Fd;

static const double FD_RTOL = 1e-2, FD_ATOL = 2e-3;

/* Compares the analytic gradient an of the float at *p with central
 * differences of the loss. A relu, leaky-relu or max-pool kink inside
 * [p-h, p+h] makes the central difference meaningless (train-mode BN moves
 * a whole channel at once, so it happens there often): such elements show
 * one-sided differences that disagree beyond the tolerance, are counted as
 * skipped, and their count is bounded by the caller. */
static void check_element(Fd *f, float *p, float an, const char *what, int64_t idx)
{
    float p0 = *p;
    float plus = p0 + f->h, minus = p0 - f->h;
    double l0 = loss_of(f->t, f->x, f->r, f->nout, f->mode);
    *p = plus;
    double lp = loss_of(f->t, f->x, f->r, f->nout, f->mode);
    *p = minus;
    double lm = loss_of(f->t, f->x, f->r, f->nout, f->mode);
    *p = p0;
    double fd = (lp - lm) / ((double)plus - (double)minus);
    double right = (lp - l0) / ((double)plus - p0), left = (l0 - lm) / ((double)p0 - minus);
    double bound = FD_ATOL + FD_RTOL * fmax(fabs(fd), fabs((double)an));
    if (fabs(right - left) > bound) {
        f->skipped++;
        return;
    }
    double ratio = fabs(fd - an) / bound;
    f->worst = fmax(f->worst, ratio);
    f->checked++;
    CHECKF(ratio <= 1.0, "%s[%lld] (%s): analytic %.6g, finite difference %.6g", what,
           (long long)idx, f->mode == RT_TRAIN ? "train" : "eval", an, fd);
}

/* Samples of the tensor's elements: a stride through all of it. */
static void check_tensor(Fd *f, float *data, const float *grad, int64_t numel, const char *what)
{
    int64_t step = numel > 24 ? numel / 24 : 1;
    for (int64_t i = 0; i < numel; i += step)
        check_element(f, &data[i], grad[i], what, i);
}

static void fd_all(Net *net, RtMode mode, float h)
{
    Diag d;
    diag_init(&d);
    TapeOptions opts = {0.0f}; /* running stats fixed between evaluations */
    Tape *t = rt_tape_new(net->g, &opts, &d);
    CHECK(t != NULL);
    const Graph *g = net->g;
    int64_t nx = shape_numel(&g->vals[net->x].shape);
    int64_t nout = shape_numel(&g->vals[net->out].shape);
    float *x = malloc((size_t)nx * sizeof *x), *r = malloc((size_t)nout * sizeof *r);
    for (int64_t i = 0; i < nx; i++)
        x[i] = (float)uniform(&net->rng, -1, 1);
    for (int64_t i = 0; i < nout; i++)
        r[i] = (float)uniform(&net->rng, -1, 1);
    rt_tape_zero_grad(t);
    CHECK(rt_tape_forward(t, x, mode, &d) && rt_tape_backward(t, r, &d));
    Fd f = {t, x, r, nout, mode, h, 0, 0, 0};
    /* the analytic gradients are copied: FD forwards would not touch them,
     * but the comparison should not depend on that */
    float *gx = malloc((size_t)nx * sizeof *gx);
    memcpy(gx, rt_tape_grad(t, net->x), (size_t)nx * sizeof *gx);
    check_tensor(&f, x, gx, nx, "input");
    free(gx);
    for (NodeId id = 1; id < g->nnode; id++) {
        ValueId v = g->nodes[id].out;
        if (g->nodes[id].op != OP_PARAM || !rt_tape_grad(t, v))
            continue;
        int64_t n = shape_numel(&g->vals[v].shape);
        float *gv = malloc((size_t)n * sizeof *gv);
        memcpy(gv, rt_tape_grad(t, v), (size_t)n * sizeof *gv);
        check_tensor(&f, g->vals[v].data, gv, n, g->vals[v].name);
        free(gv);
    }
    printf("finite differences (%s BN, h=%g): %d elements (%d skipped at kinks), worst "
           "|fd-an| / (%g + %g*max) = %.3f\n", mode == RT_TRAIN ? "train" : "eval", (double)h,
           f.checked, f.skipped, FD_ATOL, FD_RTOL, f.worst);
    CHECK(f.checked > 100 && f.skipped * 10 <= f.checked);
    CHECK(d.nerr == 0);
    diag_free(&d);
    free(x), free(r);
    rt_tape_free(t);
}

/* RT_EVAL forward is the interpreter's computation (same kernels). */
static void check_eval_matches_interp(Net *net)
{
    Diag d;
    diag_init(&d);
    Tape *t = rt_tape_new(net->g, NULL, &d);
    int64_t nx = shape_numel(&net->g->vals[net->x].shape);
    int64_t nout = shape_numel(&net->g->vals[net->out].shape);
    float *x = malloc((size_t)nx * sizeof *x), *y = malloc((size_t)nout * sizeof *y);
    for (int64_t i = 0; i < nx; i++)
        x[i] = (float)uniform(&net->rng, -1, 1);
    CHECK(t && rt_tape_forward(t, x, RT_EVAL, &d) && rt_interp_run(net->g, x, y, NULL, &d));
    double diff = 0;
    for (int64_t i = 0; i < nout && t; i++)
        diff = fmax(diff, fabs((double)rt_tape_output(t)[i] - y[i]));
    printf("eval forward vs interpreter: max|diff| = %.3g\n", diff);
    CHECK(diff <= 1e-6);
    CHECK(d.nerr == 0);
    diag_free(&d);
    free(x), free(y);
    rt_tape_free(t);
}

/* Train mode: running stats become 0.9 old + 0.1 batch (unbiased var),
 * eval mode leaves them; they have no gradient buffer. */
static void check_running_stats(Net *net)
{
    Diag d;
    diag_init(&d);
    TapeOptions opts = {0.1f};
    Tape *t = rt_tape_new(net->g, &opts, &d);
    const Graph *g = net->g;
    int64_t nx = shape_numel(&g->vals[net->x].shape);
    float *x = malloc((size_t)nx * sizeof *x);
    for (int64_t i = 0; i < nx; i++)
        x[i] = (float)uniform(&net->rng, -1, 1);
    float *mean = g->vals[net->bn_mean].data, *var = g->vals[net->bn_var].data;
    float m0[C], v0[C];
    memcpy(m0, mean, sizeof m0), memcpy(v0, var, sizeof v0);
    CHECK(t && rt_tape_forward(t, x, RT_EVAL, &d));
    CHECK(memcmp(m0, mean, sizeof m0) == 0 && memcmp(v0, var, sizeof v0) == 0);
    CHECK(t && rt_tape_forward(t, x, RT_TRAIN, &d));
    /* the batch statistics of the conv output the tape kept */
    const float *c1 = rt_tape_value(t, g->nodes[g->vals[net->bn_mean].producer + 0].out + 0);
    ValueId conv = 0;
    for (NodeId id = 1; id < g->nnode; id++)
        if (g->nodes[id].op == OP_BATCHNORM && g->nodes[id].in[1] == net->bn_mean)
            conv = g->nodes[id].in[0];
    c1 = rt_tape_value(t, conv);
    for (int c = 0; c < C && c1; c++) {
        double s = 0, sq = 0;
        int cnt = N * H * H;
        for (int b = 0; b < N; b++)
            for (int i = 0; i < H * H; i++) {
                double v = c1[(b * C + c) * H * H + i];
                s += v, sq += v * v;
            }
        double bm = s / cnt, bv = (sq - s * bm) / (cnt - 1);
        CHECKF(fabs(mean[c] - (0.9 * m0[c] + 0.1 * bm)) < 1e-5, "mean[%d] %g", c, mean[c]);
        CHECKF(fabs(var[c] - (0.9 * v0[c] + 0.1 * bv)) < 1e-5, "var[%d] %g", c, var[c]);
    }
    CHECK(t && !rt_tape_grad(t, net->bn_mean) && !rt_tape_grad(t, net->bn_var));
    memcpy(mean, m0, sizeof m0), memcpy(var, v0, sizeof v0);
    CHECK(d.nerr == 0);
    diag_free(&d);
    free(x);
    rt_tape_free(t);
}

/* Two backward calls add up; zero_grad clears. */
static void check_accumulation(Net *net)
{
    Diag d;
    diag_init(&d);
    Tape *t = rt_tape_new(net->g, NULL, &d);
    int64_t nx = shape_numel(&net->g->vals[net->x].shape);
    float *x = calloc((size_t)nx, sizeof *x), r[N * K];
    for (int64_t i = 0; i < nx; i++)
        x[i] = (float)uniform(&net->rng, -1, 1);
    for (int i = 0; i < N * K; i++)
        r[i] = (float)uniform(&net->rng, -1, 1);
    CHECK(t && rt_tape_forward(t, x, RT_EVAL, &d) && rt_tape_backward(t, r, &d));
    float once[3];
    memcpy(once, rt_tape_grad(t, net->alpha), sizeof once);
    CHECK(rt_tape_backward(t, r, &d));
    const float *twice = rt_tape_grad(t, net->alpha);
    for (int i = 0; i < 3; i++)
        CHECKF(fabsf(twice[i] - 2 * once[i]) <= 1e-6f * fabsf(once[i]) + 1e-9f, "%g %g",
               twice[i], once[i]);
    CHECK(once[0] != 0 && once[1] != 0 && once[2] != 0);
    rt_tape_zero_grad(t);
    CHECK(rt_tape_grad(t, net->alpha)[1] == 0 && rt_tape_grad(t, net->x)[5] == 0);
    CHECK(d.nerr == 0);
    diag_free(&d);
    free(x);
    rt_tape_free(t);
}

/* Backward before forward, a u8 graph, a one-value train-mode BN. */
static void check_errors(Net *net)
{
    Diag d;
    diag_init(&d);
    Tape *t = rt_tape_new(net->g, NULL, &d);
    float r[N * K] = {0};
    CHECK(t && !rt_tape_backward(t, r, &d) && d.nerr == 1);
    rt_tape_free(t);

    Arena a;
    arena_init(&a);
    Graph *g = ir_graph_new(&a, "u8");
    ValueId x = ir_graph_add_input(g, shape4(1, 3, 2, 2), "x");
    ValueId am = ir_graph_add_node(g, OP_ARGMAX, &x, 1, NULL, loc_file("t"), &d);
    ir_graph_add_output(g, am);
    CHECK(!rt_tape_new(g, NULL, &d) && d.nerr == 2);

    g = ir_graph_new(&a, "bn1");
    x = ir_graph_add_input(g, shape4(1, 2, 1, 1), "x");
    Net tmp = {.g = g, .rng = 7};
    tmp.arena = a;
    Shape s2 = shape_make(1, (int64_t[]){2});
    ValueId in[3] = {x, param(&tmp, s2, "m", 0, 0), param(&tmp, s2, "v", 1, 1)};
    Attrs bn = {0};
    bn.bn.eps = 1e-5f;
    ir_graph_add_output(g, ir_graph_add_node(g, OP_BATCHNORM, in, 3, &bn, loc_file("t"), &d));
    a = tmp.arena;
    t = rt_tape_new(g, NULL, &d);
    float xin[2] = {1, 2};
    CHECK(t && !rt_tape_forward(t, xin, RT_TRAIN, &d) && d.nerr == 3);
    CHECK(t && rt_tape_forward(t, xin, RT_EVAL, &d) && d.nerr == 3);
    rt_tape_free(t);
    (void)net;
    diag_free(&d);
    arena_free_all(&a);
}

int main(void)
{
    Net net;
    build(&net);
    /* h = 1e-3: at 1e-2 relu / max-pool kinks are crossed (errors of 5-10 %),
     * at 1e-4 float rounding of the forward dominates (ratio ~1.5) */
    float h = getenv("FD_H") ? (float)atof(getenv("FD_H")) : 1e-3f;
    fd_all(&net, RT_EVAL, h);
    fd_all(&net, RT_TRAIN, h);
    check_eval_matches_interp(&net);
    check_running_stats(&net);
    check_accumulation(&net);
    check_errors(&net);
    arena_free_all(&net.arena);
    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    return failures != 0;
}
