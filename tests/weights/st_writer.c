/* st_writer.c — see st_writer.h. Aborts on misuse: it is test code. */
#include "st_writer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *grow(void *p, size_t need, size_t *cap)
{
    if (need <= *cap)
        return p;
    while (*cap < need)
        *cap = *cap ? *cap * 2 : 256;
    p = realloc(p, *cap);
    if (!p)
        abort();
    return p;
}

static void hprintf(StWriter *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    w->header = grow(w->header, w->hlen + (size_t)k + 1, &w->hcap);
    va_start(ap, fmt);
    vsnprintf(w->header + w->hlen, (size_t)k + 1, fmt, ap);
    va_end(ap);
    w->hlen += (size_t)k;
}

void stw_init(StWriter *w, const char *metadata_json)
{
    memset(w, 0, sizeof *w);
    hprintf(w, "{");
    if (metadata_json) {
        hprintf(w, "\"__metadata__\":%s", metadata_json);
        w->n++;
    }
}

void stw_add(StWriter *w, const char *name, const char *dtype, int rank, const int64_t *shape,
             const void *bytes, size_t nbytes)
{
    if (strpbrk(name, "\"\\"))
        abort(); /* names are written unescaped */
    hprintf(w, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[", w->n ? "," : "", name, dtype);
    for (int i = 0; i < rank; i++)
        hprintf(w, i ? ",%lld" : "%lld", (long long)shape[i]);
    hprintf(w, "],\"data_offsets\":[%zu,%zu]}", w->dlen, w->dlen + nbytes);
    w->data = grow(w->data, w->dlen + nbytes + 1, &w->dcap);
    if (nbytes)
        memcpy(w->data + w->dlen, bytes, nbytes);
    w->dlen += nbytes;
    w->n++;
}

unsigned char *stw_finish(StWriter *w, size_t *len)
{
    hprintf(w, "}");
    while ((8 + w->hlen) % 8)
        hprintf(w, " ");
    unsigned char *f = st_file(w->header, w->data, w->dlen, len);
    free(w->header);
    free(w->data);
    memset(w, 0, sizeof *w);
    return f;
}

unsigned char *st_raw(uint64_t claimed, const char *header, const void *data, size_t dlen,
                      size_t *len)
{
    size_t h = strlen(header);
    unsigned char *f = malloc(8 + h + dlen + 1);
    if (!f)
        abort();
    for (int i = 0; i < 8; i++)
        f[i] = (unsigned char)(claimed >> (8 * i));
    memcpy(f + 8, header, h);
    if (dlen)
        memcpy(f + 8 + h, data, dlen);
    *len = 8 + h + dlen;
    return f;
}

unsigned char *st_file(const char *header, const void *data, size_t dlen, size_t *len)
{
    return st_raw(strlen(header), header, data, dlen, len);
}

bool st_write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = fwrite(p, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}
