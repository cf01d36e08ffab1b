/* genotype_py.c — DARTS `Genotype(...)` literals: reader and printer.
 *
 * Input is Python-like: a genotypes.py, a file of `NAME = Genotype(...)`
 * lines, or one bare literal as DARTS prints it. A small tokenizer knows
 * Python's strings, comments, line continuations and bracket depth, so a
 * newline ends a statement only outside brackets. Three statement shapes
 * are parsed strictly: `NAME = Genotype(...)`, `NAME = KNOWN_NAME` (an
 * alias) and a bare `Genotype(...)`. Every other statement (imports, the
 * namedtuple line, PRIMITIVES = [...]) is skipped token by token, which
 * needs no Python grammar beyond balanced brackets. Parsing stops at the
 * first syntax error; semantics are fe_genotype_check's job.
 */
#include "frontend/genotype_internal.h"

#include <limits.h>
#include <string.h>

typedef enum TokKind {
    TK_EOF,
    TK_NEWLINE, /* end of a statement: newline or ';' outside brackets */
    TK_NAME,    /* identifier or keyword */
    TK_NUMBER,  /* a digit and the letters, digits and dots after it */
    TK_STRING,  /* any Python string literal: prefix, quotes, raw body */
    TK_PUNCT,   /* any other single byte, in ch */
    TK_ERROR,   /* the lexer has reported an error */
} TokKind;

typedef struct Tok {
    TokKind kind;
    size_t off, len; /* raw span in the text */
    char ch;         /* TK_PUNCT */
} Tok;

typedef struct Parser {
    Arena *a;
    Diag *d;
    const char *text;
    size_t len, pos;
    size_t depth;      /* open brackets at pos */
    size_t outer_open; /* offset of the outermost open bracket */
    Tok back;          /* one token of push-back */
    bool has_back;
    FeLocCursor cur;
    Genotype *gs;
    int ng, cap;
    int *index; /* open-addressing hash of gs[] by name: slot -> i + 1 */
    size_t nindex;
} Parser;

enum { FE_MAX_RANGE = 1 << 16 }; /* longest concat a range() may produce */

static const char *const arg_names[4] = {"normal", "normal_concat", "reduce", "reduce_concat"};

/* ---- tokenizer ---- */

static bool is_name_start(unsigned char c)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_name_char(unsigned char c)
{
    return is_name_start(c) || is_digit(c);
}

static Loc loc_of(Parser *P, size_t off)
{
    return fe_loc_at(&P->cur, off);
}

/* String prefixes Python allows before a quote: r, b, u, f, rb, br, fr, rf. */
static bool is_str_prefix(const char *s, size_t n)
{
    if (n == 0 || n > 2)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("rRbBuUfF", s[i]))
            return false;
    return true;
}

static Tok lex_string(Parser *P, size_t start, size_t q)
{
    const char *s = P->text;
    char quote = s[q];
    bool triple = q + 2 < P->len && s[q + 1] == quote && s[q + 2] == quote;
    size_t j = q + (triple ? 3 : 1);
    for (;;) {
        if (j >= P->len || (!triple && s[j] == '\n')) {
            diag_error(P->d, loc_of(P, start), "unterminated string");
            Tok t = {TK_ERROR, start, 0, 0};
            return t;
        }
        if (s[j] == '\\') {
            j += 2;
            continue;
        }
        if (s[j] == quote) {
            if (!triple) {
                j++;
                break;
            }
            if (j + 2 < P->len && s[j + 1] == quote && s[j + 2] == quote) {
                j += 3;
                break;
            }
        }
        j++;
    }
    P->pos = j;
    Tok t = {TK_STRING, start, j - start, 0};
    return t;
}

static Tok lex_punct(Parser *P, size_t i)
{
    char c = P->text[i];
    P->pos = i + 1;
    if (c == '(' || c == '[' || c == '{') {
        if (P->depth++ == 0)
            P->outer_open = i;
    } else if ((c == ')' || c == ']' || c == '}') && P->depth > 0) {
        P->depth--;
    }
    Tok t = {TK_PUNCT, i, 1, c};
    return t;
}

