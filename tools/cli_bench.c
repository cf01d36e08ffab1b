/* cli_bench.c — `nasc bench`: rank candidate genotypes by JIT-measured latency.
 *
 * Candidates come from positional genotype files (every genotype in each, or
 * the one --genotype names; an Auto-DeepLab file is one candidate) and from
 * --from FILE, which may be a genotypes.py, a JSON genotype, or any text such
 * as a search log: there every `Genotype(...)` and every line holding a JSON
 * genotype is a candidate, parsed in place (the rest of the text blanked, so
 * errors keep their file:line:col). Repeated architectures (a log prints the
 * genotype every epoch) are benchmarked once. Each candidate is lowered with
 * the net options, given weights (--weights, or seeded + calibrated BN),
 * optimised by the pass pipeline `nasc compile` runs (-O2 unless -O0/-O1 or
 * --passes= say otherwise: what is timed is what would ship), JIT-compiled
 * in this process (runtime/jit/bench.h), warmed up and timed. A
 * candidate that fails is reported and the others go on; the exit status is
 * 1 if any failed.
 */
#include "cli.h"
#include "runtime/interp.h"
#include "runtime/jit/bench.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct BenchOpts {
    NetArgs *na;
    PassArgs pa;        /* -O0/-O1/-O2, --passes=... as in compile */
    const char **files; /* positional genotype files */
    int nfiles;
    const char *from, *format;
    int runs, warmup;
    bool profile, check;
} BenchOpts;

typedef struct Cand {
    const char *name;
    Genotype geno;      /* DARTS candidates */
    const char *literal; /* DARTS: the canonical literal (duplicate check) */
    const char *path;   /* Auto-DeepLab: the file, built by cli_build_net */
    bool ok;
    const char *error;  /* first diagnostic when !ok */
    JitTiming t;
    double compile_ms, max_diff;
    int64_t macs, params, ws_bytes;
    /* --profile: per op kind (ms summed over the runs) and the top nodes */
    double kind_ms[NOP], prof_total;
    char *top_nodes;
} Cand;

/* ---- options ---- */

static int bench_int(const char *opt, const char *v, int lo, int hi, int *dst)
{
    char *end;
    long x = strtol(v, &end, 10);
    if (*end || x < lo || x > hi) {
        fprintf(stderr, "nasc bench: error: %s expects %d..%d, got '%s'\n", opt, lo, hi, v);
        return -1;
    }
    *dst = (int)x;
    return 1;
}

static int bench_option(void *ctx, int argc, char **argv, int *i)
{
    BenchOpts *o = ctx;
    const char *a = argv[*i];
    int r = cli_pass_option(&o->pa, argc, argv, i);
    if (r)
        return r;
    if (a[0] != '-') {
        o->files[o->nfiles++] = a;
        if (!o->na->genotype_path)
            o->na->genotype_path = a; /* satisfies the parser's "a file was given" */
        return 1;
    }
    if (strcmp(a, "--profile") == 0 || strcmp(a, "--check") == 0) {
        *(a[2] == 'p' ? &o->profile : &o->check) = true;
        return 1;
    }
    static const char *const names[] = {"--from", "--format", "--runs", "--warmup"};
    for (int k = 0; k < 4; k++) {
        if (!cli_is_opt(a, names[k]))
            continue;
        const char *v = cli_value(argc, argv, i, names[k]);
        if (!v)
            return -1;
        if (k == 0) {
            o->from = v;
            if (!o->na->genotype_path)
                o->na->genotype_path = v;
            return 1;
        }
        if (k == 1) {
            o->format = v;
            return 1;
        }
        return bench_int(names[k], v, k == 2 ? 1 : 0, 1000000, k == 2 ? &o->runs : &o->warmup);
    }
    return 0;
}

/* ---- candidates ---- */

typedef struct CandList {
    Cand *v;
    int n, cap, dups;
    Arena *a;
} CandList;

