/* ref_int8.c — the int8 reference interpreter: executes a QPlan.
 *
 * Each value gets its own int8 buffer (no memory planning: this is the
 * oracle, kept obvious); each step calls its kernel through a table
 * expanded from Q8_KERNELS, with exactly the pointers and constants the
 * emitted code passes. The kernels are q8_kernels.inc, included here.
 */
#include "runtime/int8/int8.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/int8/q8_kernels.inc"

typedef void Q8Fn(int8_t *y, const int8_t *a, const int8_t *b, const int8_t *w,
                  const int32_t *t, const int32_t *p);
static Q8Fn *const q8_table[NQ8K] = {
#define X(E, n) nasc_q8_##n,
    Q8_KERNELS(X)
#undef X
};

static void free_all(int8_t **buf, uint32_t n)
{
    for (uint32_t v = 0; v < n; v++)
        free(buf[v]);
    free(buf);
}

/* Buffers for the input and every step output (labels need as many bytes
 * as elements too). */
static bool alloc_buffers(const Graph *g, const QPlan *plan, int8_t **buf, Diag *d)
{
    for (uint32_t i = 0; i <= plan->nstep; i++) {
        ValueId v = i < plan->nstep ? plan->steps[i].y : plan->in;
        if (buf[v])
            continue;
        int64_t n = shape_numel(&g->vals[v].shape);
        buf[v] = calloc((size_t)(n > 0 ? n : 1), 1);
        if (!buf[v]) {
            diag_error(d, g->vals[v].loc, "int8 interpreter: out of memory");
            return false;
        }
    }
    return true;
}

bool rt_q8_run(const Graph *g, const QPlan *plan, const float *input, void *output,
               int8_t *q8_out, Diag *d)
{
    int8_t **buf = calloc(g->nval, sizeof *buf);
    if (!buf || !alloc_buffers(g, plan, buf, d)) {
        if (!buf)
            diag_error(d, (Loc){0}, "int8 interpreter: out of memory");
        free_all(buf, buf ? g->nval : 0);
        return false;
    }
    QParam qi = plan->q[plan->in];
    nasc_q8_quantize(buf[plan->in], input, (int32_t)shape_numel(&g->vals[plan->in].shape),
                     plan->in_inv_scale, qi.zp);
    for (uint32_t i = 0; i < plan->nstep; i++) {
        const Q8Step *s = &plan->steps[i];
        q8_table[s->k](buf[s->y], s->a ? buf[s->a] : NULL, s->b ? buf[s->b] : NULL, s->w,
                       s->t, s->p);
    }
    ValueId out = plan->out;
    int64_t n = shape_numel(&g->vals[out].shape);
    if (plan->labels) {
        memcpy(output, buf[out], (size_t)n);
        if (q8_out) {
            ValueId logits = g->nodes[g->vals[out].producer].in[0];
            memcpy(q8_out, buf[logits], (size_t)shape_numel(&g->vals[logits].shape));
        }
    } else {
        nasc_q8_dequantize(output, buf[out], (int32_t)n, plan->q[out].scale, plan->q[out].zp);
        if (q8_out)
            memcpy(q8_out, buf[out], (size_t)n);
    }
    free_all(buf, g->nval);
    return true;
}
