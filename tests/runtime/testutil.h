/* testutil.h — shared bits of the runtime tests: a seeded generator, the
 * comparison rule, and failure counting. Header-only (static functions)
 * so each test is one translation unit.
 *
 * Comparison rule everywhere: max |got - ref| <= 1e-4 * max(1, max |ref|).
 */
#ifndef NASC_TESTS_RUNTIME_TESTUTIL_H
#define NASC_TESTS_RUNTIME_TESTUTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tu_failures;
static uint64_t tu_state = 0x9e3779b97f4a7c15ull;

/* xorshift64*: reproducible across platforms (rand() is not). */
static inline uint64_t tu_next(void)
{
    tu_state ^= tu_state >> 12;
    tu_state ^= tu_state << 25;
    tu_state ^= tu_state >> 27;
    return tu_state * 0x2545f4914f6cdd1dull;
}

/* Uniform in [lo, hi]. */
static inline int tu_int(int lo, int hi) { return lo + (int)(tu_next() % (uint64_t)(hi - lo + 1)); }

/* Uniform in [-1, 1): 53 random bits scaled. */
static inline float tu_float(void)
{
    return (float)((double)(tu_next() >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static inline float *tu_alloc(int64_t n)
{
    float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof *p);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

static inline float *tu_random(int64_t n)
{
    float *p = tu_alloc(n);
    for (int64_t i = 0; i < n; i++)
        p[i] = tu_float();
    return p;
}

/* Fills with NaN so a kernel that skips an output element is caught. */
static inline float *tu_poisoned(int64_t n)
{
    float *p = tu_alloc(n);
    for (int64_t i = 0; i < n; i++)
        p[i] = NAN;
    return p;
}

/* Checks got against ref under the rule above; prints and counts a failure. */
static inline int tu_check(const char *what, const float *got, const float *ref, int64_t n)
{
    double maxref = 1.0, maxdiff = 0.0;
    int64_t worst = 0;
    for (int64_t i = 0; i < n; i++)
        if (fabs(ref[i]) > maxref)
            maxref = fabs(ref[i]);
    for (int64_t i = 0; i < n; i++) {
        double diff = fabs((double)got[i] - (double)ref[i]);
        if (!(diff <= maxdiff)) { /* also catches NaN */
            maxdiff = isnan(diff) ? INFINITY : diff;
            worst = i;
        }
    }
    if (maxdiff <= 1e-4 * maxref)
        return 1;
    fprintf(stderr, "FAIL %s: max diff %g at %lld (got %g, want %g), limit %g\n", what, maxdiff,
            (long long)worst, got[worst], ref[worst], 1e-4 * maxref);
    tu_failures++;
    return 0;
}

/* x[n,c,h,w] -> xp[n,c,h+pt+pb,w+pl+pr], border filled with `fill`. */
static inline float *tu_pad_input(const float *x, int64_t n, int64_t c, int64_t h, int64_t w,
                           const int pad[4], float fill, int64_t *hp, int64_t *wp)
{
    *hp = h + pad[0] + pad[2];
    *wp = w + pad[1] + pad[3];
    float *xp = tu_alloc(n * c * *hp * *wp);
    for (int64_t i = 0; i < n * c * *hp * *wp; i++)
        xp[i] = fill;
    for (int64_t nc = 0; nc < n * c; nc++)
        for (int64_t i = 0; i < h; i++)
            memcpy(xp + (nc * *hp + i + pad[0]) * *wp + pad[1], x + (nc * h + i) * w,
                   (size_t)w * sizeof *x);
    return xp;
}

#endif
