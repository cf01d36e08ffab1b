/* cli_train.c — `nasc train`: retrain a derived Auto-DeepLab network from
 * scratch on a segmentation dataset and write the weights `nasc compile`
 * reads.
 *
 *   nasc train ARCH --data DIR [--epochs N] [--batch N] [--crop HxW] [--lr X]
 *              [--seed S] [--resume] [-o weights.safetensors] [--log-dir DIR]
 *              [network options: --F, --path/--cell, ...]
 *
 * Per epoch one line: train loss, val loss, pixel accuracy, mIoU; a
 * progress bar with ETA on a terminal. After every epoch a checkpoint
 * (DIR/train.ckpt, resumable), history.csv and curves.svg in the log dir.
 */
#include "cli.h"
#include "search/checkpoint.h"
#include "search/plot.h"
#include "search/trainer.h"
#include "runtime/interp.h"
#include "runtime/ref/ref.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct TrainArgs {
    const char *data, *out, *log_dir;
    int epochs, batch, crop_h, crop_w, images, val_images;
    float lr;
    bool resume;
} TrainArgs;

static int train_option(void *ctx, int argc, char **argv, int *i)
{
    TrainArgs *t = ctx;
    const char *a = argv[*i], *v;
    if (cli_is_opt(a, "--resume")) {
        t->resume = true;
        return 1;
    }
    static const char *const opts[] = {"--data",    "--epochs", "--batch",   "--crop",
                                       "--lr",      "-o",       "--log-dir", "--images",
                                       "--val-images"};
    for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++) {
        if (!cli_is_opt(a, opts[k]))
            continue;
        if (!(v = cli_value(argc, argv, i, opts[k])))
            return -1;
        bool ok = true;
        switch (k) {
        case 0: t->data = v; break;
        case 1: ok = cli_parse_int(v, 1, 100000, &t->epochs); break;
        case 2: ok = cli_parse_int(v, 1, 4096, &t->batch); break;
        case 3: ok = cli_parse_hw(v, &t->crop_h, &t->crop_w); break;
        case 4: t->lr = strtof(v, NULL), ok = t->lr > 0 && isfinite(t->lr); break;
        case 5: t->out = v; break;
        case 6: t->log_dir = v; break;
        case 7: ok = cli_parse_int(v, 1, 100000000, &t->images); break;
        default: ok = cli_parse_int(v, 1, 100000000, &t->val_images); break;
        }
        if (!ok)
            fprintf(stderr, "nasc train: error: bad value '%s' for %s\n", v, opts[k]);
        return ok ? 1 : -1;
    }
    return 0;
}

typedef struct TrainRun {
    CliProgress bar;
    const char *log_dir;
    double hist[4][4096]; /* train loss, val loss, pixel accuracy, mIoU per epoch */
    int nhist;
} TrainRun;

static void on_step(void *ctx, const SearchStep *s)
{
    TrainRun *r = ctx;
    cli_progress_step(&r->bar, s);
}

static bool on_epoch(void *ctx, int epoch, double loss, const SegMetrics *val, Diag *d)
{
    TrainRun *r = ctx;
    double vloss = val->loss_pixels ? val->loss_sum / (double)val->loss_pixels : 0;
    double acc = srch_pixel_accuracy(val), miou = srch_miou(val);
    cli_progress_clear(&r->bar);
    printf("epoch %d/%d  train loss %.4f  val loss %.4f  pixel acc %.4f  mIoU %.4f\n",
           epoch + 1, r->bar.epochs, loss, vloss, acc, miou);
    fflush(stdout);
    if (epoch >= 4096)
        return true;
    double *row[4] = {&r->hist[0][epoch], &r->hist[1][epoch], &r->hist[2][epoch],
                      &r->hist[3][epoch]};
    *row[0] = loss, *row[1] = vloss, *row[2] = acc, *row[3] = miou;
    r->nhist = epoch + 1;
    static const char *const names[4] = {"train_loss", "val_loss", "pixel_acc", "miou"};
    const double *cols[4] = {r->hist[0], r->hist[1], r->hist[2], r->hist[3]};
    PlotSeries loss_s[2] = {{"train loss", r->hist[0]}, {"val loss", r->hist[1]}};
    PlotSeries acc_s[2] = {{"pixel acc", r->hist[2]}, {"val mIoU", r->hist[3]}};
    Arena a;
    arena_init(&a);
    bool ok = cli_write_csv(arena_printf(&a, "%s/train_history.csv", r->log_dir), names, cols, 4,
                            r->nhist, d) &&
              srch_svg_lines(arena_printf(&a, "%s/train_loss.svg", r->log_dir), "nasc train: loss",
                             "epoch", loss_s, 2, r->nhist, d) &&
              srch_svg_lines(arena_printf(&a, "%s/train_miou.svg", r->log_dir),
                             "nasc train: val pixel accuracy and mIoU", "epoch", acc_s, 2,
                             r->nhist, d);
    arena_free_all(&a);
    return ok;
}

