/* test_grad_conv.c — the grad_conv.c kernels against central finite
 * differences of their forward kernels (ref.h), plus the training-mode
 * batch norm forward against a naive double computation.
 *
 * Method. A forward f gives the scalar loss L = sum_i f(..)_i * r_i with
 * fixed random r (accumulated in double), so dL/df = r is the dy fed to
 * the backward. Each input element v is moved to v+h and v-h (floats) and
 * numeric = (L(v+h) - L(v-h)) / ((v+h) - (v-h)), dividing by the step
 * actually taken after float rounding. Gradient buffers start at random
 * values g0 and the analytic gradient is got - g0, so an overwrite instead
 * of an accumulation fails; scratch is filled with NaN first.
 *
 * Tolerances, |analytic - numeric| <= tol * max(1, |numeric|):
 *  - conv, linear, eval batch norm: tol 1e-3. L is linear in the moved
 *    input, so central differences have no truncation error; what is left
 *    is float rounding of the outputs the element touches (<= a few
 *    hundred outputs of ~1e-7 relative error each) over a step of 2h =
 *    1/32: observed <= 4e-5, so 1e-3 is a 25x margin, while a wrong tap,
 *    stride or padding moves an entry by O(|x||r|) ~ 0.1-1.
 *  - train batch norm: tol 2e-3 with h = 1/256. L is not linear (the
 *    batch statistics move with x); the truncation error h^2/6 * L''' is
 *    ~1e-5 * O(1) and rounding ~1e-7 * sqrt(count) / 2h ~ 1e-4 (observed
 *    <= 9e-5, a 20x margin).
 * Controls: the comparison must reject a gradient with one entry moved by
 * 3 tol, and a conv backward run with the padding shifted by one.
 */
#include "runtime/ref/grad.h"
#include "tests/check.h"

#include <math.h>

typedef struct Rng {
    uint64_t s;
} Rng;

