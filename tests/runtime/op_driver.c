/* op_driver.c — runs the runtime kernels on the cases torch_ops.py wrote
 * and compares with PyTorch's outputs.
 *
 * usage: op_driver DIR. DIR/cases.txt has one case per line,
 *   <op> <case> key=v[,v...] ...
 * and DIR/<case>.<tensor>.bin the raw f32 tensors ("y" is torch's output).
 * Output sizes are derived from OUR geometry functions, and each file must
 * hold exactly that many floats, so a shape disagreement with torch fails
 * too. Every kernel variant that applies to a case is checked (conv2d:
 * naive, im2col+sgemm, dispatch, and depthwise direct when it applies).
 * Exit 0 only if at least one case ran and all passed.
 */
#define _POSIX_C_SOURCE 200809L /* strtok_r */
#include "runtime/ref/ref.h"
#include "testutil.h"

#include <string.h>

enum { MAXKEY = 16, MAXV = 8 };

typedef struct Case {
    char op[32], name[96];
    int nkey;
    struct {
        char key[16];
        int n;
        double v[MAXV];
    } kv[MAXKEY];
    const char *dir;
} Case;

static void die(const Case *c, const char *msg, const char *what)
{
    fprintf(stderr, "FAIL %s: %s %s\n", c ? c->name : "cases.txt", msg, what);
    exit(1);
}

static bool parse_case(char *line, Case *c)
{
    char *save = NULL, *tok = strtok_r(line, " \t\n", &save);
    if (!tok)
        return false;
    snprintf(c->op, sizeof c->op, "%s", tok);
    tok = strtok_r(NULL, " \t\n", &save);
    if (!tok)
        die(NULL, "line without a case name:", c->op);
    snprintf(c->name, sizeof c->name, "%s", tok);
    c->nkey = 0;
    while ((tok = strtok_r(NULL, " \t\n", &save))) {
        char *eq = strchr(tok, '=');
        if (!eq || c->nkey == MAXKEY)
            die(c, "bad key", tok);
        *eq = '\0';
        snprintf(c->kv[c->nkey].key, sizeof c->kv[0].key, "%s", tok);
        int n = 0;
        for (char *p = eq + 1; *p && n < MAXV; n++) {
            char *end;
            c->kv[c->nkey].v[n] = strtod(p, &end);
            if (end == p)
                die(c, "bad number in", tok);
            p = *end == ',' ? end + 1 : end;
        }
        c->kv[c->nkey++].n = n;
    }
    return true;
}

/* Value i of key; a missing key is an error in the case file. */
static double getf(const Case *c, const char *key, int i)
{
    for (int k = 0; k < c->nkey; k++)
        if (!strcmp(c->kv[k].key, key)) {
            if (i >= c->kv[k].n)
                die(c, "too few values for", key);
            return c->kv[k].v[i];
        }
    die(c, "missing key", key);
    return 0;
}
static int64_t geti(const Case *c, const char *key, int i) { return (int64_t)getf(c, key, i); }
static int getn(const Case *c, const char *key, int i) { return (int)getf(c, key, i); }

/* DIR/<case>.<tensor>.bin, which must hold exactly numel floats. */
static float *load(const Case *c, const char *tensor, int64_t numel)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.%s.bin", c->dir, c->name, tensor);
    FILE *f = fopen(path, "rb");
    if (!f)
        die(c, "cannot open", path);
    float *p = tu_alloc(numel + 1);
    size_t got = fread(p, sizeof *p, (size_t)numel + 1, f);
    fclose(f);
    if (got != (size_t)numel) {
        fprintf(stderr, "FAIL %s: %s holds %zu floats, our shape needs %lld\n", c->name, path,
                got, (long long)numel);
        exit(1);
    }
    return p;
}

static void check(const Case *c, const char *variant, const float *got, const float *want,
                  int64_t n)
{
    char what[160];
    snprintf(what, sizeof what, "%s [%s]", c->name, variant);
    tu_check(what, got, want, n);
}

