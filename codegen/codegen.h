/* codegen.h — IR to one dependency-free C file and its header.
 *
 * The emitted .c includes only <stddef.h>, <stdint.h> and <string.h>,
 * keeps weights as `static const` arrays, has no mutable globals and calls
 * no malloc, libm or stdio. Its one entry point is
 *   int NAME_run(const float *input, float *output, void *workspace);
 * with NAME_WORKSPACE_BYTES, NAME_INPUT_{N,C,H,W} and NAME_OUTPUT_{N,C,H,W}
 * (missing dims are 1) in NAME.h. Same graph + options => same bytes.
 */
#ifndef NASC_CODEGEN_CODEGEN_H
#define NASC_CODEGEN_CODEGEN_H

#include "ir/ir.h"

typedef struct CgOptions {
    const char *name;        /* symbol prefix, e.g. "net" */
    const char *header_name; /* what the .c #includes, e.g. "net.h" */
    const char *banner;      /* comment lines for the header of both files
                                (genotype, weights source); may be NULL */
} CgOptions;

/* Writes the C file to c_out and the header to h_out. Every param must
 * have data. Returns false after reporting to d. */
bool cg_emit_c(const Graph *g, const CgOptions *o, FILE *c_out, FILE *h_out, Diag *d);

/* Bytes of workspace the emitted code needs for g. */
int64_t cg_workspace_bytes(const Graph *g);

#endif
