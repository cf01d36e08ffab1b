/* test_genotype.c — genotype readers, printers and checks.
 *
 *   test_genotype unit SRCDIR [DARTS_TXT]   values, locations, round trips,
 *                                           hostile inputs
 *   test_genotype errors BADDIR             exact error goldens
 *
 * errors mode loads every BADDIR/<case>.txt|.json with fe_load_genotype
 * (read + parse + check; `want` from <case>.want if present) from inside
 * BADDIR and compares all diagnostics, one per line, with <case>.err.
 */
#define _POSIX_C_SOURCE 200809L
#include "frontend/frontend.h"
#include "tests/check.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *read_or_null(Arena *a, const char *path, size_t *len)
{
    Diag d;
    diag_init(&d);
    char *s = fe_read_file(a, path, len, &d);
    diag_free(&d);
    return s;
}

static const char *src_dir;

static char *src_path(Arena *a, const char *name)
{
    return arena_printf(a, "%s/%s", src_dir, name);
}

static bool geno_equal(const Genotype *x, const Genotype *y)
{
    if ((x->name == NULL) != (y->name == NULL) || (x->name && strcmp(x->name, y->name)))
        return false;
    const GenoCell *cx[2] = {&x->normal, &x->reduce}, *cy[2] = {&y->normal, &y->reduce};
    for (int k = 0; k < 2; k++) {
        if (cx[k]->nedge != cy[k]->nedge || cx[k]->nconcat != cy[k]->nconcat)
            return false;
        for (int i = 0; i < cx[k]->nedge; i++)
            if (strcmp(cx[k]->edges[i].op, cy[k]->edges[i].op) ||
                cx[k]->edges[i].input != cy[k]->edges[i].input)
                return false;
        for (int i = 0; i < cx[k]->nconcat; i++)
            if (cx[k]->concat[i] != cy[k]->concat[i])
                return false;
    }
    return true;
}

/* Byte offset of a Loc in text (1-based line and byte column). */
static size_t loc_offset(const char *text, Loc l)
{
    size_t off = 0;
    for (uint32_t line = 1; line < l.line; line++)
        off = (size_t)(strchr(text + off, '\n') - text) + 1;
    return off + l.col - 1;
}

/* Every edge's Loc points at its quoted op name and its input_loc at the
 * digits of its input; every list concat entry at its digits. */
static void check_locs(const char *text, const Genotype *g, bool concat_lists)
{
    const GenoCell *cells[2] = {&g->normal, &g->reduce};
    for (int k = 0; k < 2; k++) {
        const GenoCell *c = cells[k];
        for (int i = 0; i < c->nedge; i++) {
            const char *op = text + loc_offset(text, c->edges[i].loc);
            const char *name = c->edges[i].op;
            bool plain = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(name);
            CHECK(op[0] == '\'' || op[0] == '"');
            CHECK(!plain || strncmp(op + 1, name, strlen(name)) == 0);
            CHECK(atoi(text + loc_offset(text, c->edges[i].input_loc)) == c->edges[i].input);
        }
        for (int i = 0; concat_lists && i < c->nconcat; i++)
            CHECK(atoi(text + loc_offset(text, c->concat_loc[i])) == c->concat[i]);
        const char *cl = text + loc_offset(text, c->loc);
        CHECK(strncmp(cl, k ? "reduce" : "normal", 6) == 0 ||
              strncmp(cl + 1, k ? "reduce" : "normal", 6) == 0 || cl[0] == '[');
    }
}

