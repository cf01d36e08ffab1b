/* op_table.c — ops.def expanded into op_info[], plus the attribute schema.
 *
 * The attribute schema lists each attr struct's fields by name so that the
 * textual IR printer and parser are generic: adding an op with an existing
 * attr kind needs no printer/parser change.
 */
#include "internal.h"

#include <string.h>

const OpInfo op_info[NOP] = {
    [OP_NONE] = {"<dead>", 0, 0, AK_NONE, 0, NULL},
#define OP(E, l, nmin, nmax, ak, fl) [OP_##E] = {#l, nmin, nmax, AK_##ak, fl, infer_##l},
#include "ops.def"
#undef OP
};

/* Short aliases so F(kind, field, ...) can name the struct of each kind. */
typedef Conv2dAttrs conv_t;
typedef Pool2dAttrs pool_t;
typedef BnAttrs bn_t;
typedef CropAttrs crop_t;
typedef ZeroAttrs zero_t;
typedef ResizeAttrs resize_t;
typedef LeakyAttrs leaky_t;
typedef IndexAttrs index_t;
typedef S2bAttrs s2b_t;
typedef B2sAttrs b2s_t;
#define F(T, m, cnt, ty) {.name = #m, .offset = offsetof(T##_t, m), .count = cnt, .type = ty}
/* An optional int (default 0) and an optional int spelled by name. */
#define FOPT(T, m) {.name = #m, .offset = offsetof(T##_t, m), .count = 1, .type = AF_INT, \
                    .optional = true}
#define FENUM(T, m, nm) {.name = #m, .offset = offsetof(T##_t, m), .count = 1, \
                         .type = AF_ENUM, .optional = true, .names = nm}

/* FusedAct spellings, in enum order. */
static const char *const act_names[NACT + 1] = {"none", "relu", NULL};

/* All attr structs sit at offset 0 of the Attrs union. The conv fusions
 * print in dataflow order: pre (on x), addend, act (on the result). */
static const AttrField none_fields[] = {{.name = NULL}};
static const AttrField conv_fields[] = {
    F(conv, stride, 2, AF_INT), F(conv, pad, 4, AF_INT), F(conv, dilation, 2, AF_INT),
    F(conv, groups, 1, AF_INT), FENUM(conv, pre, act_names), FOPT(conv, addend),
    FENUM(conv, act, act_names), {.name = NULL}};
static const AttrField pool_fields[] = {
    F(pool, kernel, 2, AF_INT), F(pool, stride, 2, AF_INT), F(pool, pad, 4, AF_INT),
    F(pool, count_include_pad, 1, AF_INT), {.name = NULL}};
static const AttrField bn_fields[] = {F(bn, eps, 1, AF_FLOAT), {.name = NULL}};
static const AttrField crop_fields[] = {
    F(crop, top, 1, AF_INT), F(crop, left, 1, AF_INT), {.name = NULL}};
static const AttrField zero_fields[] = {F(zero, stride, 1, AF_INT), {.name = NULL}};
static const AttrField resize_fields[] = {
    F(resize, size, 2, AF_INT), F(resize, align_corners, 1, AF_INT), {.name = NULL}};
static const AttrField leaky_fields[] = {F(leaky, slope, 1, AF_FLOAT), {.name = NULL}};
static const AttrField index_fields[] = {F(index, index, 1, AF_INT), {.name = NULL}};
static const AttrField s2b_fields[] = {
    F(s2b, block, 1, AF_INT), F(s2b, pad, 4, AF_INT), {.name = NULL}};
static const AttrField b2s_fields[] = {
    F(b2s, block, 1, AF_INT), F(b2s, crop, 4, AF_INT), {.name = NULL}};
#undef F
#undef FOPT
#undef FENUM

static const AttrField *const fields_by_kind[NAK] = {
    [AK_NONE] = none_fields, [AK_CONV] = conv_fields, [AK_POOL] = pool_fields,
    [AK_BN] = bn_fields,     [AK_CROP] = crop_fields, [AK_ZERO] = zero_fields,
    [AK_RESIZE] = resize_fields, [AK_LEAKY] = leaky_fields, [AK_INDEX] = index_fields,
    [AK_S2B] = s2b_fields,   [AK_B2S] = b2s_fields,
};

_Static_assert(sizeof op_info / sizeof op_info[0] == NOP, "op_info out of sync with ops.def");
_Static_assert(sizeof fields_by_kind / sizeof fields_by_kind[0] == NAK, "attr schema incomplete");

const AttrField *attr_fields(AttrKind k)
{
    NASC_ASSERT(k >= 0 && k < NAK && fields_by_kind[k]);
    return fields_by_kind[k];
}

Op op_by_name(const char *name, size_t len)
{
    for (int op = 1; op < NOP; op++)
        if (strlen(op_info[op].name) == len && memcmp(op_info[op].name, name, len) == 0)
            return (Op)op;
    return OP_NONE;
}

/* ---- helpers for the shape rules ---- */

static const char *node_opname(const Node *n)
{
    return op_info[n->op].name;
}

bool need_rank(const Graph *g, const Node *n, uint32_t i, int rank, Diag *d)
{
    const Shape *s = in_shape(g, n, i);
    if (s->rank == rank)
        return true;
    char buf[96];
    diag_error(d, n->loc, "%s: operand %u must have rank %d, got %s", node_opname(n), i, rank,
               shape_str(s, buf, sizeof buf));
    return false;
}

bool need_shape(const Graph *g, const Node *n, uint32_t i, const Shape *s, Diag *d)
{
    const Shape *have = in_shape(g, n, i);
    if (shape_eq(have, s))
        return true;
    char a[96], b[96];
    const char *name = g->vals[n->in[i]].name;
    diag_error(d, n->loc, "%s: operand %u%s%s%s has shape %s, expected %s", node_opname(n), i,
               name ? " '" : "", name ? name : "", name ? "'" : "", shape_str(have, a, sizeof a),
               shape_str(s, b, sizeof b));
    return false;
}

int64_t window_out(int64_t in, int pad_lo, int pad_hi, int k, int stride, int dil)
{
    int64_t span = (int64_t)dil * (k - 1) + 1;
    int64_t room = in + pad_lo + pad_hi - span;
    if (room < 0 || stride <= 0)
        return 0;
    return room / stride + 1;
}
