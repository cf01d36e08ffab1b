/* weights.c — bind safetensors tensors to graph params, or invent them.
 *
 * Binding matches by name only: every OP_PARAM value carries its PyTorch
 * state_dict key, and the file must hold exactly that key (or "module." +
 * key, as DataParallel saves). All mismatches are reported in one run —
 * params in graph order, then leftover tensors in file order — so a user
 * fixing a checkpoint sees the whole list at once.
 *
 * Initialisation draws each param from its own splitmix64 stream seeded by
 * hash(seed, name), and turns integers into floats with exact arithmetic,
 * so the values are the same on every machine and in any param order.
 */
#include "frontend/frontend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char module_prefix[] = "module.";

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* ---- binding ---- */

typedef struct NameIdx {
    const char *name;
    int idx;
} NameIdx;

static int cmp_nameidx(const void *x, const void *y)
{
    return strcmp(((const NameIdx *)x)->name, ((const NameIdx *)y)->name);
}

/* Index of tensor `name` (optionally with `prefix`) in st, or -1. */
static int find_tensor(const NameIdx *ix, int n, const char *prefix, const char *name,
                       char *buf, size_t bufn)
{
    const char *key = name;
    if (prefix) {
        if (strlen(prefix) + strlen(name) + 1 > bufn)
            return -1;
        snprintf(buf, bufn, "%s%s", prefix, name); /* fits: bufn sized by the caller */
        key = buf;
    }
    NameIdx probe = {key, 0};
    const NameIdx *hit = bsearch(&probe, ix, (size_t)n, sizeof *ix, cmp_nameidx);
    return hit ? hit->idx : -1;
}

/* "[48,3,3,3]" for a file tensor's shape. */
static char *dims_str(const int64_t *d, int rank, char *buf, size_t n)
{
    size_t k = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < rank && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, i ? ",%lld" : "%lld", (long long)d[i]);
    if (k < n)
        snprintf(buf + k, n - k, "]");
    return buf;
}

static bool shape_matches(const Shape *s, const StTensor *t)
{
    if (s->rank != t->rank)
        return false;
    for (int i = 0; i < s->rank; i++)
        if (s->d[i] != t->shape[i])
            return false;
    return true;
}

/* Binds one param value; marks the tensor used. Reports and returns false
 * on a missing, misshapen or unconvertible tensor. */
static bool bind_one(Graph *g, Value *v, const SafeTensors *st, const NameIdx *ix, bool *used,
                     char *key, size_t keyn, Diag *d)
{
    char a[160], b[160];
    const char *name = v->name ? v->name : "";
    int i = find_tensor(ix, st->nt, NULL, name, key, keyn);
    if (i < 0)
        i = find_tensor(ix, st->nt, module_prefix, name, key, keyn);
    if (i < 0) {
        diag_error(d, loc_file(st->path), "missing tensor '%s' (expected %s)", name,
                   shape_str(&v->shape, a, sizeof a));
        return false;
    }
    const StTensor *t = &st->t[i];
    used[i] = true;
    if (!shape_matches(&v->shape, t)) {
        /* bare dims lists: the file's dtype need not be f32 */
        diag_error(d, loc_file(st->path), "tensor '%s' has shape %s, expected %s", t->name,
                   dims_str(t->shape, t->rank, a, sizeof a),
                   dims_str(v->shape.d, v->shape.rank, b, sizeof b));
        return false;
    }
    float *data = arena_calloc(g->arena, (size_t)shape_numel(&v->shape), sizeof(float));
    NASC_ASSERT(data);
    if (!fe_safetensors_to_f32(st, i, data, d))
        return false;
    v->data = data;
    return true;
}

static bool ignored(const char *name, const char *ignore_prefix)
{
    if (ends_with(name, "num_batches_tracked"))
        return true;
    if (!ignore_prefix || !*ignore_prefix)
        return false;
    if (starts_with(name, ignore_prefix))
        return true;
    return starts_with(name, module_prefix) &&
           starts_with(name + strlen(module_prefix), ignore_prefix);
}

