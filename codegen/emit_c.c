/* emit_c.c — IR to one dependency-free C file and its header.
 *
 * cg_emit_c checks the graph, plans the workspace (plan_memory), emits the
 * body of NAME_run node by node into memory (emit_c_ops.c, which records
 * the weights and kernels it touches), and only then writes the header and
 * the C file top-down. Nothing is written when a check fails. Every loop
 * walks ids in order, so the same graph gives the same bytes.
 */
#include "internal.h"
#include "passes/passes.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- targets ----
 * One row per CgTarget. ws_align: NAME_WORKSPACE_ALIGN (and the check in
 * NAME_run). w_align: an aligned attribute on every weight array, 0 for none
 * (a plain C99 array of float). freestanding: memcpy is declared instead of
 * #including <string.h>, which C99 does not promise a freestanding
 * implementation (GCC requires memcpy of every freestanding environment).
 * Nothing here reaches a statement that computes, so results do not depend
 * on the target. */
static const struct {
    const char *name;
    int ws_align, w_align;
    bool freestanding;
} k_targets[CG_NTARGET] = {
    [CG_TARGET_HOST] = {"host", 64, 0, false},
    [CG_TARGET_GENERIC] = {"generic", 16, 0, true},
    [CG_TARGET_CORTEX_M4] = {"cortex-m4", 8, 8, true},
    [CG_TARGET_CORTEX_M7] = {"cortex-m7", 32, 32, true},
};

const char *cg_target_name(CgTarget t)
{
    return (unsigned)t < CG_NTARGET ? k_targets[t].name : "?";
}

bool cg_target_parse(const char *name, CgTarget *t)
{
    for (int i = 0; i < CG_NTARGET; i++)
        if (strcmp(name, k_targets[i].name) == 0) {
            *t = (CgTarget)i;
            return true;
        }
    return false;
}

int cg_target_workspace_align(CgTarget t)
{
    return k_targets[(unsigned)t < CG_NTARGET ? t : CG_TARGET_HOST].ws_align;
}

/* ---- operand names ---- */

const char *cg_val(CgCtx *c, ValueId v)
{
    const Value *val = &c->g->vals[v];
    if (val->flags & VAL_INPUT) {
        c->used_input = true;
        return "input";
    }
    if (val->producer && c->g->nodes[val->producer].op == OP_PARAM) {
        if (!c->cname[v])
            c->cname[v] = cg_unique_name(c, "w_", val->name, v, "");
        return c->cname[v];
    }
    if (c->is_output[v]) {
        c->used_output = true;
        return "output";
    }
    NASC_ASSERT(c->offset[v] >= 0 && c->offset[v] % (int64_t)sizeof(float) == 0);
    c->used_ws = true;
    return arena_printf(&c->arena, "(ws + %lld)", (long long)(c->offset[v] / 4));
}

const char *cg_opt_operand(CgCtx *c, const Node *n, uint32_t i)
{
    return i < n->nin ? cg_val(c, n->in[i]) : "NULL";
}

void cg_use_kernel(CgCtx *c, CgKernel k)
{
    if (c->kernel_used[k])
        return;
    c->kernel_used[k] = true;
    for (int i = 0; i < 2; i++)
        if (cg_kernels[k].dep[i] >= 0)
            cg_use_kernel(c, (CgKernel)cg_kernels[k].dep[i]);
}

/* ---- checks before anything is emitted ---- */

static bool is_identifier(const char *s)
{
    if (!s || !(isalpha((unsigned char)*s) || *s == '_'))
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_')
            return false;
    return true;
}