/* literal -> JSON -> literal and JSON -> literal -> JSON, both lossless. */
static void check_round_trip(Arena *a, const Genotype *g)
{
    Diag d;
    diag_init(&d);
    char *lit = fe_genotype_to_literal(a, g), *json = fe_genotype_to_json(a, g);
    Genotype gj, gl;
    CHECK(fe_parse_genotype_json(a, "rt.json", json, strlen(json), &gj, &d));
    CHECK(fe_parse_darts_text(a, "rt.txt", lit, strlen(lit), g->name, &gl, &d));
    CHECK(d.nmsg == 0);
    CHECK(geno_equal(g, &gj) && geno_equal(g, &gl));
    CHECK_STR(fe_genotype_to_literal(a, &gj), lit);
    CHECK_STR(fe_genotype_to_json(a, &gl), json);
    check_locs(json, &gj, true);
    check_locs(lit, &gl, true);
    diag_free(&d);
}

static void test_darts_ops(void)
{
    const DartsOp *op = fe_darts_op("dil_conv_5x5");
    CHECK(op && op->kind == DK_DILCONV && op->kernel == 5 && op->pad == 4 && op->dilation == 2);
    op = fe_darts_op("dil_conv_3x3");
    CHECK(op && op->kernel == 3 && op->pad == 2 && op->dilation == 2);
    op = fe_darts_op("sep_conv_7x7");
    CHECK(op && op->kind == DK_SEPCONV && op->pad == 3 && op->dilation == 1);
    CHECK(fe_darts_op("conv_7x1_1x7")->kind == DK_CONV7x1_1x7);
    CHECK(fe_darts_op("none")->kind == DK_NONE && fe_darts_op("skip_connect")->kind == DK_SKIP);
    CHECK(fe_darts_op("max_pool_3x3")->pad == 1 && fe_darts_op("avg_pool_3x3")->kernel == 3);
    CHECK(!fe_darts_op("sep_conv_9x9") && !fe_darts_op(NULL) && !fe_darts_op(""));
    int n = 0;
    while (fe_darts_ops[n].name)
        n++;
    CHECK(n == 10);
}

/* The published DARTS genotypes (shared/design/genotypes/darts.txt). */
static void test_darts_txt(Arena *a, const char *path)
{
    size_t len;
    char *text = read_or_null(a, path, &len);
    if (!text) {
        printf("SKIP darts.txt checks: %s not found\n", path);
        return;
    }
    Diag d;
    diag_init(&d);
    Genotype *gs;
    int n = fe_parse_darts_all(a, "darts.txt", text, len, &gs, &d);
    CHECK(n == 5);
    if (n != 5)
        return;
    const char *names[5] = {"NASNet", "AmoebaNet", "DARTS_V1", "DARTS_V2", "DARTS"};
    for (int i = 0; i < 5; i++) {
        CHECK_STR(gs[i].name, names[i]);
        CHECK(fe_genotype_check(&gs[i], &d));
        check_locs(text, &gs[i], true);
        check_round_trip(a, &gs[i]);
        /* the printer writes what DARTS prints: each non-alias line, exactly */
        char *lit = fe_genotype_to_literal(a, &gs[i]);
        CHECK(i == 4 || strstr(text, lit) != NULL);
    }
    CHECK(d.nmsg == 0);
    const GenoEdge *e = &gs[3].normal.edges[7];
    CHECK(strcmp(e->op, "dil_conv_3x3") == 0 && e->input == 2);
    CHECK(gs[0].reduce.nconcat == 3 && gs[0].reduce.concat[0] == 4 &&
          gs[0].reduce.concat[1] == 5 && gs[0].reduce.concat[2] == 6);
    CHECK(gs[0].normal.nedge == 10 && gs[0].normal.nconcat == 5);
    CHECK(gs[1].reduce.edges[9].input == 5 && gs[1].reduce.concat[2] == 6);
    Genotype v2 = gs[3];
    v2.name = "DARTS";
    CHECK(geno_equal(&v2, &gs[4]));

    Genotype g;
    CHECK(fe_parse_darts_text(a, "darts.txt", text, len, "DARTS", &g, &d));
    CHECK(geno_equal(&g, &gs[4]));
    CHECK(!fe_parse_darts_text(a, "darts.txt", text, len, NULL, &g, &d));
    CHECK(!fe_parse_darts_text(a, "darts.txt", text, len, "DARTS_V3", &g, &d));
    CHECK_STR(check_diag_text(a, &d),
              "darts.txt: error: 5 genotypes in file; choose one with --genotype: NASNet, "
              "AmoebaNet, DARTS_V1, DARTS_V2, DARTS\n"
              "darts.txt: error: no genotype named 'DARTS_V3'; available: NASNet, AmoebaNet, "
              "DARTS_V1, DARTS_V2, DARTS\n");
    diag_free(&d);
}

