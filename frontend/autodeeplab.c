/* autodeeplab.c — the Auto-DeepLab op table, defaults and checks.
 *
 * The readers (autodeeplab_read.c, autodeeplab_json.c) only check what
 * they must to store a value; fe_adl_check holds an AdlArch against the
 * rules of docs/autodeeplab.md: a path of levels 0..3 starting at 0 or 1
 * and moving at most one level per layer, and a cell of 10 rows listed
 * node by node (rows 2i, 2i+1 feed node i+2, through two different edges
 * of that node) with known ops. Each message names the layer or row, so
 * it reads well both at a JSON line:col and at a bare `file.npy:`.
 */
#include "frontend/genotype_internal.h"

#include <stdlib.h>
#include <string.h>

const DartsOp fe_adl_ops[] = {
    /* name          kind        kernel pad dilation  (autodeeplab operations.py) */
    {"none",         DK_NONE,    0,     0,  1}, /* Zero */
    {"max_pool_3x3", DK_MAXPOOL, 3,     1,  1}, /* MaxPool2d(3, 1, padding=1) */
    {"avg_pool_3x3", DK_AVGPOOL, 3,     1,  1}, /* count_include_pad=False */
    {"skip_connect", DK_SKIP,    0,     0,  1}, /* Identity (cells never stride) */
    {"sep_conv_3x3", DK_SEPCONV, 3,     1,  1}, /* two depthwise-separable stages */
    {"sep_conv_5x5", DK_SEPCONV, 5,     2,  1},
    {"dil_conv_3x3", DK_DILCONV, 3,     2,  2}, /* DilConv(3, pad 2, dil 2) */
    {"dil_conv_5x5", DK_DILCONV, 5,     4,  2}, /* DilConv(5, pad 4, dil 2) */
    {"atrous_3x3",   DK_ATROUS,  3,     2,  2}, /* TF: ReLU, dense 3x3 rate 2, BN */
    {"atrous_5x5",   DK_ATROUS,  5,     4,  2}, /* TF: ReLU, dense 5x5 rate 2, BN */
    {NULL,           DK_NONE,    0,     0,  0},
};
enum { ADL_NOPS = sizeof fe_adl_ops / sizeof fe_adl_ops[0] - 1 };
_Static_assert(ADL_NOPS == 10, "op numbers 0..9 are part of the input format");

/* Limits on the network options: generous, but they keep channel counts
 * and spatial sizes far from int overflow in the lowering. */
enum { ADL_MAX_F = 1024, ADL_MAX_CLASSES = 65536, ADL_MAX_INPUT = 16384, ADL_MAX_RATE = 4096 };

const DartsOp *fe_adl_op(const char *name)
{
    if (!name)
        return NULL;
    for (const DartsOp *op = fe_adl_ops; op->name; op++)
        if (strcmp(op->name, name) == 0)
            return op;
    return NULL;
}

const char *fe_adl_op_name(long long number)
{
    return number >= 0 && number < ADL_NOPS ? fe_adl_ops[number].name : NULL;
}

/* Also defined for node 7, where it is ADL_EDGES: the end of node 6. */
int fe_adl_edge_offset(int node)
{
    NASC_ASSERT(node >= 2 && node <= ADL_NODES + 2);
    return (node - 2) * (node + 1) / 2; /* 2 + 3 + ... + (node - 1) */
}

void fe_adl_defaults(AdlArch *a)
{
    memset(a, 0, sizeof *a);
    a->F = 20;
    a->B = ADL_NODES;
    a->classes = 19;
    a->in_h = a->in_w = 513;
    a->aspp_rates[0] = 6;
    a->aspp_rates[1] = 12;
    a->aspp_rates[2] = 18;
    a->decoder = true;
    a->bn = ADL_BN_PLAIN;
}

/* ---- path ---- */

static Loc layer_loc(const AdlArch *a, int i)
{
    return a->path_loc ? a->path_loc[i] : a->loc;
}

static void check_path(const AdlArch *a, Diag *d)
{
    if (a->nlayers <= 0) {
        diag_error(d, a->loc, "the network path is empty; it needs one level per layer");
        return;
    }
    if (a->nlayers > ADL_MAX_LAYERS) {
        diag_error(d, layer_loc(a, ADL_MAX_LAYERS), "the network path has %d layers; at most %d "
                   "are supported", a->nlayers, ADL_MAX_LAYERS);
        return;
    }
    for (int i = 0; i < a->nlayers; i++) {
        int lvl = a->path[i], prev = i ? a->path[i - 1] : 0;
        if (lvl < 0 || lvl > 3)
            diag_error(d, layer_loc(a, i), "level %d at layer %d is out of range: allowed 0..3 "
                       "(output stride 4, 8, 16, 32)", lvl, i);
        else if (i == 0 && lvl > 1)
            diag_error(d, layer_loc(a, i), "the path starts at level %d; layer 0 must be at "
                       "level 0 or 1 (the stem ends at output stride 4)", lvl);
        else if (i > 0 && prev >= 0 && prev <= 3 && abs(lvl - prev) > 1)
            diag_error(d, layer_loc(a, i), "path step from level %d to level %d at layer %d "
                       "(steps must be -1, 0 or +1)", prev, lvl, i);
    }
}

