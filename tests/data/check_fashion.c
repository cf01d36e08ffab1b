/* check_fashion.c DIR NTRAIN NVAL — checks a `nasc data fashion-seg` tree
 * through the loader: both splits open with 11 classes and the requested
 * sizes, every mask holds 0..10 or 255 (the loader rejects anything else),
 * and the labels agree with the pixels: label 0 exactly where the image is
 * black, all channels lit under a garment label. Prints label frequencies.
 */
#include "search/data.h"
#include "tests/check.h"

static void check_split(Arena *a, const char *dir, const char *split, int64_t want_n,
                        int64_t *hist)
{
    Dataset ds;
    Diag d;
    diag_init(&d);
    CHECK(srch_ds_open(a, dir, split, &ds, &d));
    CHECKF(ds.n == want_n, "%s has %lld samples, want %lld", split, (long long)ds.n,
           (long long)want_n);
    CHECK(ds.classes == FASHION_CLASSES);
    CHECK(ds.class_names && strcmp(ds.class_names[10], "ankle_boot") == 0);
    for (int c = 0; c < 3; c++)
        ds.mean[c] = 0.0f, ds.std[c] = 1.0f / 255.0f; /* x = raw 0..255 */
    for (int64_t i = 0; i < ds.n && d.nerr == 0; i++) {
        DsImage img;
        if (!srch_ds_load(&ds, i, &img, &d))
            break;
        int64_t hw = (int64_t)img.h * img.w, bad = 0;
        for (int64_t p = 0; p < hw; p++) {
            float r = img.x[p], g = img.x[hw + p], b = img.x[2 * hw + p];
            int label = img.y[p];
            hist[label]++;
            if (label == 0)
                bad += r != 0 || g != 0 || b != 0;
            else if (label != DS_IGNORE)
                bad += r < 1 || g < 1 || b < 1;
            else
                bad += r == 0 && g == 0 && b == 0;
        }
        CHECKF(bad == 0, "%s: %lld pixels whose label disagrees with the image",
               ds.image_paths[i], (long long)bad);
        srch_ds_image_free(&img);
    }
    for (int i = 0; i < d.nmsg; i++)
        fprintf(stderr, "%s\n", d.msg[i]);
    CHECK(d.nerr == 0);
    diag_free(&d);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: check_fashion DIR NTRAIN NVAL\n");
        return 2;
    }
    Arena a;
    arena_init(&a);
    int64_t hist[256] = {0}, total = 0;
    check_split(&a, argv[1], "train", atoll(argv[2]), hist);
    check_split(&a, argv[1], "val", atoll(argv[3]), hist);
    for (int k = 0; k < 256; k++)
        total += hist[k];
    for (int k = 0; k < 256; k++) {
        if (k < FASHION_CLASSES || hist[k])
            printf("label %3d: %6.2f %%\n", k, 100.0 * (double)hist[k] / (double)total);
        if (k >= 1 && k < FASHION_CLASSES)
            CHECKF(hist[k] > 0, "class %d never appears", k);
    }
    CHECK(hist[DS_IGNORE] > 0);
    arena_free_all(&a);
    printf("%s: %d failures\n", failures ? "FAIL" : "ok", failures);
    return failures != 0;
}