/* tests/frontend/genotypes_fixture.py: the syntax variants. */
static void test_fixture(Arena *a)
{
    size_t len;
    char *text = read_or_null(a, src_path(a, "genotypes_fixture.py"), &len);
    CHECK(text != NULL);
    if (!text)
        return;
    Diag d;
    diag_init(&d);
    Genotype *gs;
    int n = fe_parse_darts_all(a, "fixture.py", text, len, &gs, &d);
    CHECK(n == 6 && d.nmsg == 0);
    if (n != 6)
        return;
    const char *names[6] = {"MULTI", "SHUFFLED", "POSITIONAL", "SEARCHED", "SHORT",
                            "ALIAS_OF_ALIAS"};
    for (int i = 0; i < n; i++) {
        CHECK_STR(gs[i].name, names[i]);
        CHECK(fe_genotype_check(&gs[i], &d));
        check_locs(text, &gs[i], i == 2);
        check_round_trip(a, &gs[i]);
    }
    CHECK(d.nmsg == 0);
    /* MULTI: double quotes, multi-line, range(2, 4) located at `range` */
    CHECK(gs[0].normal.nedge == 4 && strcmp(gs[0].normal.edges[2].op, "dil_conv_3x3") == 0);
    CHECK(gs[0].normal.nconcat == 2 && gs[0].normal.concat[1] == 3);
    CHECK(gs[0].normal.concat_loc[0].line == 33 && gs[0].normal.concat_loc[0].col == 19);
    CHECK(gs[0].loc.line == 26 && gs[0].loc.col == 1 && gs[0].normal.loc.line == 27);
    CHECK(strcmp(gs[0].reduce.edges[3].op, "conv_7x1_1x7") == 0);
    /* SHUFFLED: keyword order, list(range(2, 3)), concat order kept */
    CHECK(gs[1].normal.nconcat == 1 && gs[1].normal.concat[0] == 2);
    CHECK(gs[1].reduce.nconcat == 2 && gs[1].reduce.concat[0] == 2 && gs[1].reduce.concat[1] == 1);
    CHECK(gs[1].reduce.concat_loc[1].line == 40 && gs[1].reduce.concat_loc[1].col == 41);
    CHECK(gs[1].normal.concat_loc[0].line == 40 && gs[1].normal.concat_loc[0].col == 120);
    CHECK(strcmp(gs[1].reduce.edges[0].op, "none") == 0 && gs[1].reduce.edges[0].input == 1);
    /* POSITIONAL and its aliases */
    CHECK(gs[2].reduce.nedge == 2 && gs[2].reduce.concat[0] == 2);
    Genotype p = gs[2];
    p.name = "ALIAS_OF_ALIAS";
    CHECK(geno_equal(&p, &gs[5]) && gs[5].loc.line == 50);
    /* SEARCHED: range(2, 6) */
    CHECK(gs[3].reduce.nconcat == 4 && gs[3].reduce.concat[3] == 5);

    /* a bare literal: no name, selectable with want == NULL */
    Genotype g;
    text = read_or_null(a, src_path(a, "bare_genotype.txt"), &len);
    CHECK(text && fe_parse_darts_text(a, "bare.txt", text, len, NULL, &g, &d));
    CHECK(text && g.name == NULL && g.normal.nedge == 8 && g.reduce.concat[3] == 5);
    if (text)
        check_round_trip(a, &g);
    diag_free(&d);
}

