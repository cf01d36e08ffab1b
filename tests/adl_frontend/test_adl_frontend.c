/* test_adl_frontend.c — Auto-DeepLab readers, writer and checks.
 *
 *   test_adl_frontend unit SRCDIR TMPDIR   values, locations, round trips,
 *                                          .npy dtype matrix, hostile inputs
 *   test_adl_frontend errors BADDIR        exact error goldens
 *
 * errors mode runs every BADDIR/<case>.<kind>.<ext> from inside BADDIR:
 * kind `path` / `cell` is read with fe_adl_read_path / fe_adl_read_cell
 * into an architecture whose other half is the PyTorch port's default;
 * `tf` with fe_adl_parse_tf; `adl` with fe_adl_parse_json. Then
 * fe_adl_check runs, and all diagnostics, one per line, must equal
 * <case>.err. The reader or the check must fail.
 */
#define _POSIX_C_SOURCE 200809L
#include "frontend/frontend.h"
#include "tests/check.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK_STR(a, b) check_str(__LINE__, (a), (b))

static void check_str(int line, const char *got, const char *want)
{
    if (got && want && strcmp(got, want) == 0)
        return;
    fprintf(stderr, "%s:%d: strings differ\n--- got:\n%s\n--- want:\n%s\n", __FILE__, line,
            got ? got : "(null)", want ? want : "(null)");
    failures++;
}

static char *diag_text(Arena *a, const Diag *d)
{
    char *s = arena_strdup(a, "");
    for (int i = 0; i < d->nmsg; i++)
        s = arena_printf(a, "%s%s\n", s, d->msg[i]);
    return s;
}

static char *read_or_null(Arena *a, const char *path, size_t *len)
{
    Diag d;
    diag_init(&d);
    char *s = fe_read_file(a, path, len, &d);
    diag_free(&d);
    return s;
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
    fclose(f);
}

/* ---- the public architectures (shared/design/genotypes/autodeeplab.md) ---- */

static const int pt_path[12] = {1, 0, 0, 1, 2, 1, 2, 2, 3, 3, 2, 1};
static const int pt_cell[10][2] = {{0, 7}, {1, 4}, {2, 4}, {3, 6}, {5, 4},
                                   {8, 4}, {11, 5}, {13, 5}, {19, 7}, {18, 5}};
static const int tf_path[12] = {0, 0, 0, 1, 2, 1, 2, 2, 3, 3, 2, 1};

/* TF hnasnet, converted by hand. hiddenstate_indices = [1, 0, 1, 0, 3, 1,
 * 4, 2, 3, 5]; TF state 0 = our 1, 1 = our 0, k >= 2 = k; block b is node
 * b + 2 with edge offset 0, 2, 5, 9, 14:
 *   block 0: atrous_5x5 on TF 1 (our 0) -> edge 0 + 0 = 0;
 *            separable_3x3_2 on TF 0 (our 1) -> 0 + 1 = 1
 *   block 1: separable_3x3_2 on TF 1 (0) -> 2 + 0 = 2; atrous_3x3 on TF 0 (1) -> 3
 *   block 2: separable_3x3_2 on TF 3 (3) -> 5 + 3 = 8; separable_3x3_2 on TF 1 (0) -> 5
 *   block 3: separable_5x5_2 on TF 4 (4) -> 9 + 4 = 13; separable_5x5_2 on TF 2 (2) -> 11
 *   block 4: separable_5x5_2 on TF 3 (3) -> 14 + 3 = 17; atrous_5x5 on TF 5 (5) -> 19 */
static const int tf_edges[10] = {0, 1, 2, 3, 8, 5, 13, 11, 17, 19};
static const char *const tf_ops[10] = {
    "atrous_5x5", "sep_conv_3x3", "sep_conv_3x3", "atrous_3x3", "sep_conv_3x3",
    "sep_conv_3x3", "sep_conv_5x5", "sep_conv_5x5", "sep_conv_5x5", "atrous_5x5"};

static const char *src_dir, *tmp_dir;

