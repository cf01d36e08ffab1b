/* wino.c — Winograd F(4x4, 3x3) and F(2x2, 3x3) convolutions
 * (codegen/emit_c_wino.c), emitted, compiled and run, against the reference
 * interpreter.
 *
 *   test_wino HARNESS_C WORKDIR CC [--big]
 *
 * Each case is one 3x3 stride-1 conv (bias; some with a fused addend and
 * relu; some dilated) emitted with CgOptions.conv = CG_CONV_WINOGRAD and WINOGRAD2,
 * compiled with CC under the strict flags of test_emit_c with harness.c, run
 * on a seeded input and compared with rt_interp_run. Cases: odd and even
 * maps, maps under one tile and 1x1, pads 0, 1, 2 and asymmetric, channel
 * counts that are not multiples of the 8-channel block, more than one
 * 64-channel chunk (the output accumulates over chunks), more than one
 * 64-tile block, batch 2 with an addend. Dilated cases (each output phase
 * tiled alone): rates 2, 3, 4, 5, 6, 12, 18 and 2 x 3, maps smaller than 2r
 * and than 4r (phases of one or two rows: partial and clamped tiles),
 * ASPP's 41x41 with pad = rate, pads 0, above the rate (patches starting
 * more than one step into the padding) and asymmetric, F(2x2) over two
 * 144-channel chunks, batch 2, addend and relu. The same graph emitted with
 * CG_CONV_DIRECT is compared too, so the printed errors show what Winograd
 * adds to the direct sum's rounding. --big adds the Auto-DeepLab decoder
 * convs (304 -> 256 and 256 -> 256 at 81x81, pad 1, relu) and its ASPP
 * convs (200 -> 256 at 41x41, rates 6, 12 and 18, pad = rate).
 *
 * Tolerance: max |y - ref| <= 5e-5 * max |ref|. Winograd in fp32 moves every
 * product through transforms (F(4x4): constants up to 8 in A, 5 in B) and
 * sums of larger terms, which the literature (Lavin & Gray 2016; Barabasz
 * et al. 2020) puts at ~1e-6 .. 1e-5 of max |y| for F(4x4); measured here
 * up to ~4e-6 with the points emit_c_wino.c uses (~1.2e-5 with Lavin's, 304
 * channels), F(2x2) at about the direct kernel's. Dilation changes which
 * input each product reads, not the arithmetic, so the same bound holds
 * (measured <= ~1.7e-6 on the dilated cases). 5e-5 still fails for any
 * indexing or transform bug, which errs by O(max |y|): a wrong phase, patch
 * stride or border reads a neighbour's input instead.
 *
 * The cases with an addend also run the blob (JIT) form, which must give the
 * same bits as the firmware form.
 *
 * Text checks: every case's file calls nasc_rt_wino once, with tile 4 under
 * CG_CONV_WINOGRAD and 2 under WINOGRAD2, never under CG_CONV_DIRECT; auto
 * by emit_c_wino.c's size rule on the host target (dilated convs: the tile
 * its cost rule gives, written in the case: F(2x2) at rate 2 on 20x20, none
 * at rate 8, F(4x4) for ASPP's rates 6 and 12, none at 18), never on
 * cortex-m4 or with a max_flash budget.
 */
#include "codegen/codegen.h"
#include "runtime/interp.h"
#include "tests/check.h"
#include "tests/codegen/emit_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *harness, *workdir, *cc;

static const char strict[] = "-std=c99 -Wall -Wextra -Werror -pedantic -O2 -Wshadow -Wvla "
                             "-Wconversion -Wdouble-promotion -Wfloat-equal -Wcast-qual "
                             "-Wstrict-prototypes -Wmissing-prototypes";

static const double k_tol = 5e-5; /* relative to max |ref|; see the file comment */

