/* checkpoint.h — tensors to safetensors files, and back into a graph.
 *
 * The weights nasc_compile reads and the search/training checkpoints are
 * both plain safetensors files of F32 tensors named by the graph's param
 * names (the PyTorch state_dict keys), so a checkpoint is also a valid
 * weights file. Files appear whole or not at all: written to a temporary
 * file in the same directory, flushed, then renamed.
 */
#ifndef NASC_SEARCH_CHECKPOINT_H
#define NASC_SEARCH_CHECKPOINT_H

#include "frontend/frontend.h"
#include "ir/ir.h"

typedef struct CkTensor {
    const char *name;
    int rank;
    int64_t shape[MAXRANK];
    const float *data;
} CkTensor;

/* Writes n F32 tensors (names unique, sorted by the writer for a
 * deterministic file) to path. Returns false after reporting to d. */
bool srch_st_write(const char *path, const CkTensor *t, int n, Diag *d);

/* The tensors of every bound param of g, in value order, into t[] (room
 * for g->nval entries); returns the count. */
int srch_graph_tensors(const Graph *g, CkTensor *t);

/* Copies tensor `name` of st into dst[numel]; false (reported) if it is
 * missing or its element count differs. */
bool srch_st_get(const SafeTensors *st, const char *name, float *dst, int64_t numel, Diag *d);

#endif