/* Skips blanks, comments and line continuations; returns the offset of the
 * next significant byte (a newline inside brackets is a blank). */
static size_t lex_skip_blank(Parser *P)
{
    const char *s = P->text;
    size_t i = P->pos, n = P->len;
    while (i < n) {
        char c = s[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            i++;
        } else if (c == '\n' && P->depth > 0) {
            i++;
        } else if (c == '\\' && i + 1 < n && s[i + 1] == '\n') {
            i += 2;
        } else if (c == '\\' && i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
            i += 3;
        } else if (c == '#') {
            while (i < n && s[i] != '\n')
                i++;
        } else if (i == 0 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
            i = 3;
        } else {
            break;
        }
    }
    return i;
}

static Tok lex_next(Parser *P)
{
    if (P->has_back) {
        P->has_back = false;
        return P->back;
    }
    const char *s = P->text;
    size_t i = lex_skip_blank(P), n = P->len, j = i;
    Tok t = {TK_EOF, i, 0, 0};
    P->pos = i;
    if (i >= n)
        return t;
    unsigned char c = (unsigned char)s[i];
    if (c == '\n' || (c == ';' && P->depth == 0)) {
        P->pos = i + 1;
        t.kind = TK_NEWLINE;
        t.len = 1;
        t.ch = (char)c;
        return t;
    }
    if (c == '"' || c == '\'')
        return lex_string(P, i, i);
    if (is_name_start(c)) {
        while (j < n && is_name_char((unsigned char)s[j]))
            j++;
        if (j < n && (s[j] == '"' || s[j] == '\'') && is_str_prefix(s + i, j - i))
            return lex_string(P, i, j);
        t.kind = TK_NAME;
    } else if (is_digit(c)) {
        while (j < n && (is_name_char((unsigned char)s[j]) || s[j] == '.'))
            j++;
        t.kind = TK_NUMBER;
    } else {
        return lex_punct(P, i);
    }
    P->pos = j;
    t.len = j - i;
    return t;
}

static void lex_unget(Parser *P, Tok t)
{
    NASC_ASSERT(!P->has_back);
    P->back = t;
    P->has_back = true;
}

/* ---- token helpers ---- */

static bool is_punct(Tok t, char c)
{
    return t.kind == TK_PUNCT && t.ch == c;
}

static bool tok_is(const Parser *P, Tok t, const char *name)
{
    return t.kind == TK_NAME && t.len == strlen(name) && memcmp(P->text + t.off, name, t.len) == 0;
}

static const char *tok_desc(const Parser *P, Tok t, char *buf, size_t size)
{
    char show[FE_SHOW_MAX];
    if (t.kind == TK_EOF)
        return "end of file";
    if (t.kind == TK_NEWLINE)
        return t.ch == ';' ? "';'" : "end of line";
    fe_show(show, sizeof show, P->text + t.off, t.len);
    snprintf(buf, size, t.kind == TK_STRING ? "string %s" : "'%s'", show);
    return buf;
}

/* Reports "expected <what>, found <tok>" at tok; always returns false. */
static bool expect_fail(Parser *P, Tok t, const char *what)
{
    char buf[FE_SHOW_MAX + 16];
    if (t.kind != TK_ERROR)
        diag_error(P->d, loc_of(P, t.off), "expected %s, found %s", what,
                   tok_desc(P, t, buf, sizeof buf));
    return false;
}

static bool expect_punct(Parser *P, char c, const char *what)
{
    Tok t = lex_next(P);
    return is_punct(t, c) || expect_fail(P, t, what);
}

static void *grow(Arena *a, void *p, int n, int *cap, size_t elsize)
{
    if (n < *cap)
        return p;
    NASC_ASSERT(*cap <= INT_MAX / 2);
    int ncap = *cap ? *cap * 2 : 8;
    void *q = arena_calloc(a, (size_t)ncap, elsize);
    NASC_ASSERT(q);
    if (n)
        memcpy(q, p, (size_t)n * elsize);
    *cap = ncap;
    return q;
}

