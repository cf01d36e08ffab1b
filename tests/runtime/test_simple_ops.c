/* test_simple_ops.c — pooling, batch norm, linear, relu, leaky_relu, add and the shape
 * ops against oracles written differently from runtime/ref.
 *
 * Pooling oracles work on an explicitly padded copy of x: -inf borders for
 * max, zero borders for average with a second padded tensor of ones whose
 * window sum is the count_include_pad=0 divisor. Concat is checked by
 * indexing the output per element, with batch 2 (the case a flat memcpy
 * per input gets wrong).
 */
#include "runtime/ref/ref.h"
#include "testutil.h"

static void oracle_pool(const RtPool2d *p, const float *x, int is_max, float *y, int64_t oh,
                        int64_t ow)
{
    int64_t hp, wp, nc = p->n * p->c;
    float *ones = tu_alloc(nc * p->h * p->w);
    for (int64_t i = 0; i < nc * p->h * p->w; i++)
        ones[i] = 1.0f;
    float *xp = tu_pad_input(x, p->n, p->c, p->h, p->w, p->pad, is_max ? -INFINITY : 0.0f, &hp,
                             &wp);
    float *mp = tu_pad_input(ones, p->n, p->c, p->h, p->w, p->pad, 0.0f, &hp, &wp);
    for (int64_t k = 0; k < nc; k++)
        for (int64_t i = 0; i < oh; i++)
            for (int64_t j = 0; j < ow; j++) {
                double s = 0.0, cnt = 0.0, m = -INFINITY;
                for (int u = 0; u < p->kernel[0]; u++)
                    for (int v = 0; v < p->kernel[1]; v++) {
                        int64_t at = (k * hp + i * p->stride[0] + u) * wp + j * p->stride[1] + v;
                        s += xp[at], cnt += mp[at];
                        m = xp[at] > m ? xp[at] : m;
                    }
                double div = p->count_include_pad ? p->kernel[0] * p->kernel[1] : cnt;
                y[(k * oh + i) * ow + j] = (float)(is_max ? m : s / div);
            }
    free(ones), free(xp), free(mp);
}

static void check_pool(const char *tag, const RtPool2d *p)
{
    int64_t oh, ow;
    if (!rt_pool2d_out_hw(p, &oh, &ow)) {
        fprintf(stderr, "FAIL %s: valid geometry rejected\n", tag);
        tu_failures++;
        return;
    }
    int64_t nx = p->n * p->c * p->h * p->w, ny = p->n * p->c * oh * ow;
    float *x = tu_random(nx), *want = tu_alloc(ny), *got = tu_poisoned(ny);
    char what[96];
    oracle_pool(p, x, 1, want, oh, ow);
    rt_ref_maxpool2d(p, x, got);
    snprintf(what, sizeof what, "%s maxpool", tag);
    tu_check(what, got, want, ny);
    oracle_pool(p, x, 0, want, oh, ow);
    rt_ref_avgpool2d(p, x, got);
    snprintf(what, sizeof what, "%s avgpool cip=%d", tag, p->count_include_pad);
    tu_check(what, got, want, ny);
    free(x), free(want), free(got);
}

