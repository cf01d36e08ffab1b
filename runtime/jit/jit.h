/* jit.h — compile C source held in memory into callable code, in process.
 *
 * Two backends behind one API, chosen when nasc is configured:
 *  - clang + LLVM ORC (jit_clang.cpp, NASC_WITH_LLVM=ON and LLVM 16 found):
 *    the source is parsed by clang's CompilerInstance from memory buffers,
 *    optimised like `clang -O3 -march=native` (host CPU name and features,
 *    loop and SLP vectorisers on), and linked into an ORC LLJIT;
 *  - cc (jit_cc.c, otherwise): the files are written to a private temp
 *    directory, built with `cc -O3 -march=native -shared -fPIC` and dlopen'd.
 * The compiler's diagnostics come back through the Diag, one error per
 * "file:line:col: error: text" line (file names as given in JitFile), never
 * printed. Handles are independent: the same symbol may live in many.
 */
#ifndef NASC_RUNTIME_JIT_JIT_H
#define NASC_RUNTIME_JIT_JIT_H

#include "ir/ir.h"

/* One in-memory file. files[0] is the translation unit; the others are
 * headers it may #include "by name" (e.g. "net.h"). Names are plain file
 * names: no '/', not empty. */
typedef struct JitFile {
    const char *name;
    const char *text;
    size_t len;
} JitFile;

typedef struct Jit Jit;

/* Compiles files[0] (C11 with GNU extensions allowed, as the compilers'
 * defaults) to code in memory. Returns NULL after reporting to d. */
Jit *jit_compile(const JitFile *files, int nfiles, Diag *d);
/* Address of an external symbol of the compiled code, or NULL after
 * reporting to d. With the clang backend the first lookup generates the
 * machine code, so time compile + lookup together. */
void *jit_lookup(Jit *j, const char *symbol, Diag *d);
/* Frees the code; pointers from jit_lookup die with it. NULL is fine. */
void jit_free(Jit *j);
/* "clang 16.0.6 ORC LLJIT (znver3)" or "cc -O3 -march=native + dlopen". */
const char *jit_backend(void);

#endif