static char *src_path(Arena *a, const char *name)
{
    return arena_printf(a, "%s/%s", src_dir, name);
}

static char *tmp_path(Arena *a, const char *name)
{
    return arena_printf(a, "%s/%s", tmp_dir, name);
}

static void set_pytorch_default(Arena *a, AdlArch *x)
{
    Loc none = {"<default>", 0, 0};
    x->nlayers = 12;
    x->path = arena_calloc(a, 12, sizeof *x->path);
    x->path_loc = arena_calloc(a, 12, sizeof *x->path_loc);
    for (int i = 0; i < 12; i++) {
        x->path[i] = pt_path[i];
        x->path_loc[i] = none;
    }
    x->nrows = 10;
    for (int k = 0; k < 10; k++) {
        AdlRow r = {pt_cell[k][0], fe_adl_ops[pt_cell[k][1]].name, none, none, none};
        x->rows[k] = r;
    }
}

static bool path_is(const AdlArch *x, const int *want, int n)
{
    if (x->nlayers != n)
        return false;
    for (int i = 0; i < n; i++)
        if (x->path[i] != want[i])
            return false;
    return true;
}

static bool cell_is_pytorch(const AdlArch *x)
{
    if (x->nrows != 10)
        return false;
    for (int k = 0; k < 10; k++)
        if (x->rows[k].edge != pt_cell[k][0] ||
            !x->rows[k].op || strcmp(x->rows[k].op, fe_adl_ops[pt_cell[k][1]].name) != 0)
            return false;
    return true;
}

/* The text a Loc points at (NULL if the Loc is outside the text). */
static const char *loc_text(const char *text, Loc l)
{
    uint32_t line = 1;
    const char *p = text;
    while (line < l.line && (p = strchr(p, '\n')) != NULL) {
        p++;
        line++;
    }
    if (!p || l.line == 0 || l.col == 0 || strlen(p) < l.col - 1)
        return NULL;
    return p + l.col - 1;
}

static bool at_text(const char *text, Loc l, const char *want)
{
    const char *p = loc_text(text, l);
    return p && strncmp(p, want, strlen(want)) == 0;
}

/* ---- table and defaults ---- */

static void test_table(void)
{
    static const char *const names[] = {"none", "max_pool_3x3", "avg_pool_3x3", "skip_connect",
                                        "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3",
                                        "dil_conv_5x5", "atrous_3x3", "atrous_5x5"};
    int n = 0;
    while (fe_adl_ops[n].name)
        n++;
    CHECK(n == 10);
    for (int i = 0; i < n && i < 10; i++) {
        CHECK_STR(fe_adl_ops[i].name, names[i]);
        CHECK(fe_adl_op(names[i]) == &fe_adl_ops[i]);
    }
    const DartsOp *a3 = fe_adl_op("atrous_3x3"), *a5 = fe_adl_op("atrous_5x5");
    CHECK(a3 && a3->kind == DK_ATROUS && a3->kernel == 3 && a3->pad == 2 && a3->dilation == 2);
    CHECK(a5 && a5->kind == DK_ATROUS && a5->kernel == 5 && a5->pad == 4 && a5->dilation == 2);
    /* the DARTS kernel/pad/dilation for the shared names */
    for (int i = 0; i < 8; i++) {
        const DartsOp *x = fe_darts_op(names[i]), *y = &fe_adl_ops[i];
        CHECK(x && x->kind == y->kind && x->kernel == y->kernel && x->pad == y->pad &&
              x->dilation == y->dilation);
    }
    CHECK(!fe_adl_op("sep_conv_7x7") && !fe_adl_op("separable_3x3_2") && !fe_adl_op(NULL));
    static const int off[] = {0, 2, 5, 9, 14, 20};
    for (int node = 2; node <= 7; node++)
        CHECK(fe_adl_edge_offset(node) == off[node - 2]);
}