static bool check_options(const CgOptions *o, const char *header, Diag *d)
{
    if ((unsigned)o->target >= CG_NTARGET) {
        diag_error(d, (Loc){0}, "codegen: unknown target %d", (int)o->target);
        return false;
    }
    if ((unsigned)o->conv >= CG_NCONV) {
        diag_error(d, (Loc){0}, "codegen: unknown conv mode %d", (int)o->conv);
        return false;
    }
    /* The Winograd kernels are measured and frame-checked on the host only
     * (their scratch is in the workspace, ~720 KiB a conv), and their
     * transformed weight arrays are not in max_flash's count (wino_tile makes
     * auto direct there). */
    bool wino = o->conv == CG_CONV_WINOGRAD || o->conv == CG_CONV_WINOGRAD2;
    if (wino && o->target != CG_TARGET_HOST) {
        diag_error(d, (Loc){0}, "codegen: --conv=winograd needs the host target (its kernel "
                                "is neither measured nor frame-checked on firmware)");
        return false;
    }
    if (wino && o->max_flash > 0) {
        diag_error(d, (Loc){0}, "codegen: --max-flash cannot count --conv=winograd's "
                                "transformed weights; use --conv=direct for a flash budget");
        return false;
    }
    if (!is_identifier(o->name)) {
        diag_error(d, (Loc){0}, "codegen: name '%s' is not a C identifier",
                   o->name ? o->name : "(null)");
        return false;
    }
    for (const char *p = header; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == '"' || *p == '\\' || *p == 0x7f) {
            diag_error(d, (Loc){0}, "codegen: header name '%s' cannot be #included", header);
            return false;
        }
    return true;
}

/* Every param bound to finite data, every tensor indexable with int. */
static bool check_values(const Graph *g, Diag *d)
{
    bool ok = true;
    for (ValueId v = 1; v < g->nval; v++) {
        const Value *val = &g->vals[v];
        int64_t n = shape_numel(&val->shape);
        const char *what = val->name ? val->name : "(unnamed)";
        if (n > INT_MAX) {
            diag_error(d, val->loc, "codegen: tensor '%s' has %lld elements; emitted code "
                       "indexes with int (at most %d)", what, (long long)n, INT_MAX);
            ok = false;
        }
        if (!val->producer || g->nodes[val->producer].op != OP_PARAM)
            continue;
        if (!val->data) {
            diag_error(d, val->loc, "codegen: param '%s' has no data bound", what);
            ok = false;
            continue;
        }
        for (int64_t i = 0; i < n; i++)
            if (!isfinite(val->data[i])) {
                diag_error(d, val->loc, "codegen: param '%s' element %lld is %s; weights "
                           "must be finite", what, (long long)i,
                           isnan(val->data[i]) ? "NaN" : "infinite");
                ok = false;
                break;
            }
    }
    return ok;
}

static bool check_graph(const Graph *g, Diag *d)
{
    /* The emitters trust node order, operand counts and recorded shapes. */
    if (!ir_verify(g, d))
        return false;
    if (g->ninput != 1 || g->noutput != 1) {
        diag_error(d, (Loc){0}, "codegen: graph @%s has %u inputs and %u outputs; emitted "
                   "C supports exactly one of each", g->name, g->ninput, g->noutput);
        return false;
    }
    for (ValueId v = 1; v < g->nval; v++) {
        if (g->vals[v].dtype != DT_F32 && v != g->outputs[0]) {
            diag_error(d, g->vals[v].loc, "codegen: %s values are supported only as the "
                       "graph's output", dtype_name(g->vals[v].dtype));
            return false;
        }
    }
    return check_values(g, d);
}

/* The C element type of the output buffer. */
static const char *output_ctype(const Graph *g)
{
    return g->vals[g->outputs[0]].dtype == DT_U8 ? "uint8_t" : "float";
}

/* ---- the body ---- */

/* Value numbers as print.c assigns them: inputs, then results in node order,
 * so comments in the C file match `nasc-opt` output. */
static void number_values(CgCtx *c)
{
    const Graph *g = c->g;
    uint32_t next = 0;
    for (uint32_t i = 0; i < g->ninput; i++)
        c->num[g->inputs[i]] = next++;
    for (NodeId n = 1; n < g->nnode; n++)
        if (g->nodes[n].op != OP_NONE)
            c->num[g->nodes[n].out] = next++;
}

