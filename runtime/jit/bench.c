/* bench.c — graph -> blob-mode C -> JIT -> timed runs (bench.h).
 *
 * The C text is written to memory (open_memstream) and handed to jit.h as
 * two in-memory files, "nasc_jit_net.c" and "nasc_jit_net.h". The blob is
 * filled by cg_weights_blob for the same graph and options, which is what
 * makes the emitted offsets valid. Times come from CLOCK_MONOTONIC.
 */
#include "runtime/jit/bench.h"
#include "codegen/codegen.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char k_name[] = "nasc_jit_net";

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

typedef struct MemFile {
    char *p;
    size_t len;
    FILE *f;
} MemFile;

static bool mem_open(MemFile *m)
{
    memset(m, 0, sizeof *m);
    m->f = open_memstream(&m->p, &m->len);
    return m->f != NULL;
}

static void mem_free(MemFile *m)
{
    if (m->f)
        fclose(m->f);
    free(m->p);
    memset(m, 0, sizeof *m);
}

/* Emits the blob-mode C and header of g into c and h (closed, so p/len are final). */
static bool emit(const Graph *g, const CgOptions *o, MemFile *c, MemFile *h, Diag *d)
{
    if (!mem_open(c) || !mem_open(h)) {
        diag_error(d, (Loc){0}, "jit: out of memory");
        return false;
    }
    bool ok = cg_emit_c(g, o, c->f, h->f, d);
    ok = fclose(c->f) == 0 && ok;
    ok = fclose(h->f) == 0 && ok;
    c->f = h->f = NULL;
    return ok;
}

/* The computing nodes in the order the profile hook numbers them. */
static bool map_prof_nodes(const Graph *g, JitNet *n, Diag *d)
{
    n->prof_node = calloc(g->nnode ? g->nnode : 1, sizeof *n->prof_node);
    if (!n->prof_node) {
        diag_error(d, (Loc){0}, "jit: out of memory");
        return false;
    }
    for (NodeId id = 1; id < g->nnode; id++)
        if (g->nodes[id].op != OP_NONE && !(op_info[g->nodes[id].op].flags & OPF_PARAM))
            n->prof_node[n->nprof++] = id;
    return true;
}

static bool alloc_buffers(const Graph *g, const CgOptions *o, JitNet *n, Diag *d)
{
    n->ws_bytes = cg_workspace_bytes(g, o);
    size_t ws = ((size_t)n->ws_bytes + 63) / 64 * 64;
    n->workspace = aligned_alloc(64, ws ? ws : 64);
    if (!n->workspace) {
        diag_error(d, (Loc){0}, "jit: out of memory for a %lld-byte workspace",
                   (long long)n->ws_bytes);
        return false;
    }
    const Value *out = &g->vals[g->outputs[0]];
    n->in_floats = shape_numel(&g->vals[g->inputs[0]].shape);
    n->out_bytes = (size_t)shape_numel(&out->shape) * dtype_size(out->dtype);
    return true;
}

static bool compile_and_load(JitNet *n, bool profile, MemFile *c, MemFile *h, Diag *d)
{
    char hname[64], cname[64], sym[64];
    snprintf(cname, sizeof cname, "%s.c", k_name);
    snprintf(hname, sizeof hname, "%s.h", k_name);
    snprintf(sym, sizeof sym, "%s_run_blob%s", k_name, profile ? "_prof" : "");
    JitFile files[2] = {{cname, c->p, c->len}, {hname, h->p, h->len}};
    double t0 = now_ms();
    n->jit = jit_compile(files, 2, d);
    void *fn = n->jit ? jit_lookup(n->jit, sym, d) : NULL;
    n->compile_ms = now_ms() - t0;
    if (!fn)
        return false;
    /* POSIX guarantees object/function pointer conversion through dlsym's
     * contract; memcpy keeps -pedantic quiet about it. */
    if (profile)
        memcpy(&n->run_prof, &fn, sizeof fn);
    else
        memcpy(&n->run, &fn, sizeof fn);
    return true;
}

bool jit_net_build(const Graph *g, int flags, JitNet *n, Diag *d)
{
    memset(n, 0, sizeof *n);
    bool profile = flags & JIT_NET_PROFILE;
    CgOptions o = {.name = k_name, .weights_blob = true, .profile = profile};
    MemFile c, h;
    double t0 = now_ms();
    bool ok = emit(g, &o, &c, &h, d) &&
              cg_weights_blob(g, &o, &n->blob, &n->blob_floats, d);
    n->emit_ms = now_ms() - t0;
    n->c_bytes = c.len;
    ok = ok && alloc_buffers(g, &o, n, d) && (!profile || map_prof_nodes(g, n, d)) &&
         compile_and_load(n, profile, &c, &h, d);
    mem_free(&c);
    mem_free(&h);
    if (!ok)
        jit_net_free(n);
    return ok;
}