/* ---- literals ---- */

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return 99;
}

/* One escape at p (p[0] == '\\', p + 1 < end): appends its byte(s) to *o and
 * returns the position after it; NULL for \x without 2 hex digits. Octal
 * and \x escapes give a byte; unknown escapes stay as written (as Python). */
static const char *decode_escape(const char *p, const char *end, char **o, int *byte)
{
    static const char from[] = "ntrabfv\\'\"", to[] = "\n\t\r\a\b\f\v\\'\"";
    char e = p[1];
    const char *m = e ? strchr(from, e) : NULL;
    *byte = -1;
    if (e == '\n')
        return p + 2;
    if (e == '\r' && p + 2 < end && p[2] == '\n')
        return p + 3;
    if (m) {
        *(*o)++ = to[m - from];
        return p + 2;
    }
    if (e != 'x' && !(e >= '0' && e <= '7')) {
        *(*o)++ = *p;
        return p + 1;
    }
    int base = e == 'x' ? 16 : 8, max = e == 'x' ? 2 : 3, v = 0, k = 0;
    const char *q = p + (e == 'x' ? 2 : 1);
    for (; k < max && q < end && hex_digit(*q) < base; k++, q++)
        v = v * base + hex_digit(*q);
    if (e == 'x' && k != 2)
        return NULL;
    *byte = v;
    return q;
}

/* The value of a string token (escapes decoded unless raw); NULL after an
 * error. */
static char *decode_string(Parser *P, Tok t)
{
    const char *s = P->text + t.off;
    size_t plen = 0;
    while (s[plen] != '"' && s[plen] != '\'')
        plen++;
    bool raw = memchr(s, 'r', plen) || memchr(s, 'R', plen);
    size_t qlen = (t.len - plen >= 6 && s[plen + 1] == s[plen] && s[plen + 2] == s[plen]) ? 3 : 1;
    const char *p = s + plen + qlen, *end = s + t.len - qlen;
    char *out = arena_alloc(P->a, (size_t)(end - p) + 1), *o = out;
    while (p < end) {
        if (*p != '\\' || raw) {
            *o++ = *p++;
            continue;
        }
        int byte;
        p = decode_escape(p, end, &o, &byte);
        if (!p || byte == 0 || byte > 255) {
            diag_error(P->d, loc_of(P, t.off), p ? "NUL or out-of-range character in string"
                                                  : "invalid \\x escape in string");
            return NULL;
        }
        if (byte > 0)
            *o++ = (char)byte;
    }
    *o = 0;
    return out;
}

/* An optionally negative decimal int; anything else or overflow is an error. */
static bool parse_int(Parser *P, Tok t, int *val, Loc *loc)
{
    *loc = loc_of(P, t.off);
    bool neg = is_punct(t, '-');
    size_t start = t.off;
    if (neg)
        t = lex_next(P);
    if (t.kind != TK_NUMBER)
        return expect_fail(P, t, "an integer");
    char show[FE_SHOW_MAX];
    long long v = 0, limit = neg ? -(long long)INT_MIN : INT_MAX;
    for (size_t i = 0; i < t.len; i++) {
        char c = P->text[t.off + i];
        if (!is_digit((unsigned char)c)) {
            diag_error(P->d, *loc, "expected an integer, found '%s'",
                       fe_show(show, sizeof show, P->text + t.off, t.len));
            return false;
        }
        v = v * 10 + (c - '0');
        if (v > limit) {
            diag_error(P->d, *loc, "integer '%s' is out of range",
                       fe_show(show, sizeof show, P->text + start, t.off + t.len - start));
            return false;
        }
    }
    *val = (int)(neg ? -v : v);
    return true;
}

