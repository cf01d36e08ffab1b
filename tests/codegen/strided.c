/* strided.c — test_emit_c cases of the strided pointwise kernel
 * (nasc_rt_pw_strided, codegen/emit_c_pw.c) and of the linear kernel's
 * blocks of 32 outputs.
 *
 * "strided": 1x1 convs with no padding and strides 2 x 2 (FactorizedReduce),
 * 3 x 3, 1 x 2 and 2 x 1 on odd and even maps, batch 2; 37 input channels
 * (chunks of 16, 16 and 5) and 40 (16, 16, 8); 13 and 17 output channels (a
 * last block of 5 or 1 channels that repeats its last one) and 8; output
 * maps of 56 positions (a last block of 32 moved back), 42, 64 (two whole
 * blocks), 9 and 4 (fewer than one block), 1x1; with and without bias, one
 * with a fused addend and relu (the epilogue pass after the call). Then
 * 12, 24 and 36 output channels (nasc_rt_pw_s2g on AVX-512 hosts: inputs
 * gathered into col, the pointwise tiles) on 8x8 (two blocks), 8x7 (a last
 * block moved back; one with addend and relu), 7x7, 6x6 (a last block of
 * 16) and 6x5 (30 < 32 positions: nasc_rt_pw_strided). The crops of x (and
 * one of a 40-channel map in the workspace) read only by these convs are not
 * copied: the convs read their input at the crop's offset (negative pads in
 * nasc_rt_conv_p); a crop also read by a resize is copied. Outputs resized
 * to 8x8 and concatenated.
 *
 * "linear32": global pooling, then linear layers 37 -> 300 (twice four
 * blocks of 32 outputs at once, then one block and one of 12) -> 140 (four
 * at once and 12) -> 5 (less than a block), without bias on the middle one,
 * batch 2, all with packed weights;
 * then 5 -> 3 on relu(param) weights, which the plain kernel reads in place.
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

/* A 1x1 conv `name` with strides sh, sw, no padding; addend r (0: none)
 * and act fused. */
static ValueId pw(Graph *g, ValueId x, const char *name, int64_t oc, int sh, int sw, bool bias,
                  ValueId r, int act)
{
    char wn[64], bn[64];
    snprintf(wn, sizeof wn, "%s.weight", name);
    snprintf(bn, sizeof bn, "%s.bias", name);
    Attrs a = {.conv = {.stride = {sh, sw}, .dilation = {1, 1}, .groups = 1,
                        .addend = r != 0, .act = act}};
    ValueId in[4] = {x, param(g, wn, shape4(oc, g->vals[x].shape.d[1], 1, 1))};
    uint32_t n = 2;
    if (bias)
        in[n++] = param(g, bn, shape_make(1, &oc));
    if (r)
        in[n++] = r;
    return cgtest_node(g, OP_CONV2D, &a, in, n);
}

static ValueId resized(Graph *g, ValueId x)
{
    Attrs a = {.resize = {{8, 8}, 0}};
    return cgtest_node(g, OP_RESIZE_BILINEAR, &a, &x, 1);
}

static ValueId cropped(Graph *g, ValueId x, int top, int left)
{
    Attrs a = {.crop = {top, left}};
    return cgtest_node(g, OP_CROP, &a, &x, 1);
}