static void operand_text(CgCtx *c, ValueId v)
{
    const char *name = c->g->vals[v].name;
    if (name)
        cg_buf_comment_text(&c->body, name);
    else
        cg_buf_printf(&c->body, "%%%u", c->num[v]);
}

/* "%<n> = <op> <operands> {attrs}  (<name>)", attrs from the IR schema. */
static void node_comment(CgCtx *c, const Node *n)
{
    CgBuf *b = &c->body;
    cg_buf_printf(b, "\n    /* %%%u = %s", c->num[n->out], op_info[n->op].name);
    for (uint32_t i = 0; i < n->nin; i++) {
        cg_buf_printf(b, i ? ", " : " ");
        operand_text(c, n->in[i]);
    }
    const AttrField *f = attr_fields(op_info[n->op].attr_kind);
    for (int i = 0; f[i].name; i++) {
        const char *p = (const char *)&n->attrs + f[i].offset;
        const int *iv = (const int *)(const void *)p;
        if (f[i].optional && !iv[0]) /* as the IR printer: defaults are left out */
            continue;
        cg_buf_printf(b, "%s%s=", i ? ", " : " {", f[i].name);
        if (f[i].type == AF_FLOAT) {
            cg_buf_printf(b, "%.9g", (double)*(const float *)(const void *)p);
            continue;
        }
        if (f[i].type == AF_ENUM) { /* verified: a valid index into names */
            cg_buf_printf(b, "%s", f[i].names[iv[0]]);
            continue;
        }
        for (int k = 0; k < f[i].count; k++)
            cg_buf_printf(b, "%s%d", k ? "," : f[i].count > 1 ? "[" : "", iv[k]);
        if (f[i].count > 1)
            cg_buf_printf(b, "]");
    }
    if (f[0].name)
        cg_buf_printf(b, "}");
    if (c->g->vals[n->out].name) {
        cg_buf_printf(b, "  (");
        cg_buf_comment_text(b, c->g->vals[n->out].name);
        cg_buf_printf(b, ")");
    }
    cg_buf_printf(b, " */\n");
}

/* The graph output when no node computes it (it is the input or a weight). */
static void copy_output(CgCtx *c)
{
    ValueId v = c->g->outputs[0];
    const Value *val = &c->g->vals[v];
    if (val->producer && c->g->nodes[val->producer].op != OP_PARAM)
        return;
    const char *src = cg_val(c, v);
    c->used_output = c->used_string = true;
    cg_buf_printf(&c->body, "\n    /* the output is %s itself */\n", src);
    cg_buf_printf(&c->body, "    memcpy(output, %s, %lld * sizeof *output);\n", src,
                  (long long)shape_numel(&val->shape));
}

static bool emit_body(CgCtx *c)
{
    const Graph *g = c->g;
    int k = 0;
    for (NodeId n = 1; n < g->nnode; n++) {
        const Node *node = &g->nodes[n];
        if (node->op == OP_NONE || (op_info[node->op].flags & OPF_PARAM))
            continue; /* dead, or a weight: emitted as an array when used */
        if (c->profile)
            cg_buf_printf(&c->body, "\n    prof(prof_ctx, %d);", k++);
        node_comment(c, node);
        if (!cg_emit_node(c, n))
            return false;
    }
    copy_output(c);
    if (c->profile)
        cg_buf_printf(&c->body, "    prof(prof_ctx, -1);\n");
    if (c->body.oom || c->decls.oom) {
        diag_error(c->d, (Loc){0}, "codegen: out of memory while emitting @%s", g->name);
        return false;
    }
    return true;
}

/* ---- blob mode ---- */

