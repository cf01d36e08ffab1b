/* test_adl_frontend.c — Auto-DeepLab readers, writer and checks.
 *
 *   test_adl_frontend unit SRCDIR TMPDIR   values, locations, round trips,
 *                                          hostile inputs (the .npy reader's
 *                                          own cases: test_npy.c)
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
#include "tests/adl_frontend/npy_out.h"
#include "tests/check.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *read_or_null(Arena *a, const char *path, size_t *len)
{
    Diag d;
    size_t n;
    diag_init(&d);
    char *s = fe_read_file(a, path, len ? len : &n, &d);
    diag_free(&d);
    return s;
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
    CHECKF(ok && d.nerr == 0 && d.nwarn == 0, "%s: %s", name, check_diag_text(a, &d));
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
                                        "npy/path_onehot_i8.npy", "npy/path_onehot_f8.npy"};
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

static void check_tf_rows(const AdlArch *x)
{
    CHECK(path_is(x, tf_path, 12));
    CHECK(x->nrows == 10);
    for (int k = 0; k < 10 && x->nrows == 10; k++) {
        CHECKF(x->rows[k].edge == tf_edges[k], "row %d edge %d", k, x->rows[k].edge);
        CHECKF(x->rows[k].op && strcmp(x->rows[k].op, tf_ops[k]) == 0, "row %d op %s", k,
               x->rows[k].op);
    }
}

static void check_tf_arch(Arena *a, const AdlArch *x, const char *text, bool py)
{
    check_tf_rows(x);
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
        CHECKF(ok && d.nerr == 0 && d.nwarn == 0, "%s: %s", files[f], check_diag_text(a, &d));
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
    CHECKF(ok && d.nerr == 0 && d.nwarn == 0, "%s", check_diag_text(a, &d));
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
    check_tf_rows(&g);
    CHECK(g.name && strcmp(g.name, "autodeeplab_tf") == 0);
    diag_free(&d);
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
    CHECK_STR(check_diag_text(a, &d), "q.json:5:11: error: \"name\" must be an identifier, found "
                                "\"a\"b\"\n");
    diag_free(&d);
    /* an unknown key is a warning only */
    const char *warn = "{\"format\": \"nasc-genotype\", \"version\": 1, \"space\": \"autodeeplab\","
                       " \"path\": [0], \"cell\": [[0, 0]], \"F\": 20, \"B\": 5, \"classes\": 2,"
                       " \"input\": [8, 8], \"aspp_rates\": [1, 2, 3], \"decoder\": false,"
                       " \"bn\": \"bn\", \"extra\": {}}";
    diag_init(&d);
    CHECK(fe_adl_parse_json(a, "w.json", warn, strlen(warn), &y, &d));
    CHECK_STR(check_diag_text(a, &d), "w.json:1:201: warning: unknown key \"extra\" ignored\n");
    CHECK(d.nerr == 0 && y.nrows == 1 && y.nlayers == 1 && !y.decoder && y.in_h == 8);
    diag_free(&d);
}

/* ---- hostile inputs: must parse or fail with one-line, file-prefixed messages ---- */

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int hostile_fails;

static void check_messages(const Diag *d, const char *file, bool ok)
{
    size_t n = strlen(file);
    bool good = ok ? d->nerr == 0 : d->nerr > 0 && d->nmsg > 0;
    for (int i = 0; i < d->nmsg; i++)
        good &= strncmp(d->msg[i], file, n) == 0 && d->msg[i][n] == ':' &&
                !strchr(d->msg[i], '\n');
    if (!good && hostile_fails++ < 5) {
        fprintf(stderr, "bad diagnostics for %s (ok=%d):\n", file, ok);
        diag_print(d, stderr);
        failures++;
    }
}

