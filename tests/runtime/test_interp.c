/* test_interp.c — the interpreter against a hand composition of the naive
 * kernels, on a small graph that uses every op:
 *
 *   x -> conv3x3+b -> bn -> relu("stem") -> maxpool s2 -+-> conv1x1 -> bn(3 operands) -+
 *                                                       +-> dilated grouped conv ------+
 *                                                                 concat("cells.0") <--+
 *   add(concat, pool) -> add(., zero(pool)) -> avgpool -> crop -> resize 4x4->7x5 -> gavgpool
 *   -> resize 1x1->3x3 (a broadcast, align_corners) -> gavgpool("global_pooling")
 *   -> linear("logits")          plus relu(pool), computed and never read.
 *
 * The expected output is computed with rt_ref_conv2d (not the im2col/dw
 * fast paths the interpreter uses). Then: trace files exist for exactly
 * the named non-param values and hold their data; an unbound param, an
 * unwritable trace directory and a two-output graph are reported as errors.
 * Last, memory: under an address-space limit, a 100-node chain of 16 MB
 * activations must run (buffers freed at last use), and a node whose output
 * cannot be allocated must be reported, not crash.
 * argv[1] is a scratch directory for the trace.
 */
#define _POSIX_C_SOURCE 200809L
#include "runtime/interp.h"
#include "runtime/ref/ref.h"
#include "testutil.h"

#include <sys/resource.h>
#include <sys/stat.h>

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

enum { N = 2, C = 3, H = 9, F = 6, K = 10 };

typedef struct Net {
    Arena arena;
    Graph *g;
    ValueId bias0, out;
    float *params[16];
    int nparam;
} Net;

static ValueId param(Net *net, Shape s, const char *name)
{
    ValueId v = ir_graph_add_param(net->g, s, name, loc_file("test"));
    float *p = tu_random(shape_numel(&s));
    if (strstr(name, "var"))
        for (int64_t i = 0; i < shape_numel(&s); i++)
            p[i] = 0.5f + p[i] * p[i];
    net->g->vals[v].data = net->params[net->nparam++] = p;
    return v;
}

static ValueId node(Net *net, Op op, const ValueId *in, uint32_t nin, const Attrs *a)
{
    Diag d;
    diag_init(&d);
    ValueId v = ir_graph_add_node(net->g, op, in, nin, a, loc_file("test"), &d);
    if (!v) {
        diag_print(&d, stderr);
        exit(2);
    }
    diag_free(&d);
    return v;
}

static Attrs conv_attrs(int s, int pad, int dil, int groups)
{
    Attrs a = {.conv = {.stride = {s, s}, .pad = {pad, pad, pad, pad},
                        .dilation = {dil, dil}, .groups = groups}};
    return a;
}

