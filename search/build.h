/* build.h — IR builders the two search supernets share (darts_search.c,
 * adl_search.c).
 *
 * They build on the frontend's operations.py builders (Lower, fe_lw_node,
 * fe_lw_param, fe_lw_conv, fe_lw_batchnorm_eps, ... in
 * frontend/lower_internal.h), which already give the IR of a conv, an
 * affine BN or a ReLU with params named by state_dict key. What a supernet
 * adds is here: every BN inside a search cell is BatchNorm2d(C,
 * affine=False), running statistics only, and each MixedOp candidate is
 * weighted with a `scale` node and summed with `add`. Same contract as the
 * fe_lw_ builders: a 0 operand or an earlier failure (L->failed) adds
 * nothing and gives 0, so a cell is built by chained calls and checked once.
 */
#ifndef NASC_SEARCH_BUILD_H
#define NASC_SEARCH_BUILD_H

#include "frontend/lower_internal.h"

#define SEARCH_BN_EPS 1e-5f /* BatchNorm2d's default eps */

/* The params of BatchNorm2d(c, affine=False) at prefix:
 * st[0] "<prefix>.running_mean", st[1] "<prefix>.running_var". */
void search_lw_bn_stats_params(Lower *L, const char *prefix, int64_t c, ValueId st[2]);
/* Eval BN of x with the statistics st, eps SEARCH_BN_EPS, no affine. */
ValueId search_lw_bn_stats(Lower *L, ValueId x, const ValueId st[2]);
/* BatchNorm2d(C, affine=False) on x: its params at prefix, then the node. */
ValueId search_lw_bn_plain(Lower *L, ValueId x, const char *prefix);
/* ReLUConvBN(C_in, oc, 1, 1, 0, affine=False): op.0 ReLU, op.1 conv, op.2 BN. */
ValueId search_lw_relu_conv_bn(Lower *L, ValueId x, const char *prefix, int64_t oc);
/* sum + x, or x itself when sum is 0 (the first term of a running sum). */
ValueId search_lw_add(Lower *L, ValueId sum, ValueId x);
/* x * s.flat[index]: one softmaxed architecture weight times a candidate. */
ValueId search_lw_scale(Lower *L, ValueId x, ValueId s, int index);

#endif
