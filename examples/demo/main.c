/* main.c — the demo's host program around a nasc-generated network.
 *
 * Reads a binary PPM (P6) image of the network's input size, normalises it
 * with the CIFAR-10 channel statistics DARTS trains with, runs NET_run a
 * few times and prints the top classes and the median time. Only this file
 * uses stdio and the clock; the generated net.c uses neither.
 */
#define _POSIX_C_SOURCE 200809L
#include "net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const cifar10[10] = {"airplane", "automobile", "bird", "cat", "deer",
                                        "dog", "frog", "horse", "ship", "truck"};

static int read_ppm(const char *path, float *x, int h, int w)
{
    static const float mean[3] = {0.4914f, 0.4822f, 0.4465f};
    static const float std[3] = {0.2470f, 0.2435f, 0.2616f};
    FILE *f = fopen(path, "rb");
    int pw, ph, maxv;
    if (!f || fscanf(f, "P6 %d %d %d", &pw, &ph, &maxv) != 3 || fgetc(f) == EOF) {
        fprintf(stderr, "%s: not a binary PPM (P6) image\n", path);
        return -1;
    }
    if (pw != w || ph != h || maxv != 255) {
        fprintf(stderr, "%s: image is %dx%d (max %d), the network wants %dx%d, 8-bit\n", path,
                pw, ph, maxv, w, h);
        fclose(f);
        return -1;
    }
    for (int i = 0; i < h * w; i++) {
        unsigned char rgb[3];
        if (fread(rgb, 1, 3, f) != 3) {
            fprintf(stderr, "%s: truncated pixel data\n", path);
            fclose(f);
            return -1;
        }
        for (int c = 0; c < 3; c++) /* HWC bytes -> CHW floats */
            x[c * h * w + i] = (rgb[c] / 255.0f - mean[c]) / std[c];
    }
    fclose(f);
    return 0;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    enum { RUNS = 7 };
    static float input[NET_INPUT_SIZE], output[NET_OUTPUT_SIZE];
    if (argc != 2) {
        fprintf(stderr, "usage: %s IMAGE.ppm\n", argv[0]);
        return 2;
    }
    if (read_ppm(argv[1], input, NET_INPUT_H, NET_INPUT_W) != 0)
        return 1;
    /* aligned_alloc wants a multiple of the alignment (and not zero) */
    size_t ws_bytes = ((size_t)NET_WORKSPACE_BYTES / NET_WORKSPACE_ALIGN + 1) * NET_WORKSPACE_ALIGN;
    void *ws = aligned_alloc(NET_WORKSPACE_ALIGN, ws_bytes);
    double ms[RUNS];
    for (int r = 0; r < RUNS; r++) {
        double t0 = now_ms();
        if (!ws || net_run(input, output, ws) != 0) {
            fprintf(stderr, "net_run failed\n");
            return 1;
        }
        ms[r] = now_ms() - t0;
    }
    qsort(ms, RUNS, sizeof ms[0], cmp_double);
    int order[NET_OUTPUT_SIZE];
    for (int i = 0; i < NET_OUTPUT_SIZE; i++)
        order[i] = i;
    for (int i = 0; i < NET_OUTPUT_SIZE; i++) /* selection sort: 10 classes */
        for (int j = i + 1; j < NET_OUTPUT_SIZE; j++)
            if (output[order[j]] > output[order[i]]) {
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
    printf("top classes for %s:\n", argv[1]);
    for (int k = 0; k < 3 && k < NET_OUTPUT_SIZE; k++) {
        int c = order[k];
        printf("  %d. %-10s (class %d)  logit %+.4f\n", k + 1,
               NET_OUTPUT_SIZE == 10 ? cifar10[c] : "", c, output[c]);
    }
    printf("time: median %.2f ms, min %.2f ms over %d runs (workspace %ld bytes)\n",
           ms[RUNS / 2], ms[0], RUNS, (long)NET_WORKSPACE_BYTES);
    free(ws);
    return 0;
}
