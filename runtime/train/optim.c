/* optim.c — SGD with momentum, Adam, cosine learning rate, gradient-norm
 * clipping: the formulas of torch.optim.SGD / torch.optim.Adam /
 * CosineAnnealingLR / clip_grad_norm_, in the same operation order, so a
 * training run can be compared with torch's step by step.
 *
 * Per-element state (momentum buffers, Adam moments) is malloc'd at init,
 * one array per param, zero at the start as torch's lazily created state.
 */
#include "runtime/train/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* nparam arrays of params[i].numel zeroed floats; NULL if out of memory
 * (nothing left allocated). */
static float **alloc_state(const OptParam *params, int nparam)
{
    float **s = calloc((size_t)(nparam > 0 ? nparam : 1), sizeof *s);
    for (int i = 0; s && i < nparam; i++) {
        s[i] = calloc((size_t)(params[i].numel > 0 ? params[i].numel : 1), sizeof(float));
        if (!s[i]) {
            for (int j = 0; j < i; j++)
                free(s[j]);
            free(s);
            return NULL;
        }
    }
    return s;
}

static void free_state(float **s, int nparam)
{
    for (int i = 0; s && i < nparam; i++)
        free(s[i]);
    free(s);
}

static OptParam *copy_params(const OptParam *params, int nparam)
{
    OptParam *p = malloc((size_t)(nparam > 0 ? nparam : 1) * sizeof *p);
    if (p && nparam > 0)
        memcpy(p, params, (size_t)nparam * sizeof *p);
    return p;
}

bool rt_sgd_init(Sgd *o, const OptParam *params, int nparam, float momentum,
                 float weight_decay, Diag *d)
{
    memset(o, 0, sizeof *o);
    o->momentum = momentum, o->weight_decay = weight_decay, o->nparam = nparam;
    o->params = copy_params(params, nparam);
    o->velocity = alloc_state(params, nparam);
    if (!o->params || !o->velocity) {
        diag_error(d, loc_file(NULL), "sgd: out of memory for %d params", nparam);
        rt_sgd_free(o);
        return false;
    }
    return true;
}

/* g = grad + wd * w; v = momentum * v + g; w -= lr * v (torch: the first
 * step sets v = g, which momentum * 0 + g equals). */
void rt_sgd_step(Sgd *o, float lr)
{
    for (int i = 0; i < o->nparam; i++) {
        const OptParam *p = &o->params[i];
        float wd = p->decay ? o->weight_decay : 0.0f, *v = o->velocity[i];
        for (int64_t j = 0; j < p->numel; j++) {
            float g = p->grad[j] + wd * p->data[j];
            v[j] = o->momentum * v[j] + g;
            p->data[j] -= lr * v[j];
        }
    }
}

void rt_sgd_free(Sgd *o)
{
    free_state(o->velocity, o->nparam);
    free(o->params);
    o->velocity = NULL, o->params = NULL, o->nparam = 0;
}

bool rt_adam_init(Adam *o, const OptParam *params, int nparam, float beta1, float beta2,
                  float eps, float weight_decay, Diag *d)
{
    memset(o, 0, sizeof *o);
    o->beta1 = beta1, o->beta2 = beta2, o->eps = eps, o->weight_decay = weight_decay;
    o->nparam = nparam;
    o->params = copy_params(params, nparam);
    o->m = alloc_state(params, nparam);
    o->v = alloc_state(params, nparam);
    if (!o->params || !o->m || !o->v) {
        diag_error(d, loc_file(NULL), "adam: out of memory for %d params", nparam);
        rt_adam_free(o);
        return false;
    }
    return true;
}

/* As torch.optim.Adam (amsgrad off): g = grad + wd * w;
 * m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
 * w -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps). */
void rt_adam_step(Adam *o, float lr)
{
    o->step++;
    double bc1 = 1.0 - pow(o->beta1, (double)o->step);
    double bc2 = 1.0 - pow(o->beta2, (double)o->step);
    float step_size = (float)(lr / bc1), bc2_sqrt = (float)sqrt(bc2);
    for (int i = 0; i < o->nparam; i++) {
        const OptParam *p = &o->params[i];
        float wd = p->decay ? o->weight_decay : 0.0f, *m = o->m[i], *v = o->v[i];
        for (int64_t j = 0; j < p->numel; j++) {
            float g = p->grad[j] + wd * p->data[j];
            m[j] = o->beta1 * m[j] + (1.0f - o->beta1) * g;
            v[j] = o->beta2 * v[j] + (1.0f - o->beta2) * g * g;
            float denom = sqrtf(v[j]) / bc2_sqrt + o->eps;
            p->data[j] -= step_size * (m[j] / denom);
        }
    }
}

void rt_adam_free(Adam *o)
{
    free_state(o->m, o->nparam);
    free_state(o->v, o->nparam);
    free(o->params);
    o->m = o->v = NULL, o->params = NULL, o->nparam = 0;
}

float rt_cosine_lr(float lr_max, float lr_min, int epoch, int epochs)
{
    const double pi = 3.14159265358979323846;
    if (epochs <= 0)
        return lr_max;
    double f = (1.0 + cos(pi * (double)epoch / (double)epochs)) / 2.0;
    return (float)(lr_min + (lr_max - lr_min) * f);
}

/* torch: total = ||(||g_i||)||_2; coef = max_norm / (total + 1e-6); the
 * gradients are scaled only when coef < 1. */
double rt_clip_grad_norm(const OptParam *params, int nparam, double max_norm)
{
    double sq = 0;
    for (int i = 0; i < nparam; i++)
        for (int64_t j = 0; j < params[i].numel; j++)
            sq += (double)params[i].grad[j] * params[i].grad[j];
    double total = sqrt(sq), coef = max_norm / (total + 1e-6);
    if (coef < 1.0)
        for (int i = 0; i < nparam; i++)
            for (int64_t j = 0; j < params[i].numel; j++)
                params[i].grad[j] *= (float)coef;
    return total;
}
