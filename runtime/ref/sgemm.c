/* sgemm.c — the one matrix multiply every BLAS-shaped kernel goes through.
 *
 * rt_sgemm is the only place that knows whether OpenBLAS is linked: CMake
 * defines NASC_WITH_OPENBLAS for this file alone, so no other kernel carries
 * an #ifdef. Without OpenBLAS the loop below is used; it is ordered so the
 * innermost loop walks rows of B and C contiguously, which keeps full-size
 * networks usable (if slow) in a BLAS-less build.
 */
#include "runtime/ref/ref.h"

#ifdef NASC_WITH_OPENBLAS
#include <cblas.h>
#endif

/* A(i,p) of row-major A stored as [m,k] or, transposed, [k,m]. */
static inline float at(const float *a, bool t, int64_t ld, int64_t i, int64_t p)
{
    return t ? a[p * ld + i] : a[i * ld + p];
}

void rt_sgemm__naive(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                     const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                     float *c, int64_t ldc)
{
    for (int64_t i = 0; i < m; i++) {
        float *ci = c + i * ldc;
        /* beta == 0 overwrites C (as BLAS: stale NaNs must not survive). */
        for (int64_t j = 0; j < n; j++)
            ci[j] = beta == 0.0f ? 0.0f : beta * ci[j];
        if (tb) {
            /* B is [n,k]: row j of B is contiguous, take dot products. */
            for (int64_t j = 0; j < n; j++) {
                float s = 0.0f;
                for (int64_t p = 0; p < k; p++)
                    s += at(a, ta, lda, i, p) * b[j * ldb + p];
                ci[j] += alpha * s;
            }
            continue;
        }
        for (int64_t p = 0; p < k; p++) {
            float aip = alpha * at(a, ta, lda, i, p);
            const float *bp = b + p * ldb;
            for (int64_t j = 0; j < n; j++)
                ci[j] += aip * bp[j];
        }
    }
}

#ifdef NASC_WITH_OPENBLAS
/* Layer sizes are far below 2^31, the range of OpenBLAS's int arguments. */
void rt_sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
              int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    if (m == 0 || n == 0)
        return;
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                (int)m, (int)n, (int)k, alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

const char *rt_sgemm_backend(void) { return "openblas"; }
#else
void rt_sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
              int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    rt_sgemm__naive(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

const char *rt_sgemm_backend(void) { return "naive"; }
#endif
