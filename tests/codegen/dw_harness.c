/* dw_harness.c — the specialised depthwise kernels of an emitted file
 * against its generic one, bit for bit, over many geometries.
 *
 * Built by test_dw_kernels with -DKERNELS="<dir>/dw.c": the emitted file of
 * the "dw" case is included, so its static kernels nasc_rt_dw<K>s<S>d<D>
 * and nasc_rt_dwconv2d are called directly with geometries the graph never
 * had. Both sum bias + taps in (ky, kx) order, the generic kernel skipping
 * the taps in the padding where the specialised ones add w * 0, so with
 * contraction off (-ffp-contract=off) every output must be the same float;
 * only the sign of a zero may differ. Outputs start as NaN, so an output
 * a kernel does not write shows; x, w, b and y are allocated exactly, so a
 * sanitizer build catches any access outside them.
 *
 *   dw_harness [quick]
 *
 * quick: a sparse subset (sanitizer builds). Exit 0 when every geometry
 * agrees. C99, clean under the same strict flags as the emitted file.
 */
#include KERNELS

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void Kernel(const float *x, const float *w, const float *b, float *y,
                    const nasc_rt_conv_p *p);

static const struct {
    Kernel *fn;
    int k, s, d;
    const char *name;
} kernels[8] = {
    {nasc_rt_dw3s1d1, 3, 1, 1, "dw3s1d1"}, {nasc_rt_dw3s1d2, 3, 1, 2, "dw3s1d2"},
    {nasc_rt_dw3s2d1, 3, 2, 1, "dw3s2d1"}, {nasc_rt_dw3s2d2, 3, 2, 2, "dw3s2d2"},
    {nasc_rt_dw5s1d1, 5, 1, 1, "dw5s1d1"}, {nasc_rt_dw5s1d2, 5, 1, 2, "dw5s1d2"},
    {nasc_rt_dw5s2d1, 5, 2, 1, "dw5s2d1"}, {nasc_rt_dw5s2d2, 5, 2, 2, "dw5s2d2"},
};

static uint64_t rng = 0x5eedull;

static float frand(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (float)((double)((rng * 0x2545f4914f6cdd1dull) >> 11) / 9007199254740992.0 * 4 - 2);
}

/* Output rows per band of kernel (k, s, d) on rows of ow outputs, as the
 * kernel computes it; nasc picks the kernel only when that is at least 1
 * (dw_kernel in codegen/emit_c_ops.c). */
static int band_rows(int k, int s, int d, int ow)
{
    int owr = (ow + 7) / 8 * 8;
    if ((owr - ow) * 4 > ow)
        owr = ow;
    int rows = 896 / (s * (((owr - 1) * s + (k - 1) * d + s) / s)); /* staged rows */
    return rows < (k - 1) * d + 1 ? 0 : (rows - (k - 1) * d - 1) / s + 1;
}

/* Same float, or zeros of either sign. */
static int same(float a, float b)
{
    uint32_t u, v;
    memcpy(&u, &a, sizeof u);
    memcpy(&v, &b, sizeof v);
    return u == v || ((u | v) & 0x7fffffffu) == 0;
}

static int checked, bands, failed, vec;