/* kind: 0 npy only, 1 path, 2 cell, 3 TF text, 4 canonical JSON */
static void run_hostile(const char *file, const unsigned char *b, size_t n, int kind)
{
    Arena a;
    arena_init(&a);
    AdlArch x;
    fe_adl_defaults(&x);
    Diag d;
    diag_init(&d);
    bool ok;
    if (kind <= 2) {
        write_file(file, b, n);
        NpyArray arr;
        ok = kind == 0 ? fe_npy_read_ints(&a, file, &arr, &d)
             : kind == 1 ? fe_adl_read_path(&a, file, &x, &d) : fe_adl_read_cell(&a, file, &x, &d);
    } else {
        char *text = arena_strndup(&a, (const char *)b, n);
        ok = kind == 3 ? fe_adl_parse_tf(&a, file, text, n, &x, &d)
                       : fe_adl_parse_json(&a, file, text, n, &x, &d);
    }
    check_messages(&d, file, ok);
    if (ok && kind > 0) {
        Diag c;
        diag_init(&c);
        if (fe_adl_check(&x, &c) && kind == 4) {
            char *json = fe_adl_to_json(&a, &x);
            AdlArch y;
            fe_adl_defaults(&y);
            CHECK(fe_adl_parse_json(&a, file, json, strlen(json), &y, &c));
            CHECK_STR(fe_adl_to_json(&a, &y), json);
        }
        diag_free(&c);
    }
    diag_free(&d);
    arena_free_all(&a);
}

static void hostile_file(const char *file, const unsigned char *b, size_t n, int kind, int muts)
{
    unsigned char *m = malloc(n + 1);
    for (size_t len = 0; len < n; len++)
        run_hostile(file, b, len, kind);
    static const unsigned char interesting[] = {0, 0x93, 0xff, 0x7f, 0x80, '\'', '"', ',', '(',
                                                ')', '[', ']', '{', '}', ':', '-', '9', '\n',
                                                ' ', '\\', 'L', 'T', 'F', '#'};
    for (int i = 0; i < muts; i++) {
        memcpy(m, b, n);
        int edits = 1 + (int)(next_rand() % 4);
        for (int e = 0; e < edits; e++) {
            size_t at = next_rand() % n;
            uint64_t r = next_rand();
            m[at] = r & 1 ? (unsigned char)(r >> 8)
                          : interesting[(r >> 8) % sizeof interesting];
        }
        run_hostile(file, m, n, kind);
    }
    free(m);
}

static void test_hostile(Arena *a)
{
    NpyOut o;
    npy_build(&o, 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (12,), }", true);
    for (int i = 0; i < 12; i++)
        npy_put(&o, pt_path[i], 8, false);
    hostile_file(tmp_path(a, "h_path.npy"), o.b, o.n, 1, 2000);
    hostile_file(tmp_path(a, "h_any.npy"), o.b, o.n, 0, 500);
    npy_build(&o, 2, "{'descr': '|u1', 'fortran_order': False, 'shape': (10, 2), }", false);
    for (int k = 0; k < 10; k++) {
        npy_put(&o, pt_cell[k][0], 1, false);
        npy_put(&o, pt_cell[k][1], 1, false);
    }
    hostile_file(tmp_path(a, "h_cell.npy"), o.b, o.n, 2, 2000);
    static const struct { const char *name; int kind; } texts[] = {
        {"pytorch_path.json", 1}, {"pytorch_cell.json", 2}, {"hnasnet_tf.py", 3},
        {"hnasnet_tf.json", 3},   {"hnasnet.json", 4},
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        size_t len;
        char *text = read_or_null(a, src_path(a, texts[i].name), &len);
        CHECK(text != NULL);
        if (text)
            hostile_file(tmp_path(a, arena_printf(a, "h_%s", texts[i].name)),
                         (const unsigned char *)text, len, texts[i].kind, 2000);
    }
    /* the one-hot form: values other than 0/1 and a broken layer */
    int64_t hot[2 * 12] = {0};
    hot[0 * 12 + 0 * 3 + 0] = 1;
    hot[1 * 12 + 2 * 3 + 0] = 1; /* 0 -> 2 */
    npy_build(&o, 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 4, 3), }", true);
    for (int i = 0; i < 24; i++)
        npy_put(&o, hot[i], 8, false);
    char *file = tmp_path(a, "hot.npy");
    write_file(file, o.b, o.n);
    AdlArch x;
    fe_adl_defaults(&x);
    Diag d;
    diag_init(&d);
    CHECK(fe_adl_read_path(a, file, &x, &d) && x.nlayers == 2 && x.path[1] == 2);
    CHECK(!fe_adl_check(&x, &d));
    CHECK_STR(d.nmsg > 0 ? d.msg[0] : NULL,
              arena_printf(a, "%s: error: path step from level 0 to level 2 at layer 1 (steps "
                           "must be -1, 0 or +1)", file));
    diag_free(&d);
}

