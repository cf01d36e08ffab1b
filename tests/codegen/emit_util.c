/* emit_util.c — helpers shared by the emitted-C tests (emit_util.h). */
#include "emit_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

bool cgtest_emit(const Graph *g, const CgOptions *o, const char *dir, const char *name)
{
    char cpath[600], hpath[600];
    snprintf(cpath, sizeof cpath, "%s/%s.c", dir, name);
    snprintf(hpath, sizeof hpath, "%s/%s.h", dir, name);
    FILE *cf = fopen(cpath, "w"), *hf = fopen(hpath, "w");
    CgOptions opts = o ? *o : (CgOptions){0};
    opts.name = name;
    Diag d;
    diag_init(&d);
    bool ok = cf && hf && cg_emit_c(g, &opts, cf, hf, &d);
    if (cf)
        ok = fclose(cf) == 0 && ok;
    if (hf)
        ok = fclose(hf) == 0 && ok;
    if (!ok)
        diag_print(&d, stderr);
    diag_free(&d);
    return ok;
}

int cgtest_run(const char *cmd)
{
    int rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
    return rc;
}

bool cgtest_write_file(const char *path, const void *p, size_t bytes)
{
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(p, 1, bytes, f) == bytes;
    return f && fclose(f) == 0 && ok;
}

float cgtest_frand(uint64_t *rng)
{
    uint64_t r = *rng;
    r ^= r >> 12;
    r ^= r << 25;
    r ^= r >> 27;
    *rng = r;
    return (float)((double)((r * 0x2545f4914f6cdd1dull) >> 11) / 9007199254740992.0 * 2 - 1);
}

ValueId cgtest_param(Graph *g, const char *name, Shape s, float scale, uint64_t *rng)
{
    ValueId v = ir_graph_add_param(g, s, name, (Loc){0});
    int64_t n = shape_numel(&s);
    float *p = arena_calloc(g->arena, (size_t)n, sizeof *p);
    for (int64_t i = 0; i < n; i++)
        p[i] = cgtest_frand(rng) * scale;
    g->vals[v].data = p;
    return v;
}

ValueId cgtest_node(Graph *g, Op op, const Attrs *a, const ValueId *in, uint32_t nin)
{
    Diag d;
    diag_init(&d);
    ValueId v = ir_graph_add_node(g, op, in, nin, a, (Loc){0}, &d);
    if (!v) {
        diag_print(&d, stderr);
        abort();
    }
    diag_free(&d);
    return v;
}

bool cgtest_add_blob_runner(const Graph *g, const CgOptions *o, const char *dir)
{
    float *blob = NULL;
    int64_t nb = 0;
    char path[700];
    Diag d;
    diag_init(&d);
    bool ok = cg_weights_blob(g, o, &blob, &nb, &d);
    if (!ok)
        diag_print(&d, stderr);
    diag_free(&d);
    snprintf(path, sizeof path, "%s/%s.h", dir, o->name);
    FILE *f = ok ? fopen(path, "a") : NULL;
    ok = f && fprintf(f, "int %s_run(const float *input, float *output, void *workspace);\n",
                      o->name) > 0;
    ok = f && fclose(f) == 0 && ok;
    snprintf(path, sizeof path, "%s/%s.c", dir, o->name);
    f = ok ? fopen(path, "a") : NULL;
    if (f) {
        fprintf(f, "\nint %s_run(const float *input, float *output, void *workspace)\n{\n"
                "    static const float blob[%lld] = {\n", o->name, (long long)nb);
        for (int64_t i = 0; i < nb; i++)
            fprintf(f, "%a%s", (double)blob[i], i % 8 == 7 ? "f,\n" : "f, ");
        fprintf(f, "};\n    return %s_run_blob(input, output, workspace, blob);\n}\n", o->name);
        ok = fclose(f) == 0;
    }
    free(blob);
    return ok;
}

double cgtest_rel_error(const char *what, const float *got, const float *ref, int64_t n)
{
    double maxref = 0, maxerr = 0;
    for (int64_t i = 0; i < n; i++) {
        maxref = fmax(maxref, fabs((double)ref[i]));
        double e = fabs((double)got[i] - (double)ref[i]);
        maxerr = isnan(e) ? INFINITY : fmax(maxerr, e);
    }
    printf("%-26s max |diff| %.3g, max |ref| %.3g, relative %.3g\n", what, maxerr, maxref,
           maxerr / maxref);
    return maxerr / maxref;
}
