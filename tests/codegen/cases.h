/* cases.h — the graphs test_emit_c compiles, and the refusal checks. */
#ifndef NASC_TESTS_CODEGEN_CASES_H
#define NASC_TESTS_CODEGEN_CASES_H

#include "ir/ir.h"

typedef struct Case {
    const char *name;   /* also the emitted symbol prefix */
    const char *banner;
    Graph *(*build)(Arena *a);
    bool zero_input;    /* feed zeros instead of random values */
    bool exact;         /* compare bit-for-bit value equality */
    bool asan;          /* also run under the sanitizers */
    /* Extra checks on the emitted .c text; adds to *failures. */
    void (*check_text)(const Graph *g, const char *text, int *failures);
} Case;

extern const Case cases[]; /* terminated by {NULL} */

/* fused.c: the case of fused convolutions and its text check. */
Graph *build_fused(Arena *a);
void text_fused(const Graph *g, const char *text, int *failures);

/* strided.c: the strided pointwise and linear cases, and the text check. */
Graph *build_strided(Arena *a);
void text_strided(const Graph *g, const char *text, int *failures);
Graph *build_linear32(Arena *a);
void text_linear32(const Graph *g, const char *text, int *failures);

/* wide.c: the blocked resize and the pointwise prefetch cases, text checks. */
Graph *build_resize_wide(Arena *a);
void text_resize_wide(const Graph *g, const char *text, int *failures);
Graph *build_pw_prefetch(Arena *a);
void text_pw_prefetch(const Graph *g, const char *text, int *failures);
Graph *build_pw_packed(Arena *a);
void text_pw_packed(const Graph *g, const char *text, int *failures);

/* Seeded input for case k: n floats, caller frees. */
float *case_input(const Case *k, int64_t n);
/* Graphs and options cg_emit_c must refuse; returns the failure count. */
int test_refusals(void);

#endif
