/* cases.c — graphs for test_emit_c, built with the ir.h API and seeded
 * random weights, chosen so that together they reach every emitter and
 * kernel variant: generic / pointwise / depthwise / channel-multiplier
 * convolution with stride 2, dilation 2, groups and asymmetric padding;
 * max and avg pooling (count_include_pad 0 and 1, asymmetric pads,
 * non-square windows); batchnorm with and without affine params; relu,
 * leaky_relu (slopes 0.01, -0.5, 0, 1e-45, in place and not), add,
 * zero, crop, concat of 3 to 5 operands, gavgpool, linear on rank 2 and
 * rank 4 inputs; bilinear resize up, down, non-integer, from 1x1 and with
 * shared tap tables, both align_corners; an ASPP head whose dilation 18
 * exceeds its 5x5 map; the fast kernels' edge cases (pointwise tiles that
 * overlap or do not fit, every specialised depthwise kernel, borders wider
 * than the interior, 1x1 maps; every specialised 3x3 pooling kernel on odd,
 * even, 2x2 and 1x1 maps with symmetric and asymmetric pads, compared
 * exactly); every dense-kernel geometry (see build_dense, build_dense16,
 * build_dense_random); every specialised depthwise kernel on 3x3, 2x2 and
 * 1x1 maps and on rows that fill or overflow its buffer (see build_dw); an
 * output that is the input itself; colliding and hostile names; float
 * literals that must round-trip exactly.
 */
#include "tests/codegen/cases.h"
#include "tests/codegen/emit_util.h"
#include "codegen/codegen.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng;

static float frand(void)
{
    return cgtest_frand(&rng);
}

static ValueId param(Graph *g, const char *name, Shape s, float lo, float hi)
{
    ValueId v = ir_graph_add_param(g, s, name, (Loc){0});
    int64_t n = shape_numel(&s);
    float *p = arena_calloc(g->arena, (size_t)n, sizeof *p);
    for (int64_t i = 0; i < n; i++)
        p[i] = lo + (hi - lo) * (frand() + 1) / 2;
    g->vals[v].data = p;
    return v;
}

static ValueId node_n(Graph *g, Op op, const Attrs *a, const ValueId *in, uint32_t nin)
{
    return cgtest_node(g, op, a, in, nin);
}

#define NODE(g, op, a, ...)                                                         \
    node_n(g, op, a, (const ValueId[]){__VA_ARGS__},                                \
           (uint32_t)(sizeof((const ValueId[]){__VA_ARGS__}) / sizeof(ValueId)))

static Attrs conv_a(int sh, int sw, int pt, int pl, int pb, int pr, int dh, int dw, int groups)
{
    Attrs a = {.conv = {.stride = {sh, sw}, .pad = {pt, pl, pb, pr},
                        .dilation = {dh, dw}, .groups = groups}};
    return a;
}

static Attrs pool_a(int kh, int kw, int sh, int sw, int pt, int pl, int pb, int pr, int cip)
{
    Attrs a = {.pool = {{kh, kw}, {sh, sw}, {pt, pl, pb, pr}, cip}};
    return a;
}

/* conv with weight "<name>.weight" and optionally "<name>.bias". */
static ValueId conv(Graph *g, ValueId x, const char *name, int64_t oc, int kh, int kw,
                    Attrs a, bool bias)
{
    char wn[128], bn[128];
    int64_t icg = g->vals[x].shape.d[1] / a.conv.groups;
    snprintf(wn, sizeof wn, "%s.weight", name);
    snprintf(bn, sizeof bn, "%s.bias", name);
    ValueId w = param(g, wn, shape4(oc, icg, kh, kw), -0.5f, 0.5f);
    if (!bias)
        return NODE(g, OP_CONV2D, &a, x, w);
    return NODE(g, OP_CONV2D, &a, x, w, param(g, bn, shape_make(1, &oc), -0.5f, 0.5f));
}

/* Eval-mode BN with params named as torch's BatchNorm2d state_dict. */
static ValueId bnorm(Graph *g, ValueId x, const char *name, bool affine, float eps)
{
    char n[4][128];
    static const char *const suffix[4] = {"running_mean", "running_var", "weight", "bias"};
    int64_t c = g->vals[x].shape.d[1];
    Shape s = shape_make(1, &c);
    for (int i = 0; i < 4; i++)
        snprintf(n[i], sizeof n[i], "%s.%s", name, suffix[i]);
    Attrs a = {.bn = {eps}};
    ValueId mean = param(g, n[0], s, -1, 1), var = param(g, n[1], s, 0.25f, 2);
    if (!affine)
        return NODE(g, OP_BATCHNORM, &a, x, mean, var);
    return NODE(g, OP_BATCHNORM, &a, x, mean, var, param(g, n[2], s, 0.5f, 1.5f),
                param(g, n[3], s, -0.5f, 0.5f));
}

static ValueId gap(Graph *g, ValueId x)
{
    return NODE(g, OP_GAVGPOOL, NULL, x);
}

