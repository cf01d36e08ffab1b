/* nasc.c — the command-line driver: verbs compile, run, inspect, convert,
 * bench, data, search, train, draw.
 *
 * Each verb parses its options, runs the library pipeline (frontend ->
 * ir -> codegen / runtime) with one Arena and one Diag, prints the
 * diagnostics, and returns the exit status. Only this folder exits.
 */
#include "cli.h"
#include "cli_quant.h"
#include "codegen/codegen.h"
#include "runtime/interp.h"

#include <string.h>

static const char usage_text[] =
    "usage: nasc <verb> [options]\n"
    "\n"
    "verbs:\n"
    "  compile ARCH [net options] [--weights W] [--name NAME] [--emit=c|ir] -o OUT\n"
    "          [-O0|-O1|-O2] [--passes=a,b,c] [--print-after=PASS] [--print-after-all] [--stats]\n"
    "          [--target host|generic|cortex-m4|cortex-m7] [--max-ram BYTES] [--max-flash BYTES]\n"
    "          [--conv=auto|direct|winograd|winograd2] [--dilation=auto|direct|s2b]\n"
    "          [--quantize int8 --calib DIR]\n"
    "        compile to OUT (NAME.c; NAME.h is written beside it), or print/write the IR;\n"
    "        -O2 (default) folds BatchNorm into convs, drops dead `none` edges and dead nodes,\n"
    "        merges common subexpressions, fuses adds and ReLUs into convs (-O1: all but\n"
    "        the BatchNorm folding); concats are planned away (nasc-opt --list-passes)\n"
    "        --target picks alignment and includes (docs/firmware.md; default host);\n"
    "        --max-ram / --max-flash (bytes, or 64k, 4M) fail if workspace / weights exceed\n"
    "        --conv=winograd: dense 3x3 stride-1 convs as Winograd F(4x4,3x3) (~740 KiB of\n"
    "        stack; not bit-compatible), winograd2: as F(2x2,3x3) (rounds less); auto\n"
    "        (default, host target): F(4x4) from 128 channels, F(2x2) from 64, on maps\n"
    "        >= 16x16, else direct (codegen/README.md)\n"
    "        --quantize int8: int8 network calibrated on DIR (*.bin raw f32, or images)\n"
    "        --dilation: dilated convs as direct loops, as a dense conv on the input's\n"
    "        r x r phases (s2b), or per conv by a cost model (auto, default; passes/README.md)\n"
    "  run ARCH [net options] [--weights W] [--in FILE] [--out FILE] [--trace DIR] [--top K]\n"
    "        run the reference interpreter; --in is raw f32 NCHW (default: seeded input)\n"
    "  inspect ARCH [net options] [--weights W]\n"
    "        parameters, multiply-adds, per-block table, workspace bytes\n"
    "  convert ARCH [net options] [--to json|literal] [-o OUT]\n"
    "        rewrite an architecture in the canonical JSON (default) or the DARTS literal\n"
    "  bench ARCH... | --from FILE [net options] [--runs N] [--warmup N]\n"
    "        [--format table|csv|json] [--check] [--profile] [-O0|-O1|-O2] [--passes=a,b,c]\n"
    "        JIT-compile every genotype of the files (or found in FILE, e.g. a search\n"
    "        log) in this process and rank them by measured latency; the graph passes\n"
    "        and their options are compile's (default -O2); --check compares with the\n"
    "        interpreter run on the graph before the passes\n"
    "  data fashion-seg DIR [--size N] [--train N] [--val N] [--seed S] [--per-canvas A..B]\n"
    "        build a VOC-layout segmentation set from Fashion-MNIST (tools/README.md)\n"
    "  search adl --data DIR [--layers L] [--F F] [--epochs N] [--arch-start E] [--batch N]\n"
    "          [--crop HxW] [--aspp-rate R] [--max-skip M] [--head-weights] [--seed S]\n"
    "          [--out DIR] [--resume]\n"
    "  search darts [--data FASHION_MNIST_DIR] [--images N] [--C C] [--layers L]\n"
    "          [--epochs N] [--arch-start E] [--batch N] [--second-order] [--seed S]\n"
    "          [--out DIR] [--resume]\n"
    "        differentiable architecture search: Auto-DeepLab (cell + path) on a\n"
    "        segmentation set, or DARTS cells on Fashion-MNIST; writes the architecture,\n"
    "        checkpoints, history, plots and diagrams into --out (docs/search.md)\n"
    "  train ARCH --data DIR [net options] [--epochs N] [--batch N] [--crop HxW] [--lr X]\n"
    "          [--seed S] [--resume] [--log-dir DIR] [-o weights.safetensors]\n"
    "        retrain an architecture from scratch; per-epoch val loss, pixel accuracy\n"
    "        and mIoU; writes the weights nasc compile reads (tools/README.md)\n"
    "  draw ARCH [net options] [-o DIR]\n"
    "        the cells (and Auto-DeepLab path) as Graphviz DOT and SVG\n"
    "\n"
    "ARCH is a file of DARTS `NAME = Genotype(...)` lines, a canonical JSON genotype\n"
    "(DARTS or Auto-DeepLab), or a TF hnasnet description; Auto-DeepLab search output\n"
    "can also come as --path P.npy|.json --cell C.npy|.json without ARCH.\n"
    "\n"
    "net options (DARTS):\n"
    "  --genotype NAME     pick NAME from a file of NAME = Genotype(...) lines\n"
    "  --net cifar|imagenet  macro network (default cifar)\n"
    "  --C N --layers N --classes N --input HxW\n"
    "                      defaults: cifar 36/20/10/32x32, imagenet 48/14/1000/224x224\n"
    "  --auxiliary         the weights carry an auxiliary head (accepted, unused in eval)\n"
    "net options (Auto-DeepLab; they override the architecture file):\n"
    "  --path FILE --cell FILE  network path and cell rows (.npy or JSON lists)\n"
    "  --F N --classes N --input HxW --aspp-rates A,B,C --no-decoder --bn bn|abn\n"
    "                      defaults: F=20, 19 classes, 513x513, rates 6,12,18, decoder, bn\n"
    "weights:\n"
    "  --weights W         safetensors with the PyTorch state_dict names\n"
    "  --seed N            seed of the deterministic initialisation used without --weights\n";

