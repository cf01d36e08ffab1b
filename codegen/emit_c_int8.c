/* emit_c_int8.c — writes an int8 plan as C (codegen_int8.h).
 *
 * The kernels are runtime/int8/q8_kernels.inc (CMake turns it into the
 * string array cg_q8_kernel_lines); the file is cut at its section markers
 * and only the sections the plan calls, with their dependencies, are
 * pasted (an unused static is an error under -Werror). Per plan step the file
 * gets its constants — `static const int8_t w<k>[]` (weights),
 * `int32_t t<k>[]` (bias, multiplier, shift per channel, or resize taps),
 * `int32_t p<k>[]` (geometry) — and NAME_run one call per step, in plan
 * order, so the ref interpreter (runtime/int8/ref_int8.c) and this file
 * make exactly the same calls. Memory: the float plan_memory layout scaled
 * down by 4 (sizes and offsets all scale alike, so no two live values
 * overlap), then the int8 input and the int8 output after it.
 */
#include "codegen/codegen_int8.h"
#include "codegen/internal.h"
#include "passes/passes.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

extern const char *const cg_q8_kernel_lines[];

typedef struct Q8Layout {
    int64_t *off;   /* per value: byte offset in the workspace, or -1 */
    int64_t bytes;  /* total workspace */
} Q8Layout;

