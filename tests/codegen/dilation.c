/* dilation.c — every dilated-conv strategy against the reference interpreter.
 *
 *   test_dilation WORKDIR CC...        the test
 *   test_dilation --bench WORKDIR CC   timings for the cost model
 *
 * Geometries: the dilated convs of the benchmark nets (Auto-DeepLab: ASPP
 * 3x3 dense at rates 6, 12, 18 on 41x41, dil_conv_3x3 / 5x5 depthwise at
 * rate 2 on 81, 41, 21, 11; DARTS: dil_conv_3x3 at 32, 16, 8 and 28, 14, 7),
 * the same on even/odd neighbours, and ASPP rates >= the map (prune-taps).
 * Each is one conv graph with seeded weights; each strategy is a pipeline
 * (-O2 with --dilation=direct, s2b, auto; and prune-taps alone). The test:
 *   1. the interpreter on the rewritten graph agrees with the interpreter
 *      on the original within 1e-5 * max(1, max|ref|): the phase conv and
 *      the pruned conv sum the same non-zero products in the same
 *      (c, ky, kx) order, but the interpreter's im2col + sgemm blocks a
 *      different K or batch differently (seen: 1.5e-8 for a pruned dense
 *      3x3, 6e-8 for a phase conv); depthwise prune-taps exactly (the
 *      interpreter's depthwise kernel skips padding taps itself);
 *   2. the emitted C of every strategy, compiled with each CC under the
 *      codegen flags (-std=c99 -pedantic -Wconversion ... -Werror) and run,
 *      agrees with the interpreter on the original within 1e-4 * max|ref|
 *      (the emitted kernels sum in their own order);
 *   3. the rewrite happened: s2b leaves no dilated conv of rate >= 2,
 *      prune-taps turns the degenerate ASPP into a 1x1 conv.
 * Channels are cut to at most 8 (the geometry is what is tested). --bench
 * keeps the real channel counts and prints direct / s2b milliseconds
 * (medians of interleaved runs) next to the cost model's pick.
 */
#include "codegen/codegen.h"
#include "frontend/frontend.h"
#include "passes/passes.h"
#include "runtime/interp.h"
#include "tests/check.h"
#include "tests/codegen/emit_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct Geom {
    const char *name;
    int c, oc, hw, k, r; /* oc 0: depthwise (groups = c = oc) */
} Geom;

static const Geom geoms[] = {
    {"aspp6_41", 200, 256, 41, 3, 6},   {"aspp12_41", 200, 256, 41, 3, 12},
    {"aspp18_41", 200, 256, 41, 3, 18}, {"aspp6_40", 200, 256, 40, 3, 6},
    {"aspp12_21", 200, 256, 21, 3, 12}, {"aspp18_18", 200, 256, 18, 3, 18},
    {"aspp18_11", 200, 256, 11, 3, 18}, {"aspp12_12", 200, 256, 12, 3, 12},
    {"dense2_16", 16, 16, 16, 3, 2},    {"dense3_15", 8, 8, 15, 3, 3},
    {"dw3_81", 20, 0, 81, 3, 2},        {"dw5_81", 20, 0, 81, 5, 2},
    {"dw3_41", 40, 0, 41, 3, 2},        {"dw5_41", 40, 0, 41, 5, 2},
    {"dw3_21", 80, 0, 21, 3, 2},        {"dw5_21", 80, 0, 21, 5, 2},
    {"dw3_11", 160, 0, 11, 3, 2},       {"dw5_11", 160, 0, 11, 5, 2},
    {"dw3_32", 36, 0, 32, 3, 2},        {"dw3_16", 72, 0, 16, 3, 2},
    {"dw3_8", 144, 0, 8, 3, 2},         {"dw3_28", 48, 0, 28, 3, 2},
    {"dw3_14", 96, 0, 14, 3, 2},        {"dw3_7", 192, 0, 7, 3, 2},
    {"dw5_4", 8, 0, 4, 5, 2},           {"dw3_3", 8, 0, 3, 3, 4},
};
enum { NGEOM = sizeof geoms / sizeof geoms[0] };

