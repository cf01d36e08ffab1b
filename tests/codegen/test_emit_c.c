/* test_emit_c.c — emitted C, compiled and run, against the interpreter.
 *
 *   test_emit_c HARNESS_C WORKDIR CC [--asan]
 *
 * For each case graph (together they use every op and attribute variant):
 * emit NAME.c/NAME.h twice (byte-identical?), scan the .c for what a
 * dependency-free file must not contain, compile it with CC under
 * -std=c99 -Wall -Wextra -Werror -pedantic (plus stricter firmware flags)
 * with harness.c, which also checks the header macros at compile time, run
 * it on a seeded random input and compare with rt_interp_run:
 * max |c - ref| <= 1e-4 * max |ref| (exact when the case asks). --asan also
 * builds and runs the largest case with -fsanitize=address,undefined.
 * Error cases check that bad graphs are refused with a diagnostic and no
 * output.
 */
#include "codegen/codegen.h"
#include "runtime/interp.h"
#include "tests/codegen/cases.h"
#include "tests/codegen/emit_util.h"
#include "tests/check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *harness, *workdir, *cc;

static const char strict[] = "-std=c99 -Wall -Wextra -Werror -pedantic -O2 -Wshadow -Wvla "
                             "-Wconversion -Wdouble-promotion -Wfloat-equal -Wcast-qual "
                             "-Wstrict-prototypes -Wmissing-prototypes";

/* text without its comments (which may well mention sqrt or stdio). */
static char *strip_comments(const char *text)
{
    char *out = malloc(strlen(text) + 1), *o = out;
    while (out && *text) {
        if (text[0] == '/' && text[1] == '*') {
            const char *end = strstr(text + 2, "*/");
            text = end ? end + 2 : text + strlen(text);
            *o++ = ' ';
        } else {
            *o++ = *text++;
        }
    }
    if (out)
        *o = '\0';
    return out;
}

/* The one pragma the host target may carry: a vector-width hint to gcc on
 * AVX-512 hosts, behind a guard that keeps it from every other compiler. */
static bool allowed_pragma(const char *text, const char *word)
{
    static const char hint[] = "#if defined(__GNUC__) && !defined(__clang__) && "
                               "defined(__AVX512F__)\n"
                               "#pragma GCC target(\"prefer-vector-width=512\")\n#endif\n";
    const char *p = strstr(text, word);
    if (strcmp(word, "#pragma") != 0 || !p)
        return false;
    const char *h = strstr(text, hint);
    return h && p == h + strlen("#if defined(__GNUC__) && !defined(__clang__) && "
                                "defined(__AVX512F__)\n") && !strstr(p + 1, "#pragma");
}

