/* fuzz_genotype_json.c — the canonical genotype JSON reader
 * (docs/genotype-json.md). A genotype that passes the check must print as
 * JSON that reads back and prints identically.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_copy(data, size);
    Arena a;
    arena_init(&a);
    Diag d;
    diag_init(&d);
    Genotype g;
    bool ok = fe_parse_genotype_json(&a, "fuzz.json", text, size, &g, &d);
    fuzz_result(ok, &d, "fe_parse_genotype_json");
    if (ok) {
        ok = fe_genotype_check(&g, &d);
        fuzz_result(ok, &d, "fe_genotype_check");
    }
    if (ok) {
        char *js = fe_genotype_to_json(&a, &g);
        Genotype back;
        ok = fe_parse_genotype_json(&a, "printed.json", js, strlen(js), &back, &d);
        fuzz_result(ok, &d, "re-reading printed JSON");
        fuzz_require(ok, "printed JSON does not read back");
        fuzz_require(strcmp(js, fe_genotype_to_json(&a, &back)) == 0,
                     "JSON round trip changed the genotype");
    }
    diag_free(&d);
    arena_free_all(&a);
    free(text);
    return 0;
}