static bool parse_edge(Parser *P, Tok t, GenoEdge *e)
{
    char close = is_punct(t, '(') ? ')' : ']';
    if (!is_punct(t, '(') && !is_punct(t, '['))
        return expect_fail(P, t, "'(' to start an edge");
    Tok s = lex_next(P);
    if (s.kind != TK_STRING)
        return expect_fail(P, s, "an op name string");
    e->loc = loc_of(P, s.off);
    if (!(e->op = decode_string(P, s)))
        return false;
    if (!expect_punct(P, ',', "',' after the op name"))
        return false;
    if (!parse_int(P, lex_next(P), &e->input, &e->input_loc))
        return false;
    Tok c = lex_next(P);
    if (is_punct(c, ','))
        c = lex_next(P);
    if (!is_punct(c, close))
        return expect_fail(P, c, close == ')' ? "')' to end the edge" : "']' to end the edge");
    return true;
}

static bool parse_edges(Parser *P, Tok t, GenoCell *c, const char *arg)
{
    char what[64];
    snprintf(what, sizeof what, "a list of (op, input) edges for '%s'", arg);
    if (!is_punct(t, '[') && !is_punct(t, '('))
        return expect_fail(P, t, what);
    char close = is_punct(t, '[') ? ']' : ')';
    int cap = 0;
    for (Tok u = lex_next(P); !is_punct(u, close);) {
        c->edges = grow(P->a, c->edges, c->nedge, &cap, sizeof *c->edges);
        if (!parse_edge(P, u, &c->edges[c->nedge]))
            return false;
        c->nedge++;
        u = lex_next(P);
        if (is_punct(u, ','))
            u = lex_next(P);
        else if (!is_punct(u, close))
            return expect_fail(P, u, close == ']' ? "',' or ']' after edge"
                                                  : "',' or ')' after edge");
    }
    return true;
}

static void concat_push(Parser *P, GenoCell *c, int *cap, int v, Loc loc)
{
    int cap2 = *cap;
    c->concat = grow(P->a, c->concat, c->nconcat, cap, sizeof *c->concat);
    c->concat_loc = grow(P->a, c->concat_loc, c->nconcat, &cap2, sizeof *c->concat_loc);
    c->concat[c->nconcat] = v;
    c->concat_loc[c->nconcat++] = loc;
}

static bool parse_int_list(Parser *P, char close, GenoCell *c)
{
    int cap = 0;
    for (Tok u = lex_next(P); !is_punct(u, close);) {
        Loc loc;
        int v;
        if (!parse_int(P, u, &v, &loc))
            return false;
        concat_push(P, c, &cap, v, loc);
        u = lex_next(P);
        if (is_punct(u, ','))
            u = lex_next(P);
        else if (!is_punct(u, close))
            return expect_fail(P, u, close == ']' ? "',' or ']' after concat entry"
                                                  : "',' or ')' after concat entry");
    }
    return true;
}

/* range(stop), range(start, stop) or range(start, stop, step); every entry
 * is located at the `range` token. */
static bool parse_range(Parser *P, Tok range, GenoCell *c)
{
    Loc at = loc_of(P, range.off), argloc[3];
    int arg[3], narg = 0;
    if (!expect_punct(P, '(', "'(' after 'range'"))
        return false;
    Tok t = lex_next(P);
    while (!is_punct(t, ')')) {
        if (narg == 3)
            return expect_fail(P, t, "')' after 3 range() arguments");
        if (!parse_int(P, t, &arg[narg], &argloc[narg]))
            return false;
        narg++;
        t = lex_next(P);
        if (is_punct(t, ','))
            t = lex_next(P);
        else if (!is_punct(t, ')'))
            return expect_fail(P, t, "',' or ')' after range() argument");
    }
    if (narg == 0) {
        diag_error(P->d, at, "range() needs 1 to 3 arguments");
        return false;
    }
    long long start = narg > 1 ? arg[0] : 0, stop = narg > 1 ? arg[1] : arg[0];
    long long step = narg > 2 ? arg[2] : 1;
    if (step == 0) {
        diag_error(P->d, argloc[2], "range() step must not be zero");
        return false;
    }
    long long count = step > 0 ? (stop - start + step - 1) / step
                               : (start - stop - step - 1) / -step;
    if (count > FE_MAX_RANGE) {
        diag_error(P->d, at, "range() gives %lld entries; at most %d allowed", count, FE_MAX_RANGE);
        return false;
    }
    int cap = 0;
    c->concat = arena_alloc(P->a, sizeof *c->concat); /* empty range: non-NULL, nconcat 0 */
    c->concat_loc = arena_alloc(P->a, sizeof *c->concat_loc);
    for (long long i = 0; i < count; i++)
        concat_push(P, c, &cap, (int)(start + i * step), at);
    return true;
}

