/* cli_quant.c — the int8 path of `nasc compile`: calibration inputs from a
 * directory, rt_q8_calibrate, pass_quant_plan, cg_emit_c_int8.
 */
#define _DEFAULT_SOURCE
#include "cli_quant.h"
#include "cli.h"
#include "codegen/codegen_int8.h"
#include "runtime/int8/int8.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool has_ext(const char *name, const char *ext)
{
    size_t n = strlen(name), e = strlen(ext);
    return n > e && strcasecmp(name + n - e, ext) == 0;
}

static bool is_image(const char *name)
{
    return has_ext(name, ".png") || has_ext(name, ".jpg") || has_ext(name, ".jpeg");
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Names of DIR's calibration files, sorted; *n gets the count. */
static char **list_inputs(Arena *a, const char *dir, int *n, Diag *d)
{
    DIR *dp = opendir(dir);
    if (!dp) {
        diag_error(d, loc_file(dir), "--calib: cannot open the directory");
        return NULL;
    }
    int cap = 64;
    char **v = arena_calloc(a, (size_t)cap, sizeof *v);
    *n = 0;
    for (struct dirent *e; (e = readdir(dp));) {
        if (!has_ext(e->d_name, ".bin") && !is_image(e->d_name))
            continue;
        if (*n == cap) {
            char **w = arena_calloc(a, (size_t)cap * 2, sizeof *w);
            memcpy(w, v, (size_t)cap * sizeof *v);
            v = w, cap *= 2;
        }
        v[(*n)++] = arena_printf(a, "%s/%s", dir, e->d_name);
    }
    closedir(dp);
    qsort(v, (size_t)*n, sizeof *v, cmp_str);
    if (*n == 0)
        diag_error(d, loc_file(dir), "--calib: no *.bin, *.png or *.jpg files");
    return *n ? v : NULL;
}

/* How many inputs file `path` holds (1 for an image); -1 after an error. */
static int64_t count_inputs(const char *path, int64_t numel, Diag *d)
{
    if (is_image(path))
        return 1;
    FILE *f = fopen(path, "rb");
    long bytes = -1;
    if (f && fseek(f, 0, SEEK_END) == 0)
        bytes = ftell(f);
    if (f)
        fclose(f);
    if (bytes <= 0 || bytes % (numel * 4)) {
        diag_error(d, loc_file(path), "--calib: %ld bytes, not a multiple of the input's "
                   "%lld floats", bytes, (long long)numel);
        return -1;
    }
    return bytes / (numel * 4);
}

static float *load_inputs(Arena *a, const Graph *g, char **files, int nfile, int64_t *count,
                          Diag *d)
{
    const Shape *s = &g->vals[g->inputs[0]].shape;
    int64_t numel = shape_numel(s), total = 0;
    int64_t *per = arena_calloc(a, (size_t)nfile, sizeof *per);
    for (int i = 0; i < nfile; i++) {
        if ((per[i] = count_inputs(files[i], numel, d)) < 0)
            return NULL;
        total += per[i];
    }
    float *x = malloc((size_t)(total * numel) * sizeof *x);
    if (!x) {
        diag_error(d, (Loc){0}, "--calib: out of memory for %lld inputs", (long long)total);
        return NULL;
    }
    static const ImageNorm imagenet = {{0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}};
    float *at = x;
    for (int i = 0; i < nfile; i++, at += per[i - 1] * numel) {
        bool ok = is_image(files[i])
                      ? (s->rank == 4 && s->d[1] == 3 &&
                         cli_image_load(files[i], &imagenet, (int)s->d[2], (int)s->d[3], at, d))
                      : cli_read_f32(files[i], at, (size_t)(per[i] * numel), d);
        if (!ok) {
            if (!d->nerr)
                diag_error(d, loc_file(files[i]), "--calib: images need a 3-channel input");
            free(x);
            return NULL;
        }
    }
    *count = total;
    return x;
}

bool cli_quant_emit(const Graph *g, const CgOptions *opt, const char *calib_dir, FILE *c_out,
                    FILE *h_out, Diag *d)
{
    if (!calib_dir) {
        diag_error(d, (Loc){0}, "--quantize int8 needs --calib DIR (calibration inputs)");
        return false;
    }
    int nfile = 0;
    int64_t count = 0;
    char **files = list_inputs(g->arena, calib_dir, &nfile, d);
    float *x = files ? load_inputs(g->arena, g, files, nfile, &count, d) : NULL;
    if (!x)
        return false;
    QRange *range = arena_calloc(g->arena, g->nval, sizeof *range);
    QPlan plan;
    bool ok = rt_q8_calibrate(g, x, count, range, d) &&
              pass_quant_plan(g, range, g->arena, &plan, d) &&
              cg_emit_c_int8(g, &plan, opt, c_out, h_out, d);
    free(x);
    return ok;
}
