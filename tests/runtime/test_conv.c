/* test_conv.c — sgemm and every convolution kernel against an independent
 * oracle.
 *
 * The oracles take a different route from runtime/ref: convolution first
 * copies x into an explicitly padded buffer and then indexes it without
 * bounds checks, accumulating in double; sgemm is a plain triple loop in
 * double. Shapes come from a seeded generator and include odd sizes,
 * stride 2, dilation 2, asymmetric padding, groups 1 / 2 / C and batch 2,
 * plus fixed edge cases. Outputs are pre-filled with NaN so an element a
 * kernel forgets to write fails the comparison.
 */
#include "runtime/ref/ref.h"
#include "testutil.h"

#include <string.h>

static void oracle_conv(const RtConv2d *p, const float *x, const float *w, const float *b,
                        float *y, int64_t oh, int64_t ow)
{
    int64_t hp, wp, cg = p->c / p->groups, ocg = p->oc / p->groups;
    float *xp = tu_pad_input(x, p->n, p->c, p->h, p->w, p->pad, 0.0f, &hp, &wp);
    for (int64_t n = 0; n < p->n; n++)
        for (int64_t g = 0; g < p->groups; g++)
            for (int64_t o = g * ocg; o < (g + 1) * ocg; o++)
                for (int64_t i = 0; i < oh; i++)
                    for (int64_t j = 0; j < ow; j++) {
                        double s = b ? b[o] : 0.0;
                        for (int64_t ic = 0; ic < cg; ic++)
                            for (int64_t u = 0; u < p->kh; u++)
                                for (int64_t v = 0; v < p->kw; v++)
                                    s += (double)w[((o * cg + ic) * p->kh + u) * p->kw + v] *
                                         xp[((n * p->c + g * cg + ic) * hp + i * p->stride[0] +
                                             u * p->dilation[0]) * wp +
                                            j * p->stride[1] + v * p->dilation[1]];
                        y[((n * p->oc + o) * oh + i) * ow + j] = (float)s;
                    }
    free(xp);
}

static void check_conv(const char *tag, const RtConv2d *p, int bias)
{
    int64_t oh, ow;
    if (!rt_conv2d_out_hw(p, &oh, &ow)) {
        fprintf(stderr, "FAIL %s: valid geometry rejected\n", tag);
        tu_failures++;
        return;
    }
    int64_t nx = p->n * p->c * p->h * p->w, nw = p->oc * (p->c / p->groups) * p->kh * p->kw;
    int64_t ny = p->n * p->oc * oh * ow;
    float *x = tu_random(nx), *w = tu_random(nw), *b = bias ? tu_random(p->oc) : NULL;
    float *want = tu_alloc(ny), *got = tu_poisoned(ny);
    float *ws = tu_poisoned((int64_t)rt_f32_conv2d__im2col_sgemm_workspace(p));
    char what[160];
    oracle_conv(p, x, w, b, want, oh, ow);

    snprintf(what, sizeof what, "%s rt_ref_conv2d", tag);
    rt_ref_conv2d(p, x, w, b, got);
    tu_check(what, got, want, ny);

    snprintf(what, sizeof what, "%s im2col_sgemm", tag);
    for (int64_t i = 0; i < ny; i++)
        got[i] = NAN;
    rt_f32_conv2d__im2col_sgemm(p, x, w, b, got, ws);
    tu_check(what, got, want, ny);

    if (rt_f32_dwconv2d__direct_applies(p)) {
        snprintf(what, sizeof what, "%s dwconv2d_direct", tag);
        for (int64_t i = 0; i < ny; i++)
            got[i] = NAN;
        rt_f32_dwconv2d__direct(p, x, w, b, got);
        tu_check(what, got, want, ny);
    }
    free(ws);
    ws = tu_poisoned((int64_t)rt_f32_conv2d_workspace(p));
    snprintf(what, sizeof what, "%s rt_f32_conv2d", tag);
    for (int64_t i = 0; i < ny; i++)
        got[i] = NAN;
    rt_f32_conv2d(p, x, w, b, got, ws);
    tu_check(what, got, want, ny);
    free(x), free(w), free(b), free(want), free(got), free(ws);
}

