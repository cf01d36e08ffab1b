/* wide.c — test_emit_c cases of the bilinear resize's column blocks and the
 * pointwise tiles' weight prefetch (codegen/emit_c_kernels.c).
 *
 * "resize_wide": resizes only (plus concat), so the emitted C must equal the
 * interpreter bit for bit. x [2,3,6,70]: up to 23x300 (a block of 256
 * columns and one of 44; input rows shared by consecutive output rows, so
 * the kept column mixes are reused and swapped), with align_corners up to
 * 13x257 (a last block of one column), down to 4x33 (output rows that read
 * the same input row twice, and rows skipped) and back up to 23x300.
 *
 * "pw_prefetch": 1x1 convs with 37 input channels and 13 output channels
 * (two tiles of 6, so the first prefetches the second's weights, then one
 * row) and 25 (four tiles and a row) on 7x7 (49 positions: a column tile
 * moved back), 8x12 (96: three tiles) and 4x5 (20: under one tile) maps,
 * with and without bias, pre=relu and the fused relu / addend forms, batch 2;
 * and 31 (8x12, pre, addend and relu); 12 on 7x7 from 1030 channels (pre,
 * relu); 25 on 6x6 (36 positions: a last column block of 4 new ones, the
 * 16-wide tile; relu, and pre + addend + relu). On AVX-512 hosts the
 * vector path's tiles of 12 (13 = 12 + 1, 25 = 2 x 12 + 1, 31 = 2 x 12 + 6
 * + 1; pre forms on relu(x) gathered once per column block, but on x itself
 * when c > 1024), which test_emit_c builds natively with and without
 * NASC_RT_PORTABLE and compares bit for bit. Outputs resized to 7x7 and
 * concatenated.
 *
 * "pw_packed": 1x1 convs that run on weights packed [oc / 12][c][12]
 * (codegen/emit_c_pwp.c: oc % 12 == 0, hw % 32 == 17): all eight fusion
 * forms on 7x7 (49 = 32 + 17) with 12 and 24 outputs (two channel blocks,
 * the first prefetching the second), with and without bias, from 40
 * channels; on 9x9 (81: two full blocks and one of 17) from 300 channels
 * (pre, addend, relu), batch 2. Beside them a 12-output conv on 8x8 (64
 * positions) and one on 7x7 from 1030 channels (pre), which keep the plain
 * kernel. Every weight is random, so a lane or channel mixed up by the
 * packing or the 17-position tile's column changes the outputs the
 * interpreter checks; the native builds with and without NASC_RT_PORTABLE
 * must agree bit for bit.
 */
#include "tests/codegen/cases.h"
#include "tests/codegen/emit_util.h"

#include <stdio.h>
#include <string.h>

static uint64_t rng;

static ValueId resize(Graph *g, ValueId x, int oh, int ow, int align_corners)
{
    Attrs a = {.resize = {{oh, ow}, align_corners}};
    return cgtest_node(g, OP_RESIZE_BILINEAR, &a, &x, 1);
}

Graph *build_resize_wide(Arena *ar)
{
    Graph *g = ir_graph_new(ar, "resize_wide");
    ValueId x = ir_graph_add_input(g, shape4(2, 3, 6, 70), "x");
    ValueId up = resize(g, x, 23, 300, 0);
    ValueId ac = resize(g, resize(g, x, 13, 257, 1), 23, 300, 0);
    ValueId back = resize(g, resize(g, x, 4, 33, 0), 23, 300, 1);
    ValueId cat[] = {up, ac, back};
    ir_graph_add_output(g, cgtest_node(g, OP_CONCAT, NULL, cat, 3));
    return g;
}

/* The wide resizes run the blocked kernel, and every table is emitted. */
void text_resize_wide(const Graph *g, const char *text, int *failures)
{
    (void)g;
    static const char *const need[] = {
        "static void nasc_rt_resize_row(", "static const int rsz_70_300_ac0_i0[300]",
        "static const int rsz_70_257_ac1_i1[257]", "static const float rsz_33_300_ac1_l[300]"};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (!strstr(text, need[i])) {
            fprintf(stderr, "resize_wide: '%s' is missing\n", need[i]);
            (*failures)++;
        }
}

