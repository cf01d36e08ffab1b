/* py_lex.c — tokens of Python-like genotype files: names, numbers, any
 * Python string literal, punctuation; newlines end statements only outside
 * brackets; comments and line continuations are skipped. Also the token
 * helpers and the string-literal decoder genotype_py.c's parser uses.
 */
#include "frontend/py_lex.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

/* ---- tokenizer ---- */

static bool is_name_start(unsigned char c)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

bool py_is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_name_char(unsigned char c)
{
    return is_name_start(c) || py_is_digit(c);
}

Loc py_loc_of(PyParser *P, size_t off)
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

static Tok lex_string(PyParser *P, size_t start, size_t q)
{
    const char *s = P->text;
    char quote = s[q];
    bool triple = q + 2 < P->len && s[q + 1] == quote && s[q + 2] == quote;
    size_t j = q + (triple ? 3 : 1);
    for (;;) {
        if (j >= P->len || (!triple && s[j] == '\n')) {
            diag_error(P->d, py_loc_of(P, start), "unterminated string");
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

static Tok lex_punct(PyParser *P, size_t i)
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
static size_t lex_skip_blank(PyParser *P)
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

Tok py_lex_next(PyParser *P)
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
    } else if (py_is_digit(c)) {
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

void py_lex_unget(PyParser *P, Tok t)
{
    NASC_ASSERT(!P->has_back);
    P->back = t;
    P->has_back = true;
}

/* ---- token helpers ---- */

bool py_is_punct(Tok t, char c)
{
    return t.kind == TK_PUNCT && t.ch == c;
}

bool py_tok_is(const PyParser *P, Tok t, const char *name)
{
    return t.kind == TK_NAME && t.len == strlen(name) && memcmp(P->text + t.off, name, t.len) == 0;
}

const char *py_tok_desc(const PyParser *P, Tok t, char *buf, size_t size)
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
bool py_expect_fail(PyParser *P, Tok t, const char *what)
{
    char buf[FE_SHOW_MAX + 16];
    if (t.kind != TK_ERROR)
        diag_error(P->d, py_loc_of(P, t.off), "expected %s, found %s", what,
                   py_tok_desc(P, t, buf, sizeof buf));
    return false;
}

bool py_expect_punct(PyParser *P, char c, const char *what)
{
    Tok t = py_lex_next(P);
    return py_is_punct(t, c) || py_expect_fail(P, t, what);
}

void *py_grow(Arena *a, void *p, int n, int *cap, size_t elsize)
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
char *py_decode_string(PyParser *P, Tok t)
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
            diag_error(P->d, py_loc_of(P, t.off), p ? "NUL or out-of-range character in string"
                                                  : "invalid \\x escape in string");
            return NULL;
        }
        if (byte > 0)
            *o++ = (char)byte;
    }
    *o = 0;
    return out;
}
