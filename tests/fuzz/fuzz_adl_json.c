/* fuzz_adl_json.c — the canonical Auto-DeepLab JSON reader. An
 * architecture that passes the check must print as JSON that reads back
 * and prints identically.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_copy(data, size);
    Arena a;
    arena_init(&a);
    Diag d;
    diag_init(&d);
    AdlArch arch;
    fe_adl_defaults(&arch);
    bool ok = fe_adl_parse_json(&a, "fuzz.json", text, size, &arch, &d);
    fuzz_result(ok, &d, "fe_adl_parse_json");
    if (ok) {
        ok = fe_adl_check(&arch, &d);
        fuzz_result(ok, &d, "fe_adl_check");
    }
    if (ok) {
        char *js = fe_adl_to_json(&a, &arch);
        AdlArch back;
        fe_adl_defaults(&back);
        ok = fe_adl_parse_json(&a, "printed.json", js, strlen(js), &back, &d) &&
             fe_adl_check(&back, &d);
        fuzz_result(ok, &d, "re-reading printed JSON");
        fuzz_require(ok, "printed JSON does not read back");
        fuzz_require(strcmp(js, fe_adl_to_json(&a, &back)) == 0,
                     "JSON round trip changed the architecture");
    }
    diag_free(&d);
    arena_free_all(&a);
    free(text);
    return 0;
}