static void test_pools(void)
{
    RtPool2d fixed[] = {
        {2, 3, 8, 8, {3, 3}, {1, 1}, {1, 1, 1, 1}, 0},  /* DARTS pools, stride 1 */
        {2, 3, 9, 7, {3, 3}, {2, 2}, {1, 1, 1, 1}, 0},  /* reduction, odd sizes */
        {2, 3, 9, 7, {3, 3}, {2, 2}, {1, 1, 1, 1}, 1},
        {1, 2, 7, 6, {3, 2}, {2, 1}, {0, 1, 1, 0}, 0},  /* asymmetric */
        {1, 2, 7, 6, {3, 2}, {2, 1}, {0, 1, 1, 0}, 1},
        {2, 4, 5, 5, {2, 2}, {2, 2}, {0, 0, 0, 0}, 0},  /* no padding */
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        char tag[32];
        snprintf(tag, sizeof tag, "pool #%zu", i);
        check_pool(tag, &fixed[i]);
    }
    for (int t = 0; t < 60; t++) {
        RtPool2d p = {tu_int(1, 2), tu_int(1, 3), tu_int(2, 11), tu_int(2, 11),
                      {tu_int(1, 3), tu_int(1, 3)}, {tu_int(1, 2), tu_int(1, 2)},
                      {0, 0, 0, 0}, t % 2};
        /* pad < kernel on each side, as torch requires (no all-padding window) */
        for (int s = 0; s < 4; s++)
            p.pad[s] = tu_int(0, (p.kernel[s % 2] - 1) / 2);
        int64_t oh, ow;
        if (!rt_pool2d_out_hw(&p, &oh, &ow))
            continue;
        char tag[32];
        snprintf(tag, sizeof tag, "random pool #%d", t);
        check_pool(tag, &p);
    }
}

static void test_gavgpool_bn_linear(void)
{
    int64_t n = 2, c = 5, hw = 13, k = 7;
    float *x = tu_random(n * c * hw), *got = tu_poisoned(n * c * hw), *want = tu_alloc(n * c * hw);
    for (int64_t i = 0; i < n * c; i++) {
        double s = 0.0;
        for (int64_t j = 0; j < hw; j++)
            s += x[i * hw + j];
        want[i] = (float)(s / hw);
    }
    rt_ref_gavgpool(n, c, hw, x, got);
    tu_check("gavgpool", got, want, n * c);

    float *mean = tu_random(c), *var = tu_random(c), *gamma = tu_random(c), *beta = tu_random(c);
    /* small variances so that eps visibly matters */
    for (int64_t i = 0; i < c; i++)
        var[i] = 1e-4f + 1e-3f * var[i] * var[i];
    for (int affine = 0; affine < 2; affine++) {
        for (int64_t i = 0; i < n * c * hw; i++) {
            int64_t ch = i / hw % c;
            double g = affine ? gamma[ch] : 1.0, b = affine ? beta[ch] : 0.0;
            want[i] = (float)(((double)x[i] - mean[ch]) / sqrt((double)var[ch] + 1e-4) * g + b);
        }
        rt_ref_batchnorm(n, c, hw, x, mean, var, affine ? gamma : NULL, affine ? beta : NULL,
                         1e-4f, got);
        tu_check(affine ? "batchnorm affine" : "batchnorm plain", got, want, n * c * hw);
    }

    float *w = tu_random(k * c * hw), *b = tu_random(k);
    for (int bias = 0; bias < 2; bias++) {
        for (int64_t i = 0; i < n; i++)
            for (int64_t o = 0; o < k; o++) {
                double s = bias ? b[o] : 0.0;
                for (int64_t j = 0; j < c * hw; j++)
                    s += (double)x[i * c * hw + j] * w[o * c * hw + j];
                want[i * k + o] = (float)s;
            }
        rt_ref_linear(n, c * hw, k, x, w, bias ? b : NULL, got);
        tu_check(bias ? "linear bias" : "linear", got, want, n * k);
    }
    free(x), free(got), free(want), free(mean), free(var), free(gamma), free(beta), free(w),
        free(b);
}

static void test_relu_add(void)
{
    int64_t n = 101;
    float *a = tu_random(n), *b = tu_random(n), *want = tu_alloc(n), *got = tu_poisoned(n);
    for (int64_t i = 0; i < n; i++)
        want[i] = a[i] < 0.0f ? 0.0f : a[i];
    rt_ref_relu(n, a, got);
    tu_check("relu", got, want, n);
    for (int64_t i = 0; i < n; i++)
        want[i] = a[i] + b[i];
    rt_ref_add(n, a, b, got);
    tu_check("add", got, want, n);
    rt_ref_add(n, a, b, a); /* documented: y may alias a */
    tu_check("add in place", a, want, n);
    free(a), free(b), free(want), free(got);
}