static const char *const strategies[] = {"direct", "s2b", "auto", "prune"};
enum { NSTRAT = 4 };

static const char strict[] = "-std=c99 -Wall -Wextra -Werror -pedantic -O2 -Wshadow -Wvla "
                             "-Wconversion -Wdouble-promotion -Wfloat-equal -Wcast-qual "
                             "-Wstrict-prototypes -Wmissing-prototypes";

static int channels(const Geom *g, bool bench, bool out)
{
    int c = out && g->oc ? g->oc : g->c;
    return bench || c <= 8 ? c : 8;
}

/* The one-conv graph of geometry g: relu(conv(x) + b), as ASPP (dense), or
 * without bias and fusions, as a dil_conv's depthwise part in the nets
 * (its relu has other readers; a fused pre would take the generic kernel). */
static Graph *conv_graph(Arena *a, const Geom *g, bool bench, Diag *d)
{
    int c = channels(g, bench, false), oc = channels(g, bench, true), p = g->r * (g->k - 1) / 2;
    char text[1024];
    if (g->oc)
        snprintf(text, sizeof text,
                 "graph @%s(%%x: f32[1,%d,%d,%d] \"input\") {\n"
                 "  %%w = param : f32[%d,%d,%d,%d] \"c.weight\"\n"
                 "  %%b = param : f32[%d] \"c.bias\"\n"
                 "  %%y = conv2d %%x, %%w, %%b {stride=[1,1], pad=[%d,%d,%d,%d], "
                 "dilation=[%d,%d], groups=1, act=relu} : f32[1,%d,%d,%d]\n"
                 "  return %%y\n}\n",
                 g->name, c, g->hw, g->hw, oc, c, g->k, g->k, oc, p, p, p, p, g->r, g->r, oc,
                 g->hw, g->hw);
    else
        snprintf(text, sizeof text,
                 "graph @%s(%%x: f32[1,%d,%d,%d] \"input\") {\n"
                 "  %%w = param : f32[%d,1,%d,%d] \"c.weight\"\n"
                 "  %%y = conv2d %%x, %%w {stride=[1,1], pad=[%d,%d,%d,%d], "
                 "dilation=[%d,%d], groups=%d} : f32[1,%d,%d,%d]\n"
                 "  return %%y\n}\n",
                 g->name, c, g->hw, g->hw, c, g->k, g->k, p, p, p, p, g->r, g->r, c, c, g->hw,
                 g->hw);
    Graph *gr = ir_parse(a, g->name, text, strlen(text), d);
    if (gr)
        fe_init_weights(gr, 11);
    return gr;
}

/* Strategy s as a pipeline: -O2 with --dilation=..., or prune-taps alone. */
static bool apply(Arena *a, Graph *g, int s, Diag *d)
{
    static const char *const prune[] = {"prune-taps"};
    int n = 1;
    const char *const *names = s == 3 ? prune : pass_pipeline_for_dilation(a, 2, strategies[s], &n);
    PassOptions po = {.verify_each = true};
    return names && pass_run_pipeline(g, names, n, &po, d) >= 0;
}

static int max_rate(const Graph *g, int *kmax)
{
    int r = 1;
    *kmax = 0;
    for (NodeId n = 1; n < g->nnode; n++) {
        const Node *node = &g->nodes[n];
        if (node->op != OP_CONV2D)
            continue;
        r = node->attrs.conv.dilation[0] > r ? node->attrs.conv.dilation[0] : r;
        int k = (int)g->vals[node->in[1]].shape.d[2];
        *kmax = k > *kmax ? k : *kmax;
    }
    return r;
}

static bool has_op(const Graph *g, Op op)
{
    for (NodeId n = 1; n < g->nnode; n++)
        if (g->nodes[n].op == op)
            return true;
    return false;
}