static int64_t align_up(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

static bool layout(const Graph *g, const QPlan *plan, int align, Q8Layout *l, Diag *d)
{
    l->off = calloc(g->nval, sizeof *l->off);
    if (!l->off) {
        diag_error(d, (Loc){0}, "codegen: out of memory");
        return false;
    }
    int64_t f32 = plan_memory(g, l->off);
    for (ValueId v = 1; v < g->nval; v++)
        l->off[v] = l->off[v] >= 0 ? l->off[v] / 4 : -1;
    int64_t end = align_up(f32 / 4, align);
    l->off[plan->in] = end;
    end = align_up(end + shape_numel(&g->vals[plan->in].shape), align);
    /* the int8 output (the argmax writes labels straight to output) */
    ValueId out = plan->out;
    if (!plan->labels) {
        l->off[out] = end;
        end = align_up(end + shape_numel(&g->vals[out].shape), align);
    }
    l->bytes = end;
    return true;
}

int64_t cg_int8_flash_bytes(const QPlan *plan)
{
    int64_t n = 0;
    for (uint32_t i = 0; i < plan->nstep; i++)
        n += plan->steps[i].nw + 4 * (plan->steps[i].nt + plan->steps[i].np);
    return n;
}

/* ---- kernel sections of q8_kernels.inc ---- */

enum { Q8_MAXSEC = 40, Q8_MAXDEP = 3 };
typedef struct Q8Section {
    char name[24], dep[Q8_MAXDEP][24];
    int ndep, first, end; /* lines [first, end) after the marker */
    bool used;
} Q8Section;

/* Splits the kernel text at "/" "*@ name dep... *" "/" lines; returns the count. */
static int parse_sections(Q8Section *sec)
{
    int n = 0;
    for (int i = 0; cg_q8_kernel_lines[i]; i++) {
        const char *l = cg_q8_kernel_lines[i];
        if (strncmp(l, "/*@ ", 4) != 0)
            continue;
        NASC_ASSERT(n < Q8_MAXSEC);
        Q8Section *s = &sec[n];
        *s = (Q8Section){.first = i + 1};
        char words[Q8_MAXDEP + 1][24];
        int k = sscanf(l + 4, "%23s %23s %23s %23s", words[0], words[1], words[2], words[3]);
        for (int w = 0; w < k && strcmp(words[w], "*/"); w++) {
            if (w == 0)
                memcpy(s->name, words[0], sizeof s->name);
            else
                memcpy(s->dep[s->ndep++], words[w], sizeof s->dep[0]);
        }
        if (n > 0)
            sec[n - 1].end = i;
        n++;
    }
    int lines = 0;
    while (cg_q8_kernel_lines[lines])
        lines++;
    if (n > 0)
        sec[n - 1].end = lines;
    return n;
}

static void mark_used(Q8Section *sec, int n, const char *name)
{
    for (int i = 0; i < n; i++) {
        if (strcmp(sec[i].name, name) || sec[i].used)
            continue;
        sec[i].used = true;
        for (int k = 0; k < sec[i].ndep; k++)
            mark_used(sec, n, sec[i].dep[k]);
    }
}

static void write_kernels(FILE *f, const QPlan *plan)
{
    Q8Section sec[Q8_MAXSEC];
    int n = parse_sections(sec);
    mark_used(sec, n, "quantize");
    if (!plan->labels)
        mark_used(sec, n, "dequantize");
    for (uint32_t i = 0; i < plan->nstep; i++)
        mark_used(sec, n, pass_quant_kernel_name(plan->steps[i].k));
    for (int i = 0; i < (n ? sec[0].first - 1 : 0); i++) /* the file's opening comment */
        fputs(cg_q8_kernel_lines[i], f);
    for (int s = 0; s < n; s++)
        for (int i = sec[s].first; sec[s].used && i < sec[s].end; i++)
            fputs(cg_q8_kernel_lines[i], f);
}

static void upper(char *dst, const char *s, size_t n)
{
    size_t i = 0;
    for (; s[i] && i + 1 < n; i++)
        dst[i] = (char)toupper((unsigned char)s[i]);
    dst[i] = 0;
}

static void write_dims(FILE *f, const char *up, const char *what, const Shape *s)
{
    static const char dim[4] = {'N', 'C', 'H', 'W'};
    for (int i = 0; i < 4; i++)
        fprintf(f, "#define %s_%s_%c %lld\n", up, what, dim[i],
                (long long)(i < s->rank ? s->d[i] : 1));
    fprintf(f, "#define %s_%s_SIZE %lld /* elements */\n", up, what,
            (long long)shape_numel(s));
}

/* The banner's lines as comment lines (no comment terminator can pass). */
static void write_banner(FILE *f, const char *banner)
{
    if (!banner)
        return;
    fputs(" * ", f);
    for (const char *p = banner; *p; p++) {
        if (*p == '\n')
            fputs(p[1] ? "\n * " : "", f);
        else if (*p == '*' && p[1] == '/')
            fputs("* ", f);
        else
            fputc(isprint((unsigned char)*p) ? *p : '?', f);
    }
    fputc('\n', f);
}

static void write_header(const Graph *g, const QPlan *plan, const CgOptions *o,
                         int64_t ws, FILE *f)
{
    char up[128];
    upper(up, o->name, sizeof up);
    fprintf(f, "/* %s - generated by nasc (int8) from graph @%s; do not edit.\n",
            o->header_name, g->name ? g->name : "");
    write_banner(f, o->banner);
    fprintf(f, " *\n * int8 network: float input, quantised at entry; integer kernels;\n"
               " * %s. */\n", plan->labels ? "argmax labels out" : "dequantised float output");
    fprintf(f, "#ifndef %s_H\n#define %s_H\n\n#include <stddef.h>\n", up, up);
    fprintf(f, plan->labels ? "#include <stdint.h>\n\n" : "\n");
    write_dims(f, up, "INPUT", &g->vals[plan->in].shape);
    write_dims(f, up, "OUTPUT", &g->vals[plan->out].shape);
    fprintf(f, "#define %s_WORKSPACE_BYTES %lld\n", up, (long long)ws);
    fprintf(f, "#define %s_WORKSPACE_ALIGN %d\n", up, cg_target_workspace_align(o->target));
    fprintf(f, "#define %s_INT8 1\n#define %s_INT8_LABELS %d\n\n", up, up, plan->labels);
    fprintf(f, "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
               "/* Runs the network: %s_INPUT_SIZE floats in, %s_OUTPUT_SIZE %s out;\n"
               " * workspace: %s_WORKSPACE_BYTES bytes aligned to %s_WORKSPACE_ALIGN.\n"
               " * Returns 0, or -1 (NULL workspace), -2 (misaligned). */\n"
               "int %s_run(const float *input, %s *output, void *workspace);\n\n"
               "#ifdef __cplusplus\n}\n#endif\n\n#endif /* %s_H */\n",
            up, up, plan->labels ? "labels (uint8_t)" : "floats", up, up, o->name,
            plan->labels ? "uint8_t" : "float", up);
}

static void write_array(FILE *f, const char *type, const char *name, const char *attr,
                        const void *data, int64_t n, bool bytes)
{
    fprintf(f, "static const %s %s[%lld]%s = {", type, name, (long long)(n ? n : 1), attr);
    for (int64_t i = 0; i < n; i++)
        fprintf(f, "%s%ld,", i % 16 ? " " : "\n    ",
                bytes ? (long)((const int8_t *)data)[i] : (long)((const int32_t *)data)[i]);
    fprintf(f, n ? "\n};\n" : "0};\n");
}

/* s inside a comment: no terminator, printable characters only. */
static void write_banner_inline(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '*' && s[1] == '/')
            fputs("* ", f);
        else
            fputc(isprint((unsigned char)*s) ? *s : '?', f);
    }
}