static void run_conv2d(const Case *c)
{
    RtConv2d p = {geti(c, "x", 0), geti(c, "x", 1), geti(c, "x", 2), geti(c, "x", 3),
                  geti(c, "w", 0), geti(c, "w", 2), geti(c, "w", 3),
                  {getn(c, "stride", 0), getn(c, "stride", 1)},
                  {getn(c, "pad", 0), getn(c, "pad", 1), getn(c, "pad", 2), getn(c, "pad", 3)},
                  {getn(c, "dilation", 0), getn(c, "dilation", 1)}, getn(c, "groups", 0)};
    int64_t oh, ow;
    if (!rt_conv2d_out_hw(&p, &oh, &ow))
        die(c, "geometry rejected", "");
    int64_t ny = p.n * p.oc * oh * ow;
    float *x = load(c, "x", p.n * p.c * p.h * p.w);
    float *w = load(c, "w", p.oc * (p.c / p.groups) * p.kh * p.kw);
    float *b = getn(c, "bias", 0) ? load(c, "b", p.oc) : NULL;
    float *y = load(c, "y", ny), *got = tu_poisoned(ny);
    float *ws = tu_alloc((int64_t)rt_f32_conv2d__im2col_sgemm_workspace(&p));
    rt_ref_conv2d(&p, x, w, b, got);
    check(c, "rt_ref_conv2d", got, y, ny);
    rt_f32_conv2d__im2col_sgemm(&p, x, w, b, got, ws);
    check(c, "im2col_sgemm", got, y, ny);
    if (rt_f32_dwconv2d__direct_applies(&p)) {
        rt_f32_dwconv2d__direct(&p, x, w, b, got);
        check(c, "dwconv2d_direct", got, y, ny);
    }
    rt_f32_conv2d(&p, x, w, b, got, ws); /* dispatch never needs more than im2col's ws */
    check(c, "rt_f32_conv2d", got, y, ny);
    free(x), free(w), free(b), free(y), free(got), free(ws);
}

static void run_pool(const Case *c, bool is_max)
{
    RtPool2d p = {geti(c, "x", 0), geti(c, "x", 1), geti(c, "x", 2), geti(c, "x", 3),
                  {getn(c, "kernel", 0), getn(c, "kernel", 1)},
                  {getn(c, "stride", 0), getn(c, "stride", 1)},
                  {getn(c, "pad", 0), getn(c, "pad", 1), getn(c, "pad", 2), getn(c, "pad", 3)},
                  is_max ? 0 : getn(c, "cip", 0)};
    int64_t oh, ow;
    if (!rt_pool2d_out_hw(&p, &oh, &ow))
        die(c, "geometry rejected", "");
    int64_t ny = p.n * p.c * oh * ow;
    float *x = load(c, "x", p.n * p.c * p.h * p.w), *y = load(c, "y", ny), *got = tu_poisoned(ny);
    if (is_max)
        rt_ref_maxpool2d(&p, x, got);
    else
        rt_ref_avgpool2d(&p, x, got);
    check(c, is_max ? "rt_ref_maxpool2d" : "rt_ref_avgpool2d", got, y, ny);
    free(x), free(y), free(got);
}

static void run_maxpool2d(const Case *c) { run_pool(c, true); }
static void run_avgpool2d(const Case *c) { run_pool(c, false); }

static int64_t numel4(const Case *c)
{
    return geti(c, "x", 0) * geti(c, "x", 1) * geti(c, "x", 2) * geti(c, "x", 3);
}

static void run_gavgpool(const Case *c)
{
    int64_t n = geti(c, "x", 0), ch = geti(c, "x", 1), hw = geti(c, "x", 2) * geti(c, "x", 3);
    float *x = load(c, "x", n * ch * hw), *y = load(c, "y", n * ch), *got = tu_poisoned(n * ch);
    rt_ref_gavgpool(n, ch, hw, x, got);
    check(c, "rt_ref_gavgpool", got, y, n * ch);
    free(x), free(y), free(got);
}

static void run_batchnorm(const Case *c)
{
    int64_t n = geti(c, "x", 0), ch = geti(c, "x", 1), hw = geti(c, "x", 2) * geti(c, "x", 3);
    bool affine = getn(c, "affine", 0);
    float *x = load(c, "x", n * ch * hw), *y = load(c, "y", n * ch * hw);
    float *mean = load(c, "mean", ch), *var = load(c, "var", ch);
    float *gamma = affine ? load(c, "gamma", ch) : NULL;
    float *beta = affine ? load(c, "beta", ch) : NULL;
    float *got = tu_poisoned(n * ch * hw);
    rt_ref_batchnorm(n, ch, hw, x, mean, var, gamma, beta, (float)getf(c, "eps", 0), got);
    check(c, "rt_ref_batchnorm", got, y, n * ch * hw);
    free(x), free(y), free(mean), free(var), free(gamma), free(beta), free(got);
}