static float *seeded(int64_t n, uint32_t seed)
{
    float *x = malloc((size_t)n * sizeof *x);
    for (int64_t i = 0; x && i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = (float)((double)(seed >> 8) / (double)(1u << 24) * 2.0 - 1.0);
    }
    return x;
}

/* One net of a driver: its C prefix and sizes in floats / bytes. */
typedef struct Net {
    char name[16];
    int64_t in, out, ws;
} Net;

/* The driver, `driver DIR`: every net i reads DIR/in_<geometry>.bin, runs
 * once on a workspace of NaN bytes (a slot read before written shows) and
 * writes DIR/<i>.out; with bench, then 1 + 41 rounds over all nets, each
 * net's median (round 0 is warm-up) printed as "i ms". */
static bool write_driver(const char *path, const Net *nets, int n, const int *geom, bool bench)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    fprintf(f, "#define _POSIX_C_SOURCE 200112L\n#include <stdio.h>\n#include <stdlib.h>\n"
               "#include <string.h>\n#include <time.h>\n");
    for (int i = 0; i < n; i++)
        fprintf(f, "#include \"%s.h\"\n", nets[i].name);
    fprintf(f, "typedef int Run(const float *, float *, void *);\n"
               "static const struct { Run *run; long in, out, ws; int g; } nets[] = {\n");
    for (int i = 0; i < n; i++)
        fprintf(f, "    {%s_run, %lld, %lld, %lld, %d},\n", nets[i].name, (long long)nets[i].in,
                (long long)nets[i].out, (long long)nets[i].ws, geom[i]);
    fprintf(f, "};\n");
    fprintf(f,
            "enum { N = sizeof nets / sizeof nets[0], REPS = %d };\n"
            "static double ms(void)\n{\n    struct timespec t;\n"
            "    clock_gettime(CLOCK_MONOTONIC, &t);\n"
            "    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;\n}\n"
            "static int cmp(const void *a, const void *b)\n{\n"
            "    double x = *(const double *)a, y = *(const double *)b;\n"
            "    return (x > y) - (x < y);\n}\n"
            "static float *x[N], *y[N];\nstatic void *ws[N];\nstatic double t[N][REPS + 1];\n"
            "int main(int argc, char **argv)\n{\n"
            "    char path[512];\n"
            "    FILE *f;\n"
            "    if (argc != 2)\n        return 1;\n"
            "    for (int i = 0; i < N; i++) {\n"
            "        size_t wb = ((size_t)nets[i].ws + 64) / 64 * 64;\n"
            "        x[i] = malloc((size_t)nets[i].in * sizeof *x[i]);\n"
            "        y[i] = malloc((size_t)nets[i].out * sizeof *y[i]);\n"
            "        if (!x[i] || !y[i] || posix_memalign(&ws[i], 64, wb))\n"
            "            return 1;\n"
            "        sprintf(path, \"%%s/in_%%d.bin\", argv[1], nets[i].g);\n"
            "        f = fopen(path, \"rb\");\n"
            "        if (!f || fread(x[i], 4, (size_t)nets[i].in, f) != (size_t)nets[i].in)\n"
            "            return 2;\n"
            "        fclose(f);\n"
            "        memset(ws[i], 0xff, wb);\n"
            "        if (nets[i].run(x[i], y[i], ws[i]) != 0)\n            return 3;\n"
            "        sprintf(path, \"%%s/%%d.out\", argv[1], i);\n"
            "        f = fopen(path, \"wb\");\n"
            "        if (!f || fwrite(y[i], 4, (size_t)nets[i].out, f) != (size_t)nets[i].out)\n"
            "            return 4;\n"
            "        fclose(f);\n"
            "    }\n"
            "    /* timing (--bench): round after round over every net, interleaved */\n"
            "    for (int k = 0; k <= REPS && REPS; k++)\n"
            "        for (int i = 0; i < N; i++) {\n"
            "            double t0 = ms();\n"
            "            nets[i].run(x[i], y[i], ws[i]);\n"
            "            t[i][k] = ms() - t0;\n"
            "        }\n"
            "    for (int i = 0; i < N && REPS; i++) {\n"
            "        qsort(t[i] + 1, (size_t)REPS, sizeof t[i][0], cmp); /* round 0: warm-up */\n"
            "        printf(\"%%d %%.4f\\n\", i, t[i][1 + REPS / 2]);\n"
            "    }\n"
            "    return 0;\n}\n", bench ? 41 : 0);
    return fclose(f) == 0;
}

