/* norm.c — shape rule of eval-mode BatchNorm2d: x, mean, var [, gamma, beta],
 * every per-channel operand [C]. Four operands (gamma without beta) is an
 * error: torch's affine BN has both or neither. */
#include "../internal.h"

bool infer_batchnorm(const Graph *g, const Node *n, Shape *out, Diag *d)
{
    if (!need_rank(g, n, 0, 4, d))
        return false;
    if (n->nin == 4) {
        diag_error(d, n->loc, "batchnorm: takes x, mean, var and optionally both gamma, beta");
        return false;
    }
    if (!(n->attrs.bn.eps > 0)) {
        diag_error(d, n->loc, "batchnorm: eps must be > 0");
        return false;
    }
    const Shape *x = in_shape(g, n, 0);
    Shape c = shape_make(1, &x->d[1]);
    for (uint32_t i = 1; i < n->nin; i++)
        if (!need_shape(g, n, i, &c, d))
            return false;
    *out = *x;
    return true;
}
