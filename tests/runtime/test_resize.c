/* test_resize.c — rt_ref_resize_bilinear and rt_resize_taps against an
 * oracle written from the formula, in double, with the exact rational scale
 * (not the float scale PyTorch and the kernel use: the two differ by
 * ~in * 6e-8 in the source coordinate, far inside the tolerance).
 *
 * The oracle does the 2-D interpolation as one weighted sum of four corners
 * (the kernel does rows of columns), and derives i0/i1 by floor and clamp
 * on its own. Shapes: the Auto-DeepLab / ASPP ones (1x1 -> HxW broadcast,
 * 65 -> 33, x2 up), odd and non-integer scales, identity, down to 1x1, and
 * seeded random sizes 1..20 per axis, both align_corners, batch 2.
 */
#include "runtime/ref/ref.h"
#include "testutil.h"

/* Source coordinate of output index d, in double, torch's formula. */
static double oracle_src(int64_t in, int64_t out, int ac, int64_t d)
{
    if (ac)
        return out > 1 ? (double)d * (double)(in - 1) / (double)(out - 1) : 0.0;
    double s = ((double)d + 0.5) * (double)in / (double)out - 0.5;
    return s < 0.0 ? 0.0 : s;
}

static void oracle_resize(int64_t nc, int64_t h, int64_t w, int64_t oh, int64_t ow, int ac,
                          const float *x, float *y)
{
    for (int64_t p = 0; p < nc; p++)
        for (int64_t i = 0; i < oh; i++)
            for (int64_t j = 0; j < ow; j++) {
                double sy = oracle_src(h, oh, ac, i), sx = oracle_src(w, ow, ac, j);
                double fy = floor(sy), fx = floor(sx);
                int64_t y0 = (int64_t)fy < h - 1 ? (int64_t)fy : h - 1;
                int64_t x0 = (int64_t)fx < w - 1 ? (int64_t)fx : w - 1;
                int64_t y1 = y0 + 1 < h ? y0 + 1 : y0, x1 = x0 + 1 < w ? x0 + 1 : x0;
                double ly = sy - (double)y0, lx = sx - (double)x0;
                const float *xp = x + p * h * w;
                double v = (1 - ly) * (1 - lx) * xp[y0 * w + x0] + (1 - ly) * lx * xp[y0 * w + x1] +
                           ly * (1 - lx) * xp[y1 * w + x0] + ly * lx * xp[y1 * w + x1];
                y[(p * oh + i) * ow + j] = (float)v;
            }
}

static void check_resize(int64_t n, int64_t c, int64_t h, int64_t w, int64_t oh, int64_t ow,
                         int ac)
{
    int64_t nx = n * c * h * w, ny = n * c * oh * ow;
    float *x = tu_random(nx), *want = tu_alloc(ny), *got = tu_poisoned(ny);
    oracle_resize(n * c, h, w, oh, ow, ac, x, want);
    rt_ref_resize_bilinear(n * c, h, w, oh, ow, ac, x, got);
    char what[96];
    snprintf(what, sizeof what, "resize %lldx%lld -> %lldx%lld ac=%d", (long long)h, (long long)w,
             (long long)oh, (long long)ow, ac);
    tu_check(what, got, want, ny);
    if (h == oh && w == ow && memcmp(got, x, (size_t)nx * sizeof *x) != 0) {
        fprintf(stderr, "FAIL %s: same size is not an exact copy\n", what);
        tu_failures++;
    }
    free(x), free(want), free(got);
}

/* Every tap is in range and consistent with the oracle's coordinate. */
static void check_taps(int64_t in, int64_t out, int ac)
{
    for (int64_t d = 0; d < out; d++) {
        RtResizeTap t;
        rt_resize_taps(in, out, ac, d, &t);
        double src = in == out ? (double)d : oracle_src(in, out, ac, d);
        bool ok = t.i0 >= 0 && t.i0 <= t.i1 && t.i1 <= in - 1 &&
                  (t.i1 == t.i0 + 1 || t.i0 == in - 1 || (in == out && t.lambda == 0.0f)) &&
                  t.lambda >= 0.0f &&
                  t.lambda <= 1.0f && fabs((double)t.i0 + t.lambda - src) <= 1e-5 * in;
        if (!ok) {
            fprintf(stderr, "FAIL taps %lld -> %lld ac=%d at %lld: i0 %lld i1 %lld lambda %.9g, "
                    "src %.9g\n", (long long)in, (long long)out, ac, (long long)d,
                    (long long)t.i0, (long long)t.i1, (double)t.lambda, src);
            tu_failures++;
            return;
        }
    }
}

int main(void)
{
    static const int64_t fixed[][4] = {
        {1, 1, 17, 17}, {1, 1, 65, 65}, {65, 65, 33, 33}, {33, 33, 65, 65}, {17, 17, 9, 9},
        {5, 5, 3, 3},   {3, 3, 5, 5},   {7, 7, 13, 13},   {8, 8, 16, 16},   {16, 16, 8, 8},
        {9, 6, 9, 6},   {6, 9, 1, 1},   {1, 4, 3, 1},     {13, 11, 29, 31}, {2, 2, 1, 7},
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        for (int ac = 0; ac < 2; ac++)
            check_resize(2, 3, fixed[i][0], fixed[i][1], fixed[i][2], fixed[i][3], ac);
    for (int t = 0; t < 200; t++)
        check_resize(tu_int(1, 2), tu_int(1, 3), tu_int(1, 20), tu_int(1, 20), tu_int(1, 20),
                     tu_int(1, 20), t % 2);
    for (int64_t in = 1; in <= 70; in++)
        for (int64_t out = 1; out <= 70; out++)
            for (int ac = 0; ac < 2; ac++)
                check_taps(in, out, ac);
    if (tu_failures)
        fprintf(stderr, "%d failure(s)\n", tu_failures);
    else
        printf("resize: all checks passed\n");
    return tu_failures ? 1 : 0;
}