/* Per geometry: the interpreter's output on the original graph. */
typedef struct Ref {
    float *x, *y;
    int64_t nx, ny;
    double scale; /* max(1, max|y|) */
} Ref;

static bool reference(const Geom *g, bool bench, Ref *r)
{
    Arena a;
    arena_init(&a);
    Diag d;
    diag_init(&d);
    Graph *gr = conv_graph(&a, g, bench, &d);
    bool ok = gr != NULL;
    if (ok) {
        r->nx = shape_numel(&gr->vals[gr->inputs[0]].shape);
        r->ny = shape_numel(&gr->vals[gr->outputs[0]].shape);
        r->x = seeded(r->nx, 99), r->y = malloc((size_t)r->ny * sizeof *r->y);
        ok = r->x && r->y && rt_interp_run(gr, r->x, r->y, NULL, &d);
        r->scale = 1;
        for (int64_t i = 0; ok && i < r->ny; i++)
            r->scale = fmax(r->scale, fabs((double)r->y[i]));
    }
    if (d.nmsg)
        diag_print(&d, stderr);
    CHECKF(ok, "%s: reference failed", g->name);
    diag_free(&d);
    arena_free_all(&a);
    return ok;
}

static double max_diff(const float *a, const float *b, int64_t n)
{
    double e = 0;
    for (int64_t i = 0; i < n; i++) {
        double di = fabs((double)a[i] - (double)b[i]);
        e = isnan(di) ? INFINITY : fmax(e, di);
    }
    return e;
}

/* What strategy s must have done to geometry g's graph. */
static void check_rewrite(const Geom *g, int s, const Graph *gr)
{
    int kmax, r = max_rate(gr, &kmax);
    bool degenerate = g->r >= g->hw; /* every tap but the centre reads padding */
    if (s == 1 || degenerate)
        CHECKF(r == 1, "%s [%s]: a conv of rate %d is left", g->name, strategies[s], r);
    if (s == 1 && !degenerate)
        CHECKF(has_op(gr, OP_SPACE_TO_BATCH) && has_op(gr, OP_BATCH_TO_SPACE),
               "%s [s2b]: not lowered to phases", g->name);
    if (s == 0)
        CHECKF(!has_op(gr, OP_SPACE_TO_BATCH), "%s [direct]: lowered to phases", g->name);
    if (degenerate)
        CHECKF(kmax == 1 && !has_op(gr, OP_SPACE_TO_BATCH), "%s [%s]: not pruned to 1x1",
               g->name, strategies[s]);
}

/* Applies strategy s to geometry g, checks it in the interpreter, emits it
 * as dir/name.{c,h}. */
static bool lower_and_emit(const Geom *g, int s, bool bench, const Ref *ref, const char *dir,
                           Net *net)
{
    Arena a;
    arena_init(&a);
    Diag d;
    diag_init(&d);
    Graph *gr = conv_graph(&a, g, bench, &d);
    float *y = malloc((size_t)ref->ny * sizeof *y);
    bool ok = gr && y && apply(&a, gr, s, &d) && rt_interp_run(gr, ref->x, y, NULL, &d);
    if (ok) {
        /* depthwise prune-taps: the interpreter skips padding taps anyway */
        bool exact = s == 3 && !g->oc;
        double e = max_diff(y, ref->y, ref->ny), tol = exact ? 0 : 1e-5 * ref->scale;
        CHECKF(e <= tol, "%s [%s] interpreter: max|diff| %.3g > %.3g", g->name, strategies[s],
               e, tol);
        if (!bench)
            check_rewrite(g, s, gr);
        net->in = ref->nx, net->out = ref->ny, net->ws = cg_workspace_bytes(gr, NULL);
        ok = cgtest_emit(gr, NULL, dir, net->name);
    }
    if (d.nmsg)
        diag_print(&d, stderr);
    CHECKF(ok, "%s [%s]: lowering or emission failed", g->name, strategies[s]);
    free(y);
    diag_free(&d);
    arena_free_all(&a);
    return ok;
}

