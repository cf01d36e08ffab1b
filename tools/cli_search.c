/* cli_search.c — `nasc search`: differentiable architecture search.
 *
 *   nasc search adl   --data DIR [--layers L] [--F F] [--epochs N] [--arch-start E]
 *                     [--batch N] [--crop HxW] [--aspp-rate R] [--max-skip M]
 *                     [--head-weights] [--seed S] [--out DIR] [--resume]
 *   nasc search darts [--data FASHION_MNIST_DIR] [--images N] [--C C] [--layers L]
 *                     [--epochs N] [--batch N] [--second-order] [--seed S] [--out DIR]
 *                     [--resume]
 *
 * adl searches an Auto-DeepLab network (cell + path) on a segmentation set
 * (`nasc data fashion-seg`); darts searches DARTS cells on Fashion-MNIST
 * classification. Both write into --out: the architecture (arch.json /
 * genotype.py + genotype.json), search.ckpt after every epoch (--resume
 * continues from it), search_history.csv, SVG curves of the loss and of
 * the architecture weights, and the found cell/path as DOT and SVG.
 */
#include "cli.h"
#include "search/adl_search.h"
#include "search/darts_search.h"
#include "search/plot.h"
#include "search/trainer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_EPOCHS = 1000, MAX_SERIES = 17 };

typedef struct SearchArgs {
    const char *space, *data, *out;
    int layers, F, C, epochs, arch_start, batch, crop_h, crop_w, images, aspp_rate;
    int max_skip; /* -1: no limit */
    bool second_order, resume, head_weights;
    uint64_t seed;
} SearchArgs;

static int parse_search_args(int argc, char **argv, SearchArgs *s)
{
    static const char *const ints[] = {"--layers", "--F", "--C", "--epochs", "--arch-start",
                                       "--batch", "--images", "--seed", "--aspp-rate",
                                       "--max-skip"};
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v;
        int *dst[] = {&s->layers, &s->F, &s->C, &s->epochs, &s->arch_start, &s->batch,
                      &s->images, NULL, &s->aspp_rate, &s->max_skip};
        bool done = false;
        for (int k = 0; k < 10 && !done; k++) {
            if (!cli_is_opt(a, ints[k]))
                continue;
            int val;
            if (!(v = cli_value(argc, argv, &i, ints[k])))
                return 2;
            if (!cli_parse_int(v, k == 4 || k == 7 || k == 9 ? 0 : 1, k == 7 ? 2147483647 : 1000000,
                               &val)) {
                fprintf(stderr, "nasc search: error: bad value '%s' for %s\n", v, ints[k]);
                return 2;
            }
            if (dst[k])
                *dst[k] = val;
            else
                s->seed = (uint64_t)val;
            done = true;
        }
        if (done)
            continue;
        if (cli_is_opt(a, "--data") || cli_is_opt(a, "--out") || cli_is_opt(a, "--crop")) {
            const char *opt = cli_is_opt(a, "--data") ? "--data"
                              : cli_is_opt(a, "--out") ? "--out" : "--crop";
            if (!(v = cli_value(argc, argv, &i, opt)))
                return 2;
            if (opt[2] == 'd')
                s->data = v;
            else if (opt[2] == 'o')
                s->out = v;
            else if (!cli_parse_hw(v, &s->crop_h, &s->crop_w))
                return 2;
        } else if (strcmp(a, "--second-order") == 0) {
            s->second_order = true;
        } else if (strcmp(a, "--resume") == 0) {
            s->resume = true;
        } else if (strcmp(a, "--head-weights") == 0) {
            s->head_weights = true;
        } else {
            fprintf(stderr, "nasc search: error: unknown option '%s'\n", a);
            return 2;
        }
    }
    return 0;
}

