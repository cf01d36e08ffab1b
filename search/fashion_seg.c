/* fashion_seg.c — a real segmentation dataset made from Fashion-MNIST.
 *
 * Each canvas is black, with a few garments pasted on it: a random
 * Fashion-MNIST picture, scaled bilinearly, tinted by a random colour (so
 * colour says nothing about the class) and placed with limited overlap;
 * later garments cover earlier ones. A garment pixel of intensity v (0..255
 * after scaling) is painted when v >= PAINT_MIN, and labelled with its class
 * (k + 1) when v >= LABEL_MIN; the faint rim in between is 255 (ignore),
 * where a pixel belongs to a garment only a little. Untouched pixels are
 * black and labelled 0, so "label > 0 or 255" is exactly "pixel not black".
 *
 * Canvas i of a split is a pure function of (seed, split, i): it has its own
 * PRNG stream and integer-only arithmetic, so the same options give the same
 * bytes anywhere, and --train N does not change the val split.
 */
#include "search/data.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include <stb/stb_image_write.h>

enum {
    PAINT_MIN = 8,  /* below: transparent, the canvas shows through */
    LABEL_MIN = 48, /* at or above: the garment's class; between: 255 */
    TINT_MIN = 90,  /* tint channels are TINT_MIN..255, so labelled pixels are never black */
    PLACE_TRIES = 8,
    PREVIEW_COLS = 4,
    PREVIEW_ROWS = 2,
};

static const char *const class_names[FASHION_CLASSES] = {
    "background", "t-shirt/top", "trouser", "pullover", "dress", "coat",
    "sandal", "shirt", "sneaker", "bag", "ankle_boot",
};

/* Fashion-MNIST images and labels of one of its sets. */
typedef struct Source {
    int64_t n;
    int rows, cols;
    uint8_t *pixels; /* [n, rows, cols] */
    uint8_t *labels; /* [n], 0..9 */
} Source;