static Cand *add_slot(CandList *l)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        Cand *v = arena_calloc(l->a, (size_t)l->cap, sizeof *v);
        NASC_ASSERT(v);
        if (l->n)
            memcpy(v, l->v, (size_t)l->n * sizeof *v);
        l->v = v;
    }
    Cand *c = &l->v[l->n++];
    memset(c, 0, sizeof *c);
    return c;
}

/* Appends g unless the same architecture is already listed. */
static void add_geno(CandList *l, const Genotype *g, const char *fallback_name)
{
    char *lit = fe_genotype_to_literal(l->a, g);
    for (int i = 0; i < l->n; i++)
        if (l->v[i].literal && strcmp(l->v[i].literal, lit) == 0) {
            l->dups++;
            return;
        }
    Cand *c = add_slot(l);
    c->geno = *g;
    c->literal = lit;
    c->name = g->name ? g->name : fallback_name;
}

/* The text with everything outside [b, e) blanked (newlines kept), so a
 * parser of the span reports the original line:col. */
static char *only_span(Arena *a, const char *text, size_t len, size_t b, size_t e)
{
    char *t = arena_alloc(a, len + 1);
    for (size_t i = 0; i < len; i++)
        t[i] = (i >= b && i < e) || text[i] == '\n' ? text[i] : ' ';
    t[len] = '\0';
    return t;
}

/* End of the parenthesised call starting at text[open] == '(' (or 0). */
static size_t match_paren(const char *text, size_t len, size_t open)
{
    int depth = 0;
    char quote = 0;
    for (size_t i = open; i < len; i++) {
        char ch = text[i];
        if (quote) {
            if (ch == quote)
                quote = 0;
        } else if (ch == '\'' || ch == '"') {
            quote = ch;
        } else if (ch == '(' || ch == '[') {
            depth++;
        } else if ((ch == ')' || ch == ']') && --depth == 0) {
            return i + 1;
        }
    }
    return 0;
}

static void add_failed(CandList *l, const char *name, const Diag *d)
{
    Cand *c = add_slot(l);
    c->name = name;
    c->error = strdup(d->nmsg ? d->msg[0] : "cannot parse");
}

static bool has_text(const char *s, size_t n, const char *what)
{
    size_t m = strlen(what);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(s + i, what, m) == 0)
            return true;
    return false;
}

/* A search log: each Genotype(...) call and each line holding a JSON object. */
static void scan_text(CandList *l, const char *path, const char *text, size_t len)
{
    Arena *a = l->a;
    for (const char *p = text; (p = strstr(p, "Genotype(")) != NULL; p++) {
        size_t b = (size_t)(p - text), e = match_paren(text, len, b + 8);
        if (!e || (b > 0 && (text[b - 1] == '_' || isalnum((unsigned char)text[b - 1]))))
            continue; /* unterminated, or a longer name such as MyGenotype( */
        Genotype g;
        Loc at = loc_at_offset(path, text, b);
        const char *name = arena_printf(a, "%s:%u", path, at.line);
        Diag one; /* a bad one is a failed candidate; the scan goes on */
        diag_init(&one);
        if (fe_parse_darts_text(a, path, only_span(a, text, len, b, e), len, NULL, &g, &one))
            add_geno(l, &g, name);
        else
            add_failed(l, name, &one);
        diag_free(&one);
        p = text + e - 1;
    }
    for (size_t i = 0; i < len;) {
        size_t e = i;
        while (e < len && text[e] != '\n')
            e++;
        size_t s = i;
        while (s < e && (text[s] == ' ' || text[s] == '\t'))
            s++;
        const char *brace = memchr(text + s, '{', e - s);
        if (brace && has_text(text + s, e - s, "\"normal\"")) {
            Genotype g;
            size_t b = (size_t)(brace - text);
            const char *name = arena_printf(a, "%s:%u", path, loc_at_offset(path, text, b).line);
            Diag one;
            diag_init(&one);
            if (fe_parse_genotype_json(a, path, only_span(a, text, len, b, e), len, &g, &one))
                add_geno(l, &g, name);
            else
                add_failed(l, name, &one);
            diag_free(&one);
        }
        i = e + 1;
    }
}

