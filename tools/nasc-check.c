/* nasc-check.c — a small FileCheck: checks stdin against CHECK lines.
 *
 *   nasc-opt test.nir ... | nasc-check test.nir
 *
 * Directives (anywhere on a line, usually after `//`):
 *   CHECK: p        p matches at or after the current position
 *   CHECK-NEXT: p   p matches on the line after the previous match
 *   CHECK-SAME: p   p matches on the previous match's line, after it
 *   CHECK-EMPTY:    the line after the previous match is empty
 *   CHECK-NOT: p    p does not match between the neighbouring matches
 *   CHECK-DAG: p    a run of DAG lines matches in any order, without overlap
 *   CHECK-LABEL: p  cuts the input into blocks first (labels match in order);
 *                   the checks after a label only search its block
 * In a pattern, text is literal (a run of blanks matches any run of blanks),
 * {{re}} is a POSIX extended regex, [[V:re]] matches re and binds V,
 * [[V]] matches V's bound text. A line `// -----` in the check file cuts it
 * and the input into pieces checked independently (nasc-opt
 * --split-input-file); variables do not cross pieces. --check-prefix=P
 * reads P:, P-NEXT: ... instead (several RUN lines, one file). Exit 0 when every
 * check holds, 1 (with file:line messages) otherwise, 2 on bad usage.
 */
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAXVAR = 128, MAXRE = 8192, MAXCAP = 16 };
typedef enum Kind { K_PLAIN, K_NEXT, K_SAME, K_EMPTY, K_NOT, K_DAG, K_LABEL } Kind;
static const char *const kind_name[] = {"", "-NEXT", "-SAME", "-EMPTY", "-NOT", "-DAG",
                                        "-LABEL"};

static const char *prefix = "CHECK"; /* --check-prefix */

typedef struct Check { Kind kind; const char *pat; int line; } Check;
typedef struct Hit { int line, so, eo; } Hit; /* a match: input line, byte range */
typedef struct Var { char name[64]; char *val; } Var;

typedef struct Ctx {
    const char *check_file;
    char **in;       /* input lines of this piece, NUL-terminated */
    int in_first;    /* line number (1-based) of in[0] in the whole input */
    Var vars[MAXVAR];
    int nvar;
} Ctx;

static int fail(const Ctx *c, const Check *k, const char *what, int in_line)
{
    fprintf(stderr, "%s:%d: error: %s%s: %s\n  pattern: %s\n", c->check_file, k->line,
            prefix, kind_name[k->kind], what, k->pat);
    if (in_line >= 0)
        fprintf(stderr, "<stdin>:%d: note: %s here: %s\n", c->in_first + in_line,
                k->kind == K_NOT ? "found" : "scanning from", c->in[in_line]);
    return 1;
}

static const char *var_get(const Ctx *c, const char *name, size_t n)
{
    for (int i = 0; i < c->nvar; i++)
        if (strlen(c->vars[i].name) == n && !strncmp(c->vars[i].name, name, n))
            return c->vars[i].val;
    return NULL;
}

static void var_set(Ctx *c, const char *name, size_t n, const char *s, size_t len)
{
    int i = 0;
    while (i < c->nvar && !(strlen(c->vars[i].name) == n && !strncmp(c->vars[i].name, name, n)))
        i++;
    if (i == MAXVAR || n >= sizeof c->vars[0].name)
        return;
    if (i == c->nvar)
        c->nvar++, memcpy(c->vars[i].name, name, n), c->vars[i].name[n] = 0;
    free(c->vars[i].val);
    c->vars[i].val = strndup(s, len);
}

/* Appends s[0..n) to the regex, escaped so it matches literally. */
static void put_lit(char *re, size_t *at, const char *s, size_t n)
{
    for (size_t i = 0; i < n && *at + 8 < MAXRE; i++) {
        if (s[i] == ' ' || s[i] == '\t') {
            while (i + 1 < n && (s[i + 1] == ' ' || s[i + 1] == '\t'))
                i++;
            *at += (size_t)snprintf(re + *at, MAXRE - *at, "[ \t]+");
            continue;
        }
        if (strchr(".[]{}()\\*+?|^$", s[i]))
            re[(*at)++] = '\\';
        re[(*at)++] = s[i];
    }
    re[*at] = 0;
}

static void put_raw(char *re, size_t *at, const char *s, size_t n, int *ngroup)
{
    for (size_t i = 0; i < n && *at + 1 < MAXRE; i++) {
        if (s[i] == '(' && (i == 0 || s[i - 1] != '\\'))
            (*ngroup)++;
        re[(*at)++] = s[i];
    }
    re[*at] = 0;
}

