/* parse.c — reads the textual IR printed by print.c (docs/ir.md).
 *
 * A hand-written recursive-descent parser over a tiny lexer. Every node is
 * built through ir_graph_add_node, so the op table's shape rules check it;
 * the declared result type must then equal the inferred one. Every error
 * carries file:line:col. Sizes are bounded so hostile text cannot overflow.
 */
#include "ir.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_DIM = 1 << 30, MAX_OPERANDS = 4096 };
#define MAX_NUMEL ((int64_t)1 << 40)

typedef struct Sym {
    const char *name;
    size_t len;
    ValueId v;
} Sym;

typedef struct Parser {
    Arena *a;
    const char *file, *text;
    size_t len, pos;
    Diag *d;
    Graph *g;
    Sym *syms; /* open-addressing table of %names */
    uint32_t nsym, capsym;
    bool failed;
    size_t loc_off; /* here()'s cache: p->loc is the line:col of loc_off */
    Loc loc;
    bool loc_nul;   /* loc_off is at a NUL: the count stopped there */
} Parser;

/* line:col of the current position. Every node asks for its own, so a
 * scan from the start each time made n-node texts cost O(n^2) (a 100k-node
 * graph took minutes; found by tests/fuzz/limits.c): scan on from the last
 * answer instead, as loc_at_offset counts (stopping at a NUL). */
static Loc here(Parser *p)
{
    if (p->loc.line == 0 || p->pos < p->loc_off) {
        p->loc_off = 0;
        p->loc = (Loc){p->file, 1, 1};
        p->loc_nul = false;
    }
    /* a NUL stops the count for good, exactly as in loc_at_offset */
    for (; p->loc_off < p->pos && !p->loc_nul; p->loc_off++) {
        char c = p->text[p->loc_off];
        if (c == 0) {
            p->loc_nul = true;
            break;
        }
        if (c == '\n') {
            p->loc.line++;
            p->loc.col = 1;
        } else {
            p->loc.col++;
        }
    }
    return p->loc;
}

static void fail(Parser *p, const char *fmt, const char *what)
{
    if (!p->failed)
        diag_error(p->d, here(p), fmt, what);
    p->failed = true;
}

static void skip_space(Parser *p)
{
    while (p->pos < p->len) {
        char c = p->text[p->pos];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            p->pos++;
        } else if (c == '/' && p->pos + 1 < p->len && p->text[p->pos + 1] == '/') {
            while (p->pos < p->len && p->text[p->pos] != '\n')
                p->pos++;
        } else {
            break;
        }
    }
}

/* Describes the next token for error messages. */
static const char *next_tok(Parser *p)
{
    skip_space(p);
    if (p->pos >= p->len)
        return "end of input";
    size_t e = p->pos;
    while (e < p->len && e - p->pos < 24 && !isspace((unsigned char)p->text[e]))
        e++;
    if (e == p->pos)
        e++;
    return arena_printf(p->a, "'%.*s'", (int)(e - p->pos), p->text + p->pos);
}

static bool accept(Parser *p, const char *s)
{
    skip_space(p);
    size_t n = strlen(s);
    if (p->len - p->pos >= n && memcmp(p->text + p->pos, s, n) == 0) {
        p->pos += n;
        return true;
    }
    return false;
}

static bool expect(Parser *p, const char *s)
{
    if (accept(p, s))
        return true;
    fail(p, arena_printf(p->a, "expected '%s', found %%s", s), next_tok(p));
    return false;
}

static bool is_ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.';
}

/* An identifier (letters, digits, '_', '.'); returns its length, 0 if none. */
static size_t ident(Parser *p, const char **start)
{
    skip_space(p);
    size_t s = p->pos;
    while (p->pos < p->len && is_ident_char(p->text[p->pos]))
        p->pos++;
    *start = p->text + s;
    return p->pos - s;
}

static bool parse_int(Parser *p, long long lo, long long hi, long long *out)
{
    skip_space(p);
    const char *s = p->text + p->pos;
    size_t n = 0;
    if (n < p->len - p->pos && s[n] == '-')
        n++;
    while (n < p->len - p->pos && n < 24 && isdigit((unsigned char)s[n]))
        n++;
    if (n == 0 || (n == 1 && s[0] == '-')) {
        fail(p, "expected an integer, found %s", next_tok(p));
        return false;
    }
    char buf[32];
    memcpy(buf, s, n);
    buf[n] = 0;
    errno = 0;
    long long v = strtoll(buf, NULL, 10);
    if (errno || v < lo || v > hi) {
        fail(p, "integer %s out of range", arena_strdup(p->a, buf));
        return false;
    }
    p->pos += n;
    *out = v;
    return true;
}

