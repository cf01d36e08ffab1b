/* emit_util.h — what the emitted-C tests of this folder share: writing a
 * graph's C file pair, running a shell command, writing raw bytes, and
 * building seeded test graphs. */
#ifndef NASC_TESTS_CODEGEN_EMIT_UTIL_H
#define NASC_TESTS_CODEGEN_EMIT_UTIL_H

#include "codegen/codegen.h"

#include <stddef.h>
#include <stdint.h>

/* Emits g into dir/name.{c,h} with options o (o->name is set to name; NULL
 * o means defaults); false, with the diagnostics printed, on error. */
bool cgtest_emit(const Graph *g, const CgOptions *o, const char *dir, const char *name);

/* system(cmd); a failure is printed with its status. Returns the status. */
int cgtest_run(const char *cmd);

/* Writes bytes bytes of p to path; false on any I/O error. */
bool cgtest_write_file(const char *path, const void *p, size_t bytes);

/* The tests' seeded generator (xorshift64*): the next value of *rng,
 * uniform in [-1, 1). */
float cgtest_frand(uint64_t *rng);

/* A param `name` of shape s with data cgtest_frand(rng) * scale. */
ValueId cgtest_param(Graph *g, const char *name, Shape s, float scale, uint64_t *rng);

/* ir_graph_add_node that aborts (printing why) on failure: a failure is a
 * bug in the test's graph, not in the code under test. */
ValueId cgtest_node(Graph *g, Op op, const Attrs *a, const ValueId *in, uint32_t nin);

/* Blob mode (the JIT's form) as a firmware-style entry point: appends to
 * dir/NAME.{c,h} (NAME = o->name, emitted with o, o->weights_blob set) a
 * NAME_run(in, out, ws) that passes cg_weights_blob's floats, as hex
 * literals, to NAME_run_blob, so the shared harness can run it. */
bool cgtest_add_blob_runner(const Graph *g, const CgOptions *o, const char *dir);

/* max |got - ref| / max |ref|, printed on one line with what. */
double cgtest_rel_error(const char *what, const float *got, const float *ref, int64_t n);

#endif