static void test_defaults(Arena *a)
{
    AdlArch x;
    memset(&x, 0x5a, sizeof x);
    fe_adl_defaults(&x);
    CHECK(x.F == 20 && x.B == 5 && x.classes == 19 && x.in_h == 513 && x.in_w == 513);
    CHECK(x.aspp_rates[0] == 6 && x.aspp_rates[1] == 12 && x.aspp_rates[2] == 18);
    CHECK(x.decoder && x.bn == ADL_BN_PLAIN && !x.name && x.nlayers == 0 && x.nrows == 0);
    Diag d;
    diag_init(&d);
    CHECK(!fe_adl_check(&x, &d)); /* no path, no cell */
    diag_free(&d);
    set_pytorch_default(a, &x);
    diag_init(&d);
    CHECK(fe_adl_check(&x, &d) && d.nerr == 0 && d.nwarn == 0);
    diag_free(&d);
}

/* ---- PyTorch port: JSON and NumPy path/cell files ---- */

static void check_read(Arena *a, const char *name, bool is_path)
{
    AdlArch x;
    fe_adl_defaults(&x);
    Diag d;
    diag_init(&d);
    char *file = src_path(a, name);
    bool ok = is_path ? fe_adl_read_path(a, file, &x, &d) : fe_adl_read_cell(a, file, &x, &d);
    CHECKF(ok && d.nerr == 0 && d.nwarn == 0, "%s: %s", name, diag_text(a, &d));
    if (is_path)
        CHECKF(path_is(&x, pt_path, 12), "%s", name);
    else
        CHECKF(cell_is_pytorch(&x), "%s", name);
    /* the half that was not read keeps its (default: empty) value */
    CHECK(is_path ? x.nrows == 0 : x.nlayers == 0);
    CHECK(x.F == 20 && x.classes == 19);
    diag_free(&d);
}

