/* codegen.h — IR to one dependency-free C file and its header.
 *
 * The emitted .c includes only <stddef.h>, <stdint.h> and <string.h>,
 * keeps weights as `static const` arrays, has no mutable globals and calls
 * no malloc, libm or stdio. Its one entry point is
 *   int NAME_run(const float *input, float *output, void *workspace);
 * with NAME_WORKSPACE_BYTES, NAME_INPUT_{N,C,H,W} and NAME_OUTPUT_{N,C,H,W}
 * (missing dims are 1) in NAME.h. Same graph + options => same bytes.
 * CgOptions.weights_blob selects the JIT form, which takes the weights as
 * one pointer argument instead (cg_weights_blob).
 */
#ifndef NASC_CODEGEN_CODEGEN_H
#define NASC_CODEGEN_CODEGEN_H

#include "ir/ir.h"

typedef struct CgOptions {
    const char *name;        /* symbol prefix, e.g. "net" */
    const char *header_name; /* what the .c #includes, e.g. "net.h" */
    const char *banner;      /* comment lines for the header of both files
                                (genotype, weights source); may be NULL */
    bool weights_blob;       /* JIT mode: no weight literals; the entry point is
                                NAME_run_blob(input, output, workspace, weights)
                                and reads every weight from one blob that
                                cg_weights_blob fills (see below) */
    bool profile;            /* with weights_blob: the entry point is
                                NAME_run_blob_prof(input, output, workspace,
                                weights, prof, prof_ctx) and calls
                                prof(prof_ctx, k) before the k-th computing
                                node (graph order, params skipped) and
                                prof(prof_ctx, -1) at the end */
} CgOptions;

/* Writes the C file to c_out and the header to h_out. Every param must
 * have data. Returns false after reporting to d. */
bool cg_emit_c(const Graph *g, const CgOptions *o, FILE *c_out, FILE *h_out, Diag *d);

/* Blob mode (o->weights_blob): the file has no weight arrays, so its size
 * and compile time do not grow with the parameter count. NAME_run_blob
 * names each weight (and each BatchNorm scale) as a local pointer
 *   const float *const w_<name> = weights + <offset>;
 * under the very identifiers the firmware file gives its arrays, so the
 * kernels and the statements after the argument checks are byte-identical
 * to cg_emit_c without blob mode. NAME.h defines NAME_BLOB_FLOATS; NAME_run_blob
 * returns -3 for a NULL weights pointer (after the workspace checks).
 *
 * cg_weights_blob lays the blob out exactly as the blob-mode file expects
 * for the same graph and options: referenced params in value order, then
 * BatchNorm scales in node order, each 64-byte aligned (zero padding).
 * *blob is aligned_alloc'd (64 bytes; release with free()), *nfloats its
 * length. Returns false after reporting to d. */
bool cg_weights_blob(const Graph *g, const CgOptions *o, float **blob, int64_t *nfloats,
                     Diag *d);

/* Bytes of workspace the emitted code needs for g. */
int64_t cg_workspace_bytes(const Graph *g);

#endif