/* xorshift64*, uniform in [-1, 1). */
static float rnd(Rng *g)
{
    g->s ^= g->s >> 12;
    g->s ^= g->s << 25;
    g->s ^= g->s >> 27;
    uint64_t v = g->s * 0x2545f4914f6cdd1dull;
    return (float)((double)(v >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static float *alloc_f(int64_t n)
{
    float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof *p);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

static float *random_f(Rng *g, int64_t n)
{
    float *p = alloc_f(n);
    for (int64_t i = 0; i < n; i++)
        p[i] = rnd(g);
    return p;
}

static float *copy_f(const float *a, int64_t n)
{
    float *p = alloc_f(n);
    memcpy(p, a, (size_t)n * sizeof *p);
    return p;
}

/* ---- finite differences and the comparison ---- */

typedef double (*LossFn)(void *ctx);

/* num[i] = dL/dv[i] by central differences with step h. */
static void fd_grad(LossFn loss, void *ctx, float *v, int64_t n, float h, double *num)
{
    for (int64_t i = 0; i < n; i++) {
        float v0 = v[i], vp = v0 + h, vm = v0 - h;
        v[i] = vp;
        double lp = loss(ctx);
        v[i] = vm;
        double lm = loss(ctx);
        v[i] = v0;
        num[i] = (lp - lm) / ((double)vp - (double)vm);
    }
}

/* true if every got[i] - g0[i] is within tol * max(1, |num[i]|) of num[i];
 * prints the worst entry when `loud` and it is not. */
static bool grad_close(const char *what, const double *num, const float *got, const float *g0,
                       int64_t n, double tol, bool loud)
{
    double worst = 0.0;
    int64_t at = -1;
    for (int64_t i = 0; i < n; i++) {
        double a = (double)got[i] - (double)g0[i];
        double err = fabs(a - num[i]) / fmax(1.0, fabs(num[i]));
        if (!(err <= worst)) { /* NaN counts as the worst */
            worst = isnan(err) ? INFINITY : err;
            at = i;
        }
    }
    if (worst <= tol)
        return true;
    if (loud)
        fprintf(stderr, "%s: entry %lld: analytic %.7g numeric %.7g (rel err %.3g > %.3g)\n",
                what, (long long)at, (double)got[at] - (double)g0[at], num[at], worst, tol);
    return false;
}

/* sum y * r in double */
static double dot_loss(const float *y, const float *r, int64_t n)
{
    double s = 0.0;
    for (int64_t i = 0; i < n; i++)
        s += (double)y[i] * (double)r[i];
    return s;
}

/* ---- convolution ---- */

typedef struct ConvCase {
    const char *name;
    RtConv2d p;
    bool bias;
} ConvCase;

typedef struct ConvData {
    RtConv2d p;
    int64_t nx, nw, ny;
    float *x, *w, *b, *r, *y;
} ConvData;

static double conv_loss(void *ctx)
{
    ConvData *d = ctx;
    rt_ref_conv2d(&d->p, d->x, d->w, d->b, d->y);
    return dot_loss(d->y, d->r, d->ny);
}

/* Analytic gradients of one conv geometry into fresh g0-initialised
 * buffers gx, gw, gb (caller frees); ws poisoned with NaN. */
static void conv_analytic(const RtConv2d *p, const ConvData *d, const float *g0x,
                          const float *g0w, const float *g0b, float **gx, float **gw,
                          float **gb)
{
    size_t nws = rt_conv2d_backward_workspace(p);
    float *ws = alloc_f((int64_t)nws);
    for (size_t i = 0; i < nws; i++)
        ws[i] = NAN;
    *gx = copy_f(g0x, d->nx);
    *gw = copy_f(g0w, d->nw);
    *gb = d->b ? copy_f(g0b, p->oc) : NULL;
    rt_conv2d_backward(p, d->x, d->w, d->r, *gx, *gw, *gb, ws);
    free(ws);
}

static void check_conv(Rng *g, const ConvCase *c)
{
    ConvData d = {.p = c->p};
    int64_t oh, ow;
    CHECKF(rt_conv2d_out_hw(&d.p, &oh, &ow), "%s: invalid geometry", c->name);
    if (failures)
        return;
    d.nx = d.p.n * d.p.c * d.p.h * d.p.w;
    d.nw = d.p.oc * (d.p.c / d.p.groups) * d.p.kh * d.p.kw;
    d.ny = d.p.n * d.p.oc * oh * ow;
    d.x = random_f(g, d.nx);
    d.w = random_f(g, d.nw);
    d.b = c->bias ? random_f(g, d.p.oc) : NULL;
    d.r = random_f(g, d.ny);
    d.y = alloc_f(d.ny);
    float *g0x = random_f(g, d.nx), *g0w = random_f(g, d.nw), *g0b = random_f(g, d.p.oc);
    float *gx, *gw, *gb;
    conv_analytic(&d.p, &d, g0x, g0w, g0b, &gx, &gw, &gb);

    const float h = 1.0f / 64;
    const double tol = 1e-3;
    double *num = malloc((size_t)d.nx * sizeof *num + (size_t)d.nw * sizeof *num);
    char what[128];
    fd_grad(conv_loss, &d, d.x, d.nx, h, num);
    snprintf(what, sizeof what, "%s dx", c->name);
    CHECKF(grad_close(what, num, gx, g0x, d.nx, tol, true), "%s", what);

    /* Control: the padding shifted by one (a plausible off-by-one) must
     * be caught, unless the shift leaves the output shape (and hence
     * dy's layout) undefined. */
    RtConv2d bad = d.p;
    bad.pad[0]++, bad.pad[2]--;
    int64_t boh, bow;
    if (bad.pad[2] >= 0 && rt_conv2d_out_hw(&bad, &boh, &bow) && boh == oh && bow == ow) {
        float *bx, *bw, *bb;
        conv_analytic(&bad, &d, g0x, g0w, g0b, &bx, &bw, &bb);
        CHECKF(!grad_close(what, num, bx, g0x, d.nx, tol, false),
               "%s: control with shifted padding passed", c->name);
        free(bx), free(bw), free(bb);
    }

    fd_grad(conv_loss, &d, d.w, d.nw, h, num);
    snprintf(what, sizeof what, "%s dw", c->name);
    CHECKF(grad_close(what, num, gw, g0w, d.nw, tol, true), "%s", what);
    if (d.b) {
        fd_grad(conv_loss, &d, d.b, d.p.oc, h, num);
        snprintf(what, sizeof what, "%s db", c->name);
        CHECKF(grad_close(what, num, gb, g0b, d.p.oc, tol, true), "%s", what);
    }

    /* NULL gradients are skipped without disturbing the others. */
    float *only_w = copy_f(g0w, d.nw);
    float *ws = alloc_f((int64_t)rt_conv2d_backward_workspace(&d.p));
    rt_conv2d_backward(&d.p, d.x, d.w, d.r, NULL, only_w, NULL, ws);
    CHECKF(!memcmp(only_w, gw, (size_t)d.nw * sizeof *gw), "%s: dw alone differs", c->name);
    float *only_x = copy_f(g0x, d.nx);
    rt_conv2d_backward(&d.p, d.x, d.w, d.r, only_x, NULL, NULL, ws);
    CHECKF(!memcmp(only_x, gx, (size_t)d.nx * sizeof *gx), "%s: dx alone differs", c->name);
    free(only_w), free(only_x), free(ws);
    free(num), free(gx), free(gw), free(gb), free(g0x), free(g0w), free(g0b);
    free(d.x), free(d.w), free(d.b), free(d.r), free(d.y);
}

/* RtConv2d from n, c, h, w, oc, kh, kw, stride, pad {t,l,b,r}, dilation, groups. */
#define GEO(N, C, H, W, OC, KH, KW, SH, SW, PT, PL, PB, PR, DH, DW, G)                        \
    {                                                                                        \
        .n = N, .c = C, .h = H, .w = W, .oc = OC, .kh = KH, .kw = KW, .stride = {SH, SW},    \
        .pad = {PT, PL, PB, PR}, .dilation = {DH, DW}, .groups = G                           \
    }

static const ConvCase conv_cases[] = {
    {"dense3x3_s1_p1", GEO(2, 3, 6, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1), true},
    {"dense3x3_s2_p1", GEO(2, 3, 7, 7, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1), false},
    {"dense3x3_d2_p2", GEO(2, 2, 7, 6, 3, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1), true},
    {"dense3x3_d2_p4_on3x3", GEO(2, 2, 3, 3, 3, 3, 3, 1, 1, 4, 4, 4, 4, 2, 2, 1), false},
    {"aspp3x3_d6_p6_on4x5", GEO(2, 3, 4, 5, 2, 3, 3, 1, 1, 6, 6, 6, 6, 6, 6, 1), true},
    {"pointwise1x1", GEO(3, 4, 5, 4, 5, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1), true},
    {"pointwise1x1_groups2", GEO(2, 4, 3, 5, 6, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2), false},
    {"grouped3x3_g2", GEO(2, 4, 5, 5, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2), true},
    {"dw3x3_s1", GEO(2, 4, 6, 7, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4), false},
    {"dw3x3_s2", GEO(3, 3, 7, 8, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 3), true},
    {"dw5x5_s1", GEO(2, 3, 7, 6, 3, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 3), false},
    {"dw5x5_s2", GEO(2, 3, 9, 8, 3, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1, 3), false},
    {"dw3x3_d2_s1", GEO(2, 3, 7, 7, 3, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 3), false},
    {"dw5x5_d2_s1", GEO(2, 2, 8, 7, 2, 5, 5, 1, 1, 4, 4, 4, 4, 2, 2, 2), false},
    {"dw3x3_d2_s2", GEO(2, 3, 9, 9, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 3), true},
    {"dw1x1", GEO(2, 3, 4, 5, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 3), true},
    {"dw3x3_multiplier2", GEO(2, 3, 5, 5, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3), false},
    /* FactorizedReduce's second branch: 1x1 stride 2 on x[:, :, 1:, 1:]
     * of an odd input, padded back on the bottom/right */
    {"reduce1x1_s2_pad_br", GEO(2, 4, 6, 6, 3, 1, 1, 2, 2, 0, 0, 1, 1, 1, 1, 1), false},
    {"reduce1x1_s2", GEO(3, 4, 5, 7, 3, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1), true},
    {"asym3x3_s2", GEO(2, 3, 7, 6, 2, 3, 3, 2, 2, 1, 0, 2, 1, 1, 1, 1), true},
    {"dw3x3_asym", GEO(2, 3, 6, 7, 3, 3, 3, 2, 1, 0, 2, 1, 0, 1, 1, 3), false},
    /* anisotropic stride/dilation: swapped h/w indices would show */
    {"aniso2x3", GEO(2, 2, 6, 7, 3, 2, 3, 2, 1, 1, 2, 0, 1, 1, 2, 1), true},
    {"dw_aniso2x3", GEO(2, 2, 6, 7, 2, 2, 3, 1, 2, 1, 2, 0, 1, 2, 1, 2), false},
    {"dense1x7", GEO(1, 2, 5, 9, 2, 1, 7, 1, 1, 0, 3, 0, 3, 1, 1, 1), false},
};

/* ---- linear ---- */

typedef struct LinData {
    int64_t n, c, k;
    float *x, *w, *b, *r, *y;
} LinData;

static double linear_loss(void *ctx)
{
    LinData *d = ctx;
    rt_ref_linear(d->n, d->c, d->k, d->x, d->w, d->b, d->y);
    return dot_loss(d->y, d->r, d->n * d->k);
}

static void check_linear(Rng *g, int64_t n, int64_t c, int64_t k)
{
    LinData d = {n, c, k, random_f(g, n * c), random_f(g, k * c), random_f(g, k),
                 random_f(g, n * k), alloc_f(n * k)};
    float *g0x = random_f(g, n * c), *g0w = random_f(g, k * c), *g0b = random_f(g, k);
    float *gx = copy_f(g0x, n * c), *gw = copy_f(g0w, k * c), *gb = copy_f(g0b, k);
    rt_linear_backward(n, c, k, d.x, d.w, d.r, gx, gw, gb);
    double *num = malloc((size_t)(k * c + n * c) * sizeof *num);
    fd_grad(linear_loss, &d, d.x, n * c, 1.0f / 64, num);
    CHECK(grad_close("linear dx", num, gx, g0x, n * c, 1e-3, true));
    fd_grad(linear_loss, &d, d.w, k * c, 1.0f / 64, num);
    CHECK(grad_close("linear dw", num, gw, g0w, k * c, 1e-3, true));
    fd_grad(linear_loss, &d, d.b, k, 1.0f / 64, num);
    CHECK(grad_close("linear db", num, gb, g0b, k, 1e-3, true));
    /* control: one entry off by 3 tol must be rejected */
    gb[k / 2] += (float)(3e-3 * fmax(1.0, fabs(num[k / 2])));
    CHECK(!grad_close("linear db control", num, gb, g0b, k, 1e-3, false));
    free(num), free(g0x), free(g0w), free(g0b), free(gx), free(gw), free(gb);
    free(d.x), free(d.w), free(d.b), free(d.r), free(d.y);
}

/* ---- batch norm ---- */

typedef struct BnData {
    int64_t n, c, hw;
    float *x, *gamma, *beta, *r, *y, *mean, *var; /* mean, var: eval mode only */
    float *save_mean, *save_invstd;
    bool train;
} BnData;

static const float bn_eps = 1e-5f, bn_momentum = 0.1f;

static double bn_loss(void *ctx)
{
    BnData *d = ctx;
    if (d->train)
        rt_batchnorm_train_forward(d->n, d->c, d->hw, d->x, d->gamma, d->beta, bn_eps,
                                   bn_momentum, NULL, NULL, d->save_mean, d->save_invstd, d->y);
    else
        rt_ref_batchnorm(d->n, d->c, d->hw, d->x, d->mean, d->var, d->gamma, d->beta, bn_eps,
                         d->y);
    return dot_loss(d->y, d->r, d->n * d->c * d->hw);
}

/* x[n, c, hw] random with a per-channel offset, so a kernel that forgets
 * to centre shows. */
static BnData bn_data(Rng *g, int64_t n, int64_t c, int64_t hw, bool affine, float offset)
{
    int64_t nx = n * c * hw;
    BnData d = {n, c, hw, random_f(g, nx), affine ? random_f(g, c) : NULL,
                affine ? random_f(g, c) : NULL, random_f(g, nx), alloc_f(nx), random_f(g, c),
                random_f(g, c), alloc_f(c), alloc_f(c), true};
    for (int64_t i = 0; i < nx; i++)
        d.x[i] += offset * (float)((i / hw) % c + 1);
    for (int64_t k = 0; k < c; k++)
        d.var[k] = 0.5f + fabsf(d.var[k]);
    return d;
}

static void bn_free(BnData *d)
{
    free(d->x), free(d->gamma), free(d->beta), free(d->r), free(d->y), free(d->mean);
    free(d->var), free(d->save_mean), free(d->save_invstd);
}

/* |got - want| <= tol * max(1, |want|) for every entry. */
static bool close_d(const char *what, const float *got, const double *want, int64_t n,
                    double tol)
{
    for (int64_t i = 0; i < n; i++)
        if (!(fabs(got[i] - want[i]) <= tol * fmax(1.0, fabs(want[i])))) {
            fprintf(stderr, "%s[%lld]: %.9g, want %.9g\n", what, (long long)i, got[i],
                    want[i]);
            return false;
        }
    return true;
}

/* The forward against a naive double computation (two-pass variance),
 * to 1e-5: float output rounding of (x - mean) * scale, |x| <= ~13. */
static void check_bn_forward(Rng *g, int64_t n, int64_t c, int64_t hw, bool affine, bool track)
{
    BnData d = bn_data(g, n, c, hw, affine, 3.0f);
    float *rm = track ? copy_f(d.mean, c) : NULL, *rv = track ? copy_f(d.var, c) : NULL;
    rt_batchnorm_train_forward(n, c, hw, d.x, d.gamma, d.beta, bn_eps, bn_momentum, rm, rv,
                               d.save_mean, d.save_invstd, d.y);
    double *y = malloc((size_t)(n * c * hw) * sizeof *y), *st = malloc(4 * (size_t)c * sizeof *st);
    double cnt = (double)(n * hw);
    for (int64_t k = 0; k < c; k++) {
        double s = 0.0, q = 0.0;
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < hw; j++)
                s += d.x[(i * c + k) * hw + j];
        double mean = s / cnt;
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < hw; j++)
                q += pow(d.x[(i * c + k) * hw + j] - mean, 2);
        double invstd = 1.0 / sqrt(q / cnt + bn_eps);
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < hw; j++) {
                int64_t at = (i * c + k) * hw + j;
                y[at] = (d.x[at] - mean) * invstd * (affine ? d.gamma[k] : 1.0) +
                        (affine ? d.beta[k] : 0.0);
            }
        st[k] = mean, st[c + k] = invstd;
        st[2 * c + k] = (1 - (double)bn_momentum) * d.mean[k] + bn_momentum * mean;
        st[3 * c + k] = (1 - (double)bn_momentum) * d.var[k] + bn_momentum * q / (cnt - 1);
    }
    CHECK(close_d("bn y", d.y, y, n * c * hw, 1e-5));
    CHECK(close_d("bn save_mean", d.save_mean, st, c, 1e-6));
    CHECK(close_d("bn save_invstd", d.save_invstd, st + c, c, 1e-6));
    if (track) {
        CHECK(close_d("bn running_mean", rm, st + 2 * c, c, 1e-6));
        CHECK(close_d("bn running_var", rv, st + 3 * c, c, 1e-6));
    }
    free(y), free(st), free(rm), free(rv);
    bn_free(&d);
}

