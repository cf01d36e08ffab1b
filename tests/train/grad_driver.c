/* grad_driver.c — runs the grad_conv.c kernels on the cases
 * torch_grad_conv.py wrote and compares with PyTorch autograd.
 *
 * usage: grad_driver DIR. DIR/cases.txt has one case per line,
 *   <op> <case> <int>...   (the integers per op: see torch_grad_conv.py)
 * and DIR/<case>.<tensor>.bin raw f32 tensors. Each file must hold exactly
 * the number of floats OUR geometry implies, so a shape disagreement fails.
 * Rule: max |got - torch| <= 1e-4 * max(1, max |torch|) per tensor (as
 * tests/runtime): both sides sum the same terms in float in different
 * orders, ~1e-6 relative; a wrong tap is O(1).
 * Exit 0 only if at least one case ran and all passed.
 */
#include "runtime/ref/grad.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAXINT = 20 };

typedef struct Case {
    char op[16], name[96];
    int64_t v[MAXINT];
    int nv;
    const char *dir;
    int failures;
} Case;

static float *alloc_zero(int64_t n)
{
    float *p = calloc((size_t)(n > 0 ? n : 1), sizeof *p);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

/* DIR/<case>.<tensor>.bin, which must hold exactly n floats. */
static float *load(Case *c, const char *tensor, int64_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.%s.bin", c->dir, c->name, tensor);
    float *p = alloc_zero(n + 1);
    FILE *f = fopen(path, "rb");
    size_t got = f ? fread(p, sizeof *p, (size_t)n + 1, f) : 0;
    if (f)
        fclose(f);
    if (got != (size_t)n) {
        fprintf(stderr, "FAIL %s: %s holds %zu floats, want %lld\n", c->name, path, got,
                (long long)n);
        c->failures++;
    }
    return p;
}

static void check(Case *c, const char *what, const float *got, const float *ref, int64_t n)
{
    double maxref = 1.0, maxdiff = 0.0;
    int64_t worst = 0;
    for (int64_t i = 0; i < n; i++)
        maxref = fmax(maxref, fabs(ref[i]));
    for (int64_t i = 0; i < n; i++) {
        double diff = fabs((double)got[i] - (double)ref[i]);
        if (!(diff <= maxdiff)) {
            maxdiff = isnan(diff) ? INFINITY : diff;
            worst = i;
        }
    }
    if (maxdiff <= 1e-4 * maxref)
        return;
    fprintf(stderr, "FAIL %s %s: max diff %g at %lld (got %g, want %g), limit %g\n", c->name,
            what, maxdiff, (long long)worst, got[worst], ref[worst], 1e-4 * maxref);
    c->failures++;
}

static void run_conv(Case *c)
{
    const int64_t *v = c->v;
    RtConv2d p = {.n = v[0], .c = v[1], .h = v[2], .w = v[3], .oc = v[4], .kh = v[5],
                  .kw = v[6], .stride = {(int)v[7], (int)v[8]},
                  .pad = {(int)v[9], (int)v[10], (int)v[11], (int)v[12]},
                  .dilation = {(int)v[13], (int)v[14]}, .groups = (int)v[15]};
    int64_t oh, ow;
    if (!rt_conv2d_out_hw(&p, &oh, &ow)) {
        fprintf(stderr, "FAIL %s: invalid geometry\n", c->name);
        c->failures++;
        return;
    }
    int64_t nx = p.n * p.c * p.h * p.w, nw = p.oc * (p.c / p.groups) * p.kh * p.kw;
    float *x = load(c, "x", nx), *w = load(c, "w", nw), *dy = load(c, "dy", p.n * p.oc * oh * ow);
    float *dx = alloc_zero(nx), *dw = alloc_zero(nw), *db = alloc_zero(p.oc);
    float *ws = alloc_zero((int64_t)rt_conv2d_backward_workspace(&p));
    rt_conv2d_backward(&p, x, w, dy, dx, dw, v[16] ? db : NULL, ws);
    float *rdx = load(c, "dx", nx), *rdw = load(c, "dw", nw);
    check(c, "dx", dx, rdx, nx);
    check(c, "dw", dw, rdw, nw);
    if (v[16]) {
        float *rdb = load(c, "db", p.oc);
        check(c, "db", db, rdb, p.oc);
        free(rdb);
    }
    free(x), free(w), free(dy), free(dx), free(dw), free(db), free(ws), free(rdx), free(rdw);
}

static void run_linear(Case *c)
{
    int64_t n = c->v[0], ch = c->v[1], k = c->v[2];
    float *x = load(c, "x", n * ch), *w = load(c, "w", k * ch), *dy = load(c, "dy", n * k);
    float *dx = alloc_zero(n * ch), *dw = alloc_zero(k * ch), *db = alloc_zero(k);
    rt_linear_backward(n, ch, k, x, w, dy, dx, dw, db);
    float *rdx = load(c, "dx", n * ch), *rdw = load(c, "dw", k * ch), *rdb = load(c, "db", k);
    check(c, "dx", dx, rdx, n * ch);
    check(c, "dw", dw, rdw, k * ch);
    check(c, "db", db, rdb, k);
    free(x), free(w), free(dy), free(dx), free(dw), free(db), free(rdx), free(rdw), free(rdb);
}

static void run_bn(Case *c, bool train)
{
    int64_t n = c->v[0], ch = c->v[1], hw = c->v[2], nx = n * ch * hw;
    bool affine = c->v[3];
    float *x = load(c, "x", nx), *dy = load(c, "dy", nx);
    float *g = affine ? load(c, "gamma", ch) : NULL, *b = affine ? load(c, "beta", ch) : NULL;
    float *rm = load(c, "rm", ch), *rv = load(c, "rv", ch);
    float *y = alloc_zero(nx), *sm = alloc_zero(ch), *si = alloc_zero(ch);
    float *dx = alloc_zero(nx), *dg = alloc_zero(ch), *dbeta = alloc_zero(ch);
    if (train) {
        rt_batchnorm_train_forward(n, ch, hw, x, g, b, 1e-5f, 0.1f, rm, rv, sm, si, y);
        rt_batchnorm_train_backward(n, ch, hw, x, g, sm, si, dy, dx, dg, dbeta);
        float *ry = load(c, "y", nx);
        check(c, "y", y, ry, nx);
        free(ry);
    } else {
        rt_batchnorm_eval_backward(n, ch, hw, x, rm, rv, g, 1e-5f, dy, dx, dg, dbeta);
    }
    float *rrm = load(c, "rm_after", ch), *rrv = load(c, "rv_after", ch), *rdx = load(c, "dx", nx);
    check(c, "running_mean", rm, rrm, ch);
    check(c, "running_var", rv, rrv, ch);
    check(c, "dx", dx, rdx, nx);
    if (affine) {
        float *rdg = load(c, "dgamma", ch), *rdb = load(c, "dbeta", ch);
        check(c, "dgamma", dg, rdg, ch);
        check(c, "dbeta", dbeta, rdb, ch);
        free(rdg), free(rdb);
    }
    free(x), free(dy), free(g), free(b), free(rm), free(rv), free(y), free(sm), free(si);
    free(dx), free(dg), free(dbeta), free(rrm), free(rrv), free(rdx);
}

/* Integers each op's line must carry. */
static int want_ints(const char *op)
{
    return !strcmp(op, "conv") ? 17 : !strcmp(op, "linear") ? 3 : 4;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: grad_driver DIR\n");
        return 2;
    }
    char path[512], line[512];
    snprintf(path, sizeof path, "%s/cases.txt", argv[1]);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "FAIL: cannot open %s\n", path);
        return 1;
    }
    int ran = 0, failed = 0;
    while (fgets(line, sizeof line, f)) {
        Case c = {.dir = argv[1]};
        int used = 0;
        if (sscanf(line, "%15s %95s%n", c.op, c.name, &used) != 2)
            continue;
        for (char *s = line + used, *end; c.nv < MAXINT; s = end, c.nv++) {
            c.v[c.nv] = strtoll(s, &end, 10);
            if (end == s)
                break;
        }
        if (c.nv != want_ints(c.op) ||
            (strcmp(c.op, "conv") && strcmp(c.op, "linear") && strcmp(c.op, "bntrain") &&
             strcmp(c.op, "bneval"))) {
            fprintf(stderr, "FAIL: bad line: %s", line);
            failed++;
            continue;
        }
        if (!strcmp(c.op, "conv"))
            run_conv(&c);
        else if (!strcmp(c.op, "linear"))
            run_linear(&c);
        else
            run_bn(&c, !strcmp(c.op, "bntrain"));
        ran++;
        failed += c.failures > 0;
    }
    fclose(f);
    printf("grad_driver: %d case(s), %d failed\n", ran, failed);
    return ran > 0 && failed == 0 ? 0 : 1;
}
