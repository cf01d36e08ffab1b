/* elementwise.c — shape rules of relu, leaky_relu and add (no broadcasting). */
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
