/* cli_build.c — architecture files + network options + weights -> Graph.
 *
 * Two architecture families arrive here: DARTS genotypes (with the macro
 * network chosen by --net) and Auto-DeepLab architectures (canonical JSON,
 * a TF hnasnet description, or the PyTorch search's --path/--cell arrays).
 * Command-line options override what an architecture file says.
 */
#include "cli.h"
#include "runtime/interp.h"

#include <stdlib.h>
#include <string.h>

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

bool cli_init_weights(Graph *g, uint64_t seed, Diag *d)
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

static bool bind_weights(Arena *a, Graph *g, const NetArgs *na, Diag *d)
{
    if (!na->weights)
        return cli_init_weights(g, na->seed, d);
    SafeTensors st;
    if (!fe_safetensors_load(a, na->weights, &st, d))
        return false;
    const char *ignore = na->cfg.auxiliary ? "auxiliary_head." : NULL;
    return fe_bind_weights(g, &st, ignore, d);
}

bool cli_is_adl(Arena *a, const NetArgs *na, Diag *d)
{
    if (na->adl_path || na->adl_cell)
        return true;
    size_t len;
    char *text = fe_read_file(a, na->genotype_path, &len, d);
    return text && fe_sniff_arch(text, len) != FE_ARCH_DARTS;
}

bool cli_load_adl(Arena *a, const NetArgs *na, AdlArch *arch, Diag *d)
{
    fe_adl_defaults(arch);
    if (na->genotype_path) {
        size_t len;
        char *text = fe_read_file(a, na->genotype_path, &len, d);
        if (!text)
            return false;
        const char *file = arena_strdup(a, na->genotype_path);
        bool ok = fe_sniff_arch(text, len) == FE_ARCH_ADL_JSON
                      ? fe_adl_parse_json(a, file, text, len, arch, d)
                      : fe_adl_parse_tf(a, file, text, len, arch, d);
        if (!ok)
            return false;
    }
    if ((na->adl_path && !fe_adl_read_path(a, na->adl_path, arch, d)) ||
        (na->adl_cell && !fe_adl_read_cell(a, na->adl_cell, arch, d)))
        return false;
    if (na->F)
        arch->F = na->F;
    if (na->given_classes)
        arch->classes = na->cfg.classes;
    if (na->given_input) {
        arch->in_h = na->cfg.in_h;
        arch->in_w = na->cfg.in_w;
    }
    if (na->aspp_rates[0])
        memcpy(arch->aspp_rates, na->aspp_rates, sizeof arch->aspp_rates);
    if (na->no_decoder)
        arch->decoder = false;
    if (na->bn)
        arch->bn = strcmp(na->bn, "abn") == 0 ? ADL_BN_ABN : ADL_BN_PLAIN;
    return fe_adl_check(arch, d);
}

static bool build_adl(Arena *a, const NetArgs *na, BuiltNet *out, Diag *d)
{
    AdlArch arch;
    if (!cli_load_adl(a, na, &arch, d))
        return false;
    out->g = fe_lower_autodeeplab(a, &arch, d);
    out->autodeeplab = true;
    out->summary = arena_printf(a, "%s Auto-DeepLab F=%d B=%d layers=%d classes=%d input=%dx%d "
                                "ASPP %d/%d/%d%s%s", arch.name ? arch.name : "unnamed", arch.F,
                                arch.B, arch.nlayers, arch.classes, arch.in_h, arch.in_w,
                                arch.aspp_rates[0], arch.aspp_rates[1], arch.aspp_rates[2],
                                arch.decoder ? " decoder" : " no-decoder",
                                arch.bn == ADL_BN_ABN ? " ABN" : "");
    return out->g != NULL;
}

static bool build_darts(Arena *a, const NetArgs *na, BuiltNet *out, Diag *d)
{
    Genotype geno;
    if (!fe_load_genotype(a, na->genotype_path, na->genotype_name, &geno, d))
        return false;
    const NetConfig *c = &na->cfg;
    out->g = fe_lower_darts(a, &geno, c, d);
    out->summary = arena_printf(a, "%s %s C=%d layers=%d classes=%d input=%dx%d",
                                geno.name ? geno.name : "unnamed",
                                c->kind == NET_CIFAR ? "NetworkCIFAR" : "NetworkImageNet", c->C,
                                c->layers, c->classes, c->in_h, c->in_w);
    return out->g != NULL;
}

/* --output argmax: the graph ends in per-pixel labels instead of logits. */
static bool append_argmax(Graph *g, Diag *d)
{
    ValueId logits = g->outputs[0];
    if (g->vals[logits].shape.rank != 4) {
        diag_error(d, loc_file(NULL), "--output argmax needs a segmentation network; @%s "
                   "outputs class scores", g->name);
        return false;
    }
    ValueId labels = ir_graph_add_node(g, OP_ARGMAX, &logits, 1, NULL, loc_file(NULL), d);
    if (!labels)
        return false;
    ir_value_set_name(g, labels, "labels");
    g->outputs[0] = labels;
    return true;
}

bool cli_build_net(Arena *a, const NetArgs *na, BuiltNet *out, Diag *d)
{
    memset(out, 0, sizeof *out);
    bool adl = cli_is_adl(a, na, d);
    if (d->nerr)
        return false;
    if (!(adl ? build_adl(a, na, out, d) : build_darts(a, na, out, d)))
        return false;
    if (na->argmax && !append_argmax(out->g, d))
        return false;
    return ir_verify(out->g, d) && bind_weights(a, out->g, na, d);
}

const char *cli_weights_note(Arena *a, const NetArgs *na)
{
    if (na->weights) {
        const char *base = strrchr(na->weights, '/');
        return arena_printf(a, "weights: %s", base ? base + 1 : na->weights);
    }
    return arena_printf(a, "weights: deterministic seeded initialisation (seed %llu; "
                        "BatchNorm statistics calibrated on a seeded input), NOT trained",
                        (unsigned long long)na->seed);
}
