/* cli_verbs.c — the verbs run, inspect and convert (compile is in nasc.c). */
#include "cli.h"
#include "codegen/codegen.h"
#include "runtime/interp.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- run ---- */

typedef struct RunOpts {
    const char *in, *out, *trace;
    int top;
} RunOpts;

static int run_option(void *ctx, int argc, char **argv, int *i)
{
    RunOpts *o = ctx;
    static const char *const names[] = {"--in", "--out", "--trace", "--top"};
    for (int k = 0; k < 4; k++) {
        if (!cli_is_opt(argv[*i], names[k]))
            continue;
        const char *v = cli_value(argc, argv, i, names[k]);
        if (!v)
            return -1;
        if (k == 3) {
            o->top = atoi(v);
            if (o->top < 0 || o->top > 100000) {
                fprintf(stderr, "nasc run: error: --top expects 0..100000, got '%s'\n", v);
                return -1;
            }
        } else {
            *(k == 0 ? &o->in : k == 1 ? &o->out : &o->trace) = v;
        }
        return 1;
    }
    return 0;
}

static void print_top(const float *y, int64_t n, int top)
{
    if (top > n)
        top = (int)n;
    bool *used = calloc((size_t)n, 1);
    if (!used)
        return;
    for (int k = 0; k < top; k++) {
        int64_t best = -1;
        for (int64_t i = 0; i < n; i++)
            if (!used[i] && (best < 0 || y[i] > y[best]))
                best = i;
        used[best] = true;
        printf("  #%d  class %lld  logit %.6f\n", k + 1, (long long)best, y[best]);
    }
    free(used);
}

static int write_output(const char *path, const float *y, int64_t n, Diag *d)
{
    CliOut o;
    if (!cli_out_open(&o, path, d))
        return cli_report(d);
    fwrite(y, sizeof(float), (size_t)n, o.f);
    cli_out_commit(&o, 1, d);
    return cli_report(d);
}

int cmd_run(int argc, char **argv, Arena *a, Diag *d)
{
    NetArgs na;
    RunOpts o = {NULL, NULL, NULL, 5};
    int rc = cli_parse_net_cmd(argc, argv, &na, &o, run_option);
    if (rc)
        return rc;
    Genotype geno;
    Graph *g = cli_build_net(a, &na, &geno, d);
    if (!g)
        return cli_report(d);
    int64_t nin = shape_numel(&g->vals[g->inputs[0]].shape);
    int64_t nout = shape_numel(&g->vals[g->outputs[0]].shape);
    float *x = arena_calloc(a, (size_t)nin, sizeof(float));
    float *y = arena_calloc(a, (size_t)nout, sizeof(float));
    if (o.in ? !cli_read_f32(o.in, x, (size_t)nin, d) : (cli_seeded_input(x, nin), false))
        return cli_report(d);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (!rt_interp_run(g, x, y, o.trace, d))
        return cli_report(d);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    if (o.top > 0) {
        printf("%s: %lld outputs, reference interpreter %.2f ms\n", g->name, (long long)nout, ms);
        print_top(y, nout, o.top);
    }
    return o.out ? write_output(o.out, y, nout, d) : cli_report(d);
}


/* ---- inspect ---- */

typedef struct Block {
    const char *name; /* "stem", "cells.3", "classifier", ... */
    int64_t params, macs;
    ValueId out;      /* the value named like the block, if any */
} Block;

/* The block a state_dict key belongs to: "cells.N" or its first part. */
static const char *block_of(Arena *a, const char *key)
{
    const char *dot = strchr(key, '.');
    if (!dot)
        return key;
    if (strncmp(key, "cells.", 6) == 0) {
        const char *dot2 = strchr(dot + 1, '.');
        return dot2 ? arena_strndup(a, key, (size_t)(dot2 - key)) : key;
    }
    return arena_strndup(a, key, (size_t)(dot - key));
}

static Block *find_block(Block *b, int *n, const char *name)
{
    for (int i = 0; i < *n; i++)
        if (strcmp(b[i].name, name) == 0)
            return &b[i];
    b[*n].name = name;
    return &b[(*n)++];
}

