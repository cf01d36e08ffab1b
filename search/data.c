/* data.c — a PASCAL VOC-style segmentation split: list, decode, crop, flip.
 *
 * srch_ds_open resolves every file name once and checks that it exists, so a
 * broken dataset fails before training starts; decoding is lazy (one sample
 * per srch_ds_load), so memory holds only the batch being built. Images and
 * masks go through stb_image; masks are checked pixel by pixel against the
 * class count, since a wrong id would silently train a wrong class.
 */
#include "search/data.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <stb/stb_image.h>

enum { VOC_CLASSES = 21 };

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Whole file as a NUL-terminated arena string, or NULL (errno set). */
static char *read_text(Arena *a, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) {
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger)
                free(buf);
            buf = bigger;
        }
    }
    fclose(f);
    if (!buf)
        return NULL;
    char *s = arena_strndup(a, buf, n);
    free(buf);
    return s;
}

/* Next line of *p as [start, end) without surrounding blanks; false at EOF. */
static bool next_line(const char **p, const char **start, const char **end)
{
    if (!**p)
        return false;
    const char *s = *p, *e = strchr(s, '\n');
    *p = e ? e + 1 : s + strlen(s);
    e = e ? e : *p;
    while (s < e && (*s == ' ' || *s == '\t' || *s == '\r'))
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        e--;
    *start = s, *end = e;
    return true;
}

/* DIR/classes.txt: "ID NAME [R G B]" per line, ids 0, 1, 2, ... in order;
 * blank lines and '#' comments are skipped. Absent: VOC's 21 classes. */
static bool read_classes(Arena *a, Dataset *ds, Diag *d)
{
    const char *path = arena_printf(a, "%s/classes.txt", ds->dir);
    ds->classes = VOC_CLASSES;
    if (!is_file(path))
        return true;
    const char *text = read_text(a, path);
    if (!text) {
        diag_error(d, loc_file(path), "cannot read: %s", strerror(errno));
        return false;
    }
    const char *p = text, *s, *e;
    int n = 0;
    const char **names = arena_calloc(a, 256, sizeof *names);
    while (next_line(&p, &s, &e)) {
        if (s == e || *s == '#')
            continue;
        char *rest;
        long id = strtol(s, &rest, 10);
        if (rest == s || id != n || n >= 256 || (*rest != ' ' && *rest != '\t')) {
            diag_error(d, loc_at_offset(path, text, (size_t)(s - text)),
                       "expected class id %d followed by its name", n);
            return false;
        }
        while (*rest == ' ' || *rest == '\t')
            rest++;
        const char *name_end = rest;
        while (name_end < e && *name_end != ' ' && *name_end != '\t')
            name_end++;
        names[n++] = arena_strndup(a, rest, (size_t)(name_end - rest));
    }
    if (n < 1 || n > 255) {
        diag_error(d, loc_file(path), "expected 1..255 classes, found %d", n);
        return false;
    }
    ds->classes = n;
    ds->class_names = names;
    return true;
}

/* Finds ID's image (.jpg, .png, .jpeg) and mask; one error at the list line
 * if either is missing. */
static bool resolve_sample(Arena *a, Dataset *ds, int64_t i, Loc at, Diag *d)
{
    static const char *const exts[] = {"jpg", "png", "jpeg"};
    const char *id = ds->ids[i];
    ds->image_paths[i] = NULL;
    for (size_t k = 0; k < sizeof exts / sizeof exts[0] && !ds->image_paths[i]; k++) {
        char *path = arena_printf(a, "%s/JPEGImages/%s.%s", ds->dir, id, exts[k]);
        if (is_file(path))
            ds->image_paths[i] = path;
    }
    ds->mask_paths[i] = arena_printf(a, "%s/SegmentationClass/%s.png", ds->dir, id);
    bool has_mask = is_file(ds->mask_paths[i]);
    if (!ds->image_paths[i])
        diag_error(d, at, "no image for '%s' (%s/JPEGImages/%s.jpg, .png or .jpeg)%s", id,
                   ds->dir, id, has_mask ? "" : "; no mask either");
    else if (!has_mask)
        diag_error(d, at, "no mask for '%s' (%s)", id, ds->mask_paths[i]);
    bool ok = ds->image_paths[i] && has_mask;
    return ok;
}

