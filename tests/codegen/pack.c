/* pack.c — the packed dense convolution (codegen/emit_c_pack.c), emitted,
 * compiled and run, against the reference interpreter and against the
 * register-blocked kernel it replaces.
 *
 *   test_pack HARNESS_C WORKDIR CC
 *
 * Each case is a graph of dense convs that dense_kernel (emit_c_ops.c) gives
 * the packed kernel on the host target: strides 1 and 2 (also mixed per
 * axis), dilations 1, 2, 6 and 18 (ASPP's on a 41x41 map, where most taps
 * read padding), pads 0, 1, 2 and asymmetric ones, 1x3, 3x3 and 5x5 filters,
 * odd, even, narrower-than-a-tile (ow < 8) and 1x1 maps, rows of many
 * tiles, 3 input channels (a 5x5 filter: 75 per output), output channel
 * counts under and past multiples of the 32-channel block, a fused addend
 * and relu with batch 2, and two convs written in place into the channel
 * slices of a concat. Per case:
 *
 * - the host file (strict flags, -O2; and -O3 -march=native, the vectorised
 *   path) against rt_interp_run within k_tol x max |ref|;
 * - the cortex-m4 file of the same graph, which keeps the register-blocked
 *   kernels (emit_c_conv.c), built and run on the host with the same flags:
 *   both sum bias + taps in (c, ky, kx) order (padding taps skipped or
 *   added as w * 0), so the outputs must be equal (==: a zero's sign may
 *   differ);
 * - text: one nasc_rt_pconv_s<S> call per conv in the "host" file, none in
 *   the cortex-m4 one; the concat case's comment says its channels were
 *   written in place. The "host" file is emitted for the generic target,
 *   which has the host's packed-kernel rule but not nasc_rt_i2c_s2 (the
 *   host target's choice for stride-2 convs with oc % 12 == 0 on AVX-512);
 * - the host-target file (check_host), -O3 -march=native: equal (==) to the
 *   cortex-m4 file built with the same flags, contraction off; the i2c_*
 *   cases (and s2_even, s2_c3_5x5, s12_asym) run nasc_rt_i2c_s2 there: pads
 *   past the last tap, a fused addend and relu with batch 2, concat slices;
 * - the addend case also runs the blob (JIT) form, bit-equal to the
 *   firmware form.
 *
 * Tolerance: k_tol = 1e-5 relative to max |ref|. The interpreter sums in
 * another order (im2col + sgemm), so each output differs by the rounding of
 * two fp32 sums of c * kh * kw <= 450 terms: a few ulps of the largest
 * partial sums, measured up to ~1e-6 of max |ref| here (printed). An
 * indexing, padding or packing error moves outputs by O(max |ref|).
 */
#include "codegen/codegen.h"
#include "runtime/interp.h"
#include "tests/check.h"
#include "tests/codegen/emit_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *harness, *workdir, *cc;

static const char strict[] = "-std=c99 -Wall -Wextra -Werror -pedantic -Wshadow -Wvla "
                             "-Wconversion -Wdouble-promotion -Wfloat-equal -Wcast-qual "
                             "-Wstrict-prototypes -Wmissing-prototypes";
static const char *const opt[2] = {"-O2", "-O3 -march=native"};

static const double k_tol = 1e-5; /* relative to max |ref|; see the file comment */

typedef struct PackCase {
    const char *name;
    int n, c, oc, h, w, kh, kw;
    int stride[2], dil[2];
    int pad[4];  /* top, left, bottom, right */
    bool addend; /* fused addend (a second conv of x, same geometry) and relu */
    bool concat; /* two such convs concatenated, then relu (channel slices) */
} PackCase;