void cg_blob_add_derived(CgCtx *c, const char *cname, const float *data, int64_t n)
{
    if (c->nderived == c->capderived) {
        uint32_t cap = c->capderived ? c->capderived * 2 : 64;
        CgBlobEntry *p = arena_calloc(&c->arena, cap, sizeof *p);
        NASC_ASSERT(p);
        if (c->nderived)
            memcpy(p, c->derived, c->nderived * sizeof *p);
        c->derived = p;
        c->capderived = cap;
    }
    c->derived[c->nderived++] = (CgBlobEntry){cname, data, n, 0, 0};
}

/* Fills c->blob_ents once (referenced params in value order, then the
 * derived arrays) with 64-byte aligned offsets; returns the blob's floats. */
static int64_t blob_layout(CgCtx *c)
{
    if (c->blob_ents)
        return c->blob_floats;
    uint32_t n = c->nderived;
    for (ValueId v = 1; v < c->g->nval; v++)
        n += c->cname[v] != NULL;
    c->blob_ents = arena_calloc(&c->arena, n ? n : 1, sizeof *c->blob_ents);
    NASC_ASSERT(c->blob_ents);
    for (ValueId v = 1; v < c->g->nval; v++)
        if (c->cname[v]) {
            const Value *val = &c->g->vals[v];
            c->blob_ents[c->nblob++] = (CgBlobEntry){c->cname[v], val->data,
                                                     shape_numel(&val->shape), 0, v};
        }
    for (uint32_t i = 0; i < c->nderived; i++)
        c->blob_ents[c->nblob++] = c->derived[i];
    int64_t off = 0;
    for (uint32_t i = 0; i < c->nblob; i++) {
        c->blob_ents[i].offset = off;
        off += (c->blob_ents[i].n + 15) / 16 * 16; /* 64 bytes */
    }
    c->blob_floats = off;
    return off;
}

static const char k_prof_params[] = ",\n    void (*prof)(void *, int), void *prof_ctx";

/* The signature of NAME_run_blob and one pointer per weight, named as the
 * firmware file names its arrays, so the statements that follow are the
 * firmware file's own. */
static void write_blob_prologue(CgCtx *c, const CgOptions *o, FILE *f)
{
    blob_layout(c);
    fprintf(f, "\nint %s_run_blob%s(const float *input, %s *output, void *workspace,\n"
            "    const float *weights%s)\n{\n", o->name, c->profile ? "_prof" : "",
            output_ctype(c->g), c->profile ? k_prof_params : "");
    CgBuf b = {0};
    char shape[128];
    for (uint32_t i = 0; i < c->nblob; i++) {
        const CgBlobEntry *e = &c->blob_ents[i];
        b.len = 0;
        cg_buf_printf(&b, "    const float *const %s = weights + %lld; /* ", e->cname,
                      (long long)e->offset);
        if (e->v)
            cg_buf_comment_text(&b, c->g->vals[e->v].name ? c->g->vals[e->v].name
                                                           : "(unnamed param)");
        else
            cg_buf_printf(&b, "batchnorm scale");
        cg_buf_printf(&b, " %s */\n", e->v ? shape_str(&c->g->vals[e->v].shape, shape,
                                                        sizeof shape) : "");
        if (b.oom)
            break;
        fwrite(b.p, 1, b.len, f);
    }
    if (b.oom)
        diag_error(c->d, (Loc){0}, "codegen: out of memory while writing the blob layout");
    cg_buf_free(&b);
    if (!c->nblob)
        fprintf(f, "    (void)weights;\n");
}

/* ---- writing the files ---- */

static void write_comment_lines(FILE *f, const char *banner)
{
    CgBuf b = {0};
    while (banner && *banner) {
        const char *nl = strchr(banner, '\n');
        size_t len = nl ? (size_t)(nl - banner) : strlen(banner);
        char *line = malloc(len + 1);
        NASC_ASSERT(line);
        memcpy(line, banner, len);
        line[len] = '\0';
        b.len = 0;
        cg_buf_printf(&b, " * ");
        cg_buf_comment_text(&b, line);
        free(line);
        fprintf(f, "%s\n", b.oom ? " *" : b.p);
        banner = nl ? nl + 1 : "";
    }
    cg_buf_free(&b);
}