/* Every op and variant in one net: x [2,4,9,9] -> [2,10]. */
static Graph *build_mixed(Arena *ar)
{
    rng = 0x1234567ull;
    Graph *g = ir_graph_new(ar, "mixed");
    ValueId x = ir_graph_add_input(g, shape4(2, 4, 9, 9), "x");
    ValueId c1 = conv(g, x, "stem.conv", 6, 3, 3, conv_a(1, 1, 1, 1, 1, 1, 1, 1, 1), true);
    ValueId r1 = NODE(g, OP_RELU, NULL, bnorm(g, c1, "stem.bn", true, 1e-5f));
    ir_value_set_name(g, r1, "stem");
    /* depthwise, dilation 2 */
    ValueId d1 = conv(g, r1, "dw", 6, 3, 3, conv_a(1, 1, 2, 2, 2, 2, 2, 2, 6), true);
    ValueId p1 = conv(g, d1, "pw", 8, 1, 1, conv_a(1, 1, 0, 0, 0, 0, 1, 1, 1), false);
    /* stride 2, groups 2, asymmetric pad -> [2,8,4,4] */
    ValueId s1 = conv(g, p1, "s2", 8, 3, 3, conv_a(2, 2, 0, 1, 1, 0, 1, 1, 2), true);
    /* dilation (2,1), no bias -> [2,4,9,9]; channel multiplier 2 -> [2,12,9,9] */
    ValueId g2 = conv(g, r1, "dil", 4, 3, 3, conv_a(1, 1, 2, 1, 2, 1, 2, 1, 1), false);
    ValueId g3 = conv(g, r1, "mult", 12, 3, 3, conv_a(1, 1, 1, 1, 1, 1, 1, 1, 6), true);
    Attrs mp = pool_a(3, 3, 2, 2, 1, 1, 1, 1, 0), ap0 = mp, ap1 = pool_a(3, 3, 1, 1, 1, 1, 1, 1, 1);
    Attrs ap2 = pool_a(2, 2, 2, 2, 1, 0, 0, 1, 1), mp2 = pool_a(3, 2, 2, 1, 1, 0, 1, 1, 0);
    ValueId m1 = NODE(g, OP_MAXPOOL2D, &mp, p1), a1 = NODE(g, OP_AVGPOOL2D, &ap0, p1);
    ValueId a2 = NODE(g, OP_AVGPOOL2D, &ap1, p1), a3 = NODE(g, OP_AVGPOOL2D, &ap2, p1);
    ValueId m2 = NODE(g, OP_MAXPOOL2D, &mp2, p1); /* [2,8,5,9] */
    Attrs z = {.zero = {2}}, cr1 = {.crop = {1, 1}}, cr2 = {.crop = {2, 0}};
    ValueId z1 = NODE(g, OP_ZERO, &z, p1);
    ValueId e2 = NODE(g, OP_ADD, NULL, NODE(g, OP_ADD, NULL, m1, a1), a3);
    ValueId cat = NODE(g, OP_CONCAT, NULL, e2, z1, m1);  /* [2,24,5,5] */
    ValueId cr = NODE(g, OP_CROP, &cr1, cat);             /* [2,24,4,4] */
    ValueId e3 = NODE(g, OP_ADD, NULL, cr, NODE(g, OP_CONCAT, NULL, s1, s1, s1));
    ValueId b2 = bnorm(g, e3, "cells.0._ops.1.bn", false, 1e-3f);
    ValueId a2c = NODE(g, OP_CROP, &cr2, a2);             /* [2,8,7,9] */
    ValueId feat = NODE(g, OP_CONCAT, NULL, gap(g, b2), gap(g, a2c), gap(g, m2), gap(g, g2),
                        gap(g, g3));                      /* [2,56,1,1] */
    ir_value_set_name(g, feat, "global_pooling");
    ValueId y = NODE(g, OP_LINEAR, NULL, feat, param(g, "classifier.weight",
                     shape_make(2, (int64_t[]){10, 56}), -0.5f, 0.5f),
                     param(g, "classifier.bias", shape_make(1, (int64_t[]){10}), -0.5f, 0.5f));
    ir_graph_add_output(g, y);
    return g;
}

/* FactorizedReduce-like, with an unread result; the output (rank 4) is
 * written by a batchnorm. */
static Graph *build_reduce(Arena *ar)
{
    rng = 0xabcdefull;
    Graph *g = ir_graph_new(ar, "reduce");
    ValueId x = ir_graph_add_input(g, shape4(1, 6, 8, 8), NULL);
    ValueId r = NODE(g, OP_RELU, NULL, x);
    NODE(g, OP_RELU, NULL, x); /* dead: still emitted, still gets its own bytes */
    Attrs cr = {.crop = {1, 1}};
    Attrs s2 = conv_a(2, 2, 0, 0, 0, 0, 1, 1, 1);
    ValueId c1 = conv(g, r, "reduce.conv_1", 3, 1, 1, s2, false);
    ValueId c2 = conv(g, NODE(g, OP_CROP, &cr, r), "reduce.conv_2", 3, 1, 1, s2, false);
    ValueId y = bnorm(g, NODE(g, OP_CONCAT, NULL, c1, c2), "reduce.bn", true, 1e-5f);
    ir_graph_add_output(g, y);
    return g;
}

static Graph *build_identity(Arena *ar)
{
    Graph *g = ir_graph_new(ar, "identity");
    ir_graph_add_output(g, ir_graph_add_input(g, shape4(1, 2, 3, 3), "x"));
    return g;
}

/* Rank-2 input, names that collide after sanitizing, a name that tries to
 * close the comment and start a trigraph, a mixed-case symbol prefix. */
static Graph *build_names(Arena *ar)
{
    rng = 0x5eedull;
    Graph *g = ir_graph_new(ar, "names*/");
    ValueId x = ir_graph_add_input(g, shape_make(2, (int64_t[]){3, 5}), "feat */ /*");
    ValueId h = NODE(g, OP_LINEAR, NULL, x,
                     param(g, "fc.weight", shape_make(2, (int64_t[]){4, 5}), -1, 1),
                     param(g, "fc.bias", shape_make(1, (int64_t[]){4}), -1, 1));
    h = NODE(g, OP_RELU, NULL, h);
    ir_value_set_name(g, h, "hidden ?\?/ \\");
    ValueId y = NODE(g, OP_LINEAR, NULL, h,
                     param(g, "fc_weight", shape_make(2, (int64_t[]){2, 4}), -1, 1),
                     param(g, "evil*/ name ?\?/\n/*", shape_make(1, (int64_t[]){2}), -1, 1));
    ir_graph_add_output(g, y);
    return g;
}

/* The input only gives a shape: the emitted run never reads it. */
static Graph *build_unread(Arena *ar)
{
    Graph *g = ir_graph_new(ar, "unread");
    Attrs z = {.zero = {3}};
    ir_graph_add_output(g, NODE(g, OP_ZERO, &z, ir_graph_add_input(g, shape4(2, 3, 7, 5), "x")));
    return g;
}

static const float literal_values[8] = {1.0f, -0.0f, 2.0f, 1e8f, 1e-45f, FLT_MAX, 0.1f, -1e10f};