typedef struct WinoCase {
    const char *name;
    int n, c, oc, h, w;
    int pad[4];   /* top, left, bottom, right */
    bool addend;  /* fused addend (a pointwise conv of x) and relu */
    bool big;     /* only with --big */
    int dil[2];   /* dilation (rows, columns) */
    int dil_auto; /* dilated: the tile CG_CONV_AUTO picks (its cost rule) */
} WinoCase;

static const WinoCase wcases[] = {
    {"w_even", 1, 8, 8, 8, 8, {1, 1, 1, 1}, false, false, {1, 1}, 0},
    {"w_odd", 1, 5, 11, 7, 9, {1, 1, 1, 1}, false, false, {1, 1}, 0},
    {"w_pad0", 1, 3, 13, 13, 10, {0, 0, 0, 0}, false, false, {1, 1}, 0},
    {"w_pad2", 1, 9, 7, 6, 11, {2, 2, 2, 2}, false, false, {1, 1}, 0},
    {"w_asym", 1, 6, 10, 9, 14, {2, 0, 1, 1}, false, false, {1, 1}, 0},
    {"w_tiny", 1, 4, 9, 2, 3, {1, 1, 1, 1}, false, false, {1, 1}, 0},
    {"w_one", 1, 3, 5, 1, 1, {1, 1, 1, 1}, false, false, {1, 1}, 0},
    {"w_chunks", 1, 70, 17, 11, 13, {1, 1, 1, 1}, true, false, {1, 1}, 0},
    {"w_blocks", 2, 20, 12, 37, 35, {1, 1, 1, 1}, true, false, {1, 1}, 0},
    {"w_wide", 1, 130, 65, 18, 17, {1, 1, 1, 1}, true, false, {1, 1}, 0},
    {"adl_last0", 1, 304, 256, 81, 81, {1, 1, 1, 1}, true, true, {1, 1}, 0},
    {"adl_last3", 1, 256, 256, 81, 81, {1, 1, 1, 1}, true, true, {1, 1}, 0},
    /* dilated: r x r phases, each tiled alone (emit_c_wino.c) */
    {"d2_even", 1, 9, 10, 16, 16, {2, 2, 2, 2}, true, false, {2, 2}, 0},
    {"d2_pads", 1, 7, 12, 12, 13, {1, 3, 0, 2}, false, false, {2, 2}, 0},
    {"d2_pad0", 1, 5, 9, 11, 10, {0, 0, 0, 0}, false, false, {2, 2}, 0},
    {"d3_odd", 1, 5, 11, 13, 17, {3, 3, 3, 3}, false, false, {3, 3}, 0},
    {"d3_lt4r", 2, 6, 9, 10, 11, {3, 3, 3, 3}, true, false, {3, 3}, 0},
    {"d3_bigpad", 1, 4, 8, 9, 8, {7, 5, 2, 8}, false, false, {3, 3}, 0},
    {"d23", 1, 6, 10, 14, 15, {2, 3, 2, 3}, true, false, {2, 3}, 0},
    {"d4_blocks", 1, 70, 17, 19, 23, {4, 4, 4, 4}, true, false, {4, 4}, 0},
    {"d5_one", 1, 3, 5, 1, 1, {5, 5, 5, 5}, false, false, {5, 5}, 0},
    {"d6_lt2r", 1, 6, 7, 9, 11, {6, 6, 6, 6}, true, false, {6, 6}, 0},
    {"d6_aspp", 2, 20, 24, 41, 41, {6, 6, 6, 6}, true, false, {6, 6}, 0},
    {"d2_chunks", 1, 150, 20, 13, 12, {2, 2, 2, 2}, true, false, {2, 2}, 0},
    {"d2_auto", 1, 64, 64, 20, 20, {2, 2, 2, 2}, false, false, {2, 2}, 2},
    {"d8_auto", 1, 64, 64, 20, 20, {8, 8, 8, 8}, false, false, {8, 8}, 0},
    {"d12_aspp", 1, 12, 9, 41, 41, {12, 12, 12, 12}, false, false, {12, 12}, 0},
    {"d18_aspp", 1, 10, 13, 41, 41, {18, 18, 18, 18}, true, false, {18, 18}, 0},
    {"d18_even", 1, 8, 16, 40, 42, {18, 18, 18, 18}, false, false, {18, 18}, 0},
    {"adl_aspp2", 1, 200, 256, 41, 41, {6, 6, 6, 6}, false, true, {6, 6}, 4},
    {"adl_aspp3", 1, 200, 256, 41, 41, {12, 12, 12, 12}, false, true, {12, 12}, 4},
    {"adl_aspp4", 1, 200, 256, 41, 41, {18, 18, 18, 18}, false, true, {18, 18}, 0},
};

