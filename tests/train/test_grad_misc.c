/* test_grad_misc.c — the grad_misc.c kernels against central finite
 * differences of their forward kernels, plus direct checks of the
 * conventions (accumulation, NULL outputs, ties, ignore labels).
 *
 * For a forward y = f(x) the test takes L(x) = sum(y * r) with a fixed
 * random r (in double), so dL/dx is exactly the backward of dy = r, and
 * compares it with (L(x + h e_i) - L(x - h e_i)) / (step actually taken).
 * The analytic side runs on a gradient buffer prefilled with random values
 * that are subtracted afterwards, so a kernel that overwrites instead of
 * accumulating fails.
 *
 * Steps and tolerances. Error = max |analytic - fd| / max(max |fd|, floor).
 *  - Linear ops (avg/global pool, concat, crop, resize, scale): FD is exact
 *    up to the float rounding of the few outputs one input reaches, so the
 *    step is large (h = 0.5) and that rounding (~1e-7 * |y| / 2h) is the
 *    only error: tolerance 1e-5, floor 1.
 *  - Piecewise linear ops (relu, leaky relu, maxpool): exact too as long
 *    as no step crosses a kink or reorders a window. Inputs keep |x| >= 0.1
 *    (activations) or are distinct multiples of 1/16 (maxpool), and
 *    h = 1/64 stays inside; the rounding of y * slope over 2h is at most
 *    ~2e-6: tolerance 1e-5, floor 1.
 *  - Smooth ops (softmax, cross-entropy): truncation h^2/6 * f''' against
 *    rounding ~1e-7 * k / 2h; h = 1e-2 balances them near 2e-5 relative:
 *    tolerance 1e-3, floor 0 (the CE gradients are O(1/count), so a floor
 *    of 1 would hide a wrong one).
 * Every comparison also runs a control: the analytic gradient with one
 * element moved by 10x the tolerance must fail.
 */
#include "runtime/ref/grad.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

typedef struct Rng {
    uint64_t s;
} Rng;

/* xorshift64*: reproducible across platforms. */
static uint64_t rng_next(Rng *g)
{
    g->s ^= g->s >> 12;
    g->s ^= g->s << 25;
    g->s ^= g->s >> 27;
    return g->s * 0x2545f4914f6cdd1dull;
}