/* leaky_relu by its definition, with the edge cases spelled out: -0 stays
 * -0 (not +0: the product, as torch), NaN stays NaN, a slope > 1 and < 0. */
static void test_leaky_relu(void)
{
    int64_t n = 101;
    float *a = tu_random(n), *want = tu_alloc(n), *got = tu_poisoned(n);
    static const float slopes[] = {0.01f, 0.0f, -0.5f, 3.0f};
    for (int s = 0; s < 4; s++) {
        for (int64_t i = 0; i < n; i++)
            want[i] = a[i] < 0.0f ? a[i] * slopes[s] : a[i];
        rt_ref_leaky_relu(n, a, slopes[s], got);
        tu_check("leaky_relu", got, want, n);
    }
    float x[4] = {-0.0f, NAN, -INFINITY, 2.0f}, y[4];
    rt_ref_leaky_relu(4, x, 0.01f, y);
    if (!(y[0] == 0.0f && signbit(y[0]) && isnan(y[1]) && y[2] == -INFINITY && y[3] == 2.0f)) {
        fprintf(stderr, "FAIL leaky_relu specials: %g %g %g %g\n", y[0], y[1], y[2], y[3]);
        tu_failures++;
    }
    for (int64_t i = 0; i < n; i++)
        want[i] = a[i] < 0.0f ? a[i] * 0.01f : a[i];
    rt_ref_leaky_relu(n, a, 0.01f, a); /* documented: y may alias x */
    tu_check("leaky_relu in place", a, want, n);
    free(a), free(want), free(got);
}

static void test_shape_ops(void)
{
    /* concat of [2,2,3,4], [2,3,3,4], [2,1,3,4] -> [2,6,3,4] */
    int64_t n = 2, hw = 12, cs[3] = {2, 3, 1}, ctot = 6;
    float *xs[3], *got = tu_poisoned(n * ctot * hw), *want = tu_alloc(n * ctot * hw);
    for (int i = 0; i < 3; i++)
        xs[i] = tu_random(n * cs[i] * hw);
    for (int64_t b = 0; b < n; b++)
        for (int64_t ch = 0; ch < ctot; ch++)
            for (int64_t j = 0; j < hw; j++) {
                int i = ch < 2 ? 0 : ch < 5 ? 1 : 2;
                int64_t local = ch - (i == 0 ? 0 : i == 1 ? 2 : 5);
                want[(b * ctot + ch) * hw + j] = xs[i][(b * cs[i] + local) * hw + j];
            }
    rt_ref_concat(n, hw, 3, (const float *const *)xs, cs, got);
    tu_check("concat batch 2", got, want, n * ctot * hw);

    /* crop x[2,3,5,6][:, :, 1:, 1:] -> [2,3,4,5] */
    int64_t c = 3, h = 5, w = 6;
    float *x = tu_random(n * c * h * w);
    for (int64_t k = 0; k < n * c; k++)
        for (int64_t i = 0; i < h - 1; i++)
            for (int64_t j = 0; j < w - 1; j++)
                want[(k * (h - 1) + i) * (w - 1) + j] = x[(k * h + i + 1) * w + j + 1];
    rt_ref_crop(n, c, h, w, 1, 1, h - 1, w - 1, x, got);
    tu_check("crop", got, want, n * c * (h - 1) * (w - 1));

    for (int64_t i = 0; i < 40; i++)
        want[i] = 0.0f, got[i] = NAN;
    rt_ref_zero(40, got);
    tu_check("zero", got, want, 40);
    for (int i = 0; i < 3; i++)
        free(xs[i]);
    free(got), free(want), free(x);
}

int main(void)
{
    test_pools();
    test_gavgpool_bn_linear();
    test_relu_add();
    test_leaky_relu();
    test_shape_ops();
    if (tu_failures) {
        fprintf(stderr, "%d failure(s)\n", tu_failures);
        return 1;
    }
    printf("simple kernels OK\n");
    return 0;
}
