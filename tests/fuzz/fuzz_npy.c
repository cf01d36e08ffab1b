/* fuzz_npy.c — the .npy integer reader (fe_npy_parse_ints on memory). A
 * success must describe an array that fits: rank <= 8, numel = product of
 * the shape, every element readable.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Arena a;
    arena_init(&a);
    Diag d;
    diag_init(&d);
    NpyArray x;
    bool ok = fe_npy_parse_ints(&a, "fuzz.npy", data, size, &x, &d);
    fuzz_result(ok, &d, "fe_npy_parse_ints");
    if (ok) {
        fuzz_require(x.rank >= 0 && x.rank <= 8, "rank out of range");
        int64_t numel = 1;
        for (int i = 0; i < x.rank; i++) {
            fuzz_require(x.shape[i] >= 0, "negative dimension");
            fuzz_require(x.shape[i] == 0 || numel <= INT64_MAX / x.shape[i],
                         "shape product overflows");
            numel *= x.shape[i];
        }
        fuzz_require(numel == x.numel, "numel is not the product of the shape");
        /* the data cannot hold more elements than the input has bytes */
        fuzz_require((uint64_t)x.numel <= size, "more elements than input bytes");
        volatile uint64_t sum = 0; /* unsigned: wraps, never UB */
        for (int64_t i = 0; i < x.numel; i++)
            sum += (uint64_t)x.data[i];
        (void)sum;
    }
    diag_free(&d);
    arena_free_all(&a);
    return 0;
}