static void build(Net *net)
{
    arena_init(&net->arena);
    net->g = ir_graph_new(&net->arena, "interp_test");
    net->nparam = 0;
    Shape vec = shape_make(1, (int64_t[]){F}), vec3 = shape_make(1, (int64_t[]){C});
    ValueId x = ir_graph_add_input(net->g, shape4(N, C, H, H), "x");
    ValueId w0 = param(net, shape4(F, C, 3, 3), "conv.weight");
    net->bias0 = param(net, vec, "conv.bias");
    Attrs a = conv_attrs(1, 1, 1, 1);
    ValueId c = node(net, OP_CONV2D, (ValueId[]){x, w0, net->bias0}, 3, &a);
    ValueId bnp[5] = {c, param(net, vec, "bn.mean"), param(net, vec, "bn.var"),
                      param(net, vec, "bn.weight"), param(net, vec, "bn.bias")};
    Attrs bn = {.bn = {1e-5f}};
    ValueId r = node(net, OP_RELU, (ValueId[]){node(net, OP_BATCHNORM, bnp, 5, &bn)}, 1, NULL);
    ir_value_set_name(net->g, r, "stem");
    Attrs mp = {.pool = {{3, 3}, {2, 2}, {1, 1, 1, 1}, 0}};
    ValueId p = node(net, OP_MAXPOOL2D, &r, 1, &mp);
    node(net, OP_RELU, &p, 1, NULL); /* dead end: freed right away */
    a = conv_attrs(1, 0, 1, 1);
    ValueId q = node(net, OP_CONV2D, (ValueId[]){p, param(net, shape4(C, F, 1, 1), "pw.weight")},
                     2, &a);
    ValueId bn3[3] = {q, param(net, vec3, "bn2.mean"), param(net, vec3, "bn2.var")};
    q = node(net, OP_BATCHNORM, bn3, 3, &bn);
    a = conv_attrs(1, 2, 2, 3);
    ValueId q3 = node(net, OP_CONV2D,
                      (ValueId[]){p, param(net, shape4(C, F / 3, 3, 3), "dil.weight")}, 2, &a);
    ValueId cat = node(net, OP_CONCAT, (ValueId[]){q, q3}, 2, NULL);
    ir_value_set_name(net->g, cat, "cells.0");
    Attrs z = {.zero = {1}};
    ValueId a1 = node(net, OP_ADD, (ValueId[]){cat, p}, 2, NULL);
    ValueId a2 = node(net, OP_ADD, (ValueId[]){a1, node(net, OP_ZERO, &p, 1, &z)}, 2, NULL);
    Attrs ap = {.pool = {{3, 3}, {1, 1}, {1, 1, 1, 1}, 0}};
    Attrs cr = {.crop = {1, 1}}, up = {.resize = {{7, 5}, 0}}, bc = {.resize = {{3, 3}, 1}};
    ValueId crop = node(net, OP_CROP, (ValueId[]){node(net, OP_AVGPOOL2D, &a2, 1, &ap)}, 1, &cr);
    ValueId g1 = node(net, OP_GAVGPOOL,
                      (ValueId[]){node(net, OP_RESIZE_BILINEAR, &crop, 1, &up)}, 1, NULL);
    ValueId gp = node(net, OP_GAVGPOOL,
                      (ValueId[]){node(net, OP_RESIZE_BILINEAR, &g1, 1, &bc)}, 1, NULL);
    ir_value_set_name(net->g, gp, "global_pooling");
    ValueId lin[3] = {gp, param(net, shape_make(2, (int64_t[]){K, F}), "classifier.weight"),
                      param(net, shape_make(1, (int64_t[]){K}), "classifier.bias")};
    net->out = node(net, OP_LINEAR, lin, 3, NULL);
    ir_value_set_name(net->g, net->out, "logits");
    ir_graph_add_output(net->g, net->out);
}

static void free_net(Net *net)
{
    for (int i = 0; i < net->nparam; i++)
        free(net->params[i]);
    arena_free_all(&net->arena);
}

/* Data of the param called `name`. */
static const float *pdata(const Net *net, const char *name)
{
    for (ValueId v = 1; v < net->g->nval; v++)
        if (net->g->vals[v].name && !strcmp(net->g->vals[v].name, name))
            return net->g->vals[v].data;
    fprintf(stderr, "no param %s\n", name);
    exit(2);
}

static RtConv2d geom(int64_t c, int64_t h, int64_t oc, int k, int pad, int dil, int groups)
{
    RtConv2d p = {N, c, h, h, oc, k, k, {1, 1}, {pad, pad, pad, pad}, {dil, dil}, groups};
    return p;
}

/* The same net, by hand, with the naive kernels. Trace copies of the named
 * values go to stem/cat/gp. */
