/* run_so.c — times NAME_run of an emitted network built as a shared object
 * (the AOT side of bench/jit_compile.sh).
 *
 *   run_so LIB.so NAME IN_FLOATS OUT_BYTES WS_BYTES WARMUP RUNS
 *
 * Prints "median_ms min_ms load_ms" for RUNS timed calls after WARMUP. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: run_so LIB.so NAME IN_FLOATS OUT_BYTES WS_BYTES WARMUP RUNS\n");
        return 2;
    }
    long nin = atol(argv[3]), nout = atol(argv[4]), ws = atol(argv[5]);
    int warm = atoi(argv[6]), runs = atoi(argv[7]);
    char sym[256];
    snprintf(sym, sizeof sym, "%s_run", argv[2]);
    double t0 = now_ms();
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    void *p = h ? dlsym(h, sym) : NULL;
    double load = now_ms() - t0;
    if (!p || runs < 1) {
        fprintf(stderr, "run_so: %s\n", h ? "no symbol" : dlerror());
        return 1;
    }
    int (*run)(const float *, void *, void *);
    memcpy(&run, &p, sizeof p);
    float *x = malloc((size_t)nin * sizeof *x);
    void *y = malloc((size_t)nout + 1), *w = aligned_alloc(64, (size_t)(ws + 64) / 64 * 64);
    double *ms = malloc((size_t)runs * sizeof *ms);
    for (long i = 0; i < nin; i++)
        x[i] = (float)((i * 7919) % 2001) / 1000.0f - 1.0f;
    for (int i = 0; i < warm; i++)
        run(x, y, w);
    for (int i = 0; i < runs; i++) {
        double t = now_ms();
        run(x, y, w);
        ms[i] = now_ms() - t;
    }
    qsort(ms, (size_t)runs, sizeof *ms, cmp);
    printf("%.3f %.3f %.3f\n", ms[runs / 2], ms[0], load);
    return 0;
}