void srch_fashion_seg_defaults(FashionSegOptions *o)
{
    memset(o, 0, sizeof *o);
    o->source_dir = "/usr/share/datasets/fashion-mnist";
    o->size = 64;
    o->ntrain = 2000;
    o->nval = 500;
    o->per_canvas_min = 2;
    o->per_canvas_max = 4;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads exactly n bytes (gzread also reads files that are not gzipped). */
static bool gz_read_all(gzFile f, uint8_t *dst, size_t n)
{
    while (n) {
        unsigned chunk = n > (1u << 30) ? 1u << 30 : (unsigned)n;
        int got = gzread(f, dst, chunk);
        if (got <= 0)
            return false;
        dst += got, n -= (size_t)got;
    }
    return true;
}

/* An IDX file of u8 (magic 0x0000080N, N dims): NAME or NAME.gz in dir.
 * dims[] receives the sizes; returns the malloc'd data or NULL. */
static uint8_t *read_idx(Arena *a, const char *dir, const char *name, int ndim, uint32_t *dims,
                         Diag *d)
{
    const char *path = arena_printf(a, "%s/%s", dir, name);
    struct stat st;
    if (stat(path, &st) != 0)
        path = arena_printf(a, "%s/%s.gz", dir, name);
    gzFile f = gzopen(path, "rb");
    if (!f) {
        diag_error(d, loc_file(path), "cannot open Fashion-MNIST file: %s", strerror(errno));
        return NULL;
    }
    uint8_t head[16];
    uint8_t *data = NULL;
    size_t n = 1;
    if (!gz_read_all(f, head, 4 + 4 * (size_t)ndim) || be32(head) != 0x800u + (uint32_t)ndim) {
        diag_error(d, loc_file(path), "not an IDX file of %d-d unsigned bytes", ndim);
        goto done;
    }
    for (int i = 0; i < ndim; i++) {
        dims[i] = be32(head + 4 + 4 * i);
        n *= dims[i];
    }
    if (n == 0 || n > ((size_t)1 << 32) || !(data = malloc(n))) {
        diag_error(d, loc_file(path), "IDX sizes out of range");
        goto done;
    }
    if (!gz_read_all(f, data, n)) {
        diag_error(d, loc_file(path), "truncated IDX file (expected %zu data bytes)", n);
        free(data);
        data = NULL;
    }
done:
    gzclose(f);
    return data;
}

/* set: "train" or "t10k". */
static bool load_source(Arena *a, const char *dir, const char *set, Source *s, Diag *d)
{
    uint32_t idims[3], ldims[1];
    const char *iname = arena_printf(a, "%s-images-idx3-ubyte", set);
    const char *lname = arena_printf(a, "%s-labels-idx1-ubyte", set);
    memset(s, 0, sizeof *s);
    s->pixels = read_idx(a, dir, iname, 3, idims, d);
    s->labels = s->pixels ? read_idx(a, dir, lname, 1, ldims, d) : NULL;
    if (!s->labels)
        return false;
    s->n = idims[0], s->rows = (int)idims[1], s->cols = (int)idims[2];
    if (ldims[0] != idims[0]) {
        diag_error(d, loc_file(arena_printf(a, "%s/%s", dir, lname)),
                   "%u labels for %u images", ldims[0], idims[0]);
        return false;
    }
    for (int64_t i = 0; i < s->n; i++) {
        if (s->labels[i] >= FASHION_CLASSES - 1) {
            diag_error(d, loc_file(arena_printf(a, "%s/%s", dir, lname)),
                       "label %d of item %lld is not a Fashion-MNIST class (0..9)",
                       s->labels[i], (long long)i);
            return false;
        }
    }
    return true;
}

static void free_source(Source *s);

bool srch_fashion_mnist_load(Arena *a, const char *dir, const char *set, FashionMnist *out,
                             Diag *d)
{
    Source s;
    if (!load_source(a, dir, set, &s, d)) {
        free_source(&s);
        return false;
    }
    out->n = s.n, out->rows = s.rows, out->cols = s.cols;
    out->pixels = s.pixels, out->labels = s.labels;
    return true;
}

void srch_fashion_mnist_free(FashionMnist *m)
{
    free(m->pixels);
    free(m->labels);
    m->pixels = m->labels = NULL;
}

static void free_source(Source *s)
{
    free(s->pixels);
    free(s->labels);
}

/* Bilinear sample of src [rows, cols] at destination pixel (i, j) of an
 * sz x sz resize (half-pixel centres, like align_corners=False), in 16.16
 * fixed point so every machine computes the same byte. */
static int sample_scaled(const Source *src, const uint8_t *img, int sz, int i, int j)
{
    int64_t fy = ((2 * (int64_t)i + 1) * src->rows << 16) / (2 * sz) - 32768;
    int64_t fx = ((2 * (int64_t)j + 1) * src->cols << 16) / (2 * sz) - 32768;
    fy = fy < 0 ? 0 : fy, fx = fx < 0 ? 0 : fx;
    int y0 = (int)(fy >> 16), x0 = (int)(fx >> 16);
    int y1 = y0 + 1 < src->rows ? y0 + 1 : y0, x1 = x0 + 1 < src->cols ? x0 + 1 : x0;
    int64_t wy = fy & 0xffff, wx = fx & 0xffff;
    const uint8_t *r0 = img + (size_t)y0 * src->cols, *r1 = img + (size_t)y1 * src->cols;
    int64_t top = r0[x0] * (65536 - wx) + r0[x1] * wx;
    int64_t bot = r1[x0] * (65536 - wx) + r1[x1] * wx;
    return (int)(((top * (65536 - wy) + bot * wy) + ((int64_t)1 << 31)) >> 32);
}

typedef struct Box {
    int x, y, sz;
} Box;

/* Overlap of b with the earlier boxes, as the worst intersection over the
 * smaller area, scaled by 1024. */
static int64_t worst_overlap(const Box *prev, int n, Box b)
{
    int64_t worst = 0;
    for (int k = 0; k < n; k++) {
        int ix = (b.x + b.sz < prev[k].x + prev[k].sz ? b.x + b.sz : prev[k].x + prev[k].sz) -
                 (b.x > prev[k].x ? b.x : prev[k].x);
        int iy = (b.y + b.sz < prev[k].y + prev[k].sz ? b.y + b.sz : prev[k].y + prev[k].sz) -
                 (b.y > prev[k].y ? b.y : prev[k].y);
        if (ix <= 0 || iy <= 0)
            continue;
        int small = b.sz < prev[k].sz ? b.sz : prev[k].sz;
        int64_t o = (int64_t)ix * iy * 1024 / ((int64_t)small * small);
        worst = o > worst ? o : worst;
    }
    return worst;
}

/* Up to PLACE_TRIES positions; the first covering at most a quarter of any
 * earlier garment wins, else the least overlapping. */
static Box place(Rng *r, int size, int sz, const Box *prev, int n)
{
    Box best = {0, 0, sz};
    int64_t best_o = INT64_MAX;
    for (int t = 0; t < PLACE_TRIES && best_o > 256; t++) {
        Box b = {(int)srch_rng_below(r, (uint32_t)(size - sz + 1)),
                 (int)srch_rng_below(r, (uint32_t)(size - sz + 1)), sz};
        int64_t o = worst_overlap(prev, n, b);
        if (o < best_o)
            best = b, best_o = o;
    }
    return best;
}

/* Canvas i of a split: rgb [size, size, 3] and ids [size, size]. Returns the
 * number of garments pasted. */
static int compose(const FashionSegOptions *o, const Source *src, uint64_t stream, uint8_t *rgb,
                   uint8_t *ids)
{
    int size = o->size;
    Rng r;
    srch_rng_seed(&r, srch_rng_mix(o->seed, stream));
    memset(rgb, 0, (size_t)size * size * 3);
    memset(ids, 0, (size_t)size * size);
    int span = o->per_canvas_max - o->per_canvas_min + 1;
    int count = o->per_canvas_min + (int)srch_rng_below(&r, (uint32_t)span);
    int smin = size * 5 / 16 > 8 ? size * 5 / 16 : 8, smax = size * 10 / 16;
    smax = smax < smin ? smin : smax;
    Box boxes[16];
    for (int g = 0; g < count; g++) {
        int64_t item = (int64_t)(srch_rng_next(&r) % (uint64_t)src->n);
        int sz = smin + (int)srch_rng_below(&r, (uint32_t)(smax - smin + 1));
        int tint[3];
        for (int c = 0; c < 3; c++)
            tint[c] = TINT_MIN + (int)srch_rng_below(&r, 256 - TINT_MIN);
        Box b = place(&r, size, sz, boxes, g);
        boxes[g] = b;
        const uint8_t *img = src->pixels + (size_t)item * src->rows * src->cols;
        uint8_t label = (uint8_t)(src->labels[item] + 1);
        for (int i = 0; i < sz; i++) {
            for (int j = 0; j < sz; j++) {
                int v = sample_scaled(src, img, sz, i, j);
                if (v < PAINT_MIN)
                    continue;
                size_t p = (size_t)(b.y + i) * size + (size_t)(b.x + j);
                for (int c = 0; c < 3; c++)
                    rgb[p * 3 + c] = (uint8_t)((v * tint[c] + 127) / 255);
                ids[p] = v >= LABEL_MIN ? label : DS_IGNORE;
            }
        }
    }
    return count;
}

static uint64_t stream_of(int split, int64_t i)
{
    return (uint64_t)split << 48 | (uint64_t)i;
}

static bool make_dir(const char *path, Diag *d)
{
    if (mkdir(path, 0755) == 0 || errno == EEXIST)
        return true;
    diag_error(d, loc_file(path), "cannot create directory: %s", strerror(errno));
    return false;
}

static bool write_text(const char *path, const char *text, Diag *d)
{
    FILE *f = fopen(path, "wb");
    bool ok = f && fputs(text, f) >= 0;
    if (f && fclose(f) != 0)
        ok = false;
    if (!ok)
        diag_error(d, loc_file(path), "cannot write: %s", strerror(errno));
    return ok;
}

static void count_pixels(const uint8_t *ids, size_t n, FashionSegStats *st)
{
    for (size_t p = 0; p < n; p++) {
        if (ids[p] == DS_IGNORE)
            st->ignore_pixels++;
        else
            st->pixels[ids[p]]++;
    }
    st->total_pixels += (int64_t)n;
}

/* All canvases of one split: images, masks and the split list. */
static bool build_split(Arena *a, const FashionSegOptions *o, const Source *src, int split,
                        const char *name, int64_t count, FashionSegStats *st, Diag *d)
{
    size_t hw = (size_t)o->size * o->size;
    uint8_t *rgb = malloc(hw * 3), *ids = malloc(hw);
    size_t list_cap = (size_t)count * 24 + 1, list_n = 0;
    char *list = malloc(list_cap);
    bool ok = rgb && ids && list;
    if (!ok)
        diag_error(d, loc_file(o->out_dir), "out of memory");
    else
        list[0] = 0;
    for (int64_t i = 0; ok && i < count; i++) {
        char id[32];
        snprintf(id, sizeof id, "%s_%06lld", name, (long long)i);
        st->garments += compose(o, src, stream_of(split, i), rgb, ids);
        count_pixels(ids, hw, st);
        const char *img_path = arena_printf(a, "%s/JPEGImages/%s.png", o->out_dir, id);
        if (!stbi_write_png(img_path, o->size, o->size, 3, rgb, o->size * 3)) {
            diag_error(d, loc_file(img_path), "cannot write PNG");
            ok = false;
        }
        ok = ok && srch_png_write_mask(arena_printf(a, "%s/SegmentationClass/%s.png",
                                                    o->out_dir, id), ids, o->size, o->size, d);
        list_n += (size_t)snprintf(list + list_n, list_cap - list_n, "%s\n", id);
        if (ok && o->progress)
            o->progress(o->progress_ctx, name, i + 1, count);
    }
    const char *list_path = arena_printf(a, "%s/ImageSets/Segmentation/%s.txt", o->out_dir, name);
    ok = ok && write_text(list_path, list, d);
    free(rgb);
    free(ids);
    free(list);
    return ok;
}

/* classes.txt in the format srch_ds_open reads, with the palette colours. */
static bool write_classes(Arena *a, const char *dir, Diag *d)
{
    char *text = arena_strdup(a, "# id name r g b -- masks are paletted PNGs: pixel value = id;"
                                 " 255 = ignore (224 224 192)\n");
    for (int k = 0; k < FASHION_CLASSES; k++) {
        uint8_t c[3];
        srch_voc_colour(k, c);
        text = arena_printf(a, "%s%d %s %d %d %d\n", text, k, class_names[k], c[0], c[1], c[2]);
    }
    return write_text(arena_printf(a, "%s/classes.txt", dir), text, d);
}

/* preview.png: the first train canvases, each image beside its coloured mask. */
static bool write_preview(Arena *a, const FashionSegOptions *o, const Source *train, Diag *d)
{
    int s = o->size, gap = 2, n = (int)(o->ntrain < 8 ? o->ntrain : 8);
    int cell_w = 2 * s + gap, pw = PREVIEW_COLS * (cell_w + gap) + gap;
    int ph = PREVIEW_ROWS * (s + gap) + gap;
    uint8_t *grid = malloc((size_t)pw * ph * 3), *rgb = malloc((size_t)s * s * 3);
    uint8_t *ids = malloc((size_t)s * s);
    const char *path = arena_printf(a, "%s/preview.png", o->out_dir);
    bool ok = grid && rgb && ids;
    if (ok) {
        memset(grid, 96, (size_t)pw * ph * 3);
        for (int k = 0; k < n; k++) {
            compose(o, train, stream_of(1, k), rgb, ids);
            int x0 = gap + (k % PREVIEW_COLS) * (cell_w + gap), y0 = gap + (k / PREVIEW_COLS)
                                                                              * (s + gap);
            for (int y = 0; y < s; y++) {
                uint8_t *row = grid + ((size_t)(y0 + y) * pw + x0) * 3;
                memcpy(row, rgb + (size_t)y * s * 3, (size_t)s * 3);
                for (int x = 0; x < s; x++)
                    srch_voc_colour(ids[y * s + x], row + (size_t)(s + gap + x) * 3);
            }
        }
        ok = stbi_write_png(path, pw, ph, 3, grid, pw * 3) != 0;
    }
    if (!ok)
        diag_error(d, loc_file(path), "cannot write the preview PNG");
    free(grid);
    free(rgb);
    free(ids);
    return ok;
}

static bool check_options(const FashionSegOptions *o, Diag *d)
{
    Loc at = loc_file(o->out_dir);
    if (o->size < 16 || o->size > 1024)
        diag_error(d, at, "canvas size %d is outside 16..1024", o->size);
    if (o->ntrain < 0 || o->nval < 0 || o->ntrain + o->nval < 1 || o->ntrain > 10000000 ||
        o->nval > 10000000)
        diag_error(d, at, "need 0..10000000 canvases per split and at least one in all");
    if (o->per_canvas_min < 1 || o->per_canvas_max > 16 || o->per_canvas_min > o->per_canvas_max)
        diag_error(d, at, "garments per canvas %d..%d: need 1 <= MIN <= MAX <= 16",
                   o->per_canvas_min, o->per_canvas_max);
    return d->nerr == 0;
}

bool srch_fashion_seg_build(const FashionSegOptions *o, FashionSegStats *stats, Diag *d)
{
    memset(stats, 0, sizeof *stats);
    if (!check_options(o, d))
        return false;
    Arena a;
    arena_init(&a);
    Source train = {0}, val = {0};
    const char *sub[] = {"", "/JPEGImages", "/SegmentationClass", "/ImageSets",
                         "/ImageSets/Segmentation"};
    bool ok = true;
    for (size_t k = 0; ok && k < sizeof sub / sizeof sub[0]; k++)
        ok = make_dir(arena_printf(&a, "%s%s", o->out_dir, sub[k]), d);
    ok = ok && (o->ntrain == 0 || load_source(&a, o->source_dir, "train", &train, d));
    ok = ok && (o->nval == 0 || load_source(&a, o->source_dir, "t10k", &val, d));
    ok = ok && write_classes(&a, o->out_dir, d);
    ok = ok && build_split(&a, o, &train, 1, "train", o->ntrain, stats, d);
    ok = ok && build_split(&a, o, &val, 2, "val", o->nval, stats, d);
    ok = ok && (o->ntrain == 0 || write_preview(&a, o, &train, d));
    free_source(&train);
    free_source(&val);
    arena_free_all(&a);
    return ok;
}
