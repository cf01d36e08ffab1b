/* npy.c — NumPy .npy files of integers (format 1.0, 2.0 and 3.0).
 *
 * Layout: "\x93NUMPY", major, minor, a little-endian header length (u16 for
 * 1.0, u32 for 2.0/3.0), then the header — a Python dict literal such as
 * `{'descr': '<i8', 'fortran_order': False, 'shape': (12,), }` padded
 * with spaces and a newline — then the raw C-order data. The header is
 * parsed by a tiny strict scanner (three known keys, any order, either
 * quote) instead of a Python evaluator, and every size is checked before
 * a byte of data is read: the input may be hostile. Values of any integer
 * dtype come out as int64; floats, booleans, objects, structured dtypes
 * and Fortran order are refused with one message naming the file.
 */
#include "frontend/genotype_internal.h"

#include <string.h>

enum { NPY_MAX_RANK = 8, NPY_MAX_NUMEL = 1 << 20 }; /* architectures are tiny */

typedef struct NpyHeader {
    const char *s; /* header text, not NUL-terminated */
    size_t n, i;   /* length, scan position */
    char descr[16];
    int have_descr, have_fortran, have_shape;
    bool fortran;
    int rank;
    int64_t shape[NPY_MAX_RANK];
} NpyHeader;

typedef struct NpyDType {
    int size;       /* bytes per element */
    bool is_signed, big_endian;
    bool is_float;  /* f4/f8 whose values must be whole numbers */
} NpyDType;

/* ---- header scanner ---- */

static void hd_ws(NpyHeader *h)
{
    while (h->i < h->n && h->s[h->i] && strchr(" \t\r\n", h->s[h->i]))
        h->i++;
}

static bool hd_bad(const char *path, NpyHeader *h, const char *what, Diag *d)
{
    char show[FE_SHOW_MAX];
    size_t at = h->i < h->n ? h->i : h->n;
    diag_error(d, loc_file(path), "malformed .npy header at byte %zu: expected %s, found '%s'",
               at, what, at < h->n ? fe_show(show, sizeof show, h->s + at, 1) : "end of header");
    return false;
}

static bool hd_punct(const char *path, NpyHeader *h, char c, const char *what, Diag *d)
{
    hd_ws(h);
    if (h->i < h->n && h->s[h->i] == c) {
        h->i++;
        return true;
    }
    return hd_bad(path, h, what, d);
}

/* A '...' or "..." string without escapes (dtype strings have none). */
static bool hd_string(const char *path, NpyHeader *h, const char **s, size_t *len, Diag *d)
{
    hd_ws(h);
    if (h->i >= h->n || (h->s[h->i] != '\'' && h->s[h->i] != '"'))
        return hd_bad(path, h, "a quoted string", d);
    char q = h->s[h->i];
    size_t start = ++h->i;
    while (h->i < h->n && h->s[h->i] != q && h->s[h->i] != '\\' && h->s[h->i] != '\n' &&
           h->s[h->i] != 0)
        h->i++;
    if (h->i >= h->n || h->s[h->i] != q)
        return hd_bad(path, h, "the closing quote", d);
    *s = h->s + start;
    *len = h->i++ - start;
    return true;
}

static bool hd_word(NpyHeader *h, const char *w)
{
    size_t n = strlen(w);
    if (h->n - h->i < n || memcmp(h->s + h->i, w, n) != 0)
        return false;
    h->i += n;
    return true;
}

/* (d0, d1, ...) with an optional trailing comma; Python 2 wrote `12L`. */
static bool hd_shape(const char *path, NpyHeader *h, Diag *d)
{
    if (!hd_punct(path, h, '(', "'(' starting the shape", d))
        return false;
    for (;;) {
        hd_ws(h);
        if (h->i < h->n && h->s[h->i] == ')') {
            h->i++;
            return true;
        }
        if (h->i >= h->n || h->s[h->i] < '0' || h->s[h->i] > '9')
            return hd_bad(path, h, "a dimension or ')'", d);
        if (h->rank == NPY_MAX_RANK) {
            diag_error(d, loc_file(path), "arrays of more than %d dimensions are not supported",
                       NPY_MAX_RANK);
            return false;
        }
        int64_t v = 0;
        for (; h->i < h->n && h->s[h->i] >= '0' && h->s[h->i] <= '9'; h->i++) {
            v = v * 10 + (h->s[h->i] - '0');
            if (v > NPY_MAX_NUMEL) {
                diag_error(d, loc_file(path), "dimension %d of the shape is larger than %d",
                           h->rank, NPY_MAX_NUMEL);
                return false;
            }
        }
        if (h->i < h->n && h->s[h->i] == 'L')
            h->i++;
        h->shape[h->rank++] = v;
        hd_ws(h);
        if (h->i < h->n && h->s[h->i] == ',')
            h->i++;
        else if (h->i >= h->n || h->s[h->i] != ')')
            return hd_bad(path, h, "',' or ')' in the shape", d);
    }
}

