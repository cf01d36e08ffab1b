/* test_jit.c — runtime/jit: the JIT against the interpreter and AOT cc.
 *
 *   test_jit GENOTYPES_TXT WORKDIR CC
 *
 * - a small C file with a header, calling memcpy (a process symbol), runs;
 * - a C error comes back as a located diagnostic carrying the compiler's
 *   text, and nothing is printed by the library;
 * - a missing symbol is an error;
 * - codegen's blob mode: same kernels and same statements as the firmware
 *   file (text compared), and JIT(blob) == JIT(firmware arrays) bit for bit;
 * - every genotype of GENOTYPES_TXT as a small NetworkCIFAR (C=8, 5 layers,
 *   seeded weights, calibrated BN): JIT output vs the interpreter and vs the
 *   firmware C built ahead of time with CC -O2 -shared + dlopen, within
 *   1e-4 * max(1, max|ref|). A missing GENOTYPES_TXT is a printed skip of
 *   that part only.
 */
#include "codegen/codegen.h"
#include "frontend/frontend.h"
#include "runtime/interp.h"
#include "runtime/jit/bench.h"
#include "tests/check.h"

#include <dlfcn.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

static const char *workdir, *cc;

static void print_diag(Diag *d)
{
    diag_print(d, stderr);
}

static bool diag_has(const Diag *d, const char *s)
{
    for (int i = 0; i < d->nmsg; i++)
        if (strstr(d->msg[i], s))
            return true;
    return false;
}

static void test_basic(void)
{
    static const char h[] = "int twice(int x);\n";
    static const char c[] =
        "#include <string.h>\n#include \"t.h\"\n"
        "int twice(int x) { int y; memcpy(&y, &x, sizeof y); return 2 * y; }\n"
        "float dot(const float *a, const float *b, int n)\n"
        "{ float s = 0; for (int i = 0; i < n; i++) s += a[i] * b[i]; return s; }\n";
    JitFile f[2] = {{"t.c", c, sizeof c - 1}, {"t.h", h, sizeof h - 1}};
    Diag d;
    diag_init(&d);
    Jit *j = jit_compile(f, 2, &d);
    CHECK(j && d.nerr == 0);
    void *p = j ? jit_lookup(j, "twice", &d) : NULL;
    CHECK(p);
    if (p) {
        int (*twice)(int);
        memcpy(&twice, &p, sizeof p);
        CHECK(twice(21) == 42);
    }
    void *q = j ? jit_lookup(j, "dot", &d) : NULL;
    if (q) {
        float (*dot)(const float *, const float *, int);
        memcpy(&dot, &q, sizeof q);
        float a[37], b[37], want = 0;
        for (int i = 0; i < 37; i++)
            a[i] = (float)i, b[i] = 0.5f, want += a[i] * b[i];
        CHECK(dot(a, b, 37) == want); /* small integers: exact in any order */
    }
    CHECK(d.nerr == 0);
    /* a missing symbol */
    CHECK(j && !jit_lookup(j, "no_such_symbol", &d));
    CHECK(diag_has(&d, "no_such_symbol"));
    print_diag(&d);
    jit_free(j);
    diag_free(&d);
    fprintf(stderr, "backend: %s\n", jit_backend());
}

static void test_errors(void)
{
    static const char c[] = "int f(int x)\n{\n    return x + undeclared_thing;\n}\n";
    JitFile f = {"bad.c", c, sizeof c - 1};
    Diag d;
    diag_init(&d);
    Jit *j = jit_compile(&f, 1, &d);
    CHECK(!j);
    CHECKF(d.nerr >= 1 && diag_has(&d, "bad.c:3:16: error:") &&
               diag_has(&d, "undeclared_thing") && diag_has(&d, "undeclared"),
           "got %d errors, first '%s'", d.nerr, d.nmsg ? d.msg[0] : "");
    fprintf(stderr, "expected diagnostic: %s\n", d.nmsg ? d.msg[0] : "(none)");
    diag_free(&d);

    /* a missing header, and bad file names */
    static const char c2[] = "#include \"missing.h\"\nint g;\n";
    JitFile f2 = {"m.c", c2, sizeof c2 - 1};
    diag_init(&d);
    CHECK(!jit_compile(&f2, 1, &d) && diag_has(&d, "m.c:1:10: ") && diag_has(&d, "missing.h"));
    print_diag(&d);
    diag_free(&d);
    JitFile f3 = {"../x.c", c2, sizeof c2 - 1};
    diag_init(&d);
    CHECK(!jit_compile(&f3, 1, &d) && d.nerr == 1);
    diag_free(&d);
}

/* ---- networks ---- */

static Graph *small_cifar(Arena *a, const Genotype *geno, Diag *d)
{
    NetConfig cfg;
    fe_netconfig_default(&cfg, NET_CIFAR);
    cfg.C = 8;
    cfg.layers = 5;
    Graph *g = fe_lower_darts(a, geno, &cfg, d);
    if (!g)
        return NULL;
    fe_init_weights(g, 7);
    int64_t n = shape_numel(&g->vals[g->inputs[0]].shape);
    float *x = arena_calloc(a, (size_t)n, sizeof *x);
    for (int64_t i = 0; i < n; i++)
        x[i] = sinf((float)i * 0.37f);
    return rt_interp_calibrate_bn(g, x, d) ? g : NULL;
}