/* Uniform in [-1, 1). */
static float rng_float(Rng *g)
{
    return (float)((double)(rng_next(g) >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static float *alloc_floats(int64_t n)
{
    float *p = calloc((size_t)(n > 0 ? n : 1), sizeof *p);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

static float *random_floats(Rng *g, int64_t n, float scale)
{
    float *p = alloc_floats(n);
    for (int64_t i = 0; i < n; i++)
        p[i] = rng_float(g) * scale;
    return p;
}

/* A forward kernel under test: y = fwd(op, x), ny outputs for nx inputs. */
typedef struct Fwd {
    void (*run)(const void *op, const float *x, float *y);
    const void *op;
    int64_t nx, ny;
} Fwd;

static double loss_of(const Fwd *f, const float *x, const float *r, float *y)
{
    f->run(f->op, x, y);
    double l = 0.0;
    for (int64_t i = 0; i < f->ny; i++)
        l += (double)y[i] * (double)r[i];
    return l;
}

/* fd[i] = central difference of L at x along e_i; x is restored. */
static void fd_grad(const Fwd *f, float *x, const float *r, float h, double *fd)
{
    float *y = alloc_floats(f->ny);
    for (int64_t i = 0; i < f->nx; i++) {
        float x0 = x[i], xp = x0 + h, xm = x0 - h;
        x[i] = xp;
        double lp = loss_of(f, x, r, y);
        x[i] = xm;
        double lm = loss_of(f, x, r, y);
        x[i] = x0;
        fd[i] = (lp - lm) / ((double)xp - (double)xm);
    }
    free(y);
}

static double rel_error(const double *an, const double *fd, int64_t n, double floor_,
                        int64_t *worst)
{
    double scale = floor_, err = 0.0;
    for (int64_t i = 0; i < n; i++)
        scale = fabs(fd[i]) > scale ? fabs(fd[i]) : scale;
    *worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = fabs(an[i] - fd[i]);
        if (!(e <= err)) /* NaN too */
            err = isnan(e) ? INFINITY : e, *worst = i;
    }
    return scale > 0.0 ? err / scale : err;
}

/* Compares, prints the measured error, and runs the perturbation control. */
static void compare(const char *what, double *an, const double *fd, int64_t n, double tol,
                    double floor_)
{
    int64_t worst;
    double err = rel_error(an, fd, n, floor_, &worst);
    printf("%-40s err %.2e (tol %.0e)\n", what, err, tol);
    if (!(err <= tol)) {
        fprintf(stderr, "FAIL %s: error %g > %g at %lld (analytic %g, fd %g)\n", what, err,
                tol, (long long)worst, an[worst], fd[worst]);
        failures++;
        return;
    }
    double scale = floor_;
    for (int64_t i = 0; i < n; i++)
        scale = fabs(fd[i]) > scale ? fabs(fd[i]) : scale;
    if (scale == 0.0) /* rel_error is absolute then */
        scale = 1.0;
    int64_t at = n / 2;
    an[at] += 10.0 * tol * scale;
    if (rel_error(an, fd, n, floor_, &worst) <= tol) {
        fprintf(stderr, "FAIL %s: control (perturbed gradient) passed\n", what);
        failures++;
    }
    an[at] -= 10.0 * tol * scale;
}

/* Runs backward(dy = r) into a buffer prefilled with noise, returns
 * dx - noise in an (double). */
typedef void (*BwdFn)(const void *op, const float *x, const float *dy, float *dx);

static void analytic(BwdFn bwd, const void *op, const float *x, const float *r, int64_t nx,
                     Rng *g, double *an)
{
    float *base = random_floats(g, nx, 1.0f), *dx = alloc_floats(nx);
    memcpy(dx, base, (size_t)nx * sizeof *dx);
    bwd(op, x, r, dx);
    for (int64_t i = 0; i < nx; i++)
        an[i] = (double)dx[i] - (double)base[i];
    free(base);
    free(dx);
}

/* The whole FD check of one op on input x (modified and restored). */
static void gradcheck(const char *what, const Fwd *f, BwdFn bwd, float *x, float h, double tol,
                      double floor_, Rng *g)
{
    float *r = random_floats(g, f->ny, 1.0f);
    double *an = malloc((size_t)f->nx * sizeof *an), *fd = malloc((size_t)f->nx * sizeof *fd);
    if (!an || !fd)
        exit(2);
    analytic(bwd, f->op, x, r, f->nx, g, an);
    fd_grad(f, x, r, h, fd);
    compare(what, an, fd, f->nx, tol, floor_);
    free(an);
    free(fd);
    free(r);
}

/* ---- elementwise ---- */

typedef struct Act {
    int64_t numel;
    float slope; /* NaN: relu */
} Act;

static void act_fwd(const void *op, const float *x, float *y)
{
    const Act *a = op;
    if (isnan(a->slope))
        rt_ref_relu(a->numel, x, y);
    else
        rt_ref_leaky_relu(a->numel, x, a->slope, y);
}

static void act_bwd(const void *op, const float *x, const float *dy, float *dx)
{
    const Act *a = op;
    if (isnan(a->slope))
        rt_relu_backward(a->numel, x, dy, dx);
    else
        rt_leaky_relu_backward(a->numel, x, a->slope, dy, dx);
}

static void test_activations(Rng *g)
{
    const float slopes[] = {NAN, 0.2f, 0.01f, -0.5f};
    for (int s = 0; s < 4; s++) {
        Act a = {2 * 3 * 5 * 7, slopes[s]};
        float *x = random_floats(g, a.numel, 1.0f);
        for (int64_t i = 0; i < a.numel; i++) /* keep kinks 0.1 away from any step */
            x[i] = x[i] < 0 ? x[i] - 0.1f : x[i] + 0.1f;
        Fwd f = {act_fwd, &a, a.numel, a.numel};
        char what[64];
        snprintf(what, sizeof what, isnan(a.slope) ? "relu" : "leaky_relu %g", a.slope);
        gradcheck(what, &f, act_bwd, x, 1.0f / 64, 1e-5, 1.0, g);
        free(x);
    }
    /* torch's conventions at 0: relu passes nothing, leaky relu the slope */
    float x[3] = {0.0f, -0.0f, 1.0f}, dy[3] = {1, 1, 1}, dx[3] = {0}, dl[3] = {0};
    rt_relu_backward(3, x, dy, dx);
    rt_leaky_relu_backward(3, x, 0.25f, dy, dl);
    if (dx[0] != 0 || dx[1] != 0 || dx[2] != 1 || dl[0] != 0.25f || dl[2] != 1) {
        fprintf(stderr, "FAIL relu/leaky_relu at x == 0\n");
        failures++;
    }
}

typedef struct Softmax {
    int64_t rows, k;
} Softmax;

static void softmax_fwd(const void *op, const float *x, float *y)
{
    const Softmax *s = op;
    rt_ref_softmax(s->rows, s->k, x, y);
}

static void softmax_bwd(const void *op, const float *x, const float *dy, float *dx)
{
    const Softmax *s = op;
    float *y = alloc_floats(s->rows * s->k);
    rt_ref_softmax(s->rows, s->k, x, y);
    rt_softmax_backward(s->rows, s->k, y, dy, dx);
    free(y);
}

typedef struct Scale {
    int64_t numel;
    float s;
} Scale;

/* x holds the numel inputs followed by s itself, so one FD covers both. */
static void scale_fwd(const void *op, const float *x, float *y)
{
    const Scale *p = op;
    rt_ref_scale(p->numel, x, x[p->numel], y);
}

static void scale_bwd(const void *op, const float *x, const float *dy, float *dx)
{
    const Scale *p = op;
    rt_scale_backward(p->numel, x, x[p->numel], dy, dx, dx + p->numel);
}

static void test_softmax_scale(Rng *g)
{
    const int64_t ks[] = {7, 8, 1};
    for (int i = 0; i < 3; i++) {
        Softmax s = {6, ks[i]};
        float *x = random_floats(g, s.rows * s.k, 2.0f);
        Fwd f = {softmax_fwd, &s, s.rows * s.k, s.rows * s.k};
        char what[64];
        snprintf(what, sizeof what, "softmax rows 6 k %lld", (long long)s.k);
        gradcheck(what, &f, softmax_bwd, x, 1e-2f, 1e-3, 0.0, g);
        free(x);
    }
    Scale p = {2 * 3 * 5 * 5, 0};
    float *x = random_floats(g, p.numel + 1, 1.0f);
    Fwd f = {scale_fwd, &p, p.numel + 1, p.numel};
    gradcheck("scale (x and s)", &f, scale_bwd, x, 0.5f, 1e-5, 1.0, g);
    /* ds NULL and dx NULL are skipped, not crashed on */
    float dx = 1.0f, ds = 1.0f;
    rt_scale_backward(1, x, 2.0f, x, NULL, &ds);
    rt_scale_backward(1, x, 2.0f, x, &dx, NULL);
    if (ds != 1.0f + x[0] * x[0] || dx != 1.0f + 2.0f * x[0]) {
        fprintf(stderr, "FAIL scale with a NULL gradient output\n");
        failures++;
    }
    free(x);
}

/* ---- pools ---- */

typedef struct Pool {
    RtPool2d p;
    int max;
} Pool;

static void pool_fwd(const void *op, const float *x, float *y)
{
    const Pool *q = op;
    if (q->max)
        rt_ref_maxpool2d(&q->p, x, y);
    else
        rt_ref_avgpool2d(&q->p, x, y);
}

static void pool_bwd(const void *op, const float *x, const float *dy, float *dx)
{
    const Pool *q = op;
    if (q->max)
        rt_maxpool2d_backward(&q->p, x, dy, dx);
    else
        rt_avgpool2d_backward(&q->p, dy, dx);
}

static Fwd pool_case(Pool *q)
{
    int64_t oh, ow;
    if (!rt_pool2d_out_hw(&q->p, &oh, &ow)) {
        fprintf(stderr, "bad pool geometry in the test\n");
        exit(2);
    }
    const RtPool2d *p = &q->p;
    return (Fwd){pool_fwd, q, p->n * p->c * p->h * p->w, p->n * p->c * oh * ow};
}

/* Distinct inputs: a shuffled ramp of multiples of 1/16, so steps of 1/64
 * never reorder a window (no FD across ties). */
static float *distinct_floats(Rng *g, int64_t n)
{
    float *x = alloc_floats(n);
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)(i - n / 2) / 16.0f;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)(rng_next(g) % (uint64_t)(i + 1));
        float t = x[i];
        x[i] = x[j], x[j] = t;
    }
    return x;
}

