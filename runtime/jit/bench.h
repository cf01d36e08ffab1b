/* bench.h — a graph with weights -> JIT-compiled callable -> latency.
 *
 * The call a search loop uses to rank candidates on this CPU: the graph is
 * emitted in codegen's blob mode (the firmware C, weights passed as one
 * pointer, so compile time does not grow with the parameter count),
 * compiled in memory by jit.h, and timed. Nothing touches the file system
 * with the clang backend. Not thread-safe per JitNet; distinct JitNets are
 * independent.
 */
#ifndef NASC_RUNTIME_JIT_BENCH_H
#define NASC_RUNTIME_JIT_BENCH_H

#include "runtime/jit/jit.h"

typedef int (*JitRunFn)(const float *input, void *output, void *workspace,
                        const float *weights);
/* Profile mode: called with node index k before node k runs, and with -1
 * after the last one. */
typedef void (*JitProfFn)(void *ctx, int node);
typedef int (*JitRunProfFn)(const float *input, void *output, void *workspace,
                            const float *weights, JitProfFn prof, void *ctx);

typedef struct JitNet {
    Jit *jit;
    JitRunFn run;          /* NAME_run_blob */
    float *blob;           /* the weights, as cg_weights_blob lays them out */
    int64_t blob_floats;
    void *workspace;       /* 64-byte aligned, ws_bytes */
    int64_t ws_bytes;
    int64_t in_floats;     /* input elements */
    size_t out_bytes;      /* output bytes (floats, or u8 labels) */
    size_t c_bytes;        /* size of the emitted C */
    double emit_ms;        /* codegen (C text + blob) */
    double compile_ms;     /* jit_compile + first lookup: source to machine code */
    /* with JIT_NET_PROFILE: */
    JitRunProfFn run_prof;
    uint32_t nprof;        /* nodes reported (non-param, in graph order) */
    NodeId *prof_node;     /* prof_node[k]: the graph node of index k */
} JitNet;

enum { JIT_NET_PROFILE = 1 };

/* Emits, compiles and loads g (one input, one output, params bound).
 * flags: JIT_NET_PROFILE also builds the instrumented entry point. */
bool jit_net_build(const Graph *g, int flags, JitNet *out, Diag *d);
/* Runs once: input has in_floats floats, output out_bytes bytes. */
bool jit_net_run(JitNet *n, const float *input, void *output, Diag *d);
void jit_net_free(JitNet *n);

typedef struct JitTiming {
    int runs;
    double median_ms, min_ms, max_ms, mean_ms;
} JitTiming;

/* `warmup` untimed runs, then `runs` (>= 1) timed ones (CLOCK_MONOTONIC)
 * on `input` (NULL: a fixed pseudo-random input). */
bool jit_net_time(JitNet *n, const float *input, int warmup, int runs, JitTiming *t, Diag *d);

/* Per-node time of a JIT_NET_PROFILE net, summed over `runs` runs after
 * `warmup`: ms[k] for node prof_node[k] (nprof entries, caller allocated). */
bool jit_net_profile(JitNet *n, const float *input, int warmup, int runs, double *ms,
                     Diag *d);

/* The search's one call: build, warm up, time, free. compile_ms may be NULL. */
bool jit_bench_graph(const Graph *g, int warmup, int runs, JitTiming *t, double *compile_ms,
                     Diag *d);

#endif
