/* internal.h — the interface of a JIT backend (jit_clang.cpp or jit_cc.c),
 * wrapped by jit.c. Plain C types only, so the C++ shim needs no IR
 * headers: errors come back as one malloc'd text, which jit.c splits into
 * located diagnostics. */
#ifndef NASC_RUNTIME_JIT_INTERNAL_H
#define NASC_RUNTIME_JIT_INTERNAL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct JitBeFile {
    const char *name, *text;
    size_t len;
} JitBeFile;

/* Returns a backend handle, or NULL with *err = malloc'd compiler output
 * (or a description of what failed). */
void *jit_be_compile(const JitBeFile *files, int nfiles, char **err);
/* NULL with *err set when the symbol is missing or code generation fails. */
void *jit_be_lookup(void *h, const char *symbol, char **err);
void jit_be_free(void *h);
const char *jit_be_name(void);

#ifdef __cplusplus
}
#endif

#endif