static void run_linear(const Case *c)
{
    int64_t n = geti(c, "x", 0), ch = geti(c, "x", 1), k = geti(c, "w", 0);
    float *x = load(c, "x", n * ch), *w = load(c, "w", k * ch), *y = load(c, "y", n * k);
    float *b = getn(c, "bias", 0) ? load(c, "b", k) : NULL, *got = tu_poisoned(n * k);
    rt_ref_linear(n, ch, k, x, w, b, got);
    check(c, "rt_ref_linear", got, y, n * k);
    free(x), free(w), free(y), free(b), free(got);
}

static void run_relu(const Case *c)
{
    int64_t n = numel4(c);
    float *x = load(c, "x", n), *y = load(c, "y", n), *got = tu_poisoned(n);
    rt_ref_relu(n, x, got);
    check(c, "rt_ref_relu", got, y, n);
    free(x), free(y), free(got);
}

static void run_leaky_relu(const Case *c)
{
    int64_t n = numel4(c);
    float *x = load(c, "x", n), *y = load(c, "y", n), *got = tu_poisoned(n);
    rt_ref_leaky_relu(n, x, (float)getf(c, "slope", 0), got);
    check(c, "rt_ref_leaky_relu", got, y, n);
    if (memcmp(got, y, (size_t)n * sizeof *y)) { /* one product per element: exact */
        fprintf(stderr, "FAIL %s: rt_ref_leaky_relu differs from torch in some bit\n", c->name);
        tu_failures++;
    }
    free(x), free(y), free(got);
}

static void run_add(const Case *c)
{
    int64_t n = numel4(c);
    float *a = load(c, "a", n), *b = load(c, "b", n), *y = load(c, "y", n), *got = tu_poisoned(n);
    rt_ref_add(n, a, b, got);
    check(c, "rt_ref_add", got, y, n);
    free(a), free(b), free(y), free(got);
}

static void run_concat(const Case *c)
{
    int64_t n = geti(c, "x", 0), hw = geti(c, "x", 1) * geti(c, "x", 2), cs[MAXV], ctot = 0;
    const float *xs[MAXV];
    int nx = 0;
    for (; nx < MAXV; nx++) {
        int k = 0;
        while (k < c->nkey && strcmp(c->kv[k].key, "cs"))
            k++;
        if (k == c->nkey || nx >= c->kv[k].n)
            break;
        char t[8];
        snprintf(t, sizeof t, "x%d", nx);
        cs[nx] = geti(c, "cs", nx), ctot += cs[nx];
        xs[nx] = load(c, t, n * cs[nx] * hw);
    }
    float *y = load(c, "y", n * ctot * hw), *got = tu_poisoned(n * ctot * hw);
    rt_ref_concat(n, hw, nx, xs, cs, got);
    check(c, "rt_ref_concat", got, y, n * ctot * hw);
    for (int i = 0; i < nx; i++)
        free((void *)xs[i]);
    free(y), free(got);
}

static void run_crop(const Case *c)
{
    int64_t n = geti(c, "x", 0), ch = geti(c, "x", 1), h = geti(c, "x", 2), w = geti(c, "x", 3);
    int64_t top = geti(c, "top", 0), left = geti(c, "left", 0);
    int64_t ny = n * ch * (h - top) * (w - left);
    float *x = load(c, "x", numel4(c)), *y = load(c, "y", ny), *got = tu_poisoned(ny);
    rt_ref_crop(n, ch, h, w, top, left, h - top, w - left, x, got);
    check(c, "rt_ref_crop", got, y, ny);
    free(x), free(y), free(got);
}

static void run_zero(const Case *c)
{
    int s = getn(c, "stride", 0);
    int64_t ny = geti(c, "x", 0) * geti(c, "x", 1) * rt_zero_out(geti(c, "x", 2), s) *
                 rt_zero_out(geti(c, "x", 3), s);
    float *y = load(c, "y", ny), *got = tu_poisoned(ny);
    rt_ref_zero(ny, got);
    check(c, "rt_ref_zero", got, y, ny);
    free(y), free(got);
}

/* Tighter than tu_check: the kernel's weights are PyTorch's bit for bit,
 * so only the rounding of the four products and three sums may differ
 * (torch's AVX2 build contracts them to FMA): max |got - want| must be
 * <= 1e-5 * max(1, max |want|). Also prints how many elements are
 * bit-identical, for information. */
