/* limits.c — hostile-input limits of every reader (issue 8): oversized
 * safetensors headers, byte counts and dims that overflow, ranks past 8,
 * JSON nested far beyond cJSON's limit, DARTS cells with thousands of
 * edges, an IR text of 100k nodes. Each input must be refused with one-line
 * errors, or accepted, within the ctest timeout and without a crash (the
 * sanitizer builds run this too). Each case states which it expects.
 */
#include "frontend/genotype_internal.h"
#include "tests/check.h"

#include <string.h>
#include <time.h>

enum { EXPECT_FAIL, EXPECT_OK };
#define HLEN_AUTO 0 /* st_case: the header's own length */

/* ok must match `want`; failures carry errors, each on one line, and the
 * first error mentions `needle` (NULL: any message). */
static void expect(const char *what, bool ok, Diag *d, int want, const char *needle)
{
    CHECKF(ok == (want == EXPECT_OK), "%s: %s", what, ok ? "accepted" : "refused");
    if (!ok) {
        CHECKF(d->nerr > 0 && d->nmsg > 0, "%s: refused without an error", what);
        if (d->nmsg > 0 && needle)
            CHECKF(strstr(d->msg[0], needle), "%s: first error '%s' lacks '%s'", what,
                   d->msg[0], needle);
    }
    for (int i = 0; i < d->nmsg; i++)
        CHECKF(!strchr(d->msg[i], '\n'), "%s: multi-line message", what);
    if (d->nmsg > 0)
        printf("%s: %s\n", what, d->msg[0]);
    else
        printf("%s: accepted\n", what);
    diag_free(d);
}

/* ---- safetensors ---- */

static void st_case(const char *what, const char *header, uint64_t hlen_field, size_t data,
                    int want, const char *needle)
{
    size_t hl = strlen(header), len = 8 + hl + data;
    if (hlen_field == HLEN_AUTO)
        hlen_field = hl;
    unsigned char *buf = calloc(1, len);
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)(hlen_field >> (8 * i));
    memcpy(buf + 8, header, hl);
    Arena a;
    arena_init(&a);
    Diag d;
    diag_init(&d);
    SafeTensors st;
    expect(what, fe_safetensors_parse(&a, "t.safetensors", buf, len, &st, &d), &d, want,
           needle);
    arena_free_all(&a);
    free(buf);
}

static void safetensors_limits(void)
{
    const char *small = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    st_case("st valid", small, HLEN_AUTO, 8, EXPECT_OK, NULL);
    st_case("st header 100MB+1", small, 100000001ull, 8, EXPECT_FAIL, "exceeds the limit");
    st_case("st header 2^64-1", small, UINT64_MAX, 8, EXPECT_FAIL, "exceeds the limit");
    st_case("st header past end", small, strlen(small) + 9, 8, EXPECT_FAIL, "exceeds the");
    st_case("st numel overflow",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,2],"
            "\"data_offsets\":[0,0]}}", HLEN_AUTO, 0, EXPECT_FAIL, "overflows 64 bits");
    st_case("st bytes overflow",
            "{\"a\":{\"dtype\":\"F64\",\"shape\":[4294967296,1073741824],"
            "\"data_offsets\":[0,0]}}", HLEN_AUTO, 0, EXPECT_FAIL, "overflows 64 bits");
    st_case("st dim 2^64", "{\"a\":{\"dtype\":\"U8\",\"shape\":[18446744073709551616],"
            "\"data_offsets\":[0,0]}}", HLEN_AUTO, 0, EXPECT_FAIL, "below 2^53");
    st_case("st rank 9", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],"
            "\"data_offsets\":[0,1]}}", HLEN_AUTO, 1, EXPECT_FAIL, "rank 9 exceeds");
    st_case("st end past data", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
            "\"data_offsets\":[0,8]}}", HLEN_AUTO, 4, EXPECT_FAIL, "past the data");
}

/* ---- deep nesting ---- */

/* prefix + n x open + n x close + suffix, NUL-terminated, malloc'd. */
static char *nest(const char *prefix, size_t n, char open, char close, const char *suffix,
                  size_t *len)
{
    size_t lp = strlen(prefix), ls = strlen(suffix);
    *len = lp + 2 * n + ls;
    char *s = malloc(*len + 1);
    memcpy(s, prefix, lp);
    memset(s + lp, open, n);
    memset(s + lp + n, close, n);
    memcpy(s + lp + 2 * n, suffix, ls + 1);
    return s;
}

