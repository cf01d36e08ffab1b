/* grad_torch_driver.c — runs the grad_misc.c kernels on the cases
 * torch_ce.py wrote and compares with PyTorch's gradients.
 *
 * usage: grad_torch_driver DIR; DIR/cases.txt lists <op> <case> key=v,...
 * and DIR/<case>.<tensor>.bin holds the tensors (torch_ce.py says which
 * type each is). Each file must hold exactly the size OUR geometry implies.
 *
 * Rule: max |ours - torch| <= tol * max(max |torch|, floor), with
 *  - ce: loss relative 1e-6 (torch in float64, ours accumulates in double
 *    but takes float exp/sums per pixel, ~1e-7); gradient tol 1e-5, floor 0
 *    (the gradient is O(1/count) and float softmax is good to ~1e-7);
 *  - resize / avgpool / maxpool: tol 1e-5, floor 1 (float32 on both sides;
 *    only the summation order differs, ~1e-7).
 * Controls: every passing case is compared again with one element of ours
 * moved by 10x the limit, which must fail; cases marked ctl=1 are also
 * computed with the other align_corners / count_include_pad mode, which
 * must fail too. Exit 0 only if at least one case ran and all passed.
 */
#include "runtime/ref/grad.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAXKEY = 12, MAXV = 4 };

typedef struct Case {
    char op[32], name[96];
    int nkey;
    char key[MAXKEY][16];
    int64_t v[MAXKEY][MAXV];
    const char *dir;
} Case;

static int failures;

static void die(const char *what, const char *why)
{
    fprintf(stderr, "FAIL %s: %s\n", what, why);
    exit(1);
}

/* "op name k=v,v k=v" -> c; false on a blank line. */
static int parse_case(char *line, Case *c)
{
    char *tok = strtok(line, " \t\n");
    if (!tok)
        return 0;
    snprintf(c->op, sizeof c->op, "%s", tok);
    if (!(tok = strtok(NULL, " \t\n")))
        die(c->op, "line without a case name");
    snprintf(c->name, sizeof c->name, "%s", tok);
    for (c->nkey = 0; (tok = strtok(NULL, " \t\n")); c->nkey++) {
        char *eq = strchr(tok, '=');
        if (!eq || c->nkey == MAXKEY)
            die(c->name, "bad key");
        *eq = '\0';
        snprintf(c->key[c->nkey], sizeof c->key[0], "%s", tok);
        char *p = eq + 1;
        for (int i = 0; i < MAXV; i++) {
            c->v[c->nkey][i] = strtoll(p, &p, 10);
            if (*p != ',')
                break;
            p++;
        }
    }
    return 1;
}

static int64_t get(const Case *c, const char *key, int i)
{
    for (int k = 0; k < c->nkey; k++)
        if (!strcmp(c->key[k], key))
            return c->v[k][i];
    die(c->name, key);
    return 0;
}

/* DIR/<case>.<tensor>.bin, which must be exactly n elements of size sz. */
static void *load(const Case *c, const char *tensor, int64_t n, size_t sz)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.%s.bin", c->dir, c->name, tensor);
    FILE *f = fopen(path, "rb");
    if (!f)
        die(path, "cannot open");
    void *p = malloc((size_t)n * sz + 1);
    if (!p)
        die(path, "out of memory");
    size_t got = fread(p, sz, (size_t)n + 1, f);
    fclose(f);
    if (got != (size_t)n)
        die(path, "size differs from our geometry");
    return p;
}

static double max_error(const float *ours, const double *ref, int64_t n, double floor_)
{
    double scale = floor_, err = 0.0;
    for (int64_t i = 0; i < n; i++) {
        scale = fabs(ref[i]) > scale ? fabs(ref[i]) : scale;
        double e = fabs((double)ours[i] - ref[i]);
        err = e > err || isnan(e) ? (isnan(e) ? INFINITY : e) : err;
    }
    return err / scale;
}

/* Compares, then runs the perturbation control on a copy. */
static void compare(const Case *c, const float *ours, const double *ref, int64_t n, double tol,
                    double floor_)
{
    double err = max_error(ours, ref, n, floor_);
    printf("%-34s %-8s err %.2e (tol %.0e)\n", c->name, c->op, err, tol);
    if (!(err <= tol)) {
        fprintf(stderr, "FAIL %s: error %g > %g\n", c->name, err, tol);
        failures++;
        return;
    }
    double scale = floor_;
    for (int64_t i = 0; i < n; i++)
        scale = fabs(ref[i]) > scale ? fabs(ref[i]) : scale;
    float *bad = malloc((size_t)n * sizeof *bad);
    if (!bad)
        die(c->name, "out of memory");
    memcpy(bad, ours, (size_t)n * sizeof *bad);
    bad[n / 2] += (float)(10.0 * tol * scale);
    if (max_error(bad, ref, n, floor_) <= tol) {
        fprintf(stderr, "FAIL %s: control (perturbed gradient) passed\n", c->name);
        failures++;
    }
    free(bad);
}

/* A control computed with the other mode must NOT match torch. */
static void expect_mismatch(const Case *c, const float *other, const double *ref, int64_t n)
{
    if (max_error(other, ref, n, 1.0) <= 1e-5) {
        fprintf(stderr, "FAIL %s: the other mode's gradient matched torch too\n", c->name);
        failures++;
    }
}

