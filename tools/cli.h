/* cli.h — shared pieces of the nasc command-line tool (tools/ only).
 *
 * The CLI is the one place that prints diagnostics and chooses exit codes:
 * 0 success, 1 bad input or failed work, 2 bad usage.
 */
#ifndef NASC_TOOLS_CLI_H
#define NASC_TOOLS_CLI_H

#include "codegen/codegen.h"
#include "frontend/frontend.h"

/* Options shared by the verbs that build a network. */
typedef struct NetArgs {
    const char *genotype_path; /* positional: DARTS literal, JSON or TF hnasnet file */
    const char *genotype_name; /* --genotype */
    NetConfig cfg;             /* DARTS macro network (--net, --C, --layers, ...) */
    const char *weights;       /* --weights, or NULL for seeded init */
    uint64_t seed;             /* --seed (default 0) */
    /* Auto-DeepLab: --path/--cell files and options overriding the file */
    const char *adl_path, *adl_cell;
    int F, aspp_rates[3];
    bool no_decoder;
    const char *bn;            /* --bn bn|abn */
    bool given_classes, given_input; /* --classes / --input were on the line */
    bool argmax;               /* --output argmax: u8 labels instead of logits */
} NetArgs;

/* A built network and a one-line description of it. */
typedef struct BuiltNet {
    Graph *g;
    const char *summary; /* e.g. "DARTS_V2 NetworkCIFAR C=36 layers=20 ..." */
    bool autodeeplab;
} BuiltNet;

/* cli_args.c: parses a common network option at argv[*i] (advancing *i
 * past its value). Returns 1 if consumed, 0 if not a network option, -1
 * after printing a usage error. */
int cli_net_option(NetArgs *na, int argc, char **argv, int *i);
/* cli_args.c: compile's codegen options --conv, --target, --max-ram and
 * --max-flash, into o->conv, o->target, o->max_ram, o->max_flash (the rest of o is
 * untouched). Returns as cli_net_option. */
int cli_target_option(CgOptions *o, int argc, char **argv, int *i);
/* The graph-pass options of compile and bench: -O0/-O1/-O2 (default 2),
 * --passes=a,b,c (instead of the level's pipeline), --print-after=PASS,
 * --print-after-all, --stats. Initialise with CLI_PASS_ARGS_DEFAULT. */
typedef struct PassArgs {
    int level;               /* -O0 / -O1 / -O2 */
    const char *passes;      /* --passes=a,b,c, or NULL */
    const char *print_after; /* --print-after=PASS, or NULL */
    bool print_after_all, stats;
    const char *dilation;    /* --dilation auto|direct|s2b (the level's pipeline only) */
} PassArgs;
#define CLI_PASS_ARGS_DEFAULT ((PassArgs){.level = 2, .dilation = "auto"})
/* cli_args.c: parses a pass option at argv[*i]; returns as cli_net_option. */
int cli_pass_option(PassArgs *pa, int argc, char **argv, int *i);
/* The pipeline pa names into *names / *n: --passes (every name checked
 * against the registry; false after reporting an unknown one to d) or the
 * -O level's with pa->dilation's strategy (false for an unknown one). */
bool cli_pass_pipeline(Arena *a, const PassArgs *pa, const char *const **names, int *n,
                       Diag *d);
/* Runs that pipeline on g (weights bound: fold-bn reads them), verifying
 * after each pass; printing and --stats go to stderr. */
bool cli_run_passes(Arena *a, Graph *g, const PassArgs *pa, Diag *d);
/* Defaults for the --net named anywhere in argv. */
void cli_net_defaults(NetArgs *na, int argc, char **argv);
/* Parses "HxW". */
bool cli_parse_hw(const char *s, int *h, int *w);
/* For an option "--x=v" or "--x v": value, or NULL after a usage error. */
const char *cli_value(int argc, char **argv, int *i, const char *opt);
bool cli_is_opt(const char *arg, const char *opt);

/* cli_build.c: architecture -> graph with weights bound (or seeded). */
bool cli_build_net(Arena *a, const NetArgs *na, BuiltNet *out, Diag *d);
/* Reads an Auto-DeepLab architecture from the positional file and/or
 * --path/--cell, then applies the command-line overrides. */
bool cli_load_adl(Arena *a, const NetArgs *na, AdlArch *arch, Diag *d);
/* True when the inputs name an Auto-DeepLab architecture. */
bool cli_is_adl(Arena *a, const NetArgs *na, Diag *d);
/* A fixed pseudo-random input, near-normal with variance 1: the default input of `run` and
 * the calibration input of seeded weights. */