typedef struct Capture { const char *name; size_t n; int group; } Capture;

/* Pattern -> regex text; captures get their group numbers. Returns an error
 * message or NULL. */
static const char *build_re(const Ctx *c, const char *p, char *re, Capture *cap, int *ncap)
{
    size_t at = 0;
    int ngroup = 0;
    *ncap = 0, re[0] = 0;
    while (*p) {
        const char *lit_end = p;
        while (*lit_end && strncmp(lit_end, "{{", 2) && strncmp(lit_end, "[[", 2))
            lit_end++;
        put_lit(re, &at, p, (size_t)(lit_end - p));
        if (!*(p = lit_end))
            break;
        bool is_re = p[0] == '{';
        const char *close = strstr(p + 2, is_re ? "}}" : "]]");
        if (!close)
            return is_re ? "unterminated {{" : "unterminated [[";
        const char *body = p + 2, *colon = memchr(body, ':', (size_t)(close - body));
        if (is_re) {
            put_raw(re, &at, "(", 1, &ngroup);
            put_raw(re, &at, body, (size_t)(close - body), &ngroup);
            put_raw(re, &at, ")", 1, &ngroup);
        } else if (colon) {
            if (*ncap == MAXCAP)
                return "too many captures";
            cap[*ncap] = (Capture){body, (size_t)(colon - body), ngroup + 1};
            (*ncap)++;
            put_raw(re, &at, "(", 1, &ngroup);
            put_raw(re, &at, colon + 1, (size_t)(close - colon - 1), &ngroup);
            put_raw(re, &at, ")", 1, &ngroup);
        } else {
            const char *v = var_get(c, body, (size_t)(close - body));
            if (!v)
                return "use of an undefined variable";
            put_lit(re, &at, v, strlen(v));
        }
        p = close + 2;
    }
    return at + 8 >= MAXRE ? "pattern too long" : NULL;
}

/* Tries rx on line l from byte `from` on; skips matches overlapping
 * avoid[] (earlier DAG matches). */
static bool match_line(const Ctx *c, regex_t *rx, int l, int from, const Hit *avoid, int navoid,
                       Hit *hit, regmatch_t *m, int *base)
{
    int len = (int)strlen(c->in[l]);
    while (from <= len &&
           regexec(rx, c->in[l] + from, MAXCAP + 32, m, from ? REG_NOTBOL : 0) == 0) {
        *hit = (Hit){l, from + (int)m[0].rm_so, from + (int)m[0].rm_eo};
        *base = from;
        bool overlaps = false;
        for (int a = 0; a < navoid; a++)
            overlaps |= avoid[a].line == l && hit->so < avoid[a].eo && avoid[a].so < hit->eo;
        if (!overlaps)
            return true;
        from = hit->so + 1;
    }
    return false;
}

/* First match of k at or after (line, col) on lines [line, end), not
 * overlapping avoid[]. Binds k's captures on success; *err is set when the
 * pattern itself is bad. */
static bool search(Ctx *c, const Check *k, int line, int col, int end, const Hit *avoid,
                   int navoid, Hit *hit, const char **err)
{
    char re[MAXRE];
    Capture cap[MAXCAP];
    int ncap, base = 0;
    regex_t rx;
    regmatch_t m[MAXCAP + 32];
    if ((*err = build_re(c, k->pat, re, cap, &ncap)))
        return false;
    if (regcomp(&rx, re, REG_EXTENDED)) {
        *err = "not a valid POSIX extended regex";
        return false;
    }
    bool found = false;
    for (int l = line; l < end && !found; l++)
        found = match_line(c, &rx, l, l == line ? col : 0, avoid, navoid, hit, m, &base);
    regfree(&rx);
    for (int i = 0; found && i < ncap; i++) {
        const regmatch_t *g = &m[cap[i].group];
        if (g->rm_so >= 0)
            var_set(c, cap[i].name, cap[i].n, c->in[hit->line] + base + g->rm_so,
                    (size_t)(g->rm_eo - g->rm_so));
    }
    return found;
}

/* CHECK-NOTs k[0..n) must not match between (l0,c0) and (l1,c1). */
static int check_nots(Ctx *c, const Check *k, int n, int l0, int c0, int l1, int c1)
{
    for (int i = 0; i < n; i++) {
        Hit h;
        const char *err;
        bool found = search(c, &k[i], l0, c0, l1 + 1, NULL, 0, &h, &err);
        if (err)
            return fail(c, &k[i], err, -1);
        if (found && (h.line < l1 || (h.line == l1 && h.eo <= c1)))
            return fail(c, &k[i], "excluded string found in input", h.line);
    }
    return 0;
}

