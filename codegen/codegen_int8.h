/* codegen_int8.h — an int8 QPlan (passes/quantize.h) as one dependency-free
 * C file and its header (codegen/emit_c_int8.c, docs/firmware.md "int8").
 *
 * Same contract as cg_emit_c: NAME.h has NAME_INPUT_*, NAME_OUTPUT_*,
 * NAME_WORKSPACE_BYTES / _ALIGN and
 *   int NAME_run(const float *input, float *output, void *workspace);
 * (uint8_t *output for a label output). The entry point quantises the float
 * input, runs integer kernels only, and dequantises the output (or writes
 * argmax labels). Weights are int8 arrays, biases/multipliers/shifts int32.
 */
#ifndef NASC_CODEGEN_CODEGEN_INT8_H
#define NASC_CODEGEN_CODEGEN_INT8_H

#include "codegen/codegen.h"
#include "passes/quantize.h"

/* Writes NAME.c to c_out and NAME.h to h_out for the plan of g. Honours
 * o->name, header_name, banner, target, max_ram and max_flash (weights_blob
 * and profile are refused). Returns false after reporting to d. */
bool cg_emit_c_int8(const Graph *g, const QPlan *plan, const CgOptions *o, FILE *c_out,
                    FILE *h_out, Diag *d);

/* Bytes of the int8 arrays (weights, tables, parameters) the file defines. */
int64_t cg_int8_flash_bytes(const QPlan *plan);

#endif