/* Per-epoch history: losses and architecture-weight series for the plots. */
typedef struct History {
    CliProgress bar;
    const char *out;
    int nseries, n;
    const char *names[MAX_SERIES];
    double col[MAX_SERIES][MAX_EPOCHS];
    double arch_loss_sum;
    int64_t arch_steps;
    /* what to snapshot each epoch */
    const Graph *g;
    ValueId alphas[2];   /* softmax'd, mean over edges per op */
    int nalphas, nops;
    const AdlSearchVars *adl;
} History;

static void hist_step(void *ctx, const SearchStep *s)
{
    History *h = ctx;
    if (!isnan(s->arch_loss))
        h->arch_loss_sum += s->arch_loss, h->arch_steps++;
    cli_progress_step(&h->bar, s);
}

/* Mean over the rows of softmax(alpha) per op, into col[first..first+nops). */
static void alpha_series(History *h, ValueId v, int first, int epoch)
{
    const Value *a = &h->g->vals[v];
    int64_t rows = a->shape.d[0], k = a->shape.d[1];
    for (int op = 0; op < k && first + op < MAX_SERIES; op++)
        h->col[first + op][epoch] = 0;
    for (int64_t r = 0; r < rows; r++) {
        const float *row = a->data + r * k;
        double top = row[0], sum = 0;
        for (int64_t i = 1; i < k; i++)
            top = fmax(top, row[i]);
        for (int64_t i = 0; i < k; i++)
            sum += exp(row[i] - top);
        for (int op = 0; op < k && first + op < MAX_SERIES; op++)
            h->col[first + op][epoch] += exp(row[op] - top) / sum / (double)rows;
    }
}

static bool write_history(History *h, Diag *d)
{
    Arena a;
    arena_init(&a);
    const double *cols[MAX_SERIES];
    PlotSeries ps[MAX_SERIES];
    for (int i = 0; i < h->nseries; i++)
        cols[i] = h->col[i], ps[i] = (PlotSeries){h->names[i], h->col[i]};
    bool ok = cli_write_csv(arena_printf(&a, "%s/search_history.csv", h->out), h->names, cols,
                            h->nseries, h->n, d) &&
              srch_svg_lines(arena_printf(&a, "%s/search_loss.svg", h->out),
                             "nasc search: loss (weights half) and arch loss (arch half)",
                             "epoch", ps, 2, h->n, d) &&
              srch_svg_lines(arena_printf(&a, "%s/search_alphas.svg", h->out),
                             "mean softmax(alpha) per op over the cell's edges", "epoch",
                             ps + 2, h->nops, h->n, d);
    if (ok && h->adl)
        ok = srch_svg_lines(arena_printf(&a, "%s/search_betas.svg", h->out),
                            "mean normalised beta per direction over the lattice", "epoch",
                            ps + 2 + h->nops, 3, h->n, d);
    if (ok && h->adl && h->adl->heads)
        ok = srch_svg_lines(arena_printf(&a, "%s/search_heads.svg", h->out),
                            "softmax(head_weights): the heads of strides 4, 8, 16, 32", "epoch",
                            ps + 2 + h->nops + 3, ADL_LEVELS, h->n, d);
    arena_free_all(&a);
    return ok;
}