/* Zero input: the output is exactly the bias, which holds hard literals. */
static Graph *build_literals(Arena *ar)
{
    rng = 0x11ull;
    Graph *g = ir_graph_new(ar, "literals");
    ValueId x = ir_graph_add_input(g, shape_make(2, (int64_t[]){1, 8}), "x");
    ValueId b = param(g, "fc.bias", shape_make(1, (int64_t[]){8}), 0, 0);
    memcpy(g->vals[b].data, literal_values, sizeof literal_values);
    ValueId y = NODE(g, OP_LINEAR, NULL, x,
                     param(g, "fc.weight", shape_make(2, (int64_t[]){8, 8}), -1, 1), b);
    ir_graph_add_output(g, y);
    return g;
}

static ValueId resize(Graph *g, ValueId x, int oh, int ow, int align_corners)
{
    Attrs a = {.resize = {{oh, ow}, align_corners}};
    return NODE(g, OP_RESIZE_BILINEAR, &a, x);
}

/* Resizes only (plus gavgpool, add, concat, whose kernels equal runtime/ref
 * bit for bit), so the emitted C must equal the interpreter exactly:
 * x [2,3,5,7] -> [2,9,13,11]. 5x7 -> 7x5 -> 5x7 reuses the 5->7 and 7->5
 * tables across H and W; the gavgpool -> 13x11 branch is a broadcast. */
static Graph *build_resize(Arena *ar)
{
    Graph *g = ir_graph_new(ar, "resize");
    ValueId x = ir_graph_add_input(g, shape4(2, 3, 5, 7), "x");
    ValueId up = resize(g, x, 13, 11, 0);                  /* non-integer up */
    ValueId bcast = resize(g, gap(g, x), 13, 11, 1);       /* 1x1 -> 13x11 */
    ValueId down = resize(g, resize(g, x, 3, 3, 1), 13, 11, 0);
    ValueId there = resize(g, resize(g, x, 7, 5, 0), 5, 7, 0);
    ir_value_set_name(g, there, "there_and_back");
    ValueId y = NODE(g, OP_CONCAT, NULL, NODE(g, OP_ADD, NULL, up, bcast), down,
                     resize(g, there, 13, 11, 0));
    ir_graph_add_output(g, y);
    return g;
}

/* Auto-DeepLab's ASPP on a 5x5 map: 1x1 conv, 3x3 convs with dilation 6
 * and 18 (padding = dilation: every tap but the centre of the dilation-18
 * kernel lies wholly in the padding), a depthwise one with dilation 18,
 * image pooling (gavgpool -> 1x1 conv -> bn -> relu -> bilinear back to
 * 5x5), concat, 1x1 projection, then bilinear x3.4 (non-integer) up to
 * 17x17: x [1,8,5,5] -> [1,4,17,17]. */
static Graph *build_aspp(Arena *ar)
{
    rng = 0xa5bbull;
    Graph *g = ir_graph_new(ar, "aspp");
    ValueId x = ir_graph_add_input(g, shape4(1, 8, 5, 5), "x");
    ValueId b0 = conv(g, x, "aspp.c1", 4, 1, 1, conv_a(1, 1, 0, 0, 0, 0, 1, 1, 1), false);
    ValueId b1 = conv(g, x, "aspp.c6", 4, 3, 3, conv_a(1, 1, 6, 6, 6, 6, 6, 6, 1), true);
    ValueId b2 = conv(g, x, "aspp.c18", 4, 3, 3, conv_a(1, 1, 18, 18, 18, 18, 18, 18, 1), true);
    ValueId b3 = conv(g, x, "aspp.dw18", 8, 3, 3,
                      conv_a(1, 1, 18, 18, 18, 18, 18, 18, 8), false);
    ValueId pool = conv(g, gap(g, x), "aspp.pool.conv", 4, 1, 1,
                        conv_a(1, 1, 0, 0, 0, 0, 1, 1, 1), false);
    pool = NODE(g, OP_RELU, NULL, bnorm(g, pool, "aspp.pool.bn", true, 1e-5f));
    ValueId cat = NODE(g, OP_CONCAT, NULL, b0, b1, b2, b3, resize(g, pool, 5, 5, 1));
    ir_value_set_name(g, cat, "aspp");
    ValueId proj = conv(g, cat, "aspp.proj", 4, 1, 1, conv_a(1, 1, 0, 0, 0, 0, 1, 1, 1), true);
    ir_graph_add_output(g, resize(g, proj, 17, 17, 1));
    return g;
}

static ValueId leaky(Graph *g, ValueId x, float slope)
{
    Attrs a = {.leaky = {slope}};
    return NODE(g, OP_LEAKY_RELU, &a, x);
}

/* InPlaceABN's activation and other slopes, over a batchnorm (its only
 * reader: the planner may run it in place) and over the input, read by
 * three nodes. Only ops whose kernels equal runtime/ref bit for bit, so
 * the emitted C must equal the interpreter exactly: x [2,3,5,7] ->
 * [2,12,5,7]. The slope 1e-45 (a denormal) checks the literal. */
static Graph *build_leaky(Arena *ar)
{
    rng = 0x1eafull;
    Graph *g = ir_graph_new(ar, "leaky");
    ValueId x = ir_graph_add_input(g, shape4(2, 3, 5, 7), "x");
    ValueId abn = leaky(g, bnorm(g, x, "stem0.1", true, 1e-5f), 0.01f);
    ir_value_set_name(g, abn, "encoder.stem0");
    ValueId neg = leaky(g, x, -0.5f), zero = leaky(g, x, 0.0f);
    ValueId tiny = leaky(g, NODE(g, OP_ADD, NULL, x, neg), 1e-45f);
    ir_graph_add_output(g, NODE(g, OP_CONCAT, NULL, abn, neg, zero, tiny));
    return g;
}

/* The fast kernels' edge cases: x [2,8,9,37] (9*37 = 333 positions, not a
 * multiple of the 32-wide pointwise tile, so its last tile overlaps).
 * Pointwise 8 -> 13 (two 6-channel tiles and one left-over row), 13 -> 7
 * and 52 -> 9 on 5x19 (95 positions); 8 -> 6 on a 1x1 map (narrower than a
 * tile). Depthwise, every specialisation (3x3 and 5x5, stride 1 and 2,
 * dilation 1 and 2) with and without bias and with asymmetric pads; the
 * 5x5 dilation-2 windows leave one interior row of 9 (borders larger than
 * the interior); 3x3 and 5x5 dilation-2 ones on a 1x1 map, whose every
 * output is border. Output [2,126,9,37]: maps of other sizes are resized
 * to 9x37, so each wrong pixel still shows. */