int cli_report(Diag *d)
{
    diag_print(d, stderr);
    return d->nerr ? 1 : 0;
}

/* ---- compile ---- */

typedef struct CompileOpts {
    const char *out, *name, *emit;
    PassArgs pa;               /* -O0/-O1/-O2, --passes=, --print-after..., --stats, --dilation */
    CgOptions fw;              /* --conv, --target, --max-ram, --max-flash (cli_target_option) */
    const char *quantize;      /* --quantize int8 (cli_quant.c), or NULL: float */
    const char *calib;         /* --calib DIR: calibration inputs for --quantize */
} CompileOpts;

static int compile_option(void *ctx, int argc, char **argv, int *i)
{
    CompileOpts *o = ctx;
    int r = cli_pass_option(&o->pa, argc, argv, i);
    if (r)
        return r;
    const char **dst = NULL;
    const char *opt = argv[*i];
    if (strcmp(opt, "-o") == 0)
        dst = &o->out;
    else if (cli_is_opt(opt, "--name"))
        dst = &o->name, opt = "--name";
    else if (cli_is_opt(opt, "--emit"))
        dst = &o->emit, opt = "--emit";
    else if (cli_is_opt(opt, "--quantize"))
        dst = &o->quantize, opt = "--quantize";
    else if (cli_is_opt(opt, "--calib"))
        dst = &o->calib, opt = "--calib";
    if (!dst)
        return cli_target_option(&o->fw, argc, argv, i);
    *dst = cli_value(argc, argv, i, opt);
    return *dst ? 1 : -1;
}

static bool valid_c_name(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' ||
              (*s >= '0' && *s <= '9')))
            return false;
    return true;
}

static int emit_ir(Graph *g, const char *out, Diag *d)
{
    if (!out) {
        ir_print(g, stdout);
        return 0;
    }
    CliOut o;
    if (!cli_out_open(&o, out, d))
        return cli_report(d);
    ir_print(g, o.f);
    cli_out_commit(&o, 1, d);
    return cli_report(d);
}

/* "dir/net.c" -> "dir/net.h"; the .c must end in ".c". */
static char *header_path(Arena *a, const char *c_path)
{
    size_t n = strlen(c_path);
    if (n < 3 || strcmp(c_path + n - 2, ".c") != 0)
        return NULL;
    char *h = arena_strdup(a, c_path);
    h[n - 1] = 'h';
    return h;
}