static float *input_for(Arena *a, const Graph *g)
{
    int64_t n = shape_numel(&g->vals[g->inputs[0]].shape);
    float *x = arena_calloc(a, (size_t)n, sizeof *x);
    uint32_t s = 12345u;
    for (int64_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = (float)(s >> 8) / 8388608.0f - 1.0f;
    }
    return x;
}

static char *emit_text(const Graph *g, const CgOptions *o, size_t *len, char **h, size_t *hlen)
{
    char *cp = NULL;
    *h = NULL;
    FILE *cf = open_memstream(&cp, len), *hf = open_memstream(h, hlen);
    Diag d;
    diag_init(&d);
    bool ok = cf && hf && cg_emit_c(g, o, cf, hf, &d);
    if (cf)
        fclose(cf);
    if (hf)
        fclose(hf);
    print_diag(&d);
    diag_free(&d);
    if (!ok) {
        free(cp);
        free(*h);
        *h = NULL;
        return NULL;
    }
    return cp;
}

/* The kernels: from the comment of the first kernel (the paragraph holding
 * the first "nasc_rt_") to the entry point. */
static char *kernels_part(const char *text, const char *entry)
{
    const char *nr = strstr(text, "nasc_rt_"), *first = NULL;
    for (const char *p = strstr(text, "\n\n"); p && nr && p < nr; p = strstr(p + 1, "\n\n"))
        first = p;
    const char *end = strstr(text, entry);
    if (!first || !end || end < first)
        return NULL;
    return strndup(first, (size_t)(end - first));
}

/* Statements after the argument checks, to the end of the file. */
static const char *body_part(const char *text)
{
    const char *p = strstr(text, "        return -2;\n");
    if (!p)
        return NULL;
    p += strlen("        return -2;\n");
    if (strncmp(p, "    if (weights == NULL)\n        return -3;\n", 44) == 0)
        p += 44;
    return p;
}

static void check_blob_text(const Graph *g)
{
    CgOptions fw = {.name = "net"}, bl = {.name = "net", .weights_blob = true};
    size_t fl, bl_len, hl1, hl2;
    char *h1 = NULL, *h2 = NULL;
    char *ft = emit_text(g, &fw, &fl, &h1, &hl1), *bt = emit_text(g, &bl, &bl_len, &h2, &hl2);
    CHECK(ft && bt);
    if (ft && bt) {
        const char *fb = body_part(ft), *bb = body_part(bt);
        CHECK(fb && bb && strcmp(fb, bb) == 0);
        char *fk = kernels_part(ft, "\nint net_run(");
        char *bk = kernels_part(bt, "\nint net_run_blob(");
        CHECK(fk && bk && strcmp(fk, bk) == 0 && strlen(fk) > 1000);
        free(fk);
        free(bk);
        CHECK(!strstr(bt, "static const float w_") && !strstr(bt, "static const float bn_"));
        CHECK(strstr(ft, "static const float w_") && strstr(ft, "static const float bn_"));
        CHECK(strstr(h2, "#define NET_BLOB_FLOATS ") && strstr(h2, "net_run_blob("));
        CHECKF(bl_len * 4 < fl, "blob file %zu bytes, firmware %zu", bl_len, fl);
    }
    free(ft);
    free(bt);
    free(h1);
    free(h2);
}

static double max_abs(const float *v, int64_t n)
{
    double m = 0;
    for (int64_t i = 0; i < n; i++)
        m = fmax(m, fabs((double)v[i]));
    return m;
}

static bool close_to(const char *what, const char *name, const float *y, const float *ref,
                     int64_t n)
{
    double tol = 1e-4 * fmax(1.0, max_abs(ref, n)), worst = 0;
    for (int64_t i = 0; i < n; i++)
        worst = fmax(worst, fabs((double)y[i] - (double)ref[i]));
    if (!(worst <= tol))
        fprintf(stderr, "%s %s: max|diff| %.3g > tol %.3g\n", name, what, worst, tol);
    return worst <= tol;
}

/* The firmware file built ahead of time: CC -O2 -shared -fPIC, dlopen. */
static bool aot_run(const Graph *g, const char *tag, const float *x, float *y, int64_t ws)
{
    char cpath[512], hpath[512], so[512], cmd[2048];
    snprintf(cpath, sizeof cpath, "%s/%s.c", workdir, tag);
    snprintf(hpath, sizeof hpath, "%s/%s.h", workdir, tag);
    snprintf(so, sizeof so, "%s/%s.so", workdir, tag);
    FILE *cf = fopen(cpath, "w"), *hf = fopen(hpath, "w");
    CgOptions o = {.name = tag};
    Diag d;
    diag_init(&d);
    bool ok = cf && hf && cg_emit_c(g, &o, cf, hf, &d);
    if (cf)
        fclose(cf);
    if (hf)
        fclose(hf);
    print_diag(&d);
    diag_free(&d);
    snprintf(cmd, sizeof cmd, "'%s' -O2 -shared -fPIC -o '%s' '%s'", cc, so, cpath);
    if (!ok || system(cmd) != 0)
        return false;
    void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    char sym[128];
    snprintf(sym, sizeof sym, "%s_run", tag);
    void *p = h ? dlsym(h, sym) : NULL;
    void *w = aligned_alloc(64, (size_t)(ws + 64) / 64 * 64);
    int (*run)(const float *, float *, void *);
    if (p)
        memcpy(&run, &p, sizeof p);
    ok = p && w && run(x, y, w) == 0;
    free(w);
    if (h)
        dlclose(h);
    return ok;
}

