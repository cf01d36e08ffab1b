/* mask_png.c — segmentation masks as 8-bit paletted PNGs.
 *
 * stb_image_write cannot write a palette, and a grey PNG of ids 0..10 looks
 * black, so masks are written here as VOC writes them: colour type 3 with the
 * PASCAL VOC palette, where the pixel value IS the class id (PIL mode 'P').
 * Readers that expand the palette (stb_image) get VOC colours back, and
 * srch_voc_class inverts the palette. The PNG is five chunks; zlib does the
 * compression and the CRCs, so the bytes depend only on the ids.
 */
#include "search/data.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Bit j of k goes to bit 7 - j/3 of channel j%3: classes 1, 2, 3 are dark
 * red, green, olive (VOC devkit's labelcolormap). */
void srch_voc_colour(int k, uint8_t rgb[3])
{
    rgb[0] = rgb[1] = rgb[2] = 0;
    for (int shift = 7; k; shift--, k >>= 3)
        for (int ch = 0; ch < 3; ch++)
            rgb[ch] |= (uint8_t)(((k >> ch) & 1) << shift);
}

int srch_voc_class(const uint8_t rgb[3])
{
    int k = 0;
    for (int j = 0; j < 3; j++)
        for (int ch = 0; ch < 3; ch++)
            k |= ((rgb[ch] >> (7 - j)) & 1) << (3 * j + ch);
    if (k > 255)
        return -1;
    uint8_t back[3];
    srch_voc_colour(k, back);
    return memcmp(back, rgb, 3) == 0 ? k : -1;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* One chunk: length, type, data, CRC of type + data. */
static void write_chunk(FILE *f, const char *type, const uint8_t *data, uint32_t n)
{
    uint8_t head[8], tail[4];
    put_u32(head, n);
    memcpy(head + 4, type, 4);
    uLong crc = crc32(0L, head + 4, 4);
    if (n)
        crc = crc32(crc, data, n);
    put_u32(tail, (uint32_t)crc);
    fwrite(head, 1, 8, f);
    if (n)
        fwrite(data, 1, n, f);
    fwrite(tail, 1, 4, f);
}

/* Scanlines with filter byte 0 (none), deflated at level 9. */
static uint8_t *deflate_rows(const uint8_t *ids, int h, int w, uLongf *n)
{
    size_t raw_n = (size_t)h * ((size_t)w + 1);
    uint8_t *raw = malloc(raw_n);
    *n = compressBound((uLong)raw_n);
    uint8_t *z = malloc(*n);
    if (!raw || !z) {
        free(raw);
        free(z);
        return NULL;
    }
    for (int r = 0; r < h; r++) {
        raw[(size_t)r * (w + 1)] = 0;
        memcpy(raw + (size_t)r * (w + 1) + 1, ids + (size_t)r * w, (size_t)w);
    }
    int rc = compress2(z, n, raw, (uLong)raw_n, 9);
    free(raw);
    if (rc != Z_OK) {
        free(z);
        return NULL;
    }
    return z;
}

bool srch_png_write_mask(const char *path, const uint8_t *ids, int h, int w, Diag *d)
{
    static const uint8_t sig[8] = {137, 'P', 'N', 'G', '\r', '\n', 26, '\n'};
    uLongf zn;
    uint8_t *z = deflate_rows(ids, h, w, &zn);
    if (!z) {
        diag_error(d, loc_file(path), "cannot encode mask PNG: out of memory");
        return false;
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        diag_error(d, loc_file(path), "cannot write: %s", strerror(errno));
        free(z);
        return false;
    }
    uint8_t ihdr[13] = {0}, plte[256 * 3];
    put_u32(ihdr, (uint32_t)w);
    put_u32(ihdr + 4, (uint32_t)h);
    ihdr[8] = 8; /* bit depth */
    ihdr[9] = 3; /* colour type: palette; compression, filter, interlace stay 0 */
    for (int k = 0; k < 256; k++)
        srch_voc_colour(k, plte + 3 * k);
    fwrite(sig, 1, sizeof sig, f);
    write_chunk(f, "IHDR", ihdr, sizeof ihdr);
    write_chunk(f, "PLTE", plte, sizeof plte);
    write_chunk(f, "IDAT", z, (uint32_t)zn);
    write_chunk(f, "IEND", NULL, 0);
    free(z);
    bool ok = !ferror(f);
    if (fclose(f) != 0 || !ok) {
        diag_error(d, loc_file(path), "cannot write: %s", strerror(errno));
        return false;
    }
    return true;
}
