/* safetensors.c — read and validate a .safetensors file, convert to f32.
 *
 * Layout: u64 little-endian N, then N bytes of UTF-8 JSON mapping tensor
 * names to {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative
 * to the first byte after the header), an optional "__metadata__" object of
 * strings, then the data section. The file is untrusted: every number in the
 * header is checked before it is used to index the data, with overflow-free
 * arithmetic, and the tensors must tile the data section exactly (no
 * overlaps, no holes — the format's own rule against polyglot files). Errors
 * accumulate in Diag as "path: error: ..." lines, one per problem found.
 */
#include "frontend/frontend.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c assumes a little-endian host (the file format is little-endian)"
#endif

enum {
    ST_MAX_RANK = 8,
};
/* The reference implementation's header limit (safetensors MAX_HEADER_SIZE). */
#define ST_MAX_HEADER 100000000ull
/* Largest integer a JSON number (a double in cJSON) holds exactly. */
#define ST_MAX_EXACT 9007199254740992.0

/* Every dtype of the format; only F32/F16/BF16/F64 convert to f32. */
typedef struct DTypeInfo {
    const char *name;
    StDType dt;
    unsigned size; /* bytes per element */
} DTypeInfo;

static const DTypeInfo dtype_table[] = {
    {"F32", ST_F32, 4},   {"F16", ST_F16, 2},     {"BF16", ST_BF16, 2},   {"F64", ST_F64, 8},
    {"I64", ST_I64, 8},   {"I32", ST_I32, 4},     {"I16", ST_OTHER, 2},   {"I8", ST_OTHER, 1},
    {"U64", ST_OTHER, 8}, {"U32", ST_OTHER, 4},   {"U16", ST_OTHER, 2},   {"U8", ST_OTHER, 1},
    {"BOOL", ST_OTHER, 1}, {"F8_E5M2", ST_OTHER, 1}, {"F8_E4M3", ST_OTHER, 1}, {NULL, ST_OTHER, 0},
};

static const DTypeInfo *dtype_find(const char *name)
{
    for (const DTypeInfo *t = dtype_table; t->name; t++)
        if (strcmp(t->name, name) == 0)
            return t;
    return NULL;
}

static unsigned st_dtype_size(StDType dt)
{
    for (const DTypeInfo *t = dtype_table; t->name; t++)
        if (t->dt == dt)
            return t->size;
    return 0;
}

/* State of one load: where errors go and what the header may refer to. */
typedef struct Loader {
    Arena *a;
    const char *path;
    Diag *d;
    uint64_t data_len;
    bool reported_past_end; /* a truncation is reported once, not per tensor */
} Loader;

static void st_error(Diag *d, const char *path, const char *fmt, ...) NASC_PRINTF(3, 4);
static void st_error(Diag *d, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_verror(d, loc_file(path), "error", fmt, ap);
    va_end(ap);
}

/* ---- reading the file ---- */

/* strerror with a lower-case first letter, to read as part of a sentence. */
static void io_error(Diag *d, const char *path, const char *what, int err)
{
    char msg[256];
    snprintf(msg, sizeof msg, "%s", strerror(err));
    if (msg[0] >= 'A' && msg[0] <= 'Z')
        msg[0] = (char)(msg[0] - 'A' + 'a');
    st_error(d, path, "%s: %s", what, msg);
}

/* The whole file in malloc'd memory; reads until EOF, so the size is what
 * was actually read, never what a seek claimed. Directories fail in fread
 * (EISDIR) and are reported as such. */
static unsigned char *read_all(const char *path, size_t *len, Diag *d)
{
    errno = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        io_error(d, path, "cannot open file", errno ? errno : ENOENT);
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            unsigned char *nb = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        errno = 0;
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap) {
            if (ferror(f)) {
                io_error(d, path, "cannot read file", errno ? errno : EIO);
                free(buf);
                fclose(f);
                return NULL;
            }
            if (feof(f))
                break;
        }
    }
    fclose(f);
    if (!buf) {
        st_error(d, path, "cannot read file: out of memory");
        return NULL;
    }
    *len = n;
    return buf;
}