void cli_seeded_input(float *x, int64_t n);
/* Seeded weights (fe_init_weights), then every BatchNorm's statistics
 * calibrated on cli_seeded_input, so seeded nets keep a sane scale. */
bool cli_init_weights(Graph *g, uint64_t seed, Diag *d);
/* Describes where the weights came from, for banners and reports. */
const char *cli_weights_note(Arena *a, const NetArgs *na);

/* cli_io.c: all-or-nothing output files. A CliOut writes into a temp file
 * beside `path`; cli_out_commit renames every open one into place, and
 * cli_out_abort removes them, so no partial output is ever left behind. */
typedef struct CliOut {
    const char *path;
    char *tmp;
    FILE *f;
} CliOut;

bool cli_out_open(CliOut *o, const char *path, Diag *d);
bool cli_out_commit(CliOut *outs, int n, Diag *d);
void cli_out_abort(CliOut *outs, int n);
/* Reads exactly `n` floats from a raw little-endian f32 file. */
bool cli_read_f32(const char *path, float *dst, size_t n, Diag *d);

/* Parses the net options plus a verb's own (`own` returns 1 consumed, 0
 * unknown, -1 error; may be NULL). Returns 0, or an exit status. */
int cli_parse_net_cmd(int argc, char **argv, NetArgs *na, void *ctx,
                      int (*own)(void *ctx, int argc, char **argv, int *i));

/* cli_image.c: images through stb. Per-channel normalisation of 0..1 RGB. */
typedef struct ImageNorm {
    float mean[3], std[3];
} ImageNorm;
bool cli_image_size(const char *path, int *h, int *w, Diag *d);
/* Reads an image, resizes it bilinearly to h x w, writes normalised CHW. */
bool cli_image_load(const char *path, const ImageNorm *norm, int h, int w, float *chw, Diag *d);
/* An RGB image [h, w, 3] as a PNG, written whole or not at all. */
bool cli_rgb_write(const char *path, const unsigned char *rgb, int h, int w, Diag *d);
/* Per-pixel argmax of [classes, h, w] logits as a VOC-palette PNG. */
bool cli_mask_write(const char *path, const uint8_t *labels, int h, int w, Diag *d);

/* Verbs. argv[0] is the verb; a and d live for the verb's duration. */
typedef int (*VerbFn)(int argc, char **argv, Arena *a, Diag *d);
int cmd_compile(int argc, char **argv, Arena *a, Diag *d);
int cmd_run(int argc, char **argv, Arena *a, Diag *d);
int cmd_inspect(int argc, char **argv, Arena *a, Diag *d);
int cmd_convert(int argc, char **argv, Arena *a, Diag *d);
int cmd_bench(int argc, char **argv, Arena *a, Diag *d); /* cli_bench.c */
int cmd_data(int argc, char **argv, Arena *a, Diag *d);  /* cli_data.c */

/* cli_progress.c: what long jobs show and leave behind. */
#include "search/bilevel.h"
typedef struct CliProgress {
    const char *what;
    int epochs, first_epoch;
    double t0;
    bool tty, shown;
} CliProgress;
void cli_progress_init(CliProgress *p, const char *what, int epochs);
/* A rewritten progress line with ETA on a terminal; nothing otherwise. */
void cli_progress_step(CliProgress *p, const SearchStep *s);
/* Erases the progress line before a normal line is printed. */
void cli_progress_clear(CliProgress *p);
bool cli_parse_int(const char *s, long lo, long hi, int *out);
/* mkdir of one level; an existing directory is fine. */
bool cli_make_dir(const char *path, Diag *d);
/* "epoch,<names...>" then one row per epoch, written whole. */
bool cli_write_csv(const char *path, const char *const *names, const double *const *cols,
                   int ncols, int n, Diag *d);

/* Reads back up to maxrows rows of such a file into cols (ncols columns
 * after "epoch"); the row count, or -1 after reporting to d. */
int cli_read_csv(const char *path, int ncols, double *const *cols, int maxrows, Diag *d);

int cmd_train(int argc, char **argv, Arena *a, Diag *d);  /* cli_train.c */
int cmd_search(int argc, char **argv, Arena *a, Diag *d); /* cli_search.c */
int cmd_draw(int argc, char **argv, Arena *a, Diag *d);   /* cli_search.c */

/* Prints diagnostics and returns 1 if d holds errors (else 0). */
int cli_report(Diag *d);

#endif
