/* refusals.c — graphs and names cg_emit_c must refuse with a located
 * message and without writing a byte: NaN, infinite or unbound weights,
 * names that are not C identifiers, batchnorm statistics that cannot be
 * folded (negative var + eps, statistics computed at run time), graphs
 * without exactly one input and one output.
 */
#include "tests/codegen/cases.h"
#include "tests/codegen/emit_util.h"
#include "codegen/codegen.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define NODE(g, op, a, ...)                                                         \
    cgtest_node(g, op, a, (const ValueId[]){__VA_ARGS__},                           \
                (uint32_t)(sizeof((const ValueId[]){__VA_ARGS__}) / sizeof(ValueId)))

/* cg_emit_c(g) must fail with a message containing `msg` and write nothing. */
static int refuse(const Graph *g, const char *name, const char *msg)
{
    FILE *c = tmpfile(), *h = tmpfile();
    CgOptions o = {.name = name};
    Diag d;
    diag_init(&d);
    bool ok = cg_emit_c(g, &o, c, h, &d);
    bool found = false;
    for (int i = 0; i < d.nmsg; i++)
        found |= strstr(d.msg[i], msg) != NULL;
    int bad = 0;
    if (ok || !found || ftell(c) != 0 || ftell(h) != 0) {
        fprintf(stderr, "refusal '%s': ok=%d, message found=%d, bytes written=%ld+%ld\n", msg,
                ok, found, ftell(c), ftell(h));
        diag_print(&d, stderr);
        bad = 1;
    }
    diag_free(&d);
    fclose(c);
    fclose(h);
    return bad;
}

/* x [1,2,4,4] -> conv 1x1 -> bn -> output; the weight is returned in *w. */
static Graph *small(Arena *a, ValueId *w)
{
    uint64_t rng = 0x77ull;
    Graph *g = ir_graph_new(a, "small");
    ValueId x = ir_graph_add_input(g, shape4(1, 2, 4, 4), "x");
    Attrs conv = {.conv = {.stride = {1, 1}, .dilation = {1, 1}, .groups = 1}};
    *w = cgtest_param(g, "c.weight", shape4(2, 2, 1, 1), 0.5f, &rng);
    ValueId c = NODE(g, OP_CONV2D, &conv, x, *w);
    int64_t two = 2;
    Shape s = shape_make(1, &two);
    ValueId mean = cgtest_param(g, "bn.running_mean", s, 1, &rng);
    ValueId var = cgtest_param(g, "bn.running_var", s, 0.5f, &rng);
    for (int i = 0; i < 2; i++) /* a valid variance, > 0 */
        g->vals[var].data[i] += 1.0f;
    Attrs bn = {.bn = {1e-5f}};
    ir_graph_add_output(g, NODE(g, OP_BATCHNORM, &bn, c, mean, var,
                                cgtest_param(g, "bn.weight", s, 0.5f, &rng),
                                cgtest_param(g, "bn.bias", s, 0.5f, &rng)));
    return g;
}

int test_refusals(void)
{
    int bad = 0;
    Arena a;
    arena_init(&a);
    ValueId w;
    Graph *g = small(&a, &w);
    float keep = g->vals[w].data[1];
    g->vals[w].data[1] = NAN;
    bad += refuse(g, "net", "element 1 is NaN");
    g->vals[w].data[1] = -INFINITY;
    bad += refuse(g, "net", "element 1 is infinite");
    g->vals[w].data[1] = keep;
    float *data = g->vals[w].data;
    g->vals[w].data = NULL;
    bad += refuse(g, "net", "'c.weight' has no data bound");
    g->vals[w].data = data;
    bad += refuse(g, "3net", "not a C identifier");
    bad += refuse(g, "a-b", "not a C identifier");

    /* var + eps < 0: no finite scale */
    ValueId var = 0;
    for (ValueId v = 1; v < g->nval; v++)
        if (g->vals[v].name && strcmp(g->vals[v].name, "bn.running_var") == 0)
            var = v;
    g->vals[var].data[0] = -1.0f;
    bad += refuse(g, "net", "channel 0 has scale");

    /* statistics computed at run time cannot be folded */
    Graph *h = ir_graph_new(&a, "bn_dynamic");
    ValueId x = ir_graph_add_input(h, shape4(1, 1, 2, 2), "x");
    int64_t one = 1;
    Attrs bn = {.bn = {1e-5f}};
    uint64_t rng = 0x78ull;
    ValueId mean = cgtest_param(h, "m", shape_make(1, &one), 1, &rng);
    ValueId y = NODE(h, OP_BATCHNORM, &bn, x, mean, NODE(h, OP_RELU, NULL, mean));
    ir_graph_add_output(h, y);
    bad += refuse(h, "net", "var must be a param");

    Graph *two = ir_graph_new(&a, "two");
    ValueId x0 = ir_graph_add_input(two, shape4(1, 1, 2, 2), "a");
    ValueId x1 = ir_graph_add_input(two, shape4(1, 1, 2, 2), "b");
    ir_graph_add_output(two, NODE(two, OP_ADD, NULL, x0, x1));
    bad += refuse(two, "net", "exactly one of each");
    arena_free_all(&a);
    return bad;
}
