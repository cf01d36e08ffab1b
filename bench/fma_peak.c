/* fma_peak.c — single-thread FP32 multiply-add peak of this machine, for
 * the "% of peak" column of bench/peers.sh.
 *
 *   cc -O2 -march=native -o fma_peak fma_peak.c && ./fma_peak [TRIALS]
 *
 * Runs NACC independent chains acc = acc * a + b (one FMA each when the
 * target has FMA: GCC contracts a*b+c by default outside ISO mode) in
 * vectors of the widest width the build targets, and prints
 *
 *   peak_gflops G lanes L accumulators N
 *
 * where G is the best of TRIALS (default 5) timed trials, 2 FLOP per lane
 * per FMA. Enough chains to cover latency x pipes: an FMA takes 4 cycles
 * on Zen 4 and Intel cores with two pipes, so at least 8 must be in
 * flight; 12 (of 16 ymm registers) with AVX2, 24 (of 32 zmm) with
 * AVX-512. Zen 4 runs 512-bit FMAs as two 256-bit halves, so both widths
 * give the same peak there. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#if defined(__AVX512F__)
#define LANES 16
#define NACC 24
#elif defined(__AVX__)
#define LANES 8
#define NACC 12
#else
#define LANES 4
#define NACC 8
#endif

typedef float vf __attribute__((vector_size(LANES * 4)));

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ITERS rounds of NACC independent FMAs; returns a lane sum so the
 * chains are live. a and b come from the caller so nothing folds. */
static float chains(long iters, float a, float b)
{
    vf acc[NACC], va, vb;
    for (int l = 0; l < LANES; l++) {
        va[l] = a;
        vb[l] = b;
    }
    for (int k = 0; k < NACC; k++)
        for (int l = 0; l < LANES; l++)
            acc[k][l] = (float)(k + l) * 1e-3f;
    for (long i = 0; i < iters; i++) {
#pragma GCC unroll 32
        for (int k = 0; k < NACC; k++)
            acc[k] = acc[k] * va + vb;
    }
    float s = 0;
    for (int k = 0; k < NACC; k++)
        for (int l = 0; l < LANES; l++)
            s += acc[k][l];
    return s;
}

int main(int argc, char **argv)
{
    int trials = argc > 1 ? atoi(argv[1]) : 5;
    /* From argv so the compiler cannot know them; a < 1 keeps the
     * chains finite (they converge to b / (1 - a)). */
    float a = 0.999f + (float)(argc > 2 ? atof(argv[2]) : 0.0);
    float b = 1e-3f;
    long iters = 1L << 22;
    double best = 0, sink = 0;
    if (trials < 1) {
        fprintf(stderr, "usage: fma_peak [TRIALS]\n");
        return 2;
    }
    sink += chains(iters / 16, a, b); /* warm-up: clocks up, pages in */
    for (int t = 0; t < trials; t++) {
        double t0 = now_s();
        sink += chains(iters, a, b);
        double s = now_s() - t0;
        double gflops = 2.0 * LANES * NACC * (double)iters / s * 1e-9;
        if (gflops > best)
            best = gflops;
    }
    printf("peak_gflops %.1f lanes %d accumulators %d\n", best, LANES, NACC);
    return sink != sink; /* NaN would mean the chains diverged */
}
