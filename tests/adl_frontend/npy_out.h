/* npy_out.h — builds .npy files in memory, laid out as NumPy writes them
 * (test_npy.c's dtype matrix and error cases, test_adl_frontend.c's
 * hostile mutations), and writes them out. Header-only, like tests/check.h.
 */
#ifndef NASC_TESTS_NPY_OUT_H
#define NASC_TESTS_NPY_OUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct NpyOut {
    unsigned char b[4096];
    size_t n;
} NpyOut;

/* A .npy as NumPy lays it out: header padded with spaces to a multiple of
 * 64 bytes (16 for `pad` = false: an unaligned header is legal too). */
static void npy_build(NpyOut *o, int major, const char *dict, bool pad)
{
    size_t pre = major == 1 ? 10 : 12, hl = strlen(dict) + 1;
    if (pad)
        hl += (64 - (pre + hl) % 64) % 64;
    memcpy(o->b, "\x93NUMPY", 6);
    o->b[6] = (unsigned char)major;
    o->b[7] = 0;
    for (size_t i = 0; i < pre - 8; i++)
        o->b[8 + i] = (unsigned char)(hl >> (8 * i));
    memset(o->b + pre, ' ', hl);
    memcpy(o->b + pre, dict, strlen(dict));
    o->b[pre + hl - 1] = '\n';
    o->n = pre + hl;
}

static void npy_put(NpyOut *o, int64_t v, int size, bool big)
{
    for (int i = 0; i < size; i++)
        o->b[o->n + (big ? size - 1 - i : i)] = (unsigned char)((uint64_t)v >> (8 * i));
    o->n += (size_t)size;
}

/* Writes n bytes of p to path (replacing it); exits 2 on failure. */
static void write_file(const char *path, const void *p, size_t n)
{
    unlink(path); /* truncating in place is ~30x slower on some file systems */
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
    fclose(f);
}

#endif
