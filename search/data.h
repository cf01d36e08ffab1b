/* data.h — the data layer of the search trainer: segmentation datasets on disk.
 *
 * A dataset is a directory in the PASCAL VOC layout:
 *
 *   DIR/ImageSets/Segmentation/SPLIT.txt   one sample id per line (e.g. train, val)
 *   DIR/JPEGImages/ID.{jpg,png,jpeg}       the image (anything stb_image decodes)
 *   DIR/SegmentationClass/ID.png           the mask: class id per pixel, 255 = ignore
 *   DIR/classes.txt                        optional: "ID NAME [R G B]" lines, ids 0..n-1
 *
 * A mask is either a grey PNG whose value is the class id, or a colour PNG (a
 * paletted PNG like VOC's, or RGB) in the PASCAL VOC palette, mapped back to
 * ids. Images are read as RGB, scaled to 0..1 and normalised per channel by
 * the dataset's mean/std. Everything that can go wrong with the files is
 * reported to a Diag as one located line; nothing here prints.
 */
#ifndef NASC_SEARCH_DATA_H
#define NASC_SEARCH_DATA_H

#include "ir/ir.h"

enum { DS_IGNORE = 255 }; /* mask value that takes no part in the loss */

/* ---- rng.c: splitmix64, the one PRNG of search/ (deterministic by seed) ---- */
typedef struct Rng {
    uint64_t state;
} Rng;

void srch_rng_seed(Rng *r, uint64_t seed);
uint64_t srch_rng_next(Rng *r);
/* Uniform in 0..n-1 (n >= 1), by multiply-shift on the top 32 bits. */
uint32_t srch_rng_below(Rng *r, uint32_t n);
/* Uniform float in [0, 1), 24 random bits. */
float srch_rng_float(Rng *r);
/* A seed for stream `stream` of `seed`, independent of other streams: used so
 * that sample i of a split does not depend on how many samples came before. */
uint64_t srch_rng_mix(uint64_t seed, uint64_t stream);

/* ---- data.c: open a split, decode samples, sample batches ---- */
typedef struct Dataset {
    const char *dir, *split;
    const char *list_path;             /* DIR/ImageSets/Segmentation/SPLIT.txt */
    int64_t n;                         /* samples in the split */
    const char **ids;                  /* [n] ids as listed */
    const char **image_paths;          /* [n] resolved image files */
    const char **mask_paths;           /* [n] DIR/SegmentationClass/ID.png */
    int classes;                       /* labels 0..classes-1 are valid, plus 255 */
    const char **class_names;          /* [classes], or NULL without classes.txt */
    float mean[3], std[3];             /* normalisation of 0..1 RGB (callers may set) */
} Dataset;

/* One decoded sample. x: [3, h, w] normalised floats; y: [h, w] class ids. */
typedef struct DsImage {
    int h, w;
    float *x;
    uint8_t *y;
} DsImage;

/* Reads the split list of DIR and checks that every listed image and mask
 * file exists (one error per missing file, located at its list line). classes
 * is the number of lines of DIR/classes.txt, or 21 (VOC) without one; mean/std
 * start as ImageNet's (0.485 0.456 0.406 / 0.229 0.224 0.225). Strings and
 * arrays live in `a`. Returns false after reporting to d. */
bool srch_ds_open(Arena *a, const char *dir, const char *split, Dataset *out, Diag *d);
/* Decodes sample i (0 <= i < n) into malloc'd buffers (srch_ds_image_free).
 * Errors: undecodable image or mask, sizes that differ, a mask value that is
 * >= classes and not 255, a colour outside the VOC palette. */
bool srch_ds_load(const Dataset *ds, int64_t i, DsImage *img, Diag *d);
void srch_ds_image_free(DsImage *img);
/* Loads samples idx[0..n-1] and writes x: [n, 3, crop_h, crop_w] and
 * y: [n, crop_h, crop_w]. Per sample, in this order, r draws: the row offset,
 * the column offset, then (if flip) one bit for a horizontal mirror. Along an
 * axis where the image is at least the crop, the crop starts at a uniform
 * offset inside it; where it is smaller, the image lands at a uniform offset
 * inside the crop and the rest is 0 in x (the mean after normalisation) and
 * 255 in y. */
bool srch_ds_batch(const Dataset *ds, Rng *r, const int64_t *idx, int n, int crop_h, int crop_w,
                   bool flip, float *x, uint8_t *y, Diag *d);

/* ---- mask_png.c: masks as paletted PNGs, like VOC's SegmentationClass ---- */
/* PASCAL VOC palette colour of class k (0..255); 255 is (224, 224, 192). */
void srch_voc_colour(int k, uint8_t rgb[3]);
/* The class whose VOC colour is rgb, or -1 if rgb is not a palette colour. */
int srch_voc_class(const uint8_t rgb[3]);
/* Writes ids [h, w] as an 8-bit paletted PNG (VOC palette): PIL reads it in
 * mode 'P' with the ids as indices, viewers show the colours. */
bool srch_png_write_mask(const char *path, const uint8_t *ids, int h, int w, Diag *d);

/* ---- fashion_seg.c: a segmentation set composited from Fashion-MNIST ---- */
enum { FASHION_CLASSES = 11 }; /* background 0, Fashion-MNIST class k -> k + 1 */

typedef struct FashionSegOptions {
    const char *out_dir;         /* created if missing; VOC layout inside */
    const char *source_dir;      /* holds train-images-idx3-ubyte[.gz] etc. */
    int size;                    /* canvas side in pixels (16..1024) */
    int64_t ntrain, nval;        /* canvases per split */
    int per_canvas_min, per_canvas_max; /* garments per canvas (1..16) */
    uint64_t seed;
    /* Called after every canvas written (may be NULL): the CLI's progress. */
    void (*progress)(void *ctx, const char *split, int64_t done, int64_t total);
    void *progress_ctx;
} FashionSegOptions;

/* Statistics of what was built, for the CLI's summary. */
typedef struct FashionSegStats {
    int64_t pixels[FASHION_CLASSES]; /* labelled pixels per class, both splits */
    int64_t ignore_pixels, total_pixels;
    int64_t garments;
} FashionSegStats;

/* The Fashion-MNIST images themselves, for classification (the DARTS cell
 * search): set "train" (60000) or "t10k" (10000), IDX files plain or .gz. */
typedef struct FashionMnist {
    int64_t n;
    int rows, cols;
    uint8_t *pixels; /* [n, rows, cols], malloc'd */
    uint8_t *labels; /* [n], 0..9 */
} FashionMnist;
bool srch_fashion_mnist_load(Arena *a, const char *dir, const char *set, FashionMnist *out,
                             Diag *d);
void srch_fashion_mnist_free(FashionMnist *m);

/* Fills the documented defaults: 64x64, 2000 train, 500 val, 2..4 garments,
 * seed 0, source /usr/share/datasets/fashion-mnist. */
void srch_fashion_seg_defaults(FashionSegOptions *o);
/* Builds the set (train split from Fashion-MNIST's training images, val from
 * its test images); the same options give byte-identical files. */
bool srch_fashion_seg_build(const FashionSegOptions *o, FashionSegStats *stats, Diag *d);

#endif