/* The writer's exact output, and fe_load_genotype on both formats. */
static void test_json_and_load(Arena *a)
{
    Diag d;
    diag_init(&d);
    Genotype g, gj;
    size_t len;
    CHECK(fe_load_genotype(a, src_path(a, "genotypes_fixture.py"), "MULTI", &g, &d));
    char *golden = read_or_null(a, src_path(a, "multi.json"), &len);
    CHECK(golden != NULL);
    if (golden)
        CHECK_STR(fe_genotype_to_json(a, &g), golden);
    CHECK(fe_load_genotype(a, src_path(a, "multi.json"), NULL, &gj, &d) && geno_equal(&g, &gj));
    CHECK(fe_load_genotype(a, src_path(a, "multi.json"), "MULTI", &gj, &d));
    CHECK(gj.normal.edges[1].loc.line == 9 && gj.normal.edges[1].loc.col == 8);
    CHECK(gj.normal.edges[1].input_loc.line == 9 && gj.normal.edges[1].input_loc.col == 24);
    CHECK(gj.reduce.concat_loc[1].line == 22 && gj.reduce.concat_loc[1].col == 19);
    CHECK(d.nmsg == 0);
    CHECK(!fe_read_file(a, "no/such/file.txt", &len, &d));
    CHECK_STR(check_diag_text(a, &d),
              "no/such/file.txt: error: cannot open: No such file or directory\n");
    diag_free(&d);
}

/* Parses text as the literal (or JSON) form: either it parses, or it fails
 * with at least one message; every message is located in `file`. Never
 * crashes (run under ASan/UBSan in CI). Returns true if it parsed. */
static bool survive(Arena *a, const char *text, size_t len, bool json)
{
    Diag d;
    diag_init(&d);
    const char *file = json ? "h.json" : "h.txt";
    Genotype *gs = NULL, one;
    int n;
    if (json) {
        n = fe_parse_genotype_json(a, file, text, len, &one, &d) ? 1 : -1;
        gs = &one;
    } else {
        n = fe_parse_darts_all(a, file, text, len, &gs, &d);
    }
    CHECK(n >= 0 ? d.nerr == 0 : d.nerr > 0);
    for (int i = 0; i < n; i++) {
        fe_genotype_check(&gs[i], &d);
        fe_genotype_to_literal(a, &gs[i]);
        fe_genotype_to_json(a, &gs[i]);
    }
    for (int i = 0; i < d.nmsg; i++) {
        CHECK(strncmp(d.msg[i], file, strlen(file)) == 0 && d.msg[i][strlen(file)] == ':');
        CHECK(strchr(d.msg[i], '\n') == NULL);
    }
    diag_free(&d);
    return n >= 0;
}

static char *first_error(Arena *a, const char *text, size_t len, bool json)
{
    Diag d;
    diag_init(&d);
    Genotype g;
    bool ok = json ? fe_parse_genotype_json(a, "h", text, len, &g, &d)
                   : fe_parse_darts_text(a, "h", text, len, NULL, &g, &d);
    char *s = ok || d.nmsg == 0 ? NULL : arena_strdup(a, d.msg[0]);
    diag_free(&d);
    return s;
}

