/* fuzz_ir_text.c — the textual IR parser (docs/ir.md). A graph that
 * verifies must keep ir.h's promise print(parse(print(g))) == print(g).
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_copy(data, size);
    Arena a;
    arena_init(&a);
    Diag d;
    diag_init(&d);
    Graph *g = ir_parse(&a, "fuzz.ir", text, size, &d);
    fuzz_result(g != NULL, &d, "ir_parse");
    bool ok = g != NULL;
    if (ok) {
        ok = ir_verify(g, &d);
        fuzz_result(ok, &d, "ir_verify");
    }
    if (ok) {
        char *p1 = ir_print_str(g, &a);
        Graph *back = ir_parse(&a, "printed.ir", p1, strlen(p1), &d);
        fuzz_result(back != NULL, &d, "re-reading printed IR");
        fuzz_require(back != NULL, "printed IR does not parse");
        fuzz_require(strcmp(p1, ir_print_str(back, &a)) == 0,
                     "print(parse(print(g))) != print(g)");
    }
    diag_free(&d);
    arena_free_all(&a);
    free(text);
    return 0;
}