static const struct {
    int64_t h, w;
    int k[2], s[2], pad[4];
} pool_geoms[] = {
    {7, 6, {3, 3}, {2, 2}, {1, 1, 1, 1}}, /* DARTS reduction pool, odd x even */
    {8, 8, {3, 3}, {1, 1}, {1, 1, 1, 1}}, /* DARTS normal pool */
    {6, 5, {2, 2}, {2, 2}, {0, 0, 0, 0}},
    {9, 7, {3, 2}, {2, 1}, {0, 1, 1, 0}}, /* asymmetric padding */
    {5, 5, {3, 3}, {3, 3}, {1, 1, 2, 2}}, /* a window clipped by the far padding */
};

static void test_pools(Rng *g)
{
    for (size_t i = 0; i < sizeof pool_geoms / sizeof pool_geoms[0]; i++)
        for (int mode = 0; mode < 3; mode++) { /* max, avg cip 0, avg cip 1 */
            Pool q = {{2, 3, pool_geoms[i].h, pool_geoms[i].w, {0}, {0}, {0}, mode == 2},
                      mode == 0};
            memcpy(q.p.kernel, pool_geoms[i].k, sizeof q.p.kernel);
            memcpy(q.p.stride, pool_geoms[i].s, sizeof q.p.stride);
            memcpy(q.p.pad, pool_geoms[i].pad, sizeof q.p.pad);
            Fwd f = pool_case(&q);
            float *x = mode == 0 ? distinct_floats(g, f.nx) : random_floats(g, f.nx, 1.0f);
            char what[64];
            snprintf(what, sizeof what, "%s %lldx%lld k%d s%d%s", mode ? "avgpool" : "maxpool",
                     (long long)q.p.h, (long long)q.p.w, q.p.kernel[0], q.p.stride[0],
                     mode == 0 ? "" : mode == 1 ? " cip0" : " cip1");
            if (mode == 0)
                gradcheck(what, &f, pool_bwd, x, 1.0f / 64, 1e-5, 1.0, g);
            else
                gradcheck(what, &f, pool_bwd, x, 0.5f, 1e-5, 1.0, g);
            free(x);
        }
}