static bool add_file(CandList *l, const NetArgs *na, const char *path, bool scan, Diag *d)
{
    Arena *a = l->a;
    size_t len;
    char *text = fe_read_file(a, path, &len, d);
    if (!text)
        return false;
    const char *file = arena_strdup(a, path);
    int before = l->n + l->dups;
    if (fe_sniff_arch(text, len) != FE_ARCH_DARTS) {
        add_slot(l)->path = file; /* Auto-DeepLab: built by cli_build_net */
        l->v[l->n - 1].name = file;
        return true;
    }
    Genotype g;
    const char *p = text;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    if (*p == '{') {
        if (fe_parse_genotype_json(a, file, text, len, &g, d))
            add_geno(l, &g, file);
    } else if (na->genotype_name) {
        if (fe_parse_darts_text(a, file, text, len, na->genotype_name, &g, d))
            add_geno(l, &g, na->genotype_name);
    } else {
        /* a genotypes.py parses whole; a log does not, and is scanned */
        Diag probe;
        diag_init(&probe);
        Genotype *gs;
        int ng = fe_parse_darts_all(a, file, text, len, &gs, scan ? &probe : d);
        for (int i = 0; i < ng; i++)
            add_geno(l, &gs[i], arena_printf(a, "%s#%d", file, i + 1));
        if (ng <= 0 && scan)
            scan_text(l, file, text, len);
        diag_free(&probe);
    }
    if (l->n + l->dups == before && !d->nerr)
        diag_error(d, loc_file(file), "no genotype found");
    return d->nerr == 0;
}

/* ---- one candidate ---- */

static Graph *build(Arena *a, const NetArgs *na, const SafeTensors *st, const Cand *c, Diag *d)
{
    if (c->path) {
        NetArgs one = *na;
        one.genotype_path = c->path;
        BuiltNet net;
        return cli_build_net(a, &one, &net, d) ? net.g : NULL;
    }
    Graph *g = fe_lower_darts(a, &c->geno, &na->cfg, d);
    if (!g || !ir_verify(g, d))
        return NULL;
    if (st)
        return fe_bind_weights(g, st, na->cfg.auxiliary ? "auxiliary_head." : NULL, d) ? g
                                                                                      : NULL;
    return cli_init_weights(g, na->seed, d) ? g : NULL;
}

/* --check: the interpreter's output for the seeded input, from the graph
 * as lowered (before the passes), so the check covers passes, codegen and
 * JIT. NULL after reporting to d. */
static void *reference_output(const Graph *g, Diag *d)
{
    const Value *out = &g->vals[g->outputs[0]];
    int64_t nin = shape_numel(&g->vals[g->inputs[0]].shape);
    float *x = malloc((size_t)nin * sizeof *x);
    void *ref = malloc((size_t)shape_numel(&out->shape) * dtype_size(out->dtype));
    bool ok = x && ref;
    if (ok) {
        cli_seeded_input(x, nin);
        ok = rt_interp_run(g, x, ref, NULL, d);
    } else {
        diag_error(d, loc_file(NULL), "out of memory");
    }
    free(x);
    if (!ok)
        free(ref);
    return ok ? ref : NULL;
}

/* --check: the JIT output against reference_output. */
static bool check_output(const Graph *g, JitNet *net, const void *ref_out, Cand *c, Diag *d)
{
    float *x = malloc((size_t)net->in_floats * sizeof *x), *y = malloc(net->out_bytes);
    const float *ref = ref_out;
    bool ok = x && y;
    if (ok) {
        cli_seeded_input(x, net->in_floats);
        ok = jit_net_run(net, x, y, d);
    }
    if (ok && g->vals[g->outputs[0]].dtype == DT_F32) {
        size_t n = net->out_bytes / sizeof(float);
        double big = 1, diff = 0;
        for (size_t i = 0; i < n; i++) {
            big = fmax(big, fabs((double)ref[i]));
            diff = fmax(diff, fabs((double)y[i] - (double)ref[i]));
        }
        c->max_diff = diff;
        if (!(diff <= 1e-4 * big)) {
            diag_error(d, loc_file(NULL), "JIT output differs from the interpreter: max|diff| "
                       "%.3g > %.3g", diff, 1e-4 * big);
            ok = false;
        }
    } else if (ok && memcmp(y, ref, net->out_bytes) != 0) {
        diag_error(d, loc_file(NULL), "JIT labels differ from the interpreter's");
        ok = false;
    }
    free(x);
    free(y);
    return ok;
}