static const PackCase pcases[] = {
    {"s2_even", 1, 24, 48, 32, 32, 3, 3, {2, 2}, {1, 1}, {1, 1, 1, 1}, false, false},
    {"s2_odd", 1, 16, 40, 23, 29, 3, 3, {2, 2}, {1, 1}, {1, 1, 1, 1}, false, false},
    {"s2_c3_5x5", 1, 3, 24, 30, 31, 5, 5, {2, 2}, {1, 1}, {2, 2, 2, 2}, false, false},
    {"d2", 1, 16, 33, 20, 23, 3, 3, {1, 1}, {2, 2}, {2, 2, 2, 2}, false, false},
    {"d6", 1, 8, 32, 25, 26, 3, 3, {1, 1}, {6, 6}, {6, 6, 6, 6}, false, false},
    {"d18_aspp", 1, 10, 20, 41, 41, 3, 3, {1, 1}, {18, 18}, {18, 18, 18, 18}, false, false},
    {"k1x3_d2", 1, 24, 32, 9, 17, 1, 3, {1, 1}, {1, 2}, {0, 2, 0, 2}, false, false},
    {"k5_s2_p0", 1, 7, 35, 16, 40, 5, 5, {2, 2}, {1, 1}, {0, 0, 0, 0}, false, false},
    {"tiny", 1, 9, 16, 3, 5, 3, 3, {2, 2}, {1, 1}, {1, 1, 1, 1}, false, false},
    {"one", 1, 12, 17, 1, 1, 3, 3, {1, 1}, {2, 2}, {2, 2, 2, 2}, false, false},
    {"s21_asym", 1, 8, 18, 13, 22, 3, 3, {2, 1}, {1, 1}, {2, 0, 1, 2}, false, false},
    {"s12_asym", 1, 8, 24, 12, 30, 3, 3, {1, 2}, {1, 1}, {0, 1, 2, 0}, false, false},
    {"wide", 1, 16, 64, 6, 150, 3, 3, {2, 2}, {1, 1}, {1, 1, 1, 1}, false, false},
    {"addend_b2", 2, 20, 36, 14, 27, 3, 3, {1, 1}, {2, 2}, {2, 2, 2, 2}, true, false},
    {"slices", 1, 12, 40, 17, 19, 3, 3, {2, 2}, {1, 1}, {1, 1, 1, 1}, false, true},
    /* oc % 12 == 0, stride 2: nasc_rt_i2c_s2 in the host file (check_host) */
    {"i2c_pad3", 1, 8, 24, 9, 11, 3, 3, {2, 2}, {1, 1}, {3, 3, 3, 3}, false, false},
    {"i2c_add_b2", 2, 20, 24, 15, 21, 3, 3, {2, 2}, {1, 1}, {1, 1, 1, 1}, true, false},
    {"i2c_slices", 1, 12, 36, 17, 19, 3, 3, {2, 2}, {1, 1}, {1, 1, 1, 1}, false, true},
};

static uint64_t rng;

static ValueId conv(Graph *g, const PackCase *k, ValueId x, ValueId r, const char *stem)
{
    char wn[64], bn[64];
    int64_t oc = k->oc;
    snprintf(wn, sizeof wn, "%s.weight", stem);
    snprintf(bn, sizeof bn, "%s.bias", stem);
    float ws = (float)(1.0 / sqrt((double)(k->c * k->kh * k->kw)));
    Attrs a = {.conv = {.stride = {k->stride[0], k->stride[1]},
                        .pad = {k->pad[0], k->pad[1], k->pad[2], k->pad[3]},
                        .dilation = {k->dil[0], k->dil[1]}, .groups = 1, .addend = r != 0,
                        .act = r ? ACT_RELU : ACT_NONE}};
    ValueId in[4] = {x, cgtest_param(g, wn, shape4(oc, k->c, k->kh, k->kw), ws, &rng),
                     cgtest_param(g, bn, shape_make(1, &oc), 0.5f, &rng), r};
    return cgtest_node(g, OP_CONV2D, &a, in, r ? 4 : 3);
}

/* The case's graph and its number of convs. Weights scaled by
 * 1/sqrt(c kh kw) (PyTorch's default init range), so max |y| stays O(1). */