/* ---- cell ---- */

static char *known_ops(char *buf, size_t size)
{
    size_t o = 0;
    buf[0] = 0;
    for (const DartsOp *op = fe_adl_ops; op->name && o < size; op++)
        o += (size_t)snprintf(buf + o, size - o, "%s%s", o ? ", " : "", op->name);
    return buf;
}

static void check_row(const AdlRow *r, int k, Diag *d)
{
    char show[FE_SHOW_MAX], known[256];
    int node = k / 2 + 2, lo = fe_adl_edge_offset(node), hi = fe_adl_edge_offset(node + 1) - 1;
    if (r->edge < 0 || r->edge >= ADL_EDGES) {
        diag_error(d, r->edge_loc, "row %d: edge %d is out of range: allowed 0..%d", k, r->edge,
                   ADL_EDGES - 1);
    } else if (r->edge < lo || r->edge > hi) {
        int feeds = 2;
        while (fe_adl_edge_offset(feeds + 1) <= r->edge)
            feeds++;
        diag_error(d, r->edge_loc, "row %d: edge %d feeds node %d, but rows %d and %d are node "
                   "%d's (edges %d..%d; rows are listed node by node)", k, r->edge, feeds,
                   node * 2 - 4, node * 2 - 3, node, lo, hi);
    }
    if (!fe_adl_op(r->op))
        diag_error(d, r->op_loc, "row %d: unknown op '%s'; known: %s", k,
                   r->op ? fe_show(show, sizeof show, r->op, strlen(r->op)) : "(none)",
                   known_ops(known, sizeof known));
}

static void check_cell(const AdlArch *a, Diag *d)
{
    int n = a->nrows < ADL_ROWS ? a->nrows : ADL_ROWS;
    if (a->nrows != ADL_ROWS) {
        Loc at = n > 0 ? a->rows[n - 1].loc : a->loc;
        diag_error(d, at, "the cell has %d row%s; Auto-DeepLab cells have %d (2 for each of "
                   "nodes 2..6)", a->nrows, a->nrows == 1 ? "" : "s", ADL_ROWS);
    }
    for (int k = 0; k < n; k++)
        check_row(&a->rows[k], k, d);
    for (int k = 0; k + 1 < n; k += 2) {
        const AdlRow *x = &a->rows[k], *y = &a->rows[k + 1];
        if (x->edge == y->edge && x->edge >= 0 && x->edge < ADL_EDGES)
            diag_error(d, y->edge_loc, "rows %d and %d both use edge %d: node %d needs two rows "
                       "on two different edges", k, k + 1, x->edge, k / 2 + 2);
    }
}

/* ---- network options (from the JSON or the command line) ---- */

static void check_range(Diag *d, Loc at, const char *what, int v, int lo, int hi)
{
    if (v < lo || v > hi)
        diag_error(d, at, "%s must be %d..%d, found %d", what, lo, hi, v);
}

static void check_options(const AdlArch *a, Diag *d)
{
    check_range(d, a->loc, "F (filter multiplier)", a->F, 1, ADL_MAX_F);
    if (a->B != ADL_NODES)
        diag_error(d, a->loc, "B must be %d (the cell output concatenates its %d nodes), "
                   "found %d", ADL_NODES, ADL_NODES, a->B);
    check_range(d, a->loc, "the number of classes", a->classes, 1, ADL_MAX_CLASSES);
    check_range(d, a->loc, "the input height", a->in_h, 1, ADL_MAX_INPUT);
    check_range(d, a->loc, "the input width", a->in_w, 1, ADL_MAX_INPUT);
    for (int i = 0; i < 3; i++)
        check_range(d, a->loc, "an ASPP rate", a->aspp_rates[i], 1, ADL_MAX_RATE);
    if (a->bn != ADL_BN_PLAIN && a->bn != ADL_BN_ABN)
        diag_error(d, a->loc, "unknown batch-norm kind %d", (int)a->bn);
    if (a->decoder && a->nlayers > 0 && a->nlayers < 3)
        diag_error(d, a->loc, "the decoder reads cell 2's output, but the path has only %d "
                   "layer%s", a->nlayers, a->nlayers == 1 ? "" : "s");
}

bool fe_adl_check(const AdlArch *a, Diag *d)
{
    int before = d->nerr;
    check_path(a, d);
    check_cell(a, d);
    check_options(a, d);
    return d->nerr == before;
}