static void write_step_consts(FILE *f, const Graph *g, const QPlan *plan, const char *attr)
{
    for (uint32_t i = 0; i < plan->nstep; i++) {
        const Q8Step *s = &plan->steps[i];
        char name[32];
        const char *vn = g->vals[s->y].name;
        fprintf(f, "\n/* step %u: %s of node %u (%s)%s", i, pass_quant_kernel_name(s->k),
                s->node, op_info[g->nodes[s->node].op].name, vn ? ", value " : "");
        write_banner_inline(f, vn);
        if (s->wname) {
            fputs(", weights ", f);
            write_banner_inline(f, s->wname);
        }
        fputs(" */\n", f);
        if (s->w) {
            snprintf(name, sizeof name, "w%u", i);
            write_array(f, "int8_t", name, attr, s->w, s->nw, true);
        }
        if (s->t) {
            snprintf(name, sizeof name, "t%u", i);
            write_array(f, "int32_t", name, attr, s->t, s->nt, false);
        }
        snprintf(name, sizeof name, "p%u", i);
        write_array(f, "int32_t", name, "", s->p, s->np, false);
    }
}

/* C expression for value v's int8 data in NAME_run. */
static void operand(FILE *f, const Q8Layout *l, ValueId v)
{
    if (!v)
        fputs("NULL", f);
    else
        fprintf(f, "ws + %lld", (long long)l->off[v]);
}

static void write_run(FILE *f, const Graph *g, const QPlan *plan, const CgOptions *o,
                      const Q8Layout *l)
{
    char up[128], num[64];
    upper(up, o->name, sizeof up);
    fprintf(f, "\nint %s_run(const float *input, %s *output, void *workspace)\n{\n"
               "    int8_t *ws = (int8_t *)workspace;\n\n"
               "    if (workspace == NULL)\n        return -1;\n"
               "    if (((uintptr_t)workspace & (uintptr_t)(%s_WORKSPACE_ALIGN - 1)) != 0)\n"
               "        return -2;\n",
            o->name, plan->labels ? "uint8_t" : "float", up);
    cg_format_float(num, sizeof num, plan->in_inv_scale);
    fprintf(f, "    nasc_q8_quantize(ws + %lld, input, %lld, %s, %d);\n",
            (long long)l->off[plan->in], (long long)shape_numel(&g->vals[plan->in].shape), num,
            (int)plan->q[plan->in].zp);
    for (uint32_t i = 0; i < plan->nstep; i++) {
        const Q8Step *s = &plan->steps[i];
        fprintf(f, "    nasc_q8_%s(", pass_quant_kernel_name(s->k));
        if (plan->labels && s->y == plan->out)
            fputs("(int8_t *)output", f);
        else
            operand(f, l, s->y);
        fputs(", ", f);
        operand(f, l, s->a);
        fputs(", ", f);
        operand(f, l, s->b);
        fprintf(f, s->w ? ", w%u" : ", NULL", i);
        fprintf(f, s->t ? ", t%u" : ", NULL", i);
        fprintf(f, ", p%u);\n", i);
    }
    if (!plan->labels) {
        cg_format_float(num, sizeof num, plan->q[plan->out].scale);
        fprintf(f, "    nasc_q8_dequantize(output, ws + %lld, %lld, %s, %d);\n",
                (long long)l->off[plan->out],
                (long long)shape_numel(&g->vals[plan->out].shape), num,
                (int)plan->q[plan->out].zp);
    }
    fprintf(f, "    return 0;\n}\n");
}

