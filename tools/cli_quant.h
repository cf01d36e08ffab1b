/* cli_quant.h — `nasc compile --quantize int8 --calib DIR` (cli_quant.c). */
#ifndef NASC_TOOLS_CLI_QUANT_H
#define NASC_TOOLS_CLI_QUANT_H

#include "codegen/codegen.h"

#include <stdio.h>

/* Reads DIR's calibration inputs (*.bin: raw f32, a multiple of the graph
 * input's size; *.png / *.jpg / *.jpeg: resized to the input's H x W and
 * normalised with the ImageNet mean/std, as search/data.h), calibrates g,
 * plans int8 and writes the int8 C to c_out / h_out. Files are taken in
 * name order. Returns false after reporting to d. */
bool cli_quant_emit(const Graph *g, const CgOptions *opt, const char *calib_dir, FILE *c_out,
                    FILE *h_out, Diag *d);

#endif