static void deep_nesting(void)
{
    enum { DEEP = 200000 };
    Arena a;
    arena_init(&a);
    Diag d;
    diag_init(&d);
    size_t len;
    char *s = nest("", DEEP, '[', ']', "", &len);
    Genotype g;
    AdlArch arch;
    fe_adl_defaults(&arch);
    expect("genotype json [[[...", fe_parse_genotype_json(&a, "g.json", s, len, &g, &d), &d,
           EXPECT_FAIL, "nest");
    expect("adl json [[[...", fe_adl_parse_json(&a, "a.json", s, len, &arch, &d), &d,
           EXPECT_FAIL, "nest");
    free(s);
    s = nest("{\"backbone\": ", DEEP, '[', ']', "}", &len);
    expect("tf json {backbone: [[[...", fe_adl_parse_tf(&a, "t.json", s, len, &arch, &d), &d,
           EXPECT_FAIL, "nest");
    free(s);
    s = nest("backbone = ", DEEP, '[', ']', "\n", &len);
    expect("tf py backbone = [[[...", fe_adl_parse_tf(&a, "t.py", s, len, &arch, &d), &d,
           EXPECT_FAIL, NULL);
    free(s);
    s = nest("G = Genotype(normal=", DEEP, '(', ')', ")\n", &len);
    expect("darts (((...", fe_parse_darts_text(&a, "g.py", s, len, NULL, &g, &d), &d,
           EXPECT_FAIL, NULL);
    free(s);
    s = nest("{\"a\":", DEEP, '[', ']', "}", &len);
    char *st = malloc(len + 8);
    for (int i = 0; i < 8; i++)
        st[i] = (char)((uint64_t)len >> (8 * i));
    memcpy(st + 8, s, len);
    SafeTensors t;
    expect("safetensors header [[[...",
           fe_safetensors_parse(&a, "n.safetensors", (unsigned char *)st, len + 8, &t, &d), &d,
           EXPECT_FAIL, NULL);
    free(st);
    free(s);
    arena_free_all(&a);
}

/* ---- huge genotypes and IR ---- */

static void huge_darts(void)
{
    enum { EDGES = 5000 };
    FeBuf b;
    Arena a;
    arena_init(&a);
    fe_buf_init(&b, &a);
    fe_buf_puts(&b, "BIG = Genotype(normal=[");
    for (int i = 0; i < EDGES; i++)
        fe_buf_printf(&b, "('sep_conv_3x3', %d), ", (i / 2 + 2) - 1 - (i % 2));
    fe_buf_puts(&b, "], normal_concat=range(2, 2502), reduce=[");
    for (int i = 0; i < EDGES; i++)
        fe_buf_printf(&b, "('max_pool_3x3', %d), ", i % (i / 2 + 2));
    fe_buf_puts(&b, "], reduce_concat=[2500, 2501])\n");
    char *text = fe_buf_str(&b);
    Diag d;
    diag_init(&d);
    Genotype g;
    clock_t t0 = clock();
    bool ok = fe_parse_darts_text(&a, "big.py", text, strlen(text), NULL, &g, &d) &&
              fe_genotype_check(&g, &d);
    expect("darts 5000-edge cells", ok, &d, EXPECT_OK, NULL);
    CHECK(!ok || (g.normal.nedge == EDGES && g.normal.nconcat == 2500));
    char *js = ok ? fe_genotype_to_json(&a, &g) : NULL;
    if (js) {
        Genotype back;
        expect("darts 5000-edge json round trip",
               fe_parse_genotype_json(&a, "big.json", js, strlen(js), &back, &d) &&
                   fe_genotype_check(&back, &d), &d, EXPECT_OK, NULL);
    }
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    printf("darts 5000-edge cells: %.2f s, arena %zu bytes\n", secs, a.total);
    CHECKF(secs < 10, "5000-edge genotype took %.1f s", secs);
    CHECKF(a.total < ((size_t)64 << 20), "5000-edge genotype used %zu bytes", a.total);
    arena_free_all(&a);
}

static void huge_ir(void)
{
    enum { NODES = 100000 };
    Arena a;
    arena_init(&a);
    FeBuf b;
    fe_buf_init(&b, &a);
    fe_buf_puts(&b, "graph @big(%0: f32[1,4,2,2] \"input\") {\n");
    for (int i = 1; i <= NODES; i++)
        fe_buf_printf(&b, "  %%%d = relu %%%d : f32[1,4,2,2]\n", i, i - 1);
    fe_buf_printf(&b, "  return %%%d\n}\n", NODES);
    char *text = fe_buf_str(&b);
    Diag d;
    diag_init(&d);
    clock_t t0 = clock();
    Graph *g = ir_parse(&a, "big.nir", text, strlen(text), &d);
    bool ok = g && ir_verify(g, &d);
    expect("ir 100k nodes", ok, &d, EXPECT_OK, NULL);
    CHECK(!g || g->nnode >= NODES);
    /* the same with the last line cut: one error, not 100k */
    g = ir_parse(&a, "cut.nir", text, strlen(text) - 3, &d);
    CHECK(g == NULL && d.nerr >= 1 && d.nmsg <= DIAG_MAX);
    expect("ir 100k nodes truncated", g != NULL, &d, EXPECT_FAIL, NULL);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    printf("ir 100k nodes: %.2f s, arena %zu bytes\n", secs, a.total);
    CHECKF(secs < 20, "100k-node IR took %.1f s", secs);
    CHECKF(a.total < ((size_t)512 << 20), "100k-node IR used %zu bytes", a.total);
    arena_free_all(&a);
}

int main(void)
{
    safetensors_limits();
    deep_nesting();
    huge_darts();
    huge_ir();
    if (failures)
        fprintf(stderr, "%d checks failed\n", failures);
    return failures ? 1 : 0;
}
