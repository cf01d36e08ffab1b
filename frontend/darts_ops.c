/* darts_ops.c — the DARTS primitive table (quark0/darts cnn/operations.py).
 *
 * One row per primitive name the search space can emit. kernel/pad/dilation
 * are those of the op's spatial convolution or pooling window, so the
 * lowering does not re-derive them from the name. Ops without a window
 * (none, skip_connect) have kernel 0; at stride 2, skip_connect becomes
 * FactorizedReduce and none becomes Zero(stride), both handled by the
 * lowering from the kind alone.
 */
#include "frontend/frontend.h"

#include <string.h>

const DartsOp fe_darts_ops[] = {
    /* name            kind             kernel pad dilation  (operations.py) */
    {"none",           DK_NONE,         0,     0,  1}, /* Zero(stride) */
    {"max_pool_3x3",   DK_MAXPOOL,      3,     1,  1}, /* MaxPool2d(3, s, 1) */
    {"avg_pool_3x3",   DK_AVGPOOL,      3,     1,  1}, /* count_include_pad=False */
    {"skip_connect",   DK_SKIP,         0,     0,  1}, /* Identity / FactorizedReduce */
    {"sep_conv_3x3",   DK_SEPCONV,      3,     1,  1}, /* SepConv(k, pad k/2) */
    {"sep_conv_5x5",   DK_SEPCONV,      5,     2,  1},
    {"sep_conv_7x7",   DK_SEPCONV,      7,     3,  1},
    {"dil_conv_3x3",   DK_DILCONV,      3,     2,  2}, /* DilConv(3, pad 2, dil 2) */
    {"dil_conv_5x5",   DK_DILCONV,      5,     4,  2}, /* DilConv(5, pad 4, dil 2) */
    {"conv_7x1_1x7",   DK_CONV7x1_1x7,  7,     3,  1}, /* (1,7) pad (0,3) then (7,1) pad (3,0) */
    {NULL,             DK_NONE,         0,     0,  0},
};

const DartsOp *fe_darts_op(const char *name)
{
    if (!name)
        return NULL;
    for (const DartsOp *op = fe_darts_ops; op->name; op++)
        if (strcmp(op->name, name) == 0)
            return op;
    return NULL;
}