/* --profile: per op kind, and the five slowest nodes as text. */
static bool profile(Arena *a, const Graph *g, const BenchOpts *o, Cand *c, Diag *d)
{
    JitNet pn;
    if (!jit_net_build(g, JIT_NET_PROFILE, &pn, d))
        return false;
    double *ms = calloc(pn.nprof ? pn.nprof : 1, sizeof *ms);
    bool ok = ms && jit_net_profile(&pn, NULL, o->warmup, o->runs, ms, d);
    if (ok) {
        for (uint32_t k = 0; k < pn.nprof; k++) {
            c->kind_ms[g->nodes[pn.prof_node[k]].op] += ms[k] / o->runs;
            c->prof_total += ms[k] / o->runs;
        }
        c->top_nodes = arena_strdup(a, "");
        for (int t = 0; t < 5; t++) { /* the five slowest, picked (and zeroed) in turn */
            uint32_t best = 0;
            for (uint32_t k = 1; k < pn.nprof; k++)
                best = ms[k] > ms[best] ? k : best;
            if (pn.nprof == 0 || ms[best] <= 0)
                break;
            /* named by its result, else by its weight's state_dict key */
            const Node *n = &g->nodes[pn.prof_node[best]];
            const char *vn = g->vals[n->out].name;
            if (!vn && n->nin > 1 && g->vals[n->in[1]].producer &&
                g->nodes[g->vals[n->in[1]].producer].op == OP_PARAM)
                vn = g->vals[n->in[1]].name;
            c->top_nodes = arena_printf(a, "%s      %8.3f ms  %-10s %s\n", c->top_nodes,
                                        ms[best] / o->runs, op_info[n->op].name, vn ? vn : "");
            ms[best] = 0;
        }
    }
    free(ms);
    jit_net_free(&pn);
    return ok;
}

/* MACs and parameters of the architecture: counted before the passes (a
 * folded BatchNorm's new weights are not new parameters). */
static void count_architecture(const Graph *g, Cand *c)
{
    for (NodeId n = 1; n < g->nnode; n++)
        c->macs += ir_node_macs(g, &g->nodes[n]);
    int64_t buffers;
    c->params = ir_graph_param_count(g, &buffers);
}

static bool measure(Arena *a, const Graph *g, const BenchOpts *o, const void *ref, Cand *c,
                    Diag *d)
{
    JitNet net;
    if (!jit_net_build(g, 0, &net, d))
        return false;
    c->compile_ms = net.emit_ms + net.compile_ms;
    c->ws_bytes = net.ws_bytes;
    bool ok = (!ref || check_output(g, &net, ref, c, d)) &&
              jit_net_time(&net, NULL, o->warmup, o->runs, &c->t, d);
    jit_net_free(&net);
    return ok && (!o->profile || profile(a, g, o, c, d));
}

static void run_candidate(const BenchOpts *o, const SafeTensors *st, Cand *c)
{
    Arena a;
    Diag d;
    arena_init(&a);
    diag_init(&d);
    Graph *g = build(&a, o->na, st, c, &d);
    if (g)
        count_architecture(g, c);
    void *ref = g && o->check ? reference_output(g, &d) : NULL;
    c->ok = g && (!o->check || ref) && cli_run_passes(&a, g, &o->pa, &d) &&
            measure(&a, g, o, ref, c, &d) && d.nerr == 0;
    free(ref);
    /* what the report needs outlives the arena */
    c->top_nodes = c->ok && c->top_nodes ? strdup(c->top_nodes) : NULL;
    if (!c->ok)
        c->error = strdup(d.nmsg ? d.msg[0] : "failed");
    diag_free(&d);
    arena_free_all(&a);
}