Graph *build_strided(Arena *ar)
{
    rng = 0x57a1dedull;
    Graph *g = ir_graph_new(ar, "strided");
    ValueId x = ir_graph_add_input(g, shape4(2, 37, 16, 15), "x");
    ValueId x15 = cropped(g, x, 1, 2), x14 = cropped(g, x, 2, 3); /* 15x13, 14x12 */
    ValueId w40 = pw(g, x, "widen", 40, 1, 1, true, 0, 0);       /* stride 1: pointwise */
    ValueId a = pw(g, x, "fr0", 13, 2, 2, true, 0, 0);            /* 8x8: 64 = 2 x 32 */
    ValueId b = pw(g, x15, "fr1", 13, 2, 2, true, 0, 0);          /* 8x7: 56 = 32 + 24 */
    ValueId c = pw(g, x14, "fr2", 13, 2, 2, false, 0, 0);         /* 7x6: 42 */
    ValueId d = pw(g, w40, "c40", 17, 2, 2, true, 0, 0);          /* 8x8 */
    ValueId e = pw(g, x, "s3", 17, 3, 3, true, 0, 0);             /* 6x5: 30 < 32 */
    ValueId f = pw(g, x15, "s12", 8, 1, 2, true, 0, 0);           /* 15x7 */
    ValueId h = pw(g, x15, "s21", 8, 2, 1, false, 0, 0);          /* 8x13 */
    ValueId k = pw(g, x, "fused", 13, 2, 2, true, a, ACT_RELU);   /* addend a, relu */
    ValueId t = pw(g, cropped(g, x, 10, 9), "tiny", 13, 3, 3, true, 0, 0); /* 2x2 */
    ValueId u = pw(g, cropped(g, x, 15, 14), "one", 8, 2, 2, false, 0, 0); /* 1x1 */
    /* oc % 12 == 0 and >= 32 positions: nasc_rt_pw_s2g on AVX-512 hosts */
    ValueId v = pw(g, x, "g24", 24, 2, 2, true, 0, 0);                 /* 8x8: 2 x 32 */
    ValueId v2 = pw(g, x15, "g12", 12, 2, 2, false, 0, ACT_RELU);       /* 8x7: 32 + 32 back */
    ValueId v3 = pw(g, cropped(g, x, 3, 2), "g36", 36, 2, 2, true, 0, ACT_RELU); /* 7x7 */
    ValueId v4 = pw(g, cropped(g, x, 4, 3), "g12b", 12, 2, 2, true, 0, 0); /* 6x6: 32 + 16 */
    ValueId v5 = pw(g, x, "g12c", 12, 3, 3, true, 0, 0);                /* 6x5: 30 < 32 */
    ValueId v6 = pw(g, x15, "g12r", 12, 2, 2, true, v2, ACT_RELU);      /* addend, relu */
    ValueId v7 = pw(g, w40, "g12w", 12, 2, 2, true, 0, 0);              /* from the workspace */
    /* a crop also resized is copied; the crops above, read by strided 1x1
     * convs alone, are read in place at negative pads (crop_folds) */
    ValueId x11 = cropped(g, w40, 1, 1), v8 = pw(g, x11, "g12k", 12, 2, 2, false, 0, 0);
    ValueId cat[] = {a,          resized(g, b), resized(g, c), d, resized(g, e),
                     resized(g, f), resized(g, h), k,          resized(g, t), resized(g, u),
                     v,          resized(g, v2), resized(g, v3), resized(g, v4),
                     resized(g, v5), resized(g, v6), v7, resized(g, x11), resized(g, v8)};
    ir_graph_add_output(g, cgtest_node(g, OP_CONCAT, NULL, cat, sizeof cat / sizeof cat[0]));
    return g;
}

/* Every strided 1x1 conv of the case runs the strided pointwise kernel,
 * those with oc % 12 == 0 and >= 32 positions through nasc_rt_pw_s2g. */
void text_strided(const Graph *g, const char *text, int *failures)
{
    (void)g;
    if (!strstr(text, "nasc_rt_pw_s2g(input") || !strstr(text, "nasc_rt_pw_s2g((ws")) {
        fprintf(stderr, "strided: no call of nasc_rt_pw_s2g\n");
        (*failures)++;
    }
    if (!strstr(text, "nasc_rt_pw_strided(input") || !strstr(text, "nasc_rt_pw_strided((ws") ||
        !strstr(text, "nasc_rt_epilogue(")) {
        fprintf(stderr, "strided: a call of nasc_rt_pw_strided or the epilogue is missing\n");
        (*failures)++;
    }
    if (!strstr(text, "not copied: its readers read input in place") ||
        !strstr(text, "nasc_rt_crop((ws")) {
        fprintf(stderr, "strided: no crop read in place, or none copied\n");
        (*failures)++;
    }
    if (strstr(text, "nasc_rt_conv2d(") || strstr(text, "nasc_rt_dconv_s")) {
        fprintf(stderr, "strided: a strided 1x1 conv ran another kernel\n");
        (*failures)++;
    }
}

Graph *build_linear32(Arena *ar)
{
    rng = 0x11ea7ull;
    Graph *g = ir_graph_new(ar, "linear32");
    ValueId x = ir_graph_add_input(g, shape4(2, 37, 3, 2), "x");
    ValueId h = cgtest_node(g, OP_GAVGPOOL, NULL, &x, 1); /* [2,37,1,1] */
    int64_t k[3] = {300, 140, 5};
    for (int i = 0; i < 3; i++) {
        char wn[32], bn[32];
        snprintf(wn, sizeof wn, "fc%d.weight", i);
        snprintf(bn, sizeof bn, "fc%d.bias", i);
        ValueId in[3] = {h, param(g, wn, shape_make(2, (int64_t[]){k[i], i ? k[i - 1] : 37})),
                         param(g, bn, shape_make(1, &k[i]))};
        h = cgtest_node(g, OP_LINEAR, NULL, in, i == 1 ? 2 : 3);
    }
    ValueId w3 = param(g, "fc3.weight", shape_make(2, (int64_t[]){3, 5}));
    ValueId in[2] = {h, cgtest_node(g, OP_RELU, NULL, &w3, 1)};
    ir_graph_add_output(g, cgtest_node(g, OP_LINEAR, NULL, in, 2));
    return g;
}

/* Param weights run packed; the computed one the in-place kernel. */
void text_linear32(const Graph *g, const char *text, int *failures)
{
    (void)g;
    static const char *const need[] = {"nasc_rt_linear_pk(", "nasc_rt_linear(",
                                       "static const float pk_fc0_weight[11100]"};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (!strstr(text, need[i])) {
            fprintf(stderr, "linear32: '%s' is missing\n", need[i]);
            (*failures)++;
        }
}