static Graph *build_kernels(Arena *ar)
{
    rng = 0xfa57ull;
    Graph *g = ir_graph_new(ar, "kernels");
    ValueId x = ir_graph_add_input(g, shape4(2, 8, 9, 37), "x");
    Attrs pw = conv_a(1, 1, 0, 0, 0, 0, 1, 1, 1);
    ValueId t = conv(g, x, "pw1", 13, 1, 1, pw, true);
    ValueId s1[4] = {
        conv(g, t, "dw3d1", 13, 3, 3, conv_a(1, 1, 0, 1, 2, 1, 1, 1, 13), true),
        conv(g, t, "dw3d2", 13, 3, 3, conv_a(1, 1, 2, 2, 2, 2, 2, 2, 13), false),
        conv(g, t, "dw5d1", 13, 5, 5, conv_a(1, 1, 2, 2, 2, 2, 1, 1, 13), true),
        conv(g, t, "dw5d2", 13, 5, 5, conv_a(1, 1, 4, 4, 4, 4, 2, 2, 13), true)};
    ValueId s2[4] = {
        conv(g, t, "dw3s2d1", 13, 3, 3, conv_a(2, 2, 1, 0, 1, 2, 1, 1, 13), false),
        conv(g, t, "dw3s2d2", 13, 3, 3, conv_a(2, 2, 2, 2, 2, 2, 2, 2, 13), true),
        conv(g, t, "dw5s2d1", 13, 5, 5, conv_a(2, 2, 2, 2, 2, 2, 1, 1, 13), true),
        conv(g, t, "dw5s2d2", 13, 5, 5, conv_a(2, 2, 4, 4, 4, 4, 2, 2, 13), false)};
    ValueId c1 = NODE(g, OP_CONCAT, NULL, s1[0], s1[1], s1[2], s1[3]); /* [2,52,9,37] */
    ValueId c2 = NODE(g, OP_CONCAT, NULL, s2[0], s2[1], s2[2], s2[3]); /* [2,52,5,19] */
    ValueId p1 = conv(g, c1, "pw2", 7, 1, 1, pw, true);
    ValueId p2 = conv(g, c2, "pw3", 9, 1, 1, pw, false);
    ValueId one = gap(g, x); /* [2,8,1,1] */
    one = conv(g, one, "dw1x1a", 8, 3, 3, conv_a(1, 1, 2, 2, 2, 2, 2, 2, 8), true);
    one = conv(g, one, "dw1x1b", 8, 5, 5, conv_a(1, 1, 4, 4, 4, 4, 2, 2, 8), true);
    one = conv(g, one, "pw4", 6, 1, 1, pw, true);
    ValueId y = NODE(g, OP_CONCAT, NULL, c1, p1, resize(g, c2, 9, 37, 0), resize(g, p2, 9, 37, 0),
                     resize(g, one, 9, 37, 0));
    ir_graph_add_output(g, y);
    return g;
}

/* Every specialised depthwise kernel (variant v: K = 5 if v & 4, S = 2 if
 * v & 2, D = 2 if v & 1) on a 9x14 map (rows of 14 outputs are computed
 * over 16, and of 7 over 8), with "same" pads and asymmetric ones, and on
 * 3x3, 2x2 and 1x1 maps (every output a border one); batch 2, some with a
 * bias. A 5x5 dilation-2 conv on a 9x88 map whose nine staged rows fill
 * the kernel's buffer (nine bands of one row) and one on 9x96 that does not
 * fit it (the generic kernel). test_dw_kernels compiles this case's file
 * again to compare the specialised kernels with the generic one bit for
 * bit. Output [2,126,9,14]: every map is resized to 9x14. */
static Graph *build_dw(Arena *ar)
{
    rng = 0xd3e5ull;
    Graph *g = ir_graph_new(ar, "dw");
    ValueId x = ir_graph_add_input(g, shape4(2, 3, 9, 14), "x");
    Attrs crop[3] = {{.crop = {6, 11}}, {.crop = {7, 12}}, {.crop = {8, 13}}};
    ValueId maps[4] = {x, NODE(g, OP_CROP, &crop[0], x), NODE(g, OP_CROP, &crop[1], x),
                       NODE(g, OP_CROP, &crop[2], x)};
    ValueId out[42];
    uint32_t n = 0;
    for (int m = 0; m < 4; m++)
        for (int v = 0; v < (m ? 8 : 16); v++) {
            int k = v & 4 ? 5 : 3, s = v & 2 ? 2 : 1, d = v & 1 ? 2 : 1, p = (k - 1) * d / 2;
            Attrs a = v < 8 ? conv_a(s, s, p, p, p, p, d, d, 3)
                            : conv_a(s, s, 0, 2 * p, p, 0, d, d, 3);
            char name[32];
            snprintf(name, sizeof name, "dw%d_%d", m, v);
            out[n++] = resize(g, conv(g, maps[m], name, 3, k, k, a, v % 3 != 0), 9, 14, 0);
        }
    Attrs wide = conv_a(1, 1, 4, 4, 4, 4, 2, 2, 3);
    out[n++] = resize(g, conv(g, resize(g, x, 9, 88, 0), "dw88", 3, 5, 5, wide, true), 9, 14, 0);
    out[n++] = resize(g, conv(g, resize(g, x, 9, 96, 0), "dw96", 3, 5, 5, wide, true), 9, 14, 0);
    ir_graph_add_output(g, node_n(g, OP_CONCAT, NULL, out, n));
    return g;
}

/* The dense kernels (groups 1, emit_c_conv.c): 3x3 and 5x5, stride 1 and 2
 * (also different per axis), dilation 1, 2, 6, 12 and 24 (12 leaves an
 * interior narrower than a tile, 24 exceeds the 19x18 map so every output
 * is border), symmetric and asymmetric pads, output channels 13, 10, 7, 5
 * (not multiples of the 4-channel tile), odd and even maps (37x35: the last
 * interior row pair overlaps the one before), with and without bias, a 1x1
 * stride-2 conv (DARTS' FactorizedReduce: the strided pointwise kernel, see
 * strided.c), batch 2. Outputs are resized to
 * 37x35 and concatenated; they must match the interpreter within the usual
 * tolerance (the kernels keep its summation order; only contraction differs). */