static bool parse_concat(Parser *P, Tok t, GenoCell *c, const char *arg)
{
    if (is_punct(t, '[') || is_punct(t, '(')) {
        c->concat = arena_alloc(P->a, sizeof *c->concat);
        c->concat_loc = arena_alloc(P->a, sizeof *c->concat_loc);
        return parse_int_list(P, is_punct(t, '[') ? ']' : ')', c);
    }
    if (tok_is(P, t, "range"))
        return parse_range(P, t, c);
    if (tok_is(P, t, "list")) { /* list(range(a, b)) */
        if (!expect_punct(P, '(', "'(' after 'list'"))
            return false;
        Tok r = lex_next(P);
        if (!tok_is(P, r, "range"))
            return expect_fail(P, r, "'range'");
        return parse_range(P, r, c) && expect_punct(P, ')', "')' to close list(range(...))");
    }
    char what[64];
    snprintf(what, sizeof what, "a list or range(...) for '%s'", arg);
    return expect_fail(P, t, what);
}

static int arg_index(const Parser *P, Tok t)
{
    for (int k = 0; k < 4; k++)
        if (tok_is(P, t, arg_names[k]))
            return k;
    return -1;
}

typedef struct ArgState {
    bool have[4]; /* indexed like arg_names */
    int npos;     /* positional arguments seen */
    bool kw;      /* a keyword argument was seen */
} ArgState;

/* One argument of Genotype(...): `kw=value` or a positional value. */
static bool parse_arg(Parser *P, Tok t, Genotype *g, ArgState *st)
{
    char show[FE_SHOW_MAX];
    Loc at = loc_of(P, t.off);
    int idx = -1;
    if (t.kind == TK_NAME) {
        Tok u = lex_next(P);
        if (is_punct(u, '=')) {
            idx = arg_index(P, t);
            fe_show(show, sizeof show, P->text + t.off, t.len);
            if (idx < 0) {
                diag_error(P->d, at, "unknown argument '%s' to Genotype(); expected normal, "
                           "normal_concat, reduce, reduce_concat", show);
                return false;
            }
            if (st->have[idx]) {
                diag_error(P->d, at, "argument '%s' given twice", show);
                return false;
            }
            st->kw = true;
            t = lex_next(P);
        } else {
            lex_unget(P, u);
        }
    }
    if (idx < 0) {
        if (st->kw || st->npos >= 4) {
            diag_error(P->d, at, st->kw ? "positional argument after keyword argument"
                                        : "too many arguments to Genotype()");
            return false;
        }
        idx = st->npos++;
    }
    st->have[idx] = true;
    GenoCell *c = idx < 2 ? &g->normal : &g->reduce;
    if (idx % 2)
        return parse_concat(P, t, c, arg_names[idx]);
    c->loc = at;
    return parse_edges(P, t, c, arg_names[idx]);
}

/* Genotype(...) after its '(' has been read; `at` is the callee. */
static bool parse_call(Parser *P, Loc at, Genotype *g)
{
    ArgState st = {{false, false, false, false}, 0, false};
    g->loc = at;
    for (Tok t = lex_next(P); !is_punct(t, ')');) {
        if (!parse_arg(P, t, g, &st))
            return false;
        t = lex_next(P);
        if (is_punct(t, ','))
            t = lex_next(P);
        else if (!is_punct(t, ')'))
            return expect_fail(P, t, "',' or ')' after argument");
    }
    bool ok = true;
    for (int k = 0; k < 4; k++) {
        if (!st.have[k]) {
            diag_error(P->d, at, "missing argument '%s=' in Genotype(...)", arg_names[k]);
            ok = false;
        }
    }
    return ok;
}

