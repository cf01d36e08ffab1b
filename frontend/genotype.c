/* genotype.c — checking, loading and printing (as a DARTS literal)
 * genotypes, plus the helpers the two genotype formats share
 * (genotype_internal.h).
 *
 * The readers only check syntax; fe_genotype_check is where a genotype is
 * held against the DARTS cell rules (2 edges per node, node j reads states
 * 0..j-1, known primitives, concat within the states). Every message points
 * at the Loc the reader stored on the edge, index or concat entry.
 */
#include "frontend/genotype_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* ---- FeBuf ---- */

void fe_buf_init(FeBuf *b, Arena *a)
{
    b->a = a;
    b->len = 0;
    b->cap = 256;
    b->p = arena_alloc(a, b->cap);
}

void fe_buf_putn(FeBuf *b, const char *s, size_t n)
{
    if (b->cap - b->len <= n) {
        size_t cap = b->cap;
        while (cap - b->len <= n) {
            NASC_ASSERT(cap <= SIZE_MAX / 2);
            cap *= 2;
        }
        char *p = arena_alloc(b->a, cap);
        memcpy(p, b->p, b->len);
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

void fe_buf_puts(FeBuf *b, const char *s)
{
    fe_buf_putn(b, s, strlen(s));
}

void fe_buf_printf(FeBuf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    NASC_ASSERT(n >= 0);
    if ((size_t)n < sizeof small) {
        fe_buf_putn(b, small, (size_t)n);
        return;
    }
    char *big = arena_alloc(b->a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    fe_buf_putn(b, big, (size_t)n);
}

void fe_buf_json_string(FeBuf *b, const char *s)
{
    fe_buf_putn(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fe_buf_printf(b, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            fe_buf_printf(b, "\\u%04x", c);
        else
            fe_buf_putn(b, (const char *)&c, 1);
    }
    fe_buf_putn(b, "\"", 1);
}

char *fe_buf_str(FeBuf *b)
{
    return b->p;
}

/* ---- locations and message helpers ---- */

void fe_loc_cursor_init(FeLocCursor *c, const char *file, const char *text)
{
    c->file = file;
    c->text = text;
    c->off = 0;
    c->line = 1;
    c->col = 1;
}

Loc fe_loc_at(FeLocCursor *c, size_t off)
{
    if (off < c->off)
        fe_loc_cursor_init(c, c->file, c->text);
    /* stop at a NUL exactly as loc_at_offset does */
    for (; c->off < off && c->text[c->off]; c->off++) {
        if (c->text[c->off] == '\n') {
            c->line++;
            c->col = 1;
        } else {
            c->col++;
        }
    }
    c->off = off;
    Loc l = {c->file, c->line, c->col};
    return l;
}

char *fe_show(char *buf, size_t size, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    NASC_ASSERT(size >= 8);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (o + 8 >= size) { /* room for "\xHH" and "..." */
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (ch < 0x20 || ch == 0x7f || ch == '\\') {
            buf[o++] = '\\';
            if (ch == '\\') {
                buf[o++] = '\\';
            } else {
                buf[o++] = 'x';
                buf[o++] = hex[ch >> 4];
                buf[o++] = hex[ch & 15];
            }
        } else {
            buf[o++] = (char)ch;
        }
    }
    buf[o] = 0;
    return buf;
}

const char *fe_cell_name(const Genotype *g, const GenoCell *c)
{
    return c == &g->reduce ? "reduce" : "normal";
}

bool fe_is_identifier(const char *s)
{
    if (!s || !*s || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++) {
        char ch = *s;
        if (!(ch == '_' || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9')))
            return false;
    }
    return true;
}

/* ---- fe_genotype_check ---- */

static void check_edges(const GenoCell *c, const char *cname, Diag *d)
{
    char show[FE_SHOW_MAX];
    if (c->nedge == 0)
        diag_error(d, c->loc, "cell '%s' has no edges", cname);
    else if (c->nedge % 2)
        diag_error(d, c->loc, "cell '%s' has %d edges; DARTS cells need 2 per node", cname,
                   c->nedge);
    for (int i = 0; i < c->nedge; i++) {
        const GenoEdge *e = &c->edges[i];
        int node = i / 2 + 2; /* edges 2i, 2i+1 feed state i+2 */
        if (!fe_darts_op(e->op))
            diag_error(d, e->loc, "unknown op '%s' in cell '%s'",
                       fe_show(show, sizeof show, e->op, strlen(e->op)), cname);
        if (e->input < 0 || e->input >= node)
            diag_error(d, e->input_loc,
                       "input %d of node %d in cell '%s' is out of range: allowed 0..%d",
                       e->input, node, cname, node - 1);
    }
}

static void check_concat(const GenoCell *c, const char *cname, Diag *d)
{
    int nstate = 2 + c->nedge / 2;
    if (c->nconcat == 0)
        diag_error(d, c->loc, "cell '%s' has an empty concat", cname);
    for (int i = 0; i < c->nconcat; i++)
        if (c->concat[i] < 0 || c->concat[i] >= nstate)
            diag_error(d, c->concat_loc[i],
                       "concat entry %d of cell '%s' is out of range: allowed 0..%d",
                       c->concat[i], cname, nstate - 1);
}

bool fe_genotype_check(const Genotype *g, Diag *d)
{
    int before = d->nerr;
    const GenoCell *cells[2] = {&g->normal, &g->reduce};
    for (int k = 0; k < 2; k++) {
        check_edges(cells[k], fe_cell_name(g, cells[k]), d);
        check_concat(cells[k], fe_cell_name(g, cells[k]), d);
    }
    /* The literal reader takes any byte >= 0x80 in a name (Python 3
     * identifiers), the JSON format only [A-Za-z_][A-Za-z0-9_]*: a name
     * outside both would print as JSON that no reader accepts (found by
     * fuzzing), so it is refused here, where both readers' results meet. */
    if (g->name && !fe_is_identifier(g->name)) {
        char show[FE_SHOW_MAX];
        diag_error(d, g->loc, "genotype name '%s' is not an ASCII identifier "
                   "([A-Za-z_][A-Za-z0-9_]*)", fe_show(show, sizeof show, g->name,
                                                      strlen(g->name)));
    }
    return d->nerr == before;
}

/* ---- files ---- */

enum { FE_MAX_FILE = 1 << 30 }; /* text inputs only; weights use safetensors.c */

char *fe_read_file(Arena *a, const char *path, size_t *len, Diag *d)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        diag_error(d, loc_file(path), "cannot open: %s", strerror(errno));
        return NULL;
    }
    /* read in chunks: works for pipes and /dev/stdin, where ftell does not */
    size_t n = 0, cap = 1 << 16;
    char *buf = malloc(cap);
    bool ok = buf != NULL;
    while (ok) {
        if (cap - n < 4096) {
            if (cap >= FE_MAX_FILE) {
                diag_error(d, loc_file(path), "cannot read: file larger than %d bytes",
                           FE_MAX_FILE);
                ok = false;
                break;
            }
            char *p = realloc(buf, cap * 2);
            if (!p) {
                diag_error(d, loc_file(path), "cannot read: out of memory");
                ok = false;
                break;
            }
            buf = p;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                diag_error(d, loc_file(path), "cannot read: %s", strerror(errno));
                ok = false;
            }
            break;
        }
    }
    if (!buf)
        diag_error(d, loc_file(path), "cannot read: out of memory");
    fclose(f);
    char *text = NULL;
    if (ok) {
        text = arena_strndup(a, buf, n);
        *len = n;
    }
    free(buf);
    return text;
}

/* The first significant byte decides the format: JSON documents are
 * objects; a DARTS literal file starts with a name, `Genotype` or `#`. */
static bool looks_like_json(const char *text, size_t len)
{
    size_t i = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
        i++;
    return i < len && text[i] == '{';
}

bool fe_load_genotype(Arena *a, const char *path, const char *want, Genotype *out, Diag *d)
{
    size_t len = 0;
    char *text = fe_read_file(a, path, &len, d);
    if (!text)
        return false;
    const char *file = arena_strdup(a, path);
    if (!looks_like_json(text, len)) {
        if (!fe_parse_darts_text(a, file, text, len, want, out, d))
            return false;
    } else {
        if (!fe_parse_genotype_json(a, file, text, len, out, d))
            return false;
        if (want && (!out->name || strcmp(out->name, want) != 0)) {
            char show[FE_SHOW_MAX];
            diag_error(d, loc_file(file), "no genotype named '%s'; available: %s",
                       fe_show(show, sizeof show, want, strlen(want)),
                       out->name ? out->name : "(unnamed)");
            return false;
        }
    }
    return fe_genotype_check(out, d);
}

/* A quoted key or value `"word"` followed, after blanks and a colon, by
 * `"value"`; a cheap textual probe, good enough to route a file to the
 * reader that then checks it properly. */
static bool json_has_pair(const char *text, size_t len, const char *key, const char *value)
{
    size_t klen = strlen(key), vlen = strlen(value);
    for (size_t i = 0; i + klen + 2 <= len; i++) {
        if (text[i] != '"' || strncmp(text + i + 1, key, klen) != 0 || text[i + klen + 1] != '"')
            continue;
        size_t j = i + klen + 2;
        while (j < len && (text[j] == ' ' || text[j] == '\t' || text[j] == '\n' ||
                           text[j] == '\r' || text[j] == ':'))
            j++;
        if (!value[0] || (j + vlen + 2 <= len && text[j] == '"' &&
                          strncmp(text + j + 1, value, vlen) == 0 && text[j + vlen + 1] == '"'))
            return true;
    }
    return false;
}

static bool has_word(const char *text, size_t len, const char *word)
{
    size_t n = strlen(word);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(text + i, word, n) == 0)
            return true;
    return false;
}

FeArchKind fe_sniff_arch(const char *text, size_t len)
{
    if (looks_like_json(text, len)) {
        if (json_has_pair(text, len, "space", "autodeeplab"))
            return FE_ARCH_ADL_JSON;
        return json_has_pair(text, len, "hiddenstate_indices", "") ? FE_ARCH_ADL_TF
                                                                    : FE_ARCH_DARTS;
    }
    return has_word(text, len, "hiddenstate_indices") ? FE_ARCH_ADL_TF : FE_ARCH_DARTS;
}

/* ---- the DARTS literal printer (the reader is genotype_py.c) ---- */

/* The op name as Python's repr() writes a str. */
static void put_repr(FeBuf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    char q = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';
    fe_buf_putn(b, &q, 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[4] = {'\\', (char)c, 0, 0};
        int n = 2;
        if (c == '\n')
            esc[1] = 'n';
        else if (c == '\t')
            esc[1] = 't';
        else if (c == '\r')
            esc[1] = 'r';
        else if (c < 0x20 || c == 0x7f) {
            esc[1] = 'x';
            esc[2] = hex[c >> 4];
            esc[3] = hex[c & 15];
            n = 4;
        } else if (c != '\\' && c != (unsigned char)q) {
            esc[0] = (char)c;
            n = 1;
        }
        fe_buf_putn(b, esc, (size_t)n);
    }
    fe_buf_putn(b, &q, 1);
}

static void put_cell(FeBuf *b, const GenoCell *c, const char *name)
{
    fe_buf_printf(b, "%s=[", name);
    for (int i = 0; i < c->nedge; i++) {
        fe_buf_puts(b, i ? ", (" : "(");
        put_repr(b, c->edges[i].op);
        fe_buf_printf(b, ", %d)", c->edges[i].input);
    }
    fe_buf_printf(b, "], %s_concat=[", name);
    for (int i = 0; i < c->nconcat; i++)
        fe_buf_printf(b, "%s%d", i ? ", " : "", c->concat[i]);
    fe_buf_puts(b, "]");
}

char *fe_genotype_to_literal(Arena *a, const Genotype *g)
{
    FeBuf b;
    fe_buf_init(&b, a);
    if (g->name)
        fe_buf_printf(&b, "%s = ", g->name);
    fe_buf_puts(&b, "Genotype(");
    put_cell(&b, &g->normal, "normal");
    fe_buf_puts(&b, ", ");
    put_cell(&b, &g->reduce, "reduce");
    fe_buf_puts(&b, ")\n");
    return fe_buf_str(&b);
}
