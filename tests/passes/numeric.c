/* numeric.c — every pass keeps the function the graph computes.
 *
 *   test_passes_numeric [--expect-none OP] FILE.nir...
 *
 * For each graph (each `// -----` piece of each file) and each pipeline —
 * every registered pass alone, then -O1 and -O2 — the graph is parsed,
 * given seeded weights (fe_init_weights), its batchnorm statistics are
 * calibrated on a seeded input (so activations keep a realistic scale
 * through deep nets), and the reference interpreter runs before and after
 * the pipeline on that input. Pass: max|after - before| <= 1e-4 *
 * max(1, max|before|) (STYLE.md point 8; the tolerance covers f32
 * reassociation, e.g. BN folded into weights, a dilated conv run on its
 * phases or pruned of its padding taps) — and exactly 0 when fold-bn,
 * prune-taps and lower-dilation* rewrote nothing: the other passes only
 * merge, drop or fuse ops, and fused convs round as the ops they replace. --expect-none OP
 * also requires that no OP node is left after -O2 (so the comparison is
 * known to have exercised the rewrite); --expect-fused, that -O2 leaves a
 * conv with each fusion (pre, addend, act).
 */
#include "frontend/frontend.h"
#include "passes/passes.h"
#include "runtime/interp.h"
#include "tests/check.h"

#include <math.h>
#include <string.h>

static const double TOL = 1e-4;
enum { SEED = 7 };

typedef struct Case {
    const char *file, *text;
    size_t len;
    uint32_t line0; /* lines before the piece (kept as blank lines) */
} Case;

static Graph *load(Arena *a, const Case *c, Diag *d)
{
    char *buf = arena_alloc(a, c->line0 + c->len + 1);
    memset(buf, '\n', c->line0);
    memcpy(buf + c->line0, c->text, c->len);
    Graph *g = ir_parse(a, c->file, buf, c->line0 + c->len, d);
    if (g)
        fe_init_weights(g, SEED);
    return g;
}

static float *seeded_input(Arena *a, const Graph *g)
{
    int64_t n = shape_numel(&g->vals[g->inputs[0]].shape);
    float *x = arena_calloc(a, (size_t)n, sizeof *x);
    uint32_t s = 12345;
    for (int64_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = (float)((double)(s >> 8) / (double)(1u << 24) * 2.0 - 1.0);
    }
    return x;
}

static bool has_op(const Graph *g, Op op)
{
    for (NodeId n = 1; n < g->nnode; n++)
        if (g->nodes[n].op == op)
            return true;
    return false;
}

/* Bit 0: some conv has pre, bit 1: addend, bit 2: act. */
static unsigned fusions(const Graph *g)
{
    unsigned seen = 0;
    for (NodeId n = 1; n < g->nnode; n++) {
        const Node *node = &g->nodes[n];
        if (node->op != OP_CONV2D)
            continue;
        seen |= (node->attrs.conv.pre != ACT_NONE) | (node->attrs.conv.addend ? 2u : 0u) |
                (node->attrs.conv.act != ACT_NONE ? 4u : 0u);
    }
    return seen;
}

/* Only fold-bn computes new weights, and lower-dilation* and prune-taps run
 * a conv as another conv (phases in the batch, a smaller kernel: the
 * interpreter's im2col + sgemm may group the same non-zero products
 * differently); every other pass must keep each bit. */
static bool exact_pass(const char *name)
{
    return strcmp(name, "fold-bn") && strncmp(name, "lower-dilation", 14) &&
           strcmp(name, "prune-taps");
}

/* Runs the pipeline one pass at a time, so that *exact says whether only
 * bit-exact passes rewrote anything (an inexact pass that found nothing to
 * do keeps the check exact). Returns the rewrites, or -1 (reported). */
static int run_passes(Graph *g, const char *const *names, int n, bool *exact, Diag *d)
{
    PassOptions po = {.verify_each = true};
    int total = 0;
    *exact = true;
    for (int i = 0; i < n; i++) {
        int r = pass_run_pipeline(g, names + i, 1, &po, d);
        if (r < 0)
            return -1;
        if (r > 0 && !exact_pass(names[i]))
            *exact = false;
        total += r;
    }
    return total;
}

typedef struct Expect {
    Op none;    /* OP_NONE, or an op -O2 must remove */
    bool fused; /* -O2 must leave every fusion somewhere */
} Expect;

/* One pipeline on one graph; returns rewrites, or -1 on failure (reported).
 * ex (may be NULL) is checked on the result. */