static double *widen(const float *x, int64_t n)
{
    double *d = malloc((size_t)n * sizeof *d);
    if (!d)
        die("widen", "out of memory");
    for (int64_t i = 0; i < n; i++)
        d[i] = x[i];
    return d;
}

static void run_ce(const Case *c)
{
    int64_t n = get(c, "x", 0), ch = get(c, "x", 1), hw = get(c, "x", 2) * get(c, "x", 3);
    int64_t nx = n * ch * hw, counted;
    float *x = load(c, "logits", nx, sizeof(float)), *d = malloc((size_t)nx * sizeof *d);
    uint8_t *lab = load(c, "labels", n * hw, 1);
    double *loss = load(c, "loss", 1, sizeof(double)), *grad = load(c, "grad", nx, 8);
    if (!d)
        die(c->name, "out of memory");
    double ours = rt_softmax_ce(n, ch, hw, x, lab, 255, d, &counted);
    double rel = fabs(ours - loss[0]) / fabs(loss[0]);
    printf("%-34s %-8s loss %.9g torch %.9g rel %.1e counted %lld\n", c->name, c->op, ours,
           loss[0], rel, (long long)counted);
    if (!(rel <= 1e-6)) {
        fprintf(stderr, "FAIL %s: loss %.9g, torch %.9g\n", c->name, ours, loss[0]);
        failures++;
    }
    compare(c, d, grad, nx, 1e-5, 0.0);
    free(x), free(d), free(lab), free(loss), free(grad);
}

static void run_resize(const Case *c)
{
    int64_t nc = get(c, "x", 0), h = get(c, "x", 1), w = get(c, "x", 2);
    int64_t oh = get(c, "size", 0), ow = get(c, "size", 1);
    int ac = (int)get(c, "ac", 0);
    float *dy = load(c, "dy", nc * oh * ow, sizeof(float));
    float *want = load(c, "dx", nc * h * w, sizeof(float));
    float *dx = calloc((size_t)(nc * h * w), sizeof *dx);
    if (!dx)
        die(c->name, "out of memory");
    double *ref = widen(want, nc * h * w);
    rt_resize_bilinear_backward(nc, h, w, oh, ow, ac, dy, dx);
    compare(c, dx, ref, nc * h * w, 1e-5, 1.0);
    if (get(c, "ctl", 0)) {
        memset(dx, 0, (size_t)(nc * h * w) * sizeof *dx);
        rt_resize_bilinear_backward(nc, h, w, oh, ow, !ac, dy, dx);
        expect_mismatch(c, dx, ref, nc * h * w);
    }
    free(dy), free(want), free(dx), free(ref);
}

static void run_pool(const Case *c)
{
    RtPool2d p = {get(c, "x", 0), get(c, "x", 1), get(c, "x", 2), get(c, "x", 3),
                  {0}, {0}, {0}, 0};
    for (int i = 0; i < 2; i++)
        p.kernel[i] = (int)get(c, "kernel", i), p.stride[i] = (int)get(c, "stride", i);
    for (int i = 0; i < 4; i++)
        p.pad[i] = (int)get(c, "pad", i);
    int max = !strcmp(c->op, "maxpool");
    p.count_include_pad = max ? 0 : (int)get(c, "cip", 0);
    int64_t oh, ow;
    if (!rt_pool2d_out_hw(&p, &oh, &ow))
        die(c->name, "bad geometry");
    int64_t nx = p.n * p.c * p.h * p.w, ny = p.n * p.c * oh * ow;
    float *dy = load(c, "dy", ny, sizeof(float)), *want = load(c, "dx", nx, sizeof(float));
    float *x = max ? load(c, "x", nx, sizeof(float)) : NULL;
    float *dx = calloc((size_t)nx, sizeof *dx);
    if (!dx)
        die(c->name, "out of memory");
    double *ref = widen(want, nx);
    if (max)
        rt_maxpool2d_backward(&p, x, dy, dx);
    else
        rt_avgpool2d_backward(&p, dy, dx);
    compare(c, dx, ref, nx, 1e-5, 1.0);
    if (!max && get(c, "ctl", 0)) {
        memset(dx, 0, (size_t)nx * sizeof *dx);
        p.count_include_pad = !p.count_include_pad;
        rt_avgpool2d_backward(&p, dy, dx);
        expect_mismatch(c, dx, ref, nx);
    }
    free(dy), free(want), free(x), free(dx), free(ref);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    char path[512], line[1024];
    snprintf(path, sizeof path, "%s/cases.txt", argv[1]);
    FILE *f = fopen(path, "r");
    if (!f)
        die(path, "cannot open");
    int ran = 0;
    while (fgets(line, sizeof line, f)) {
        Case c = {.dir = argv[1]};
        if (!parse_case(line, &c))
            continue;
        if (!strcmp(c.op, "ce"))
            run_ce(&c);
        else if (!strcmp(c.op, "resize"))
            run_resize(&c);
        else if (!strcmp(c.op, "avgpool") || !strcmp(c.op, "maxpool"))
            run_pool(&c);
        else
            die(c.name, "unknown op");
        ran++;
    }
    fclose(f);
    if (!ran)
        die(path, "no cases");
    if (failures) {
        fprintf(stderr, "%d failure(s) in %d cases\n", failures, ran);
        return 1;
    }
    printf("all %d cases match torch\n", ran);
    return 0;
}