/* ---- statements ---- */

static size_t name_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211u;
    return (size_t)h;
}

/* Slot of `name` in the index: its entry, or the empty slot to fill. */
static size_t index_slot(const Parser *P, const char *name, size_t n)
{
    size_t mask = P->nindex - 1, i = name_hash(name, n) & mask;
    for (;; i = (i + 1) & mask) {
        int g = P->index[i] - 1;
        if (g < 0 || (strlen(P->gs[g].name) == n && memcmp(P->gs[g].name, name, n) == 0))
            return i;
    }
}

static int find_genotype(const Parser *P, const char *name, size_t n)
{
    return P->nindex ? P->index[index_slot(P, name, n)] - 1 : -1;
}

/* Keeps the index at most half full. */
static void index_add(Parser *P, int g)
{
    if ((size_t)P->ng * 2 >= P->nindex) {
        size_t old = P->nindex;
        int *prev = P->index;
        P->nindex = old ? old * 2 : 64;
        P->index = arena_calloc(P->a, P->nindex, sizeof *P->index);
        NASC_ASSERT(P->index);
        for (size_t i = 0; i < old; i++)
            if (prev[i])
                P->index[index_slot(P, P->gs[prev[i] - 1].name,
                                    strlen(P->gs[prev[i] - 1].name))] = prev[i];
    }
    P->index[index_slot(P, P->gs[g].name, strlen(P->gs[g].name))] = g + 1;
}

/* Python semantics: a later assignment to the same name wins. */
static void add_genotype(Parser *P, const Genotype *g)
{
    int i = g->name ? find_genotype(P, g->name, strlen(g->name)) : -1;
    if (i >= 0) {
        diag_warn(P->d, g->loc, "genotype '%s' redefined; the last definition is used", g->name);
        P->gs[i] = *g;
        return;
    }
    P->gs = grow(P->a, P->gs, P->ng, &P->cap, sizeof *P->gs);
    P->gs[P->ng++] = *g;
    if (g->name)
        index_add(P, P->ng - 1);
}

static bool skip_stmt(Parser *P, Tok t)
{
    while (t.kind != TK_NEWLINE && t.kind != TK_EOF) {
        if (t.kind == TK_ERROR)
            return false;
        t = lex_next(P);
    }
    if (t.kind == TK_EOF && P->depth > 0) {
        diag_error(P->d, loc_of(P, P->outer_open), "'%c' was never closed",
                   P->text[P->outer_open]);
        return false;
    }
    return true;
}

/* After a NAME: reads `.NAME` parts; true if the last part is `Genotype`.
 * *t is the token after the dotted name. */
static bool callee_is_genotype(Parser *P, Tok first, Tok *t)
{
    Tok last = first;
    while (is_punct(*t, '.')) {
        Tok v = lex_next(P);
        if (v.kind != TK_NAME) {
            *t = v;
            return false;
        }
        last = v;
        *t = lex_next(P);
    }
    return tok_is(P, last, "Genotype");
}

static bool parse_genotype_stmt(Parser *P, const char *name, Loc name_loc, Tok callee)
{
    Genotype g;
    memset(&g, 0, sizeof g);
    if (!parse_call(P, loc_of(P, callee.off), &g))
        return false;
    Tok end = lex_next(P);
    if (end.kind != TK_NEWLINE && end.kind != TK_EOF)
        return expect_fail(P, end, "end of line after Genotype(...)");
    if (name) {
        g.name = name;
        g.loc = name_loc;
    }
    add_genotype(P, &g);
    return true;
}