/* Ties go to the first element in scan order, as the forward's argmax. */
static void test_maxpool_ties(void)
{
    RtPool2d p = {1, 1, 3, 3, {2, 2}, {1, 1}, {0, 0, 0, 0}, 0};
    float x[9], dy[4] = {1, 2, 4, 8}, dx[9] = {0};
    for (int i = 0; i < 9; i++)
        x[i] = 1.0f;
    rt_maxpool2d_backward(&p, x, dy, dx);
    /* window (i,j) starts at x[i][j], so each dy lands there */
    const float want[9] = {1, 2, 0, 4, 8, 0, 0, 0, 0};
    if (memcmp(dx, want, sizeof want)) {
        fprintf(stderr, "FAIL maxpool ties: gradient not at the first maximum\n");
        failures++;
    }
}

/* The divisor modes really differ on padded windows: the cip 1 gradient
 * must fail against the FD of the cip 0 forward. */
static void test_avgpool_mode_control(Rng *g)
{
    Pool q0 = {{2, 2, 7, 6, {3, 3}, {2, 2}, {1, 1, 1, 1}, 0}, 0}, q1 = q0;
    q1.p.count_include_pad = 1;
    Fwd f0 = pool_case(&q0);
    float *x = random_floats(g, f0.nx, 1.0f), *r = random_floats(g, f0.ny, 1.0f);
    double *an = malloc((size_t)f0.nx * sizeof *an), *fd = malloc((size_t)f0.nx * sizeof *fd);
    if (!an || !fd)
        exit(2);
    analytic(pool_bwd, &q1, x, r, f0.nx, g, an);
    fd_grad(&f0, x, r, 0.5f, fd);
    int64_t worst;
    if (rel_error(an, fd, f0.nx, 1.0, &worst) <= 1e-5) {
        fprintf(stderr, "FAIL control: avgpool cip 1 gradient matched cip 0 FD\n");
        failures++;
    }
    free(an);
    free(fd);
    free(x);
    free(r);
}

typedef struct Gap {
    int64_t n, c, hw;
} Gap;

static void gap_fwd(const void *op, const float *x, float *y)
{
    const Gap *q = op;
    rt_ref_gavgpool(q->n, q->c, q->hw, x, y);
}

static void gap_bwd(const void *op, const float *x, const float *dy, float *dx)
{
    const Gap *q = op;
    (void)x;
    rt_gavgpool_backward(q->n, q->c, q->hw, dy, dx);
}