static void test_pytorch(Arena *a)
{
    static const char *const paths[] = {"pytorch_path.json", "npy/path_i8.npy",
                                        "npy/path_u1.npy", "npy/path_be_i4.npy",
                                        "npy/path_onehot_i8.npy"};
    static const char *const cells[] = {"pytorch_cell.json", "npy/cell_u1.npy",
                                        "npy/cell_i8.npy", "npy/cell_be_u2.npy",
                                        "npy/cell_v2_i4.npy"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
        check_read(a, paths[i], true);
    for (size_t i = 0; i < sizeof cells / sizeof *cells; i++)
        check_read(a, cells[i], false);

    /* both halves, checked; JSON Locs point at the values */
    AdlArch x;
    fe_adl_defaults(&x);
    Diag d;
    diag_init(&d);
    CHECK(fe_adl_read_path(a, src_path(a, "pytorch_path.json"), &x, &d));
    CHECK(fe_adl_read_cell(a, src_path(a, "pytorch_cell.json"), &x, &d));
    CHECK(fe_adl_check(&x, &d) && d.nerr == 0);
    char *ptext = read_or_null(a, src_path(a, "pytorch_path.json"), NULL);
    char *ctext = read_or_null(a, src_path(a, "pytorch_cell.json"), NULL);
    for (int i = 0; ptext && i < 12; i++)
        CHECKF(at_text(ptext, x.path_loc[i], arena_printf(a, "%d", pt_path[i])), "layer %d", i);
    for (int k = 0; ctext && k < 10; k++) {
        CHECKF(at_text(ctext, x.rows[k].loc, arena_printf(a, "[%d, %d]", pt_cell[k][0],
                                                          pt_cell[k][1])), "row %d", k);
        CHECK(at_text(ctext, x.rows[k].edge_loc, arena_printf(a, "%d,", pt_cell[k][0])));
        CHECK(at_text(ctext, x.rows[k].op_loc, arena_printf(a, "%d]", pt_cell[k][1])));
    }
    diag_free(&d);
}

/* ---- TF hnasnet ---- */

static void check_tf_arch(Arena *a, const AdlArch *x, const char *text, bool py)
{
    CHECK(path_is(x, tf_path, 12));
    CHECK(x->nrows == 10);
    for (int k = 0; k < 10 && x->nrows == 10; k++) {
        CHECKF(x->rows[k].edge == tf_edges[k], "row %d edge %d", k, x->rows[k].edge);
        CHECKF(x->rows[k].op && strcmp(x->rows[k].op, tf_ops[k]) == 0, "row %d op %s", k,
               x->rows[k].op);
    }
    /* op Locs at the TF names, edge Locs at hiddenstate_indices entries */
    static const char *const tf_names[10] = {
        "atrous_5x5", "separable_3x3_2", "separable_3x3_2", "atrous_3x3", "separable_3x3_2",
        "separable_3x3_2", "separable_5x5_2", "separable_5x5_2", "separable_5x5_2",
        "atrous_5x5"};
    static const int idx[10] = {1, 0, 1, 0, 3, 1, 4, 2, 3, 5};
    for (int k = 0; k < 10 && x->nrows == 10; k++) {
        CHECKF(at_text(text, x->rows[k].op_loc, arena_printf(a, py ? "'%s'" : "\"%s\"",
                                                             tf_names[k])), "row %d", k);
        CHECK(at_text(text, x->rows[k].edge_loc, arena_printf(a, "%d", idx[k])));
    }
    for (int i = 0; i < 12 && x->nlayers == 12; i++)
        CHECK(at_text(text, x->path_loc[i], arena_printf(a, "%d", tf_path[i])));
}

static void test_tf(Arena *a)
{
    static const char *const files[2] = {"hnasnet_tf.py", "hnasnet_tf.json"};
    for (int f = 0; f < 2; f++) {
        size_t len;
        char *file = src_path(a, files[f]);
        char *text = read_or_null(a, file, &len);
        CHECK(text != NULL);
        if (!text)
            continue;
        CHECK(fe_sniff_arch(text, len) == FE_ARCH_ADL_TF);
        AdlArch x;
        fe_adl_defaults(&x);
        Diag d;
        diag_init(&d);
        bool ok = fe_adl_parse_tf(a, file, text, len, &x, &d);
        CHECKF(ok && d.nerr == 0 && d.nwarn == 0, "%s: %s", files[f], diag_text(a, &d));
        CHECK(fe_adl_check(&x, &d));
        check_tf_arch(a, &x, text, f == 0);
        diag_free(&d);
    }
    /* TF `none` is the identity inside a cell; `skip` is accepted too */
    const char *text = "backbone = [0]\nused_hiddenstates = [1, 1, 0, 0, 0, 0, 0]\n"
                       "hiddenstate_indices = [0, 1, 0, 1, 0, 1, 0, 1, 0, 1]\n"
                       "operations = ['none', 'skip', 'avg_pool_3x3', 'max_pool_3x3', 'none',"
                       " 'none', 'none', 'none', 'none', 'none']\n";
    AdlArch x;
    fe_adl_defaults(&x);
    Diag d;
    diag_init(&d);
    CHECK(fe_adl_parse_tf(a, "ops.py", text, strlen(text), &x, &d));
    CHECK(x.nrows == 10 && strcmp(x.rows[0].op, "skip_connect") == 0 &&
          strcmp(x.rows[1].op, "skip_connect") == 0 && strcmp(x.rows[2].op, "avg_pool_3x3") == 0
          && strcmp(x.rows[3].op, "max_pool_3x3") == 0);
    CHECK(x.rows[0].edge == 1 && x.rows[1].edge == 0 && x.rows[2].edge == 3);
    diag_free(&d);
}

/* ---- canonical JSON ---- */

static void check_round_trip(Arena *a, const AdlArch *x, const char *golden)
{
    char *json = fe_adl_to_json(a, x);
    if (golden)
        CHECK_STR(json, golden);
    AdlArch y;
    fe_adl_defaults(&y);
    y.F = 1;
    y.decoder = !x->decoder; /* everything must come from the text */
    Diag d;
    diag_init(&d);
    bool ok = fe_adl_parse_json(a, "rt.json", json, strlen(json), &y, &d);
    CHECKF(ok && d.nerr == 0 && d.nwarn == 0, "%s", diag_text(a, &d));
    CHECK(fe_sniff_arch(json, strlen(json)) == FE_ARCH_ADL_JSON);
    CHECK_STR(fe_adl_to_json(a, &y), json);
    CHECK((x->name == NULL) == (y.name == NULL));
    CHECK(y.F == x->F && y.B == x->B && y.classes == x->classes && y.in_h == x->in_h &&
          y.in_w == x->in_w && y.decoder == x->decoder && y.bn == x->bn);
    CHECK(y.nlayers == x->nlayers && y.nrows == x->nrows);
    for (int i = 0; i < 3; i++)
        CHECK(y.aspp_rates[i] == x->aspp_rates[i]);
    /* Locs of the parsed text point at the values */
    for (int k = 0; ok && k < y.nrows; k++)
        CHECK(at_text(json, y.rows[k].op_loc, arena_printf(a, "\"%s\"", x->rows[k].op)));
    for (int i = 0; ok && i < y.nlayers; i++)
        CHECK(at_text(json, y.path_loc[i], arena_printf(a, "%d", x->path[i])));
    diag_free(&d);
}

static void test_json(Arena *a)
{
    size_t len;
    char *tf = read_or_null(a, src_path(a, "hnasnet_tf.py"), &len);
    char *golden = read_or_null(a, src_path(a, "hnasnet.json"), NULL);
    CHECK(tf && golden);
    if (!tf || !golden)
        return;
    AdlArch x;
    fe_adl_defaults(&x);
    Diag d;
    diag_init(&d);
    CHECK(fe_adl_parse_tf(a, "hnasnet_tf.py", tf, len, &x, &d));
    x.name = "autodeeplab_tf";
    check_round_trip(a, &x, golden);
    /* the golden file itself loads and passes the check */
    AdlArch g;
    fe_adl_defaults(&g);
    CHECK(fe_adl_parse_json(a, "hnasnet.json", golden, strlen(golden), &g, &d));
    CHECK(fe_adl_check(&g, &d) && d.nerr == 0 && d.nwarn == 0);
    check_tf_arch(a, &g, golden, false) /* op names differ: only edges/ops/path */;
    diag_free(&d);
    failures -= 0;
    x.name = NULL;
    x.decoder = false;
    x.bn = ADL_BN_ABN;
    x.F = 48;
    x.classes = 21;
    x.in_h = 321;
    x.in_w = 1025;
    x.aspp_rates[0] = 12;
    x.aspp_rates[1] = 24;
    x.aspp_rates[2] = 36;
    check_round_trip(a, &x, NULL);
    set_pytorch_default(a, &x);
    x.name = "a\"b"; /* not an identifier: written escaped, refused on input */
    char *json = fe_adl_to_json(a, &x);
    AdlArch y;
    fe_adl_defaults(&y);
    diag_init(&d);
    CHECK(!fe_adl_parse_json(a, "q.json", json, strlen(json), &y, &d));
    CHECK_STR(diag_text(a, &d), "q.json:5:11: error: \"name\" must be an identifier, found "
                                "\"a\"b\"\n");
    diag_free(&d);
    /* an unknown key is a warning only */
    const char *warn = "{\"format\": \"nasc-genotype\", \"version\": 1, \"space\": \"autodeeplab\","
                       " \"path\": [0], \"cell\": [[0, 0]], \"F\": 20, \"B\": 5, \"classes\": 2,"
                       " \"input\": [8, 8], \"aspp_rates\": [1, 2, 3], \"decoder\": false,"
                       " \"bn\": \"bn\", \"extra\": {}}";
    diag_init(&d);
    CHECK(fe_adl_parse_json(a, "w.json", warn, strlen(warn), &y, &d));
    CHECK_STR(diag_text(a, &d), "w.json:1:227: warning: unknown key \"extra\" ignored\n");
    CHECK(d.nerr == 0 && y.nrows == 1 && y.nlayers == 1 && !y.decoder && y.in_h == 8);
    diag_free(&d);
}