static Graph *build(Arena *a, const PackCase *k, int *nconv)
{
    rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)(k->c * 131 + k->oc * 7 + k->h * 3 + k->w);
    Graph *g = ir_graph_new(a, k->name);
    ValueId x = ir_graph_add_input(g, shape4(k->n, k->c, k->h, k->w), "x");
    ValueId y = conv(g, k, x, 0, "conv");
    *nconv = 1;
    if (k->addend) {
        y = conv(g, k, x, y, "conv2");
        *nconv = 2;
    }
    if (k->concat) {
        ValueId cat[2] = {y, conv(g, k, x, 0, "conv2")};
        y = cgtest_node(g, OP_CONCAT, NULL, cat, 2);
        y = cgtest_node(g, OP_RELU, NULL, &y, 1);
        *nconv = 2;
    }
    ir_graph_add_output(g, y);
    return g;
}

static char *emit(const Graph *g, const char *dir, const char *name, CgOptions o)
{
    char cpath[800];
    snprintf(cpath, sizeof cpath, "%s/%s.c", dir, name);
    size_t len;
    return cgtest_emit(g, &o, dir, name) ? check_slurp(cpath, &len) : NULL;
}

static int count(const char *text, const char *what)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, what)); p++)
        n++;
    return n;
}

/* A main() for files of other targets, whose alignment harness.c refuses:
 * NAME_run on an input file with a 64-byte aligned workspace. */
static const char plain_main[] =
    "#include <stdint.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include HEADER\n"
    "#define CAT_(a, b) a##b\n#define CAT(a, b) CAT_(a, b)\n#define M(s) CAT(UPNAME, s)\n"
    "static float in[M(_INPUT_SIZE)], out[M(_OUTPUT_SIZE)];\n"
    "int main(int argc, char **argv)\n{\n"
    "    char *raw = malloc(M(_WORKSPACE_BYTES) + 64);\n"
    "    void *ws = raw + (64 - (uintptr_t)raw % 64) % 64;\n"
    "    FILE *f = argc == 3 ? fopen(argv[1], \"rb\") : NULL;\n"
    "    if (!raw || !f || fread(in, sizeof in, 1, f) != 1 || fclose(f) != 0)\n"
    "        return 1;\n"
    "    if (CAT(NAME, _run)(in, out, ws) != 0)\n        return 1;\n"
    "    f = fopen(argv[2], \"wb\");\n"
    "    if (!f || fwrite(out, sizeof out, 1, f) != 1 || fclose(f) != 0)\n        return 1;\n"
    "    free(raw);\n    return 0;\n}\n";

/* Compiles dir/name.c with main_c (harness.c or plain_main's file) and
 * flags, runs it on dir/in.bin; the output (caller frees) or NULL. */
