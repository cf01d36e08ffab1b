/* miou_harness.c — scores an emitted segmentation network (built with
 * `--output argmax --name seg`) on val_dump's files and prints its mIoU.
 * Deliberately independent of search/metrics.c: its own confusion matrix,
 * IoU = TP / (TP + FP + FN) averaged over classes present in truth or
 * prediction, 255 pixels not counted.
 *   miou_harness DIR  ->  "mIoU 0.123456"
 */
#include "seg.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static void *slurp(const char *dir, const char *name, size_t want)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    unsigned char *p = malloc(want ? want : 1);
    size_t got = f && p ? fread(p, 1, want, f) : 0;
    if (f)
        fclose(f);
    if (got != want) {
        fprintf(stderr, "miou_harness: %s: expected %zu bytes\n", path, want);
        exit(1);
    }
    return p;
}

int main(int argc, char **argv)
{
    char path[4096];
    long long n;
    int h, w, classes;
    snprintf(path, sizeof path, "%s/meta.txt", argc > 1 ? argv[1] : ".");
    FILE *fm = fopen(path, "r");
    if (!fm || fscanf(fm, "%lld %d %d %d", &n, &h, &w, &classes) != 4 ||
        h != SEG_INPUT_H || w != SEG_INPUT_W) {
        fprintf(stderr, "miou_harness: bad or mismatched %s\n", path);
        return 1;
    }
    fclose(fm);
    size_t px = (size_t)h * (size_t)w;
    float *x = slurp(argv[1], "x.bin", (size_t)n * 3 * px * sizeof(float));
    uint8_t *y = slurp(argv[1], "y.bin", (size_t)n * px);
    uint8_t *pred = malloc(px);
    /* C99 has no aligned_alloc: over-allocate and round the pointer up */
    unsigned char *raw = malloc(SEG_WORKSPACE_BYTES + SEG_WORKSPACE_ALIGN);
    void *ws = raw ? raw + (SEG_WORKSPACE_ALIGN - (uintptr_t)raw % SEG_WORKSPACE_ALIGN) : NULL;
    long long *conf = calloc((size_t)classes * (size_t)classes, sizeof *conf);
    if (!pred || !ws || !conf)
        return 1;
    for (long long i = 0; i < n; i++) {
        if (seg_run(x + (size_t)i * 3 * px, pred, ws) != 0) {
            fprintf(stderr, "miou_harness: seg_run failed\n");
            return 1;
        }
        for (size_t k = 0; k < px; k++) {
            int t = y[(size_t)i * px + k], p = pred[k];
            if (t < classes && p < classes)
                conf[t * classes + p]++;
        }
    }
    double sum = 0;
    int present = 0;
    for (int c = 0; c < classes; c++) {
        long long tp = conf[c * classes + c], fp = 0, fn = 0;
        for (int j = 0; j < classes; j++)
            if (j != c)
                fn += conf[c * classes + j], fp += conf[j * classes + c];
        if (tp + fp + fn > 0)
            sum += (double)tp / (double)(tp + fp + fn), present++;
    }
    printf("mIoU %.6f\n", present ? sum / present : 0.0);
    return 0;
}