/* One positive check at the position; updates it. */
static int check_one(Ctx *c, const Check *k, int *line, int *col, int end, int prev_line,
                     Hit *hit)
{
    Hit h;
    const char *err = NULL;
    bool found;
    if (k->kind == K_EMPTY) {
        found = prev_line + 1 < end && c->in[prev_line + 1][0] == 0;
        h = (Hit){prev_line + 1, 0, 0};
    } else if (k->kind == K_NEXT) {
        found = prev_line + 1 < end && search(c, k, prev_line + 1, 0, prev_line + 2, NULL, 0,
                                              &h, &err);
    } else if (k->kind == K_SAME) {
        found = search(c, k, *line, *col, *line + 1, NULL, 0, &h, &err);
    } else {
        found = search(c, k, *line, *col, end, NULL, 0, &h, &err);
    }
    if (err)
        return fail(c, k, err, -1);
    if (!found) {
        int at = k->kind == K_NEXT || k->kind == K_EMPTY ? prev_line + 1 : *line;
        return fail(c, k,
                    k->kind == K_NEXT    ? "expected string not found on the next line"
                    : k->kind == K_EMPTY ? "the next line is not empty"
                                         : "expected string not found in input",
                    at < end ? at : -1);
    }
    *line = h.line, *col = h.eo, *hit = h;
    return 0;
}

/* A run of DAG checks: all match from the position, without overlap; the
 * position moves past the last of them. *first gets the earliest match. */
static int check_dags(Ctx *c, const Check *k, int n, int *line, int *col, int end, Hit *first)
{
    Hit hits[64] = {{0, 0, 0}};
    int nh = 0, l = *line, co = *col;
    for (int i = 0; i < n; i++) {
        const char *err = NULL;
        if (nh == 64 || !search(c, &k[i], l, co, end, hits, nh, &hits[nh], &err))
            return fail(c, &k[i], nh == 64 ? "too many DAG lines" : err ? err
                                 : "expected string not found in input", err ? -1 : l);
        nh++;
    }
    *first = hits[0];
    for (int i = 0; i < nh; i++) {
        Hit h = hits[i];
        if (h.line < first->line || (h.line == first->line && h.so < first->so))
            *first = h;
        if (h.line > *line || (h.line == *line && h.eo > *col))
            *line = h.line, *col = h.eo;
    }
    return 0;
}

/* The checks k[0..n) of one label block, on input lines [begin, end). */
static int check_block(Ctx *c, const Check *k, int n, int begin, int end)
{
    int line = begin, col = 0, prev = begin - 1, i = 0;
    while (i < n) {
        int nn = 0, nd = 0;
        while (i + nn < n && k[i + nn].kind == K_NOT)
            nn++;
        int l0 = line, c0 = col;
        Hit first;
        if (i + nn == n) /* trailing NOTs: up to the block's end */
            return check_nots(c, &k[i], nn, l0, c0, end - 1, 1 << 30);
        const Check *pos = &k[i + nn];
        if (pos->kind == K_DAG) {
            while (i + nn + nd < n && k[i + nn + nd].kind == K_DAG)
                nd++;
            if (check_dags(c, pos, nd, &line, &col, end, &first))
                return 1;
        } else {
            if (check_one(c, pos, &line, &col, end, prev, &first))
                return 1;
            nd = 1;
        }
        if (check_nots(c, &k[i], nn, l0, c0, first.line, first.so))
            return 1;
        prev = line;
        i += nn + nd;
    }
    return 0;
}

/* Label blocks: each CHECK-LABEL matches in order; its block runs to the
 * next label's line. Checks before the first label search from the start. */
static int check_piece(Ctx *c, const Check *k, int n, int nline)
{
    int *at = calloc((size_t)n + 1, sizeof *at), line = 0, rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        Hit h;
        const char *err = NULL;
        if (k[i].kind != K_LABEL)
            continue;
        if (!search(c, &k[i], line, 0, nline, NULL, 0, &h, &err))
            rc = fail(c, &k[i], err ? err : "label not found in input", err ? -1 : line);
        at[i] = line = h.line;
        line++;
    }
    int start = 0;
    for (int i = 0; i <= n && !rc; i++) {
        if (i < n && (k[i].kind != K_LABEL || i == start))
            continue;
        int begin = start < n && k[start].kind == K_LABEL ? at[start] : 0;
        rc = check_block(c, &k[start], i - start, begin, i < n ? at[i] : nline);
        start = i;
    }
    free(at);
    return rc;
}