/* JIT(blob), JIT(firmware arrays), AOT and the interpreter on one net. */
static void check_net(Graph *g, const char *name, bool blob_vs_arrays)
{
    Arena a;
    arena_init(&a);
    Diag d;
    diag_init(&d);
    const float *x = input_for(&a, g);
    int64_t n = shape_numel(&g->vals[g->outputs[0]].shape);
    float *ref = arena_calloc(&a, (size_t)n, sizeof *ref);
    float *y = arena_calloc(&a, (size_t)n, sizeof *y);
    float *y2 = arena_calloc(&a, (size_t)n, sizeof *y2);
    CHECK(rt_interp_run(g, x, ref, NULL, &d));
    JitNet net;
    bool ok = jit_net_build(g, 0, &net, &d);
    CHECKF(ok, "%s: jit_net_build", name);
    if (ok) {
        CHECK(jit_net_run(&net, x, y, &d));
        CHECKF(close_to("JIT vs interpreter", name, y, ref, n), "%s", name);
        JitTiming t;
        CHECK(jit_net_time(&net, x, 1, 3, &t, &d) && t.runs == 3 && t.min_ms <= t.median_ms &&
              t.median_ms <= t.max_ms && t.min_ms > 0);
        fprintf(stderr, "%s: emit %.1f ms, compile %.1f ms, %.3f ms/run, C %zu bytes\n", name,
                net.emit_ms, net.compile_ms, t.median_ms, net.c_bytes);
        jit_net_free(&net);
    }
    if (blob_vs_arrays) {
        /* the firmware text itself through the JIT: blob mode must give the same bits */
        size_t cl, hl;
        char *h = NULL;
        CgOptions fw = {.name = "fw"};
        char *c = emit_text(g, &fw, &cl, &h, &hl);
        JitFile f[2] = {{"fw.c", c, cl}, {"fw.h", h, hl}};
        Jit *j = c ? jit_compile(f, 2, &d) : NULL;
        void *p = j ? jit_lookup(j, "fw_run", &d) : NULL;
        CHECK(p);
        if (p) {
            int (*run)(const float *, float *, void *);
            memcpy(&run, &p, sizeof p);
            int64_t ws = cg_workspace_bytes(g, &fw);
            void *w = aligned_alloc(64, (size_t)(ws + 64) / 64 * 64);
            CHECK(w && run(x, y2, w) == 0);
            CHECKF(memcmp(y, y2, (size_t)n * sizeof *y) == 0, "%s: blob != arrays", name);
            free(w);
        }
        jit_free(j);
        free(c);
        free(h);
    }
    if (cc) {
        memset(y2, 0, (size_t)n * sizeof *y2);
        CHECKF(aot_run(g, "aot", x, y2, cg_workspace_bytes(g, NULL)), "%s: AOT build", name);
        CHECKF(close_to("AOT vs interpreter", name, y2, ref, n), "%s", name);
    }
    if (d.nerr)
        failures++;
    print_diag(&d);
    diag_free(&d);
    arena_free_all(&a);
}

static void test_genotypes(const char *path)
{
    Arena a;
    arena_init(&a);
    Diag d;
    diag_init(&d);
    size_t len;
    char *text = check_slurp(path, &len);
    if (!text) {
        printf("SKIP: %s not found; the per-genotype JIT parity part is skipped\n", path);
        arena_free_all(&a);
        return;
    }
    Genotype *gs;
    int ng = fe_parse_darts_all(&a, path, text, len, &gs, &d);
    CHECK(ng >= 1);
    for (int i = 0; i < ng; i++) {
        Graph *g = small_cifar(&a, &gs[i], &d);
        CHECKF(g, "%s", gs[i].name);
        if (!g)
            continue;
        if (i == 0)
            check_blob_text(g);
        check_net(g, gs[i].name ? gs[i].name : "(unnamed)", i == 0);
    }
    printf("%d genotypes of %s: JIT == interpreter == AOT within 1e-4\n", ng, path);
    print_diag(&d);
    diag_free(&d);
    free(text);
    arena_free_all(&a);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_jit GENOTYPES_TXT WORKDIR [CC]\n");
        return 2;
    }
    workdir = argv[2];
    cc = argc > 3 ? argv[3] : NULL;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", workdir);
    if (system(cmd) != 0)
        return 1;
    test_basic();
    test_errors();
    test_genotypes(argv[1]);
    printf("%s (%s)\n", failures ? "FAILED" : "ok", jit_backend());
    return failures ? 1 : 0;
}