static bool parse_float(Parser *p, float *out)
{
    skip_space(p);
    char buf[48];
    size_t n = 0;
    while (p->pos + n < p->len && n < sizeof buf - 1 &&
           strchr("0123456789.eE+-", p->text[p->pos + n]))
        n++;
    memcpy(buf, p->text + p->pos, n);
    buf[n] = 0;
    char *end;
    errno = 0;
    double v = n ? strtod(buf, &end) : 0;
    if (n == 0 || *end || errno) {
        fail(p, "expected a number, found %s", next_tok(p));
        return false;
    }
    /* 1e205 parsed, turned into inf (the cast is even undefined in C) and
     * printed as "inf", which no reader takes back (found by fuzzing):
     * attributes are finite f32 values */
    if (v > FLT_MAX || v < -FLT_MAX) {
        fail(p, "number '%s' is out of range for f32", buf);
        return false;
    }
    p->pos += n;
    *out = (float)v;
    return true;
}

static char *parse_string(Parser *p)
{
    skip_space(p);
    if (p->pos >= p->len || p->text[p->pos] != '"') {
        fail(p, "expected a string, found %s", next_tok(p));
        return NULL;
    }
    size_t cap = 64, n = 0, start = p->pos;
    char *out = arena_alloc(p->a, cap);
    for (p->pos++; p->pos < p->len && p->text[p->pos] != '"'; p->pos++) {
        char c = p->text[p->pos];
        if (c == '\n')
            break;
        if (c == '\\' && p->pos + 1 < p->len) {
            c = p->text[++p->pos];
            if (c == 'x' && p->pos + 2 < p->len && isxdigit((unsigned char)p->text[p->pos + 1]) &&
                isxdigit((unsigned char)p->text[p->pos + 2])) {
                char hex[3] = {p->text[p->pos + 1], p->text[p->pos + 2], 0};
                c = (char)strtol(hex, NULL, 16);
                p->pos += 2;
            }
        }
        if (n + 1 >= cap) {
            char *bigger = arena_alloc(p->a, cap * 2);
            memcpy(bigger, out, n);
            out = bigger;
            cap *= 2;
        }
        out[n++] = c;
    }
    if (p->pos >= p->len || p->text[p->pos] != '"') {
        p->pos = start;
        fail(p, "%s", "unterminated string");
        return NULL;
    }
    p->pos++;
    out[n] = 0;
    return out;
}

/* f32[d0,...] or u8[d0,...] */
static bool parse_type(Parser *p, DType *t, Shape *s)
{
    *t = DT_F32;
    if (accept(p, "u8"))
        *t = DT_U8;
    else if (!expect(p, "f32"))
        return false;
    if (!expect(p, "["))
        return false;
    memset(s, 0, sizeof *s);
    int64_t numel = 1;
    do {
        long long v;
        if (s->rank == MAXRANK) {
            fail(p, "%s", "tensor rank above 4");
            return false;
        }
        if (!parse_int(p, 1, MAX_DIM, &v))
            return false;
        numel *= v;
        if (numel > MAX_NUMEL) {
            fail(p, "%s", "tensor too large");
            return false;
        }
        s->d[s->rank++] = v;
    } while (accept(p, ","));
    return expect(p, "]");
}

/* ---- symbol table: %name -> ValueId ---- */