static bool hd_value(const char *path, NpyHeader *h, const char *key, size_t klen, Diag *d)
{
    char show[FE_SHOW_MAX];
    static const char *const keys[3] = {"descr", "fortran_order", "shape"};
    int *seen[3] = {&h->have_descr, &h->have_fortran, &h->have_shape};
    int k = 0;
    while (k < 3 && !(strlen(keys[k]) == klen && memcmp(keys[k], key, klen) == 0))
        k++;
    if (k == 3 || (*seen[k])++) {
        diag_error(d, loc_file(path), "%s key '%s' in the .npy header",
                   k == 3 ? "unknown" : "duplicate", fe_show(show, sizeof show, key, klen));
        return false;
    }
    hd_ws(h);
    if (k == 1) {
        if (hd_word(h, "True"))
            h->fortran = true;
        else if (!hd_word(h, "False"))
            return hd_bad(path, h, "True or False", d);
        return true;
    }
    if (k == 2)
        return hd_shape(path, h, d);
    if (h->i < h->n && h->s[h->i] == '[') {
        diag_error(d, loc_file(path), "structured dtypes are not supported; expected an "
                   "integer array");
        return false;
    }
    const char *s;
    size_t n;
    if (!hd_string(path, h, &s, &n, d))
        return false;
    if (n >= sizeof h->descr)
        n = sizeof h->descr - 1; /* longer than any integer dtype: refused later */
    memcpy(h->descr, s, n);
    h->descr[n] = 0;
    return true;
}

static bool hd_parse(const char *path, NpyHeader *h, Diag *d)
{
    if (!hd_punct(path, h, '{', "'{'", d))
        return false;
    for (;;) {
        hd_ws(h);
        if (h->i < h->n && h->s[h->i] == '}') {
            h->i++;
            break;
        }
        const char *key;
        size_t klen;
        if (!hd_string(path, h, &key, &klen, d) || !hd_punct(path, h, ':', "':'", d) ||
            !hd_value(path, h, key, klen, d))
            return false;
        hd_ws(h);
        if (h->i < h->n && h->s[h->i] == ',')
            h->i++;
        else if (h->i >= h->n || h->s[h->i] != '}')
            return hd_bad(path, h, "',' or '}'", d);
    }
    hd_ws(h); /* padding and the final newline */
    if (h->i < h->n)
        return hd_bad(path, h, "only padding after the dictionary", d);
    if (!h->have_descr || !h->have_fortran || !h->have_shape) {
        diag_error(d, loc_file(path), "the .npy header lacks '%s'",
                   !h->have_descr ? "descr" : !h->have_fortran ? "fortran_order" : "shape");
        return false;
    }
    return true;
}

/* ---- dtype ---- */

static bool host_big_endian(void)
{
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 0;
}

static bool parse_dtype(const char *path, const char *descr, NpyDType *t, Diag *d)
{
    char show[FE_SHOW_MAX];
    const char *p = descr;
    char order = *p && strchr("<>|=", *p) ? *p++ : '=';
    char kind = *p ? *p++ : 0;
    int size = 0;
    while (*p >= '0' && *p <= '9' && size < 100)
        size = size * 10 + (*p++ - '0');
    fe_show(show, sizeof show, descr, strlen(descr));
    if (kind == 'b' || kind == '?') {
        diag_error(d, loc_file(path), "boolean arrays ('%s') are not supported; expected an "
                   "integer dtype", show);
        return false;
    }
    /* float32/64 holding whole numbers are accepted: the PyTorch search saves
     * its one-hot network_path_space with np.zeros, i.e. float64 */
    if (kind == 'f' && (size == 4 || size == 8) && !*p && order != '|') {
        t->size = size;
        t->is_signed = true;
        t->is_float = true;
        t->big_endian = order == '>' || (order == '=' && host_big_endian());
        return true;
    }
    if (kind == 'f' || kind == 'c' || kind == 'e' || kind == 'd') {
        diag_error(d, loc_file(path), "arrays of '%s' are not supported; expected integers "
                   "(or float32/float64 holding whole numbers)", show);
        return false;
    }
    if (kind == 'O') {
        diag_error(d, loc_file(path), "object arrays ('%s') are not supported; expected an "
                   "integer dtype", show);
        return false;
    }
    bool sized = size == 1 || size == 2 || size == 4 || size == 8;
    if ((kind != 'i' && kind != 'u') || *p || !sized || (order == '|' && size != 1)) {
        diag_error(d, loc_file(path), "dtype '%s' is not supported; expected an integer dtype "
                   "such as '<i8', '<i4' or '|u1'", show);
        return false;
    }
    t->size = size;
    t->is_signed = kind == 'i';
    t->is_float = false;
    t->big_endian = order == '>' || (order == '=' && host_big_endian());
    return true;
}

/* ---- the file ---- */

static char *npy_shape_str(char *buf, size_t size, const NpyHeader *h)
{
    size_t o = (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < h->rank && o < size; i++)
        o += (size_t)snprintf(buf + o, size - o, "%s%lld", i ? ", " : "",
                              (long long)h->shape[i]);
    if (o < size)
        snprintf(buf + o, size - o, h->rank == 1 ? ",)" : ")");
    return buf;
}

