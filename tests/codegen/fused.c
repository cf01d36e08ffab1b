/* fused.c — the test_emit_c case of fused convolutions (passes fuse-act,
 * fuse-add): every kernel path that applies a fusion itself and every one
 * that gets it around the call.
 *
 * Pointwise 8 -> 13 on 9x37 (two 6-channel tiles, one left-over row, an
 * overlapping last column tile) in five of its eight fusion forms (pre,
 * relu, add, add+relu, pre+add+relu), with and without bias, batch 2 (the
 * addend advances per image); pointwise on a 5x6 map (narrower than a
 * tile) with all three fusions; the generic
 * kernel (groups 2) with addend and act; a dense 3x3 and a specialised
 * depthwise 3x3 with addend and act (the epilogue pass after the call);
 * pre=relu on a dense and on a depthwise conv (both to the generic "_pre"
 * kernel). x has negative values, so pre=relu matters. Outputs resized to
 * 9x37 and concatenated: [2,58,9,37].
 */
#include "tests/codegen/cases.h"
#include "tests/codegen/emit_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng;

static ValueId param(Graph *g, const char *name, Shape s)
{
    return cgtest_param(g, name, s, 0.5f, &rng);
}

/* Fusions of one conv: pre, act (FusedAct) and the addend (0: none). */
typedef struct Fuse {
    int pre, act;
    ValueId addend;
} Fuse;

/* A conv named `name` (weights "<name>.weight", "<name>.bias"): k x k,
 * pad k/2, stride 1, groups g. */
static ValueId conv(Graph *g, ValueId x, const char *name, int64_t oc, int k, int groups,
                    bool bias, Fuse f)
{
    char wn[64], bn[64];
    snprintf(wn, sizeof wn, "%s.weight", name);
    snprintf(bn, sizeof bn, "%s.bias", name);
    int64_t icg = g->vals[x].shape.d[1] / groups;
    Attrs a = {.conv = {.stride = {1, 1}, .pad = {k / 2, k / 2, k / 2, k / 2},
                        .dilation = {1, 1}, .groups = groups, .pre = f.pre,
                        .addend = f.addend != 0, .act = f.act}};
    ValueId in[4] = {x, param(g, wn, shape4(oc, icg, k, k))};
    uint32_t n = 2;
    if (bias)
        in[n++] = param(g, bn, shape_make(1, &oc));
    if (f.addend)
        in[n++] = f.addend;
    return cgtest_node(g, OP_CONV2D, &a, in, n);
}

static ValueId resized(Graph *g, ValueId x)
{
    Attrs a = {.resize = {{9, 37}, 0}};
    return cgtest_node(g, OP_RESIZE_BILINEAR, &a, &x, 1);
}

Graph *build_fused(Arena *ar)
{
    rng = 0xf05edull;
    Graph *g = ir_graph_new(ar, "fused");
    ValueId x = ir_graph_add_input(g, shape4(2, 8, 9, 37), "x");
    Fuse none = {0, 0, 0};
    /* pointwise: tiles, the left-over row, the shifted last column tile */
    ValueId p0 = conv(g, x, "pw0", 13, 1, 1, true, (Fuse){ACT_RELU, 0, 0});
    ValueId p1 = conv(g, x, "pw1", 13, 1, 1, false, (Fuse){0, ACT_RELU, p0});
    ValueId p2 = conv(g, x, "pw2", 13, 1, 1, true, (Fuse){ACT_RELU, ACT_RELU, p1});
    ValueId p3 = conv(g, p2, "pw3", 13, 1, 1, true, (Fuse){0, ACT_RELU, 0});
    ValueId p4 = conv(g, p3, "pw4", 13, 1, 1, false, (Fuse){0, 0, p2});
    /* a map narrower than a tile: 8x5x5 from a strided pointwise conv */
    Attrs s2 = {.conv = {.stride = {2, 7}, .pad = {0, 0, 0, 0}, .dilation = {1, 1},
                         .groups = 1}};
    ValueId xs[2] = {x, param(g, "s2.weight", shape4(8, 8, 1, 1))};
    ValueId n0 = cgtest_node(g, OP_CONV2D, &s2, xs, 2); /* [2,8,5,6] */
    ValueId n1 = conv(g, n0, "nar", 8, 1, 1, true, (Fuse){ACT_RELU, ACT_RELU, n0});
    /* generic (groups 2), dense, depthwise: epilogues; dense and dw with pre */
    ValueId g1 = conv(g, x, "grp", 8, 3, 2, true, (Fuse){0, ACT_RELU, x});
    ValueId d1 = conv(g, x, "dense", 8, 3, 1, false, (Fuse){0, ACT_RELU, g1});
    ValueId w1 = conv(g, d1, "dw", 8, 3, 8, true, (Fuse){0, ACT_RELU, x});
    ValueId d2 = conv(g, x, "dense_pre", 8, 3, 1, true, (Fuse){ACT_RELU, 0, 0});
    ValueId w2 = conv(g, x, "dw_pre", 8, 3, 8, false, (Fuse){ACT_RELU, ACT_RELU, d2});
    ValueId w3 = conv(g, w2, "dw_plain", 8, 3, 8, false, none);
    ValueId cat[] = {p4, resized(g, n1), w1, w3, p0, d1};
    ValueId y = cgtest_node(g, OP_CONCAT, NULL, cat, sizeof cat / sizeof cat[0]);
    ir_graph_add_output(g, y);
    return g;
}

static void need_call(const char *text, const char *call, int *failures)
{
    if (!strstr(text, call)) {
        fprintf(stderr, "fused: no call %s...) in the emitted C\n", call);
        (*failures)++;
    }
}

/* Each path is taken: the "_pre" texts, the epilogue after the depthwise
 * and dense kernels (calls from NAME_run, whose first argument is the
 * input or a workspace slot; kernels call each other with other names). */
void text_fused(const Graph *g, const char *text, int *failures)
{
    (void)g;
    static const char *const want[] = {
        "nasc_rt_conv2d_1x1_pre(input",        "nasc_rt_conv2d_1x1_add_relu(input",
        "nasc_rt_conv2d_1x1_pre_add_relu(input", "nasc_rt_conv2d_1x1_relu((ws",
        "nasc_rt_conv2d_1x1_add((ws",          "nasc_rt_conv2d_1x1_pre_add_relu((ws",
        "nasc_rt_conv2d(input",                "nasc_rt_conv2d_pre(input",
        "nasc_rt_dconv_s1(input",              "nasc_rt_dw3s1d1((ws",
        "nasc_rt_epilogue((ws"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        need_call(text, want[i], failures);
}