static RtConv2d conv(int64_t n, int64_t c, int64_t h, int64_t w, int64_t oc, int64_t k, int s,
                     int pt, int pl, int pb, int pr, int d, int g)
{
    RtConv2d p = {n, c, h, w, oc, k, k, {s, s}, {pt, pl, pb, pr}, {d, d}, g};
    return p;
}

static void test_conv_fixed(void)
{
    struct { const char *tag; RtConv2d p; } cases[] = {
        {"1x1", conv(2, 6, 5, 7, 4, 1, 1, 0, 0, 0, 0, 1, 1)},
        {"1x1 groups2", conv(2, 6, 5, 7, 4, 1, 1, 0, 0, 0, 0, 1, 2)},
        {"1x1 stride2", conv(2, 6, 9, 7, 4, 1, 2, 0, 0, 0, 0, 1, 1)},
        {"3x3 pad1", conv(2, 3, 8, 8, 5, 3, 1, 1, 1, 1, 1, 1, 1)},
        {"3x3 stride2 odd", conv(2, 4, 9, 11, 6, 3, 2, 1, 1, 1, 1, 1, 1)},
        {"5x5 dil2 pad4", conv(2, 4, 9, 9, 4, 5, 1, 4, 4, 4, 4, 2, 4)},
        {"dw3x3 stride2", conv(2, 5, 10, 9, 5, 3, 2, 1, 1, 1, 1, 1, 5)},
        {"dw3x3 dil2", conv(2, 5, 7, 8, 5, 3, 1, 2, 2, 2, 2, 2, 5)},
        {"asym pad", conv(2, 4, 7, 6, 6, 3, 2, 0, 1, 2, 0, 1, 2)},
        {"asym dw", conv(1, 3, 6, 7, 3, 3, 2, 1, 0, 0, 1, 1, 3)},
        {"kernel > input", conv(1, 2, 2, 3, 3, 5, 1, 2, 2, 2, 2, 1, 1)},
        {"1x1 on 1x1", conv(2, 8, 1, 1, 3, 1, 1, 0, 0, 0, 0, 1, 1)},
        {"7x1", conv(1, 3, 9, 9, 4, 1, 1, 0, 0, 0, 0, 1, 1)},
        /* last taps lie wholly in the right/bottom padding for every output */
        {"tap in pad only", conv(2, 2, 2, 2, 2, 3, 1, 0, 0, 3, 3, 2, 1)},
        {"dw tap in pad only", conv(2, 2, 2, 2, 2, 3, 1, 0, 0, 3, 3, 2, 2)},
        /* Auto-DeepLab ASPP: dilation 18 > a 5x5 map, only the centre tap is inside */
        {"aspp dil18 on 5x5", conv(2, 4, 5, 5, 3, 3, 1, 18, 18, 18, 18, 18, 1)},
        {"aspp dw dil18 on 5x5", conv(1, 4, 5, 5, 4, 3, 1, 18, 18, 18, 18, 18, 4)},
    };
    cases[12].p.kh = 7, cases[12].p.pad[0] = cases[12].p.pad[2] = 3;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        check_conv(cases[i].tag, &cases[i].p, 1);
        check_conv(cases[i].tag, &cases[i].p, 0);
    }
}

static void test_conv_random(void)
{
    for (int t = 0; t < 120; t++) {
        int gsel = tu_int(0, 2), c = tu_int(1, 4) * 2, g = gsel == 0 ? 1 : gsel == 1 ? 2 : c;
        int oc = gsel == 2 ? c : tu_int(1, 3) * g;
        RtConv2d p = conv(tu_int(1, 2), c, tu_int(3, 12), tu_int(3, 12), oc, 1, tu_int(1, 2),
                          tu_int(0, 2), tu_int(0, 2), tu_int(0, 2), tu_int(0, 2), 1, g);
        p.kh = tu_int(1, 3), p.kw = tu_int(1, 3), p.stride[1] = tu_int(1, 2);
        p.dilation[0] = tu_int(1, 2), p.dilation[1] = tu_int(1, 2);
        int64_t oh, ow;
        if (!rt_conv2d_out_hw(&p, &oh, &ow))
            continue; /* window larger than padded input: drawn again */
        char tag[64];
        snprintf(tag, sizeof tag, "random conv #%d", t);
        check_conv(tag, &p, t % 2);
    }
}

