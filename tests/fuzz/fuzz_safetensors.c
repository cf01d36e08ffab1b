/* fuzz_safetensors.c — safetensors header and layout validation
 * (fe_safetensors_parse on memory), then the f32 conversion of every
 * tensor: the validated offsets and shapes are exactly what conversion
 * trusts, so it runs on all of them under ASan.
 */
#include "fuzz.h"

static void convert_all(const SafeTensors *st)
{
    for (int i = 0; i < st->nt; i++) {
        const StTensor *t = &st->t[i];
        uint64_t numel = 1;
        for (int k = 0; k < t->rank; k++)
            numel *= (uint64_t)t->shape[k]; /* validated: no overflow */
        bool floating = t->dtype == ST_F32 || t->dtype == ST_F16 || t->dtype == ST_BF16 ||
                        t->dtype == ST_F64;
        /* numel * dtype size == end - begin <= input size, so this is small */
        float *dst = malloc(numel ? numel * sizeof *dst : 1);
        fuzz_require(dst != NULL, "out of memory");
        Diag d;
        diag_init(&d);
        bool ok = fe_safetensors_to_f32(st, i, dst, &d);
        fuzz_result(ok, &d, "fe_safetensors_to_f32");
        fuzz_require(ok == floating, "conversion accepted a non-float dtype or refused a float");
        diag_free(&d);
        free(dst);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Arena a;
    arena_init(&a);
    Diag d;
    diag_init(&d);
    SafeTensors st;
    bool ok = fe_safetensors_parse(&a, "fuzz.safetensors", data, size, &st, &d);
    fuzz_result(ok, &d, "fe_safetensors_parse");
    if (ok) {
        fuzz_require(st.data_len <= size, "data section larger than the input");
        for (int i = 0; i < st.nt; i++)
            fuzz_require(st.t[i].rank >= 0 && st.t[i].rank <= 8 &&
                         st.t[i].end <= st.data_len && st.t[i].begin <= st.t[i].end,
                         "tensor outside the data section");
        convert_all(&st);
    }
    diag_free(&d);
    arena_free_all(&a);
    return 0;
}