static void test_gavgpool(Rng *g)
{
    Gap q = {2, 3, 5 * 7};
    Fwd f = {gap_fwd, &q, q.n * q.c * q.hw, q.n * q.c};
    float *x = random_floats(g, f.nx, 1.0f);
    gradcheck("gavgpool 2x3x5x7", &f, gap_bwd, x, 0.5f, 1e-5, 1.0, g);
    free(x);
}

/* ---- shape ops ---- */

typedef struct Concat {
    int64_t n, hw, cs[3];
} Concat;

/* x is the three inputs back to back: offsets of input i's block. */
static int64_t concat_offset(const Concat *q, int i)
{
    int64_t off = 0;
    for (int k = 0; k < i; k++)
        off += q->n * q->cs[k] * q->hw;
    return off;
}

static void concat_fwd(const void *op, const float *x, float *y)
{
    const Concat *q = op;
    const float *xs[3] = {x, x + concat_offset(q, 1), x + concat_offset(q, 2)};
    rt_ref_concat(q->n, q->hw, 3, xs, q->cs, y);
}

static void concat_bwd(const void *op, const float *x, const float *dy, float *dx)
{
    const Concat *q = op;
    (void)x;
    float *dxs[3] = {dx, dx + concat_offset(q, 1), dx + concat_offset(q, 2)};
    rt_concat_backward(q->n, q->hw, 3, q->cs, dy, dxs);
}

/* dxs[1] NULL: inputs 0 and 2 get what they get with all wanted. */
static void test_concat_null(const Concat *q, Rng *g)
{
    int64_t ny = concat_offset(q, 3), off1 = concat_offset(q, 1), off2 = concat_offset(q, 2);
    float *dy = random_floats(g, ny, 1.0f), *all = alloc_floats(ny), *part = alloc_floats(ny);
    concat_bwd(q, NULL, dy, all);
    float *dxs[3] = {part, NULL, part + off2};
    rt_concat_backward(q->n, q->hw, 3, q->cs, dy, dxs);
    for (int64_t i = 0; i < ny; i++)
        if (part[i] != (i >= off1 && i < off2 ? 0.0f : all[i])) {
            fprintf(stderr, "FAIL concat with a NULL input gradient at %lld\n", (long long)i);
            failures++;
            break;
        }
    free(dy);
    free(all);
    free(part);
}

typedef struct Crop {
    int64_t n, c, h, w, top, left, oh, ow;
} Crop;

static void crop_fwd(const void *op, const float *x, float *y)
{
    const Crop *q = op;
    rt_ref_crop(q->n, q->c, q->h, q->w, q->top, q->left, q->oh, q->ow, x, y);
}

static void crop_bwd(const void *op, const float *x, const float *dy, float *dx)
{
    const Crop *q = op;
    (void)x;
    rt_crop_backward(q->n, q->c, q->h, q->w, q->top, q->left, q->oh, q->ow, dy, dx);
}

static void test_shape_ops(Rng *g)
{
    Concat q = {2, 15, {2, 1, 3}};
    Fwd f = {concat_fwd, &q, concat_offset(&q, 3), concat_offset(&q, 3)};
    float *x = random_floats(g, f.nx, 1.0f);
    gradcheck("concat cs 2,1,3 n 2", &f, concat_bwd, x, 0.5f, 1e-5, 1.0, g);
    test_concat_null(&q, g);
    free(x);

    Crop c = {2, 3, 7, 6, 1, 2, 5, 3};
    Fwd fc = {crop_fwd, &c, c.n * c.c * c.h * c.w, c.n * c.c * c.oh * c.ow};
    x = random_floats(g, fc.nx, 1.0f);
    gradcheck("crop 7x6 -> 5x3 at 1,2", &fc, crop_bwd, x, 0.5f, 1e-5, 1.0, g);
    free(x);
}

/* ---- resize ---- */

typedef struct Resize {
    int64_t nc, h, w, oh, ow;
    int ac;
} Resize;

static void resize_fwd(const void *op, const float *x, float *y)
{
    const Resize *q = op;
    rt_ref_resize_bilinear(q->nc, q->h, q->w, q->oh, q->ow, q->ac, x, y);
}

static void resize_bwd(const void *op, const float *x, const float *dy, float *dx)
{
    const Resize *q = op;
    (void)x;
    rt_resize_bilinear_backward(q->nc, q->h, q->w, q->oh, q->ow, q->ac, dy, dx);
}

