/* cli_args.c — option parsing shared by the verbs that build networks. */
#include "cli.h"
#include "passes/passes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool cli_is_opt(const char *arg, const char *opt)
{
    size_t n = strlen(opt);
    return strncmp(arg, opt, n) == 0 && (arg[n] == 0 || arg[n] == '=');
}

const char *cli_value(int argc, char **argv, int *i, const char *opt)
{
    const char *eq = strchr(argv[*i], '=');
    if (eq && strncmp(argv[*i], opt, strlen(opt)) == 0)
        return eq + 1;
    if (*i + 1 >= argc) {
        fprintf(stderr, "nasc: error: option %s needs a value\n", opt);
        return NULL;
    }
    return argv[++*i];
}

static bool parse_int_arg(const char *opt, const char *s, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "nasc: error: %s expects an integer in %ld..%ld, got '%s'\n", opt, lo,
                hi, s);
        return false;
    }
    *out = (int)v;
    return true;
}

bool cli_parse_hw(const char *s, int *h, int *w)
{
    char *end;
    errno = 0;
    long a = strtol(s, &end, 10);
    if (errno || end == s || (*end != 'x' && *end != 'X'))
        return false;
    const char *rest = end + 1;
    long b = strtol(rest, &end, 10);
    if (errno || end == rest || *end || a < 1 || b < 1 || a > 16384 || b > 16384)
        return false;
    *h = (int)a;
    *w = (int)b;
    return true;
}

/* Returns the --net kind named in argv (default cifar); a bad value is
 * reported when the option itself is parsed. */
static NetKind scan_net_kind(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "--net") == 0 && i + 1 < argc)
            v = argv[i + 1];
        else if (strncmp(argv[i], "--net=", 6) == 0)
            v = argv[i] + 6;
        if (v && strcmp(v, "imagenet") == 0)
            return NET_IMAGENET;
    }
    return NET_CIFAR;
}

/* --net picks the macro defaults before any option is applied, so --C,
 * --layers, ... win wherever they stand on the command line. */
void cli_net_defaults(NetArgs *na, int argc, char **argv)
{
    memset(na, 0, sizeof *na);
    fe_netconfig_default(&na->cfg, scan_net_kind(argc, argv));
}

/* "6,12,18" -> three rates in 1..4096. */
static bool parse_rates(const char *s, int *rates)
{
    char *end;
    for (int k = 0; k < 3; k++) {
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || end == s || v < 1 || v > 4096 || *end != (k < 2 ? ',' : 0))
            return false;
        rates[k] = (int)v;
        s = end + 1;
    }
    return true;
}

/* Auto-DeepLab options: --path, --cell, --F, --aspp-rates, --no-decoder, --bn. */
static int adl_option(NetArgs *na, int argc, char **argv, int *i)
{
    const char *a = argv[*i], *v;
    if (cli_is_opt(a, "--path") || cli_is_opt(a, "--cell")) {
        bool path = cli_is_opt(a, "--path");
        if (!(v = cli_value(argc, argv, i, path ? "--path" : "--cell")))
            return -1;
        *(path ? &na->adl_path : &na->adl_cell) = v;
        return 1;
    }
    if (cli_is_opt(a, "--F")) {
        if (!(v = cli_value(argc, argv, i, "--F")))
            return -1;
        return parse_int_arg("--F", v, 1, 4096, &na->F) ? 1 : -1;
    }
    if (cli_is_opt(a, "--aspp-rates")) {
        if (!(v = cli_value(argc, argv, i, "--aspp-rates")))
            return -1;
        if (!parse_rates(v, na->aspp_rates)) {
            fprintf(stderr, "nasc: error: --aspp-rates expects three rates like 6,12,18, got "
                    "'%s'\n", v);
            return -1;
        }
        return 1;
    }
    if (strcmp(a, "--no-decoder") == 0) {
        na->no_decoder = true;
        return 1;
    }
    if (cli_is_opt(a, "--bn")) {
        if (!(v = cli_value(argc, argv, i, "--bn")))
            return -1;
        if (strcmp(v, "bn") && strcmp(v, "abn")) {
            fprintf(stderr, "nasc: error: --bn expects bn or abn, got '%s'\n", v);
            return -1;
        }
        na->bn = v;
        return 1;
    }
    return 0;
}

