/* build.c — the supernet builders of build.h. Params are added right
 * before the node that reads them, in the module's own order, as the
 * frontend's builders do. */
#include "search/build.h"

void search_lw_bn_stats_params(Lower *L, const char *prefix, int64_t c, ValueId st[2])
{
    Arena *ar = L->g->arena;
    Shape s = shape_make(1, &c);
    st[0] = fe_lw_param(L, s, arena_printf(ar, "%s.running_mean", prefix));
    st[1] = fe_lw_param(L, s, arena_printf(ar, "%s.running_var", prefix));
}

ValueId search_lw_bn_stats(Lower *L, ValueId x, const ValueId st[2])
{
    ValueId in[3] = {x, st[0], st[1]};
    Attrs a = {.bn = {SEARCH_BN_EPS}};
    return fe_lw_node(L, OP_BATCHNORM, in, 3, &a);
}

ValueId search_lw_bn_plain(Lower *L, ValueId x, const char *prefix)
{
    if (!x || L->failed)
        return 0;
    ValueId st[2];
    search_lw_bn_stats_params(L, prefix, fe_lw_channels(L, x), st);
    return search_lw_bn_stats(L, x, st);
}

ValueId search_lw_relu_conv_bn(Lower *L, ValueId x, const char *prefix, int64_t oc)
{
    Arena *ar = L->g->arena;
    ValueId h = fe_lw_conv_sq(L, fe_lw_relu(L, x), arena_printf(ar, "%s.op.1", prefix), oc, 1,
                              1, 0, 1, false);
    return search_lw_bn_plain(L, h, arena_printf(ar, "%s.op.2", prefix));
}

ValueId search_lw_add(Lower *L, ValueId sum, ValueId x)
{
    ValueId in[2] = {sum, x};
    return sum ? fe_lw_node(L, OP_ADD, in, 2, NULL) : x;
}

ValueId search_lw_scale(Lower *L, ValueId x, ValueId s, int index)
{
    ValueId in[2] = {x, s};
    Attrs a = {.index = {index}};
    return fe_lw_node(L, OP_SCALE, in, 2, &a);
}