static void expected(const Net *net, const float *x, float *stem, float *cat, float *gp,
                     float *out)
{
    enum { P = 5 }; /* pooled size: (9 + 2 - 3) / 2 + 1 */
    float c[N * F * H * H], q[N * C * P * P], a2[N * F * P * P], av[N * F * P * P];
    float p[N * F * P * P], cr[N * F * 4 * 4];
    RtConv2d g0 = geom(C, H, F, 3, 1, 1, 1), g1 = geom(F, P, C, 1, 0, 1, 1);
    RtConv2d g2 = geom(F, P, C, 3, 2, 2, 3);
    rt_ref_conv2d(&g0, x, pdata(net, "conv.weight"), pdata(net, "conv.bias"), c);
    rt_ref_batchnorm(N, F, H * H, c, pdata(net, "bn.mean"), pdata(net, "bn.var"),
                     pdata(net, "bn.weight"), pdata(net, "bn.bias"), 1e-5f, c);
    rt_ref_relu(N * F * H * H, c, stem);
    RtPool2d mp = {N, F, H, H, {3, 3}, {2, 2}, {1, 1, 1, 1}, 0};
    rt_ref_maxpool2d(&mp, stem, p);
    rt_ref_conv2d(&g1, p, pdata(net, "pw.weight"), NULL, q);
    rt_ref_batchnorm(N, C, P * P, q, pdata(net, "bn2.mean"), pdata(net, "bn2.var"), NULL, NULL,
                     1e-5f, q);
    float q3[N * C * P * P];
    rt_ref_conv2d(&g2, p, pdata(net, "dil.weight"), NULL, q3);
    const float *xs[2] = {q, q3};
    rt_ref_concat(N, P * P, 2, xs, (const int64_t[]){C, C}, cat);
    rt_ref_add(N * F * P * P, cat, p, a2); /* + zero(p): adds nothing */
    RtPool2d ap = {N, F, P, P, {3, 3}, {1, 1}, {1, 1, 1, 1}, 0};
    rt_ref_avgpool2d(&ap, a2, av);
    rt_ref_crop(N, F, P, P, 1, 1, 4, 4, av, cr);
    float rs[N * F * 7 * 5], gp1[N * F], bc[N * F * 3 * 3];
    rt_ref_resize_bilinear(N * F, 4, 4, 7, 5, 0, cr, rs);
    rt_ref_gavgpool(N, F, 35, rs, gp1);
    rt_ref_resize_bilinear(N * F, 1, 1, 3, 3, 1, gp1, bc);
    rt_ref_gavgpool(N, F, 9, bc, gp);
    rt_ref_linear(N, F, K, gp, pdata(net, "classifier.weight"), pdata(net, "classifier.bias"),
                  out);
}

/* Reads dir/name.bin and checks it holds n floats equal to want. */
static void check_trace(const char *dir, const char *name, const float *want, int64_t n)
{
    char path[512], what[600];
    snprintf(path, sizeof path, "%s/%s.bin", dir, name);
    snprintf(what, sizeof what, "trace %s", path);
    FILE *f = fopen(path, "rb");
    float *got = tu_poisoned(n + 1);
    size_t r = f ? fread(got, sizeof *got, (size_t)n + 1, f) : 0;
    if (!f || r != (size_t)n) {
        fprintf(stderr, "FAIL %s: %s (%zu floats, want %lld)\n", what,
                f ? "wrong size" : "missing", r, (long long)n);
        tu_failures++;
    } else {
        tu_check(what, got, want, n);
    }
    if (f)
        fclose(f);
    free(got);
}

static void expect_file_absent(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.bin", dir, name);
    FILE *f = fopen(path, "rb");
    if (f) {
        fclose(f);
        fprintf(stderr, "FAIL: %s was written (params are not traced)\n", path);
        tu_failures++;
    }
}

static void test_run(const char *dir)
{
    Net net;
    build(&net);
    Diag d;
    diag_init(&d);
    if (!ir_verify(net.g, &d)) {
        diag_print(&d, stderr);
        exit(2);
    }
    float *x = tu_random(N * C * H * H), out[N * K], want[N * K];
    float stem[N * F * H * H], cat[N * F * 25], gp[N * F];
    expected(&net, x, stem, cat, gp, want);
    for (int pass = 0; pass < 2; pass++) { /* twice: no state leaks between runs */
        for (int i = 0; i < N * K; i++)
            out[i] = NAN;
        if (!rt_interp_run(net.g, x, out, dir, &d)) {
            diag_print(&d, stderr);
            tu_failures++;
            break;
        }
        tu_check("interpreter output", out, want, N * K);
    }
    check_trace(dir, "x", x, N * C * H * H);
    check_trace(dir, "stem", stem, N * F * H * H);
    check_trace(dir, "cells.0", cat, N * F * 25);
    check_trace(dir, "global_pooling", gp, N * F);
    check_trace(dir, "logits", want, N * K);
    expect_file_absent(dir, "conv.weight");
    expect_file_absent(dir, "classifier.bias");
    diag_free(&d);
    free(x);
    free_net(&net);
}

/* Runs net, expecting failure with a message containing `msg`. */
static void expect_error(const char *what, Net *net, const char *dir, const char *msg)
{
    Diag d;
    diag_init(&d);
    float *x = tu_random(N * C * H * H), out[N * K];
    bool ok = rt_interp_run(net->g, x, out, dir, &d);
    if (ok || d.nmsg < 1 || !strstr(d.msg[0], msg)) {
        fprintf(stderr, "FAIL %s: want error containing \"%s\", got %s\n", what, msg,
                ok ? "success" : d.nmsg ? d.msg[0] : "no message");
        tu_failures++;
    }
    diag_free(&d);
    free(x);
}