/* ---- header text checks ---- */

static uint64_t load_u64le(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Offset of the first byte that is not well-formed UTF-8 (or is NUL, which
 * JSON never allows raw and cJSON would take as the end), or len if none. */
static size_t utf8_check(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t k;
        uint32_t cp, min;
        if (c == 0)
            return i;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            k = 1, cp = c & 0x1f, min = 0x80;
        else if (c >= 0xe0 && c <= 0xef)
            k = 2, cp = c & 0x0f, min = 0x800;
        else if (c >= 0xf0 && c <= 0xf4)
            k = 3, cp = c & 0x07, min = 0x10000;
        else
            return i;
        if (len - i <= k)
            return i;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return i;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return i;
        i += k + 1;
    }
    return len;
}

/* Tensor names end up in one-line diagnostics and generated C comments:
 * control characters are refused at the door. */
static bool name_printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

/* ---- one header entry ---- */

/* A JSON number that is an integer in [0, 2^53] (exact in a double). */
static bool json_uint(const cJSON *j, uint64_t *out)
{
    if (!cJSON_IsNumber(j))
        return false;
    double v = j->valuedouble;
    if (!(v >= 0 && v <= ST_MAX_EXACT) || (double)(uint64_t)v != v)
        return false;
    *out = (uint64_t)v;
    return true;
}

static bool mul_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    if (a != 0 && b > UINT64_MAX / a)
        return false;
    *out = a * b;
    return true;
}

static bool parse_shape(Loader *L, const char *name, const cJSON *sh, StTensor *t,
                        uint64_t *numel)
{
    if (!cJSON_IsArray(sh)) {
        st_error(L->d, L->path, "tensor '%s': \"shape\" is not an array", name);
        return false;
    }
    int rank = cJSON_GetArraySize(sh);
    if (rank > ST_MAX_RANK) {
        st_error(L->d, L->path, "tensor '%s': rank %d exceeds the maximum of %d", name, rank,
                 ST_MAX_RANK);
        return false;
    }
    t->rank = rank;
    *numel = 1;
    int i = 0;
    for (const cJSON *e = sh->child; e; e = e->next, i++) {
        uint64_t dim;
        if (!json_uint(e, &dim)) {
            if (cJSON_IsNumber(e) && e->valuedouble < 0)
                st_error(L->d, L->path, "tensor '%s': dimension %d is negative (%g)", name, i,
                         e->valuedouble);
            else
                st_error(L->d, L->path,
                         "tensor '%s': dimension %d is not a non-negative integer below 2^53",
                         name, i);
            return false;
        }
        t->shape[i] = (int64_t)dim;
        if (!mul_u64(*numel, dim, numel)) {
            st_error(L->d, L->path, "tensor '%s': element count overflows 64 bits", name);
            return false;
        }
    }
    return true;
}

static bool parse_offsets(Loader *L, const char *name, const cJSON *off, StTensor *t)
{
    if (!cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2 || !json_uint(off->child, &t->begin) ||
        !json_uint(off->child->next, &t->end)) {
        st_error(L->d, L->path,
                 "tensor '%s': \"data_offsets\" is not a pair of non-negative integers", name);
        return false;
    }
    if (t->begin > t->end) {
        st_error(L->d, L->path, "tensor '%s': data_offsets begin %llu > end %llu", name,
                 (unsigned long long)t->begin, (unsigned long long)t->end);
        return false;
    }
    if (t->end > L->data_len) {
        /* a truncated file puts every later tensor past the end: say it once */
        if (!L->reported_past_end)
            st_error(L->d, L->path, "tensor '%s': data_offsets end %llu is past the data "
                     "section (%llu bytes): file truncated or offsets out of bounds", name,
                     (unsigned long long)t->end, (unsigned long long)L->data_len);
        L->reported_past_end = true;
        return false;
    }
    return true;
}

