/* tape_memory_bench.c — activation memory and step time of the training
 * tape on the search supernets (a measurement, not a test: it asserts
 * nothing and is not registered with ctest).
 *
 *   tape_memory_bench darts|adl BATCH STEPS
 *
 * darts: the DARTS search supernet with darts_search_defaults (C=16, 8
 * cells, 3x32x32) at BATCH; adl: the Auto-DeepLab supernet with
 * adl_search_defaults (L=4, F=4, 3x64x64) at BATCH. Runs 1 warm-up and
 * STEPS timed steps of forward (RT_TRAIN) + backward from a fixed output
 * gradient and prints, per image: the bytes of all activations (what a tape
 * keeping everything holds), rt_tape_bytes (what this tape holds), then the
 * median and minimum step time and the process's peak RSS; then, per op,
 * the MB/image of its outputs and how many of them the tape kept
 * (rt_tape_value is NULL for the others).
 */
#include "runtime/train/train.h"
#include "search/adl_search.h"
#include "search/darts_search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Bytes of every value a node computes (params and the input excluded). */
static size_t all_activation_bytes(const Graph *g)
{
    size_t bytes = 0;
    for (NodeId id = 1; id < g->nnode; id++) {
        const Node *n = &g->nodes[id];
        if (n->op != OP_NONE && n->op != OP_PARAM)
            bytes += (size_t)shape_numel(&g->vals[n->out].shape) * sizeof(float);
    }
    return bytes;
}

static void print_by_op(const Tape *t, const Graph *g, int batch)
{
    double all[NOP] = {0}, kept[NOP] = {0};
    for (NodeId id = 1; id < g->nnode; id++) {
        const Node *n = &g->nodes[id];
        if (n->op == OP_NONE || n->op == OP_PARAM)
            continue;
        double mb = (double)shape_numel(&g->vals[n->out].shape) * sizeof(float) / 1e6 / batch;
        all[n->op] += mb;
        kept[n->op] += rt_tape_value(t, n->out) ? mb : 0;
    }
    for (int op = 0; op < NOP; op++)
        if (all[op] > 0)
            printf("  %-16s %8.2f MB/image, kept %8.2f\n", op_info[op].name, all[op], kept[op]);
}

static bool build(Arena *a, const char *space, int batch, SuperNet *net, Diag *d)
{
    if (strcmp(space, "darts") == 0) {
        DartsSearchConfig cfg;
        darts_search_defaults(&cfg);
        cfg.batch = batch;
        return darts_supernet_build(a, &cfg, 1, net, d);
    }
    AdlSearchConfig cfg;
    adl_search_defaults(&cfg);
    cfg.batch = batch;
    AdlSearchVars v;
    return adl_supernet_build(a, &cfg, 1, net, &v, d);
}

static int run(const Graph *g, int batch, int steps, Diag *d)
{
    Tape *t = rt_tape_new(g, NULL, d);
    int64_t nin = shape_numel(&g->vals[g->inputs[0]].shape);
    int64_t nout = shape_numel(&g->vals[g->outputs[0]].shape);
    float *x = malloc((size_t)nin * sizeof *x), *dy = malloc((size_t)nout * sizeof *dy);
    double *ms = malloc((size_t)steps * sizeof *ms);
    if (!t || !x || !dy || !ms)
        return 1;
    for (int64_t i = 0; i < nin; i++)
        x[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;
    for (int64_t i = 0; i < nout; i++)
        dy[i] = (float)((i * 13) % 7) / 7.0f - 0.5f;
    for (int s = -1; s < steps; s++) {
        double t0 = now_ms();
        if (!rt_tape_forward(t, x, RT_TRAIN, d) || !rt_tape_backward(t, dy, d))
            return 1;
        if (s >= 0)
            ms[s] = now_ms() - t0;
    }
    qsort(ms, (size_t)steps, sizeof *ms, cmp_double);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("all activations %.2f MB/image, tape keeps %.2f MB/image; step median %.1f ms, "
           "min %.1f ms (batch %d); peak RSS %.1f MB\n",
           all_activation_bytes(g) / 1e6 / batch, rt_tape_bytes(t) / 1e6 / batch,
           ms[steps / 2], ms[0], batch, ru.ru_maxrss / 1e3);
    print_by_op(t, g, batch);
    rt_tape_free(t);
    free(x), free(dy), free(ms);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[1], "darts") != 0 && strcmp(argv[1], "adl") != 0) ||
        atoi(argv[2]) < 1 || atoi(argv[3]) < 1) {
        fprintf(stderr, "usage: tape_memory_bench darts|adl BATCH STEPS\n");
        return 2;
    }
    int batch = atoi(argv[2]), steps = atoi(argv[3]);
    Diag d;
    diag_init(&d);
    Arena a;
    arena_init(&a);
    SuperNet net;
    int rc = build(&a, argv[1], batch, &net, &d) ? run(net.g, batch, steps, &d) : 1;
    diag_print(&d, stderr);
    diag_free(&d);
    arena_free_all(&a);
    return rc;
}