static Graph *build_dense(Arena *ar)
{
    rng = 0xde45eull;
    Graph *g = ir_graph_new(ar, "dense");
    ValueId x = ir_graph_add_input(g, shape4(2, 9, 37, 35), "x");
    ValueId a[6] = {
        conv(g, x, "d3", 13, 3, 3, conv_a(1, 1, 1, 1, 1, 1, 1, 1, 1), true),
        conv(g, x, "d3asym", 8, 3, 3, conv_a(1, 1, 0, 2, 1, 1, 1, 1, 1), false),
        conv(g, x, "d5d2", 6, 5, 5, conv_a(1, 1, 4, 4, 4, 4, 2, 2, 1), true),
        conv(g, x, "d3d6", 7, 3, 3, conv_a(1, 1, 6, 6, 6, 6, 6, 6, 1), true),
        conv(g, x, "d3d12", 7, 3, 3, conv_a(1, 1, 12, 12, 12, 12, 12, 12, 1), false),
        conv(g, x, "d3s12", 4, 3, 3, conv_a(2, 1, 1, 1, 1, 1, 1, 1, 1), true)};
    ValueId s = conv(g, x, "d3s2", 10, 3, 3, conv_a(2, 2, 1, 1, 1, 1, 1, 1, 1), false);
    ValueId b[5] = {
        conv(g, x, "d5s2", 5, 5, 5, conv_a(2, 2, 2, 1, 2, 3, 1, 1, 1), true),
        conv(g, x, "d3s21", 4, 3, 3, conv_a(1, 2, 1, 1, 1, 1, 1, 1, 1), false),
        conv(g, x, "fr", 4, 1, 1, conv_a(2, 2, 0, 0, 0, 0, 1, 1, 1), false),
        conv(g, s, "d3d24", 5, 3, 3, conv_a(1, 1, 24, 24, 24, 24, 24, 24, 1), true),
        conv(g, s, "d3d6s", 5, 3, 3, conv_a(1, 1, 6, 6, 6, 6, 6, 6, 1), false)};
    ValueId y = NODE(g, OP_CONCAT, NULL, a[0], resize(g, a[1], 37, 35, 0), a[2], a[3], a[4],
                     resize(g, a[5], 37, 35, 0),
                     resize(g, s, 37, 35, 0), resize(g, b[0], 37, 35, 0),
                     resize(g, b[1], 37, 35, 0), resize(g, b[2], 37, 35, 0),
                     resize(g, b[3], 37, 35, 0), resize(g, b[4], 37, 35, 0));
    ir_graph_add_output(g, y);
    return g;
}

/* The dense kernels' blocks with 16 or more output channels (20, 24, 17:
 * the last 8- and 16-channel blocks move back) on a 41x40 map: tiles over
 * the interior and over border segments 16 wide (dilations 16 and 12), strips
 * for pad columns, 2- and 8-wide segments and the last 2 columns of a
 * 34-wide interior (crop to 36x36), edge blocks for 1-row segments, 9-row
 * segments (too short for strips) and 12-wide ones, vertical stride 2 (no
 * strips), a 7x7 and a 5x5 dilation-2 filter, asymmetric pads, a 1x1 conv
 * with pad 2 (border outputs are the bias alone) and stride 2; and, with 5
 * and 7 channels (all edge blocks), taps that read inside for the last
 * column of a block only (1x2 filters 15 and 30 columns wide, strides 1 and
 * 2). Outputs are resized to 41x40 and concatenated. */
static Graph *build_dense16(Arena *ar)
{
    rng = 0xd16ull;
    Graph *g = ir_graph_new(ar, "dense16");
    ValueId x = ir_graph_add_input(g, shape4(1, 6, 41, 40), "x");
    Attrs crop = {.crop = {5, 4}};
    ValueId y[13] = {
        conv(g, x, "t3", 20, 3, 3, conv_a(1, 1, 1, 1, 1, 1, 1, 1, 1), true),
        conv(g, NODE(g, OP_CROP, &crop, x), "t3c", 16, 3, 3, conv_a(1, 1, 1, 1, 1, 1, 1, 1, 1),
             false),
        conv(g, x, "d16", 16, 3, 3, conv_a(1, 1, 16, 16, 16, 16, 16, 16, 1), true),
        conv(g, x, "d12", 24, 3, 3, conv_a(1, 1, 12, 12, 12, 12, 12, 12, 1), false),
        conv(g, x, "s21", 17, 3, 3, conv_a(2, 1, 1, 1, 1, 1, 1, 1, 1), true),
        conv(g, x, "k7", 16, 7, 7, conv_a(1, 1, 3, 3, 3, 3, 1, 1, 1), false),
        conv(g, x, "k5d2", 17, 5, 5, conv_a(1, 1, 4, 4, 4, 4, 2, 2, 1), true),
        conv(g, x, "asym", 16, 3, 3, conv_a(1, 1, 0, 2, 2, 0, 1, 1, 1), true),
        conv(g, x, "pad2", 16, 1, 1, conv_a(1, 1, 2, 2, 2, 2, 1, 1, 1), true),
        conv(g, x, "s2", 20, 3, 3, conv_a(2, 2, 1, 1, 1, 1, 1, 1, 1), true),
        conv(g, x, "d2", 16, 3, 3, conv_a(1, 1, 2, 2, 2, 2, 2, 2, 1), false),
        conv(g, x, "l15", 5, 1, 2, conv_a(1, 1, 0, 15, 0, 15, 1, 15, 1), true),
        conv(g, x, "l15s2", 7, 1, 2, conv_a(1, 2, 0, 30, 0, 30, 1, 30, 1), false)};
    for (int i = 0; i < 13; i++)
        y[i] = resize(g, y[i], 41, 40, 0);
    ir_graph_add_output(g, NODE(g, OP_CONCAT, NULL, y[0], y[1], y[2], y[3], y[4], y[5], y[6],
                                y[7], y[8], y[9], y[10], y[11], y[12]));
    return g;
}