/* A 1x1 conv `name` (stride 1, no padding) with oc outputs; pre relu,
 * addend r (0: none) and act fused. */
static ValueId pw(Graph *g, ValueId x, const char *name, int64_t oc, bool bias, bool pre,
                  ValueId r, int act)
{
    char wn[64], bn[64];
    snprintf(wn, sizeof wn, "%s.weight", name);
    snprintf(bn, sizeof bn, "%s.bias", name);
    Attrs a = {.conv = {.stride = {1, 1}, .dilation = {1, 1}, .groups = 1,
                        .pre = pre ? ACT_RELU : ACT_NONE, .addend = r != 0, .act = act}};
    ValueId in[4] = {x, cgtest_param(g, wn, shape4(oc, g->vals[x].shape.d[1], 1, 1), 0.5f, &rng)};
    uint32_t n = 2;
    if (bias)
        in[n++] = cgtest_param(g, bn, shape_make(1, &oc), 0.5f, &rng);
    if (r)
        in[n++] = r;
    return cgtest_node(g, OP_CONV2D, &a, in, n);
}

Graph *build_pw_prefetch(Arena *ar)
{
    rng = 0x9f3e7c1ull;
    Graph *g = ir_graph_new(ar, "pw_prefetch");
    ValueId x = ir_graph_add_input(g, shape4(2, 37, 8, 12), "x");
    Attrs c7 = {.crop = {1, 5}};
    ValueId x7 = cgtest_node(g, OP_CROP, &c7, &x, 1);
    Attrs r7 = {.resize = {{7, 7}, 0}};
    x7 = cgtest_node(g, OP_RESIZE_BILINEAR, &r7, &x7, 1); /* 7x7 */
    Attrs r4 = {.resize = {{4, 5}, 0}};
    ValueId x4 = cgtest_node(g, OP_RESIZE_BILINEAR, &r4, &x, 1); /* 4x5 */
    ValueId a = pw(g, x7, "a", 13, true, false, 0, ACT_NONE);
    ValueId b = pw(g, x7, "b", 25, false, true, 0, ACT_RELU);
    ValueId c = pw(g, x7, "c", 13, true, true, a, ACT_NONE);
    ValueId d = pw(g, x, "d", 25, true, false, 0, ACT_RELU);
    ValueId e = pw(g, x, "e", 13, true, true, 0, ACT_NONE);
    ValueId f = pw(g, x4, "f", 13, true, false, 0, ACT_NONE);
    ValueId h = pw(g, x, "h", 31, true, true, pw(g, x, "hr", 31, false, false, 0, ACT_NONE),
                   ACT_RELU);
    /* pre with c = 1030 > 1024: the vector path's _pre tile, not the gather */
    ValueId k = pw(g, pw(g, x7, "kw", 1030, false, false, 0, ACT_NONE), "k", 12, true, true, 0,
                   ACT_RELU);
    /* 6x6 = 36 positions: the last column block has 4 new ones (16-wide tile) */
    ValueId x6 = resize(g, x, 6, 6, 0);
    ValueId m = pw(g, x6, "m", 25, true, false, 0, ACT_RELU);
    ValueId m2 = pw(g, x6, "m2", 25, true, true, m, ACT_RELU);
    ValueId cat[] = {a, b, c, resize(g, d, 7, 7, 0), resize(g, e, 7, 7, 0),
                     resize(g, f, 7, 7, 0), resize(g, h, 7, 7, 0), k,
                     resize(g, m, 7, 7, 0), resize(g, m2, 7, 7, 0)};
    ir_graph_add_output(g, cgtest_node(g, OP_CONCAT, NULL, cat, sizeof cat / sizeof cat[0]));
    return g;
}