static bool hist_epoch(void *ctx, int epoch, double loss, Diag *d)
{
    History *h = ctx;
    if (epoch >= MAX_EPOCHS)
        return true;
    double arch = h->arch_steps ? h->arch_loss_sum / (double)h->arch_steps : NAN;
    h->col[0][epoch] = loss, h->col[1][epoch] = arch;
    h->arch_loss_sum = 0, h->arch_steps = 0;
    alpha_series(h, h->alphas[0], 2, epoch);
    if (h->adl) {
        int L = h->adl->layers;
        float *raw = calloc((size_t)L * 12, sizeof *raw), *space = calloc((size_t)L * 12, 4);
        float *alph = calloc((size_t)adl_search_edges(h->adl->steps) * ADL_NUM_OPS, 4);
        if (raw && space && alph) {
            adl_read_arch(h->g, h->adl, alph, raw);
            adl_normalise_betas(L, raw, space);
            for (int dir = 0; dir < 3; dir++) {
                double s = 0;
                int cnt = 0;
                for (int i = 0; i < L * 4; i++)
                    if (space[i * 3 + dir] > 0)
                        s += space[i * 3 + dir], cnt++;
                h->col[2 + h->nops + dir][epoch] = cnt ? s / cnt : NAN;
            }
        }
        float heads[ADL_LEVELS];
        if (adl_read_heads(h->g, h->adl, heads))
            for (int level = 0; level < ADL_LEVELS; level++)
                h->col[2 + h->nops + 3 + level][epoch] = heads[level];
        free(raw), free(space), free(alph);
    }
    h->n = epoch + 1;
    cli_progress_clear(&h->bar);
    printf("epoch %d/%d  loss %.4f  arch loss %s%.4f\n", epoch + 1, h->bar.epochs, loss,
           isnan(arch) ? "(not started) " : "", isnan(arch) ? 0.0 : arch);
    fflush(stdout);
    return write_history(h, d);
}

static void hist_init(History *h, const SearchArgs *s, const Graph *g, int epochs)
{
    memset(h, 0, sizeof *h);
    cli_progress_init(&h->bar, "search", epochs);
    h->out = s->out, h->g = g;
    h->names[0] = "loss", h->names[1] = "arch_loss";
    h->nops = 8;
    for (int i = 0; i < 8; i++)
        h->names[2 + i] = fe_adl_ops[i].name; /* the PRIMITIVES order of both spaces */
    h->nseries = 10;
    for (int i = 0; i < MAX_SERIES; i++)
        for (int e = 0; e < MAX_EPOCHS; e++)
            h->col[i][e] = NAN;
}

/* On --resume the curves of the epochs already done come back from the CSV. */
static void hist_reload(History *h)
{
    Arena a;
    arena_init(&a);
    Diag quiet;
    diag_init(&quiet);
    double *cols[MAX_SERIES];
    for (int i = 0; i < h->nseries; i++)
        cols[i] = h->col[i];
    int n = cli_read_csv(arena_printf(&a, "%s/search_history.csv", h->out), h->nseries, cols,
                         MAX_EPOCHS, &quiet);
    h->n = n > 0 ? n : 0;
    diag_free(&quiet);
    arena_free_all(&a);
}

static SearchOptions search_options(const SearchArgs *s, History *h, Arena *a)
{
    SearchOptions o;
    search_options_defaults(&o);
    o.epochs = s->epochs;
    o.arch_start_epoch = s->arch_start;
    o.second_order = s->second_order;
    o.checkpoint = arena_printf(a, "%s/search.ckpt", s->out);
    o.resume = s->resume;
    o.on_step = hist_step, o.on_epoch = hist_epoch, o.ctx = h;
    return o;
}

/* The cell as DOT and SVG: edge i feeds node i / 2 from input from[i]. */
static bool write_cell_pictures(Arena *a, const char *out, const char *stem, const char *title,
                                const int *from, const char *const *opnames, int nedge,
                                const int *concat, int nconcat, Diag *d)
{
    DrawEdge e[64];
    int n = nedge < 64 ? nedge : 64, nnodes = (n + 1) / 2;
    for (int i = 0; i < n; i++)
        e[i] = (DrawEdge){from[i], i / 2, opnames[i]};
    return srch_dot_cell(arena_printf(a, "%s/%s.dot", out, stem), title, e, n, nnodes, concat,
                         nconcat, d) &&
           srch_svg_cell(arena_printf(a, "%s/%s.svg", out, stem), title, e, n, nnodes, concat,
                         nconcat, d);
}

/* ---- DARTS cells on Fashion-MNIST classification ---- */