static const int64_t resize_sizes[][4] = {
    {1, 1, 5, 4},  /* from 1x1: a broadcast */
    {5, 7, 9, 12}, /* up, odd to even, non-integer scale */
    {9, 12, 5, 7}, /* down */
    {6, 6, 3, 3},  {4, 4, 8, 8}, {7, 5, 7, 5} /* copy */, {3, 4, 1, 1}, {2, 1, 5, 3},
};

static void test_resize(Rng *g)
{
    for (size_t i = 0; i < sizeof resize_sizes / sizeof resize_sizes[0]; i++)
        for (int ac = 0; ac < 2; ac++) {
            const int64_t *s = resize_sizes[i];
            Resize q = {2 * 3, s[0], s[1], s[2], s[3], ac};
            Fwd f = {resize_fwd, &q, q.nc * q.h * q.w, q.nc * q.oh * q.ow};
            float *x = random_floats(g, f.nx, 1.0f);
            char what[64];
            snprintf(what, sizeof what, "resize %lldx%lld -> %lldx%lld ac%d", (long long)q.h,
                     (long long)q.w, (long long)q.oh, (long long)q.ow, ac);
            gradcheck(what, &f, resize_bwd, x, 0.5f, 1e-5, 1.0, g);
            free(x);
        }
    /* control: the align_corners 0 gradient must fail against the FD of
     * the align_corners 1 forward */
    Resize q0 = {2, 5, 7, 9, 12, 0}, q1 = q0;
    q1.ac = 1;
    Fwd f1 = {resize_fwd, &q1, q0.nc * q0.h * q0.w, q0.nc * q0.oh * q0.ow};
    float *x = random_floats(g, f1.nx, 1.0f), *r = random_floats(g, f1.ny, 1.0f);
    double *an = malloc((size_t)f1.nx * sizeof *an), *fd = malloc((size_t)f1.nx * sizeof *fd);
    if (!an || !fd)
        exit(2);
    analytic(resize_bwd, &q0, x, r, f1.nx, g, an);
    fd_grad(&f1, x, r, 0.5f, fd);
    int64_t worst;
    if (rel_error(an, fd, f1.nx, 1.0, &worst) <= 1e-5) {
        fprintf(stderr, "FAIL control: resize ac0 gradient matched ac1 FD\n");
        failures++;
    }
    free(an);
    free(fd);
    free(x);
    free(r);
}

/* ---- cross-entropy ---- */

/* The loss in double straight from the definition, one pixel at a time. */
static double ce_reference(int64_t n, int64_t c, int64_t hw, const float *x, const uint8_t *lab,
                           int ignore, double *grad, int64_t *counted)
{
    double sum = 0.0;
    int64_t count = 0;
    for (int64_t b = 0; b < n; b++)
        for (int64_t i = 0; i < hw; i++)
            if (lab[b * hw + i] != ignore)
                count++;
    for (int64_t b = 0; b < n; b++)
        for (int64_t i = 0; i < hw; i++) {
            const float *xp = x + b * c * hw + i;
            int l = lab[b * hw + i];
            double m = xp[0], z = 0.0;
            for (int64_t k = 1; k < c; k++)
                m = fmax(m, xp[k * hw]);
            for (int64_t k = 0; k < c; k++)
                z += exp(xp[k * hw] - m);
            for (int64_t k = 0; k < c; k++)
                grad[(b * c + k) * hw + i] =
                    l == ignore ? 0.0 : (exp(xp[k * hw] - m) / z - (k == l)) / (double)count;
            if (l != ignore)
                sum += m + log(z) - xp[l * hw];
        }
    *counted = count;
    return count ? sum / (double)count : 0.0;
}