static void print_block_table(const Graph *g, Arena *a)
{
    Block *blocks = arena_calloc(a, g->nnode + 1, sizeof *blocks);
    int nb = 0;
    bool *is_stat = ir_fill_stats(g);
    for (NodeId n = 1; n < g->nnode; n++) {
        const Node *node = &g->nodes[n];
        const Value *out = &g->vals[node->out];
        if (node->op == OP_PARAM && is_stat[node->out]) {
            find_block(blocks, &nb, block_of(a, out->name));
        } else if (node->op == OP_PARAM) {
            find_block(blocks, &nb, block_of(a, out->name))->params += shape_numel(&out->shape);
        } else if (node->nin > 1 && g->vals[node->in[1]].name &&
                   op_info[node->op].flags & OPF_WEIGHTS) {
            const char *b = block_of(a, g->vals[node->in[1]].name);
            find_block(blocks, &nb, b)->macs += ir_node_macs(g, node);
        }
    }
    for (ValueId v = 1; v < g->nval; v++)
        for (int i = 0; i < nb && g->vals[v].name; i++)
            if (strcmp(blocks[i].name, g->vals[v].name) == 0)
                blocks[i].out = v;
    printf("\n  %-16s %-18s %12s %14s\n", "block", "output", "params", "MACs");
    for (int i = 0; i < nb; i++) {
        char shape[96] = "-";
        if (blocks[i].out)
            shape_str(&g->vals[blocks[i].out].shape, shape, sizeof shape);
        printf("  %-16s %-18s %12lld %14lld\n", blocks[i].name, shape,
               (long long)blocks[i].params, (long long)blocks[i].macs);
    }
}

int cmd_inspect(int argc, char **argv, Arena *a, Diag *d)
{
    NetArgs na;
    int rc = cli_parse_net_cmd(argc, argv, &na, NULL, NULL);
    if (rc)
        return rc;
    Genotype geno;
    Graph *g = cli_build_net(a, &na, &geno, d);
    if (!g)
        return cli_report(d);
    int64_t macs = 0;
    for (NodeId n = 1; n < g->nnode; n++)
        macs += ir_node_macs(g, &g->nodes[n]);
    const NetConfig *c = &na.cfg;
    printf("network     %s: %s C=%d layers=%d classes=%d input=%dx%d\n", g->name,
           c->kind == NET_CIFAR ? "NetworkCIFAR" : "NetworkImageNet", c->C, c->layers,
           c->classes, c->in_h, c->in_w);
    int64_t buffers, params = ir_graph_param_count(g, &buffers);
    printf("parameters  %lld (+ %lld BatchNorm running statistics)\n", (long long)params,
           (long long)buffers);
    printf("MACs        %lld (%.1f M; conv + linear)\n", (long long)macs, (double)macs / 1e6);
    printf("workspace   %lld bytes (emitted C, planned)\n", (long long)cg_workspace_bytes(g));
    printf("IR          %u nodes, %u values\n", g->nnode - 1, g->nval - 1);
    print_block_table(g, a);
    return cli_report(d);
}


/* ---- convert ---- */

int cmd_convert(int argc, char **argv, Arena *a, Diag *d)
{
    const char *path = NULL, *name = NULL, *to = "json", *out = NULL;
    for (int i = 1; i < argc; i++) {
        const char **dst = NULL, *opt = argv[i];
        if (cli_is_opt(opt, "--genotype"))
            dst = &name, opt = "--genotype";
        else if (cli_is_opt(opt, "--to"))
            dst = &to, opt = "--to";
        else if (strcmp(opt, "-o") == 0)
            dst = &out;
        if (dst) {
            if (!(*dst = cli_value(argc, argv, &i, opt)))
                return 2;
        } else if (opt[0] == '-' || path) {
            fprintf(stderr, "nasc convert: error: unexpected argument '%s'\n", opt);
            return 2;
        } else {
            path = opt;
        }
    }
    if (!path || (strcmp(to, "json") && strcmp(to, "literal"))) {
        fprintf(stderr, "nasc convert: error: %s\n",
                path ? "--to expects json or literal" : "no genotype file given");
        return 2;
    }
    Genotype geno;
    if (!fe_load_genotype(a, path, name, &geno, d) || !fe_genotype_check(&geno, d))
        return cli_report(d);
    const char *text = strcmp(to, "json") == 0 ? fe_genotype_to_json(a, &geno)
                                                 : fe_genotype_to_literal(a, &geno);
    if (!out) {
        fputs(text, stdout);
        return cli_report(d);
    }
    CliOut o;
    if (!cli_out_open(&o, out, d))
        return cli_report(d);
    fputs(text, o.f);
    cli_out_commit(&o, 1, d);
    return cli_report(d);
}

