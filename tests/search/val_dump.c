/* val_dump.c — writes a split of a dataset as the network sees it, for the
 * pipeline test: DIR SPLIT OUT -> OUT/x.bin (f32 [n,3,h,w], normalised as
 * the trainer normalises), OUT/y.bin (u8 [n,h,w] truth), OUT/meta.txt
 * ("n h w classes"). The emitted C is then scored on exactly these inputs.
 */
#include "search/data.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: val_dump DIR SPLIT OUT\n");
        return 2;
    }
    Arena a;
    arena_init(&a);
    Diag d;
    diag_init(&d);
    Dataset ds;
    DsImage first;
    if (!srch_ds_open(&a, argv[1], argv[2], &ds, &d) || !srch_ds_load(&ds, 0, &first, &d)) {
        diag_print(&d, stderr);
        return 1;
    }
    int h = first.h, w = first.w;
    srch_ds_image_free(&first);
    float *x = malloc(sizeof *x * 3 * (size_t)(h * w));
    uint8_t *y = malloc((size_t)(h * w));
    FILE *fx = fopen(arena_printf(&a, "%s/x.bin", argv[3]), "wb");
    FILE *fy = fopen(arena_printf(&a, "%s/y.bin", argv[3]), "wb");
    FILE *fm = fopen(arena_printf(&a, "%s/meta.txt", argv[3]), "w");
    if (!x || !y || !fx || !fy || !fm) {
        fprintf(stderr, "val_dump: cannot write into %s\n", argv[3]);
        return 1;
    }
    Rng r;
    srch_rng_seed(&r, 0);
    for (int64_t i = 0; i < ds.n; i++) {
        if (!srch_ds_batch(&ds, &r, &i, 1, h, w, false, x, y, &d)) {
            diag_print(&d, stderr);
            return 1;
        }
        fwrite(x, sizeof *x, 3 * (size_t)(h * w), fx);
        fwrite(y, 1, (size_t)(h * w), fy);
    }
    fprintf(fm, "%lld %d %d %d\n", (long long)ds.n, h, w, ds.classes);
    fclose(fx), fclose(fy), fclose(fm);
    free(x), free(y);
    diag_free(&d);
    arena_free_all(&a);
    return 0;
}