static bool write_input(const char *dir, int gi, const Ref *r)
{
    char path[600];
    snprintf(path, sizeof path, "%s/in_%d.bin", dir, gi);
    return cgtest_write_file(path, r->x, (size_t)r->nx * sizeof *r->x);
}

/* Builds dir's nets with cc and flags and runs them (argv: dir). */
static bool build_and_run(const char *dir, const Net *nets, int n, const char *cc,
                          const char *flags)
{
    size_t len = 4096 + (size_t)n * 700;
    char *cmd = malloc(len);
    if (!cmd)
        return false;
    int at = snprintf(cmd, len, "%s %s -I%s", cc, flags, dir);
    for (int i = 0; i < n; i++)
        at += snprintf(cmd + at, len - (size_t)at, " %s/%s.c", dir, nets[i].name);
    snprintf(cmd + at, len - (size_t)at, " %s/driver.c -o %s/driver && %s/driver %s", dir, dir,
             dir, dir);
    bool ok = cgtest_run(cmd) == 0;
    free(cmd);
    return ok;
}

static float *read_out(const char *dir, int i, int64_t n)
{
    char path[600];
    size_t len;
    snprintf(path, sizeof path, "%s/%d.out", dir, i);
    float *y = (float *)check_slurp(path, &len);
    if (y && len != (size_t)n * sizeof *y) {
        free(y);
        return NULL;
    }
    return y;
}

/* The test: every strategy, every geometry, every compiler. */
static void test_strategy(int s, const char *workdir, char **ccs, int ncc, Ref *refs)
{
    char dir[512], cmd[700];
    Net nets[NGEOM];
    int geom[NGEOM];
    snprintf(dir, sizeof dir, "%s/%s", workdir, strategies[s]);
    snprintf(cmd, sizeof cmd, "mkdir -p %s", dir);
    if (cgtest_run(cmd) != 0)
        return;
    for (int i = 0; i < NGEOM; i++) {
        snprintf(nets[i].name, sizeof nets[i].name, "g%d", i);
        geom[i] = i;
        if (!write_input(dir, i, &refs[i]) ||
            !lower_and_emit(&geoms[i], s, false, &refs[i], dir, &nets[i]))
            return;
    }
    snprintf(cmd, sizeof cmd, "%s/driver.c", dir);
    CHECK(write_driver(cmd, nets, NGEOM, geom, false));
    for (int c = 0; c < ncc; c++) {
        bool ok = build_and_run(dir, nets, NGEOM, ccs[c], strict);
        CHECKF(ok, "[%s] %s: build or run failed", strategies[s], ccs[c]);
        for (int i = 0; ok && i < NGEOM; i++) {
            float *y = read_out(dir, i, refs[i].ny);
            double e = y ? max_diff(y, refs[i].y, refs[i].ny) : INFINITY;
            double tol = 1e-4 * refs[i].scale;
            CHECKF(e <= tol, "%s [%s] %s: emitted C max|diff| %.3g > %.3g", geoms[i].name,
                   strategies[s], ccs[c], e, tol);
            free(y);
        }
        printf("[%-6s] %-10s %d geometries %s\n", strategies[s], ccs[c], NGEOM,
               ok ? "built and compared" : "FAILED");
    }
}

static bool auto_picks_s2b(const Geom *g)
{
    Arena a;
    arena_init(&a);
    Diag d;
    diag_init(&d);
    Graph *gr = conv_graph(&a, g, true, &d);
    bool s2b = gr && apply(&a, gr, 2, &d) && has_op(gr, OP_SPACE_TO_BATCH);
    diag_free(&d);
    arena_free_all(&a);
    return s2b;
}