int cli_net_option(NetArgs *na, int argc, char **argv, int *i)
{
    const char *a = argv[*i], *v;
    NetConfig *c = &na->cfg;
    struct { const char *opt; int *dst; long lo, hi; } ints[] = {
        {"--C", &c->C, 2, 4096},
        {"--layers", &c->layers, 1, 1000},
        {"--classes", &c->classes, 1, 1000000},
        {"--in-ch", &c->in_ch, 1, 4096},
    };
    for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++) {
        if (!cli_is_opt(a, ints[k].opt))
            continue;
        if (!(v = cli_value(argc, argv, i, ints[k].opt)))
            return -1;
        na->given_classes |= ints[k].dst == &c->classes;
        return parse_int_arg(ints[k].opt, v, ints[k].lo, ints[k].hi, ints[k].dst) ? 1 : -1;
    }
    int r = adl_option(na, argc, argv, i);
    if (r != 0)
        return r;
    if (cli_is_opt(a, "--net")) {
        if (!(v = cli_value(argc, argv, i, "--net")))
            return -1;
        if (strcmp(v, "cifar") && strcmp(v, "imagenet")) {
            fprintf(stderr, "nasc: error: --net expects cifar or imagenet, got '%s'\n", v);
            return -1;
        }
        return 1; /* applied by cli_net_defaults */
    }
    if (cli_is_opt(a, "--input")) {
        if (!(v = cli_value(argc, argv, i, "--input")))
            return -1;
        na->given_input = true;
        if (!cli_parse_hw(v, &c->in_h, &c->in_w)) {
            fprintf(stderr, "nasc: error: --input expects HxW (e.g. 32x32), got '%s'\n", v);
            return -1;
        }
        return 1;
    }
    if (cli_is_opt(a, "--genotype")) {
        na->genotype_name = cli_value(argc, argv, i, "--genotype");
        return na->genotype_name ? 1 : -1;
    }
    if (cli_is_opt(a, "--weights")) {
        na->weights = cli_value(argc, argv, i, "--weights");
        return na->weights ? 1 : -1;
    }
    if (cli_is_opt(a, "--seed")) {
        int seed;
        if (!(v = cli_value(argc, argv, i, "--seed")) ||
            !parse_int_arg("--seed", v, 0, 2147483647, &seed))
            return -1;
        na->seed = (uint64_t)seed;
        return 1;
    }
    if (cli_is_opt(a, "--output")) {
        if (!(v = cli_value(argc, argv, i, "--output")))
            return -1;
        if (strcmp(v, "logits") && strcmp(v, "argmax")) {
            fprintf(stderr, "nasc: error: --output expects logits or argmax, got '%s'\n", v);
            return -1;
        }
        na->argmax = strcmp(v, "argmax") == 0;
        return 1;
    }
    if (strcmp(a, "--auxiliary") == 0) {
        c->auxiliary = true;
        return 1;
    }
    return 0;
}

/* "65536", "64k" or "4M" (k and M count 1024s) -> bytes in 1..2^40. */
static bool parse_bytes(const char *opt, const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    long long unit = *end == 'k' || *end == 'K' ? 1024 : *end == 'm' || *end == 'M' ? 1 << 20 : 1;
    if (unit > 1)
        end++;
    if (errno || end == s || *end || v < 1 || v > (1LL << 40) / unit) {
        fprintf(stderr, "nasc: error: %s expects a byte count like 65536, 64k or 4M, got "
                "'%s'\n", opt, s);
        return false;
    }
    *out = (int64_t)(v * unit);
    return true;
}

int cli_target_option(CgOptions *o, int argc, char **argv, int *i)
{
    const char *a = argv[*i], *v;
    if (cli_is_opt(a, "--target")) {
        if (!(v = cli_value(argc, argv, i, "--target")))
            return -1;
        if (!cg_target_parse(v, &o->target)) {
            fprintf(stderr, "nasc: error: --target expects host, generic, cortex-m4 or "
                    "cortex-m7, got '%s'\n", v);
            return -1;
        }
        return 1;
    }
    if (cli_is_opt(a, "--conv")) {
        static const char *const modes[CG_NCONV] = {"auto", "direct", "winograd",
                                                     "winograd2"};
        if (!(v = cli_value(argc, argv, i, "--conv")))
            return -1;
        for (int m = 0; m < CG_NCONV; m++)
            if (strcmp(v, modes[m]) == 0) {
                o->conv = (CgConv)m;
                return 1;
            }
        fprintf(stderr, "nasc: error: --conv expects auto, direct, winograd or winograd2, "
                        "got '%s'\n", v);
        return -1;
    }
    bool ram = cli_is_opt(a, "--max-ram");
    if (!ram && !cli_is_opt(a, "--max-flash"))
        return 0;
    const char *opt = ram ? "--max-ram" : "--max-flash";
    if (!(v = cli_value(argc, argv, i, opt)))
        return -1;
    return parse_bytes(opt, v, ram ? &o->max_ram : &o->max_flash) ? 1 : -1;
}

