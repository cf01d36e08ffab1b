/* cli_io.c — output files appear whole or not at all.
 *
 * Each output is written to a mkstemp file in the same directory (so the
 * final rename is atomic on one filesystem) and renamed only after every
 * output of the command was written and flushed without error.
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool cli_out_open(CliOut *o, const char *path, Diag *d)
{
    memset(o, 0, sizeof *o);
    o->path = path;
    size_t n = strlen(path);
    o->tmp = malloc(n + 16);
    if (!o->tmp) {
        diag_error(d, loc_file(path), "out of memory");
        return false;
    }
    snprintf(o->tmp, n + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        diag_error(d, loc_file(path), "cannot write: %s", strerror(errno));
        free(o->tmp);
        o->tmp = NULL;
        return false;
    }
    fchmod(fd, 0644);
    o->f = fdopen(fd, "w");
    if (!o->f) {
        diag_error(d, loc_file(path), "cannot write: %s", strerror(errno));
        close(fd);
        unlink(o->tmp);
        free(o->tmp);
        o->tmp = NULL;
        return false;
    }
    return true;
}

void cli_out_abort(CliOut *outs, int n)
{
    for (int i = 0; i < n; i++) {
        if (outs[i].f)
            fclose(outs[i].f);
        if (outs[i].tmp)
            unlink(outs[i].tmp);
        free(outs[i].tmp);
        outs[i].f = NULL;
        outs[i].tmp = NULL;
    }
}

bool cli_out_commit(CliOut *outs, int n, Diag *d)
{
    for (int i = 0; i < n; i++) {
        FILE *f = outs[i].f;
        outs[i].f = NULL;
        bool bad = ferror(f) != 0;
        if (fclose(f) != 0 || bad) {
            diag_error(d, loc_file(outs[i].path), "write failed: %s",
                       errno ? strerror(errno) : "I/O error");
            cli_out_abort(outs, n);
            return false;
        }
    }
    for (int i = 0; i < n; i++) {
        if (rename(outs[i].tmp, outs[i].path) != 0) {
            diag_error(d, loc_file(outs[i].path), "cannot write: %s", strerror(errno));
            cli_out_abort(outs, n);
            return false;
        }
        free(outs[i].tmp);
        outs[i].tmp = NULL;
    }
    return true;
}

bool cli_read_f32(const char *path, float *dst, size_t n, Diag *d)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        diag_error(d, loc_file(path), "cannot open: %s", strerror(errno));
        return false;
    }
    size_t got = fread(dst, sizeof(float), n, f);
    int extra = fgetc(f);
    fclose(f);
    if (got != n || extra != EOF) {
        diag_error(d, loc_file(path), "expected exactly %zu f32 values (%zu bytes) of input, "
                   "file has %s", n, n * sizeof(float), got != n ? "fewer" : "more");
        return false;
    }
    return true;
}
