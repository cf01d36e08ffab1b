/* elementwise.c — shape rules of relu, leaky_relu, add (no broadcasting),
 * softmax and scale. */
#include "../internal.h"

#include <math.h>

bool infer_relu(const Graph *g, const Node *n, Shape *out, Diag *d)
{
    (void)d;
    *out = *in_shape(g, n, 0);
    return true;
}

/* The slope must be finite: the C emitter writes it as a float literal. */
bool infer_leaky_relu(const Graph *g, const Node *n, Shape *out, Diag *d)
{
    if (!isfinite(n->attrs.leaky.slope)) {
        diag_error(d, n->loc, "leaky_relu: slope must be finite");
        return false;
    }
    *out = *in_shape(g, n, 0);
    return true;
}

bool infer_add(const Graph *g, const Node *n, Shape *out, Diag *d)
{
    if (!need_shape(g, n, 1, in_shape(g, n, 0), d))
        return false;
    *out = *in_shape(g, n, 0);
    return true;
}

/* Search ops. softmax normalises along the last axis, which must be
 * non-empty; scale multiplies x by one element of s. */
bool infer_softmax(const Graph *g, const Node *n, Shape *out, Diag *d)
{
    const Shape *x = in_shape(g, n, 0);
    if (x->rank < 1 || x->d[x->rank - 1] < 1) {
        diag_error(d, n->loc, "softmax: operand needs a non-empty last axis");
        return false;
    }
    *out = *x;
    return true;
}

bool infer_scale(const Graph *g, const Node *n, Shape *out, Diag *d)
{
    int64_t ns = shape_numel(in_shape(g, n, 1));
    if (n->attrs.index.index < 0 || n->attrs.index.index >= ns) {
        diag_error(d, n->loc, "scale: index %d outside the %lld elements of operand 1",
                   n->attrs.index.index, (long long)ns);
        return false;
    }
    *out = *in_shape(g, n, 0);
    return true;
}