/* NAME = ...: a genotype, an alias of a known genotype, or skipped. */
static bool parse_assign(Parser *P, Tok lhs)
{
    Loc at = loc_of(P, lhs.off);
    Tok v = lex_next(P);
    if (v.kind != TK_NAME)
        return skip_stmt(P, v);
    Tok w = lex_next(P);
    bool simple = !is_punct(w, '.');
    const char *name = arena_strndup(P->a, P->text + lhs.off, lhs.len);
    if (callee_is_genotype(P, v, &w) && is_punct(w, '('))
        return parse_genotype_stmt(P, name, at, v);
    int i = simple ? find_genotype(P, P->text + v.off, v.len) : -1;
    if (i >= 0 && (w.kind == TK_NEWLINE || w.kind == TK_EOF)) {
        Genotype g = P->gs[i];
        g.name = name;
        g.loc = at;
        add_genotype(P, &g);
        return true;
    }
    return skip_stmt(P, w);
}

static bool parse_stmt(Parser *P, Tok t)
{
    if (t.kind != TK_NAME)
        return skip_stmt(P, t);
    Tok u = lex_next(P);
    if (is_punct(u, '='))
        return parse_assign(P, t);
    if (callee_is_genotype(P, t, &u) && is_punct(u, '('))
        return parse_genotype_stmt(P, NULL, loc_of(P, t.off), t);
    return skip_stmt(P, u);
}

static bool parse_file(Parser *P)
{
    const char *nul = memchr(P->text, 0, P->len);
    if (nul) {
        diag_error(P->d, loc_of(P, (size_t)(nul - P->text)), "NUL byte in input");
        return false;
    }
    for (;;) {
        Tok t = lex_next(P);
        if (t.kind == TK_EOF)
            return true;
        if (t.kind == TK_ERROR)
            return false;
        if (t.kind != TK_NEWLINE && !parse_stmt(P, t))
            return false;
    }
}

/* ---- entry points ---- */

int fe_parse_darts_all(Arena *a, const char *file, const char *text, size_t len,
                       Genotype **out, Diag *d)
{
    Parser P;
    memset(&P, 0, sizeof P);
    P.a = a;
    P.d = d;
    P.text = text;
    P.len = len;
    fe_loc_cursor_init(&P.cur, file, text);
    *out = NULL;
    if (!parse_file(&P))
        return -1;
    *out = P.gs;
    return P.ng;
}

/* "A, B, C" (at most 16 names) for messages. */
static const char *name_list(Arena *a, const Genotype *gs, int ng)
{
    enum { MAX_LISTED = 16 };
    FeBuf b;
    char show[FE_SHOW_MAX];
    fe_buf_init(&b, a);
    for (int i = 0; i < ng && i < MAX_LISTED; i++) {
        const char *n = gs[i].name ? gs[i].name : "(unnamed)";
        fe_buf_printf(&b, "%s%s", i ? ", " : "", fe_show(show, sizeof show, n, strlen(n)));
    }
    if (ng > MAX_LISTED)
        fe_buf_printf(&b, ", ... (%d more)", ng - MAX_LISTED);
    return fe_buf_str(&b);
}

bool fe_parse_darts_text(Arena *a, const char *file, const char *text, size_t len,
                         const char *want, Genotype *out, Diag *d)
{
    Genotype *gs;
    int ng = fe_parse_darts_all(a, file, text, len, &gs, d);
    char show[FE_SHOW_MAX];
    if (ng < 0)
        return false;
    if (ng == 0) {
        diag_error(d, loc_file(file), "no Genotype(...) found");
        return false;
    }
    if (want) {
        for (int i = 0; i < ng; i++) {
            if (gs[i].name && strcmp(gs[i].name, want) == 0) {
                *out = gs[i];
                return true;
            }
        }
        diag_error(d, loc_file(file), "no genotype named '%s'; available: %s",
                   fe_show(show, sizeof show, want, strlen(want)), name_list(a, gs, ng));
        return false;
    }
    if (ng > 1) {
        diag_error(d, loc_file(file), "%d genotypes in file; choose one with --genotype: %s", ng,
                   name_list(a, gs, ng));
        return false;
    }
    *out = gs[0];
    return true;
}