/* ---- output ---- */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void progress(int done, int total, const char *name, double t0)
{
    enum { W = 30 };
    double el = now_s() - t0, eta = done ? el / done * (total - done) : 0;
    int fill = total ? done * W / total : W;
    fprintf(stderr, "\r\033[K[%.*s%*s] %d/%d  ETA %dm%02ds  %.40s", fill,
            "==============================", W - fill, "", done, total, (int)eta / 60,
            (int)eta % 60, name);
    if (done == total)
        fputc('\n', stderr);
    fflush(stderr);
}

static double gflops(const Cand *c)
{
    return c->t.median_ms > 0 ? 2.0 * (double)c->macs / (c->t.median_ms * 1e6) : 0;
}

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", *s);
        else
            putchar(*s);
    }
    putchar('"');
}

static void print_json(Cand **r, int n)
{
    printf("[\n");
    for (int i = 0; i < n; i++) {
        const Cand *c = r[i];
        printf("  {\"rank\": %d, \"name\": ", c->ok ? i + 1 : 0);
        json_str(c->name);
        if (!c->ok) {
            printf(", \"error\": ");
            json_str(c->error);
        } else {
            printf(", \"median_ms\": %.4f, \"min_ms\": %.4f, \"max_ms\": %.4f, \"macs\": %lld, "
                   "\"params\": %lld, \"workspace_bytes\": %lld, \"gflops\": %.3f, "
                   "\"compile_ms\": %.1f", c->t.median_ms, c->t.min_ms, c->t.max_ms,
                   (long long)c->macs, (long long)c->params, (long long)c->ws_bytes, gflops(c),
                   c->compile_ms);
            if (c->prof_total > 0) {
                printf(", \"profile_ms\": {");
                for (int k = 1, first = 1; k < NOP; k++)
                    if (c->kind_ms[k] > 0)
                        printf("%s\"%s\": %.4f", first ? "" : ", ", op_info[k].name,
                               c->kind_ms[k]), first = 0;
                printf("}");
            }
        }
        printf("}%s\n", i + 1 < n ? "," : "");
    }
    printf("]\n");
}

static void print_csv(Cand **r, int n)
{
    printf("rank,name,median_ms,min_ms,max_ms,macs,params,workspace_bytes,gflops,compile_ms,"
           "error\n");
    for (int i = 0; i < n; i++) {
        const Cand *c = r[i];
        printf("%d,\"%s\",", c->ok ? i + 1 : 0, c->name);
        if (c->ok)
            printf("%.4f,%.4f,%.4f,%lld,%lld,%lld,%.3f,%.1f,\n", c->t.median_ms, c->t.min_ms,
                   c->t.max_ms, (long long)c->macs, (long long)c->params,
                   (long long)c->ws_bytes, gflops(c), c->compile_ms);
        else
            printf(",,,,,,,,\"%s\"\n", c->error);
    }
}