/* val_grid.png: for the first val samples, a row of image | truth |
 * prediction (VOC colours), from the trained network in eval mode. */
static bool write_val_grid(const char *path, const Graph *g, const Dataset *val, Diag *d)
{
    const Shape *in = &g->vals[g->inputs[0]].shape, *out = &g->vals[g->outputs[0]].shape;
    int h = (int)in->d[2], w = (int)in->d[3], rows = val->n < 8 ? (int)val->n : 8;
    int64_t classes = out->d[1], px = (int64_t)h * w;
    float *x = malloc(sizeof *x * 3 * (size_t)px), *y = malloc(sizeof *y * (size_t)(classes * px));
    uint8_t *truth = malloc((size_t)px), *pred = malloc((size_t)px);
    unsigned char *rgb = calloc((size_t)rows * (size_t)px * 9, 1);
    bool ok = x && y && truth && pred && rgb;
    Rng r;
    srch_rng_seed(&r, 0);
    for (int64_t i = 0; ok && i < rows; i++) {
        ok = srch_ds_batch(val, &r, &i, 1, h, w, false, x, truth, d) &&
             rt_interp_run(g, x, y, NULL, d);
        if (!ok)
            break;
        rt_ref_argmax(1, classes, px, y, pred);
        for (int yy = 0; yy < h; yy++)
            for (int xx = 0; xx < w; xx++) {
                unsigned char *row = rgb + (((size_t)i * h + yy) * 3 * w) * 3;
                int64_t k = (int64_t)yy * w + xx;
                for (int c = 0; c < 3; c++) { /* undo the normalisation */
                    float v = (x[c * px + k] * val->std[c] + val->mean[c]) * 255.0f + 0.5f;
                    row[xx * 3 + c] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
                }
                srch_voc_colour(truth[k], row + (w + xx) * 3);
                srch_voc_colour(pred[k], row + (2 * w + xx) * 3);
            }
    }
    ok = ok && cli_rgb_write(path, rgb, rows * h, 3 * w, d);
    if (!(x && y && truth && pred && rgb))
        diag_error(d, loc_file(path), "out of memory");
    free(x), free(y), free(truth), free(pred), free(rgb);
    return ok;
}

/* The architecture lowered twice: batch N at the crop size for training,
 * batch 1 at the val images' size for validation. */
static bool build_graphs(Arena *a, const NetArgs *na, const TrainArgs *t, const Dataset *val,
                         Graph **g_train, Graph **g_eval, Diag *d)
{
    AdlArch arch;
    DsImage first;
    if (!cli_load_adl(a, na, &arch, d) || !srch_ds_load(val, 0, &first, d))
        return false;
    int vh = first.h, vw = first.w;
    srch_ds_image_free(&first);
    arch.classes = val->classes;
    arch.batch = t->batch, arch.in_h = t->crop_h ? t->crop_h : vh;
    arch.in_w = t->crop_w ? t->crop_w : vw;
    *g_train = fe_lower_autodeeplab(a, &arch, d);
    arch.batch = 1, arch.in_h = vh, arch.in_w = vw;
    *g_eval = *g_train ? fe_lower_autodeeplab(a, &arch, d) : NULL;
    return *g_eval != NULL;
}

static int train_darts(const NetArgs *na, const TrainArgs *t, const TrainOptions *base, Arena *a,
                       Diag *d);

