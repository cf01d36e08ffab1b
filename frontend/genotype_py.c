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
#include "frontend/py_lex.h"

#include <limits.h>
#include <string.h>

enum { FE_MAX_RANGE = 1 << 16 }; /* longest concat a range() may produce */

static const char *const arg_names[4] = {"normal", "normal_concat", "reduce", "reduce_concat"};

/* An optionally negative decimal int; anything else or overflow is an error. */
static bool parse_int(PyParser *P, Tok t, int *val, Loc *loc)
{
    *loc = py_loc_of(P, t.off);
    bool neg = py_is_punct(t, '-');
    size_t start = t.off;
    if (neg)
        t = py_lex_next(P);
    if (t.kind != TK_NUMBER)
        return py_expect_fail(P, t, "an integer");
    char show[FE_SHOW_MAX];
    long long v = 0, limit = neg ? -(long long)INT_MIN : INT_MAX;
    for (size_t i = 0; i < t.len; i++) {
        char c = P->text[t.off + i];
        if (!py_is_digit((unsigned char)c)) {
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

static bool parse_edge(PyParser *P, Tok t, GenoEdge *e)
{
    char close = py_is_punct(t, '(') ? ')' : ']';
    if (!py_is_punct(t, '(') && !py_is_punct(t, '['))
        return py_expect_fail(P, t, "'(' to start an edge");
    Tok s = py_lex_next(P);
    if (s.kind != TK_STRING)
        return py_expect_fail(P, s, "an op name string");
    e->loc = py_loc_of(P, s.off);
    if (!(e->op = py_decode_string(P, s)))
        return false;
    if (!py_expect_punct(P, ',', "',' after the op name"))
        return false;
    if (!parse_int(P, py_lex_next(P), &e->input, &e->input_loc))
        return false;
    Tok c = py_lex_next(P);
    if (py_is_punct(c, ','))
        c = py_lex_next(P);
    if (!py_is_punct(c, close))
        return py_expect_fail(P, c, close == ')' ? "')' to end the edge" : "']' to end the edge");
    return true;
}

static bool parse_edges(PyParser *P, Tok t, GenoCell *c, const char *arg)
{
    char what[64];
    snprintf(what, sizeof what, "a list of (op, input) edges for '%s'", arg);
    if (!py_is_punct(t, '[') && !py_is_punct(t, '('))
        return py_expect_fail(P, t, what);
    char close = py_is_punct(t, '[') ? ']' : ')';
    int cap = 0;
    for (Tok u = py_lex_next(P); !py_is_punct(u, close);) {
        c->edges = py_grow(P->a, c->edges, c->nedge, &cap, sizeof *c->edges);
        if (!parse_edge(P, u, &c->edges[c->nedge]))
            return false;
        c->nedge++;
        u = py_lex_next(P);
        if (py_is_punct(u, ','))
            u = py_lex_next(P);
        else if (!py_is_punct(u, close))
            return py_expect_fail(P, u, close == ']' ? "',' or ']' after edge"
                                                  : "',' or ')' after edge");
    }
    return true;
}

static void concat_push(PyParser *P, GenoCell *c, int *cap, int v, Loc loc)
{
    int cap2 = *cap;
    c->concat = py_grow(P->a, c->concat, c->nconcat, cap, sizeof *c->concat);
    c->concat_loc = py_grow(P->a, c->concat_loc, c->nconcat, &cap2, sizeof *c->concat_loc);
    c->concat[c->nconcat] = v;
    c->concat_loc[c->nconcat++] = loc;
}

static bool parse_int_list(PyParser *P, char close, GenoCell *c)
{
    int cap = 0;
    for (Tok u = py_lex_next(P); !py_is_punct(u, close);) {
        Loc loc;
        int v;
        if (!parse_int(P, u, &v, &loc))
            return false;
        concat_push(P, c, &cap, v, loc);
        u = py_lex_next(P);
        if (py_is_punct(u, ','))
            u = py_lex_next(P);
        else if (!py_is_punct(u, close))
            return py_expect_fail(P, u, close == ']' ? "',' or ']' after concat entry"
                                                  : "',' or ')' after concat entry");
    }
    return true;
}

/* range(stop), range(start, stop) or range(start, stop, step); every entry
 * is located at the `range` token. */
static bool parse_range(PyParser *P, Tok range, GenoCell *c)
{
    Loc at = py_loc_of(P, range.off), argloc[3];
    int arg[3], narg = 0;
    if (!py_expect_punct(P, '(', "'(' after 'range'"))
        return false;
    Tok t = py_lex_next(P);
    while (!py_is_punct(t, ')')) {
        if (narg == 3)
            return py_expect_fail(P, t, "')' after 3 range() arguments");
        if (!parse_int(P, t, &arg[narg], &argloc[narg]))
            return false;
        narg++;
        t = py_lex_next(P);
        if (py_is_punct(t, ','))
            t = py_lex_next(P);
        else if (!py_is_punct(t, ')'))
            return py_expect_fail(P, t, "',' or ')' after range() argument");
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

static bool parse_concat(PyParser *P, Tok t, GenoCell *c, const char *arg)
{
    if (py_is_punct(t, '[') || py_is_punct(t, '(')) {
        c->concat = arena_alloc(P->a, sizeof *c->concat);
        c->concat_loc = arena_alloc(P->a, sizeof *c->concat_loc);
        return parse_int_list(P, py_is_punct(t, '[') ? ']' : ')', c);
    }
    if (py_tok_is(P, t, "range"))
        return parse_range(P, t, c);
    if (py_tok_is(P, t, "list")) { /* list(range(a, b)) */
        if (!py_expect_punct(P, '(', "'(' after 'list'"))
            return false;
        Tok r = py_lex_next(P);
        if (!py_tok_is(P, r, "range"))
            return py_expect_fail(P, r, "'range'");
        return parse_range(P, r, c) && py_expect_punct(P, ')', "')' to close list(range(...))");
    }
    char what[64];
    snprintf(what, sizeof what, "a list or range(...) for '%s'", arg);
    return py_expect_fail(P, t, what);
}

static int arg_index(const PyParser *P, Tok t)
{
    for (int k = 0; k < 4; k++)
        if (py_tok_is(P, t, arg_names[k]))
            return k;
    return -1;
}

typedef struct ArgState {
    bool have[4]; /* indexed like arg_names */
    int npos;     /* positional arguments seen */
    bool kw;      /* a keyword argument was seen */
} ArgState;

/* One argument of Genotype(...): `kw=value` or a positional value. */
static bool parse_arg(PyParser *P, Tok t, Genotype *g, ArgState *st)
{
    char show[FE_SHOW_MAX];
    Loc at = py_loc_of(P, t.off);
    int idx = -1;
    if (t.kind == TK_NAME) {
        Tok u = py_lex_next(P);
        if (py_is_punct(u, '=')) {
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
            t = py_lex_next(P);
        } else {
            py_lex_unget(P, u);
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
static bool parse_call(PyParser *P, Loc at, Genotype *g)
{
    ArgState st = {{false, false, false, false}, 0, false};
    g->loc = at;
    for (Tok t = py_lex_next(P); !py_is_punct(t, ')');) {
        if (!parse_arg(P, t, g, &st))
            return false;
        t = py_lex_next(P);
        if (py_is_punct(t, ','))
            t = py_lex_next(P);
        else if (!py_is_punct(t, ')'))
            return py_expect_fail(P, t, "',' or ')' after argument");
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
static size_t index_slot(const PyParser *P, const char *name, size_t n)
{
    size_t mask = P->nindex - 1, i = name_hash(name, n) & mask;
    for (;; i = (i + 1) & mask) {
        int g = P->index[i] - 1;
        if (g < 0 || (strlen(P->gs[g].name) == n && memcmp(P->gs[g].name, name, n) == 0))
            return i;
    }
}

static int find_genotype(const PyParser *P, const char *name, size_t n)
{
    return P->nindex ? P->index[index_slot(P, name, n)] - 1 : -1;
}

/* Keeps the index at most half full. */
static void index_add(PyParser *P, int g)
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
static void add_genotype(PyParser *P, const Genotype *g)
{
    int i = g->name ? find_genotype(P, g->name, strlen(g->name)) : -1;
    if (i >= 0) {
        diag_warn(P->d, g->loc, "genotype '%s' redefined; the last definition is used", g->name);
        P->gs[i] = *g;
        return;
    }
    P->gs = py_grow(P->a, P->gs, P->ng, &P->cap, sizeof *P->gs);
    P->gs[P->ng++] = *g;
    if (g->name)
        index_add(P, P->ng - 1);
}

static bool skip_stmt(PyParser *P, Tok t)
{
    while (t.kind != TK_NEWLINE && t.kind != TK_EOF) {
        if (t.kind == TK_ERROR)
            return false;
        t = py_lex_next(P);
    }
    if (t.kind == TK_EOF && P->depth > 0) {
        diag_error(P->d, py_loc_of(P, P->outer_open), "'%c' was never closed",
                   P->text[P->outer_open]);
        return false;
    }
    return true;
}

/* After a NAME: reads `.NAME` parts; true if the last part is `Genotype`.
 * *t is the token after the dotted name. */
static bool callee_is_genotype(PyParser *P, Tok first, Tok *t)
{
    Tok last = first;
    while (py_is_punct(*t, '.')) {
        Tok v = py_lex_next(P);
        if (v.kind != TK_NAME) {
            *t = v;
            return false;
        }
        last = v;
        *t = py_lex_next(P);
    }
    return py_tok_is(P, last, "Genotype");
}

static bool parse_genotype_stmt(PyParser *P, const char *name, Loc name_loc, Tok callee)
{
    Genotype g;
    memset(&g, 0, sizeof g);
    if (!parse_call(P, py_loc_of(P, callee.off), &g))
        return false;
    Tok end = py_lex_next(P);
    if (end.kind != TK_NEWLINE && end.kind != TK_EOF)
        return py_expect_fail(P, end, "end of line after Genotype(...)");
    if (name) {
        g.name = name;
        g.loc = name_loc;
    }
    add_genotype(P, &g);
    return true;
}

/* NAME = ...: a genotype, an alias of a known genotype, or skipped. */
static bool parse_assign(PyParser *P, Tok lhs)
{
    Loc at = py_loc_of(P, lhs.off);
    Tok v = py_lex_next(P);
    if (v.kind != TK_NAME)
        return skip_stmt(P, v);
    Tok w = py_lex_next(P);
    bool simple = !py_is_punct(w, '.');
    const char *name = arena_strndup(P->a, P->text + lhs.off, lhs.len);
    if (callee_is_genotype(P, v, &w) && py_is_punct(w, '('))
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

static bool parse_stmt(PyParser *P, Tok t)
{
    if (t.kind != TK_NAME)
        return skip_stmt(P, t);
    Tok u = py_lex_next(P);
    if (py_is_punct(u, '='))
        return parse_assign(P, t);
    if (callee_is_genotype(P, t, &u) && py_is_punct(u, '('))
        return parse_genotype_stmt(P, NULL, py_loc_of(P, t.off), t);
    return skip_stmt(P, u);
}

static bool parse_file(PyParser *P)
{
    const char *nul = memchr(P->text, 0, P->len);
    if (nul) {
        diag_error(P->d, py_loc_of(P, (size_t)(nul - P->text)), "NUL byte in input");
        return false;
    }
    for (;;) {
        Tok t = py_lex_next(P);
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
    PyParser P;
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