/* Header start and length after the magic and version; false if bad. */
static bool read_preamble(const char *path, const unsigned char *b, size_t len, size_t *start,
                          size_t *hlen, Diag *d)
{
    if (len < 8 || memcmp(b, "\x93NUMPY", 6) != 0) {
        diag_error(d, loc_file(path), "not a .npy file (no \\x93NUMPY magic)");
        return false;
    }
    if ((b[6] != 1 && b[6] != 2 && b[6] != 3) || b[7] != 0) {
        diag_error(d, loc_file(path), "unsupported .npy version %u.%u (known: 1.0, 2.0, 3.0)",
                   b[6], b[7]);
        return false;
    }
    *start = b[6] == 1 ? 10 : 12;
    if (len < *start) {
        diag_error(d, loc_file(path), "truncated .npy file: it ends inside the header length");
        return false;
    }
    *hlen = (size_t)b[8] | (size_t)b[9] << 8;
    if (b[6] != 1)
        *hlen |= (size_t)b[10] << 16 | (size_t)b[11] << 24;
    if (*hlen > len - *start) {
        diag_error(d, loc_file(path), "truncated .npy file: the header needs %zu bytes, %zu "
                   "remain", *hlen, len - *start);
        return false;
    }
    return true;
}

static bool convert(const char *path, const unsigned char *p, const NpyDType *t, NpyArray *out,
                    Diag *d)
{
    for (int64_t k = 0; k < out->numel; k++, p += t->size) {
        uint64_t u = 0;
        for (int i = 0; i < t->size; i++)
            u |= (uint64_t)p[t->big_endian ? i : t->size - 1 - i] << (8 * (t->size - 1 - i));
        int bits = 8 * t->size;
        if (t->is_float) {
            double v;
            if (t->size == 4) {
                uint32_t u32 = (uint32_t)u;
                float f;
                memcpy(&f, &u32, sizeof f);
                v = f;
            } else {
                memcpy(&v, &u, sizeof v);
            }
            if (!(v >= -0x1p53 && v <= 0x1p53) || v != (double)(int64_t)v) {
                diag_error(d, loc_file(path), "element %lld (%g) is not a whole number",
                           (long long)k, v);
                return false;
            }
            out->data[k] = (int64_t)v;
            continue;
        }
        if (t->is_signed && bits < 64 && (u >> (bits - 1)) & 1)
            u |= ~(uint64_t)0 << bits; /* sign-extend */
        if (!t->is_signed && bits == 64 && u > (uint64_t)INT64_MAX) {
            diag_error(d, loc_file(path), "element %lld (%llu) is too large", (long long)k,
                       (unsigned long long)u);
            return false;
        }
        out->data[k] = (int64_t)u; /* two's complement on every supported host */
    }
    return true;
}

bool fe_npy_parse_ints(Arena *a, const char *path, const unsigned char *b, size_t len,
                       NpyArray *out, Diag *d)
{
    memset(out, 0, sizeof *out);
    size_t start, hlen;
    if (!read_preamble(path, b, len, &start, &hlen, d))
        return false;
    NpyHeader h = {(const char *)b + start, hlen, 0, {0}, 0, 0, 0, false, 0, {0}};
    NpyDType t;
    if (!hd_parse(path, &h, d) || !parse_dtype(path, h.descr, &t, d))
        return false;
    if (h.fortran) {
        diag_error(d, loc_file(path), "Fortran-order arrays are not supported");
        return false;
    }
    int64_t numel = 1;
    for (int i = 0; i < h.rank; i++) {
        if (h.shape[i] && numel > NPY_MAX_NUMEL / h.shape[i]) {
            diag_error(d, loc_file(path), "array too large: more than %d elements",
                       NPY_MAX_NUMEL);
            return false;
        }
        numel *= h.shape[i];
    }
    char shape[160];
    size_t need = (size_t)numel * (size_t)t.size, have = len - start - hlen;
    if (have != need) {
        diag_error(d, loc_file(path), have < need ? "truncated data: shape %s needs %zu bytes, "
                   "the file has %zu" : "extra data: shape %s needs %zu bytes, the file has %zu",
                   npy_shape_str(shape, sizeof shape, &h), need, have);
        return false;
    }
    out->rank = h.rank;
    memcpy(out->shape, h.shape, sizeof h.shape);
    out->numel = numel;
    out->data = arena_calloc(a, (size_t)numel + 1, sizeof *out->data);
    NASC_ASSERT(out->data);
    return convert(path, b + start + hlen, &t, out, d);
}

bool fe_npy_read_ints(Arena *a, const char *path, NpyArray *out, Diag *d)
{
    memset(out, 0, sizeof *out);
    size_t len = 0;
    char *text = fe_read_file(a, path, &len, d);
    return text && fe_npy_parse_ints(a, path, (const unsigned char *)text, len, out, d);
}
