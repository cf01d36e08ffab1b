/* shape_ops.c — shape rules of ops that move data without arithmetic:
 * param, concat (channels), crop (x[:, :, top:, left:]), zero
 * (zeros shaped like x[:, :, ::s, ::s], DARTS' Zero op), resize_bilinear and
 * space_to_batch / batch_to_space (the phases of a dilated conv). */
#include "../internal.h"

bool infer_param(const Graph *g, const Node *n, Shape *out, Diag *d)
{
    (void)d;
    *out = g->vals[n->out].shape; /* a param's shape is given, not derived */
    return true;
}

bool infer_concat(const Graph *g, const Node *n, Shape *out, Diag *d)
{
    if (!need_rank(g, n, 0, 4, d))
        return false;
    Shape s = *in_shape(g, n, 0);
    for (uint32_t i = 1; i < n->nin; i++) {
        if (!need_rank(g, n, i, 4, d))
            return false;
        const Shape *x = in_shape(g, n, i);
        if (x->d[0] != s.d[0] || x->d[2] != s.d[2] || x->d[3] != s.d[3]) {
            char a[96], b[96];
            diag_error(d, n->loc, "concat: operand %u has shape %s, not concatenable with %s",
                       i, shape_str(x, a, sizeof a), shape_str(in_shape(g, n, 0), b, sizeof b));
            return false;
        }
        s.d[1] += x->d[1];
    }
    *out = s;
    return true;
}

bool infer_crop(const Graph *g, const Node *n, Shape *out, Diag *d)
{
    if (!need_rank(g, n, 0, 4, d))
        return false;
    const CropAttrs *a = &n->attrs.crop;
    Shape s = *in_shape(g, n, 0);
    if (a->top < 0 || a->left < 0 || a->top >= s.d[2] || a->left >= s.d[3]) {
        diag_error(d, n->loc, "crop: offsets %d,%d out of range for %lldx%lld", a->top,
                   a->left, (long long)s.d[2], (long long)s.d[3]);
        return false;
    }
    s.d[2] -= a->top;
    s.d[3] -= a->left;
    *out = s;
    return true;
}

bool infer_zero(const Graph *g, const Node *n, Shape *out, Diag *d)
{
    if (!need_rank(g, n, 0, 4, d))
        return false;
    int s = n->attrs.zero.stride;
    if (s < 1) {
        diag_error(d, n->loc, "zero: stride must be >= 1");
        return false;
    }
    Shape x = *in_shape(g, n, 0);
    x.d[2] = (x.d[2] - 1) / s + 1;
    x.d[3] = (x.d[3] - 1) / s + 1;
    *out = x;
    return true;
}

/* resize_bilinear: [N,C,H,W] -> [N,C,size[0],size[1]] */
bool infer_resize_bilinear(const Graph *g, const Node *n, Shape *out, Diag *d)
{
    if (!need_rank(g, n, 0, 4, d))
        return false;
    const ResizeAttrs *a = &n->attrs.resize;
    if (a->size[0] < 1 || a->size[1] < 1 || (a->align_corners != 0 && a->align_corners != 1)) {
        diag_error(d, n->loc, "resize_bilinear: size must be >= 1 and align_corners 0 or 1");
        return false;
    }
    Shape s = *in_shape(g, n, 0);
    s.d[2] = a->size[0];
    s.d[3] = a->size[1];
    *out = s;
    return true;
}

/* argmax: [N,C,H,W] f32 -> [N,1,H,W] u8 labels */
bool infer_argmax(const Graph *g, const Node *n, Shape *out, Diag *d)
{
    if (!need_rank(g, n, 0, 4, d))
        return false;
    Shape s = *in_shape(g, n, 0);
    if (s.d[1] > 256) {
        diag_error(d, n->loc, "argmax: %lld channels do not fit u8 labels", (long long)s.d[1]);
        return false;
    }
    s.d[1] = 1;
    *out = s;
    return true;
}

/* space_to_batch: [N,C,H,W] zero-padded by pad[4] to sizes divisible by
 * block r -> [N*r*r, C, (H+t+b)/r, (W+l+r)/r]. */
bool infer_space_to_batch(const Graph *g, const Node *n, Shape *out, Diag *d)
{
    if (!need_rank(g, n, 0, 4, d))
        return false;
    const S2bAttrs *a = &n->attrs.s2b;
    Shape s = *in_shape(g, n, 0);
    int64_t r = a->block, ph = s.d[2] + a->pad[0] + a->pad[2], pw = s.d[3] + a->pad[1] + a->pad[3];
    if (r < 1 || r > 256 || a->pad[0] < 0 || a->pad[1] < 0 || a->pad[2] < 0 || a->pad[3] < 0 ||
        ph % r || pw % r) {
        diag_error(d, n->loc, "space_to_batch: block %d and pads [%d,%d,%d,%d] do not tile "
                   "%lldx%lld", a->block, a->pad[0], a->pad[1], a->pad[2], a->pad[3],
                   (long long)s.d[2], (long long)s.d[3]);
        return false;
    }
    s.d[0] *= r * r;
    s.d[2] = ph / r;
    s.d[3] = pw / r;
    *out = s;
    return true;
}

/* batch_to_space: [N*r*r, C, h, w] -> [N, C, h*r - t - b, w*r - l - r]. */
bool infer_batch_to_space(const Graph *g, const Node *n, Shape *out, Diag *d)
{
    if (!need_rank(g, n, 0, 4, d))
        return false;
    const B2sAttrs *a = &n->attrs.b2s;
    Shape s = *in_shape(g, n, 0);
    int64_t r = a->block;
    bool ok = r >= 1 && r <= 256 && s.d[0] % (r * r) == 0 && a->crop[0] >= 0 &&
              a->crop[1] >= 0 && a->crop[2] >= 0 && a->crop[3] >= 0;
    int64_t oh = s.d[2] * r - a->crop[0] - a->crop[2], ow = s.d[3] * r - a->crop[1] - a->crop[3];
    if (!ok || oh < 1 || ow < 1) {
        diag_error(d, n->loc, "batch_to_space: block %d and crops [%d,%d,%d,%d] do not fit "
                   "batch %lld of %lldx%lld", a->block, a->crop[0], a->crop[1], a->crop[2],
                   a->crop[3], (long long)s.d[0], (long long)s.d[2], (long long)s.d[3]);
        return false;
    }
    s.d[0] /= r * r;
    s.d[2] = oh;
    s.d[3] = ow;
    *out = s;
    return true;
}
