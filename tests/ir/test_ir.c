/* test_ir.c — IR unit tests: building, printing, parsing, verifying.
 *
 * usage: test_ir ROUNDTRIP_DIR BAD_DIR
 *   every ROUNDTRIP_DIR/x.nir must satisfy print(parse(text)) == text;
 *   every BAD_DIR/x.nir must fail to parse (or verify) with exactly the
 *   one-line message in BAD_DIR/x.err.
 */
#include "ir/ir.h"
#include "tests/check.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>


/* conv -> bn -> relu -> maxpool; concat with an avgpool branch; add; head */
static Graph *build_sample(Arena *a, Diag *d)
{
    Graph *g = ir_graph_new(a, "sample");
    ValueId x = ir_graph_add_input(g, shape4(1, 3, 8, 8), "input");
    Loc nl = loc_file(NULL);
    ValueId w = ir_graph_add_param(g, shape4(4, 3, 3, 3), "conv.weight", nl);
    int64_t c4 = 4;
    Shape s4 = shape_make(1, &c4);
    ValueId bn_in[5] = {0, ir_graph_add_param(g, s4, "bn.running_mean", nl),
                        ir_graph_add_param(g, s4, "bn.running_var", nl),
                        ir_graph_add_param(g, s4, "bn.weight", nl),
                        ir_graph_add_param(g, s4, "bn.bias", nl)};
    Attrs conv = {.conv = {.stride = {1, 1}, .pad = {1, 1, 1, 1}, .dilation = {1, 1}, .groups = 1}};
    ValueId cin[2] = {x, w};
    bn_in[0] = ir_graph_add_node(g, OP_CONV2D, cin, 2, &conv, nl, d);
    Attrs bn = {.bn = {1e-5f}};
    ValueId h = ir_graph_add_node(g, OP_BATCHNORM, bn_in, 5, &bn, nl, d);
    h = ir_graph_add_node(g, OP_RELU, &h, 1, NULL, nl, d);
    ir_value_set_name(g, h, "block \"one\"");
    Attrs mp = {.pool = {{3, 3}, {2, 2}, {1, 1, 1, 1}, 0}};
    ValueId m = ir_graph_add_node(g, OP_MAXPOOL2D, &h, 1, &mp, nl, d);
    ValueId av = ir_graph_add_node(g, OP_AVGPOOL2D, &h, 1, &mp, nl, d);
    ValueId cat_in[3] = {m, av, m};
    ValueId cat = ir_graph_add_node(g, OP_CONCAT, cat_in, 3, NULL, nl, d);
    ValueId sum_in[2] = {cat, cat};
    ValueId sum = ir_graph_add_node(g, OP_ADD, sum_in, 2, NULL, nl, d);
    ValueId gp = ir_graph_add_node(g, OP_GAVGPOOL, &sum, 1, NULL, nl, d);
    int64_t wd[2] = {5, 12};
    ValueId lin_in[3] = {gp, ir_graph_add_param(g, shape_make(2, wd), "fc.weight", nl),
                         ir_graph_add_param(g, shape_make(1, wd), "fc.bias", nl)};
    ValueId y = ir_graph_add_node(g, OP_LINEAR, lin_in, 3, NULL, nl, d);
    ir_graph_add_output(g, y);
    return g;
}

static void test_build_print_parse(void)
{
    Arena a;
    Diag d;
    arena_init(&a);
    diag_init(&d);
    Graph *g = build_sample(&a, &d);
    CHECK(d.nerr == 0);
    CHECK(ir_verify(g, &d));
    CHECK(g->vals[g->outputs[0]].shape.rank == 2);
    CHECK(g->vals[g->outputs[0]].shape.d[1] == 5);
    int64_t buffers;
    CHECK(ir_graph_param_count(g, &buffers) == 4 * 27 + 8 + 60 + 5);
    CHECK(buffers == 8);
    char *text = ir_print_str(g, &a);
    Graph *g2 = ir_parse(&a, "mem.nir", text, strlen(text), &d);
    CHECK(g2 != NULL);
    if (g2) {
        CHECK(ir_verify(g2, &d));
        CHECK(strcmp(text, ir_print_str(g2, &a)) == 0);
    }
    CHECK(strstr(text, "%6 = conv2d %0, %1 {stride=[1,1], pad=[1,1,1,1], dilation=[1,1], "
                       "groups=1} : f32[1,4,8,8]") != NULL);
    CHECK(strstr(text, "\"block \\\"one\\\"\"") != NULL);
    /* MACs: conv 4*8*8 * 3*3*3, linear 5*12 */
    int64_t macs = 0;
    for (NodeId n = 1; n < g->nnode; n++)
        macs += ir_node_macs(g, &g->nodes[n]);
    CHECK(macs == 4 * 64 * 27 + 60);
    diag_free(&d);
    arena_free_all(&a);
}

