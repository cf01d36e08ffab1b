/* shape.c — small helpers on Shape (rank <= 4, NCHW). */
#include "ir.h"

#include <string.h>

Shape shape_make(int rank, const int64_t *d)
{
    Shape s;
    memset(&s, 0, sizeof s);
    NASC_ASSERT(rank >= 0 && rank <= MAXRANK);
    s.rank = rank;
    for (int i = 0; i < rank; i++)
        s.d[i] = d[i];
    return s;
}

Shape shape4(int64_t n, int64_t c, int64_t h, int64_t w)
{
    int64_t d[4] = {n, c, h, w};
    return shape_make(4, d);
}

int64_t shape_numel(const Shape *s)
{
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++)
        n *= s->d[i];
    return n;
}

bool shape_eq(const Shape *a, const Shape *b)
{
    if (a->rank != b->rank)
        return false;
    for (int i = 0; i < a->rank; i++)
        if (a->d[i] != b->d[i])
            return false;
    return true;
}

const char *dtype_name(DType t)
{
    return t == DT_U8 ? "u8" : "f32";
}

size_t dtype_size(DType t)
{
    return t == DT_U8 ? 1 : 4;
}

char *shape_str(const Shape *s, char *buf, size_t n)
{
    return type_str(DT_F32, s, buf, n);
}

char *type_str(DType t, const Shape *s, char *buf, size_t n)
{
    size_t k = (size_t)snprintf(buf, n, "%s[", dtype_name(t));
    for (int i = 0; i < s->rank && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, i ? ",%lld" : "%lld", (long long)s->d[i]);
    if (k < n)
        snprintf(buf + k, n - k, "]");
    return buf;
}