/* The 1x1 convs run the tiled kernels, whose tiles prefetch. */
void text_pw_prefetch(const Graph *g, const char *text, int *failures)
{
    (void)g;
    static const char *const need[] = {"nasc_rt_conv2d_1x1(", "nasc_rt_conv2d_1x1_pre_relu(",
                                       "nasc_rt_conv2d_1x1_pre_add(", "nasc_rt_conv2d_1x1_relu(",
                                       "nasc_rt_conv2d_1x1_pre(", "NASC_RT_PREFETCH(nw + k)",
                                       "nasc_rt_conv2d_1x1_pre_add_relu(",
                                       "static void nasc_rt_pw_tile12(",
                                       "static void nasc_rt_pw_tile12_pre(",
                                       "nasc_rt_pw_tile12(col, ", "float col[1024 * 32];",
                                       "nasc_rt_pw_tile12_pre(x + j, ",
                                       "static void nasc_rt_pw_tile12_16("};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (!strstr(text, need[i])) {
            fprintf(stderr, "pw_prefetch: '%s' is missing\n", need[i]);
            (*failures)++;
        }
}

Graph *build_pw_packed(Arena *ar)
{
    rng = 0x51ab7e3ull;
    Graph *g = ir_graph_new(ar, "pw_packed");
    ValueId x = ir_graph_add_input(g, shape4(2, 40, 7, 7), "x");
    ValueId a = pw(g, x, "a", 24, true, false, 0, ACT_NONE);
    ValueId b = pw(g, x, "b", 12, false, false, 0, ACT_RELU);
    ValueId c = pw(g, x, "c", 24, true, false, a, ACT_NONE);
    ValueId d = pw(g, x, "d", 24, true, false, c, ACT_RELU);
    ValueId e = pw(g, d, "e", 12, true, true, 0, ACT_NONE);
    ValueId f = pw(g, d, "f", 24, false, true, 0, ACT_RELU);
    ValueId h = pw(g, a, "h", 24, true, true, d, ACT_NONE);
    ValueId k = pw(g, a, "k", 24, true, true, h, ACT_RELU);
    ValueId x9 = resize(g, pw(g, k, "up", 300, true, false, 0, ACT_NONE), 9, 9, 0);
    ValueId m = pw(g, x9, "m", 36, true, true, pw(g, x9, "mr", 36, false, false, 0, ACT_NONE),
                   ACT_RELU);
    ValueId x8 = resize(g, x, 8, 8, 0);
    ValueId n = pw(g, x8, "n", 12, true, false, 0, ACT_RELU); /* 64 positions: plain */
    ValueId q = pw(g, pw(g, x, "qw", 1030, false, false, 0, ACT_NONE), "q", 12, true, true, 0,
                   ACT_NONE); /* c > 1024: plain */
    ValueId cat[] = {a, b, c, d, e, f, h, k, resize(g, m, 7, 7, 0), resize(g, n, 7, 7, 0), q};
    ir_graph_add_output(g, cgtest_node(g, OP_CONCAT, NULL, cat, sizeof cat / sizeof cat[0]));
    return g;
}

/* The eight forms run packed, with both vector tiles; the 8x8 and
 * 1030-channel convs keep the plain kernel and weights. */
void text_pw_packed(const Graph *g, const char *text, int *failures)
{
    (void)g;
    static const char *const need[] = {
        "nasc_rt_conv2d_1x1p(", "nasc_rt_conv2d_1x1p_relu(", "nasc_rt_conv2d_1x1p_add(",
        "nasc_rt_conv2d_1x1p_add_relu(", "nasc_rt_conv2d_1x1p_pre(",
        "nasc_rt_conv2d_1x1p_pre_relu(", "nasc_rt_conv2d_1x1p_pre_add(",
        "nasc_rt_conv2d_1x1p_pre_add_relu(", "static void nasc_rt_pwp_tile12(",
        "static void nasc_rt_pwp_tile12_17(", "the weights of m.weight packed by nasc",
        "[oc / 12][c][12], then 4 zeros */", "nasc_rt_conv2d_1x1_relu(",
        "nasc_rt_conv2d_1x1_pre(", "float w_n_weight[480]", "float w_q_weight[12360]"};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (!strstr(text, need[i])) {
            fprintf(stderr, "pw_packed: '%s' is missing\n", need[i]);
            (*failures)++;
        }
    if (strstr(text, "float w_m_weight[")) {
        fprintf(stderr, "pw_packed: m.weight is emitted plain as well as packed\n");
        (*failures)++;
    }
}