static const cJSON *get_field(Loader *L, const cJSON *e, const char *name, const char *key)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(e, key);
    if (!f)
        st_error(L->d, L->path, "tensor '%s': missing \"%s\"", name, key);
    return f;
}

static bool parse_entry(Loader *L, const cJSON *e, StTensor *t)
{
    const char *name = e->string;
    if (!cJSON_IsObject(e)) {
        st_error(L->d, L->path, "tensor '%s': entry is not an object", name);
        return false;
    }
    const cJSON *dt = get_field(L, e, name, "dtype");
    const cJSON *sh = get_field(L, e, name, "shape");
    const cJSON *off = get_field(L, e, name, "data_offsets");
    if (!dt || !sh || !off)
        return false;
    const DTypeInfo *info = cJSON_IsString(dt) ? dtype_find(dt->valuestring) : NULL;
    if (!info) {
        if (cJSON_IsString(dt))
            st_error(L->d, L->path, "tensor '%s': unknown dtype '%s'", name, dt->valuestring);
        else
            st_error(L->d, L->path, "tensor '%s': \"dtype\" is not a string", name);
        return false;
    }
    t->dtype = info->dt;
    uint64_t numel, nbytes;
    if (!parse_shape(L, name, sh, t, &numel) || !parse_offsets(L, name, off, t))
        return false;
    if (!mul_u64(numel, info->size, &nbytes)) {
        st_error(L->d, L->path, "tensor '%s': byte size overflows 64 bits", name);
        return false;
    }
    if (t->end - t->begin != nbytes) {
        st_error(L->d, L->path,
                 "tensor '%s': data_offsets span %llu bytes, but %s with %llu elements needs %llu",
                 name, (unsigned long long)(t->end - t->begin), info->name,
                 (unsigned long long)numel, (unsigned long long)nbytes);
        return false;
    }
    return true;
}

static bool check_metadata(Loader *L, const cJSON *m)
{
    bool ok = cJSON_IsObject(m);
    for (const cJSON *e = ok ? m->child : NULL; e; e = e->next)
        ok = ok && cJSON_IsString(e);
    if (!ok)
        st_error(L->d, L->path, "\"__metadata__\" is not an object of strings");
    return ok;
}

/* ---- whole-header checks ---- */

static int cmp_name(const void *x, const void *y)
{
    const StTensor *a = *(const StTensor *const *)x, *b = *(const StTensor *const *)y;
    return strcmp(a->name, b->name);
}

static int cmp_offset(const void *x, const void *y)
{
    const StTensor *a = *(const StTensor *const *)x, *b = *(const StTensor *const *)y;
    if (a->begin != b->begin)
        return a->begin < b->begin ? -1 : 1;
    if (a->end != b->end)
        return a->end < b->end ? -1 : 1;
    return strcmp(a->name, b->name);
}

/* Names unique; tensors tile [0, data_len) exactly. `p` is scratch. */
static bool check_layout(Loader *L, StTensor *t, int nt, StTensor **p)
{
    int before = L->d->nerr;
    for (int i = 0; i < nt; i++)
        p[i] = &t[i];
    qsort(p, (size_t)nt, sizeof *p, cmp_name);
    for (int i = 1; i < nt; i++)
        if (strcmp(p[i - 1]->name, p[i]->name) == 0)
            st_error(L->d, L->path, "duplicate tensor '%s' in header", p[i]->name);
    qsort(p, (size_t)nt, sizeof *p, cmp_offset);
    uint64_t at = 0;      /* end of the data covered so far */
    const StTensor *last = NULL; /* the tensor that reaches `at` */
    for (int i = 0; i < nt; i++) {
        /* the first layout fault is reported; later ones follow from it */
        if (p[i]->begin < at) {
            st_error(L->d, L->path, "tensors '%s' and '%s' overlap in the data section",
                     last->name, p[i]->name);
            return false;
        }
        if (p[i]->begin > at) {
            st_error(L->d, L->path, "bytes %llu..%llu of the data section belong to no tensor",
                     (unsigned long long)at, (unsigned long long)p[i]->begin);
            return false;
        }
        if (p[i]->end > at || !last) {
            at = p[i]->end > at ? p[i]->end : at;
            last = p[i];
        }
    }
    if (at < L->data_len)
        st_error(L->d, L->path, "bytes %llu..%llu of the data section belong to no tensor",
                 (unsigned long long)at, (unsigned long long)L->data_len);
    return L->d->nerr == before;
}