static void test_hostile(Arena *a, const Genotype *g)
{
    const char *src[2] = {fe_genotype_to_literal(a, g), fe_genotype_to_json(a, g)};
    for (int k = 0; k < 2; k++) { /* every truncation */
        size_t len = strlen(src[k]);
        for (size_t n = 0; n < len; n++)
            survive(a, arena_strndup(a, src[k], n), n, k);
    }
    static const char bytes[] = "()[]{},:'\"=#\\\n\r\t -.0123456789exr\xff";
    uint64_t rng = 0x9E3779B97F4A7C15u;
    for (int it = 0; it < 20000; it++) { /* 1-4 byte mutations */
        int k = it & 1;
        size_t len = strlen(src[k]);
        char *t = arena_strndup(a, src[k], len);
        for (int m = 0; m <= it % 4; m++) {
            rng = rng * 6364136223846793005u + 1442695040888963407u;
            t[(rng >> 33) % len] = bytes[(rng >> 17) % (sizeof bytes - 1)];
        }
        survive(a, t, len, k);
    }
    size_t deep = 200000;
    char *nest = arena_alloc(a, deep + 32);
    memcpy(nest, "X = Genotype(normal=", 20);
    memset(nest + 20, '[', deep);
    CHECK_STR(first_error(a, nest, deep + 20, false),
              "h:1:23: error: expected an op name string, found '['");
    CHECK_STR(first_error(a, nest + 16, deep + 4, false), "h:1:5: error: '[' was never closed");
    memset(nest, '[', deep);
    CHECK(!survive(a, nest, deep, true));
    CHECK_STR(first_error(a, "X = Genotype(normal=[('a', 99999999999)]", 40, false),
              "h:1:28: error: integer '99999999999' is out of range");
    CHECK_STR(first_error(a, "X = Genotype(normal=[('a', -2147483649)]", 40, false),
              "h:1:28: error: integer '-2147483649' is out of range");
    CHECK_STR(first_error(a, "X = Genotype(\0)", 15, false), "h:1:14: error: NUL byte in input");
    CHECK_STR(first_error(a, "{\"a\": \"\0\"}", 10, true), "h:1:8: error: NUL byte in input");
    CHECK_STR(first_error(a, "", 0, false), "h: error: no Genotype(...) found");
    CHECK_STR(first_error(a, "", 0, true), "h:1:1: error: invalid JSON: unexpected end of file");
    CHECK_STR(first_error(a, "X = Genotype(normal=[('\\x0', 1)]", 32, false),
              "h:1:23: error: invalid \\x escape in string");
    CHECK(survive(a, "# only a comment\n\n", 18, false));
    /* escapes survive both printers */
    Genotype e = *g;
    GenoEdge edges[2] = {g->normal.edges[0], g->normal.edges[1]};
    edges[0].op = "it's \"odd\"\\\t\x01\xc3\xa9";
    e.normal.edges = edges;
    e.normal.nedge = 2;
    check_round_trip(a, &e);
    e.name = NULL;
    check_round_trip(a, &e);
}

/* ---- errors mode ---- */

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

static bool has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
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
    for (struct dirent *de; (de = readdir(dp)) && n < 512;)
        if (has_suffix(de->d_name, ".txt") || has_suffix(de->d_name, ".json"))
            names[n++] = arena_strdup(&a, de->d_name);
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
        char *want = read_or_null(&a, arena_printf(&a, "%s.want", stem), &len);
        char *golden = read_or_null(&a, arena_printf(&a, "%s.err", stem), &len);
        if (want)
            want[strcspn(want, "\n")] = 0;
        Diag d;
        diag_init(&d);
        Genotype g;
        bool ok = fe_load_genotype(&a, names[i], want, &g, &d);
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
    CHECK(n >= 10);
    arena_free_all(&a);
    return failures != 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "errors") == 0)
        return run_error_goldens(argv[2]);
    if (argc < 3 || strcmp(argv[1], "unit") != 0) {
        fprintf(stderr, "usage: %s unit SRCDIR [DARTS_TXT] | errors BADDIR\n", argv[0]);
        return 2;
    }
    src_dir = argv[2];
    Arena a;
    arena_init(&a);
    test_darts_ops();
    test_fixture(&a);
    test_json_and_load(&a);
    if (argc > 3)
        test_darts_txt(&a, argv[3]);
    else
        printf("SKIP darts.txt checks: no path given\n");
    Diag d;
    diag_init(&d);
    Genotype g;
    if (fe_load_genotype(&a, src_path(&a, "bare_genotype.txt"), NULL, &g, &d))
        test_hostile(&a, &g);
    else
        CHECK(d.nerr == 0);
    diag_free(&d);
    arena_free_all(&a);
    printf("%s: %d failures\n", argv[0], failures);
    return failures != 0;
}