static uint64_t rng;

static float frand(void)
{
    return cgtest_frand(&rng);
}

/* A param of shape s, values uniform in [-scale, scale]. */
static ValueId param(Graph *g, const char *name, Shape s, float scale)
{
    return cgtest_param(g, name, s, scale, &rng);
}

static ValueId node(Graph *g, const Attrs *a, const ValueId *in, uint32_t nin)
{
    return cgtest_node(g, OP_CONV2D, a, in, nin);
}

/* x -> conv3x3(pad) [+ conv1x1(x) addend, relu]. Weights scaled by
 * 1/sqrt(9 c) (PyTorch's default init range), so max |y| stays O(1). */
static Graph *build(Arena *a, const WinoCase *k)
{
    rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)(k->c * 131 + k->oc * 7 + k->h);
    Graph *g = ir_graph_new(a, k->name);
    int dh = k->dil[0], dw = k->dil[1];
    ValueId x = ir_graph_add_input(g, shape4(k->n, k->c, k->h, k->w), "x");
    int64_t oc = k->oc;
    float ws = (float)(1.0 / sqrt(9.0 * k->c));
    ValueId r = 0;
    if (k->addend) {
        Attrs pa = {.conv = {.stride = {1, 1}, .dilation = {1, 1}, .groups = 1}};
        ValueId pin[2] = {x, param(g, "skip.weight", shape4(oc, k->c, 1, 1), ws)};
        r = node(g, &pa, pin, 2);
        /* the 3x3 output must have x's size to take the addend */
        if (k->pad[0] + k->pad[2] != 2 * dh || k->pad[1] + k->pad[3] != 2 * dw)
            abort();
    }
    Attrs ca = {.conv = {.stride = {1, 1}, .pad = {k->pad[0], k->pad[1], k->pad[2], k->pad[3]},
                         .dilation = {dh, dw}, .groups = 1, .addend = r != 0,
                         .act = r ? ACT_RELU : ACT_NONE}};
    ValueId in[4] = {x, param(g, "conv.weight", shape4(oc, k->c, 3, 3), ws),
                     param(g, "conv.bias", shape_make(1, &oc), 0.5f), r};
    ValueId y = node(g, &ca, in, r ? 4 : 3);
    ir_graph_add_output(g, y);
    return g;
}

/* Emits g into dir/name.{c,h} with o; returns the .c text (caller frees). */
static char *emit(const Graph *g, const char *dir, const char *name, CgOptions o)
{
    char cpath[800];
    snprintf(cpath, sizeof cpath, "%s/%s.c", dir, name);
    size_t len;
    return cgtest_emit(g, &o, dir, name) ? check_slurp(cpath, &len) : NULL;
}

/* The tile of the file's one Winograd call `nasc_rt_wino(..., relu, s,
 * (ws + k));` (4 or 2), 0 without one, -1 with more than one. */