/* FD of L = sum(bn(x) * r) w.r.t. x, gamma, beta; train or eval mode. */
static void check_bn_backward(Rng *g, int64_t n, int64_t c, int64_t hw, bool affine,
                              bool train)
{
    BnData d = bn_data(g, n, c, hw, affine, 0.5f);
    d.train = train;
    int64_t nx = n * c * hw;
    float *g0x = random_f(g, nx), *g0g = random_f(g, c), *g0b = random_f(g, c);
    float *gx = copy_f(g0x, nx), *gg = copy_f(g0g, c), *gb = copy_f(g0b, c);
    bn_loss(&d); /* fills save_mean / save_invstd */
    if (train)
        rt_batchnorm_train_backward(n, c, hw, d.x, d.gamma, d.save_mean, d.save_invstd, d.r, gx,
                                    gg, gb);
    else
        rt_batchnorm_eval_backward(n, c, hw, d.x, d.mean, d.var, d.gamma, bn_eps, d.r, gx, gg,
                                   gb);
    /* train: nonlinear in x, small step (see the top); eval: linear */
    float h = train ? 1.0f / 256 : 1.0f / 64;
    double tol = train ? 2e-3 : 1e-3, *num = malloc((size_t)nx * sizeof *num);
    const char *mode = train ? "bn train" : "bn eval";
    fd_grad(bn_loss, &d, d.x, nx, h, num);
    CHECKF(grad_close("bn dx", num, gx, g0x, nx, tol, true), "%s", mode);
    float *gamma1 = NULL, *beta0 = NULL;
    if (!affine) { /* dgamma / dbeta still defined at gamma = 1, beta = 0 */
        d.gamma = gamma1 = alloc_f(c), d.beta = beta0 = alloc_f(c);
        for (int64_t k = 0; k < c; k++)
            gamma1[k] = 1.0f, beta0[k] = 0.0f;
    }
    fd_grad(bn_loss, &d, d.gamma, c, h, num);
    CHECKF(grad_close("bn dgamma", num, gg, g0g, c, tol, true), "%s", mode);
    fd_grad(bn_loss, &d, d.beta, c, h, num);
    CHECKF(grad_close("bn dbeta", num, gb, g0b, c, tol, true), "%s", mode);
    /* control: one entry off by 3 tol must be rejected */
    gb[0] += (float)(3 * tol * fmax(1.0, fabs(num[0])));
    CHECK(!grad_close("bn dbeta control", num, gb, g0b, c, tol, false));
    free(num), free(g0x), free(g0g), free(g0b), free(gx), free(gg), free(gb);
    bn_free(&d);
}

int main(void)
{
    Rng g = {0x9e3779b97f4a7c15ull};
    for (size_t i = 0; i < sizeof conv_cases / sizeof conv_cases[0]; i++)
        check_conv(&g, &conv_cases[i]);
    check_linear(&g, 3, 7, 5);
    check_linear(&g, 1, 4, 1);
    check_bn_forward(&g, 3, 4, 10, true, true);
    check_bn_forward(&g, 2, 3, 7, false, false);
    check_bn_backward(&g, 2, 3, 12, true, true);
    check_bn_backward(&g, 3, 2, 5, false, true);
    check_bn_backward(&g, 2, 3, 6, true, false);
    check_bn_backward(&g, 2, 2, 5, false, false);
    if (failures)
        fprintf(stderr, "%d failure(s)\n", failures);
    else
        printf("grad_conv: %zu conv cases, linear, batch norm: ok\n",
               sizeof conv_cases / sizeof conv_cases[0]);
    return failures ? 1 : 0;
}
