/* init.c — training initialisation of a graph's params (supernet.h).
 *
 * Unlike fe_init_weights (frontend/weights.c), which gives an untrained
 * net realistic statistics for compiling and benchmarking, this is the
 * start of training, as torch initialises a fresh model: BN is the identity
 * (gamma 1, beta 0, mean 0, var 1) and convs/linears are kaiming-uniform
 * with torch's default bound 1/sqrt(fan_in). A param's role is read off its
 * reader (op and operand index), so any graph (supernet or derived net)
 * is handled alike. Each param draws from its own stream seeded by the
 * seed and its name: adding a param never shifts the others.
 */
#include "search/supernet.h"

#include <math.h>
#include <string.h>

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t name_seed(uint64_t seed, const char *name)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (const char *p = name ? name : ""; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
    uint64_t s = seed ^ 0x7365617263680000ull; /* "search" */
    return splitmix64(&s) ^ h;
}

/* Uniform in [0, 1) from the top 24 bits. */
static float uniform01(uint64_t *state)
{
    return (float)(splitmix64(state) >> 40) * (1.0f / 16777216.0f);
}

void search_init_normal(float *data, int64_t n, float scale, uint64_t seed, const char *name)
{
    uint64_t state = name_seed(seed, name);
    for (int64_t i = 0; i < n; i++) {
        /* Box-Muller; 1 - u keeps the log argument in (0, 1]. */
        double u1 = 1.0 - uniform01(&state), u2 = uniform01(&state);
        data[i] = scale * (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
    }
}

typedef enum Role { ROLE_NONE, ROLE_KERNEL, ROLE_ZERO, ROLE_ONE } Role;

/* What the first reader of a param makes of it; fan_in for kernels. */
static Role param_role(const Graph *g, ValueId v, int64_t *fan_in)
{
    for (uint32_t i = 1; i < g->nnode; i++) {
        const Node *n = &g->nodes[i];
        for (uint32_t k = 0; k < n->nin; k++) {
            if (n->in[k] != v)
                continue;
            const Shape *s = &g->vals[v].shape;
            switch (n->op) {
            case OP_CONV2D:
            case OP_LINEAR:
                if (k == 1) {
                    *fan_in = s->d[1] * (s->rank == 4 ? s->d[2] * s->d[3] : 1);
                    return ROLE_KERNEL;
                }
                return ROLE_ZERO; /* bias */
            case OP_BATCHNORM:
                return (k == 2 || k == 3) ? ROLE_ONE : ROLE_ZERO; /* var, gamma */
            default:
                return ROLE_NONE;
            }
        }
    }
    return ROLE_NONE;
}

void search_init_weights(Graph *g, uint64_t seed)
{
    for (uint32_t i = 1; i < g->nnode; i++) {
        if (g->nodes[i].op != OP_PARAM)
            continue;
        ValueId v = g->nodes[i].out;
        Value *val = &g->vals[v];
        int64_t numel = shape_numel(&val->shape), fan_in = 1;
        Role role = param_role(g, v, &fan_in);
        if (role == ROLE_NONE)
            continue; /* architecture params and the like: the space's own */
        if (!val->data)
            val->data = arena_calloc(g->arena, (size_t)numel, sizeof(float));
        if (role == ROLE_KERNEL) {
            float bound = 1.0f / sqrtf((float)(fan_in > 0 ? fan_in : 1));
            uint64_t state = name_seed(seed, val->name);
            for (int64_t k = 0; k < numel; k++)
                val->data[k] = (2.0f * uniform01(&state) - 1.0f) * bound;
        } else {
            float x = role == ROLE_ONE ? 1.0f : 0.0f;
            for (int64_t k = 0; k < numel; k++)
                val->data[k] = x;
        }
    }
}