static void test_conv_geometry(void)
{
    int64_t oh, ow;
    RtConv2d bad = conv(1, 6, 5, 5, 4, 3, 1, 1, 1, 1, 1, 1, 4); /* 4 does not divide 6 */
    RtConv2d big = conv(1, 2, 2, 2, 2, 5, 1, 0, 0, 0, 0, 1, 1); /* window > input */
    if (rt_conv2d_out_hw(&bad, &oh, &ow) || rt_conv2d_out_hw(&big, &oh, &ow)) {
        fprintf(stderr, "FAIL conv geometry: invalid geometry accepted\n");
        tu_failures++;
    }
    if (rt_window_out(32, 3, 2, 1, 1, 1) != 16 || rt_window_out(7, 3, 1, 2, 2, 2) != 7 ||
        rt_window_out(8, 2, 2, 0, 1, 1) != 4 || rt_zero_out(7, 2) != 4 || rt_zero_out(8, 2) != 4) {
        fprintf(stderr, "FAIL window arithmetic\n");
        tu_failures++;
    }
}

static double at(const float *a, bool t, int64_t ld, int64_t i, int64_t p)
{
    return t ? a[p * ld + i] : a[i * ld + p];
}

typedef void SgemmFn(bool, bool, int64_t, int64_t, int64_t, float, const float *, int64_t,
                     const float *, int64_t, float, float *, int64_t);

static void test_sgemm_one(const char *name, SgemmFn *fn, bool ta, bool tb, float beta)
{
    int64_t m = tu_int(1, 17), n = tu_int(1, 19), k = tu_int(1, 23), pad = tu_int(0, 3);
    int64_t lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
    float *a = tu_random((ta ? k : m) * lda), *b = tu_random((tb ? n : k) * ldb);
    float *c = tu_random(m * ldc), *want = tu_alloc(m * n), *got = tu_alloc(m * n);
    if (beta == 0.0f)
        for (int64_t i = 0; i < m * ldc; i++)
            c[i] = NAN; /* beta 0 must overwrite, not scale */
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0.0;
            for (int64_t p = 0; p < k; p++)
                s += at(a, ta, lda, i, p) * at(b, !tb, ldb, j, p);
            want[i * n + j] = (float)(0.75 * s + (beta == 0.0f ? 0.0 : beta * c[i * ldc + j]));
        }
    fn(ta, tb, m, n, k, 0.75f, a, lda, b, ldb, beta, c, ldc);
    for (int64_t i = 0; i < m; i++)
        memcpy(got + i * n, c + i * ldc, (size_t)n * sizeof *got);
    char what[96];
    snprintf(what, sizeof what, "%s ta=%d tb=%d beta=%g", name, ta, tb, beta);
    tu_check(what, got, want, m * n);
    free(a), free(b), free(c), free(want), free(got);
}

static void test_sgemm(void)
{
    for (int t = 0; t < 8; t++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                float beta = t % 2 ? 0.5f : 0.0f;
                test_sgemm_one("rt_sgemm", rt_sgemm, ta, tb, beta);
                test_sgemm_one("rt_sgemm__naive", rt_sgemm__naive, ta, tb, beta);
            }
}

int main(void)
{
    test_sgemm();
    test_conv_geometry();
    test_conv_fixed();
    test_conv_random();
    if (tu_failures) {
        fprintf(stderr, "%d failure(s)\n", tu_failures);
        return 1;
    }
    printf("conv kernels OK (sgemm backend: %s)\n", rt_sgemm_backend());
    return 0;
}
