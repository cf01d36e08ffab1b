/* cli_progress.c — what long jobs (search, train) show and leave behind:
 * a progress bar with ETA on a terminal (a line per epoch otherwise),
 * history tables as CSV, and small option helpers.
 */
#include "cli.h"
#include "search/plot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

bool cli_parse_int(const char *s, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = (int)v;
    return true;
}

bool cli_make_dir(const char *path, Diag *d)
{
    if (mkdir(path, 0755) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            return true;
        errno = ENOTDIR;
    }
    diag_error(d, loc_file(path), "cannot create directory: %s", strerror(errno));
    return false;
}

void cli_progress_init(CliProgress *p, const char *what, int epochs)
{
    memset(p, 0, sizeof *p);
    p->what = what, p->epochs = epochs;
    p->tty = isatty(2);
    p->t0 = now_s();
    p->first_epoch = -1;
}

/* ETA from the steps this process has run (a resumed run starts late). */
void cli_progress_step(CliProgress *p, const SearchStep *s)
{
    if (p->first_epoch < 0)
        p->first_epoch = s->epoch;
    int64_t total = (int64_t)(s->epochs - p->first_epoch) * s->steps;
    int64_t done = (int64_t)(s->epoch - p->first_epoch) * s->steps + s->step + 1;
    double el = now_s() - p->t0, eta = done ? el / (double)done * (double)(total - done) : 0;
    if (!p->tty)
        return;
    enum { W = 24 };
    int fill = s->steps ? (int)((s->step + 1) * W / s->steps) : W;
    fprintf(stderr, "\r\033[K%s epoch %d/%d [%.*s%*s] %lld/%lld loss %.4f  ETA %dm%02ds",
            p->what, s->epoch + 1, s->epochs, fill, "========================", W - fill, "",
            (long long)(s->step + 1), (long long)s->steps, s->loss, (int)eta / 60,
            (int)eta % 60);
    fflush(stderr);
    p->shown = true;
}

void cli_progress_clear(CliProgress *p)
{
    if (p->tty && p->shown)
        fputs("\r\033[K", stderr);
    p->shown = false;
}

bool cli_write_csv(const char *path, const char *const *names, const double *const *cols,
                   int ncols, int n, Diag *d)
{
    size_t cap = 64 + (size_t)ncols * (size_t)(n + 1) * 24, len = 0;
    char *s = malloc(cap);
    if (!s) {
        diag_error(d, loc_file(path), "out of memory");
        return false;
    }
    len += (size_t)snprintf(s + len, cap - len, "epoch");
    for (int c = 0; c < ncols; c++)
        len += (size_t)snprintf(s + len, cap - len, ",%s", names[c]);
    len += (size_t)snprintf(s + len, cap - len, "\n");
    for (int i = 0; i < n; i++) {
        len += (size_t)snprintf(s + len, cap - len, "%d", i + 1);
        for (int c = 0; c < ncols; c++)
            len += (size_t)snprintf(s + len, cap - len, ",%.6g", cols[c][i]);
        len += (size_t)snprintf(s + len, cap - len, "\n");
    }
    bool ok = srch_write_file(path, s, len, d);
    free(s);
    return ok;
}

int cli_read_csv(const char *path, int ncols, double *const *cols, int maxrows, Diag *d)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        diag_error(d, loc_file(path), "cannot read: %s", strerror(errno));
        return -1;
    }
    char line[4096];
    int n = 0;
    if (!fgets(line, sizeof line, f)) { /* the header */
        fclose(f);
        return 0;
    }
    while (n < maxrows && fgets(line, sizeof line, f)) {
        char *p = strchr(line, ',');
        for (int c = 0; c < ncols && p; c++) {
            cols[c][n] = strtod(p + 1, &p);
            p = *p == ',' ? p : NULL;
        }
        n++;
    }
    fclose(f);
    return n;
}
