/* trainer.h — batches from datasets, segmentation metrics, and retraining a
 * derived network from scratch (`nasc train`).
 */
#ifndef NASC_SEARCH_TRAINER_H
#define NASC_SEARCH_TRAINER_H

#include "search/bilevel.h"
#include "search/data.h"

/* ---- sources.c: BatchSources over a segmentation split ---- */

/* Batches of `batch` random crops (crop_h x crop_w, random flip) of a
 * split's samples. With halves, the split is cut in two as the DARTS and
 * Auto-DeepLab searches do: SPLIT_WEIGHTS draws from the first half,
 * SPLIT_ARCH from the second; without, both draw from all of it. Every
 * epoch reshuffles from (seed, epoch, split); each batch's crops and flips
 * come from (seed, epoch, split, step), so any batch can be recreated alone
 * (what resuming needs). */
typedef struct SegSource {
    const Dataset *ds;
    int batch, crop_h, crop_w;
    bool flip, halves;
    uint64_t seed;
    int64_t *order;      /* scratch: a permutation of one half */
    int order_epoch, order_split;
    BatchSource src;     /* what search_run and srch_train take */
} SegSource;

bool srch_seg_source_init(SegSource *s, const Dataset *ds, int batch, int crop_h, int crop_w,
                          bool halves, uint64_t seed, Diag *d);
void srch_seg_source_free(SegSource *s);

/* Batches of Fashion-MNIST images for classification (the DARTS cell
 * search): the first `count` images of m, halves as above, one channel
 * normalised by the training set's mean 0.2860 and std 0.3530, random
 * horizontal flip; labels are the classes 0..9. */
typedef struct ClsSource {
    const FashionMnist *m;
    int64_t count;
    int batch;
    bool halves;
    uint64_t seed;
    int64_t *order;
    int order_epoch, order_split;
    BatchSource src;
} ClsSource;

bool srch_cls_source_init(ClsSource *s, const FashionMnist *m, int64_t count, int batch,
                          uint64_t seed, Diag *d);
/* The same without halves: both splits draw from all `count` images
 * (retraining a derived network, `nasc train`). */
bool srch_cls_source_init_all(ClsSource *s, const FashionMnist *m, int64_t count, int batch,
                              uint64_t seed, Diag *d);
void srch_cls_source_free(ClsSource *s);

/* ---- metrics.c ---- */

/* A confusion matrix over `classes` labels; 255 pixels are not counted. */
typedef struct SegMetrics {
    int classes;
    int64_t *confusion; /* [truth * classes + predicted] */
    double loss_sum;
    int64_t loss_pixels;
} SegMetrics;

bool srch_metrics_init(SegMetrics *m, int classes, Diag *d);
void srch_metrics_free(SegMetrics *m);
void srch_metrics_reset(SegMetrics *m);
/* Adds per-pixel predictions pred[n] against truth[n]. */
void srch_metrics_add(SegMetrics *m, const uint8_t *truth, const uint8_t *pred, int64_t n);
double srch_pixel_accuracy(const SegMetrics *m);
/* Mean over classes that occur in truth or prediction of TP/(TP+FP+FN). */
double srch_miou(const SegMetrics *m);
/* The IoU of class k, or NaN if it occurs nowhere. */
double srch_class_iou(const SegMetrics *m, int k);

/* ---- retrain.c: `nasc train` ---- */

typedef struct TrainOptions {
    int epochs;
    float lr, lr_min, momentum, weight_decay, grad_clip;
    int ignore_label;
    const char *checkpoint; /* written after every epoch (NULL: none) */
    bool resume;
    void (*on_step)(void *ctx, const SearchStep *s);
    /* After every epoch, with the epoch's val metrics. */
    bool (*on_epoch)(void *ctx, int epoch, double train_loss, const SegMetrics *val, Diag *d);
    void *ctx;
} TrainOptions;

/* 20 epochs of SGD (momentum 0.9, weight decay 3e-4 as the searches,
 * gradient clipping at 5), cosine learning rate 0.05 -> 0.0005, ignore
 * label 255. Short because the budget is a 2-core CPU, not a GPU month. */
void srch_train_defaults(TrainOptions *o);

/* Trains g_train (batch N, params bound) on src; after every epoch runs
 * g_eval (batch 1, the same architecture: its params are made to share
 * g_train's data by name) in eval mode over every sample of val at full
 * size and reports loss, pixel accuracy and mIoU through on_epoch.
 * Returns false after reporting to d. */
bool srch_train(Graph *g_train, Graph *g_eval, const BatchSource *src, const Dataset *val,
                const TrainOptions *o, Diag *d);

/* Runs g_eval (params bound) over val: metrics (reset first). */
bool srch_evaluate(const Graph *g_eval, const Dataset *val, int ignore_label, SegMetrics *m,
                   Diag *d);

#endif
