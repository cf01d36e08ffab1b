/* calib.c — calibration ranges from the float reference interpreter.
 *
 * The interpreter can already dump every named value (--trace); a shallow
 * copy of the graph whose values are all named "q<id>" makes it dump every
 * value, which is read back and folded into min/max, one input at a time.
 * (An observer callback in runtime/interp.c would avoid the files.)
 */
#define _POSIX_C_SOURCE 200809L
#include "runtime/int8/int8.h"
#include "runtime/interp.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void fold_file(const char *path, int64_t n, QRange *r, bool first, float *tmp)
{
    FILE *f = fopen(path, "rb");
    size_t got = f ? fread(tmp, sizeof *tmp, (size_t)n, f) : 0;
    if (f)
        fclose(f);
    remove(path);
    for (size_t i = 0; i < got; i++) {
        if (!isfinite(tmp[i]))
            continue;
        if (first && i == 0)
            r->lo = r->hi = tmp[i];
        r->lo = tmp[i] < r->lo ? tmp[i] : r->lo;
        r->hi = tmp[i] > r->hi ? tmp[i] : r->hi;
    }
}

static bool run_one(const Graph *named, const float *x, const char *dir, QRange *range,
                    bool first, float *tmp, Diag *d)
{
    const Value *o = &named->vals[named->outputs[0]];
    void *out = malloc((size_t)shape_numel(&o->shape) * dtype_size(o->dtype));
    bool ok = out && rt_interp_run(named, x, out, dir, d);
    free(out);
    for (ValueId v = 1; v < named->nval; v++) {
        const Value *val = &named->vals[v];
        if (!val->name || strncmp(val->name, "q", 1) || val->dtype != DT_F32)
            continue;
        char *path = arena_printf(named->arena, "%s/%s.bin", dir, val->name);
        if (ok)
            fold_file(path, shape_numel(&val->shape), &range[v], first, tmp);
        else
            remove(path);
    }
    return ok;
}

bool rt_q8_calibrate(const Graph *g, const float *inputs, int64_t n, QRange *range, Diag *d)
{
    Graph named = *g;
    named.vals = arena_calloc(g->arena, g->nval, sizeof *named.vals);
    memcpy(named.vals, g->vals, g->nval * sizeof *named.vals);
    int64_t maxn = 1;
    for (ValueId v = 1; v < g->nval; v++) {
        range[v] = (QRange){0, 0};
        if (g->nodes[g->vals[v].producer].op == OP_PARAM && g->vals[v].producer)
            continue;
        named.vals[v].name = arena_printf(g->arena, "q%u", v);
        int64_t k = shape_numel(&g->vals[v].shape);
        maxn = k > maxn ? k : maxn;
    }
    const char *tmpdir = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/nasc-calib-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(dir)) {
        diag_error(d, (Loc){0}, "calibration: cannot make a temporary directory: %s",
                   strerror(errno));
        return false;
    }
    float *tmp = malloc((size_t)maxn * sizeof *tmp);
    bool ok = tmp != NULL;
    int64_t in_numel = shape_numel(&g->vals[g->inputs[0]].shape);
    for (int64_t i = 0; ok && i < n; i++)
        ok = run_one(&named, inputs + i * in_numel, dir, range, i == 0, tmp, d);
    if (!tmp)
        diag_error(d, (Loc){0}, "calibration: out of memory");
    free(tmp);
    rmdir(dir);
    return ok;
}
