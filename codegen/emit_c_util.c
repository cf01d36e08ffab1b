/* emit_c_util.c — text helpers of the C emitter: a growable buffer, float
 * literals that round-trip exactly, comment-safe text and unique C names.
 *
 * Everything here exists to make the emitted file valid C whatever the
 * graph contains: names with dots or "*" "/" inside, weights that happen to
 * be integers, two state_dict names that sanitize to the same identifier.
 */
#include "internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static bool buf_reserve(CgBuf *b, size_t extra)
{
    if (b->oom)
        return false;
    if (b->len + extra + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

void cg_buf_printf(CgBuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    NASC_ASSERT(n >= 0);
    if (!buf_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static void buf_putc(CgBuf *b, char ch)
{
    if (!buf_reserve(b, 1))
        return;
    b->p[b->len++] = ch;
    b->p[b->len] = '\0';
}

void cg_buf_free(CgBuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

void cg_format_float(char *buf, size_t n, float v)
{
    /* 9 significant digits identify every float (FLT_DECIMAL_DIG). "%g" drops
     * the point of integral values ("1"), and "1f" is not a C literal. */
    int len = snprintf(buf, n, "%.9g", (double)v);
    NASC_ASSERT(len > 0 && (size_t)len + 3 < n);
    if (!strpbrk(buf, ".e"))
        strcat(buf, ".0");
    strcat(buf, "f");
}

void cg_buf_floats(CgBuf *b, const float *v, int64_t n)
{
    char num[48];
    for (int64_t i = 0; i < n; i++) {
        cg_format_float(num, sizeof num, v[i]);
        cg_buf_printf(b, "%s%s,", i % 8 ? " " : "    ", num);
        if (i % 8 == 7 || i == n - 1)
            buf_putc(b, '\n');
    }
}

void cg_buf_comment_text(CgBuf *b, const char *s)
{
    char prev = ' ';
    for (; *s; s++) {
        char ch = *s;
        if ((unsigned char)ch < 0x20 || (unsigned char)ch > 0x7e)
            ch = '_';
        /* "*" "/" would end the comment, "/" "*" nests (-Wcomment), "??"
         * can start a trigraph in C99: keep such pairs apart. */
        if ((prev == '*' && ch == '/') || (prev == '/' && ch == '*') ||
            (prev == '?' && ch == '?'))
            buf_putc(b, ' ');
        buf_putc(b, ch);
        prev = ch;
    }
}

static bool name_taken(const CgCtx *c, const char *s)
{
    for (uint32_t i = 0; i < c->nnames; i++)
        if (strcmp(c->names[i], s) == 0)
            return true;
    return false;
}

static void take_name(CgCtx *c, const char *s)
{
    if (c->nnames == c->capnames) {
        uint32_t cap = c->capnames ? c->capnames * 2 : 64;
        const char **p = arena_calloc(&c->arena, cap, sizeof *p);
        NASC_ASSERT(p);
        if (c->nnames)
            memcpy(p, c->names, c->nnames * sizeof *p);
        c->names = p;
        c->capnames = cap;
    }
    c->names[c->nnames++] = s;
}

const char *cg_unique_name(CgCtx *c, const char *prefix, const char *raw, ValueId v,
                           const char *suffix)
{
    if (!raw)
        raw = arena_printf(&c->arena, "v%u", c->num[v]);
    char *base = arena_printf(&c->arena, "%s%s%s", prefix, raw, suffix);
    for (char *p = base + strlen(prefix); *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_')
            *p = '_';
    const char *name = base;
    /* Linear scan: a network has at most a few thousand weights, and the
     * order of tries is fixed, so the result is deterministic. */
    for (int k = 2; name_taken(c, name); k++)
        name = arena_printf(&c->arena, "%s_%d", base, k);
    take_name(c, name);
    return name;
}