/* Seeded random dense convolutions: filters 1 to 5 (also not square),
 * strides 1 and 2 per axis, dilations 1 to 13, pads 0 to beyond the
 * filter's reach, 1 to 35 output channels, on crops of a 29x31 input from
 * 1x1 up; outputs resized to 13x11 and concatenated. */
static Graph *build_dense_random(Arena *ar)
{
    static const int dil[5] = {1, 1, 2, 3, 13};
    rng = 0xfeedbeefull;
    Graph *g = ir_graph_new(ar, "dense_random");
    ValueId x = ir_graph_add_input(g, shape4(1, 5, 29, 31), "x"), y[24];
    int n = 0;
    while (n < 24) {
        int u = (int)((frand() + 1) * 1000000);
        int kh = 1 + u % 5, kw = 1 + u / 5 % 5, sh = 1 + u / 25 % 2, sw = 1 + u / 50 % 2;
        int dh = dil[u / 100 % 5], dw = dil[u / 500 % 5], oc = 1 + u / 2500 % 35;
        int v = (int)((frand() + 1) * 1000000);
        int top = v % 29, left = v / 29 % 31, p[4];
        for (int i = 0; i < 4; i++)
            p[i] = (int)((frand() + 1) * 2) * (i % 2 ? dw : dh);
        int h = 29 - top, w = 31 - left;
        if (h + p[0] + p[2] < (kh - 1) * dh + 1 || w + p[1] + p[3] < (kw - 1) * dw + 1)
            continue; /* no output */
        Attrs crop = {.crop = {top, left}};
        char name[16];
        snprintf(name, sizeof name, "r%d", n);
        ValueId xc = top || left ? NODE(g, OP_CROP, &crop, x) : x;
        Attrs a = conv_a(sh, sw, p[0], p[1], p[2], p[3], dh, dw, 1);
        y[n] = resize(g, conv(g, xc, name, oc, kh, kw, a, n % 2 == 0), 13, 11, 0);
        n++;
    }
    ValueId c0 = NODE(g, OP_CONCAT, NULL, y[0], y[1], y[2], y[3], y[4], y[5], y[6], y[7]);
    ValueId c1 = NODE(g, OP_CONCAT, NULL, y[8], y[9], y[10], y[11], y[12], y[13], y[14], y[15]);
    ValueId c2 = NODE(g, OP_CONCAT, NULL, y[16], y[17], y[18], y[19], y[20], y[21], y[22], y[23]);
    ir_graph_add_output(g, NODE(g, OP_CONCAT, NULL, c0, c1, c2));
    return g;
}

/* The specialised 3x3 pooling kernels (stride 1 and 2; max, avg with and
 * without count_include_pad; DARTS' pad 1 and asymmetric pads) on odd,
 * even, mixed, 2x2 and 1x1 maps (the last two all border): max is exact and
 * avg keeps the generic order and divisor, so the emitted C must equal the
 * interpreter exactly. x [2,3,9,9]; each map's pools are concatenated and
 * resized to 9x9 (resizes are exact too). */
static ValueId pools3(Graph *g, ValueId m, bool asym)
{
    /* avg?, stride, pads top, left, bottom, right, count_include_pad; the
     * first six have pads 1 (one output shape per stride), the rest not,
     * which a 1x1 map cannot take (no output) */
    static const int t[10][7] = {
        {0, 1, 1, 1, 1, 1, 0}, {1, 1, 1, 1, 1, 1, 0}, {1, 1, 1, 1, 1, 1, 1},
        {0, 2, 1, 1, 1, 1, 0}, {1, 2, 1, 1, 1, 1, 0}, {1, 2, 1, 1, 1, 1, 1},
        {0, 1, 1, 0, 0, 1, 0}, {1, 1, 0, 1, 1, 0, 0}, {0, 2, 0, 1, 1, 0, 0},
        {1, 2, 1, 0, 0, 1, 1}};
    ValueId y[10], out[6];
    int n = asym ? 10 : 6, k = 0;
    for (int i = 0; i < n; i++) {
        Attrs a = pool_a(3, 3, t[i][1], t[i][1], t[i][2], t[i][3], t[i][4], t[i][5], t[i][6]);
        y[i] = NODE(g, t[i][0] ? OP_AVGPOOL2D : OP_MAXPOOL2D, &a, m);
    }
    out[k++] = resize(g, NODE(g, OP_CONCAT, NULL, y[0], y[1], y[2]), 9, 9, 0);
    out[k++] = resize(g, NODE(g, OP_CONCAT, NULL, y[3], y[4], y[5]), 9, 9, 0);
    for (int i = 6; i < n; i++)
        out[k++] = resize(g, y[i], 9, 9, 0);
    return asym ? NODE(g, OP_CONCAT, NULL, out[0], out[1], out[2], out[3], out[4], out[5])
                : NODE(g, OP_CONCAT, NULL, out[0], out[1]);
}

/* Output [2,138,9,9]: 30 channels of 9x9 per map, 18 for the 1x1 map. */
static Graph *build_pool3(Arena *ar)
{
    Graph *g = ir_graph_new(ar, "pool3");
    ValueId x = ir_graph_add_input(g, shape4(2, 3, 9, 9), "x");
    Attrs c[4] = {{.crop = {1, 0}}, {.crop = {0, 1}}, {.crop = {7, 7}}, {.crop = {8, 8}}};
    ValueId y = NODE(g, OP_CONCAT, NULL, pools3(g, x, true),          /* 9x9 */
                     pools3(g, NODE(g, OP_CROP, &c[0], x), true),      /* 8x9 */
                     pools3(g, NODE(g, OP_CROP, &c[1], x), true),      /* 9x8 */
                     pools3(g, NODE(g, OP_CROP, &c[2], x), true),      /* 2x2 */
                     pools3(g, NODE(g, OP_CROP, &c[3], x), false));    /* 1x1 */
    ir_graph_add_output(g, y);
    return g;
}

/* Max pools 3x3 (stride 1 and 2, pads 1) on rows of 510 floats, the widest
 * nasc_rt_maxpool3s* take, and of 512, which go to the generic kernel.
 * Output [1,8,3,512]: every map resized to 3x512. */