static float *build_and_run(const Graph *g, const CgOptions *o, const char *dir, const char *name,
                            const char *flags, const char *main_c, int64_t nout)
{
    const Shape *si = &g->vals[g->inputs[0]].shape, *so = &g->vals[g->outputs[0]].shape;
    char up[64], cmd[4096], exe[600], out[600];
    size_t i;
    for (i = 0; name[i] && i + 1 < sizeof up; i++)
        up[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
    up[i] = '\0';
    snprintf(exe, sizeof exe, "%s/run_%s", dir, name);
    snprintf(cmd, sizeof cmd,
             "%s %s %s -I%s -DNAME=%s -DUPNAME=%s '-DHEADER=\"%s.h\"' -DEXP_IN_N=%lld "
             "-DEXP_IN_C=%lld -DEXP_IN_H=%lld -DEXP_IN_W=%lld -DEXP_OUT_N=%lld -DEXP_OUT_C=%lld "
             "-DEXP_OUT_H=%lld -DEXP_OUT_W=%lld -DEXP_WS=%lld %s %s/%s.c -o %s",
             cc, strict, flags, dir, name, up, name, (long long)si->d[0], (long long)si->d[1],
             (long long)si->d[2], (long long)si->d[3], (long long)so->d[0], (long long)so->d[1],
             (long long)so->d[2], (long long)so->d[3], (long long)cg_workspace_bytes(g, o),
             main_c, dir, name, exe);
    if (cgtest_run(cmd) != 0)
        return NULL;
    snprintf(out, sizeof out, "%s/out_%s.bin", dir, name);
    snprintf(cmd, sizeof cmd, "%s %s/in.bin %s", exe, dir, out);
    if (cgtest_run(cmd) != 0)
        return NULL;
    size_t len;
    float *y = (float *)check_slurp(out, &len);
    CHECKF(y && len == (size_t)nout * sizeof(float), "%s: output size", name);
    return y;
}

/* Blob mode (the JIT's form): dir/NAME_blob.c gets a NAME_blob_run(in, out,
 * ws) passing cg_weights_blob's floats (hex literals) to NAME_blob_run_blob,
 * so harness.c runs it; the output must equal the firmware form's bits. */
static void check_blob(const Graph *g, const char *dir, const char *base, const float *want,
                       int64_t nout)
{
    char name[96];
    snprintf(name, sizeof name, "%s_blob", base);
    CgOptions o = {.name = name, .weights_blob = true};
    char *text = emit(g, dir, name, o);
    bool ok = text && cgtest_add_blob_runner(g, &o, dir);
    bool i2c = text && strstr(text, "nasc_rt_i2c_s2(");
    CHECKF(ok && text && (i2c || (strstr(text, "nasc_rt_pconv_s") &&
                                  strstr(text, "pk_conv_weight") &&
                                  !strstr(text, "w_conv_weight"))),
           "%s: blob emission", name);
    float *y = ok ? build_and_run(g, &o, dir, name, opt[0], harness, nout) : NULL;
    CHECKF(y && memcmp(y, want, (size_t)nout * sizeof *y) == 0,
           "%s: blob output differs from the firmware file's", name);
    free(y);
    free(text);
}

/* Outputs equal as floats (a zero's sign may differ; NaN never equals). */
static bool same_values(const float *a, const float *b, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (!(a[i] <= b[i] && a[i] >= b[i]))
            return false;
    return true;
}

/* The host-target file, -O3 -march=native: its stride-2 convs with oc % 12 == 0
 * run nasc_rt_i2c_s2 (the pointwise vector tile on gathered patches) on
 * AVX-512, which sums in the register-blocked kernel's order, so its output
 * must equal the cortex-m4 file's (==). */
static void check_host(const PackCase *k, const Graph *g, const char *dir, const char *main_c,
                       int64_t nout)
{
    char name[96];
    snprintf(name, sizeof name, "%s_x86", k->name);
    static const CgOptions o = {0}, m4_opts = {.target = CG_TARGET_CORTEX_M4};
    static const char flags[] = "-O3 -march=native -ffp-contract=off"; /* both alike */
    char *text = emit(g, dir, name, o);
    CHECKF(text, "%s: emission failed", name);
    if (!text)
        return;
    int i2c = count(text, "nasc_rt_i2c_s2(") - count(text, "static void nasc_rt_i2c_s2(");
    free(text);
    float *y = build_and_run(g, &o, dir, name, flags, harness, nout);
    snprintf(name, sizeof name, "%s_m4", k->name);
    float *m4 = build_and_run(g, &m4_opts, dir, name, flags, main_c, nout);
    snprintf(name, sizeof name, "%s_x86", k->name);
    CHECKF(y && m4 && same_values(y, m4, nout),
           "%s: the host file (%d nasc_rt_i2c_s2 calls) differs from the cortex-m4 one", name,
           i2c);
    printf("%-16s host file, %d nasc_rt_i2c_s2 calls: %s\n", name, i2c,
           y && m4 && same_values(y, m4, nout) ? "equal to cortex-m4" : "DIFFERS");
    free(y);
    free(m4);
}

/* The host file with both flag sets (against ref), then the cortex-m4 file
 * (against the host one). Returns the -O2 host output (caller frees). */
static float *check_files(const PackCase *k, const Graph *g, const char *dir, int nconv,
                          const float *ref, int64_t nout)
{
    char name[96], what[128];
    float *host[2] = {NULL, NULL};
    snprintf(name, sizeof name, "%s_host", k->name);
    /* The generic target: the host target's dense_kernel rule without the stride-2
     * convs it gives nasc_rt_i2c_s2 on AVX-512 (checked in check_host below). */
    static const CgOptions host_opts = {.target = CG_TARGET_GENERIC},
                           m4_opts = {.target = CG_TARGET_CORTEX_M4};
    char *text = emit(g, dir, name, host_opts);
    CHECKF(text, "%s: emission failed", name);
    if (!text)
        return NULL;
    int calls = count(text, "nasc_rt_pconv_s") - count(text, "static void nasc_rt_pconv_s");
    CHECKF(calls == nconv, "%s: %d packed calls, want %d", name, calls, nconv);
    CHECKF(!k->concat || count(text, "were written in place") == 2,
           "%s: the convs were not written into their concat slices", name);
    free(text);
    char main_c[600]; /* harness.c checks the host target's 64-byte workspace alignment */
    snprintf(main_c, sizeof main_c, "%s/plain_main.c", dir);
    if (!cgtest_write_file(main_c, plain_main, strlen(plain_main)))
        return NULL;
    for (int o = 0; o < 2; o++) {
        host[o] = build_and_run(g, &host_opts, dir, name, opt[o], main_c, nout);
        CHECKF(host[o], "%s (%s): build or run failed", name, opt[o]);
        if (!host[o])
            continue;
        snprintf(what, sizeof what, "%s [%s]", k->name, opt[o]);
        double rel = cgtest_rel_error(what, host[o], ref, nout);
        CHECKF(rel <= k_tol, "%s: relative error %g > %g", what, rel, k_tol);
    }
    snprintf(name, sizeof name, "%s_m4", k->name);
    text = emit(g, dir, name, m4_opts);
    CHECKF(text && !strstr(text, "nasc_rt_pconv") && !strstr(text, "pk_conv"),
           "%s: the cortex-m4 file uses the packed kernel", name);
    free(text);
    float *m4 = build_and_run(g, &m4_opts, dir, name, opt[0], main_c, nout);
    CHECKF(m4 && host[0] && same_values(m4, host[0], nout),
           "%s: the register-blocked kernel's output differs from the packed one's", k->name);
    check_host(k, g, dir, main_c, nout);
    free(m4);
    free(host[1]);
    return host[0];
}

static void test_case(const PackCase *k)
{
    Arena a;
    arena_init(&a);
    int nconv;
    Graph *g = build(&a, k, &nconv);
    char dir[512], path[700];
    snprintf(dir, sizeof dir, "%s/%s", workdir, k->name);
    snprintf(path, sizeof path, "mkdir -p %s", dir);
    int64_t nin = shape_numel(&g->vals[g->inputs[0]].shape);
    int64_t nout = shape_numel(&g->vals[g->outputs[0]].shape);
    float *in = malloc((size_t)nin * sizeof *in), *ref = malloc((size_t)nout * sizeof *ref);
    for (int64_t i = 0; i < nin; i++)
        in[i] = cgtest_frand(&rng);
    CHECK(cgtest_run(path) == 0);
    snprintf(path, sizeof path, "%s/in.bin", dir);
    bool ok = cgtest_write_file(path, in, (size_t)nin * sizeof *in);
    Diag d;
    diag_init(&d);
    ok = ok && rt_interp_run(g, in, ref, NULL, &d);
    if (!ok)
        diag_print(&d, stderr);
    diag_free(&d);
    CHECKF(ok, "%s: input or interpreter failed", k->name);
    float *y = ok ? check_files(k, g, dir, nconv, ref, nout) : NULL;
    if (y && k->addend)
        check_blob(g, dir, k->name, y, nout);
    free(y);
    free(in);
    free(ref);
    arena_free_all(&a);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: test_pack HARNESS_C WORKDIR CC\n");
        return 2;
    }
    harness = argv[1];
    workdir = argv[2];
    cc = argv[3];
    for (size_t i = 0; i < sizeof pcases / sizeof pcases[0]; i++)
        test_case(&pcases[i]);
    if (failures) {
        fprintf(stderr, "pack (%s): %d failures\n", cc, failures);
        return 1;
    }
    printf("pack (%s): ok\n", cc);
    return 0;
}