/* What a dependency-free, state-free C file must not contain (in code). */
static void scan_forbidden(const char *commented, const char *what)
{
    char *text = strip_comments(commented);
    if (!text)
        return;
    static const char *const bad[] = {"malloc", "calloc", "realloc", "free(", "printf", "stdio",
                                      "math.h", "sqrt", "INFINITY", "exp(", "#pragma"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECKF(!strstr(text, bad[i]) || allowed_pragma(text, bad[i]), "%s: contains '%s'",
               what, bad[i]);
    /* file-scope statics: constants or functions only */
    for (const char *p = text; (p = strstr(p, "\nstatic ")); p++) {
        const char *eol = strchr(p + 1, '\n');
        bool fn = eol && memchr(p, '(', (size_t)(eol - p));
        CHECKF(fn || strncmp(p, "\nstatic const ", 14) == 0, "%s: mutable global: %.60s", what,
              p + 1);
    }
    for (const char *p = text; (p = strstr(p, "#include")); p++) {
        bool ok = !strncmp(p, "#include <stddef.h>", 19) ||
                  !strncmp(p, "#include <stdint.h>", 19) ||
                  !strncmp(p, "#include <string.h>", 19) || !strncmp(p, "#include \"", 10);
        CHECKF(ok, "%s: unexpected %.40s", what, p);
    }
    bool uses_str = strstr(text, "memcpy") || strstr(text, "memset");
    CHECKF(uses_str == (strstr(text, "#include <string.h>") != NULL),
          "%s: <string.h> included iff memcpy/memset is used", what);
    free(text);
}

/* Compiles case dir with flags, runs it, returns the output or NULL. */
static float *build_and_run(const Graph *g, const Case *k, const char *dir, const char *flags,
                            const char *tag)
{
    const Shape *si = &g->vals[g->inputs[0]].shape, *so = &g->vals[g->outputs[0]].shape;
    char up[64], cmd[4096], exe[512];
    size_t i;
    for (i = 0; k->name[i] && i + 1 < sizeof up; i++)
        up[i] = (char)(k->name[i] >= 'a' && k->name[i] <= 'z' ? k->name[i] - 32 : k->name[i]);
    up[i] = '\0';
    long long d[8];
    for (int j = 0; j < 4; j++) {
        d[j] = (long long)(j < si->rank ? si->d[j] : 1);
        d[4 + j] = (long long)(j < so->rank ? so->d[j] : 1);
    }
    snprintf(exe, sizeof exe, "%s/run_%s", dir, tag);
    snprintf(cmd, sizeof cmd,
             "%s %s -I%s -DNAME=%s -DUPNAME=%s '-DHEADER=\"%s.h\"' -DEXP_IN_N=%lld "
             "-DEXP_IN_C=%lld -DEXP_IN_H=%lld -DEXP_IN_W=%lld -DEXP_OUT_N=%lld -DEXP_OUT_C=%lld "
             "-DEXP_OUT_H=%lld -DEXP_OUT_W=%lld -DEXP_WS=%lld %s %s/%s.c -o %s",
             cc, flags, dir, k->name, up, k->name, d[0], d[1], d[2], d[3], d[4], d[5], d[6],
             d[7], (long long)cg_workspace_bytes(g, NULL), harness, dir, k->name, exe);
    if (cgtest_run(cmd) != 0)
        return NULL;
    snprintf(cmd, sizeof cmd, "%s %s/in.bin %s/out_%s.bin", exe, dir, dir, tag);
    if (cgtest_run(cmd) != 0)
        return NULL;
    snprintf(cmd, sizeof cmd, "%s/out_%s.bin", dir, tag);
    size_t len;
    float *out = (float *)check_slurp(cmd, &len);
    CHECKF(out && len == (size_t)shape_numel(so) * sizeof(float), "%s: output size", k->name);
    return out;
}

static void compare(const Case *k, const char *tag, const float *got, const float *ref,
                    int64_t n)
{
    double maxref = 0, maxerr = 0;
    for (int64_t i = 0; i < n; i++) {
        maxref = fmax(maxref, fabs((double)ref[i]));
        double e = fabs((double)got[i] - (double)ref[i]);
        maxerr = isnan(e) ? INFINITY : fmax(maxerr, e);
    }
    double tol = k->exact ? 0.0 : 1e-4 * maxref;
    printf("%-10s [%s] max error %.3g, max |ref| %.3g\n", k->name, tag, maxerr, maxref);
    CHECKF(maxerr <= tol, "%s [%s]: max error %g > %g (max |ref| %g)", k->name, tag, maxerr, tol,
          maxref);
}

/* Whether cc -march=native enables AVX-512 here (the vector tiles' guard). */
static bool native_has_avx512(void)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "%s -march=native -dM -E -x c /dev/null 2>/dev/null | grep -q __AVX512F__", cc);
    return cgtest_run(cmd) == 0;
}

/* The case built -O1 with ASan and UBSan (plus extra flags) and run: within
 * the tolerance of the interpreter's ref, and no sanitizer report. */
static void sanitized(const Graph *g, const Case *k, const char *dir, const float *ref,
                      int64_t nout, const char *extra, const char *tag)
{
    char flags[256];
    snprintf(flags, sizeof flags, "-std=c99 -Wall -Wextra -Werror -pedantic -O1 -g "
             "-fsanitize=address,undefined -fno-sanitize-recover=all "
             "-fno-omit-frame-pointer %s", extra);
    float *out = build_and_run(g, k, dir, flags, tag);
    CHECKF(out, "%s: %s build or run failed", k->name, tag);
    if (out)
        compare(k, tag, out, ref, nout);
    free(out);
}

/* A file with the pointwise vector tiles (codegen/emit_c_vec.c), built
 * -O3 -march=native with FMA contraction (as bench/peers.sh builds), once
 * with the vector path and once with -DNASC_RT_PORTABLE: each within the
 * tolerance of the interpreter, and the two equal bit for bit. With asan,
 * the vector path also runs under the sanitizers (its loads past a row,
 * e.g. the packed pointwise tile's 16-lane weight loads, must stay inside
 * the arrays). */
