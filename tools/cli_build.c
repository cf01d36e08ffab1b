/* cli_build.c — genotype file + network options + weights -> Graph. */
#include "cli.h"
#include "runtime/interp.h"

#include <stdlib.h>

void cli_seeded_input(float *x, int64_t n)
{
    uint32_t s = 2463534242u; /* xorshift32: the same floats everywhere */
    for (int64_t i = 0; i < n; i++) {
        /* sum of three uniforms in [-1, 1): near-normal with variance 1,
         * the scale of a normalised image */
        float sum = 0;
        for (int k = 0; k < 3; k++) {
            s ^= s << 13, s ^= s >> 17, s ^= s << 5;
            sum += (float)(s >> 8) * (1.0f / 8388608.0f) - 1.0f;
        }
        x[i] = sum;
    }
}

/* Seeded weights, then BN statistics calibrated on the seeded input. */
static bool init_weights(Graph *g, uint64_t seed, Diag *d)
{
    fe_init_weights(g, seed);
    int64_t n = shape_numel(&g->vals[g->inputs[0]].shape);
    float *x = malloc((size_t)n * sizeof *x);
    if (!x) {
        diag_error(d, loc_file(NULL), "out of memory");
        return false;
    }
    cli_seeded_input(x, n);
    bool ok = rt_interp_calibrate_bn(g, x, d);
    free(x);
    return ok;
}

Graph *cli_build_net(Arena *a, const NetArgs *na, Genotype *geno, Diag *d)
{
    if (!fe_load_genotype(a, na->genotype_path, na->genotype_name, geno, d))
        return NULL;
    Graph *g = fe_lower_darts(a, geno, &na->cfg, d);
    if (!g || !ir_verify(g, d))
        return NULL;
    if (!na->weights)
        return init_weights(g, na->seed, d) ? g : NULL;
    SafeTensors st;
    if (!fe_safetensors_load(a, na->weights, &st, d))
        return NULL;
    const char *ignore = na->cfg.auxiliary ? "auxiliary_head." : NULL;
    return fe_bind_weights(g, &st, ignore, d) ? g : NULL;
}

const char *cli_weights_note(Arena *a, const NetArgs *na)
{
    if (na->weights)
        return arena_printf(a, "weights: %s", na->weights);
    return arena_printf(a, "weights: deterministic seeded initialisation (seed %llu; "
                        "BatchNorm statistics calibrated on a seeded input), NOT trained",
                        (unsigned long long)na->seed);
}