static Graph *build_pool3_wide(Arena *ar)
{
    Graph *g = ir_graph_new(ar, "pool3_wide");
    ValueId x = ir_graph_add_input(g, shape4(1, 2, 3, 512), "x");
    Attrs crop = {.crop = {0, 2}};
    ValueId m[2] = {x, NODE(g, OP_CROP, &crop, x)}, out[4];
    for (int i = 0; i < 4; i++) {
        Attrs a = pool_a(3, 3, 1 + i % 2, 1 + i % 2, 1, 1, 1, 1, 0);
        out[i] = resize(g, NODE(g, OP_MAXPOOL2D, &a, m[i / 2]), 3, 512, 0);
    }
    ir_graph_add_output(g, NODE(g, OP_CONCAT, NULL, out[0], out[1], out[2], out[3]));
    return g;
}

/* ---- checks on the emitted text ---- */

static void need(const char *text, const char *s, int *failures)
{
    if (!strstr(text, s)) {
        fprintf(stderr, "emitted C lacks '%s'\n", s);
        (*failures)++;
    }
}

/* Every weight array named in `names` reads back bit-for-bit. */
static void check_arrays(const Graph *g, const char *text, int *failures, bool all)
{
    for (ValueId v = 1; v < g->nval; v++) {
        const Value *val = &g->vals[v];
        if (!val->data || !val->name || strpbrk(val->name, "*/?\n"))
            continue;
        char key[160];
        snprintf(key, sizeof key, "/* %s f32[", val->name);
        const char *p = strstr(text, key);
        if (!p) {
            snprintf(key, sizeof key, "the weights of %s packed by nasc", val->name);
            if (all && !strstr(text, key)) { /* packed: checked by value */
                fprintf(stderr, "no array for %s\n", val->name);
                (*failures)++;
            }
            continue;
        }
        p = strstr(p, "= {");
        p = p ? p + 3 : NULL;
        for (int64_t i = 0; p && i < shape_numel(&val->shape); i++) {
            char *end;
            float f = strtof(p, &end);
            if (end == p || *end != 'f' || memcmp(&f, &val->data[i], sizeof f) != 0) {
                fprintf(stderr, "%s[%lld]: %.9g emitted as %.20s\n", val->name, (long long)i,
                        (double)val->data[i], p);
                (*failures)++;
                break;
            }
            p = end + 2; /* past "f," */
        }
    }
}