static void vector_vs_portable(const Graph *g, const Case *k, const char *dir,
                               const float *ref, int64_t nout, bool asan)
{
    if (!native_has_avx512()) {
        printf("%-10s [native] skipped: %s -march=native has no AVX-512, so the vector "
               "tiles are not compiled\n", k->name, cc);
        return;
    }
    static const char native[] = "-std=c99 -Wall -Wextra -Werror -pedantic -O3 -march=native "
                                 "-ffp-contract=fast";
    char flags[256];
    snprintf(flags, sizeof flags, "%s -DNASC_RT_PORTABLE", native);
    float *vec = build_and_run(g, k, dir, native, "native");
    float *port = build_and_run(g, k, dir, flags, "portable");
    CHECKF(vec && port, "%s: native builds or runs failed", k->name);
    if (vec && port) {
        compare(k, "native", vec, ref, nout);
        compare(k, "portable", port, ref, nout);
        CHECKF(memcmp(vec, port, (size_t)nout * sizeof *vec) == 0,
               "%s: vector and portable tiles differ", k->name);
    }
    if (asan && k->asan)
        sanitized(g, k, dir, ref, nout, "-march=native", "native_asan");
    free(vec);
    free(port);
}

static void test_case(const Case *k, bool asan)
{
    Arena a;
    arena_init(&a);
    Graph *g = k->build(&a);
    char dir[512], dir2[512], p1[1200], p2[1200];
    snprintf(dir, sizeof dir, "%s/%s", workdir, k->name);
    snprintf(dir2, sizeof dir2, "%s/%s.again", workdir, k->name);
    snprintf(p1, sizeof p1, "mkdir -p %s %s", dir, dir2);
    CgOptions o = {.banner = k->banner};
    if (cgtest_run(p1) != 0 || !cgtest_emit(g, &o, dir, k->name) ||
        !cgtest_emit(g, &o, dir2, k->name)) {
        CHECKF(0, "%s: emission failed", k->name);
        arena_free_all(&a);
        return;
    }
    bool vec_tiles = false;
    for (int h = 0; h < 2; h++) {
        size_t l1, l2;
        snprintf(p1, sizeof p1, "%s/%s.%c", dir, k->name, h ? 'h' : 'c');
        snprintf(p2, sizeof p2, "%s/%s.%c", dir2, k->name, h ? 'h' : 'c');
        char *t1 = check_slurp(p1, &l1), *t2 = check_slurp(p2, &l2);
        CHECKF(t1 && t2 && l1 == l2 && memcmp(t1, t2, l1) == 0, "%s: emitting twice differs",
              p1);
        if (t1 && !h)
            scan_forbidden(t1, p1);
        if (t1 && !h)
            vec_tiles = strstr(t1, "nasc_rt_pw_tile12(") || strstr(t1, "nasc_rt_pwp_tile12(");
        if (t1 && !h && k->check_text)
            k->check_text(g, t1, &failures);
        free(t1);
        free(t2);
    }

    int64_t nin = shape_numel(&g->vals[g->inputs[0]].shape);
    int64_t nout = shape_numel(&g->vals[g->outputs[0]].shape);
    float *in = case_input(k, nin), *ref = malloc((size_t)nout * sizeof *ref);
    snprintf(p1, sizeof p1, "%s/in.bin", dir);
    Diag d;
    diag_init(&d);
    bool ok = cgtest_write_file(p1, in, (size_t)nin * sizeof *in) &&
              rt_interp_run(g, in, ref, NULL, &d);
    if (!ok)
        diag_print(&d, stderr);
    CHECKF(ok, "%s: interpreter failed", k->name);
    diag_free(&d);

    float *out = ok ? build_and_run(g, k, dir, strict, "strict") : NULL;
    CHECKF(out, "%s: strict build or run failed", k->name);
    if (out)
        compare(k, "strict", out, ref, nout);
    free(out);
    if (asan && k->asan)
        sanitized(g, k, dir, ref, nout, "", "asan");
    if (ok && vec_tiles)
        vector_vs_portable(g, k, dir, ref, nout, asan);
    free(in);
    free(ref);
    arena_free_all(&a);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: test_emit_c HARNESS_C WORKDIR CC [--asan]\n");
        return 2;
    }
    harness = argv[1];
    workdir = argv[2];
    cc = argv[3];
    bool asan = argc > 4 && strcmp(argv[4], "--asan") == 0;
    for (const Case *k = cases; k->name; k++)
        test_case(k, asan);
    failures += test_refusals();
    if (failures) {
        fprintf(stderr, "emit_c (%s): %d failures\n", cc, failures);
        return 1;
    }
    printf("emit_c (%s): ok\n", cc);
    return 0;
}
