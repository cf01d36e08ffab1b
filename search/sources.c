/* sources.c — BatchSources over a segmentation split (trainer.h).
 *
 * Reproducibility is by construction: the permutation of an epoch and the
 * crops of a batch are pure functions of (seed, epoch, split, step), so a
 * resumed run sees exactly the batches an uninterrupted one would.
 */
#include "search/trainer.h"

#include <stdlib.h>

/* The samples a split draws from: [first, first + count). */
static void split_range(const SegSource *s, int split, int64_t *first, int64_t *count)
{
    int64_t half = s->ds->n / 2;
    if (!s->halves) {
        *first = 0, *count = s->ds->n;
        return;
    }
    *first = split == SPLIT_ARCH ? half : 0;
    *count = split == SPLIT_ARCH ? s->ds->n - half : half;
}

/* Fisher-Yates over the split's range, seeded by (seed, epoch, split). */
static void shuffle(SegSource *s, int split, int epoch)
{
    int64_t first, count;
    split_range(s, split, &first, &count);
    for (int64_t i = 0; i < count; i++)
        s->order[i] = first + i;
    Rng r;
    srch_rng_seed(&r, srch_rng_mix(s->seed, ((uint64_t)epoch << 1 | (uint64_t)split) + 1));
    for (int64_t i = count - 1; i > 0; i--) {
        int64_t j = srch_rng_below(&r, (uint32_t)(i + 1));
        int64_t t = s->order[i];
        s->order[i] = s->order[j], s->order[j] = t;
    }
    s->order_epoch = epoch, s->order_split = split;
}

static bool seg_fill(void *ctx, int split, int epoch, int64_t step, float *x, uint8_t *labels,
                     Diag *d)
{
    SegSource *s = ctx;
    if (s->order_epoch != epoch || s->order_split != split)
        shuffle(s, split, epoch);
    Rng r;
    uint64_t stream = ((((uint64_t)epoch << 1) | (uint64_t)split) << 32) ^ (uint64_t)step;
    srch_rng_seed(&r, srch_rng_mix(s->seed ^ 0x63726f70ull, stream)); /* "crop" */
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

static void cls_shuffle(ClsSource *s, int split, int epoch)
{
    int64_t half = s->halves ? s->count / 2 : 0, first = split == SPLIT_ARCH ? half : 0;
    int64_t count = split == SPLIT_ARCH || !s->halves ? s->count - half : half;
    for (int64_t i = 0; i < count; i++)
        s->order[i] = first + i;
    Rng r;
    srch_rng_seed(&r, srch_rng_mix(s->seed, ((uint64_t)epoch << 1 | (uint64_t)split) + 1));
    for (int64_t i = count - 1; i > 0; i--) {
        int64_t j = srch_rng_below(&r, (uint32_t)(i + 1));
        int64_t t = s->order[i];
        s->order[i] = s->order[j], s->order[j] = t;
    }
    s->order_epoch = epoch, s->order_split = split;
}

static bool cls_fill(void *ctx, int split, int epoch, int64_t step, float *x, uint8_t *labels,
                     Diag *d)
{
    (void)d;
    ClsSource *s = ctx;
    if (s->order_epoch != epoch || s->order_split != split)
        cls_shuffle(s, split, epoch);
    Rng r;
    uint64_t stream = ((((uint64_t)epoch << 1) | (uint64_t)split) << 32) ^ (uint64_t)step;
    srch_rng_seed(&r, srch_rng_mix(s->seed ^ 0x666c6970ull, stream)); /* "flip" */
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