static void test_errors(void)
{
    Net net;
    build(&net);
    const float *bias = net.g->vals[net.bias0].data;
    net.g->vals[net.bias0].data = NULL;
    expect_error("unbound param", &net, NULL, "param 'conv.bias' has no data");
    net.g->vals[net.bias0].data = (float *)bias;
    expect_error("unwritable trace", &net, "/nonexistent/trace/dir", "cannot write trace file");
    ir_graph_add_output(net.g, net.bias0);
    expect_error("two outputs", &net, NULL, "has 1 inputs and 2 outputs");
    free_net(&net);
}

#ifndef UNDER_ASAN
/* Virtual memory in use now, from /proc/self/statm; 0 if unknown. */
static size_t vm_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (f) {
        if (fscanf(f, "%lu", &pages) != 1)
            pages = 0;
        fclose(f);
    }
    return (size_t)pages * 4096;
}
#endif

static void test_memory(void)
{
#ifdef UNDER_ASAN
    printf("memory test skipped under AddressSanitizer (it reserves the address space)\n");
#else
    enum { M = 4 << 20, LONG = 100, WIDE = 64 }; /* 16 MB per activation */
    size_t now = vm_bytes();
    struct rlimit old, lim;
    if (!now || getrlimit(RLIMIT_AS, &old) != 0) {
        printf("memory test skipped: no /proc/self/statm or getrlimit\n");
        return;
    }
    Arena arena;
    arena_init(&arena);
    Graph *g = ir_graph_new(&arena, "memory");
    Diag d;
    diag_init(&d);
    ValueId x = ir_graph_add_input(g, shape4(1, 4, 1024, 1024), "x"), v = x, cat[WIDE];
    for (int i = 0; i < LONG; i++) /* keep sums bounded: relu, then add */
        v = ir_graph_add_node(g, i % 2 ? OP_ADD : OP_RELU, (ValueId[]){v, x}, 1 + i % 2, NULL,
                              loc_file("mem"), &d);
    ir_graph_add_output(g, v);
    float *in = tu_random(M), *out = tu_alloc(M);
    arena_alloc(&arena, 1 << 16); /* arena growth must not hit the limit below */
    lim = old;
    lim.rlim_cur = now + ((size_t)320 << 20); /* 20 live activations, not 100 */
    if (setrlimit(RLIMIT_AS, &lim) != 0) {
        printf("memory test skipped: setrlimit failed\n");
    } else {
        if (!rt_interp_run(g, in, out, NULL, &d)) {
            fprintf(stderr, "FAIL: 100-node chain did not fit in 320 MB:\n");
            diag_print(&d, stderr);
            tu_failures++;
        }
        /* concat of 64 copies: one 1 GB output, beyond the limit */
        Graph *w = ir_graph_new(&arena, "wide");
        ValueId wx = ir_graph_add_input(w, shape4(1, 4, 1024, 1024), "x");
        for (int i = 0; i < WIDE; i++)
            cat[i] = wx;
        ir_graph_add_output(w, ir_graph_add_node(w, OP_CONCAT, cat, WIDE, NULL,
                                                 loc_file("mem"), &d));
        diag_free(&d);
        diag_init(&d);
        if (rt_interp_run(w, in, out, NULL, &d) || d.nmsg != 1 ||
            !strstr(d.msg[0], "out of memory")) {
            fprintf(stderr, "FAIL: oversized output not reported as out of memory (%s)\n",
                    d.nmsg ? d.msg[0] : "no message");
            tu_failures++;
        }
        setrlimit(RLIMIT_AS, &old);
    }
    diag_free(&d);
    free(in), free(out);
    arena_free_all(&arena);
#endif
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_interp TRACE_DIR\n");
        return 2;
    }
    mkdir(argv[1], 0777); /* may exist already; a real failure shows as missing traces */
    test_run(argv[1]);
    test_errors();
    test_memory();
    if (tu_failures) {
        fprintf(stderr, "%d failure(s)\n", tu_failures);
        return 1;
    }
    printf("interpreter OK (sgemm backend: %s)\n", rt_sgemm_backend());
    return 0;
}