static bool call(JitNet *n, const float *input, void *output, JitProfFn prof, void *ctx,
                 Diag *d)
{
    int rc = n->run ? n->run(input, output, n->workspace, n->blob)
                    : n->run_prof(input, output, n->workspace, n->blob, prof, ctx);
    if (rc != 0)
        diag_error(d, (Loc){0}, "jit: the compiled network returned %d", rc);
    return rc == 0;
}

static void noop_prof(void *ctx, int node)
{
    (void)ctx;
    (void)node;
}

bool jit_net_run(JitNet *n, const float *input, void *output, Diag *d)
{
    return call(n, input, output, noop_prof, NULL, d);
}

void jit_net_free(JitNet *n)
{
    jit_free(n->jit);
    free(n->blob);
    free(n->workspace);
    free(n->prof_node);
    memset(n, 0, sizeof *n);
}

/* Fixed pseudo-random input in [-1, 1) unless the caller gives one; and an
 * output buffer. */
static bool io_buffers(JitNet *n, const float *input, float **own_in, void **out, Diag *d)
{
    *own_in = NULL;
    *out = malloc(n->out_bytes ? n->out_bytes : 1);
    if (!input) {
        *own_in = malloc((size_t)n->in_floats * sizeof **own_in);
        uint32_t s = 2463534242u;
        for (int64_t i = 0; *own_in && i < n->in_floats; i++) {
            s ^= s << 13, s ^= s >> 17, s ^= s << 5;
            (*own_in)[i] = (float)(s >> 8) * (1.0f / 8388608.0f) - 1.0f;
        }
    }
    if (!*out || (!input && !*own_in)) {
        free(*out);
        free(*own_in);
        diag_error(d, (Loc){0}, "jit: out of memory");
        return false;
    }
    return true;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

bool jit_net_time(JitNet *n, const float *input, int warmup, int runs, JitTiming *t, Diag *d)
{
    memset(t, 0, sizeof *t);
    if (runs < 1 || warmup < 0) {
        diag_error(d, (Loc){0}, "jit: need runs >= 1 and warmup >= 0");
        return false;
    }
    float *own;
    void *out;
    double *ms = malloc((size_t)runs * sizeof *ms);
    if (!ms || !io_buffers(n, input, &own, &out, d)) {
        if (!ms)
            diag_error(d, (Loc){0}, "jit: out of memory");
        free(ms);
        return false;
    }
    const float *x = input ? input : own;
    bool ok = true;
    for (int i = 0; ok && i < warmup; i++)
        ok = call(n, x, out, noop_prof, NULL, d);
    for (int i = 0; ok && i < runs; i++) {
        double t0 = now_ms();
        ok = call(n, x, out, noop_prof, NULL, d);
        ms[i] = now_ms() - t0;
    }
    if (ok) {
        double sum = 0;
        for (int i = 0; i < runs; i++)
            sum += ms[i];
        qsort(ms, (size_t)runs, sizeof *ms, cmp_double);
        t->runs = runs;
        t->min_ms = ms[0];
        t->max_ms = ms[runs - 1];
        t->median_ms = runs % 2 ? ms[runs / 2] : (ms[runs / 2 - 1] + ms[runs / 2]) / 2;
        t->mean_ms = sum / runs;
    }
    free(ms);
    free(own);
    free(out);
    return ok;
}

typedef struct ProfState {
    double *ms, last;
    int cur;
} ProfState;

static void prof_tick(void *ctx, int node)
{
    ProfState *p = ctx;
    double t = now_ms();
    if (p->cur >= 0)
        p->ms[p->cur] += t - p->last;
    p->cur = node;
    p->last = now_ms(); /* excludes this hook's own time */
}

bool jit_net_profile(JitNet *n, const float *input, int warmup, int runs, double *ms,
                     Diag *d)
{
    if (!n->run_prof) {
        diag_error(d, (Loc){0}, "jit: the net was not built with JIT_NET_PROFILE");
        return false;
    }
    float *own;
    void *out;
    if (!io_buffers(n, input, &own, &out, d))
        return false;
    const float *x = input ? input : own;
    bool ok = true;
    for (int i = 0; ok && i < warmup; i++)
        ok = call(n, x, out, noop_prof, NULL, d);
    memset(ms, 0, n->nprof * sizeof *ms);
    ProfState st = {ms, 0, -1};
    for (int i = 0; ok && i < runs; i++)
        ok = call(n, x, out, prof_tick, &st, d);
    free(own);
    free(out);
    return ok;
}

bool jit_bench_graph(const Graph *g, int warmup, int runs, JitTiming *t, double *compile_ms,
                     Diag *d)
{
    JitNet n;
    if (!jit_net_build(g, 0, &n, d))
        return false;
    if (compile_ms)
        *compile_ms = n.compile_ms;
    bool ok = jit_net_time(&n, NULL, warmup, runs, t, d);
    jit_net_free(&n);
    return ok;
}
