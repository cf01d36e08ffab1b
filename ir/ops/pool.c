/* pool.c — shape rules of max/avg pooling and global average pooling.
 * Pooling windows use the same arithmetic as convolution (dilation 1). */
#include "../internal.h"

static bool infer_pool(const Graph *g, const Node *n, Shape *out, Diag *d)
{
    if (!need_rank(g, n, 0, 4, d))
        return false;
    const Pool2dAttrs *a = &n->attrs.pool;
    const Shape *x = in_shape(g, n, 0);
    for (int i = 0; i < 2; i++) {
        if (a->kernel[i] < 1 || a->stride[i] < 1) {
            diag_error(d, n->loc, "%s: kernel and stride must be >= 1", op_info[n->op].name);
            return false;
        }
        /* as torch: padding at most half the window, so no window is all pad */
        if (a->pad[i] < 0 || a->pad[i + 2] < 0 || a->pad[i] > a->kernel[i] / 2 ||
            a->pad[i + 2] > a->kernel[i] / 2) {
            diag_error(d, n->loc, "%s: padding must be between 0 and half the kernel",
                       op_info[n->op].name);
            return false;
        }
    }
    int64_t oh = window_out(x->d[2], a->pad[0], a->pad[2], a->kernel[0], a->stride[0], 1);
    int64_t ow = window_out(x->d[3], a->pad[1], a->pad[3], a->kernel[1], a->stride[1], 1);
    if (oh < 1 || ow < 1) {
        diag_error(d, n->loc, "%s: window %dx%d does not fit input %lldx%lld",
                   op_info[n->op].name, a->kernel[0], a->kernel[1], (long long)x->d[2],
                   (long long)x->d[3]);
        return false;
    }
    *out = shape4(x->d[0], x->d[1], oh, ow);
    return true;
}

bool infer_maxpool2d(const Graph *g, const Node *n, Shape *out, Diag *d)
{
    return infer_pool(g, n, out, d);
}

bool infer_avgpool2d(const Graph *g, const Node *n, Shape *out, Diag *d)
{
    return infer_pool(g, n, out, d);
}

bool infer_gavgpool(const Graph *g, const Node *n, Shape *out, Diag *d)
{
    if (!need_rank(g, n, 0, 4, d))
        return false;
    const Shape *x = in_shape(g, n, 0);
    *out = shape4(x->d[0], x->d[1], 1, 1);
    return true;
}