static void test_ce_case(const char *what, int64_t n, int64_t c, int64_t hw, float scale,
                         int ignore_pct, Rng *g)
{
    int64_t nx = n * c * hw;
    float *x = random_floats(g, nx, scale), *d = alloc_floats(nx);
    uint8_t *lab = malloc((size_t)(n * hw));
    double *an = malloc((size_t)nx * sizeof *an), *fd = malloc((size_t)nx * sizeof *fd);
    double *ref = malloc((size_t)nx * sizeof *ref);
    if (!lab || !an || !fd || !ref)
        exit(2);
    for (int64_t i = 0; i < n * hw; i++)
        lab[i] = (int64_t)(rng_next(g) % 100) < ignore_pct ? 255
                                                           : (uint8_t)(rng_next(g) % (uint64_t)c);
    for (int64_t i = 0; i < nx; i++)
        d[i] = NAN; /* written, not accumulated: NaN must not survive */
    int64_t counted = -1, ref_counted;
    double loss = rt_softmax_ce(n, c, hw, x, lab, 255, d, &counted);
    double want = ce_reference(n, c, hw, x, lab, 255, ref, &ref_counted);
    double loss_nograd = rt_softmax_ce(n, c, hw, x, lab, 255, NULL, NULL);
    printf("%-40s loss %.9g ref %.9g counted %lld\n", what, loss, want, (long long)counted);
    if (counted != ref_counted || !(fabs(loss - want) <= 1e-6 * fmax(1.0, fabs(want))) ||
        loss_nograd != loss) {
        fprintf(stderr, "FAIL %s: loss %.9g (%.9g without grad) counted %lld, want %.9g %lld\n",
                what, loss, loss_nograd, (long long)counted, want, (long long)ref_counted);
        failures++;
    }
    for (int64_t b = 0; b < n; b++) /* ignored pixels: exactly zero, all classes */
        for (int64_t k = 0; k < c; k++)
            for (int64_t i = 0; i < hw; i++)
                if (lab[b * hw + i] == 255 && d[(b * c + k) * hw + i] != 0.0f) {
                    fprintf(stderr, "FAIL %s: ignored pixel has gradient %g\n", what,
                            d[(b * c + k) * hw + i]);
                    failures++;
                    b = n, k = c, i = hw;
                }
    for (int64_t i = 0; i < nx; i++)
        an[i] = d[i];
    char name[96];
    snprintf(name, sizeof name, "%s vs double formula", what);
    compare(name, an, ref, nx, 1e-5, 0.0);
    for (int64_t i = 0; i < nx; i++) { /* FD of the loss itself */
        float x0 = x[i], xp = x0 + 1e-2f, xm = x0 - 1e-2f;
        x[i] = xp;
        double lp = rt_softmax_ce(n, c, hw, x, lab, 255, NULL, NULL);
        x[i] = xm;
        double lm = rt_softmax_ce(n, c, hw, x, lab, 255, NULL, NULL);
        x[i] = x0;
        fd[i] = (lp - lm) / ((double)xp - (double)xm);
    }
    snprintf(name, sizeof name, "%s vs FD", what);
    compare(name, an, fd, nx, 1e-3, 0.0);
    free(x), free(d), free(lab), free(an), free(fd), free(ref);
}

static void test_ce_all_ignored(void)
{
    float x[2 * 3 * 4], d[2 * 3 * 4];
    uint8_t lab[2 * 4];
    for (int i = 0; i < 24; i++)
        x[i] = (float)i, d[i] = NAN;
    memset(lab, 255, sizeof lab);
    int64_t counted = -1;
    double loss = rt_softmax_ce(2, 3, 4, x, lab, 255, d, &counted);
    int bad = loss != 0.0 || counted != 0;
    for (int i = 0; i < 24; i++)
        bad |= d[i] != 0.0f;
    if (bad) {
        fprintf(stderr, "FAIL ce all ignored: loss %g counted %lld\n", loss, (long long)counted);
        failures++;
    }
}

static void test_ce(Rng *g)
{
    test_ce_case("ce n2 c5 7x9 (one block)", 2, 5, 63, 3.0f, 20, g);
    test_ce_case("ce n2 c6 11x13 (blocks 64,64,15)", 2, 6, 143, 3.0f, 20, g);
    test_ce_case("ce n3 c19 4x4 no ignore", 3, 19, 16, 2.0f, 0, g);
    /* logits ~100: exp would overflow without the max subtraction */
    test_ce_case("ce n2 c4 2x5 logits x100", 2, 4, 10, 100.0f, 30, g);
    test_ce_all_ignored();
}

int main(void)
{
    Rng g = {0x9e3779b97f4a7c15ull};
    test_activations(&g);
    test_softmax_scale(&g);
    test_pools(&g);
    test_maxpool_ties();
    test_avgpool_mode_control(&g);
    test_gavgpool(&g);
    test_shape_ops(&g);
    test_resize(&g);
    test_ce(&g);
    if (failures) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    printf("all grad_misc checks passed\n");
    return 0;
}
