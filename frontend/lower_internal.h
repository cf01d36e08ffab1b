/* lower_internal.h — IR builders shared by the macro-network lowerings
 * (lower_darts.c, lower_autodeeplab.c) and the search supernets, through
 * search/build.h. Not part of the frontend API (frontend.h): nothing else
 * outside frontend/ includes it.
 *
 * Both networks are made of the same operations.py modules (ReLUConvBN,
 * SepConv, DilConv, FactorizedReduce, pools, Zero, Identity): the builders
 * here reproduce those modules op by op and name every param by its
 * state_dict key "<prefix>.<module index>.<tensor>". A builder given a 0
 * operand, or called after a failure, returns 0 without adding anything, so
 * a lowering can chain calls and check once.
 */
#ifndef NASC_FRONTEND_LOWER_INTERNAL_H
#define NASC_FRONTEND_LOWER_INTERNAL_H

#include "frontend/frontend.h"

typedef struct Lower {
    Graph *g;
    Diag *d;
    Loc loc;     /* where nodes being built come from */
    bool failed; /* a node could not be built; stop quietly, d has why */
} Lower;

ValueId fe_lw_param(Lower *L, Shape s, const char *name);
/* ir_graph_add_node at L->loc; 0 (and L->failed) if its shape rule fails. */
ValueId fe_lw_node(Lower *L, Op op, const ValueId *in, uint32_t nin, const Attrs *a);
int64_t fe_lw_channels(const Lower *L, ValueId x);
/* Names a value for traces (no-op on 0). */
void fe_lw_name(Lower *L, ValueId v, const char *name);
ValueId fe_lw_relu(Lower *L, ValueId x);
/* Auto-DeepLab's Cell.scale_dimension: int((d - 1) * s + 1) for odd d,
 * int(d * s) for even d, s = 0.5 (down) or 2 (up); exact in integers. */
int64_t fe_lw_scale_dim(int64_t d, bool up);
/* F.interpolate(x, (h, w), mode='bilinear', align_corners=True); at the
 * same size that is an exact copy, so no node is added. */
ValueId fe_lw_resize(Lower *L, ValueId x, int64_t h, int64_t w);

/* nn.Conv2d(C_in, oc, (kh, kw), stride=(sh, sw), padding=(ph, pw),
 * dilation=dil, groups, bias=False); weight at "<prefix>.weight". */
ValueId fe_lw_conv(Lower *L, ValueId x, const char *prefix, int64_t oc, int kh, int kw, int sh,
                   int sw, int ph, int pw, int dil, int groups);
/* Square nn.Conv2d(C_in, oc, k, stride, padding=pad, dilation=dil), groups
 * 1, with "<prefix>.bias" when `bias`. */
ValueId fe_lw_conv_sq(Lower *L, ValueId x, const char *prefix, int64_t oc, int k, int stride,
                      int pad, int dil, bool bias);
/* nn.BatchNorm2d(C, affine=True), eval mode, eps 1e-5. */
ValueId fe_lw_batchnorm(Lower *L, ValueId x, const char *prefix);
ValueId fe_lw_batchnorm_eps(Lower *L, ValueId x, const char *prefix, float eps);

/* InPlaceABN(Sync)(C, eps): eval BatchNorm then leaky ReLU, slope 0.01 (the
 * defaults of mapillary/inplace_abn's ABN). Its tensors sit on the module
 * itself: "<prefix>.{weight,bias,running_mean,running_var}". */
#define FE_ABN_EPS 1e-5f
#define FE_ABN_SLOPE 0.01f
ValueId fe_lw_abn(Lower *L, ValueId x, const char *prefix, float eps);
/* ReLUConvBN(C_in, oc, 1, 1, 0, use_ABN=True): op.0 conv, op.1 ABN (no ReLU
 * in front: the ABN's activation replaces it). */
ValueId fe_lw_conv_abn(Lower *L, ValueId x, const char *prefix, int64_t oc);
/* k x k window, stride, padding pad on all sides; avg pools exclude the
 * padding from the divisor (count_include_pad=False, as operations.py). */
ValueId fe_lw_pool(Lower *L, Op op, ValueId x, int k, int stride, int pad);
/* ReLUConvBN(C_in, oc, 1, 1, 0): op.0 ReLU, op.1 conv, op.2 BN. */
ValueId fe_lw_relu_conv_bn(Lower *L, ValueId x, const char *prefix, int64_t oc);
/* FactorizedReduce(C_in, oc): relu; cat(conv_1(x), conv_2(x[:, :, 1:, 1:])); bn. */
ValueId fe_lw_factorized_reduce(Lower *L, ValueId x, const char *prefix, int64_t oc);
/* OPS[o->name](C, stride, affine=True) applied to x, C = x's channels. */
ValueId fe_lw_edge(Lower *L, ValueId x, const DartsOp *o, int stride, const char *prefix);
/* OPS[o->name](C, 1, affine=True, use_ABN=True): DilConv is op.0 dw, op.1 pw,
 * op.2 ABN and nasc's atrous op.0 conv, op.1 ABN; SepConv, which the
 * Auto-DeepLab OPS table builds without use_ABN, and the ops without a norm
 * are as fe_lw_edge. */
ValueId fe_lw_edge_abn(Lower *L, ValueId x, const DartsOp *o, const char *prefix);

#endif
