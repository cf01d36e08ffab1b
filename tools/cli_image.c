/* cli_image.c — pictures in and out of `nasc run`, through Debian's stb.
 *
 * An image (PNG, JPEG, BMP, ... whatever stb_image reads) becomes a
 * normalised NCHW f32 input, resized bilinearly when the network wants
 * another size; a label map (the argmax of a segmentation output) becomes a
 * PNG in the PASCAL VOC palette, so a person can look at the result.
 */
#include "cli.h"
#include "search/data.h"

#include <stb/stb_image.h>
#include <stb/stb_image_write.h>
#include <stdlib.h>
#include <string.h>

/* Samples channel c of an 8-bit HWC image at (y, x) in its own pixels,
 * bilinearly (align_corners=False, as image resizers do). */
static float sample(const unsigned char *px, int h, int w, int c, double y, double x)
{
    y = y < 0 ? 0 : y;
    x = x < 0 ? 0 : x;
    int y0 = (int)y, x0 = (int)x;
    int y1 = y0 + 1 < h ? y0 + 1 : h - 1, x1 = x0 + 1 < w ? x0 + 1 : w - 1;
    y0 = y0 < h ? y0 : h - 1;
    x0 = x0 < w ? x0 : w - 1;
    double ly = y - y0, lx = x - x0;
    double top = px[(y0 * w + x0) * 3 + c] * (1 - lx) + px[(y0 * w + x1) * 3 + c] * lx;
    double bot = px[(y1 * w + x0) * 3 + c] * (1 - lx) + px[(y1 * w + x1) * 3 + c] * lx;
    return (float)(top * (1 - ly) + bot * ly);
}

bool cli_image_size(const char *path, int *h, int *w, Diag *d)
{
    int comp;
    if (!stbi_info(path, w, h, &comp)) {
        diag_error(d, loc_file(path), "cannot read image: %s", stbi_failure_reason());
        return false;
    }
    return true;
}

bool cli_image_load(const char *path, const ImageNorm *norm, int h, int w, float *chw, Diag *d)
{
    int iw, ih, comp;
    unsigned char *px = stbi_load(path, &iw, &ih, &comp, 3);
    if (!px) {
        diag_error(d, loc_file(path), "cannot read image: %s", stbi_failure_reason());
        return false;
    }
    double sy = (double)ih / h, sx = (double)iw / w;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                float v = sample(px, ih, iw, c, (y + 0.5) * sy - 0.5, (x + 0.5) * sx - 0.5);
                chw[((size_t)c * h + y) * w + x] = (v / 255.0f - norm->mean[c]) / norm->std[c];
            }
    stbi_image_free(px);
    return true;
}

static void write_to_file(void *ctx, void *data, int size)
{
    fwrite(data, 1, (size_t)size, (FILE *)ctx);
}

bool cli_rgb_write(const char *path, const unsigned char *rgb, int h, int w, Diag *d)
{
    CliOut o;
    bool ok = cli_out_open(&o, path, d);
    if (ok && !stbi_write_png_to_func(write_to_file, o.f, w, h, 3, rgb, w * 3)) {
        diag_error(d, loc_file(path), "PNG encoding failed");
        cli_out_abort(&o, 1);
        ok = false;
    } else if (ok) {
        ok = cli_out_commit(&o, 1, d);
    }
    return ok;
}

bool cli_mask_write(const char *path, const uint8_t *labels, int h, int w, Diag *d)
{
    unsigned char *rgb = malloc((size_t)h * w * 3);
    if (!rgb) {
        diag_error(d, loc_file(path), "out of memory");
        return false;
    }
    for (size_t i = 0; i < (size_t)h * w; i++)
        srch_voc_colour(labels[i], rgb + i * 3);
    bool ok = cli_rgb_write(path, rgb, h, w, d);
    free(rgb);
    return ok;
}
