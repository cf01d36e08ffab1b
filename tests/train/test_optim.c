/* test_optim.c — the optimisers against torch.
 *
 * Two kinds of check. (1) Values printed by torch 2.x for fixed inputs
 * (the script is in the comment of each block; torch is the oracle, the
 * numbers are its output, not ours): three steps of SGD(lr=0.1,
 * momentum=0.9, weight_decay=0.01) and Adam(lr=0.01, betas=(0.9, 0.999),
 * eps=1e-8, weight_decay=0.01) on w = [1, -2, 0.5] with gradients
 * [.5,-1,2], [-.25,.75,1], [1,1,-1]; CosineAnnealingLR(T_max=50,
 * eta_min=0.001) from 0.025; clip_grad_norm_(max_norm=2) of [3,-4,1] and
 * [2,-2]. Tolerance 2e-6 relative: float32 rounding of a few operations.
 * (2) 30 steps on 2 params of 257 random elements (one without weight
 * decay, as OptParam.decay allows) against the torch formulas written out
 * in double, tolerance 1e-4 relative to max(1, |w|) (float accumulates).
 */
#include "runtime/train/train.h"
#include "tests/check.h"

#include <math.h>

static const float W0[3] = {1.0f, -2.0f, 0.5f};
static const float GRADS[3][3] = {{0.5f, -1.0f, 2.0f}, {-0.25f, 0.75f, 1.0f}, {1, 1, -1}};

static void check_close(const char *what, double got, double want, double rtol)
{
    CHECKF(fabs(got - want) <= rtol * fmax(1.0, fabs(want)), "%s: got %.9g, torch %.9g", what,
           got, want);
}

static void torch_values(void)
{
    Diag d;
    diag_init(&d);
    float w[3], g[3];
    OptParam p = {w, g, 3, true};
    Sgd sgd;
    memcpy(w, W0, sizeof w);
    CHECK(rt_sgd_init(&sgd, &p, 1, 0.9f, 0.01f, &d));
    for (int s = 0; s < 3; s++)
        memcpy(g, GRADS[s], sizeof g), rt_sgd_step(&sgd, 0.1f);
    rt_sgd_free(&sgd);
    const double sgd_want[3] = {0.8065598011016846, -1.9605945348739624, -0.1339428424835205};
    for (int i = 0; i < 3; i++)
        check_close("sgd", w[i], sgd_want[i], 2e-6);

    Adam adam;
    memcpy(w, W0, sizeof w);
    CHECK(rt_adam_init(&adam, &p, 1, 0.9f, 0.999f, 1e-8f, 0.01f, &d));
    for (int s = 0; s < 3; s++)
        memcpy(g, GRADS[s], sizeof g), rt_adam_step(&adam, 0.01f);
    rt_adam_free(&adam);
    const double adam_want[3] = {0.9804415106773376, -1.9921411275863647, 0.4766797721385956};
    for (int i = 0; i < 3; i++)
        check_close("adam", w[i], adam_want[i], 2e-6);

    const int epochs[6] = {0, 1, 10, 25, 49, 50};
    const double lr_want[6] = {0.025, 0.02497632074113926, 0.022708203932499366,
                               0.012999999999999998, 0.0010236792588607412, 0.001};
    for (int i = 0; i < 6; i++)
        check_close("cosine", rt_cosine_lr(0.025f, 0.001f, epochs[i], 50), lr_want[i], 2e-6);

    float ga[3] = {3, -4, 1}, gb[2] = {2, -2}, da[3], db[2];
    OptParam two[2] = {{da, ga, 3, true}, {db, gb, 2, true}};
    check_close("clip norm", rt_clip_grad_norm(two, 2, 2.0), 5.830951690673828, 2e-6);
    const double clipped[5] = {1.028991460800171, -1.3719885349273682, 0.34299713373184204,
                               0.6859942674636841, -0.6859942674636841};
    for (int i = 0; i < 5; i++)
        check_close("clipped", i < 3 ? ga[i] : gb[i - 3], clipped[i], 2e-6);
    /* under the limit nothing is scaled */
    check_close("clip norm 2", rt_clip_grad_norm(two, 2, 10.0), 2.0, 2e-6);
    check_close("unclipped", ga[1], -1.3719885349273682, 2e-6);
    CHECK(d.nerr == 0);
    diag_free(&d);
}

enum { NP = 2, NUMEL = 257, STEPS = 30 };

static double uniform(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

/* Gradient of step s for element j of param i: deterministic noise. */
static float grad_at(int s, int i, int j)
{
    uint64_t st = (uint64_t)(s * 1000003 + i * 7919 + j) * 2654435761ULL + 1;
    uniform(&st);
    return (float)uniform(&st);
}

static void formulas(bool adam)
{
    Diag d;
    diag_init(&d);
    static float w[NP][NUMEL], g[NP][NUMEL];
    static double ref[NP][NUMEL], m[NP][NUMEL], v[NP][NUMEL], w0[NP][NUMEL];
    uint64_t seed = 99;
    OptParam ps[NP];
    for (int i = 0; i < NP; i++) {
        ps[i] = (OptParam){w[i], g[i], NUMEL, i == 0};
        for (int j = 0; j < NUMEL; j++)
            w0[i][j] = ref[i][j] = w[i][j] = (float)uniform(&seed), m[i][j] = v[i][j] = 0;
    }
    const double lr = adam ? 0.003 : 0.05, wd = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
    Sgd sgd;
    Adam opt;
    CHECK(adam ? rt_adam_init(&opt, ps, NP, (float)b1, (float)b2, (float)eps, (float)wd, &d)
               : rt_sgd_init(&sgd, ps, NP, 0.9f, (float)wd, &d));
    double worst = 0, moved = 0;
    for (int s = 1; s <= STEPS; s++) {
        for (int i = 0; i < NP; i++)
            for (int j = 0; j < NUMEL; j++) {
                double gr = g[i][j] = grad_at(s, i, j);
                gr += (i == 0 ? wd : 0.0) * ref[i][j];
                if (!adam) { /* torch: buf = g at step 1, else 0.9 buf + g */
                    m[i][j] = s == 1 ? gr : 0.9 * m[i][j] + gr;
                    ref[i][j] -= lr * m[i][j];
                    continue;
                }
                m[i][j] = b1 * m[i][j] + (1 - b1) * gr;
                v[i][j] = b2 * v[i][j] + (1 - b2) * gr * gr;
                double mhat = m[i][j] / (1 - pow(b1, s)), vhat = v[i][j] / (1 - pow(b2, s));
                ref[i][j] -= lr * mhat / (sqrt(vhat) + eps);
            }
        if (adam)
            rt_adam_step(&opt, (float)lr);
        else
            rt_sgd_step(&sgd, (float)lr);
        for (int i = 0; i < NP; i++)
            for (int j = 0; j < NUMEL; j++)
                worst = fmax(worst, fabs(w[i][j] - ref[i][j]) / fmax(1.0, fabs(ref[i][j]))),
                moved = fmax(moved, fabs(w[i][j] - w0[i][j]));
    }
    printf("%s vs double formulas, %d steps: worst relative error %.3g, weights moved up to "
           "%.3g\n", adam ? "adam" : "sgd", STEPS, worst, moved);
    CHECK(worst <= 1e-4);
    CHECK(moved > 1e-2); /* far beyond the tolerance: a no-op optimiser fails */
    if (adam)
        rt_adam_free(&opt);
    else
        rt_sgd_free(&sgd);
    CHECK(d.nerr == 0);
    diag_free(&d);
}

int main(void)
{
    torch_values();
    formulas(false);
    formulas(true);
    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    return failures != 0;
}
