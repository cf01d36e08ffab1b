/* elementwise.c — shape rules of relu and add (no broadcasting). */
#include "../internal.h"

bool infer_relu(const Graph *g, const Node *n, Shape *out, Diag *d)
{
    (void)d;
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
