/* test_data.c — the VOC loader of search/data.c on a tree made here.
 *
 * Pixels encode their own coordinates (R = 30 x, G = 40 y, mask = (x + y) % 3),
 * so every crop and flip can be checked exactly from its output alone, without
 * repeating the PRNG draws. Each broken input must give exactly one located
 * error naming the file.
 */
#include "search/data.h"
#include "tests/check.h"

#include <math.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb/stb_image_write.h>

enum { W = 7, H = 5 };

static char root[256];

static const char *path_of(Arena *a, const char *rel)
{
    return arena_printf(a, "%s/%s", root, rel);
}

static void put_text(Arena *a, const char *rel, const char *text)
{
    FILE *f = fopen(path_of(a, rel), "wb");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* The coordinate-coded image of w x h as NAME.ext (png) and its masks. */
static void put_image(Arena *a, const char *id, int w, int h)
{
    uint8_t rgb[64 * 64 * 3];
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = rgb + (y * w + x) * 3;
            p[0] = (uint8_t)(30 * x), p[1] = (uint8_t)(40 * y), p[2] = 200;
        }
    CHECK(stbi_write_png(path_of(a, arena_printf(a, "JPEGImages/%s.png", id)), w, h, 3, rgb,
                         w * 3));
}

static void coord_mask(uint8_t *ids, int w, int h)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            ids[y * w + x] = (uint8_t)((x + y) % 3);
    ids[w + 1] = DS_IGNORE;
}

static void put_palette_mask(Arena *a, const char *id, const uint8_t *ids, int w, int h)
{
    Diag d;
    diag_init(&d);
    CHECK(srch_png_write_mask(path_of(a, arena_printf(a, "SegmentationClass/%s.png", id)), ids,
                              h, w, &d));
    CHECK(d.nerr == 0);
    diag_free(&d);
}

static void make_tree(Arena *a)
{
    const char *dirs[] = {"JPEGImages", "SegmentationClass", "ImageSets",
                          "ImageSets/Segmentation"};
    for (size_t i = 0; i < 4; i++)
        CHECK(mkdir(path_of(a, dirs[i]), 0755) == 0);
    put_text(a, "classes.txt", "# id name\n0 background\n1 one 128 0 0\n\n2 two\n");
    uint8_t ids[W * H], grey[W * H];
    coord_mask(ids, W, H);
    put_image(a, "pal", W, H);
    put_palette_mask(a, "pal", ids, W, H);
    put_image(a, "grey", W, H);
    memcpy(grey, ids, sizeof grey);
    CHECK(stbi_write_png(path_of(a, "SegmentationClass/grey.png"), W, H, 1, grey, W));
    put_text(a, "ImageSets/Segmentation/train.txt", "pal\n  grey  \n\n");
    /* broken samples, one split each */
    put_image(a, "small", W - 1, H);
    put_palette_mask(a, "small", ids, W, H);
    put_image(a, "badclass", W, H);
    grey[3] = 7;
    CHECK(stbi_write_png(path_of(a, "SegmentationClass/badclass.png"), W, H, 1, grey, W));
    put_text(a, "JPEGImages/garbage.jpg", "this is not a JPEG");
    put_palette_mask(a, "garbage", ids, W, H);
    put_image(a, "badcolour", W, H);
    uint8_t rgb[W * H * 3] = {0};
    rgb[5] = 3;
    CHECK(stbi_write_png(path_of(a, "SegmentationClass/badcolour.png"), W, H, 3, rgb, W * 3));
    put_image(a, "nomask", W, H);
    const char *lists[][2] = {{"size", "small\n"}, {"class", "badclass\n"},
                              {"decode", "garbage\n"}, {"colour", "badcolour\n"},
                              {"missing", "pal\nghost\n"}, {"nomask", "nomask\n"},
                              {"empty", "\n\n"}};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        put_text(a, arena_printf(a, "ImageSets/Segmentation/%s.txt", lists[i][0]), lists[i][1]);
}