static void write_file_comment(FILE *f, const char *file, const Graph *g, const char *banner,
                               const char *what)
{
    CgBuf b = {0};
    cg_buf_comment_text(&b, g->name);
    fprintf(f, "/* %s - generated by nasc from graph @%s; do not edit.\n", file,
            b.oom ? "?" : b.p);
    cg_buf_free(&b);
    write_comment_lines(f, banner);
    fprintf(f, " *\n%s\n */\n", what);
}

static void write_dims(FILE *f, const char *up, const char *what, const Shape *s)
{
    static const char dim[4] = {'N', 'C', 'H', 'W'};
    for (int i = 0; i < 4; i++)
        fprintf(f, "#define %s_%s_%c %lld\n", up, what, dim[i], (long long)cg_dim(s, i));
    fprintf(f, "#define %s_%s_SIZE %lld /* elements */\n", up, what,
            (long long)shape_numel(s));
}

static char *upper_name(CgCtx *c, const char *name)
{
    char *up = arena_strdup(&c->arena, name);
    for (char *p = up; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    return up;
}

static void write_header(CgCtx *c, const CgOptions *o, const char *header, int64_t ws, FILE *f)
{
    const Graph *g = c->g;
    char *up = upper_name(c, o->name);
    write_file_comment(f, header, g, o->banner,
                       " * Tensors are float32, NCHW, contiguous; dims past a tensor's rank\n"
                       " * are 1 (a [N,K] output has C = K, H = W = 1).");
    fprintf(f, "#ifndef %s_H\n#define %s_H\n\n#include <stddef.h>\n", up, up);
    bool labels = g->vals[g->outputs[0]].dtype == DT_U8;
    fprintf(f, labels ? "#include <stdint.h>\n\n" : "\n");
    write_dims(f, up, "INPUT", &g->vals[g->inputs[0]].shape);
    write_dims(f, up, "OUTPUT", &g->vals[g->outputs[0]].shape);
    fprintf(f, "#define %s_WORKSPACE_BYTES %lld\n", up, (long long)ws);
    fprintf(f, "#define %s_WORKSPACE_ALIGN %d\n", up, cg_target_workspace_align(o->target));
    if (c->blob)
        fprintf(f, "#define %s_BLOB_FLOATS %lld\n", up, (long long)blob_layout(c));
    fprintf(f, "\n");
    fprintf(f, "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
    fprintf(f,
            "/* Runs the network: reads %s_INPUT_SIZE floats from input and writes\n"
            " * %s_OUTPUT_SIZE %s to output. workspace is scratch memory of\n"
            " * %s_WORKSPACE_BYTES bytes aligned to %s_WORKSPACE_ALIGN (when that\n"
            " * size is 0, any aligned non-NULL pointer); its contents do not matter.\n"
            " * The three buffers must not overlap. There is no global state, so calls\n"
            " * with distinct workspaces may run concurrently. Returns 0, or -1 if\n"
            " * workspace is NULL, -2 if it is misaligned (nothing is computed). */\n",
            up, up, labels ? "class labels (uint8_t, argmax over channels)" : "floats", up, up);
    if (c->blob)
        fprintf(f, "/* JIT form: the weights come as one blob of %s_BLOB_FLOATS floats, laid\n"
                " * out by nasc's cg_weights_blob for this very graph; returns -3 if\n"
                " * weights is NULL. */\n"
                "int %s_run_blob%s(const float *input, %s *output, void *workspace,\n"
                "    const float *weights%s);\n\n", up, o->name, c->profile ? "_prof" : "",
                output_ctype(g), c->profile ? k_prof_params : "");
    else
        fprintf(f, "int %s_run(const float *input, %s *output, void *workspace);\n\n",
                o->name, output_ctype(g));
    fprintf(f, "#ifdef __cplusplus\n}\n#endif\n\n#endif /* %s_H */\n", up);
}

static void write_weights(CgCtx *c, FILE *f, CgTarget t)
{
    const char *aligned = k_targets[t].w_align ? " NASC_WEIGHTS_ALIGNED" : "";
    CgBuf b = {0};
    char shape[128];
    for (ValueId v = 1; v < c->g->nval; v++) {
        if (!c->cname[v])
            continue;
        const Value *val = &c->g->vals[v];
        b.len = 0;
        cg_buf_printf(&b, "\n/* ");
        cg_buf_comment_text(&b, val->name ? val->name : "(unnamed param)");
        cg_buf_printf(&b, " %s */\nstatic const float %s[%lld]%s = {\n",
                      shape_str(&val->shape, shape, sizeof shape), c->cname[v],
                      (long long)shape_numel(&val->shape), aligned);
        cg_buf_floats(&b, val->data, shape_numel(&val->shape));
        cg_buf_printf(&b, "};\n");
        if (b.oom)
            break;
        fwrite(b.p, 1, b.len, f);
    }
    if (b.oom)
        diag_error(c->d, (Loc){0}, "codegen: out of memory while writing weights");
    cg_buf_free(&b);
}

static const char k_firmware_note[] =
    " * Dependency-free C99: no allocation, no libm, no stdio and no\n"
    " * mutable state; weights are static const arrays named after their\n"
    " * state_dict keys.";
static const char k_blob_note[] =
    " * Dependency-free C99: no allocation, no libm, no stdio and no\n"
    " * mutable state. JIT form: the weights are read from the blob\n"
    " * argument of the entry point (nasc's cg_weights_blob).";

/* Non-host targets: the target named in the file, memcpy declared rather
 * than #included, and the weights' alignment attribute (GNU C; other
 * compilers get plain arrays, which changes speed at most). */
static void write_target_prelude(CgCtx *c, CgTarget t, FILE *f)
{
    fprintf(f, "\n/* target %s: workspace aligned to %d", k_targets[t].name,
            k_targets[t].ws_align);
    if (k_targets[t].w_align)
        fprintf(f, ", weight arrays to %d (.rodata)", k_targets[t].w_align);
    fprintf(f, " */\n");
    if (c->used_string)
        fprintf(f, "void *memcpy(void *dst, const void *src, size_t n);\n");
    bool any_weight = false;
    for (ValueId v = 1; v < c->g->nval && !any_weight; v++)
        any_weight = c->cname[v] != NULL;
    if (k_targets[t].w_align && any_weight && !c->blob)
        fprintf(f, "#if defined(__GNUC__)\n"
                   "#define NASC_WEIGHTS_ALIGNED __attribute__((aligned(%d)))\n"
                   "#else\n#define NASC_WEIGHTS_ALIGNED\n#endif\n", k_targets[t].w_align);
}

/* gcc tunes every AVX-512 CPU it knows (-march=native here: rocketlake,
 * sapphirerapids) to prefer 256-bit vectors, which halves the FMA throughput
 * of the kernels below: DARTS_V2 NetworkCIFAR ran in 29.0 ms with gcc 12
 * -O3 -march=native and in 16.7 ms with this pragma (Xeon with two 512-bit
 * FMA units). clang has no such pragma; the JIT passes the option instead. */
static const char k_host_prelude[] =
    "\n#if defined(__GNUC__) && !defined(__clang__) && defined(__AVX512F__)\n"
    "#pragma GCC target(\"prefer-vector-width=512\")\n"
    "#endif\n";

static void write_c(CgCtx *c, const CgOptions *o, const char *header, FILE *f)
{
    char *file = arena_printf(&c->arena, "%s.c", o->name);
    for (int k = 0; k < NCK; k++)
        if (c->kernel_used[k] && cg_kernels[k].needs_string)
            c->used_string = true;
    write_file_comment(f, file, c->g, o->banner,
                       c->blob ? k_blob_note : k_firmware_note);
    fprintf(f, "#include <stddef.h>\n#include <stdint.h>\n");
    if (c->used_string && !k_targets[o->target].freestanding)
        fprintf(f, "#include <string.h>\n");
    fprintf(f, "\n#include \"%s\"\n", header);
    if (o->target == CG_TARGET_HOST)
        fputs(k_host_prelude, f);
    else
        write_target_prelude(c, o->target, f);
    if (!c->blob)
        write_weights(c, f, o->target);
    if (c->decls.len)
        fwrite(c->decls.p, 1, c->decls.len, f);
    for (int k = 0; k < NCK; k++)
        if (c->kernel_used[k])
            fprintf(f, "\n%s", cg_kernels[k].src);

    char *up = upper_name(c, o->name);
    if (c->blob)
        write_blob_prologue(c, o, f);
    else
        fprintf(f, "\nint %s_run(const float *input, %s *output, void *workspace)\n{\n",
                o->name, output_ctype(c->g));
    if (c->used_ws)
        fprintf(f, "    float *ws = (float *)workspace;\n\n");
    if (!c->used_input)
        fprintf(f, "    (void)input;\n");
    if (!c->used_output)
        fprintf(f, "    (void)output;\n");
    fprintf(f, "    if (workspace == NULL)\n        return -1;\n");
    fprintf(f, "    if (((uintptr_t)workspace & (uintptr_t)(%s_WORKSPACE_ALIGN - 1)) != 0)\n"
               "        return -2;\n", up);
    if (c->blob && c->nblob)
        fprintf(f, "    if (weights == NULL)\n        return -3;\n");
    if (c->body.len)
        fwrite(c->body.p, 1, c->body.len, f);
    fprintf(f, "    return 0;\n}\n");
}

/* ---- entry points ---- */

static void ctx_init(CgCtx *c, const Graph *g, const CgOptions *o, Diag *d)
{
    memset(c, 0, sizeof *c);
    c->g = g;
    c->d = d;
    c->blob = o->weights_blob;
    c->profile = o->weights_blob && o->profile;
    c->conv = o->conv;
    c->target = o->target;
    c->max_flash = o->max_flash;
    arena_init(&c->arena);
    c->num = arena_calloc(&c->arena, g->nval, sizeof *c->num);
    c->cname = arena_calloc(&c->arena, g->nval, sizeof *c->cname);
    c->is_output = arena_calloc(&c->arena, g->nval, sizeof *c->is_output);
    NASC_ASSERT(c->num && c->cname && c->is_output);
    for (uint32_t i = 0; i < g->noutput; i++)
        c->is_output[g->outputs[i]] = true;
    number_values(c);
}

static void ctx_free(CgCtx *c)
{
    cg_buf_free(&c->body);
    cg_buf_free(&c->decls);
    arena_free_all(&c->arena);
}

/* The workspace: every tensor slot plus each node's kernel scratch
 * (Winograd's transformed tiles), planned together; arrays from a. */
static void plan_with_scratch(const CgCtx *c, Arena *a, MemPlan *plan)
{
    const Graph *g = c->g;
    int64_t *scratch = arena_calloc(a, g->nnode ? g->nnode : 1, sizeof *scratch);
    NASC_ASSERT(scratch);
    for (NodeId n = 1; n < g->nnode; n++)
        scratch[n] = cg_node_scratch_bytes(c, &g->nodes[n]);
    plan_memory_scratch(g, PLAN_DEFAULT, scratch, a, plan);
}

static void plan_workspace(CgCtx *c, MemPlan *plan)
{
    plan_with_scratch(c, &c->arena, plan);
    c->offset = plan->offset;
    c->scratch_offset = plan->scratch_offset;
}

const char *cg_scratch(CgCtx *c, const Node *n)
{
    int64_t at = c->scratch_offset[n - c->g->nodes];
    NASC_ASSERT(at >= 0 && at % (int64_t)sizeof(float) == 0);
    c->used_ws = true;
    return arena_printf(&c->arena, "(ws + %lld)", (long long)(at / 4));
}

bool cg_emit_c(const Graph *g, const CgOptions *o, FILE *c_out, FILE *h_out, Diag *d)
{
    int nerr = d->nerr;
    CgCtx c;
    if (!check_graph(g, d))
        return false;
    ctx_init(&c, g, o, d);
    const char *header = o->header_name ? o->header_name
                                        : arena_printf(&c.arena, "%s.h", o->name ? o->name : "");
    if (!check_options(o, header, d)) {
        ctx_free(&c);
        return false;
    }
    cg_unique_name(&c, "", o->name, 0, "_run"); /* no weight may be called NAME_run */
    MemPlan plan;
    plan_workspace(&c, &plan);
    if (cg_check_ram(&c, &plan, o->max_ram) && emit_body(&c) && cg_check_flash(&c, o->max_flash)) {
        write_header(&c, o, header, plan.bytes, h_out);
        write_c(&c, o, header, c_out);
        if (ferror(c_out) || ferror(h_out) || fflush(c_out) || fflush(h_out))
            diag_error(d, (Loc){0}, "codegen: error writing the output files of @%s",
                       g->name);
    }
    ctx_free(&c);
    return d->nerr == nerr;
}

bool cg_weights_blob(const Graph *g, const CgOptions *o, float **blob, int64_t *nfloats,
                     Diag *d)
{
    *blob = NULL;
    *nfloats = 0;
    if (!o->weights_blob) {
        diag_error(d, (Loc){0}, "codegen: cg_weights_blob needs CgOptions.weights_blob");
        return false;
    }
    /* The same checks and emission as cg_emit_c, so the same layout. */
    CgCtx c;
    if (!check_graph(g, d))
        return false;
    ctx_init(&c, g, o, d);
    const char *header = o->header_name ? o->header_name : "x.h";
    bool ok = check_options(o, header, d);
    if (ok) {
        cg_unique_name(&c, "", o->name, 0, "_run");
        MemPlan plan;
        plan_workspace(&c, &plan);
        ok = emit_body(&c);
    }
    int64_t n = ok ? blob_layout(&c) : 0;
    size_t bytes = ((size_t)n * sizeof(float) + 63) / 64 * 64;
    float *p = ok ? aligned_alloc(64, bytes ? bytes : 64) : NULL;
    if (ok && !p) {
        diag_error(d, (Loc){0}, "codegen: out of memory for a %lld-float weights blob",
                   (long long)n);
        ok = false;
    }
    if (ok) {
        memset(p, 0, bytes ? bytes : 64);
        for (uint32_t i = 0; i < c.nblob; i++)
            memcpy(p + c.blob_ents[i].offset, c.blob_ents[i].data,
                   (size_t)c.blob_ents[i].n * sizeof(float));
        *blob = p;
        *nfloats = n;
    }
    ctx_free(&c);
    return ok;
}

void cg_plan_workspace(const Graph *g, const CgOptions *o, Arena *a, MemPlan *plan)
{
    static const CgOptions defaults = {0};
    Diag d;
    diag_init(&d);
    CgCtx c;
    ctx_init(&c, g, o ? o : &defaults, &d);
    plan_with_scratch(&c, a, plan);
    ctx_free(&c);
    diag_free(&d);
}

int64_t cg_workspace_bytes(const Graph *g, const CgOptions *o)
{
    Arena a;
    arena_init(&a);
    MemPlan plan;
    cg_plan_workspace(g, o, &a, &plan);
    arena_free_all(&a);
    return plan.bytes;
}
