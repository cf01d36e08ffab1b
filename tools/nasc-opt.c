/* nasc-opt.c — textual IR in, passes, textual IR out (as mlir-opt).
 *
 *   nasc-opt [FILE|-] [--passes=a,b,c | -O0|-O1|-O2] [--print-after=PASS]
 *            [--print-after-all] [--stats] [--seed N] [--no-verify]
 *            [--split-input-file] [--list-passes]
 *
 * The IR dumps of --print-after, the --stats table and the final IR go to
 * stdout in that order; diagnostics go to stderr (stdout is flushed first,
 * so `2>&1 |` keeps the order). With
 * --split-input-file the input is cut at lines `// -----`, each piece is an
 * independent graph (diagnostics keep the original line numbers) and the
 * outputs are joined by the same separator. Exit: 0 ok, 1 a piece failed,
 * 2 bad usage.
 */
#include "frontend/frontend.h"
#include "passes/passes.h"

#include <stdlib.h>
#include <string.h>

enum { MAXPASS = 64 };

typedef struct Opts {
    const char *file;
    const char *names[MAXPASS];
    int npass;
    bool have_passes, have_level, split, have_seed;
    int level;
    uint64_t seed;
    PassOptions po;
} Opts;

static const char usage_text[] =
    "usage: nasc-opt [FILE|-] [--passes=a,b,c | -O0|-O1|-O2] [--print-after=PASS]\n"
    "                [--print-after-all] [--stats] [--seed N] [--no-verify]\n"
    "                [--split-input-file] [--list-passes]\n"
    "Reads textual IR (stdin without FILE), runs the passes (default -O2), prints the IR.\n"
    "--seed N binds deterministic weights (needed by passes that compute weights).\n";

static int usage(const char *why)
{
    fprintf(stderr, "nasc-opt: %s\n%s", why, usage_text);
    return 2;
}

static int list_passes(void)
{
    int n;
    const PassInfo *p = pass_registry(&n);
    for (int i = 0; i < n; i++)
        printf("  %-14s %s\n", p[i].name, p[i].summary);
    for (int lvl = 0; lvl <= 2; lvl++) {
        int k;
        const char *const *names = pass_pipeline_for_level(lvl, &k);
        printf("-O%d:", lvl);
        for (int i = 0; i < k; i++)
            printf("%s%s", i ? "," : " ", names[i]);
        printf("\n");
    }
    return 0;
}

/* Splits a copy of the comma list into o->names. */
static bool split_passes(Opts *o, const char *list)
{
    char *s = strdup(list);
    if (!s)
        return false;
    for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
        if (o->npass == MAXPASS)
            return false;
        o->names[o->npass++] = tok; /* s is kept for the process' life */
    }
    return o->npass > 0;
}

/* Returns -1 to go on, or an exit status. */
static int parse_args(Opts *o, int argc, char **argv)
{
    o->level = 2;
    o->po.verify_each = true;
    o->po.print_to = stdout;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strncmp(a, "--passes=", 9)) {
            if (!split_passes(o, a + 9))
                return usage("bad --passes list");
            o->have_passes = true;
        } else if (!strcmp(a, "-O0") || !strcmp(a, "-O1") || !strcmp(a, "-O2")) {
            o->level = a[2] - '0', o->have_level = true;
        } else if (!strncmp(a, "--print-after=", 14)) {
            o->po.print_after = a + 14;
        } else if (!strcmp(a, "--print-after-all")) {
            o->po.print_after_all = true;
        } else if (!strcmp(a, "--stats")) {
            o->po.stats_to = stdout;
        } else if (!strcmp(a, "--seed") && i + 1 < argc) {
            char *end;
            o->seed = strtoull(argv[++i], &end, 10), o->have_seed = true;
            if (*end || !*argv[i])
                return usage("--seed takes a number");
        } else if (!strcmp(a, "--no-verify")) {
            o->po.verify_each = false;
        } else if (!strcmp(a, "--split-input-file")) {
            o->split = true;
        } else if (!strcmp(a, "--list-passes")) {
            return list_passes();
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_text, stdout);
            return 0;
        } else if ((a[0] != '-' || !strcmp(a, "-")) && !o->file) {
            o->file = a;
        } else {
            fprintf(stderr, "nasc-opt: unknown argument '%s'\n", a);
            return 2;
        }
    }
    if (o->have_passes && o->have_level)
        return usage("give --passes or an -O level, not both");
    if (o->po.print_after && !pass_lookup(o->po.print_after)) {
        fprintf(stderr, "nasc-opt: --print-after: unknown pass '%s'\n", o->po.print_after);
        return 2;
    }
    if (!o->have_passes) {
        const char *const *names = pass_pipeline_for_level(o->level, &o->npass);
        memcpy(o->names, names, (size_t)o->npass * sizeof *names);
    }
    return -1;
}