int cmd_train(int argc, char **argv, Arena *a, Diag *d)
{
    NetArgs na;
    TrainArgs t = {.epochs = 0, .batch = 8, .out = "weights.safetensors", .log_dir = "."};
    int rc = cli_parse_net_cmd(argc, argv, &na, &t, train_option);
    if (rc)
        return rc;
    if (!t.data) {
        fprintf(stderr, "nasc train: error: --data DIR is required\n");
        return 2;
    }
    TrainOptions o;
    srch_train_defaults(&o);
    o.epochs = t.epochs ? t.epochs : o.epochs;
    o.lr = t.lr > 0 ? t.lr : o.lr;
    if (!cli_is_adl(a, &na, d))
        return d->nerr ? cli_report(d) : train_darts(&na, &t, &o, a, d);
    Dataset train, val;
    Graph *g_train, *g_eval;
    if (!srch_ds_open(a, t.data, "train", &train, d) || !srch_ds_open(a, t.data, "val", &val, d) ||
        !build_graphs(a, &na, &t, &val, &g_train, &g_eval, d) || !cli_make_dir(t.log_dir, d))
        return cli_report(d);
    search_init_weights(g_train, na.seed);
    SegSource src;
    const Shape *in = &g_train->vals[g_train->inputs[0]].shape;
    if (!srch_seg_source_init(&src, &train, t.batch, (int)in->d[2], (int)in->d[3], false,
                              na.seed, d))
        return cli_report(d);
    TrainRun *run = calloc(1, sizeof *run);
    if (!run) {
        srch_seg_source_free(&src);
        diag_error(d, (Loc){0}, "out of memory");
        return cli_report(d);
    }
    run->log_dir = t.log_dir;
    cli_progress_init(&run->bar, "train", o.epochs);
    o.checkpoint = arena_printf(a, "%s/train.ckpt", t.log_dir);
    o.resume = t.resume;
    if (t.resume) { /* the curves of the epochs already done come back from the CSV */
        Diag quiet;
        diag_init(&quiet);
        double *cols[4] = {run->hist[0], run->hist[1], run->hist[2], run->hist[3]};
        int n = cli_read_csv(arena_printf(a, "%s/train_history.csv", t.log_dir), 4, cols, 4096,
                             &quiet);
        run->nhist = n > 0 ? n : 0;
        diag_free(&quiet);
    }
    o.on_step = on_step, o.on_epoch = on_epoch, o.ctx = run;
    bool ok = srch_train(g_train, g_eval, &src.src, &val, &o, d);
    if (ok) {
        CkTensor *ts = malloc(sizeof *ts * g_train->nval);
        int n = srch_graph_tensors(g_train, ts);
        ok = srch_st_write(t.out, ts, n, d) &&
             write_val_grid(arena_printf(a, "%s/val_grid.png", t.log_dir), g_eval, &val, d);
        free(ts);
        if (ok)
            printf("wrote %s (%d tensors) and %s/val_grid.png\n", t.out, n, t.log_dir);
    }
    srch_seg_source_free(&src);
    free(run);
    return ok ? 0 : cli_report(d);
}

/* ---- DARTS genotypes: classification on Fashion-MNIST ---- */

typedef struct ClsRun {
    CliProgress bar;
    const char *log_dir;
    const Graph *g_eval;       /* batch 1, params shared with the trained graph */
    const FashionMnist *test;
    int64_t nval;
    double hist[2][4096];      /* train loss, val top-1 per epoch */
    int nhist;
} ClsRun;

static void cls_step(void *ctx, const SearchStep *s)
{
    cli_progress_step(&((ClsRun *)ctx)->bar, s);
}

/* Top-1 accuracy of g_eval (eval-mode batchnorm) on the first nval test
 * images, normalised as the training batches (search/sources.c). */
static bool cls_accuracy(const ClsRun *r, double *acc, Diag *d)
{
    const Graph *g = r->g_eval;
    int64_t px = (int64_t)r->test->rows * r->test->cols, correct = 0;
    int64_t classes = g->vals[g->outputs[0]].shape.d[1];
    float *x = malloc(sizeof *x * (size_t)px), *y = malloc(sizeof *y * (size_t)classes);
    bool ok = x && y;
    for (int64_t i = 0; ok && i < r->nval; i++) {
        for (int64_t k = 0; k < px; k++)
            x[k] = (r->test->pixels[i * px + k] / 255.0f - 0.2860f) / 0.3530f;
        ok = rt_interp_run(g, x, y, NULL, d);
        int64_t best = 0;
        for (int64_t c = 1; ok && c < classes; c++)
            best = y[c] > y[best] ? c : best;
        correct += ok && best == r->test->labels[i];
    }
    if (!x || !y)
        diag_error(d, (Loc){0}, "out of memory");
    free(x), free(y);
    *acc = (double)correct / (double)(r->nval ? r->nval : 1);
    return ok;
}

static bool cls_epoch(void *ctx, int epoch, double loss, Diag *d)
{
    ClsRun *r = ctx;
    double acc;
    if (!cls_accuracy(r, &acc, d))
        return false;
    cli_progress_clear(&r->bar);
    printf("epoch %d/%d  train loss %.4f  val top-1 %.4f (%lld images)\n", epoch + 1,
           r->bar.epochs, loss, acc, (long long)r->nval);
    fflush(stdout);
    if (epoch >= 4096)
        return true;
    r->hist[0][epoch] = loss, r->hist[1][epoch] = acc;
    r->nhist = epoch + 1;
    static const char *const names[2] = {"train_loss", "val_top1"};
    const double *cols[2] = {r->hist[0], r->hist[1]};
    Arena a;
    arena_init(&a);
    bool ok = cli_write_csv(arena_printf(&a, "%s/train_history.csv", r->log_dir), names, cols,
                            2, r->nhist, d);
    arena_free_all(&a);
    return ok;
}

