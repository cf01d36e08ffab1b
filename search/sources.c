/* sources.c — BatchSources over a segmentation split (trainer.h).
 *
 * Reproducibility is by construction: the permutation of an epoch and the
 * crops of a batch are pure functions of (seed, epoch, split, step), so a
 * resumed run sees exactly the batches an uninterrupted one would.
 */
#include "search/trainer.h"

#include <stdlib.h>

/* Fills order with a permutation of the samples `split` draws from — with
 * halves, SPLIT_WEIGHTS the first n/2 and SPLIT_ARCH the rest; without, all
 * n — by Fisher-Yates seeded from (seed, epoch, split). Returns the count. */
static int64_t shuffle_split(int64_t *order, int64_t n, bool halves, int split, int epoch,
                             uint64_t seed)
{
    int64_t half = halves ? n / 2 : 0, first = split == SPLIT_ARCH ? half : 0;
    int64_t count = split == SPLIT_ARCH || !halves ? n - half : half;
    for (int64_t i = 0; i < count; i++)
        order[i] = first + i;
    Rng r;
    srch_rng_seed(&r, srch_rng_mix(seed, ((uint64_t)epoch << 1 | (uint64_t)split) + 1));
    for (int64_t i = count - 1; i > 0; i--) {
        int64_t j = srch_rng_below(&r, (uint32_t)(i + 1));
        int64_t t = order[i];
        order[i] = order[j], order[j] = t;
    }
    return count;
}

/* The augmentation stream of one batch: a pure function of its coordinates. */
static void batch_rng(Rng *r, uint64_t seed, uint64_t salt, int epoch, int split, int64_t step)
{
    uint64_t stream = ((((uint64_t)epoch << 1) | (uint64_t)split) << 32) ^ (uint64_t)step;
    srch_rng_seed(r, srch_rng_mix(seed ^ salt, stream));
}

static bool seg_fill(void *ctx, int split, int epoch, int64_t step, float *x, uint8_t *labels,
                     Diag *d)
{
    SegSource *s = ctx;
    if (s->order_epoch != epoch || s->order_split != split) {
        shuffle_split(s->order, s->ds->n, s->halves, split, epoch, s->seed);
        s->order_epoch = epoch, s->order_split = split;
    }
    Rng r;
    batch_rng(&r, s->seed, 0x63726f70ull /* "crop" */, epoch, split, step);
    return srch_ds_batch(s->ds, &r, s->order + step * s->batch, s->batch, s->crop_h, s->crop_w,
                         s->flip, x, labels, d);
}

bool srch_seg_source_init(SegSource *s, const Dataset *ds, int batch, int crop_h, int crop_w,
                          bool halves, uint64_t seed, Diag *d)
{
    *s = (SegSource){ds, batch, crop_h, crop_w, true, halves, seed, NULL, -1, -1, {0}};
    int64_t smallest = halves ? ds->n / 2 : ds->n;
    if (batch < 1 || smallest < batch) {
        diag_error(d, loc_file(ds->list_path), "%lld samples%s cannot fill a batch of %d",
                   (long long)smallest, halves ? " per half" : "", batch);
        return false;
    }
    s->order = malloc(sizeof *s->order * (size_t)ds->n);
    if (!s->order) {
        diag_error(d, loc_file(ds->list_path), "out of memory");
        return false;
    }
    s->src.fill = seg_fill;
    s->src.ctx = s;
    s->src.steps_per_epoch = smallest / batch;
    return true;
}

void srch_seg_source_free(SegSource *s)
{
    free(s->order);
    s->order = NULL;
}

/* ---- classification ---- */

static bool cls_fill(void *ctx, int split, int epoch, int64_t step, float *x, uint8_t *labels,
                     Diag *d)
{
    (void)d;
    ClsSource *s = ctx;
    if (s->order_epoch != epoch || s->order_split != split) {
        shuffle_split(s->order, s->count, s->halves, split, epoch, s->seed);
        s->order_epoch = epoch, s->order_split = split;
    }
    Rng r;
    batch_rng(&r, s->seed, 0x666c6970ull /* "flip" */, epoch, split, step);
    int rows = s->m->rows, cols = s->m->cols;
    for (int b = 0; b < s->batch; b++) {
        int64_t i = s->order[step * s->batch + b];
        const uint8_t *img = s->m->pixels + i * rows * cols;
        bool flip = srch_rng_below(&r, 2);
        float *xb = x + (int64_t)b * rows * cols;
        for (int y = 0; y < rows; y++)
            for (int c = 0; c < cols; c++) {
                int sc = flip ? cols - 1 - c : c;
                xb[y * cols + c] = (img[y * cols + sc] / 255.0f - 0.2860f) / 0.3530f;
            }
        labels[b] = s->m->labels[i];
    }
    return true;
}

static bool cls_init(ClsSource *s, const FashionMnist *m, int64_t count, int batch,
                     uint64_t seed, bool halves, Diag *d)
{
    *s = (ClsSource){m, count < m->n ? count : m->n, batch, halves, seed, NULL, -1, -1, {0}};
    int64_t smallest = halves ? s->count / 2 : s->count;
    if (batch < 1 || smallest < batch) {
        diag_error(d, (Loc){0}, "%lld images%s cannot fill a batch of %d", (long long)smallest,
                   halves ? " per half" : "", batch);
        return false;
    }
    s->order = malloc(sizeof *s->order * (size_t)s->count);
    if (!s->order) {
        diag_error(d, (Loc){0}, "out of memory");
        return false;
    }
    s->src.fill = cls_fill, s->src.ctx = s;
    s->src.steps_per_epoch = smallest / batch;
    return true;
}

bool srch_cls_source_init(ClsSource *s, const FashionMnist *m, int64_t count, int batch,
                          uint64_t seed, Diag *d)
{
    return cls_init(s, m, count, batch, seed, true, d);
}

bool srch_cls_source_init_all(ClsSource *s, const FashionMnist *m, int64_t count, int batch,
                              uint64_t seed, Diag *d)
{
    return cls_init(s, m, count, batch, seed, false, d);
}

void srch_cls_source_free(ClsSource *s)
{
    free(s->order);
    s->order = NULL;
}