/* --bench: direct and s2b of every geometry, real channels, one driver
 * timing them round-robin; prints the medians and the cost model's pick. */
static void bench(const char *workdir, const char *cc, Ref *refs)
{
    char dir[512], cmd[700];
    Net nets[2 * NGEOM];
    int geom[2 * NGEOM];
    snprintf(dir, sizeof dir, "%s/bench", workdir);
    snprintf(cmd, sizeof cmd, "mkdir -p %s", dir);
    if (cgtest_run(cmd) != 0)
        return;
    for (int i = 0; i < NGEOM; i++)
        for (int s = 0; s < 2; s++) {
            Net *net = &nets[2 * i + s];
            snprintf(net->name, sizeof net->name, "%c%d", s ? 's' : 'd', i);
            geom[2 * i + s] = i;
            if (!write_input(dir, i, &refs[i]) ||
                !lower_and_emit(&geoms[i], s, true, &refs[i], dir, net))
                return;
        }
    snprintf(cmd, sizeof cmd, "%s/driver.c", dir);
    if (!write_driver(cmd, nets, 2 * NGEOM, geom, true))
        return;
    const char *full = "-O3 -march=native -mprefer-vector-width=512";
    snprintf(cmd, sizeof cmd, "%s/times.txt", dir);
    size_t len = 4096 + (size_t)NGEOM * 1400;
    char *c = malloc(len);
    if (!c)
        return;
    int at = snprintf(c, len, "%s %s -I%s", cc, full, dir);
    for (int i = 0; i < 2 * NGEOM; i++)
        at += snprintf(c + at, len - (size_t)at, " %s/%s.c", dir, nets[i].name);
    snprintf(c + at, len - (size_t)at, " %s/driver.c -o %s/driver && %s/driver %s > %s", dir,
             dir, dir, dir, cmd);
    bool ok = cgtest_run(c) == 0;
    free(c);
    size_t tl;
    char *times = ok ? check_slurp(cmd, &tl) : NULL;
    if (!times)
        return;
    double t[2 * NGEOM] = {0};
    const char *p = times;
    for (int i = 0, k; i < 2 * NGEOM && sscanf(p, "%d %lf", &k, &t[i]) == 2; i++)
        p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p);
    printf("%-10s %5s %4s %4s %10s %10s %6s  %s\n", "geometry", "C", "k", "rate", "direct_ms",
           "s2b_ms", "s2b/d", "auto picks");
    for (int i = 0; i < NGEOM; i++) {
        const Geom *g = &geoms[i];
        printf("%-10s %5d %4d %4d %10.4f %10.4f %6.2f  %s\n", g->name, g->c, g->k, g->r, t[2 * i],
               t[2 * i + 1], t[2 * i + 1] / t[2 * i], auto_picks_s2b(g) ? "s2b" : "direct");
    }
    free(times);
}

int main(int argc, char **argv)
{
    bool bench_mode = argc > 1 && !strcmp(argv[1], "--bench");
    int a0 = bench_mode ? 2 : 1;
    if (argc < a0 + 2) {
        fprintf(stderr, "usage: test_dilation [--bench] WORKDIR CC...\n");
        return 2;
    }
    Ref refs[NGEOM];
    for (int i = 0; i < NGEOM; i++)
        if (!reference(&geoms[i], bench_mode, &refs[i]))
            return 1;
    if (bench_mode)
        bench(argv[a0], argv[a0 + 1], refs);
    else
        for (int s = 0; s < NSTRAT; s++)
            test_strategy(s, argv[a0], argv + a0 + 1, argc - a0 - 1, refs);
    for (int i = 0; i < NGEOM; i++)
        free(refs[i].x), free(refs[i].y);
    if (failures) {
        fprintf(stderr, "dilation: %d failures\n", failures);
        return 1;
    }
    printf("dilation: ok\n");
    return 0;
}
