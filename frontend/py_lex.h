/* py_lex.h — the tokenizer of DARTS genotype files (py_lex.c) and the
 * parser state it shares with genotype_py.c. Internal to frontend/.
 */
#ifndef NASC_FRONTEND_PY_LEX_H
#define NASC_FRONTEND_PY_LEX_H

#include "frontend/genotype_internal.h"

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

typedef struct PyParser {
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
} PyParser;

/* The location of byte offset off (offsets must grow between calls, mostly). */
Loc py_loc_of(PyParser *P, size_t off);
/* The next token; TK_ERROR after a reported lexing error. */
Tok py_lex_next(PyParser *P);
/* Pushes back one token (at most one at a time). */
void py_lex_unget(PyParser *P, Tok t);
bool py_is_digit(unsigned char c);
bool py_is_punct(Tok t, char c);
bool py_tok_is(const PyParser *P, Tok t, const char *name);
/* "end of file", "'x'", "string '...'": tok for a message, in buf. */
const char *py_tok_desc(const PyParser *P, Tok t, char *buf, size_t size);
/* Reports "expected <what>, found <tok>" at tok; always returns false. */
bool py_expect_fail(PyParser *P, Tok t, const char *what);
bool py_expect_punct(PyParser *P, char c, const char *what);
/* p grown (doubled, arena memory) to hold more than n elements. */
void *py_grow(Arena *a, void *p, int n, int *cap, size_t elsize);
/* The value of a string token (escapes decoded unless raw); NULL after an
 * error. */
char *py_decode_string(PyParser *P, Tok t);

#endif
