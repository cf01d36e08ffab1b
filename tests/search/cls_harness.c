/* cls_harness.c — runs an emitted classifier (built with `--name fm`) on
 * raw f32 inputs and prints the argmax class of each, one per line. */
#include "fm.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    static float x[FM_INPUT_SIZE], y[FM_OUTPUT_C];
    unsigned char *raw = malloc(FM_WORKSPACE_BYTES + FM_WORKSPACE_ALIGN);
    void *ws = raw ? raw + (FM_WORKSPACE_ALIGN - (uintptr_t)raw % FM_WORKSPACE_ALIGN) : NULL;
    for (int i = 1; ws && i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        size_t got = f ? fread(x, sizeof(float), FM_INPUT_SIZE, f) : 0;
        if (f)
            fclose(f);
        if (got != FM_INPUT_SIZE || fm_run(x, y, ws) != 0) {
            fprintf(stderr, "cls_harness: %s: bad input or failed run\n", argv[i]);
            return 1;
        }
        int best = 0;
        for (int c = 1; c < FM_OUTPUT_C; c++)
            best = y[c] > y[best] ? c : best;
        printf("%d\n", best);
    }
    free(raw);
    return ws ? 0 : 1;
}