static uint32_t hash_name(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static Sym *sym_slot(Parser *p, const char *s, size_t n)
{
    uint32_t i = hash_name(s, n) & (p->capsym - 1);
    while (p->syms[i].name && !(p->syms[i].len == n && memcmp(p->syms[i].name, s, n) == 0))
        i = (i + 1) & (p->capsym - 1);
    return &p->syms[i];
}

static void sym_grow(Parser *p)
{
    Sym *old = p->syms;
    uint32_t oldcap = p->capsym;
    p->capsym = oldcap ? oldcap * 2 : 256;
    p->syms = arena_calloc(p->a, p->capsym, sizeof(Sym));
    for (uint32_t i = 0; i < oldcap; i++)
        if (old[i].name)
            *sym_slot(p, old[i].name, old[i].len) = old[i];
}

/* Parses "%name"; returns its text in *s and length (0 after an error). */
static size_t value_name(Parser *p, const char **s, size_t *at)
{
    if (!expect(p, "%"))
        return 0;
    *at = p->pos;
    size_t n = ident(p, s);
    if (n == 0)
        fail(p, "expected a value name after '%%', found %s", next_tok(p));
    return n;
}

static bool define(Parser *p, const char *s, size_t n, size_t at, ValueId v)
{
    if ((p->nsym + 1) * 2 > p->capsym)
        sym_grow(p);
    Sym *slot = sym_slot(p, s, n);
    if (slot->name) {
        p->pos = at;
        fail(p, "value '%%%s' defined twice", arena_strndup(p->a, s, n));
        return false;
    }
    slot->name = s;
    slot->len = n;
    slot->v = v;
    p->nsym++;
    return true;
}

static ValueId use(Parser *p)
{
    const char *s;
    size_t at, n = value_name(p, &s, &at);
    if (n == 0)
        return 0;
    Sym *slot = p->capsym ? sym_slot(p, s, n) : NULL;
    if (!slot || !slot->name) {
        p->pos = at;
        fail(p, "use of undefined value '%%%s'", arena_strndup(p->a, s, n));
        return 0;
    }
    return slot->v;
}

/* One field's value: an int or [int, ...], a float, or an enum name. */
static bool parse_attr_value(Parser *p, const AttrField *fl, char *base)
{
    if (fl->type == AF_FLOAT)
        return parse_float(p, (float *)(void *)base);
    int *v = (int *)(void *)base;
    if (fl->type == AF_ENUM) {
        const char *s;
        size_t at = (skip_space(p), p->pos), n = ident(p, &s);
        for (int k = 0; fl->names[k]; k++) {
            if (strlen(fl->names[k]) == n && memcmp(fl->names[k], s, n) == 0) {
                *v = k;
                return true;
            }
        }
        p->pos = at;
        fail(p, arena_printf(p->a, "unknown value %%s of attribute '%s'", fl->name),
             n ? arena_printf(p->a, "'%.*s'", (int)n, s) : next_tok(p));
        return false;
    }
    bool list = fl->count > 1;
    if (list && !expect(p, "["))
        return false;
    for (int c = 0; c < fl->count; c++) {
        long long x;
        if ((c && !expect(p, ",")) || !parse_int(p, -MAX_DIM, MAX_DIM, &x))
            return false;
        v[c] = (int)x;
    }
    return !list || expect(p, "]");
}

/* {name=value, ...}: every field of the op's attr kind exactly once, except
 * optional ones, which may be left out (they are 0 then). */
static bool parse_attrs(Parser *p, Op op, Attrs *attrs)
{
    enum { MAXFIELD = 16 };
    const AttrField *fl = attr_fields(op_info[op].attr_kind);
    int nfield = 0;
    while (fl[nfield].name)
        nfield++;
    NASC_ASSERT(nfield <= MAXFIELD);
    bool seen[MAXFIELD] = {false};
    memset(attrs, 0, sizeof *attrs);
    if (nfield == 0)
        return true;
    if (!expect(p, "{"))
        return false;
    for (int k = 0;; k++) {
        if (accept(p, "}")) {
            int i = 0;
            while (i < nfield && (seen[i] || fl[i].optional))
                i++;
            if (i == nfield)
                return true;
            p->pos--;
            fail(p, arena_printf(p->a, "missing attribute '%%s' of %s", op_info[op].name),
                 fl[i].name);
            return false;
        }
        if (k == nfield) { /* every field given: only '}' may follow */
            fail(p, "expected '}', found %s", next_tok(p));
            return false;
        }
        if (k && !expect(p, ","))
            return false;
        const char *s;
        size_t at = (skip_space(p), p->pos), n = ident(p, &s);
        int i = 0;
        while (fl[i].name && !(strlen(fl[i].name) == n && memcmp(fl[i].name, s, n) == 0))
            i++;
        if (!fl[i].name || seen[i]) {
            p->pos = at;
            fail(p, fl[i].name ? "attribute '%s' given twice"
                               : arena_printf(p->a, "unknown attribute '%%s' of %s",
                                              op_info[op].name),
                 arena_strndup(p->a, s, n));
            return false;
        }
        seen[i] = true;
        if (!expect(p, "=") || !parse_attr_value(p, &fl[i], (char *)attrs + fl[i].offset))
            return false;
    }
}

static bool optional_name(Parser *p, Graph *g, ValueId v)
{
    skip_space(p);
    if (p->pos < p->len && p->text[p->pos] == '"') {
        char *name = parse_string(p);
        if (!name)
            return false;
        g->vals[v].name = name;
    }
    return true;
}

/* %name = op operands {attrs} : type ["name"] */
static bool parse_node(Parser *p)
{
    const char *s;
    size_t at, n = value_name(p, &s, &at);
    if (n == 0 || !expect(p, "="))
        return false;
    skip_space(p);
    Loc loc = here(p);
    const char *opname;
    size_t oplen = ident(p, &opname);
    Op op = op_by_name(opname, oplen);
    if (op == OP_NONE) {
        p->pos -= oplen;
        fail(p, "unknown op %s", next_tok(p));
        return false;
    }
    ValueId in[MAX_OPERANDS];
    uint32_t nin = 0;
    skip_space(p);
    if (p->pos < p->len && p->text[p->pos] == '%') {
        do {
            if (nin == MAX_OPERANDS) {
                fail(p, "%s", "too many operands");
                return false;
            }
            if (!(in[nin++] = use(p)))
                return false;
        } while (accept(p, ","));
    }
    Attrs attrs;
    Shape decl;
    DType dtype;
    if (!parse_attrs(p, op, &attrs) || !expect(p, ":") || !parse_type(p, &dtype, &decl))
        return false;
    ValueId v;
    if (op == OP_PARAM) {
        if (nin) {
            p->pos = at;
            fail(p, "%s", "param takes no operands");
            return false;
        }
        v = ir_graph_add_param(p->g, decl, NULL, loc);
    } else {
        int before = p->d->nerr;
        v = ir_graph_add_node(p->g, op, in, nin, &attrs, loc, p->d);
        if (!v) {
            p->failed = p->d->nerr > before;
            return false;
        }
    }
    const Value *val = &p->g->vals[v];
    if (!shape_eq(&val->shape, &decl) || val->dtype != dtype) {
        char a[96], b[96];
        diag_error(p->d, loc, "%s: declared type %s, but the op yields %s", op_info[op].name,
                   type_str(dtype, &decl, a, sizeof a),
                   type_str(val->dtype, &val->shape, b, sizeof b));
        p->failed = true;
        return false;
    }
    return optional_name(p, p->g, v) && define(p, s, n, at, v);
}

static bool parse_signature(Parser *p)
{
    if (!expect(p, "graph") || !expect(p, "@"))
        return false;
    const char *s;
    size_t n = ident(p, &s);
    if (n == 0) {
        fail(p, "expected a graph name, found %s", next_tok(p));
        return false;
    }
    p->g = ir_graph_new(p->a, arena_strndup(p->a, s, n));
    if (!expect(p, "("))
        return false;
    if (accept(p, ")"))
        return expect(p, "{");
    do {
        size_t at;
        Shape shape;
        DType dtype;
        n = value_name(p, &s, &at);
        if (n == 0 || !expect(p, ":") || !parse_type(p, &dtype, &shape))
            return false;
        if (dtype != DT_F32) {
            p->pos = at;
            fail(p, "%s", "graph inputs are f32");
            return false;
        }
        ValueId v = ir_graph_add_input(p->g, shape, NULL);
        if (!optional_name(p, p->g, v) || !define(p, s, n, at, v))
            return false;
    } while (accept(p, ","));
    return expect(p, ")") && expect(p, "{");
}

Graph *ir_parse(Arena *a, const char *file, const char *text, size_t len, Diag *d)
{
    Parser p = {.a = a, .file = file, .text = text, .len = len, .d = d};
    if (!parse_signature(&p))
        return NULL;
    for (;;) {
        skip_space(&p);
        if (p.len - p.pos >= 6 && memcmp(p.text + p.pos, "return", 6) == 0 &&
            (p.len - p.pos == 6 || !is_ident_char(p.text[p.pos + 6]))) {
            p.pos += 6;
            break;
        }
        if (p.pos >= p.len) {
            fail(&p, "%s", "unexpected end of input: graph has no 'return'");
            return NULL;
        }
        if (!parse_node(&p))
            return NULL;
    }
    do {
        ValueId v = use(&p);
        if (!v)
            return NULL;
        ir_graph_add_output(p.g, v);
    } while (accept(&p, ","));
    if (!expect(&p, "}"))
        return NULL;
    skip_space(&p);
    if (p.pos < p.len) {
        fail(&p, "unexpected %s after the graph", next_tok(&p));
        return NULL;
    }
    return p.g;
}