static int emit_c(Arena *a, const BuiltNet *net, const NetArgs *na, const CompileOpts *o,
                  Diag *d)
{
    char *hpath = header_path(a, o->out);
    if (!hpath) {
        fprintf(stderr, "nasc compile: error: -o must name a .c file, got '%s'\n", o->out);
        return 2;
    }
    const char *slash = strrchr(hpath, '/');
    const char *src = na->genotype_path ? na->genotype_path : na->adl_cell;
    const char *base = strrchr(src, '/');
    CgOptions opt = {
        .name = o->name,
        .header_name = slash ? slash + 1 : hpath,
        .banner = arena_printf(a, "network: %s\nfrom: %s\n%s", net->summary,
                               base ? base + 1 : src, cli_weights_note(a, na)),
        .target = o->fw.target,
        .max_ram = o->fw.max_ram,
        .max_flash = o->fw.max_flash,
        .conv = o->fw.conv,
    };
    CliOut outs[2];
    if (!cli_out_open(&outs[0], o->out, d))
        return cli_report(d);
    if (!cli_out_open(&outs[1], hpath, d)) {
        cli_out_abort(outs, 1);
        return cli_report(d);
    }
    bool ok = o->quantize ? cli_quant_emit(net->g, &opt, o->calib, outs[0].f, outs[1].f, d)
                          : cg_emit_c(net->g, &opt, outs[0].f, outs[1].f, d);
    if (!ok) {
        cli_out_abort(outs, 2);
        return cli_report(d);
    }
    cli_out_commit(outs, 2, d);
    return cli_report(d);
}

int cmd_compile(int argc, char **argv, Arena *a, Diag *d)
{
    NetArgs na;
    CompileOpts o = {.name = "net", .emit = "c", .pa = CLI_PASS_ARGS_DEFAULT};
    int rc = cli_parse_net_cmd(argc, argv, &na, &o, compile_option);
    if (rc)
        return rc;
    if (strcmp(o.emit, "c") && strcmp(o.emit, "ir")) {
        fprintf(stderr, "nasc compile: error: --emit expects c or ir, got '%s'\n", o.emit);
        return 2;
    }
    if (!valid_c_name(o.name)) {
        fprintf(stderr, "nasc compile: error: --name must be a C identifier, got '%s'\n",
                o.name);
        return 2;
    }
    if (o.quantize && (strcmp(o.quantize, "int8") || strcmp(o.emit, "c"))) {
        fprintf(stderr, "nasc compile: error: --quantize expects int8 (with --emit=c)\n");
        return 2;
    }
    if (strcmp(o.emit, "c") == 0 && !o.out) {
        fprintf(stderr, "nasc compile: error: no output file (use -o NAME.c)\n");
        return 2;
    }
    if (o.quantize) /* the phase ops have no int8 form: dilated convs stay direct */
        o.pa.dilation = "direct";
    BuiltNet net;
    if (!cli_build_net(a, &na, &net, d) || !cli_run_passes(a, net.g, &o.pa, d))
        return cli_report(d);
    if (strcmp(o.emit, "ir") == 0)
        return emit_ir(net.g, o.out, d);
    return emit_c(a, &net, &na, &o, d);
}

/* Runs one verb with a fresh arena and diagnostics, freed afterwards. */
static int run_verb(VerbFn fn, int argc, char **argv)
{
    Arena a;
    Diag d;
    arena_init(&a);
    diag_init(&d);
    int rc = fn(argc, argv, &a, &d);
    diag_free(&d);
    arena_free_all(&a);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *verb;
        VerbFn fn;
    } verbs[] = {
        {"compile", cmd_compile},
        {"run", cmd_run},
        {"inspect", cmd_inspect},
        {"convert", cmd_convert},
        {"bench", cmd_bench},
        {"data", cmd_data},
        {"train", cmd_train},
        {"search", cmd_search},
        {"draw", cmd_draw},
    };
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (strcmp(argv[1], verbs[i].verb) == 0)
            return run_verb(verbs[i].fn, argc - 1, argv + 1);
    fprintf(stderr, "nasc: error: unknown verb '%s' (see nasc --help)\n", argv[1]);
    return 2;
}