static bool parse_entries(Loader *L, const cJSON *root, SafeTensors *st)
{
    int before = L->d->nerr, n = 0, entry = 0;
    for (const cJSON *e = root->child; e; e = e->next)
        n++;
    st->t = arena_calloc(L->a, (size_t)n + 1, sizeof *st->t);
    st->nt = 0;
    for (const cJSON *e = root->child; e; e = e->next, entry++) {
        if (strcmp(e->string, "__metadata__") == 0) {
            check_metadata(L, e);
            continue;
        }
        if (!name_printable(e->string)) {
            st_error(L->d, L->path, "header entry %d: tensor name contains a control character",
                     entry);
            continue;
        }
        StTensor *t = &st->t[st->nt];
        memset(t, 0, sizeof *t);
        if (parse_entry(L, e, t)) {
            t->name = arena_strdup(L->a, e->string);
            st->nt++;
        }
    }
    if (L->d->nerr != before)
        return false;
    StTensor **p = malloc(((size_t)st->nt + 1) * sizeof *p);
    if (!p) {
        st_error(L->d, L->path, "out of memory checking the header");
        return false;
    }
    bool ok = check_layout(L, st->t, st->nt, p);
    free(p);
    return ok;
}

/* Parses header bytes hdr[0..n) (already length-checked) into st->t. */
static bool parse_header(Loader *L, const unsigned char *hdr, uint64_t n, SafeTensors *st)
{
    size_t bad = utf8_check(hdr, (size_t)n);
    if (bad != n) {
        st_error(L->d, L->path, "header is not valid UTF-8 (byte %zu of the header)", bad);
        return false;
    }
    /* cJSON wants a terminated string; copying keeps its reads in bounds. */
    char *text = malloc((size_t)n + 1);
    if (!text) {
        st_error(L->d, L->path, "out of memory reading a %llu-byte header", (unsigned long long)n);
        return false;
    }
    memcpy(text, hdr, (size_t)n);
    text[n] = 0;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 0);
    size_t at = end ? (size_t)(end - text) : 0;
    if (root)
        while (at < n && (text[at] == ' ' || text[at] == '\t' || text[at] == '\n' ||
                          text[at] == '\r'))
            at++;
    bool ok = false;
    if (!root || at != n)
        st_error(L->d, L->path, "header is not valid JSON (byte %zu of the header)", at);
    else if (!cJSON_IsObject(root))
        st_error(L->d, L->path, "header is not a JSON object");
    else
        ok = parse_entries(L, root, st);
    cJSON_Delete(root);
    free(text);
    return ok;
}

bool fe_safetensors_parse(Arena *a, const char *path, const unsigned char *buf, size_t len,
                          SafeTensors *st, Diag *d)
{
    memset(st, 0, sizeof *st);
    st->path = arena_strdup(a, path);
    Loader L = {a, st->path, d, 0, false};
    bool ok = false;
    if (len < 8) {
        st_error(d, path, "file is %zu bytes, too short for the 8-byte header length", len);
        goto out;
    }
    uint64_t n = load_u64le(buf);
    if (n > ST_MAX_HEADER) {
        st_error(d, path, "header length %llu exceeds the limit of %llu bytes",
                 (unsigned long long)n, ST_MAX_HEADER);
        goto out;
    }
    if (n > len - 8) {
        st_error(d, path, "header length %llu exceeds the %zu bytes after the length field",
                 (unsigned long long)n, len - 8);
        goto out;
    }
    L.data_len = len - 8 - n;
    if (!parse_header(&L, buf + 8, n, st))
        goto out;
    st->data_len = L.data_len;
    st->data = arena_alloc(a, (size_t)st->data_len);
    if (st->data_len)
        memcpy(st->data, buf + 8 + n, (size_t)st->data_len);
    ok = true;
out:
    if (!ok) {
        st->t = NULL;
        st->nt = 0;
    }
    return ok;
}