bool srch_ds_open(Arena *a, const char *dir, const char *split, Dataset *out, Diag *d)
{
    Dataset *ds = out;
    memset(ds, 0, sizeof *ds);
    ds->dir = arena_strdup(a, dir);
    ds->split = arena_strdup(a, split);
    ds->list_path = arena_printf(a, "%s/ImageSets/Segmentation/%s.txt", dir, split);
    static const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    memcpy(ds->mean, mean, sizeof mean);
    memcpy(ds->std, std, sizeof std);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        diag_error(d, loc_file(dir), "no dataset directory here");
        return false;
    }
    const char *text = read_text(a, ds->list_path);
    if (!text) {
        diag_error(d, loc_file(ds->list_path), "cannot read the split list: %s",
                   strerror(errno));
        return false;
    }
    if (!read_classes(a, ds, d))
        return false;
    int64_t cap = 1;
    for (const char *c = text; *c; c++)
        cap += *c == '\n';
    ds->ids = arena_calloc(a, (size_t)cap, sizeof *ds->ids);
    ds->image_paths = arena_calloc(a, (size_t)cap, sizeof *ds->image_paths);
    ds->mask_paths = arena_calloc(a, (size_t)cap, sizeof *ds->mask_paths);
    const char *p = text, *s, *e;
    int nerr = d->nerr;
    while (next_line(&p, &s, &e)) {
        const char *id_end = s;
        while (id_end < e && *id_end != ' ' && *id_end != '\t')
            id_end++; /* VOC's per-class lists carry a second column */
        if (s == id_end)
            continue;
        ds->ids[ds->n] = arena_strndup(a, s, (size_t)(id_end - s));
        resolve_sample(a, ds, ds->n++, loc_at_offset(ds->list_path, text, (size_t)(s - text)),
                       d);
    }
    if (ds->n == 0)
        diag_error(d, loc_file(ds->list_path), "the split list names no samples");
    return d->nerr == nerr;
}

/* Mask pixels -> class ids: grey values are ids, colours go through the VOC
 * palette. Reports the first bad pixel of the file. */
static bool mask_to_ids(const Dataset *ds, const char *path, const uint8_t *px, int comp, int h,
                        int w, uint8_t *ids, Diag *d)
{
    for (int64_t i = 0; i < (int64_t)h * w; i++) {
        const uint8_t *c = px + i * comp;
        int k = comp <= 2 ? c[0] : srch_voc_class(c);
        if (k < 0) {
            diag_error(d, loc_file(path), "pixel (%d, %d) has colour (%d, %d, %d), which is "
                       "not in the VOC palette", (int)(i % w), (int)(i / w), c[0], c[1], c[2]);
            return false;
        }
        if (k >= ds->classes && k != DS_IGNORE) {
            diag_error(d, loc_file(path), "pixel (%d, %d) has class %d, but classes are 0..%d "
                       "and 255 (ignore)", (int)(i % w), (int)(i / w), k, ds->classes - 1);
            return false;
        }
        ids[i] = (uint8_t)k;
    }
    return true;
}

static uint8_t *decode(const char *path, int *w, int *h, int *comp, int want, Diag *d)
{
    if (stbi_is_16_bit(path)) {
        diag_error(d, loc_file(path), "16-bit images are not supported");
        return NULL;
    }
    uint8_t *px = stbi_load(path, w, h, comp, want);
    if (!px)
        diag_error(d, loc_file(path), "cannot decode image: %s", stbi_failure_reason());
    return px;
}