static int run_case(const Case *c, const char *label, const char *const *names, int n,
                    const Expect *ex)
{
    Arena a;
    arena_init(&a);
    Diag d;
    diag_init(&d);
    int rewrites = -1;
    Graph *g = load(&a, c, &d);
    if (!g || g->ninput != 1 || g->noutput != 1) {
        fprintf(stderr, "%s:%u: %s\n", c->file, c->line0 + 1,
                g ? "numeric: a graph with one input and one output is needed" : "parse failed");
        goto out;
    }
    const float *x = seeded_input(&a, g);
    int64_t ny = shape_numel(&g->vals[g->outputs[0]].shape);
    float *y0 = arena_calloc(&a, (size_t)ny, sizeof *y0), *y1 = arena_calloc(&a, (size_t)ny, 4);
    if (!rt_interp_calibrate_bn(g, x, &d) || !rt_interp_run(g, x, y0, NULL, &d))
        goto out;
    bool exact;
    int r = run_passes(g, names, n, &exact, &d);
    if (r < 0 || !rt_interp_run(g, x, y1, NULL, &d))
        goto out;
    double err = 0, scale = 1, tol = exact ? 0 : TOL;
    for (int64_t i = 0; i < ny; i++) {
        err = fmax(err, fabs((double)y1[i] - y0[i]));
        scale = fmax(scale, fabs((double)y0[i]));
    }
    bool ok = err <= tol * scale && !isnan(err);
    CHECKF(ok, "%s:%u: %s: max|diff| %.3g > %.0e * %.3g", c->file, c->line0 + 1, label, err,
           tol, scale);
    if (ex) {
        CHECKF(ex->none == OP_NONE || !has_op(g, ex->none), "%s: %s: a %s node is left",
               c->file, label, op_info[ex->none].name);
        CHECKF(!ex->fused || fusions(g) == 7, "%s: %s: fusions left: %s%s%s(of pre, addend, "
               "act)", c->file, label, fusions(g) & 1 ? "pre " : "",
               fusions(g) & 2 ? "addend " : "", fusions(g) & 4 ? "act " : "");
    }
    printf("  %-12s %4d rewrites  max|diff| %.2e (scale %.3g)\n", label, r, err, scale);
    rewrites = ok ? r : -1;
out:
    if (d.nmsg) {
        diag_print(&d, stderr);
        failures++;
    }
    diag_free(&d);
    arena_free_all(&a);
    return rewrites;
}

static void run_pipelines(const Case *c, const Expect *ex)
{
    int np;
    const PassInfo *p = pass_registry(&np);
    printf("%s:%u\n", c->file, c->line0 + 1);
    for (int i = 0; i < np; i++)
        run_case(c, p[i].name, &p[i].name, 1, NULL);
    for (int lvl = 1; lvl <= 2; lvl++) {
        int n;
        const char *const *names = pass_pipeline_for_level(lvl, &n);
        run_case(c, lvl == 1 ? "-O1" : "-O2", names, n, lvl == 2 ? ex : NULL);
    }
}

static bool is_separator(const char *p, const char *eol)
{
    while (eol > p && (eol[-1] == '\n' || eol[-1] == '\r' || eol[-1] == ' '))
        eol--;
    while (p < eol && (*p == ' ' || *p == '\t'))
        p++;
    return eol - p == 8 && !memcmp(p, "// -----", 8);
}

static void run_file(const char *path, const Expect *ex)
{
    size_t len;
    char *text = check_slurp(path, &len);
    CHECKF(text != NULL, "cannot read %s", path);
    if (!text)
        return;
    const char *end = text + len, *start = text, *p = text;
    uint32_t line = 0, line0 = 0;
    for (;;) {
        const char *nl = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
        const char *eol = nl ? nl + 1 : end;
        if (p == end || is_separator(p, eol)) {
            Case c = {path, start, (size_t)(p - start), line0};
            run_pipelines(&c, ex);
            if (p == end)
                break;
            start = eol, line0 = line + 1;
        }
        p = eol, line++;
    }
    free(text);
}

int main(int argc, char **argv)
{
    Expect ex = {OP_NONE, false};
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--expect-fused")) {
            ex.fused = true;
        } else if (!strcmp(argv[i], "--expect-none") && i + 1 < argc) {
            ex.none = op_by_name(argv[i + 1], strlen(argv[i + 1]));
            if (ex.none == OP_NONE) {
                fprintf(stderr, "unknown op '%s'\n", argv[i + 1]);
                return 2;
            }
            i++;
        } else {
            break;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "usage: test_passes_numeric [--expect-none OP] [--expect-fused] "
                        "FILE.nir...\n");
        return 2;
    }
    for (; i < argc; i++)
        run_file(argv[i], &ex);
    printf(failures ? "FAILED: %d checks\n" : "ok\n", failures);
    return failures != 0;
}