static bool is_separator(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\r'))
        n--;
    return n == 8 && !strncmp(s, "// -----", 8);
}

/* The directive on one line, if any. */
static bool parse_directive(char *s, int line, Check *k)
{
    static const char *const suffix[] = {":", "-NEXT:", "-SAME:", "-EMPTY:", "-NOT:", "-DAG:",
                                         "-LABEL:"};
    size_t np = strlen(prefix);
    for (char *p = strstr(s, prefix); p; p = strstr(p + 1, prefix)) {
        if (p > s && (p[-1] == '_' || p[-1] == '-' || (p[-1] >= 'A' && p[-1] <= 'Z')))
            continue;
        for (int i = 0; i < 7; i++) {
            size_t n = strlen(suffix[i]);
            if (strncmp(p + np, suffix[i], n))
                continue;
            char *pat = p + np + n, *e = pat + strlen(pat);
            while (*pat == ' ' || *pat == '\t')
                pat++;
            while (e > pat && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
                *--e = 0;
            *k = (Check){(Kind)i, pat, line};
            return true;
        }
    }
    return false;
}

/* Whole stream, cut into NUL-terminated lines (*n of them); *buf gets the
 * one allocation the lines point into. */
static char **read_lines(FILE *f, int *n, char **buf)
{
    size_t cap = 1 << 16, len = 0, got;
    char *b = malloc(cap);
    while (b && (got = fread(b + len, 1, cap - len - 1, f)) > 0) {
        if ((len += got) + 1 == cap) {
            char *bigger = realloc(b, cap *= 2);
            if (!bigger)
                free(b);
            b = bigger;
        }
    }
    if (!(*buf = b))
        return NULL;
    b[len] = 0;
    int nl = 1;
    for (size_t i = 0; i < len; i++)
        nl += b[i] == '\n';
    char **lines = malloc(((size_t)nl + 1) * sizeof *lines);
    *n = 0;
    for (char *p = b; lines && *p;) {
        char *e = strchr(p, '\n');
        lines[(*n)++] = p;
        if (!e)
            break;
        *e = 0, p = e + 1;
    }
    return lines;
}

/* Checks piece after piece; returns the exit status. */
static int check_all(Ctx *c, char **cl, int ncl, char **in, int nin)
{
    Check *k = calloc((size_t)ncl + 1, sizeof *k);
    int ck = 0, ik = 0, rc = 0, nchecks = 0;
    while (k && ck <= ncl && !rc) { /* one piece of each per iteration */
        int nk = 0, i0 = ik;
        for (; ck < ncl && !is_separator(cl[ck]); ck++)
            nk += parse_directive(cl[ck], ck + 1, &k[nk]);
        while (ik < nin && !(ck < ncl && is_separator(in[ik])))
            ik++;
        if (ck < ncl && ik == nin) {
            fprintf(stderr, "%s:%d: error: the input has fewer `// -----` pieces than the "
                    "check file\n", c->check_file, ck + 1);
            rc = 1;
            break;
        }
        c->in = in + i0, c->in_first = i0 + 1;
        rc = check_piece(c, k, nk, ik - i0);
        for (int v = 0; v < c->nvar; v++)
            free(c->vars[v].val), c->vars[v].val = NULL;
        c->nvar = 0, nchecks += nk, ck++, ik++;
    }
    if (!rc && nchecks == 0) {
        fprintf(stderr, "%s: error: no %s lines\n", c->check_file, prefix);
        rc = 1;
    }
    if (!k)
        return 2;
    free(k);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strncmp(argv[1], "--check-prefix=", 15) && argv[1][15])
        prefix = argv[1] + 15, argv++, argc--;
    if (argc != 2) {
        fprintf(stderr, "usage: nasc-check [--check-prefix=P] CHECKFILE < input\n");
        return 2;
    }
    FILE *cf = fopen(argv[1], "rb");
    int ncl = 0, nin = 0, rc = 2;
    char *cbuf = NULL, *ibuf = NULL;
    char **cl = cf ? read_lines(cf, &ncl, &cbuf) : NULL, **in = read_lines(stdin, &nin, &ibuf);
    Ctx *c = calloc(1, sizeof *c);
    if (cf)
        fclose(cf);
    if (cl && in && c) {
        c->check_file = argv[1];
        rc = check_all(c, cl, ncl, in, nin);
    } else {
        fprintf(stderr, "nasc-check: cannot read '%s' or stdin\n", argv[1]);
    }
    free(c), free(cl), free(in), free(cbuf), free(ibuf);
    return rc;
}