static void print_profile(const Cand *c)
{
    printf("\n  %s: %.3f ms per run, instrumented\n", c->name, c->prof_total);
    int order[NOP], m = 0;
    for (int k = 1; k < NOP; k++)
        if (c->kind_ms[k] > 0)
            order[m++] = k;
    for (int i = 1; i < m; i++) /* few kinds: insertion sort, slowest first */
        for (int j = i; j > 0 && c->kind_ms[order[j]] > c->kind_ms[order[j - 1]]; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (int i = 0; i < m; i++)
        printf("    %-12s %9.3f ms  %5.1f%%\n", op_info[order[i]].name, c->kind_ms[order[i]],
               100 * c->kind_ms[order[i]] / c->prof_total);
    printf("    slowest nodes:\n%s", c->top_nodes ? c->top_nodes : "");
}

static void print_table(Cand **r, int n, const BenchOpts *o)
{
    printf("%4s  %-24s %10s %10s %10s %9s %8s %9s %8s %10s\n", "rank", "candidate",
           "median ms", "min ms", "max ms", "MMACs", "Mparams", "ws KB", "GFLOP/s",
           "compile ms");
    for (int i = 0; i < n; i++) {
        const Cand *c = r[i];
        if (!c->ok) {
            printf("   -  %-24.24s FAILED: %s\n", c->name, c->error);
            continue;
        }
        printf("%4d  %-24.24s %10.3f %10.3f %10.3f %9.1f %8.3f %9.0f %8.2f %10.1f\n", i + 1,
               c->name, c->t.median_ms, c->t.min_ms, c->t.max_ms, (double)c->macs / 1e6,
               (double)c->params / 1e6, (double)c->ws_bytes / 1024, gflops(c), c->compile_ms);
    }
    if (o->profile)
        for (int i = 0; i < n; i++)
            if (r[i]->ok)
                print_profile(r[i]);
}

static int cmp_rank(const void *a, const void *b)
{
    const Cand *x = *(Cand *const *)a, *y = *(Cand *const *)b;
    if (x->ok != y->ok)
        return x->ok ? -1 : 1;
    return (x->t.median_ms > y->t.median_ms) - (x->t.median_ms < y->t.median_ms);
}

/* ---- the verb ---- */

static bool collect(CandList *l, const BenchOpts *o, Diag *d)
{
    for (int i = 0; i < o->nfiles; i++)
        if (!add_file(l, o->na, o->files[i], false, d))
            return false;
    return !o->from || add_file(l, o->na, o->from, true, d);
}

static int report(Cand *v, int n, const BenchOpts *o, int dups)
{
    Cand **r = malloc((size_t)(n ? n : 1) * sizeof *r);
    if (!r)
        return 1;
    int failed = 0;
    for (int i = 0; i < n; i++) {
        r[i] = &v[i];
        failed += !v[i].ok;
    }
    qsort(r, (size_t)n, sizeof *r, cmp_rank);
    if (strcmp(o->format, "json") == 0)
        print_json(r, n);
    else if (strcmp(o->format, "csv") == 0)
        print_csv(r, n);
    else
        print_table(r, n, o);
    for (int i = 0; i < n; i++)
        if (!r[i]->ok)
            fprintf(stderr, "nasc bench: %s: %s\n", r[i]->name, r[i]->error);
    fprintf(stderr, "nasc bench: %d candidates (%d failed%s%d duplicates skipped), %d warm-up "
            "+ %d timed runs each, %s\n", n, failed, ", ", dups, o->warmup, o->runs,
            jit_backend());
    free(r);
    return failed ? 1 : 0;
}

int cmd_bench(int argc, char **argv, Arena *a, Diag *d)
{
    NetArgs na;
    const char **files = arena_calloc(a, (size_t)argc, sizeof *files);
    BenchOpts o = {.na = &na, .pa = CLI_PASS_ARGS_DEFAULT, .files = files, .format = "table",
                   .runs = 10, .warmup = 2};
    na.genotype_path = NULL;
    int rc = cli_parse_net_cmd(argc, argv, &na, &o, bench_option);
    if (rc)
        return rc;
    if (strcmp(o.format, "table") && strcmp(o.format, "csv") && strcmp(o.format, "json")) {
        fprintf(stderr, "nasc bench: error: --format expects table, csv or json, got '%s'\n",
                o.format);
        return 2;
    }
    const char *const *pipeline;
    int npass;
    if (!cli_pass_pipeline(a, &o.pa, &pipeline, &npass, d)) /* bad --passes: before any work */
        return cli_report(d);
    CandList l = {.a = a};
    if (!collect(&l, &o, d))
        return cli_report(d);
    SafeTensors st;
    if (na.weights && !fe_safetensors_load(a, na.weights, &st, d))
        return cli_report(d);
    bool tty = isatty(2);
    double t0 = now_s();
    for (int i = 0; i < l.n; i++) {
        if (tty)
            progress(i, l.n, l.v[i].name, t0);
        if (!l.v[i].error) /* else it failed to parse */
            run_candidate(&o, na.weights ? &st : NULL, &l.v[i]);
    }
    if (tty)
        progress(l.n, l.n, "", t0);
    rc = report(l.v, l.n, &o, l.dups);
    for (int i = 0; i < l.n; i++) {
        free((char *)l.v[i].error);
        free(l.v[i].top_nodes);
    }
    return rc ? rc : cli_report(d);
}