/* ---- errors mode ---- */

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

static bool load_case(Arena *a, const char *name, Diag *d)
{
    const char *kind = strchr(name, '.') + 1;
    AdlArch x;
    fe_adl_defaults(&x);
    set_pytorch_default(a, &x);
    bool ok;
    if (strncmp(kind, "path.", 5) == 0) {
        ok = fe_adl_read_path(a, name, &x, d);
    } else if (strncmp(kind, "cell.", 5) == 0) {
        ok = fe_adl_read_cell(a, name, &x, d);
    } else {
        size_t len;
        char *text = fe_read_file(a, name, &len, d);
        if (!text)
            return false;
        ok = strncmp(kind, "tf.", 3) == 0 ? fe_adl_parse_tf(a, name, text, len, &x, d)
                                          : fe_adl_parse_json(a, name, text, len, &x, d);
    }
    return ok && fe_adl_check(&x, d);
}

static int run_error_goldens(const char *dir)
{
    Arena a;
    arena_init(&a);
    DIR *dp = opendir(dir);
    if (!dp || chdir(dir) != 0) {
        fprintf(stderr, "cannot open %s\n", dir);
        return 1;
    }
    char *names[512];
    int n = 0;
    for (struct dirent *de; (de = readdir(dp)) && n < 512;) {
        const char *dot = strchr(de->d_name, '.');
        if (dot && dot != de->d_name && strcmp(dot, ".err") != 0)
            names[n++] = arena_strdup(&a, de->d_name);
    }
    closedir(dp);
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    for (int i = 0; i < n; i++) {
        size_t base = strcspn(names[i], ".");
        if (i > 0 && strncmp(names[i - 1], names[i], base + 1) == 0) {
            fprintf(stderr, "FAIL %s and %s share a golden\n", names[i - 1], names[i]);
            failures++;
        }
        size_t len;
        char *stem = arena_strndup(&a, names[i], base);
        char *golden = read_or_null(&a, arena_printf(&a, "%s.err", stem), &len);
        Diag d;
        diag_init(&d);
        bool ok = load_case(&a, names[i], &d);
        char *got = check_diag_text(&a, &d);
        if (ok || !golden || strcmp(got, golden) != 0) {
            fprintf(stderr, "FAIL %s/%s%s\n--- got:\n%s--- want (%s.err):\n%s", dir, names[i],
                    ok ? " (loaded without error)" : "", got, stem,
                    golden ? golden : "(missing)\n");
            failures++;
        }
        diag_free(&d);
    }
    printf("%d error goldens, %d failures\n", n, failures);
    CHECK(n >= 30);
    arena_free_all(&a);
    return failures != 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "errors") == 0)
        return run_error_goldens(argv[2]);
    if (argc != 4 || strcmp(argv[1], "unit") != 0) {
        fprintf(stderr, "usage: %s unit SRCDIR TMPDIR | errors BADDIR\n", argv[0]);
        return 2;
    }
    src_dir = argv[2];
    tmp_dir = argv[3];
    Arena a;
    arena_init(&a);
    test_table();
    test_defaults(&a);
    test_pytorch(&a);
    test_tf(&a);
    test_json(&a);
    test_hostile(&a);
    arena_free_all(&a);
    printf("adl_frontend: %d failures\n", failures);
    return failures != 0;
}
