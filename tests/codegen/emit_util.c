/* emit_util.c — helpers shared by the emitted-C tests (emit_util.h). */
#include "emit_util.h"

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