static int wino_tile(const char *text)
{
    static const char def_text[] = "static void nasc_rt_wino(";
    const char *def = strstr(text, def_text);
    const char *call = strstr(def ? def + sizeof def_text - 1 : text, "nasc_rt_wino(");
    if (!call)
        return 0;
    if (strstr(call + 1, "nasc_rt_wino("))
        return -1;
    /* the call ends "s, (ws + k));": back from "));" to the scratch's "(" */
    const char *end = strstr(call, "));");
    while (end && end > call && *end != '(')
        end--;
    end = end && end - call > 2 ? end - 2 : NULL; /* before ", " */
    while (end && end > call && end[-1] >= '0' && end[-1] <= '9')
        end--;
    return end ? atoi(end) : -1;
}

/* Compiles dir/name.c with the harness, runs it on dir/in.bin; the output
 * (caller frees) or NULL. */
static float *build_and_run(const Graph *g, const CgOptions *o, const char *dir, const char *name,
                            int64_t nout)
{
    const Shape *si = &g->vals[g->inputs[0]].shape, *so = &g->vals[g->outputs[0]].shape;
    char up[64], cmd[4096], exe[600], out[600];
    size_t i;
    for (i = 0; name[i] && i + 1 < sizeof up; i++)
        up[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
    up[i] = '\0';
    snprintf(exe, sizeof exe, "%s/run_%s", dir, name);
    snprintf(cmd, sizeof cmd,
             "%s %s -I%s -DNAME=%s -DUPNAME=%s '-DHEADER=\"%s.h\"' -DEXP_IN_N=%lld "
             "-DEXP_IN_C=%lld -DEXP_IN_H=%lld -DEXP_IN_W=%lld -DEXP_OUT_N=%lld -DEXP_OUT_C=%lld "
             "-DEXP_OUT_H=%lld -DEXP_OUT_W=%lld -DEXP_WS=%lld %s %s/%s.c -o %s",
             cc, strict, dir, name, up, name, (long long)si->d[0], (long long)si->d[1],
             (long long)si->d[2], (long long)si->d[3], (long long)so->d[0], (long long)so->d[1],
             (long long)so->d[2], (long long)so->d[3], (long long)cg_workspace_bytes(g, o),
             harness, dir, name, exe);
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

/* Blob mode (the JIT's form) of the Winograd file: dir/NAME_blob.c gets a
 * NAME_blob_run(in, out, ws) that passes cg_weights_blob's floats (as hex
 * literals) to NAME_blob_run_blob, and a header declaring it, so harness.c
 * runs it. The output must equal the firmware form's bit for bit. */
static void check_blob(const Graph *g, const char *dir, const char *base, CgConv m,
                       const float *want, int64_t nout)
{
    char name[96];
    snprintf(name, sizeof name, "%s_blob%d", base, (int)m);
    CgOptions o = {.name = name, .conv = m, .weights_blob = true};
    char *text = emit(g, dir, name, o);
    bool ok = text && cgtest_add_blob_runner(g, &o, dir);
    CHECKF(ok && text && strstr(text, "nasc_rt_wino(") && strstr(text, "wino_conv_weight"),
           "%s: blob emission", name);
    float *y = ok ? build_and_run(g, &o, dir, name, nout) : NULL;
    CHECKF(y && memcmp(y, want, (size_t)nout * sizeof *y) == 0,
           "%s: blob output differs from the firmware file's", name);
    free(y);
    free(text);
}

static void test_case(const WinoCase *k)
{
    Arena a;
    arena_init(&a);
    Graph *g = build(&a, k);
    char dir[512], path[700], name[64];
    snprintf(dir, sizeof dir, "%s/%s", workdir, k->name);
    snprintf(path, sizeof path, "mkdir -p %s", dir);
    int64_t nin = shape_numel(&g->vals[g->inputs[0]].shape);
    int64_t nout = shape_numel(&g->vals[g->outputs[0]].shape);
    float *in = malloc((size_t)nin * sizeof *in), *ref = malloc((size_t)nout * sizeof *ref);
    for (int64_t i = 0; i < nin; i++)
        in[i] = frand();
    CHECK(cgtest_run(path) == 0);
    snprintf(path, sizeof path, "%s/in.bin", dir);
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(in, sizeof *in, (size_t)nin, f) == (size_t)nin;
    ok = f && fclose(f) == 0 && ok;
    Diag d;
    diag_init(&d);
    ok = ok && rt_interp_run(g, in, ref, NULL, &d);
    if (!ok)
        diag_print(&d, stderr);
    diag_free(&d);
    CHECKF(ok, "%s: input or interpreter failed", k->name);

    static const char *const mode_name[CG_NCONV] = {"auto", "direct", "winograd",
                                                    "winograd2"};
    static const int mode_tile[CG_NCONV] = {-1, 0, 4, 2};
    for (int m = CG_CONV_DIRECT; ok && m <= CG_CONV_WINOGRAD2; m++) {
        snprintf(name, sizeof name, "%s_%s", k->name, mode_name[m]);
        CgOptions o = {.conv = (CgConv)m};
        char *text = emit(g, dir, name, o);
        CHECKF(text, "%s: emission failed", name);
        if (!text)
            continue;
        int tile = wino_tile(text);
        CHECKF(tile == mode_tile[m], "%s: Winograd tile %d", name, tile);
        /* its ~720 KiB of v and m come from the workspace, not the stack */
        CHECKF(!tile || (!strstr(text, "float v[") && strstr(text, "float *restrict v = sc")),
               "%s: the Winograd scratch is not in the workspace", name);
        free(text);
        float *y = build_and_run(g, &o, dir, name, nout);
        CHECKF(y, "%s: build or run failed", name);
        if (!y)
            continue;
        char what[96];
        snprintf(what, sizeof what, "%s [%s]", k->name, mode_name[m]);
        double rel = cgtest_rel_error(what, y, ref, nout);
        CHECKF(rel <= k_tol, "%s: relative error %g > %g", what, rel, k_tol);
        if (m != CG_CONV_DIRECT && k->addend && !k->big)
            check_blob(g, dir, k->name, (CgConv)m, y, nout);
        free(y);
    }
    /* auto: the size rule of emit_c_wino.c (wino_tile; dilated convs: its
     * cost rule, the case's dil_auto) on the host target without a flash
     * budget, else never */
    int dh = k->dil[0], dw = k->dil[1];
    int oh = k->h + k->pad[0] + k->pad[2] - 2 * dh, ow = k->w + k->pad[1] + k->pad[3] - 2 * dw;
    bool big = k->c >= 64 && k->oc >= 64 && oh >= 16 && ow >= 16;
    int want = !big ? 0 : dh > 1 || dw > 1 ? k->dil_auto : k->c >= 128 && k->oc >= 128 ? 4 : 2;
    static const CgOptions autos[] = {{.target = CG_TARGET_HOST},
                                      {.target = CG_TARGET_CORTEX_M4},
                                      {.target = CG_TARGET_HOST, .max_flash = 1 << 30}};
    for (int t = 0; ok && t < 3; t++) {
        snprintf(name, sizeof name, "%s_auto%d", k->name, t);
        char *text = emit(g, dir, name, autos[t]);
        int tile = text ? wino_tile(text) : -1;
        CHECKF(tile == (t == 0 ? want : 0), "%s: auto chose tile %d", name, tile);
        free(text);
    }
    free(in);
    free(ref);
    arena_free_all(&a);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: test_wino HARNESS_C WORKDIR CC [--big]\n");
        return 2;
    }
    harness = argv[1];
    workdir = argv[2];
    cc = argv[3];
    bool big = argc > 4 && strcmp(argv[4], "--big") == 0;
    for (size_t i = 0; i < sizeof wcases / sizeof wcases[0]; i++)
        if (big || !wcases[i].big)
            test_case(&wcases[i]);
    if (failures) {
        fprintf(stderr, "wino (%s): %d failures\n", cc, failures);
        return 1;
    }
    printf("wino (%s): ok\n", cc);
    return 0;
}
