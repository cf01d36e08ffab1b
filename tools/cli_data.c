/* cli_data.c — `nasc data`: datasets for the search trainer.
 *
 *   nasc data fashion-seg DIR [--size N] [--train N] [--val N] [--seed S]
 *                             [--per-canvas MIN..MAX] [--source DIR]
 *
 * The library (search/fashion_seg.c) builds the files; this verb parses the
 * options, shows progress on stderr (a rewritten line on a terminal, one line
 * per split otherwise) and prints a summary with the class frequencies.
 */
#include "cli.h"
#include "search/data.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char data_usage[] =
    "usage: nasc data fashion-seg DIR [--size N] [--train N] [--val N] [--seed S]\n"
    "                 [--per-canvas MIN..MAX] [--source DIR]\n";

static bool parse_i64(const char *opt, const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "nasc data: error: %s expects an integer in %lld..%lld, got '%s'\n",
                opt, (long long)lo, (long long)hi, s);
        return false;
    }
    *out = v;
    return true;
}

/* "MIN..MAX" or a single N. */
static bool parse_range(const char *s, int *lo, int *hi)
{
    char *end;
    long a = strtol(s, &end, 10), b = a;
    if (end == s)
        return false;
    if (strncmp(end, "..", 2) == 0) {
        const char *rest = end + 2;
        b = strtol(rest, &end, 10);
        if (end == rest)
            return false;
    }
    if (*end || a < 1 || b < a || b > 16)
        return false;
    *lo = (int)a, *hi = (int)b;
    return true;
}

/* Returns 0 when parsed, else the exit status (2). */
static int parse_fashion_args(int argc, char **argv, FashionSegOptions *o)
{
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i], *v;
        int64_t n;
        if (arg[0] != '-') {
            if (o->out_dir) {
                fprintf(stderr, "nasc data: error: more than one DIR ('%s')\n", arg);
                return 2;
            }
            o->out_dir = arg;
        } else if (cli_is_opt(arg, "--size") || cli_is_opt(arg, "--train") ||
                   cli_is_opt(arg, "--val") || cli_is_opt(arg, "--seed")) {
            const char *opt = arg[2] == 's' ? (arg[3] == 'i' ? "--size" : "--seed")
                                            : arg[2] == 't' ? "--train" : "--val";
            if (!(v = cli_value(argc, argv, &i, opt)))
                return 2;
            bool seed = strcmp(opt, "--seed") == 0, size = strcmp(opt, "--size") == 0;
            if (!parse_i64(opt, v, seed ? 0 : size ? 16 : 0,
                           seed ? INT64_MAX : size ? 1024 : 10000000, &n))
                return 2;
            if (seed)
                o->seed = (uint64_t)n;
            else if (size)
                o->size = (int)n;
            else
                *(opt[2] == 't' ? &o->ntrain : &o->nval) = n;
        } else if (cli_is_opt(arg, "--per-canvas")) {
            if (!(v = cli_value(argc, argv, &i, "--per-canvas")))
                return 2;
            if (!parse_range(v, &o->per_canvas_min, &o->per_canvas_max)) {
                fprintf(stderr, "nasc data: error: --per-canvas expects MIN..MAX within 1..16, "
                        "got '%s'\n", v);
                return 2;
            }
        } else if (cli_is_opt(arg, "--source")) {
            if (!(o->source_dir = cli_value(argc, argv, &i, "--source")))
                return 2;
        } else {
            fprintf(stderr, "nasc data: error: unknown option '%s'\n%s", arg, data_usage);
            return 2;
        }
    }
    if (!o->out_dir) {
        fprintf(stderr, "nasc data: error: no output DIR\n%s", data_usage);
        return 2;
    }
    return 0;
}

typedef struct Progress {
    bool tty;
} Progress;

static void show_progress(void *ctx, const char *split, int64_t done, int64_t total)
{
    Progress *p = ctx;
    if (p->tty && (done % 50 == 0 || done == total))
        fprintf(stderr, "\rfashion-seg: %s %lld/%lld", split, (long long)done, (long long)total);
    if (done == total)
        fprintf(stderr, p->tty ? "\n" : "fashion-seg: %s %lld/%lld\n", split, (long long)done,
                (long long)total);
}

static void print_summary(const FashionSegOptions *o, const FashionSegStats *st, double secs)
{
    printf("wrote %s: %lld train + %lld val canvases of %dx%d, %lld garments, %.2f s\n",
           o->out_dir, (long long)o->ntrain, (long long)o->nval, o->size, o->size,
           (long long)st->garments, secs);
    double total = st->total_pixels ? (double)st->total_pixels : 1.0;
    printf("pixels per label (both splits):\n");
    for (int k = 0; k < FASHION_CLASSES; k++)
        printf("  %3d  %6.2f %%\n", k, 100.0 * (double)st->pixels[k] / total);
    printf("  255  %6.2f %%  (ignore)\n", 100.0 * (double)st->ignore_pixels / total);
}

int cmd_data(int argc, char **argv, Arena *a, Diag *d)
{
    (void)a;
    if (argc < 2 || strcmp(argv[1], "fashion-seg") != 0) {
        fprintf(stderr, "nasc data: error: %s\n%s",
                argc < 2 ? "no dataset kind" : "unknown dataset kind (known: fashion-seg)",
                data_usage);
        return 2;
    }
    FashionSegOptions o;
    srch_fashion_seg_defaults(&o);
    int rc = parse_fashion_args(argc, argv, &o);
    if (rc)
        return rc;
    Progress p = {isatty(STDERR_FILENO) != 0};
    o.progress = show_progress;
    o.progress_ctx = &p;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    FashionSegStats st;
    if (!srch_fashion_seg_build(&o, &st, d))
        return cli_report(d);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    print_summary(&o, &st, (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec));
    return cli_report(d);
}