static void test_load(Arena *a)
{
    Dataset ds;
    Diag d;
    diag_init(&d);
    CHECK(srch_ds_open(a, root, "train", &ds, &d));
    CHECK(d.nerr == 0);
    CHECK(ds.n == 2 && ds.classes == 3);
    CHECK(ds.n == 2 && strcmp(ds.ids[1], "grey") == 0);
    CHECK(ds.class_names && strcmp(ds.class_names[1], "one") == 0);
    for (int c = 0; c < 3; c++)
        ds.mean[c] = 0.5f, ds.std[c] = 0.25f;
    uint8_t want[W * H];
    coord_mask(want, W, H);
    for (int64_t i = 0; i < ds.n && d.nerr == 0; i++) {
        DsImage img;
        CHECK(srch_ds_load(&ds, i, &img, &d));
        if (!img.x)
            continue;
        CHECK(img.w == W && img.h == H);
        CHECKF(memcmp(img.y, want, sizeof want) == 0, "mask of %s", ds.ids[i]);
        /* (v / 255 - 0.5) / 0.25 at pixel (3, 2); |x| <= 2, so a few float
         * roundings stay far below 2e-6 */
        float wx = ((30.0f * 3) / 255.0f - 0.5f) / 0.25f;
        float wy = ((40.0f * 2) / 255.0f - 0.5f) / 0.25f;
        CHECK(fabsf(img.x[0 * W * H + 2 * W + 3] - wx) < 2e-6f);
        CHECK(fabsf(img.x[1 * W * H + 2 * W + 3] - wy) < 2e-6f);
        CHECK(fabsf(img.x[2 * W * H] - (200.0f / 255.0f - 0.5f) / 0.25f) < 2e-6f);
        srch_ds_image_free(&img);
    }
    CHECK(d.nerr == 0);
    diag_free(&d);
}

/* Does out (x [3, ch, cw], y [ch, cw]) show the coordinate image cropped at
 * shift (dy, dx), mirrored or not? Rendered here independently of data.c. */
static bool shows(const float *x, const uint8_t *y, int ch, int cw, int dy, int dx, bool mirror)
{
    uint8_t want[W * H];
    coord_mask(want, W, H);
    for (int oy = 0; oy < ch; oy++)
        for (int ox = 0; ox < cw; ox++) {
            int sy = oy + dy, sx = (mirror ? cw - 1 - ox : ox) + dx, o = oy * cw + ox;
            bool inside = sy >= 0 && sy < H && sx >= 0 && sx < W;
            float r = inside ? 30.0f * sx / 255.0f : 0, g = inside ? 40.0f * sy / 255.0f : 0;
            float b = inside ? 200.0f / 255.0f : 0;
            int label = inside ? want[sy * W + sx] : DS_IGNORE;
            if (fabsf(x[o] - r) > 1e-6f || fabsf(x[ch * cw + o] - g) > 1e-6f ||
                fabsf(x[2 * ch * cw + o] - b) > 1e-6f || y[o] != label)
                return false;
        }
    return true;
}

/* 400 random crops of ch x cw: each must be exactly one legal (dy, dx,
 * mirror), and every legal one must turn up. */
static void test_crops(const Dataset *ds, int ch, int cw, bool flip)
{
    enum { DRAWS = 400 };
    int ylo = H >= ch ? 0 : H - ch, yhi = H >= ch ? H - ch : 0;
    int xlo = W >= cw ? 0 : W - cw, xhi = W >= cw ? W - cw : 0;
    int legal = (yhi - ylo + 1) * (xhi - xlo + 1) * (flip ? 2 : 1);
    bool seen[16][16][2] = {{{false}}};
    int nseen = 0;
    float *x = malloc(sizeof *x * 3 * ch * cw * DRAWS);
    uint8_t *y = malloc((size_t)ch * cw * DRAWS);
    int64_t idx[DRAWS];
    for (int k = 0; k < DRAWS; k++)
        idx[k] = k % 2; /* the palette and grey masks alike */
    Rng r;
    srch_rng_seed(&r, 42);
    Diag d;
    diag_init(&d);
    CHECK(srch_ds_batch(ds, &r, idx, DRAWS, ch, cw, flip, x, y, &d));
    for (int k = 0; k < DRAWS; k++) {
        int matches = 0;
        for (int dy = -ch; dy <= H; dy++)
            for (int dx = -cw; dx <= W; dx++)
                for (int m = 0; m < 2; m++) {
                    if (!shows(x + (size_t)k * 3 * ch * cw, y + (size_t)k * ch * cw, ch, cw, dy,
                               dx, m))
                        continue;
                    matches++;
                    CHECKF(dy >= ylo && dy <= yhi && dx >= xlo && dx <= xhi && (flip || !m),
                           "crop %dx%d: illegal shift (%d, %d) mirror %d", ch, cw, dy, dx, m);
                    if (dy >= ylo && dy <= yhi && dx >= xlo && dx <= xhi && !seen[dy - ylo]
                                                                                [dx - xlo][m])
                        seen[dy - ylo][dx - xlo][m] = true, nseen++;
                }
        CHECKF(matches == 1, "crop %dx%d draw %d matches %d geometries", ch, cw, k, matches);
    }
    CHECKF(nseen == legal, "crop %dx%d: %d of %d geometries seen", ch, cw, nseen, legal);
    /* same seed, same batch */
    float *x2 = malloc(sizeof *x2 * 3 * ch * cw * DRAWS);
    uint8_t *y2 = malloc((size_t)ch * cw * DRAWS);
    srch_rng_seed(&r, 42);
    CHECK(srch_ds_batch(ds, &r, idx, DRAWS, ch, cw, flip, x2, y2, &d));
    CHECK(memcmp(x, x2, sizeof *x * 3 * ch * cw * DRAWS) == 0);
    CHECK(memcmp(y, y2, (size_t)ch * cw * DRAWS) == 0);
    CHECK(d.nerr == 0);
    diag_free(&d);
    free(x), free(y), free(x2), free(y2);
}