bool fe_bind_weights(Graph *g, const SafeTensors *st, const char *ignore_prefix, Diag *d)
{
    int before = d->nerr;
    size_t keyn = sizeof module_prefix; /* room for "module." + longest name + NUL */
    for (uint32_t n = 1; n < g->nnode; n++) {
        const char *name = g->vals[g->nodes[n].out].name;
        if (g->nodes[n].op == OP_PARAM && name && strlen(name) + sizeof module_prefix > keyn)
            keyn = strlen(name) + sizeof module_prefix;
    }
    NameIdx *ix = malloc(((size_t)st->nt + 1) * sizeof *ix);
    bool *used = calloc((size_t)st->nt + 1, sizeof *used);
    char *key = malloc(keyn);
    if (!ix || !used || !key) {
        diag_error(d, loc_file(st->path), "out of memory binding weights");
        goto out;
    }
    for (int i = 0; i < st->nt; i++)
        ix[i] = (NameIdx){st->t[i].name, i};
    qsort(ix, (size_t)st->nt, sizeof *ix, cmp_nameidx);
    for (uint32_t n = 1; n < g->nnode; n++)
        if (g->nodes[n].op == OP_PARAM)
            bind_one(g, &g->vals[g->nodes[n].out], st, ix, used, key, keyn, d);
    for (int i = 0; i < st->nt; i++)
        if (!used[i] && !ignored(st->t[i].name, ignore_prefix))
            diag_error(d, loc_file(st->path), "unexpected tensor '%s' (not a parameter of the "
                       "graph)", st->t[i].name);
out:
    free(ix);
    free(used);
    free(key);
    return d->nerr == before;
}

/* ---- deterministic initialisation ---- */

static uint64_t fnv1a64(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ull;
    }
    return h;
}

/* splitmix64 (Steele, Lea, Flood 2014): the state advances by a constant
 * and the output is a bijective mix of it. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t next64(uint64_t *state)
{
    *state += 0x9e3779b97f4a7c15ull;
    return mix64(*state);
}

/* Uniform in [lo, lo + span): u has 24 bits, so span * u (span a float) is
 * exact in double and the sum rounds once — whether or not the compiler
 * contracts it into an fma, the result is the same everywhere. */
static float draw(uint64_t *state, float lo, float span)
{
    double u = (double)(next64(state) >> 40) * 0x1p-24;
    return (float)((double)lo + (double)span * u);
}

/* The range of a param, from its name and rank (PyTorch conventions). */
static void init_range(const Value *v, const char *name, float *lo, float *span)
{
    if (ends_with(name, "running_var")) {
        *lo = 0.5f, *span = 1.0f;
    } else if (ends_with(name, "running_mean")) {
        *lo = -0.1f, *span = 0.2f;
    } else if (v->shape.rank == 1 && ends_with(name, "weight")) {
        *lo = 0.8f, *span = 0.4f; /* BN gamma near 1 */
    } else if (v->shape.rank == 1 && ends_with(name, "bias")) {
        *lo = -0.1f, *span = 0.2f;
    } else {
        int64_t numel = shape_numel(&v->shape);
        int64_t fan_in = v->shape.rank > 0 && v->shape.d[0] > 0 ? numel / v->shape.d[0] : 1;
        /* He-uniform (variance 2/fan_in): activations keep their scale
         * through ReLU-conv stacks, so a seeded net still depends on its
         * input instead of collapsing to the BN shifts */
        float bound = (float)sqrt(6.0 / (double)(fan_in > 0 ? fan_in : 1));
        *lo = -bound, *span = 2.0f * bound;
    }
}

void fe_init_weights(Graph *g, uint64_t seed)
{
    for (uint32_t n = 1; n < g->nnode; n++) {
        if (g->nodes[n].op != OP_PARAM)
            continue;
        Value *v = &g->vals[g->nodes[n].out];
        const char *name = v->name ? v->name : "";
        int64_t numel = shape_numel(&v->shape);
        if (!v->data)
            v->data = arena_calloc(g->arena, (size_t)numel, sizeof(float));
        float lo, span;
        init_range(v, name, &lo, &span);
        uint64_t state = mix64(seed ^ 0x6e617363ull) ^ fnv1a64(name); /* "nasc" */
        for (int64_t i = 0; i < numel; i++)
            v->data[i] = draw(&state, lo, span);
    }
}