/* Points every param of `to` at the same-named, same-shaped data of `from`. */
static bool share_by_name(Graph *to, const Graph *from, Diag *d)
{
    for (uint32_t i = 1; i < to->nnode; i++) {
        Value *v = &to->vals[to->nodes[i].out];
        if (to->nodes[i].op != OP_PARAM)
            continue;
        v->data = NULL;
        for (uint32_t k = 1; k < from->nval && !v->data; k++)
            if (from->vals[k].name && v->name && from->vals[k].data &&
                strcmp(from->vals[k].name, v->name) == 0 &&
                shape_eq(&from->vals[k].shape, &v->shape))
                v->data = from->vals[k].data;
        if (!v->data) {
            diag_error(d, v->loc, "eval graph param '%s' has no training twin",
                       v->name ? v->name : "?");
            return false;
        }
    }
    return true;
}

/* The genotype lowered as --net says (one channel 28x28, 10 classes unless
 * given), twice: batch N for training (weights initialised from the seed),
 * batch 1 for evaluation, its params pointing at the training ones. */
static bool darts_graphs(Arena *a, const NetArgs *na, int batch, Graph **train, Graph **eval,
                         Diag *d)
{
    Genotype geno;
    if (!fe_load_genotype(a, na->genotype_path, na->genotype_name, &geno, d))
        return false;
    NetConfig c = na->cfg;
    c.in_ch = c.in_ch ? c.in_ch : 1;
    c.classes = na->given_classes ? c.classes : 10;
    c.in_h = na->given_input ? c.in_h : 28, c.in_w = na->given_input ? c.in_w : 28;
    c.auxiliary = false, c.batch = batch;
    if (c.in_ch != 1 || c.in_h != 28 || c.in_w != 28 || c.classes != 10) {
        diag_error(d, loc_file(na->genotype_path), "nasc train trains DARTS genotypes on "
                   "Fashion-MNIST: input 1x28x28, 10 classes (got %dx%dx%d, %d classes)",
                   c.in_ch, c.in_h, c.in_w, c.classes);
        return false;
    }
    *train = fe_lower_darts(a, &geno, &c, d);
    c.batch = 1;
    *eval = *train ? fe_lower_darts(a, &geno, &c, d) : NULL;
    if (!*eval || !ir_verify(*train, d))
        return false;
    search_init_weights(*train, na->seed);
    return share_by_name(*eval, *train, d);
}

static int train_darts(const NetArgs *na, const TrainArgs *t, const TrainOptions *base, Arena *a,
                       Diag *d)
{
    const char *dir = t->data ? t->data : "/usr/share/datasets/fashion-mnist";
    FashionMnist train = {0}, test = {0};
    Graph *g_train, *g_eval;
    ClsSource src = {0};
    ClsRun *run = calloc(1, sizeof *run);
    bool ok = run && cli_make_dir(t->log_dir, d) &&
              srch_fashion_mnist_load(a, dir, "train", &train, d) &&
              srch_fashion_mnist_load(a, dir, "t10k", &test, d) &&
              darts_graphs(a, na, t->batch, &g_train, &g_eval, d);
    if (ok) {
        ok = srch_cls_source_init_all(&src, &train, t->images ? t->images : train.n, t->batch,
                                      na->seed, d);
    }
    if (ok) {
        run->log_dir = t->log_dir, run->g_eval = g_eval, run->test = &test;
        run->nval = t->val_images && t->val_images < test.n ? t->val_images : test.n;
        cli_progress_init(&run->bar, "train", base->epochs);
        SearchOptions o;
        search_options_defaults(&o);
        o.epochs = base->epochs, o.lr = base->lr, o.lr_min = base->lr_min;
        o.momentum = base->momentum, o.weight_decay = base->weight_decay;
        o.grad_clip = base->grad_clip;
        o.checkpoint = arena_printf(a, "%s/train.ckpt", t->log_dir), o.resume = t->resume;
        o.on_step = cls_step, o.on_epoch = cls_epoch, o.ctx = run;
        SuperNet net = {g_train, 0, NULL};
        fprintf(stderr, "nasc train: %s on %lld Fashion-MNIST images, batch %d, %lld steps "
                "per epoch\n", g_train->name, (long long)src.count, t->batch,
                (long long)src.src.steps_per_epoch);
        ok = search_run(&net, &src.src, &o, d);
    }
    if (ok) {
        CkTensor *ts = malloc(sizeof *ts * g_train->nval);
        int n = ts ? srch_graph_tensors(g_train, ts) : 0;
        ok = ts && srch_st_write(t->out, ts, n, d);
        free(ts);
        if (ok)
            printf("wrote %s (%d tensors)\n", t->out, n);
    }
    if (!run)
        diag_error(d, (Loc){0}, "out of memory");
    srch_cls_source_free(&src);
    srch_fashion_mnist_free(&train), srch_fashion_mnist_free(&test);
    free(run);
    return ok ? 0 : cli_report(d);
}
