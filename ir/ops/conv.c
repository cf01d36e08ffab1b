/* conv.c — shape rules of the weight-carrying ops: conv2d and linear.
 *
 * conv2d follows torch.nn.functional.conv2d: x [N,IC,H,W], w [OC,IC/g,KH,KW],
 * optional bias [OC]; OH = floor((H + pt + pb - dil*(KH-1) - 1)/stride) + 1.
 * Fused forms (passes/fuse_*.c): pre and act are FusedAct values; with
 * addend=1 a last operand shaped like the result is added to it.
 */
#include "../internal.h"

static bool conv_attrs_ok(const Node *n, Diag *d)
{
    const Conv2dAttrs *a = &n->attrs.conv;
    for (int i = 0; i < 2; i++) {
        if (a->stride[i] < 1 || a->dilation[i] < 1) {
            diag_error(d, n->loc, "conv2d: stride and dilation must be >= 1");
            return false;
        }
    }
    for (int i = 0; i < 4; i++) {
        if (a->pad[i] < 0) {
            diag_error(d, n->loc, "conv2d: padding must be >= 0");
            return false;
        }
    }
    if (a->groups < 1) {
        diag_error(d, n->loc, "conv2d: groups must be >= 1");
        return false;
    }
    if (a->pre < 0 || a->pre >= NACT || a->act < 0 || a->act >= NACT ||
        (a->addend != 0 && a->addend != 1)) {
        diag_error(d, n->loc, "conv2d: pre=%d, act=%d or addend=%d out of range", a->pre,
                   a->act, a->addend);
        return false;
    }
    /* x, w [, b] [, addend] */
    if (n->nin < 2u + (unsigned)a->addend || n->nin > 3u + (unsigned)a->addend) {
        diag_error(d, n->loc, "conv2d: %u operands, but addend=%d takes %d to %d", n->nin,
                   a->addend, 2 + a->addend, 3 + a->addend);
        return false;
    }
    return true;
}

bool infer_conv2d(const Graph *g, const Node *n, Shape *out, Diag *d)
{
    if (!need_rank(g, n, 0, 4, d) || !need_rank(g, n, 1, 4, d) || !conv_attrs_ok(n, d))
        return false;
    const Conv2dAttrs *a = &n->attrs.conv;
    const Shape *x = in_shape(g, n, 0), *w = in_shape(g, n, 1);
    int64_t oc = w->d[0], kh = w->d[2], kw = w->d[3];
    if (x->d[1] % a->groups || oc % a->groups) {
        diag_error(d, n->loc, "conv2d: groups=%d must divide input channels %lld and output "
                   "channels %lld", a->groups, (long long)x->d[1], (long long)oc);
        return false;
    }
    Shape want_w = shape4(oc, x->d[1] / a->groups, kh, kw);
    if (kh < 1 || kw < 1 || !need_shape(g, n, 1, &want_w, d))
        return false;
    if (ir_conv_bias(n)) {
        Shape b = shape_make(1, &oc);
        if (!need_shape(g, n, 2, &b, d))
            return false;
    }
    int64_t oh = window_out(x->d[2], a->pad[0], a->pad[2], (int)kh, a->stride[0], a->dilation[0]);
    int64_t ow = window_out(x->d[3], a->pad[1], a->pad[3], (int)kw, a->stride[1], a->dilation[1]);
    if (oh < 1 || ow < 1) {
        diag_error(d, n->loc, "conv2d: kernel %lldx%lld does not fit input %lldx%lld",
                   (long long)kh, (long long)kw, (long long)x->d[2], (long long)x->d[3]);
        return false;
    }
    *out = shape4(x->d[0], oc, oh, ow);
    return !a->addend || need_shape(g, n, n->nin - 1, out, d);
}

/* linear: x [N,C] or [N,C,1,1], w [K,C], optional b [K] -> [N,K] */
bool infer_linear(const Graph *g, const Node *n, Shape *out, Diag *d)
{
    const Shape *x = in_shape(g, n, 0);
    bool flat = x->rank == 2 || (x->rank == 4 && x->d[2] == 1 && x->d[3] == 1);
    if (!flat) {
        char buf[96];
        diag_error(d, n->loc, "linear: input must be [N,C] or [N,C,1,1], got %s",
                   shape_str(x, buf, sizeof buf));
        return false;
    }
    if (!need_rank(g, n, 1, 2, d))
        return false;
    int64_t k = in_shape(g, n, 1)->d[0];
    int64_t wd[2] = {k, x->d[1]};
    Shape w = shape_make(2, wd);
    if (!need_shape(g, n, 1, &w, d))
        return false;
    if (n->nin == 3) {
        Shape b = shape_make(1, &k);
        if (!need_shape(g, n, 2, &b, d))
            return false;
    }
    int64_t od[2] = {x->d[0], k};
    *out = shape_make(2, od);
    return true;
}
