/* checkpoint.c — a safetensors writer (checkpoint.h).
 *
 * Layout as the reference writer: u64 little-endian header length, a JSON
 * header {"name":{"dtype":"F32","shape":[..],"data_offsets":[b,e]},...}
 * padded with spaces to a multiple of 8, then the data, tensors back to
 * back in header order. Names are sorted so that the same tensors give the
 * same bytes whatever order the caller lists them in.
 */
#include "search/checkpoint.h"
#include "search/plot.h" /* srch_write_file_with */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_name(const void *a, const void *b)
{
    return strcmp(((const CkTensor *)a)->name, ((const CkTensor *)b)->name);
}

/* Appends s to the growing header; false on out of memory. */
static bool hdr_add(char **buf, size_t *len, size_t *cap, const char *s)
{
    size_t n = strlen(s);
    if (*len + n + 1 > *cap) {
        size_t ncap = (*cap ? *cap * 2 : 4096) + n;
        char *nb = realloc(*buf, ncap);
        if (!nb)
            return false;
        *buf = nb, *cap = ncap;
    }
    memcpy(*buf + *len, s, n + 1);
    *len += n;
    return true;
}

/* JSON header for sorted tensors t[n], padded to a multiple of 8. */
static char *build_header(const CkTensor *t, int n, size_t *hlen)
{
    char *h = NULL, item[512];
    size_t len = 0, cap = 0;
    bool ok = hdr_add(&h, &len, &cap, "{");
    uint64_t off = 0;
    for (int i = 0; ok && i < n; i++) {
        int64_t numel = 1;
        ok = hdr_add(&h, &len, &cap, i ? ",\"" : "\"") && hdr_add(&h, &len, &cap, t[i].name) &&
             hdr_add(&h, &len, &cap, "\":{\"dtype\":\"F32\",\"shape\":[");
        for (int k = 0; ok && k < t[i].rank; k++) {
            snprintf(item, sizeof item, "%s%lld", k ? "," : "", (long long)t[i].shape[k]);
            numel *= t[i].shape[k];
            ok = hdr_add(&h, &len, &cap, item);
        }
        uint64_t end = off + (uint64_t)numel * 4;
        snprintf(item, sizeof item, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
                 (unsigned long long)end);
        ok = ok && hdr_add(&h, &len, &cap, item);
        off = end;
    }
    ok = ok && hdr_add(&h, &len, &cap, "}");
    while (ok && len % 8)
        ok = hdr_add(&h, &len, &cap, " ");
    if (!ok) {
        free(h);
        return NULL;
    }
    *hlen = len;
    return h;
}

/* What write_all writes: sorted tensors t[n] behind their header. */
typedef struct StFile {
    const CkTensor *t;
    int n;
    const char *hdr;
    size_t hlen;
} StFile;

static bool write_all(FILE *f, void *ctx)
{
    const StFile *st = ctx;
    unsigned char len8[8];
    for (int i = 0; i < 8; i++)
        len8[i] = (unsigned char)((uint64_t)st->hlen >> (8 * i));
    bool ok = fwrite(len8, 1, 8, f) == 8 && fwrite(st->hdr, 1, st->hlen, f) == st->hlen;
    for (int i = 0; ok && i < st->n; i++) {
        const CkTensor *t = &st->t[i];
        int64_t numel = 1;
        for (int k = 0; k < t->rank; k++)
            numel *= t->shape[k];
        /* little-endian hosts only (as the rest of nasc's file formats) */
        ok = fwrite(t->data, sizeof(float), (size_t)numel, f) == (size_t)numel;
    }
    return ok;
}

bool srch_st_write(const char *path, const CkTensor *tensors, int n, Diag *d)
{
    CkTensor *t = malloc(sizeof *t * (size_t)(n ? n : 1));
    size_t hlen = 0;
    char *hdr = NULL;
    if (t) {
        memcpy(t, tensors, sizeof *t * (size_t)n);
        qsort(t, (size_t)n, sizeof *t, by_name);
        hdr = build_header(t, n, &hlen);
    }
    if (!hdr) {
        diag_error(d, loc_file(path), "out of memory");
        free(t);
        return false;
    }
    /* whole or not at all: a crash mid-write keeps the last checkpoint */
    StFile st = {t, n, hdr, hlen};
    bool ok = srch_write_file_with(path, write_all, &st, d);
    free(t), free(hdr);
    return ok;
}

int srch_graph_tensors(const Graph *g, CkTensor *t)
{
    int n = 0;
    for (uint32_t i = 1; i < g->nnode; i++) {
        const Node *node = &g->nodes[i];
        const Value *v = &g->vals[node->out];
        if (node->op != OP_PARAM || !v->data || !v->name)
            continue;
        CkTensor *c = &t[n++];
        c->name = v->name;
        c->rank = v->shape.rank;
        for (int k = 0; k < v->shape.rank; k++)
            c->shape[k] = v->shape.d[k];
        c->data = v->data;
    }
    return n;
}

bool srch_st_get(const SafeTensors *st, const char *name, float *dst, int64_t numel, Diag *d)
{
    for (int i = 0; i < st->nt; i++) {
        const StTensor *t = &st->t[i];
        if (strcmp(t->name, name) != 0)
            continue;
        int64_t have = 1;
        for (int k = 0; k < t->rank; k++)
            have *= t->shape[k];
        if (have != numel) {
            diag_error(d, loc_file(st->path), "tensor '%s' has %lld elements, expected %lld",
                       name, (long long)have, (long long)numel);
            return false;
        }
        return fe_safetensors_to_f32(st, i, dst, d);
    }
    diag_error(d, loc_file(st->path), "tensor '%s' is missing", name);
    return false;
}