bool fe_safetensors_load(Arena *a, const char *path, SafeTensors *st, Diag *d)
{
    memset(st, 0, sizeof *st);
    size_t len;
    unsigned char *buf = read_all(path, &len, d);
    if (!buf) {
        st->path = arena_strdup(a, path);
        return false;
    }
    bool ok = fe_safetensors_parse(a, path, buf, len, st, d);
    free(buf);
    return ok;
}

/* ---- conversion ---- */

/* IEEE binary16 -> binary32, exact for every input: subnormals are
 * renormalised, inf stays inf, NaN keeps its sign and payload (quiet bit
 * included, since the mantissa moves up unchanged). */
static float f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | man << 13;
    } else if (exp != 0) {
        bits = sign | (exp + 112) << 23 | man << 13; /* rebias 15 -> 127 */
    } else if (man == 0) {
        bits = sign;
    } else {
        /* subnormal man * 2^-24: shift until the implicit bit appears */
        int e = 113; /* exponent field if man were already normalised (2^-14) */
        while (!(man & 0x400)) {
            man <<= 1;
            e--;
        }
        bits = sign | (uint32_t)e << 23 | (man & 0x3ff) << 13;
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static float bf16_to_f32(uint16_t b)
{
    uint32_t bits = (uint32_t)b << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* double -> float rounding to nearest; out-of-range values become +-inf as
 * IEEE says (a plain cast of such a value is undefined in C). */
static float f64_to_f32(double v)
{
    if (v != v)
        return (float)v;
    double m = v < 0 ? -v : v;
    if (m > 3.4028234663852886e38) { /* FLT_MAX */
        /* halfway to 2^128 rounds to inf (even), below it to FLT_MAX */
        float r = m >= 0x1.ffffffp127 ? INFINITY : 3.4028234663852886e38f;
        return v < 0 ? -r : r;
    }
    return (float)v;
}

/* "dtype I64"; ST_OTHER lumps several dtypes, so it is described. */
static const char *dtype_desc(StDType dt)
{
    switch (dt) {
    case ST_I64: return "dtype I64";
    case ST_I32: return "dtype I32";
    default: return "a dtype other than F32, F16, BF16 or F64";
    }
}

bool fe_safetensors_to_f32(const SafeTensors *st, int i, float *dst, Diag *d)
{
    NASC_ASSERT(i >= 0 && i < st->nt);
    const StTensor *t = &st->t[i];
    unsigned size = st_dtype_size(t->dtype);
    if (t->dtype != ST_F32 && t->dtype != ST_F16 && t->dtype != ST_BF16 && t->dtype != ST_F64) {
        st_error(d, st->path, "tensor '%s' has %s, which does not convert to f32", t->name,
                 dtype_desc(t->dtype));
        return false;
    }
    /* load() proved end - begin == numel * size and end <= data_len */
    NASC_ASSERT(t->end <= st->data_len && t->begin <= t->end);
    size_t n = (size_t)((t->end - t->begin) / size);
    const unsigned char *p = st->data + t->begin;
    switch (t->dtype) { /* dtype formats, not ops: a switch is the table here */
    case ST_F32:
        if (n)
            memcpy(dst, p, n * 4);
        break;
    case ST_F16:
        for (size_t k = 0; k < n; k++)
            dst[k] = f16_to_f32((uint16_t)(p[2 * k] | p[2 * k + 1] << 8));
        break;
    case ST_BF16:
        for (size_t k = 0; k < n; k++)
            dst[k] = bf16_to_f32((uint16_t)(p[2 * k] | p[2 * k + 1] << 8));
        break;
    default: /* ST_F64 */
        for (size_t k = 0; k < n; k++) {
            double v;
            memcpy(&v, p + 8 * k, sizeof v);
            dst[k] = f64_to_f32(v);
        }
        break;
    }
    return true;
}
