/* emit_util.h — what the emitted-C tests of this folder share: writing a
 * graph's C file pair, running a shell command, writing raw bytes. */
#ifndef NASC_TESTS_CODEGEN_EMIT_UTIL_H
#define NASC_TESTS_CODEGEN_EMIT_UTIL_H

#include "codegen/codegen.h"

#include <stddef.h>

/* Emits g into dir/name.{c,h} with options o (o->name is set to name; NULL
 * o means defaults); false, with the diagnostics printed, on error. */
bool cgtest_emit(const Graph *g, const CgOptions *o, const char *dir, const char *name);

/* system(cmd); a failure is printed with its status. Returns the status. */
int cgtest_run(const char *cmd);

/* Writes bytes bytes of p to path; false on any I/O error. */
bool cgtest_write_file(const char *path, const void *p, size_t bytes);

#endif
