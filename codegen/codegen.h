/* codegen.h — IR to one dependency-free C file and its header.
 *
 * The emitted .c includes only <stddef.h>, <stdint.h> and (host target)
 * <string.h>, keeps weights as `static const` arrays, has no mutable globals and calls
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
#include "passes/passes.h"

/* What the emitted file is built for. A target changes alignment, attributes
 * and includes (the table in emit_c.c; docs/firmware.md), and which kernels
 * large convs may use: host and generic run strided and dilated dense convs
 * with the packed kernel (emit_c_pack.c: same sums in the same order, so the
 * same numbers as the firmware targets' kernel), and only the host runs
 * Winograd under CG_CONV_AUTO (emit_c_wino.c: it rounds differently; with
 * CG_CONV_DIRECT every target gives the same numbers). */
typedef enum CgTarget {
    CG_TARGET_HOST,      /* default: workspace aligned to 64 (cache line, AVX-512) */
    CG_TARGET_GENERIC,   /* plain C99 for any compiler: no attributes, align 16 */
    CG_TARGET_CORTEX_M4, /* freestanding, weights and workspace aligned to 8 */
    CG_TARGET_CORTEX_M7, /* freestanding, aligned to 32 (the M7's D-cache line) */
    CG_NTARGET
} CgTarget;

/* "host", "generic", "cortex-m4", "cortex-m7". */
const char *cg_target_name(CgTarget t);
/* The target called `name`; false if there is none. */
bool cg_target_parse(const char *name, CgTarget *t);
/* NAME_WORKSPACE_ALIGN of target t, in bytes. */
int cg_target_workspace_align(CgTarget t);

/* How dense 3x3 stride-1 convolutions are computed (CgOptions.conv). */
typedef enum CgConv {
    CG_CONV_AUTO,      /* default: Winograd where a size rule says so (host target,
                          no max_flash; emit_c_wino.c, wino_tile), else direct */
    CG_CONV_DIRECT,    /* never Winograd: every output the direct sum of the taps */
    CG_CONV_WINOGRAD,  /* Winograd F(4x4, 3x3) for every groups-1, 3x3, stride-1
                          conv (dilated too) without pre (~720 KiB of workspace
                          scratch per conv, planned with the tensors; the transformed
                          weights are not in max_flash's count) */
    CG_CONV_WINOGRAD2, /* the same with F(2x2, 3x3): rounds less, 16/9 the multiplies */
    CG_NCONV
} CgConv;

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
    CgTarget target;         /* alignment/attributes/includes; 0 = host */
    int64_t max_ram;         /* > 0: refuse a plan whose workspace exceeds this
                                many bytes (the message names the largest
                                tensors live at the peak) */
    int64_t max_flash;       /* > 0: refuse when the weight arrays the file
                                defines (referenced params and BatchNorm
                                scales) exceed this many bytes in total; the
                                message names the largest */
    CgConv conv;             /* dense 3x3 stride-1 convs: auto, direct, winograd(2) */
} CgOptions;

/* Writes the C file to c_out and the header to h_out. Every param must
 * have data. Returns false after reporting to d (also when the plan breaks
 * o->max_ram or o->max_flash: one message, nothing written). */
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

/* Bytes of workspace the code cg_emit_c emits for g under o (NULL: the
 * defaults) needs: its tensors and its kernels' scratch. */
int64_t cg_workspace_bytes(const Graph *g, const CgOptions *o);
/* The workspace plan cg_emit_c uses for g under o (NULL: the defaults):
 * tensor offsets plus per-node scratch (Winograd's tiles); arrays from a. */
void cg_plan_workspace(const Graph *g, const CgOptions *o, Arena *a, MemPlan *plan);

#endif