static void check_close(const Case *c, const char *variant, const float *got, const float *want,
                        int64_t n)
{
    double maxref = 1.0, maxdiff = 0.0;
    int64_t worst = 0, same = 0;
    for (int64_t i = 0; i < n; i++) {
        double diff = fabs((double)got[i] - (double)want[i]);
        maxref = fmax(maxref, fabs((double)want[i]));
        same += got[i] == want[i];
        if (!(diff <= maxdiff)) /* NaN is the worst */
            maxdiff = isnan(diff) ? INFINITY : diff, worst = i;
    }
    printf("     %s: %lld of %lld bit-identical, max diff %.3g\n", c->name, (long long)same,
           (long long)n, maxdiff);
    if (!(maxdiff <= 1e-5 * maxref)) {
        fprintf(stderr, "FAIL %s [%s]: max diff %g at %lld (got %.9g, want %.9g), limit %g\n",
                c->name, variant, maxdiff, (long long)worst, got[worst], want[worst],
                1e-5 * maxref);
        tu_failures++;
    }
}

static void run_resize_bilinear(const Case *c)
{
    int64_t nc = geti(c, "x", 0) * geti(c, "x", 1), h = geti(c, "x", 2), w = geti(c, "x", 3);
    int64_t oh = geti(c, "size", 0), ow = geti(c, "size", 1), ny = nc * oh * ow;
    float *x = load(c, "x", numel4(c)), *y = load(c, "y", ny), *got = tu_poisoned(ny);
    rt_ref_resize_bilinear(nc, h, w, oh, ow, getn(c, "ac", 0), x, got);
    check_close(c, "rt_ref_resize_bilinear", got, y, ny);
    free(x), free(y), free(got);
}

/* The weight matrix of one axis from rt_resize_taps must be torch's bit
 * for bit (torch_ops.py reads it off with identity inputs). */
static void run_resize_taps(const Case *c)
{
    int64_t n = geti(c, "n", 0), m = geti(c, "m", 0);
    float *y = load(c, "y", n * m), *got = tu_alloc(n * m);
    memset(got, 0, (size_t)(n * m) * sizeof *got);
    for (int64_t o = 0; o < m; o++) {
        RtResizeTap t;
        rt_resize_taps(n, m, getn(c, "ac", 0), o, &t);
        got[t.i0 * m + o] += 1.0f - t.lambda;
        got[t.i1 * m + o] += t.lambda;
    }
    for (int64_t i = 0; i < n * m; i++)
        if (got[i] != y[i]) {
            fprintf(stderr, "FAIL %s: weight of input %lld in output %lld is %.9g, torch %.9g\n",
                    c->name, (long long)(i / m), (long long)(i % m), got[i], y[i]);
            tu_failures++;
            break;
        }
    free(y), free(got);
}

static const struct {
    const char *op;
    void (*run)(const Case *c);
} runners[] = {
    {"conv2d", run_conv2d}, {"maxpool2d", run_maxpool2d}, {"avgpool2d", run_avgpool2d},
    {"gavgpool", run_gavgpool}, {"batchnorm", run_batchnorm}, {"linear", run_linear},
    {"relu", run_relu}, {"leaky_relu", run_leaky_relu}, {"add", run_add},
    {"concat", run_concat}, {"crop", run_crop}, {"zero", run_zero},
    {"resize_bilinear", run_resize_bilinear},
    {"resize_taps", run_resize_taps},
};

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: op_driver DIR\n");
        return 2;
    }
    char path[1024], line[1024];
    snprintf(path, sizeof path, "%s/cases.txt", argv[1]);
    FILE *f = fopen(path, "r");
    if (!f)
        die(NULL, "cannot open", path);
    int ncase = 0;
    Case c;
    c.dir = argv[1];
    while (fgets(line, sizeof line, f)) {
        if (!parse_case(line, &c))
            continue;
        size_t i = 0;
        while (i < sizeof runners / sizeof runners[0] && strcmp(runners[i].op, c.op))
            i++;
        if (i == sizeof runners / sizeof runners[0])
            die(&c, "unknown op", c.op);
        int before = tu_failures;
        runners[i].run(&c);
        printf("%s %s %s\n", tu_failures == before ? "ok  " : "FAIL", c.op, c.name);
        ncase++;
    }
    fclose(f);
    if (ncase == 0)
        die(NULL, "no cases in", path);
    printf("%d cases, %d failure(s) (sgemm backend: %s)\n", ncase, tu_failures,
           rt_sgemm_backend());
    return tu_failures ? 1 : 0;
}
