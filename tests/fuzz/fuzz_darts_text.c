/* fuzz_darts_text.c — the DARTS `Genotype(...)` literal reader.
 *
 * Every genotype of the text is checked; a genotype that passes the check
 * must survive printing as a literal and as canonical JSON and reading back
 * (a writer that emits what its own reader refuses is a bug too).
 */
#include "fuzz.h"

static void round_trip(const Genotype *g)
{
    Arena a;
    arena_init(&a);
    Diag d;
    diag_init(&d);
    char *lit = fe_genotype_to_literal(&a, g);
    Genotype back;
    bool ok = fe_parse_darts_text(&a, "lit", lit, strlen(lit), NULL, &back, &d) &&
              fe_genotype_check(&back, &d);
    fuzz_result(ok, &d, "re-reading the printed literal");
    fuzz_require(ok, "printed literal does not read back");
    char *js = fe_genotype_to_json(&a, g);
    ok = fe_parse_genotype_json(&a, "json", js, strlen(js), &back, &d) &&
         fe_genotype_check(&back, &d);
    fuzz_require(ok, "printed JSON does not read back");
    diag_free(&d);
    arena_free_all(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_copy(data, size);
    Arena a;
    arena_init(&a);
    Diag d;
    diag_init(&d);
    Genotype *all = NULL;
    int n = fe_parse_darts_all(&a, "fuzz.py", text, size, &all, &d);
    fuzz_result(n >= 0, &d, "fe_parse_darts_all");
    for (int i = 0; i < n; i++) {
        Diag c;
        diag_init(&c);
        bool ok = fe_genotype_check(&all[i], &c);
        fuzz_result(ok, &c, "fe_genotype_check");
        if (ok)
            round_trip(&all[i]);
        diag_free(&c);
    }
    diag_free(&d);
    diag_init(&d);
    Genotype g;
    bool ok = fe_parse_darts_text(&a, "fuzz.py", text, size, NULL, &g, &d);
    fuzz_result(ok, &d, "fe_parse_darts_text");
    if (ok)
        fuzz_result(fe_genotype_check(&g, &d), &d, "fe_genotype_check");
    diag_free(&d);
    arena_free_all(&a);
    free(text);
    return 0;
}