static void test_geometry(Arena *a)
{
    Dataset ds;
    Diag d;
    diag_init(&d);
    CHECK(srch_ds_open(a, root, "train", &ds, &d));
    diag_free(&d);
    for (int c = 0; c < 3; c++)
        ds.mean[c] = 0.0f, ds.std[c] = 1.0f;
    test_crops(&ds, 3, 4, true);   /* inside the image */
    test_crops(&ds, 8, 10, false); /* padded on both axes */
    test_crops(&ds, 2, 9, true);   /* cropped rows, padded columns */
    test_crops(&ds, H, W, true);   /* exact size: only the flip varies */
}

/* Opening (and, if open succeeds, loading sample 0 of) SPLIT gives exactly
 * one error, and it contains `want`. */
static void expect_error(Arena *a, const char *split, const char *want)
{
    Dataset ds;
    Diag d;
    diag_init(&d);
    if (srch_ds_open(a, root, split, &ds, &d)) {
        DsImage img;
        CHECKF(!srch_ds_load(&ds, ds.n - 1, &img, &d), "split %s loads", split);
        CHECK(img.x == NULL && img.y == NULL);
    }
    const char *text = check_diag_text(a, &d);
    CHECKF(d.nerr == 1 && strstr(text, want), "split %s: want one error with '%s', got:\n%s",
           split, want, text);
    diag_free(&d);
}

static void test_errors(Arena *a)
{
    expect_error(a, "size", arena_printf(a, "%s/SegmentationClass/small.png: error: mask is 7x5 "
                                         "(WxH) but its image", root));
    expect_error(a, "class", arena_printf(a, "%s/SegmentationClass/badclass.png: error: pixel "
                                          "(3, 0) has class 7, but classes are 0..2", root));
    expect_error(a, "decode", arena_printf(a, "%s/JPEGImages/garbage.jpg: error: cannot decode",
                                           root));
    expect_error(a, "colour", arena_printf(a, "%s/SegmentationClass/badcolour.png: error: pixel "
                                           "(1, 0) has colour (0, 0, 3)", root));
    expect_error(a, "missing", arena_printf(a, "%s/ImageSets/Segmentation/missing.txt:2:1: "
                                            "error: no image for 'ghost'", root));
    expect_error(a, "nomask", arena_printf(a, "%s/ImageSets/Segmentation/nomask.txt:1:1: "
                                           "error: no mask for 'nomask'", root));
    expect_error(a, "empty", "empty.txt: error: the split list names no samples");
    expect_error(a, "nosuchsplit", "nosuchsplit.txt: error: cannot read the split list");
    Dataset ds;
    Diag d;
    diag_init(&d);
    CHECK(!srch_ds_open(a, path_of(a, "nodir"), "train", &ds, &d));
    CHECK(d.nerr == 1 && strstr(d.msg[0], "nodir: error: no dataset directory"));
    diag_free(&d);
    /* a classes.txt whose ids skip one */
    put_text(a, "classes.txt", "0 background\n2 two\n");
    expect_error(a, "train", arena_printf(a, "%s/classes.txt:2:1: error: expected class id 1",
                                          root));
}

/* The VOC palette: known colours, and an exact inverse on all 256 ids. */
static void test_palette(void)
{
    uint8_t c[3];
    srch_voc_colour(1, c);
    CHECK(c[0] == 128 && c[1] == 0 && c[2] == 0);
    srch_voc_colour(15, c);
    CHECK(c[0] == 192 && c[1] == 128 && c[2] == 128); /* VOC "person" */
    srch_voc_colour(255, c);
    CHECK(c[0] == 224 && c[1] == 224 && c[2] == 192);
    for (int k = 0; k < 256; k++) {
        srch_voc_colour(k, c);
        CHECK(srch_voc_class(c) == k);
    }
    uint8_t odd[3] = {1, 0, 0};
    CHECK(srch_voc_class(odd) == -1);
}

int main(void)
{
    snprintf(root, sizeof root, "%s/nasc-data-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR")
                                                                        : "/tmp");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    Arena a;
    arena_init(&a);
    test_palette();
    make_tree(&a);
    test_load(&a);
    test_geometry(&a);
    test_errors(&a);
    arena_free_all(&a);
    if (!failures) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        CHECK(system(cmd) == 0);
    } else {
        fprintf(stderr, "tree left in %s\n", root);
    }
    printf("%s: %d failures\n", failures ? "FAIL" : "ok", failures);
    return failures != 0;
}