static bool check_budgets(const QPlan *plan, const CgOptions *o, int64_t ws, Diag *d)
{
    int64_t flash = cg_int8_flash_bytes(plan);
    if (o->max_ram > 0 && ws > o->max_ram) {
        diag_error(d, (Loc){0}, "codegen: the int8 net needs a %lld-byte workspace, more than "
                   "the RAM budget of %lld bytes", (long long)ws, (long long)o->max_ram);
        return false;
    }
    if (o->max_flash > 0 && flash > o->max_flash) {
        diag_error(d, (Loc){0}, "codegen: the int8 net has %lld bytes of constants, more than "
                   "the flash budget of %lld bytes", (long long)flash, (long long)o->max_flash);
        return false;
    }
    return true;
}

bool cg_emit_c_int8(const Graph *g, const QPlan *plan, const CgOptions *o, FILE *c_out,
                    FILE *h_out, Diag *d)
{
    if (o->weights_blob || o->profile) {
        diag_error(d, (Loc){0}, "codegen: the int8 form has no blob or profile mode");
        return false;
    }
    CgOptions opt = *o;
    if (!opt.name)
        opt.name = "net";
    char hdr[160];
    if (!opt.header_name) {
        snprintf(hdr, sizeof hdr, "%s.h", opt.name);
        opt.header_name = hdr;
    }
    int align = cg_target_workspace_align(opt.target);
    Q8Layout l;
    if (!layout(g, plan, align, &l, d))
        return false;
    if (!check_budgets(plan, &opt, l.bytes, d)) {
        free(l.off);
        return false;
    }
    write_header(g, plan, &opt, l.bytes, h_out);
    fprintf(c_out, "/* %s.c - generated by nasc (int8) from graph @%s; do not edit.\n",
            opt.name, g->name ? g->name : "");
    write_banner(c_out, opt.banner);
    fprintf(c_out, " *\n * Dependency-free C99: no allocation, libm, stdio or mutable state.\n"
                   " * int8 activations (real = scale * (q - zero point)), per-channel int8\n"
                   " * weights, int32 accumulators, fixed-point requantisation; float only\n"
                   " * in nasc_q8_quantize / nasc_q8_dequantize at entry and exit.\n */\n"
                   "#include <stddef.h>\n#include <stdint.h>\n\n#include \"%s\"\n",
            opt.header_name);
    const char *attr = "";
    if (opt.target == CG_TARGET_CORTEX_M4 || opt.target == CG_TARGET_CORTEX_M7) {
        fprintf(c_out, "\n/* target %s */\n#if defined(__GNUC__)\n"
                       "#define NASC_WEIGHTS_ALIGNED __attribute__((aligned(%d)))\n"
                       "#else\n#define NASC_WEIGHTS_ALIGNED\n#endif\n",
                cg_target_name(opt.target), align > 8 ? align : 8);
        attr = " NASC_WEIGHTS_ALIGNED";
    }
    write_step_consts(c_out, g, plan, attr);
    fputc('\n', c_out);
    write_kernels(c_out, plan);
    write_run(c_out, g, plan, &opt, &l);
    free(l.off);
    if (ferror(c_out) || ferror(h_out)) {
        diag_error(d, (Loc){0}, "codegen: write error");
        return false;
    }
    return true;
}
