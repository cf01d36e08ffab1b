/* cli_build.c — genotype file + network options + weights -> Graph. */
#include "cli.h"

Graph *cli_build_net(Arena *a, const NetArgs *na, Genotype *geno, Diag *d)
{
    if (!fe_load_genotype(a, na->genotype_path, na->genotype_name, geno, d))
        return NULL;
    Graph *g = fe_lower_darts(a, geno, &na->cfg, d);
    if (!g || !ir_verify(g, d))
        return NULL;
    if (!na->weights) {
        fe_init_weights(g, na->seed);
        return g;
    }
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
    return arena_printf(a, "weights: deterministic seeded initialisation (seed %llu), "
                        "NOT trained", (unsigned long long)na->seed);
}