int cli_pass_option(PassArgs *pa, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    if (strcmp(a, "-O0") == 0 || strcmp(a, "-O1") == 0 || strcmp(a, "-O2") == 0) {
        pa->level = a[2] - '0';
        return 1;
    }
    if (strcmp(a, "--print-after-all") == 0 || strcmp(a, "--stats") == 0) {
        *(a[2] == 's' ? &pa->stats : &pa->print_after_all) = true;
        return 1;
    }
    if (cli_is_opt(a, "--dilation")) {
        pa->dilation = cli_value(argc, argv, i, "--dilation");
        return pa->dilation ? 1 : -1;
    }
    bool passes = cli_is_opt(a, "--passes");
    if (!passes && !cli_is_opt(a, "--print-after"))
        return 0;
    const char *opt = passes ? "--passes" : "--print-after";
    const char *v = cli_value(argc, argv, i, opt);
    *(passes ? &pa->passes : &pa->print_after) = v;
    return v ? 1 : -1;
}

bool cli_pass_pipeline(Arena *a, const PassArgs *pa, const char *const **names, int *n,
                       Diag *d)
{
    if (!pa->passes) {
        *names = pass_pipeline_for_dilation(a, pa->level, pa->dilation, n);
        if (!*names)
            diag_error(d, loc_file(NULL), "--dilation: expected auto, direct or s2b, not '%s'",
                       pa->dilation);
        return *names != NULL;
    }
    char *list = arena_strdup(a, pa->passes);
    const char **v = arena_calloc(a, strlen(list) / 2 + 2, sizeof *v);
    *n = 0;
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ","))
        v[(*n)++] = tok;
    for (int i = 0; i < *n; i++)
        if (!pass_lookup(v[i])) {
            diag_error(d, loc_file(NULL), "unknown pass '%s' in --passes (nasc-opt "
                       "--list-passes lists them)", v[i]);
            return false;
        }
    *names = v;
    return true;
}

bool cli_run_passes(Arena *a, Graph *g, const PassArgs *pa, Diag *d)
{
    const char *const *names;
    int n;
    if (!cli_pass_pipeline(a, pa, &names, &n, d))
        return false;
    PassOptions po = {.print_after = pa->print_after, .print_after_all = pa->print_after_all,
                      .print_to = stderr, .verify_each = true,
                      .stats_to = pa->stats ? stderr : NULL};
    return pass_run_pipeline(g, names, n, &po, d) >= 0;
}

static int usage_error(const char *verb, const char *arg)
{
    fprintf(stderr, "nasc %s: error: unexpected argument '%s' (see nasc --help)\n", verb, arg);
    return 2;
}

/* Parses the net options plus the verb's own (`own` returns 1 consumed,
 * 0 unknown, -1 error). Returns 0 or an exit status. */
int cli_parse_net_cmd(int argc, char **argv, NetArgs *na, void *ctx,
                         int (*own)(void *ctx, int argc, char **argv, int *i))
{
    cli_net_defaults(na, argc, argv);
    for (int i = 1; i < argc; i++) {
        int r = cli_net_option(na, argc, argv, &i);
        if (r == 0 && own)
            r = own(ctx, argc, argv, &i);
        if (r < 0)
            return 2;
        if (r == 1)
            continue;
        if (argv[i][0] == '-' || na->genotype_path)
            return usage_error(argv[0], argv[i]);
        na->genotype_path = argv[i];
    }
    if (!na->genotype_path && !na->adl_path && !na->adl_cell) {
        fprintf(stderr, "nasc %s: error: no genotype file given\n", argv[0]);
        return 2;
    }
    return 0;
}