static void text_mixed(const Graph *g, const char *text, int *failures)
{
    static const char *const want[] = {
        "nasc_rt_conv2d(", "nasc_rt_conv2d_1x1(", "nasc_rt_dw3s1d2(", "nasc_rt_maxpool2d(",
        "nasc_rt_avgpool2d(", "nasc_rt_gavgpool(", "nasc_rt_batchnorm(", "nasc_rt_relu(",
        "nasc_rt_add(", "nasc_rt_copy_channels(", "nasc_rt_crop(", "nasc_rt_zero(",
        "nasc_rt_linear_pk(", "static const float bn_stem_bn_scale[6]",
        " * var: stem.bn.running_var",
        "static const float w_cells_0__ops_1_bn_running_mean[24]", "= conv2d x, stem.conv.weight",
        "(global_pooling) */", ".count_include_pad = 0}"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        need(text, want[i], failures);
    check_arrays(g, text, failures, false);
}

static void text_names(const Graph *g, const char *text, int *failures)
{
    need(text, "static const float pk_fc_weight[20]", failures);
    need(text, "static const float pk_fc_weight_2[8]", failures);
    need(text, "w_evil___name_____", failures);
    check_arrays(g, text, failures, false);
}

static void text_literals(const Graph *g, const char *text, int *failures)
{
    need(text, "1.0f, -0.0f, 2.0f, 100000000.0f, 1.40129846e-45f, 3.40282347e+38f", failures);
    check_arrays(g, text, failures, true);
}

static void text_identity(const Graph *g, const char *text, int *failures)
{
    (void)g;
    need(text, "memcpy(output, input, 18 * sizeof *output);", failures);
}

static void text_unread(const Graph *g, const char *text, int *failures)
{
    (void)g;
    need(text, "(void)input;", failures);
    need(text, "nasc_rt_zero(output, 36);", failures);
}

/* The number of occurrences of s in text. */
static int count(const char *text, const char *s)
{
    int n = 0;
    for (const char *p = strstr(text, s); p; p = strstr(p + 1, s))
        n++;
    return n;
}

/* Each axis triple's tables once, however many resizes use them; the
 * values as rt_resize_taps gives them (5 -> 13, align_corners 0: src =
 * (o + 0.5) * 5/13 - 0.5, clamped at 0). */
static void text_resize(const Graph *g, const char *text, int *failures)
{
    (void)g;
    static const char *const once[] = {
        "static const int rsz_5_13_ac0_i0[13]", "static const int rsz_7_11_ac0_i1[11]",
        "static const float rsz_1_13_ac1_l[13]", "static const int rsz_7_5_ac0_i0[5]",
        "static const int rsz_5_7_ac0_i0[7]", "static const float rsz_3_11_ac0_l[11]",
        "static void nasc_rt_resize_bilinear("};
    for (size_t i = 0; i < sizeof once / sizeof once[0]; i++)
        if (count(text, once[i]) != 1) {
            fprintf(stderr, "emitted C has '%s' %d times, want once\n", once[i],
                    count(text, once[i]));
            (*failures)++;
        }
    need(text, "static const int rsz_5_13_ac0_i0[13] = {\n"
               "    0, 0, 0, 0, 1, 1, 2, 2, 2, 3, 3, 3, 4,\n};", failures);
    need(text, "static const int rsz_5_13_ac0_i1[13] = {\n"
               "    1, 1, 1, 1, 2, 2, 3, 3, 3, 4, 4, 4, 4,\n};", failures);
    need(text, "rsz_7_5_ac0_i0, rsz_7_5_ac0_i1, rsz_7_5_ac0_l, rsz_5_7_ac0_i0,", failures);
}

static void text_aspp(const Graph *g, const char *text, int *failures)
{
    need(text, ".dh = 18, .dw = 18", failures);
    need(text, "nasc_rt_dwconv2d(", failures);
    need(text, "static const float rsz_1_5_ac1_l[5]", failures);
    need(text, "static const int rsz_5_17_ac1_i0[17]", failures);
    check_arrays(g, text, failures, false); /* BN var and gamma are folded */
}

static void text_leaky(const Graph *g, const char *text, int *failures)
{
    (void)g;
    if (count(text, "static void nasc_rt_leaky_relu(") != 1) {
        fprintf(stderr, "emitted C must define nasc_rt_leaky_relu once\n");
        (*failures)++;
    }
    need(text, ", 0.00999999978f, ", failures);
    need(text, ", -0.5f, ", failures);
    need(text, ", 0.0f, ", failures);
    need(text, ", 1.40129846e-45f, ", failures);
}

/* Every depthwise conv of the case runs a specialised kernel. */
static void text_kernels(const Graph *g, const char *text, int *failures)
{
    (void)g;
    static const char *const want[] = {"nasc_rt_dw3s1d1(", "nasc_rt_dw3s1d2(", "nasc_rt_dw3s2d1(",
                                       "nasc_rt_dw3s2d2(", "nasc_rt_dw5s1d1(", "nasc_rt_dw5s1d2(",
                                       "nasc_rt_dw5s2d1(", "nasc_rt_dw5s2d2(",
                                       "nasc_rt_conv2d_1x1(", "nasc_rt_pw_tile("};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        need(text, want[i], failures);
    if (strstr(text, "nasc_rt_dwconv2d(")) {
        fprintf(stderr, "kernels: a depthwise conv fell back to the generic kernel\n");
        (*failures)++;
    }
}

/* Every specialised depthwise kernel is used, and the generic one only by
 * the conv on 9x96 (its definition and one call). */
static void text_dw(const Graph *g, const char *text, int *failures)
{
    (void)g;
    static const char *const want[] = {"nasc_rt_dw3s1d1(", "nasc_rt_dw3s1d2(", "nasc_rt_dw3s2d1(",
                                       "nasc_rt_dw3s2d2(", "nasc_rt_dw5s1d1(", "nasc_rt_dw5s1d2(",
                                       "nasc_rt_dw5s2d1(", "nasc_rt_dw5s2d2(", "nasc_rt_dw_stage("};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        need(text, want[i], failures);
    int generic = 0;
    for (const char *p = text; (p = strstr(p, "nasc_rt_dwconv2d(")); p++)
        generic++;
    if (generic != 2) {
        fprintf(stderr, "dw: nasc_rt_dwconv2d( appears %d times, want 2\n", generic);
        (*failures)++;
    }
}

/* Every dense conv of the case runs a dense kernel, none the generic one. */
static void text_dense(const Graph *g, const char *text, int *failures)
{
    (void)g;
    need(text, "nasc_rt_dconv_s1(", failures);
    need(text, "nasc_rt_dconv_s2(", failures);
    if (strstr(text, "nasc_rt_conv2d(")) {
        fprintf(stderr, "dense: a dense conv fell back to the generic kernel\n");
        (*failures)++;
    }
}

/* Every pool of the case, DARTS-shaped or not, runs a specialised kernel. */
static void text_pool3(const Graph *g, const char *text, int *failures)
{
    (void)g;
    static const char *const want[] = {"nasc_rt_maxpool3s1(", "nasc_rt_maxpool3s2(",
                                       "nasc_rt_avgpool3s1(", "nasc_rt_avgpool3s2("};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        need(text, want[i], failures);
    if (strstr(text, "nasc_rt_maxpool2d(") || strstr(text, "nasc_rt_avgpool2d(")) {
        fprintf(stderr, "pool3: a 3x3 pool fell back to the generic kernel\n");
        (*failures)++;
    }
}

/* The 510-wide maps run the specialised kernels, the 512-wide ones the generic. */
static void text_pool3_wide(const Graph *g, const char *text, int *failures)
{
    (void)g;
    need(text, "nasc_rt_maxpool3s1(", failures);
    need(text, "nasc_rt_maxpool3s2(", failures);
    need(text, "nasc_rt_maxpool2d(", failures);
}

const Case cases[] = {
    {"mixed", "genotype: test\nweights: seeded random", build_mixed, false, false, true,
     text_mixed},
    {"reduce", NULL, build_reduce, false, false, false, NULL},
    {"identity", NULL, build_identity, false, true, false, text_identity},
    {"Tiny_Net2", "a */ banner /* with ?\?/ hostile text", build_names, false, false, false,
     text_names},
    {"literals", NULL, build_literals, true, true, false, text_literals},
    {"unread", NULL, build_unread, false, true, false, text_unread},
    {"resize", NULL, build_resize, false, true, true, text_resize},
    {"aspp", NULL, build_aspp, false, false, false, text_aspp},
    {"leaky", NULL, build_leaky, false, true, true, text_leaky},
    {"kernels", NULL, build_kernels, false, false, true, text_kernels},
    {"pool3", NULL, build_pool3, false, true, true, text_pool3},
    {"pool3_wide", NULL, build_pool3_wide, false, true, true, text_pool3_wide},
    {"dense", NULL, build_dense, false, false, true, text_dense},
    {"dw", NULL, build_dw, false, false, true, text_dw},
    {"fused", NULL, build_fused, false, false, true, text_fused},
    {"dense16", NULL, build_dense16, false, false, true, text_dense},
    {"dense_random", NULL, build_dense_random, false, false, true, NULL},
    {"strided", NULL, build_strided, false, false, true, text_strided},
    {"linear32", NULL, build_linear32, false, false, true, text_linear32},
    {"resize_wide", NULL, build_resize_wide, false, true, true, text_resize_wide},
    {"pw_prefetch", NULL, build_pw_prefetch, false, false, true, text_pw_prefetch},
    {"pw_packed", NULL, build_pw_packed, false, false, true, text_pw_packed},
    {NULL, NULL, NULL, false, false, false, NULL},
};

float *case_input(const Case *k, int64_t n)
{
    float *p = malloc((size_t)n * sizeof *p);
    rng = 0x600dull;
    for (int64_t i = 0; i < n; i++)
        p[i] = k->zero_input ? 0.0f : frand() * 2;
    return p;
}