/* Both cells of a DARTS genotype as DOT and SVG in dir. */
static bool draw_darts(Arena *a, const char *dir, const Genotype *geno, Diag *d)
{
    bool ok = true;
    for (int c = 0; ok && c < 2; c++) {
        const GenoCell *cell = c ? &geno->reduce : &geno->normal;
        int from[64], concat[16], nconcat = cell->nconcat < 16 ? cell->nconcat : 16;
        const char *names[64];
        for (int i = 0; i < cell->nedge && i < 64; i++)
            from[i] = cell->edges[i].input, names[i] = cell->edges[i].op;
        for (int i = 0; i < nconcat; i++)
            concat[i] = cell->concat[i] - 2; /* states 2.. are nodes 0.. */
        ok = write_cell_pictures(a, dir, c ? "cell_reduce" : "cell_normal",
                                 c ? "reduction cell" : "normal cell", from, names, cell->nedge,
                                 concat, nconcat, d);
    }
    return ok;
}

static bool darts_outputs(Arena *a, const SearchArgs *s, const Genotype *geno, Diag *d)
{
    const char *lit = fe_genotype_to_literal(a, geno), *json = fe_genotype_to_json(a, geno);
    const char *py = arena_printf(a, "from collections import namedtuple\nGenotype = "
                                     "namedtuple('Genotype', 'normal normal_concat reduce "
                                     "reduce_concat')\n\n%s\n", lit);
    bool ok = srch_write_file(arena_printf(a, "%s/genotype.py", s->out), py, strlen(py), d) &&
              srch_write_file(arena_printf(a, "%s/genotype.json", s->out), json, strlen(json),
                              d) &&
              draw_darts(a, s->out, geno, d);
    if (ok)
        printf("%s\n", lit);
    return ok;
}

static int search_darts(const SearchArgs *s, Arena *a, Diag *d)
{
    DartsSearchConfig cfg;
    darts_search_defaults(&cfg);
    FashionMnist m;
    if (!srch_fashion_mnist_load(a, s->data ? s->data : "/usr/share/datasets/fashion-mnist",
                                 "train", &m, d))
        return cli_report(d);
    cfg.C = s->C ? s->C : 8, cfg.layers = s->layers ? s->layers : 5;
    cfg.classes = 10, cfg.in_ch = 1, cfg.h = m.rows, cfg.w = m.cols;
    cfg.batch = s->batch ? s->batch : 16;
    SuperNet net;
    ClsSource src;
    bool ok = darts_supernet_build(a, &cfg, s->seed, &net, d) &&
              srch_cls_source_init(&src, &m, s->images ? s->images : 2000, cfg.batch, s->seed,
                                   d);
    if (!ok) {
        srch_fashion_mnist_free(&m);
        return cli_report(d);
    }
    History *h = malloc(sizeof *h);
    hist_init(h, s, net.g, s->epochs);
    h->alphas[0] = net.arch[0];
    if (s->resume)
        hist_reload(h);
    SearchOptions o = search_options(s, h, a);
    fprintf(stderr, "nasc search darts: C=%d layers=%d batch=%d, %lld steps per epoch, %s\n",
            cfg.C, cfg.layers, cfg.batch, (long long)src.src.steps_per_epoch,
            s->second_order ? "second order" : "first order");
    ok = search_run(&net, &src.src, &o, d);
    Genotype geno;
    ok = ok && darts_derive(net.g->vals[net.arch[0]].data, net.g->vals[net.arch[1]].data,
                            cfg.steps, cfg.multiplier, a, &geno, d);
    geno.name = "NASC_SEARCHED"; /* genotype.py reads like DARTS's genotypes.py */
    ok = ok && darts_outputs(a, s, &geno, d);
    srch_cls_source_free(&src);
    srch_fashion_mnist_free(&m);
    free(h);
    return ok ? 0 : cli_report(d);
}

/* ---- Auto-DeepLab on a segmentation set ---- */

/* Path (with the lattice's beta strengths if space is non-NULL) and cell
 * of an Auto-DeepLab architecture as DOT and SVG in dir. */