static char *read_all(FILE *f, size_t *len)
{
    size_t cap = 1 << 16, n = 0, got;
    char *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap) {
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger)
                free(buf);
            buf = bigger;
        }
    }
    if (buf)
        buf[n] = 0, *len = n;
    return buf;
}

/* Parses, seeds and optimises one graph whose text is text[0..len) (the
 * lines before it already counted in `line0`, as blank lines). */
static bool run_one(const Opts *o, const char *file, const char *text, size_t len,
                    uint32_t line0)
{
    Arena a;
    arena_init(&a);
    Diag d;
    diag_init(&d);
    char *padded = malloc(line0 + len + 1);
    NASC_ASSERT(padded);
    memset(padded, '\n', line0);
    memcpy(padded + line0, text, len);
    padded[line0 + len] = 0;
    Graph *g = ir_parse(&a, file, padded, line0 + len, &d);
    free(padded);
    bool ok = g != NULL;
    if (ok && o->have_seed)
        fe_init_weights(g, o->seed);
    if (ok)
        ok = pass_run_pipeline(g, o->names, o->npass, &o->po, &d) >= 0;
    if (ok)
        ir_print(g, stdout);
    fflush(stdout);
    diag_print(&d, stderr);
    diag_free(&d);
    arena_free_all(&a);
    return ok;
}

/* Start of the next line after p (or the end). */
static const char *next_line(const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    return nl ? nl + 1 : end;
}

static bool is_separator(const char *p, const char *eol)
{
    while (eol > p && (eol[-1] == '\n' || eol[-1] == '\r' || eol[-1] == ' '))
        eol--;
    while (p < eol && (*p == ' ' || *p == '\t'))
        p++;
    return eol - p == 8 && !memcmp(p, "// -----", 8);
}

static bool run_split(const Opts *o, const char *file, const char *text, size_t len)
{
    const char *end = text + len, *start = text, *p = text;
    uint32_t line = 0, line0 = 0;
    bool ok = true, first = true;
    for (;;) {
        const char *eol = p < end ? next_line(p, end) : end;
        if (p == end || is_separator(p, eol)) {
            if (!first)
                printf("// -----\n");
            first = false;
            ok = run_one(o, file, start, (size_t)(p - start), line0) && ok;
            if (p == end)
                return ok;
            start = eol, line0 = line + 1;
        }
        p = eol, line++;
    }
}

int main(int argc, char **argv)
{
    Opts o;
    memset(&o, 0, sizeof o);
    int rc = parse_args(&o, argc, argv);
    if (rc >= 0)
        return rc;
    bool from_stdin = !o.file || !strcmp(o.file, "-");
    FILE *f = from_stdin ? stdin : fopen(o.file, "rb");
    if (!f) {
        fprintf(stderr, "nasc-opt: cannot open '%s'\n", o.file);
        return 1;
    }
    size_t len = 0;
    char *text = read_all(f, &len);
    if (!from_stdin)
        fclose(f);
    if (!text) {
        fprintf(stderr, "nasc-opt: out of memory reading the input\n");
        return 1;
    }
    const char *name = from_stdin ? "<stdin>" : o.file;
    bool ok = o.split ? run_split(&o, name, text, len) : run_one(&o, name, text, len, 0);
    free(text);
    return ok ? 0 : 1;
}