/* Runs kernel i and the generic kernel on one geometry and counts it. */
static void run(int i, int n, int c, int h, int w, int pt, int pl, int pb, int pr, int bias)
{
    int k = kernels[i].k, s = kernels[i].s, d = kernels[i].d;
    int oh = (h + pt + pb - (k - 1) * d - 1) / s + 1, ow = (w + pl + pr - (k - 1) * d - 1) / s + 1;
    if (h + pt + pb < (k - 1) * d + 1 || w + pl + pr < (k - 1) * d + 1 ||
        band_rows(k, s, d, ow) < 1)
        return;
    nasc_rt_conv_p p = {n, c, h, w, c, oh, ow, k, k, s, s, pt, pl, d, d, c};
    size_t nx = (size_t)(n * c * h * w), ny = (size_t)(n * c * oh * ow);
    float *x = malloc(nx * sizeof *x), *wt = malloc((size_t)(c * k * k) * sizeof *wt);
    float *b = malloc((size_t)c * sizeof *b), *y = malloc(ny * sizeof *y);
    float *ref = malloc(ny * sizeof *ref);
    int bad = 0;
    if (!x || !wt || !b || !y || !ref) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (size_t j = 0; j < nx; j++)
        x[j] = frand();
    for (int j = 0; j < c * k * k; j++)
        wt[j] = frand();
    for (int j = 0; j < c; j++)
        b[j] = frand();
    memset(y, 0xff, ny * sizeof *y); /* NaN */
    memset(ref, 0xff, ny * sizeof *ref);
    kernels[i].fn(x, wt, bias ? b : NULL, y, &p);
    nasc_rt_dwconv2d(x, wt, bias ? b : NULL, ref, &p);
    for (size_t j = 0; j < ny && !bad; j++)
        if (!same(y[j], ref[j])) {
            fprintf(stderr, "%s n%d c%d %dx%d pads %d,%d,%d,%d bias %d: y[%lu] = %.9g, want %.9g\n",
                    kernels[i].name, n, c, h, w, pt, pl, pb, pr, bias, (unsigned long)j,
                    (double)y[j], (double)ref[j]);
            bad = 1;
        }
    bands += band_rows(k, s, d, ow) < oh;
#ifdef NASC_RT_VEC
    /* the geometries nasc_rt_dwv3 (AVX-512 hosts) takes */
    vec += k == 3 && s == 1 && pt == d && pl == d && pb == d && pr == d && w >= 4 && w <= 32 &&
           h > 2 * d;
#endif
    checked++;
    failed += bad;
    free(x);
    free(wt);
    free(b);
    free(y);
    free(ref);
}

int main(int argc, char **argv)
{
    static const int sizes[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 14, 15, 16, 17, 23, 32};
    static const int wide[] = {40, 81, 88, 120, 200, 290};
    int quick = argc > 1 && strcmp(argv[1], "quick") == 0;
    int nsz = (int)(sizeof sizes / sizeof *sizes);
    unsigned combo = 0;
    for (int i = 0; i < 8; i++) {
        int r = (kernels[i].k - 1) * kernels[i].d, pads[4] = {0, 1, r / 2, r};
        for (int hi = 0; hi < nsz; hi++)
            for (int wi = 0; wi < nsz; wi++)
                for (int q = 0; q < 256; q++, combo++) {
                    if (quick ? combo % 61 : combo % 3)
                        continue;
                    if (failed > 10)
                        return 1;
                    run(i, 1 + (int)(combo / 3 % 2), 1 + (int)(combo / 7 % 3), sizes[hi],
                        sizes[wi], pads[q & 3], pads[q >> 2 & 3], pads[q >> 4 & 3], pads[q >> 6],
                        (int)(combo / 5 % 2));
                }
        for (size_t wi = 0; wi < sizeof wide / sizeof *wide; wi++)
            for (int q = 0; q < 4; q++) {
                if (quick && q)
                    continue;
                run(i, 1, 2, 3 + 9 * (q & 1), wide[wi], pads[q], pads[q], pads[3 - q], pads[q],
                    q & 1);
            }
    }
    /* "same" pads on every width the vector kernels take, both dilations */
    for (int i = 0; i < 2; i++)
        for (int hi = 0; hi < nsz; hi++)
            for (int w = 4; w <= 32; w++, combo++)
                if (!quick || combo % 7 == 0)
                    run(i, 1 + (int)(combo % 2), 1 + 2 * (int)(combo / 2 % 2), sizes[hi], w, i + 1,
                        i + 1, i + 1, i + 1, (int)(combo / 4 % 2));
    printf("dw_harness: %d geometries, %d with several bands, %d on the vector kernels, "
           "%d differ\n", checked, bands, vec, failed);
#ifdef NASC_RT_VEC
    if (vec < (quick ? 50 : 500))
        return 1;
#endif
    return failed != 0 || checked < (quick ? 200 : 10000) || bands < (quick ? 5 : 50);
}