static bool draw_adl(Arena *a, const char *dir, const AdlArch *arch, const float *space,
                     Diag *d)
{
    int from[ADL_ROWS], concat[ADL_NODES];
    const char *names[ADL_ROWS];
    for (int r = 0; r < arch->nrows; r++) {
        from[r] = arch->rows[r].edge - fe_adl_edge_offset(r / 2 + 2);
        names[r] = arch->rows[r].op;
    }
    for (int k = 0; k < arch->B && k < ADL_NODES; k++)
        concat[k] = ADL_NODES - arch->B + k;
    return srch_dot_path(arena_printf(a, "%s/path.dot", dir), arch->path, arch->nlayers, d) &&
           srch_svg_path(arena_printf(a, "%s/path.svg", dir), arch->path, arch->nlayers, space,
                         d) &&
           write_cell_pictures(a, dir, "cell", "Auto-DeepLab cell", from, names, arch->nrows,
                               concat, arch->B, d);
}

static bool adl_outputs(Arena *a, const SearchArgs *s, const AdlArch *arch, const float *space,
                        Diag *d)
{
    const char *json = fe_adl_to_json(a, arch);
    bool ok = srch_write_file(arena_printf(a, "%s/arch.json", s->out), json, strlen(json), d) &&
              draw_adl(a, s->out, arch, space, d);
    if (ok) {
        printf("path:");
        for (int l = 0; l < arch->nlayers; l++)
            printf(" %d", arch->path[l]);
        printf("\nwrote %s/arch.json (compile it: nasc compile %s/arch.json ...)\n", s->out,
               s->out);
    }
    return ok;
}

static int search_adl(const SearchArgs *s, Arena *a, Diag *d)
{
    static const char *const dirs[3] = {"beta_finer", "beta_same", "beta_coarser"};
    if (!s->data) {
        fprintf(stderr, "nasc search adl: error: --data DIR is required\n");
        return 2;
    }
    AdlSearchConfig cfg;
    adl_search_defaults(&cfg);
    Dataset train;
    DsImage first;
    if (!srch_ds_open(a, s->data, "train", &train, d) || !srch_ds_load(&train, 0, &first, d))
        return cli_report(d);
    cfg.layers = s->layers ? s->layers : cfg.layers;
    cfg.filter_multiplier = s->F ? s->F : cfg.filter_multiplier;
    cfg.batch = s->batch ? s->batch : cfg.batch;
    cfg.h = s->crop_h ? s->crop_h : first.h, cfg.w = s->crop_w ? s->crop_w : first.w;
    cfg.classes = train.classes, cfg.in_ch = 3, cfg.aspp_rate = s->aspp_rate;
    cfg.max_skip = s->max_skip, cfg.head_weights = s->head_weights;
    srch_ds_image_free(&first);
    SuperNet net;
    AdlSearchVars vars;
    SegSource src;
    if (!adl_supernet_build(a, &cfg, s->seed, &net, &vars, d) ||
        !srch_seg_source_init(&src, &train, cfg.batch, cfg.h, cfg.w, true, s->seed, d))
        return cli_report(d);
    History *h = malloc(sizeof *h);
    hist_init(h, s, net.g, s->epochs);
    h->alphas[0] = vars.alphas, h->adl = &vars;
    for (int i = 0; i < 3; i++)
        h->names[10 + i] = dirs[i];
    h->nseries = 13;
    static const char *const head_names[ADL_LEVELS] = {"head_s4", "head_s8", "head_s16",
                                                       "head_s32"};
    for (int level = 0; vars.heads && level < ADL_LEVELS; level++)
        h->names[h->nseries++] = head_names[level];
    if (s->resume)
        hist_reload(h);
    SearchOptions o = search_options(s, h, a);
    o.arch_lr = 3e-3f, o.arch_beta1 = 0.9f; /* the Auto-DeepLab port's Adam */
    fprintf(stderr, "nasc search adl: L=%d F=%d batch=%d crop=%dx%d, %lld steps per epoch, "
                    "arch updates from epoch %d\n", cfg.layers, cfg.filter_multiplier, cfg.batch,
            cfg.h, cfg.w, (long long)src.src.steps_per_epoch, s->arch_start + 1);
    bool ok = search_run(&net, &src.src, &o, d);
    int edges = adl_search_edges(cfg.steps);
    float *alphas = calloc((size_t)edges * ADL_NUM_OPS, sizeof *alphas);
    float *betas = calloc((size_t)cfg.layers * 12, sizeof *betas);
    float *space = calloc((size_t)cfg.layers * 12, sizeof *space);
    AdlArch arch;
    ok = ok && alphas && betas && space;
    if (ok) {
        adl_read_arch(net.g, &vars, alphas, betas);
        adl_normalise_betas(cfg.layers, betas, space);
        float heads[ADL_LEVELS];
        bool learned = adl_read_heads(net.g, &vars, heads);
        if (learned)
            printf("head weights (stride 4, 8, 16, 32): %.4f %.4f %.4f %.4f\n", heads[0],
                   heads[1], heads[2], heads[3]);
        ok = adl_decode(&cfg, alphas, betas, learned ? heads : NULL, a, &arch, d) &&
             adl_outputs(a, s, &arch, space, d);
    }
    free(alphas), free(betas), free(space), free(h);
    srch_seg_source_free(&src);
    return ok ? 0 : cli_report(d);
}

