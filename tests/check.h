/* check.h — the few lines every C test program shares: failure counting
 * and file slurping. Header-only (static functions) so each test stays one
 * translation unit with no test library to link.
 */
#ifndef NASC_TESTS_CHECK_H
#define NASC_TESTS_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

/* Counts and reports a failed condition; the test goes on. */
#define CHECK(cond)                                                                \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                            \
        }                                                                          \
    } while (0)

/* CHECK with a printf-style explanation. */
#define CHECKF(cond, ...)                                                          \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                          \
            fputc('\n', stderr);                                                   \
            failures++;                                                            \
        }                                                                          \
    } while (0)

/* Compares two strings exactly, printing both when they differ. */
#define CHECK_STR(got, want) check_str(__FILE__, __LINE__, (got), (want))
static inline void check_str(const char *file, int line, const char *got, const char *want)
{
    if (got && want && strcmp(got, want) == 0)
        return;
    fprintf(stderr, "%s:%d: strings differ\n--- got:\n%s\n--- want:\n%s\n", file, line,
            got ? got : "(null)", want ? want : "(null)");
    failures++;
}

#ifdef NASC_IR_IR_H
/* All messages of d, each followed by '\n' (arena memory). */
static inline char *check_diag_text(Arena *a, const Diag *d)
{
    char *s = arena_strdup(a, "");
    for (int i = 0; i < d->nmsg; i++)
        s = arena_printf(a, "%s%s\n", s, d->msg[i]);
    return s;
}
#endif

/* Whole file, NUL-terminated, malloc'd (caller frees); NULL if unreadable. */
static inline char *check_slurp(const char *path, size_t *len)
{
    if (len)
        *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0;) {
        n += got;
        if (cap - n - 1 == 0) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger)
                free(buf);
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) {
        buf[n] = 0;
        if (len)
            *len = n;
    }
    return buf;
}

#endif
