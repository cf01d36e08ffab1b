/* cli_verbs.c — the verbs run, inspect and convert (compile is in nasc.c). */
#include "cli.h"
#include "codegen/codegen.h"
#include "passes/passes.h"
#include "runtime/interp.h"
#include "runtime/ref/ref.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- run ---- */

typedef struct RunOpts {
    const char *in, *out, *trace, *image, *mask;
    int top;
} RunOpts;

static int run_option(void *ctx, int argc, char **argv, int *i)
{
    RunOpts *o = ctx;
    if (strcmp(argv[*i], "-o") == 0)
        return (o->mask = cli_value(argc, argv, i, "-o")) ? 1 : -1;
    if (cli_is_opt(argv[*i], "--image"))
        return (o->image = cli_value(argc, argv, i, "--image")) ? 1 : -1;
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

/* The run's input: --in raw floats, --image a picture (normalised with
 * CIFAR statistics for CIFAR nets, ImageNet ones otherwise), or seeded. */
static bool load_input(const NetArgs *na, const RunOpts *o, bool autodeeplab,
                       const Shape *in, float *x, Diag *d)
{
    static const ImageNorm cifar = {{0.4914f, 0.4822f, 0.4465f}, {0.2470f, 0.2435f, 0.2616f}};
    static const ImageNorm imagenet = {{0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}};
    if (o->in)
        return cli_read_f32(o->in, x, (size_t)shape_numel(in), d);
    if (o->image) {
        bool is_cifar = !autodeeplab && na->cfg.kind == NET_CIFAR;
        return cli_image_load(o->image, is_cifar ? &cifar : &imagenet, (int)in->d[2],
                              (int)in->d[3], x, d);
    }
    cli_seeded_input(x, shape_numel(in));
    return true;
}

/* For a label map: the classes covering most pixels. */
static void print_pixel_classes(const uint8_t *labels, int64_t npix, int top)
{
    int64_t count[256] = {0};
    for (int64_t i = 0; i < npix; i++)
        count[labels[i]]++;
    for (int r = 0; r < top; r++) {
        int best = 0;
        for (int c = 1; c < 256; c++)
            if (count[c] > count[best])
                best = c;
        if (count[best] <= 0)
            break;
        printf("  #%d  class %d  %.1f%% of pixels\n", r + 1, best,
               100.0 * (double)count[best] / (double)npix);
        count[best] = -1;
    }
}

/* The per-pixel labels of a segmentation output: the output itself when
 * the graph ends in argmax, else the argmax of its logits (arena memory).
 * NULL for classification outputs. */
static const uint8_t *output_labels(Arena *a, const Graph *g, const void *y)
{
    const Value *out = &g->vals[g->outputs[0]];
    if (out->dtype == DT_U8)
        return y;
    if (out->shape.rank != 4)
        return NULL;
    const int64_t *s = out->shape.d;
    uint8_t *labels = arena_alloc(a, (size_t)(s[0] * s[2] * s[3]));
    rt_ref_argmax(s[0], s[1] > 256 ? 256 : s[1], s[2] * s[3], y, labels);
    return labels;
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

static int write_output(const char *path, const void *y, size_t bytes, Diag *d)
{
    CliOut o;
    if (!cli_out_open(&o, path, d))
        return cli_report(d);
    fwrite(y, 1, bytes, o.f);
    cli_out_commit(&o, 1, d);
    return cli_report(d);
}

int cmd_run(int argc, char **argv, Arena *a, Diag *d)
{
    NetArgs na;
    RunOpts o = {.top = 5};
    int rc = cli_parse_net_cmd(argc, argv, &na, &o, run_option);
    if (rc)
        return rc;
    if (o.image && o.in) {
        fprintf(stderr, "nasc run: error: give --image or --in, not both\n");
        return 2;
    }
    /* a segmentation net takes the picture at its own size */
    if (o.image && !na.given_input && cli_is_adl(a, &na, d)) {
        if (!cli_image_size(o.image, &na.cfg.in_h, &na.cfg.in_w, d))
            return cli_report(d);
        na.given_input = true;
    }
    BuiltNet net;
    if (d->nerr || !cli_build_net(a, &na, &net, d))
        return cli_report(d);
    Graph *g = net.g;
    const Shape *in_shape = &g->vals[g->inputs[0]].shape;
    const Shape *out_shape = &g->vals[g->outputs[0]].shape;
    int64_t nin = shape_numel(in_shape), nout = shape_numel(out_shape);
    float *x = arena_calloc(a, (size_t)nin, sizeof(float));
    float *y = arena_calloc(a, (size_t)nout, sizeof(float)); /* or nout bytes of labels */
    if (!load_input(&na, &o, net.autodeeplab, in_shape, x, d))
        return cli_report(d);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (!rt_interp_run(g, x, y, o.trace, d))
        return cli_report(d);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    const uint8_t *labels = output_labels(a, g, y);
    if (o.top > 0) {
        printf("%s: %lld outputs, reference interpreter %.2f ms\n", g->name, (long long)nout, ms);
        if (labels)
            print_pixel_classes(labels, out_shape->d[0] * out_shape->d[2] * out_shape->d[3],
                                o.top);
        else
            print_top(y, nout, o.top);
    }
    if (o.mask && !labels) {
        diag_error(d, loc_file(o.mask), "-o writes a segmentation mask, but @%s outputs class "
                   "scores, not a map", g->name);
        return cli_report(d);
    }
    if (o.mask && !cli_mask_write(o.mask, labels, (int)out_shape->d[2], (int)out_shape->d[3], d))
        return cli_report(d);
    size_t out_bytes = (size_t)nout * dtype_size(g->vals[g->outputs[0]].dtype);
    return o.out ? write_output(o.out, y, out_bytes, d) : cli_report(d);
}


/* ---- inspect ---- */

typedef struct Block {
    const char *name; /* "stem", "cells.3", "classifier", ... */
    int64_t params, macs;
    ValueId out;      /* the value named like the block, if any */
} Block;

/* The block a state_dict key belongs to: through "cells.N" when the key
 * has it ("encoder.cells.3"), else its first part, or first two under
 * "encoder." ("encoder.stem0", "aspp", "classifier"). */
static const char *block_of(Arena *a, const char *key)
{
    const char *cells = strstr(key, "cells.");
    const char *end = NULL;
    if (cells && (cells == key || cells[-1] == '.'))
        end = strchr(cells + 6, '.');
    else if (strncmp(key, "encoder.", 8) == 0)
        end = strchr(key + 8, '.');
    else
        end = strchr(key, '.');
    return end ? arena_strndup(a, key, (size_t)(end - key)) : key;
}

/* The output stride of a map of `out` rows from `in` input rows: the power
 * of two p with ceil(in / p) == out (33 -> 17 is stride 2), else the ratio. */
static int64_t nominal_stride(int64_t in, int64_t out)
{
    for (int64_t p = 1; p <= in; p *= 2)
        if ((in + p - 1) / p == out)
            return p;
    return out ? in / out : 0;
}

/* For networks whose blocks are "encoder.cells.N": the path through the
 * resolutions, one column per cell, one row per output stride. */
static void print_path(const Graph *g, const Block *blocks, int nb, int64_t in_h)
{
    int64_t stride[ADL_MAX_LAYERS];
    int ncell = 0;
    for (int i = 0; i < nb && ncell < ADL_MAX_LAYERS; i++)
        if (strncmp(blocks[i].name, "encoder.cells.", 14) == 0 && blocks[i].out)
            stride[ncell++] = nominal_stride(in_h, g->vals[blocks[i].out].shape.d[2]);
    if (ncell == 0)
        return;
    printf("\n  path (one column per cell)\n");
    for (int64_t row = 4; row <= 32; row *= 2) {
        printf("  stride %2lld  ", (long long)row);
        for (int c = 0; c < ncell; c++)
            printf("%s", stride[c] == row ? " o " : " . ");
        printf("\n");
    }
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
    int64_t in_h = g->vals[g->inputs[0]].shape.d[2];
    printf("\n  %-18s %-20s %6s %12s %14s\n", "block", "output", "stride", "params", "MACs");
    for (int i = 0; i < nb; i++) {
        char shape[96] = "-", stride[16] = "-";
        const Shape *s = blocks[i].out ? &g->vals[blocks[i].out].shape : NULL;
        if (s)
            shape_str(s, shape, sizeof shape);
        if (s && s->rank == 4)
            snprintf(stride, sizeof stride, "%lld", (long long)nominal_stride(in_h, s->d[2]));
        printf("  %-18s %-20s %6s %12lld %14lld\n", blocks[i].name, shape, stride,
               (long long)blocks[i].params, (long long)blocks[i].macs);
    }
    print_path(g, blocks, nb, in_h);
}

/* The workspace of the C `nasc compile` emits by default (after the -O2
 * passes, which this runs on g; host target, so Winograd convs' scratch is
 * planned with the tensors) against the lower bound of the same plan: the
 * most bytes live at any one node, so ratio 1 means no placement of these
 * tensors and scratch could be smaller. */
static void print_memory(Graph *g, Arena *a, Diag *d)
{
    int n;
    const char *const *names = pass_pipeline_for_level(2, &n);
    if (pass_run_pipeline(g, names, n, NULL, d) < 0)
        return;
    MemPlan p;
    cg_plan_workspace(g, NULL, a, &p);
    printf("\nworkspace   %lld bytes (emitted C, -O2; placement %s)\n", (long long)p.bytes,
           p.placement ? p.placement : "-");
    printf("lower bound %lld bytes (most bytes live at one node): workspace / bound = %.3f\n",
           (long long)p.lower_bound,
           p.lower_bound ? (double)p.bytes / (double)p.lower_bound : 1.0);
    printf("in place    %u concat operands written into their slice, %u elementwise results "
           "over an operand\n", p.nconcat, p.ninplace);
}

int cmd_inspect(int argc, char **argv, Arena *a, Diag *d)
{
    NetArgs na;
    int rc = cli_parse_net_cmd(argc, argv, &na, NULL, NULL);
    if (rc)
        return rc;
    BuiltNet net;
    if (!cli_build_net(a, &na, &net, d))
        return cli_report(d);
    Graph *g = net.g;
    int64_t macs = 0;
    for (NodeId n = 1; n < g->nnode; n++)
        macs += ir_node_macs(g, &g->nodes[n]);
    printf("network     %s (graph @%s)\n", net.summary, g->name);
    int64_t buffers, params = ir_graph_param_count(g, &buffers);
    printf("parameters  %lld (+ %lld BatchNorm running statistics)\n", (long long)params,
           (long long)buffers);
    printf("MACs        %lld (%.1f M; conv + linear)\n", (long long)macs, (double)macs / 1e6);
    printf("IR          %u nodes, %u values\n", g->nnode - 1, g->nval - 1);
    print_block_table(g, a);
    print_memory(g, a, d);
    return cli_report(d);
}


/* ---- convert ---- */

/* The genotype in the canonical JSON or the DARTS literal; Auto-DeepLab
 * architectures have only the JSON form. NULL after a diagnostic. */
static const char *convert_text(Arena *a, const NetArgs *na, bool json, Diag *d)
{
    if (cli_is_adl(a, na, d)) {
        AdlArch arch;
        if (!json) {
            diag_error(d, loc_file(na->genotype_path ? na->genotype_path : na->adl_cell),
                       "Auto-DeepLab architectures convert to JSON only");
            return NULL;
        }
        return cli_load_adl(a, na, &arch, d) ? fe_adl_to_json(a, &arch) : NULL;
    }
    Genotype geno;
    if (d->nerr || !fe_load_genotype(a, na->genotype_path, na->genotype_name, &geno, d))
        return NULL;
    return json ? fe_genotype_to_json(a, &geno) : fe_genotype_to_literal(a, &geno);
}

typedef struct ConvertOpts {
    const char *to, *out;
} ConvertOpts;

static int convert_option(void *ctx, int argc, char **argv, int *i)
{
    ConvertOpts *o = ctx;
    if (cli_is_opt(argv[*i], "--to"))
        return (o->to = cli_value(argc, argv, i, "--to")) ? 1 : -1;
    if (strcmp(argv[*i], "-o") == 0)
        return (o->out = cli_value(argc, argv, i, "-o")) ? 1 : -1;
    return 0;
}

int cmd_convert(int argc, char **argv, Arena *a, Diag *d)
{
    NetArgs na;
    ConvertOpts o = {"json", NULL};
    int rc = cli_parse_net_cmd(argc, argv, &na, &o, convert_option);
    if (rc)
        return rc;
    if (strcmp(o.to, "json") && strcmp(o.to, "literal")) {
        fprintf(stderr, "nasc convert: error: --to expects json or literal, got '%s'\n", o.to);
        return 2;
    }
    const char *text = convert_text(a, &na, strcmp(o.to, "json") == 0, d);
    if (!text)
        return cli_report(d);
    const char *out = o.out;
    if (!out) {
        fputs(text, stdout);
        return cli_report(d);
    }
    CliOut file;
    if (!cli_out_open(&file, out, d))
        return cli_report(d);
    fputs(text, file.f);
    cli_out_commit(&file, 1, d);
    return cli_report(d);
}

