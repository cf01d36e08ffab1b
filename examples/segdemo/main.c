/* main.c — host program around a nasc-generated segmentation network
 * (`nasc compile ARCH --output argmax --name seg`).
 *
 *   segdemo IMAGE.png OUT_MASK.png [TRUTH_MASK.png]
 *
 * Loads an RGB image of the network's input size with stb_image, normalises
 * it with the ImageNet statistics nasc's trainer uses, runs seg_run (uint8
 * labels out), writes the labels as a PNG in the Pascal VOC colours and, given
 * the truth mask (a VOC-palette PNG as nasc data writes; 255 ignored), prints the
 * pixel accuracy. stb and stdio live here only; seg.c needs neither.
 */
#define _POSIX_C_SOURCE 200809L
#include "seg.h"

#include <stb/stb_image.h>
#include <stb/stb_image_write.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void voc_colour(int k, unsigned char rgb[3])
{
    rgb[0] = rgb[1] = rgb[2] = 0;
    for (int shift = 7; k; shift--, k >>= 3)
        for (int ch = 0; ch < 3; ch++)
            rgb[ch] |= (unsigned char)(((k >> ch) & 1) << shift);
}

int main(int argc, char **argv)
{
    static const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    enum { H = SEG_INPUT_H, W = SEG_INPUT_W };
    if (argc < 3) {
        fprintf(stderr, "usage: segdemo IMAGE.png OUT_MASK.png [TRUTH_MASK.png]\n");
        return 2;
    }
    int w, h, n;
    unsigned char *img = stbi_load(argv[1], &w, &h, &n, 3);
    if (!img || w != W || h != H) {
        fprintf(stderr, "%s: need a %dx%d image\n", argv[1], W, H);
        return 1;
    }
    float *x = malloc(sizeof *x * 3 * H * W);
    uint8_t *labels = malloc(H * W);
    unsigned char *rgb = malloc(3 * H * W);
    unsigned char *raw = malloc(SEG_WORKSPACE_BYTES + SEG_WORKSPACE_ALIGN);
    if (!x || !labels || !rgb || !raw)
        return 1;
    void *ws = raw + (SEG_WORKSPACE_ALIGN - (uintptr_t)raw % SEG_WORKSPACE_ALIGN);
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < H * W; i++)
            x[c * H * W + i] = (img[i * 3 + c] / 255.0f - mean[c]) / std[c];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (seg_run(x, labels, ws) != 0)
        return 1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    for (int i = 0; i < H * W; i++)
        voc_colour(labels[i], rgb + i * 3);
    if (!stbi_write_png(argv[2], W, H, 3, rgb, W * 3)) {
        fprintf(stderr, "%s: cannot write\n", argv[2]);
        return 1;
    }
    printf("%s: %dx%d labels in %.2f ms -> %s\n", argv[1], W, H,
           (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6, argv[2]);
    if (argc > 3) {
        /* stb expands the palette, so map VOC colours back to ids */
        unsigned char *truth = stbi_load(argv[3], &w, &h, &n, 3), pal[256][3];
        for (int k = 0; k < 256; k++)
            voc_colour(k, pal[k]);
        long right = 0, counted = 0;
        for (int i = 0; truth && w == W && h == H && i < H * W; i++) {
            int id = 0;
            while (id < 256 && (pal[id][0] != truth[i * 3] || pal[id][1] != truth[i * 3 + 1] ||
                                pal[id][2] != truth[i * 3 + 2]))
                id++;
            if (id < 255)
                counted++, right += id == labels[i];
        }
        if (counted)
            printf("pixel accuracy against %s: %.3f\n", argv[3], (double)right / counted);
        stbi_image_free(truth);
    }
    stbi_image_free(img);
    free(x), free(labels), free(rgb), free(raw);
    return 0;
}