int cmd_search(int argc, char **argv, Arena *a, Diag *d)
{
    SearchArgs s = {.out = "search-out", .epochs = 10, .arch_start = 3, .max_skip = -1};
    if (argc < 2 || (strcmp(argv[1], "adl") != 0 && strcmp(argv[1], "darts") != 0)) {
        fprintf(stderr, "usage: nasc search adl|darts [options] (see nasc --help)\n");
        return 2;
    }
    s.space = argv[1];
    int rc = parse_search_args(argc, argv, &s);
    if (rc)
        return rc;
    if ((s.aspp_rate || s.max_skip >= 0 || s.head_weights) && strcmp(s.space, "darts") == 0) {
        fprintf(stderr, "nasc search darts: error: %s applies to `search adl` only\n",
                s.aspp_rate ? "--aspp-rate" : s.max_skip >= 0 ? "--max-skip" : "--head-weights");
        return 2;
    }
    if (!cli_make_dir(s.out, d))
        return cli_report(d);
    return strcmp(s.space, "adl") == 0 ? search_adl(&s, a, d) : search_darts(&s, a, d);
}

static int draw_option(void *ctx, int argc, char **argv, int *i)
{
    if (!cli_is_opt(argv[*i], "-o"))
        return 0;
    const char *v = cli_value(argc, argv, i, "-o");
    *(const char **)ctx = v;
    return v ? 1 : -1;
}

/* nasc draw ARCH [-o DIR]: the cells (and path) of any architecture file. */
int cmd_draw(int argc, char **argv, Arena *a, Diag *d)
{
    NetArgs na;
    const char *dir = ".";
    int rc = cli_parse_net_cmd(argc, argv, &na, &dir, draw_option);
    if (rc)
        return rc;
    if (!cli_make_dir(dir, d))
        return cli_report(d);
    bool ok;
    if (cli_is_adl(a, &na, d)) {
        AdlArch arch;
        ok = cli_load_adl(a, &na, &arch, d) && draw_adl(a, dir, &arch, NULL, d);
    } else {
        Genotype geno;
        ok = !d->nerr && fe_load_genotype(a, na.genotype_path, na.genotype_name, &geno, d) &&
             draw_darts(a, dir, &geno, d);
    }
    if (ok)
        printf("wrote the diagrams (DOT and SVG) into %s\n", dir);
    return ok ? 0 : cli_report(d);
}