bool srch_ds_load(const Dataset *ds, int64_t i, DsImage *img, Diag *d)
{
    NASC_ASSERT(i >= 0 && i < ds->n);
    memset(img, 0, sizeof *img);
    int w, h, comp, mw, mh, mcomp;
    uint8_t *rgb = decode(ds->image_paths[i], &w, &h, &comp, 3, d);
    if (!rgb)
        return false;
    uint8_t *mpx = decode(ds->mask_paths[i], &mw, &mh, &mcomp, 0, d);
    if (!mpx) {
        stbi_image_free(rgb);
        return false;
    }
    bool ok = false;
    if (mw != w || mh != h) {
        diag_error(d, loc_file(ds->mask_paths[i]), "mask is %dx%d (WxH) but its image %s is "
                   "%dx%d", mw, mh, ds->image_paths[i], w, h);
        goto done;
    }
    size_t hw = (size_t)h * w;
    img->x = malloc(hw * 3 * sizeof *img->x);
    img->y = malloc(hw);
    if (!img->x || !img->y) {
        diag_error(d, loc_file(ds->image_paths[i]), "out of memory");
        goto done;
    }
    img->h = h, img->w = w;
    if (!mask_to_ids(ds, ds->mask_paths[i], mpx, mcomp, h, w, img->y, d))
        goto done;
    /* [h, w, 3] u8 -> [3, h, w] normalised f32 */
    for (int c = 0; c < 3; c++) {
        float scale = 1.0f / (255.0f * ds->std[c]), shift = ds->mean[c] / ds->std[c];
        for (size_t p = 0; p < hw; p++)
            img->x[c * hw + p] = (float)rgb[p * 3 + c] * scale - shift;
    }
    ok = true;
done:
    stbi_image_free(rgb);
    stbi_image_free(mpx);
    if (!ok)
        srch_ds_image_free(img);
    return ok;
}

void srch_ds_image_free(DsImage *img)
{
    free(img->x);
    free(img->y);
    memset(img, 0, sizeof *img);
}

/* Source index of crop position o along an axis of `dim` pixels cropped to
 * `crop`: shift > 0 is the crop's offset in the image, shift < 0 the image's
 * offset in the crop. */
static int axis_shift(Rng *r, int dim, int crop)
{
    if (dim >= crop)
        return (int)srch_rng_below(r, (uint32_t)(dim - crop + 1));
    return -(int)srch_rng_below(r, (uint32_t)(crop - dim + 1));
}

/* One sample: x [3, ch, cw], y [ch, cw]. */
static void crop_sample(const DsImage *img, int dy, int dx, bool mirror, int ch, int cw,
                        float *x, uint8_t *y)
{
    size_t src_hw = (size_t)img->h * img->w, dst_hw = (size_t)ch * cw;
    for (int oy = 0; oy < ch; oy++) {
        int sy = oy + dy;
        for (int ox = 0; ox < cw; ox++) {
            int sx = (mirror ? cw - 1 - ox : ox) + dx;
            size_t o = (size_t)oy * cw + ox;
            bool inside = sy >= 0 && sy < img->h && sx >= 0 && sx < img->w;
            size_t s = inside ? (size_t)sy * img->w + sx : 0;
            y[o] = inside ? img->y[s] : DS_IGNORE;
            for (int c = 0; c < 3; c++)
                x[c * dst_hw + o] = inside ? img->x[c * src_hw + s] : 0.0f;
        }
    }
}

bool srch_ds_batch(const Dataset *ds, Rng *r, const int64_t *idx, int n, int crop_h, int crop_w,
                   bool flip, float *x, uint8_t *y, Diag *d)
{
    NASC_ASSERT(crop_h > 0 && crop_w > 0);
    size_t hw = (size_t)crop_h * crop_w;
    for (int k = 0; k < n; k++) {
        DsImage img;
        if (!srch_ds_load(ds, idx[k], &img, d))
            return false;
        int dy = axis_shift(r, img.h, crop_h);
        int dx = axis_shift(r, img.w, crop_w);
        bool mirror = flip && (srch_rng_next(r) >> 63);
        crop_sample(&img, dy, dx, mirror, crop_h, crop_w, x + (size_t)k * 3 * hw,
                    y + (size_t)k * hw);
        srch_ds_image_free(&img);
    }
    return true;
}