static void test_shape_errors(void)
{
    Arena a;
    Diag d;
    arena_init(&a);
    diag_init(&d);
    Graph *g = ir_graph_new(&a, "bad");
    ValueId x = ir_graph_add_input(g, shape4(1, 3, 8, 8), NULL);
    ValueId w = ir_graph_add_param(g, shape4(4, 2, 3, 3), "w", loc_file(NULL));
    ValueId in[2] = {x, w};
    Attrs conv = {.conv = {.stride = {1, 1}, .pad = {0, 0, 0, 0}, .dilation = {1, 1}, .groups = 1}};
    Loc at = {"net.txt", 3, 7};
    CHECK(ir_graph_add_node(g, OP_CONV2D, in, 2, &conv, at, &d) == 0);
    CHECK(d.nmsg == 1 && strcmp(d.msg[0], "net.txt:3:7: error: conv2d: operand 1 'w' has "
                                          "shape f32[4,2,3,3], expected f32[4,3,3,3]") == 0);
    ValueId y = ir_graph_add_input(g, shape4(1, 3, 4, 4), NULL);
    ValueId add_in[2] = {x, y};
    CHECK(ir_graph_add_node(g, OP_ADD, add_in, 2, NULL, at, &d) == 0);
    CHECK(d.nerr == 2);
    /* verifier: a node whose recorded shape is wrong */
    ValueId r = ir_graph_add_node(g, OP_RELU, &x, 1, NULL, at, &d);
    ir_graph_add_output(g, r);
    CHECK(ir_verify(g, &d));
    g->vals[r].shape.d[1] = 9;
    CHECK(!ir_verify(g, &d));
    diag_free(&d);
    arena_free_all(&a);
}

static void for_each_file(const char *dir, const char *ext, void (*fn)(const char *path))
{
    DIR *dp = opendir(dir);
    CHECK(dp != NULL);
    if (!dp)
        return;
    struct dirent *e;
    char **names = NULL;
    int n = 0;
    while ((e = readdir(dp))) {
        size_t len = strlen(e->d_name);
        if (len > strlen(ext) && strcmp(e->d_name + len - strlen(ext), ext) == 0) {
            names = realloc(names, sizeof *names * (size_t)(n + 1));
            names[n] = malloc(strlen(dir) + len + 2);
            sprintf(names[n++], "%s/%s", dir, e->d_name);
        }
    }
    closedir(dp);
    CHECK(n > 0);
    for (int i = 0; i < n; i++) {
        fn(names[i]);
        free(names[i]);
    }
    free(names);
}

static void roundtrip_file(const char *path)
{
    Arena a;
    Diag d;
    arena_init(&a);
    diag_init(&d);
    size_t len;
    char *text = check_slurp(path, &len);
    Graph *g = text ? ir_parse(&a, path, text, len, &d) : NULL;
    if (!g || !ir_verify(g, &d)) {
        diag_print(&d, stderr);
        fprintf(stderr, "%s: roundtrip: does not parse\n", path);
        failures++;
    } else if (strcmp(ir_print_str(g, &a), text) != 0) {
        fprintf(stderr, "%s: roundtrip: print(parse(text)) != text\n", path);
        failures++;
    } else {
        printf("ok roundtrip %s\n", path);
    }
    free(text);
    diag_free(&d);
    arena_free_all(&a);
}

static void bad_file(const char *path)
{
    Arena a;
    Diag d;
    arena_init(&a);
    diag_init(&d);
    size_t len, elen;
    char *text = check_slurp(path, &len);
    char errpath[1024];
    snprintf(errpath, sizeof errpath, "%.*s.err", (int)(strlen(path) - 4), path);
    char *want = check_slurp(errpath, &elen);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    Graph *g = ir_parse(&a, base, text, len, &d);
    bool ok = g && ir_verify(g, &d);
    char got[2048] = "";
    for (int i = 0; i < d.nmsg; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s\n", d.msg[i]);
    if (ok || !want || strcmp(got, want) != 0) {
        fprintf(stderr, "%s: expected error:\n%sgot:\n%s", path, want ? want : "(no .err)\n",
                ok ? "(parsed fine)\n" : got);
        failures++;
    } else {
        printf("ok bad %s\n", path);
    }
    free(text);
    free(want);
    diag_free(&d);
    arena_free_all(&a);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: test_ir ROUNDTRIP_DIR BAD_DIR\n");
        return 2;
    }
    test_build_print_parse();
    test_shape_errors();
    for_each_file(argv[1], ".nir", roundtrip_file);
    for_each_file(argv[2], ".nir", bad_file);
    printf("%s\n", failures ? "FAIL" : "PASS");
    return failures != 0;
}
