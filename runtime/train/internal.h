/* internal.h — the Tape's layout, shared by tape.c (forward, buffers) and
 * backward.c (the grad_<lname> hooks). Private to runtime/train.
 *
 * Per value the tape keeps a data pointer (params: their bound Value.data,
 * read at every forward; the input: the tape's copy; activations: see
 * below) and, where a gradient can exist, a gradient buffer. Param and
 * input gradients persist and accumulate across backward calls; activation
 * gradients live only during one backward: allocated (zeroed) at the first
 * contribution, freed once the producing node has passed its gradient on.
 *
 * Activations come in two kinds, fixed by rt_tape_new. A kept value (some
 * backward reads it, per rt_grad_reads, or it is the graph output) has its
 * own buffer for the tape's life. Any other value lives in a scratch slot
 * from its producer to its last reader in the forward; slots are shared
 * by values whose lifetimes do not overlap (planned once, allocated once),
 * and after a forward such a value's val[] is NULL.
 */
#ifndef NASC_RUNTIME_TRAIN_INTERNAL_H
#define NASC_RUNTIME_TRAIN_INTERNAL_H

#include "runtime/ref/grad.h"
#include "runtime/train/train.h"

/* rt_grad_reads bits: the backward of an op reads operand i's data
 * (i < RD_MAXIN), or its output's. */
enum { RD_MAXIN = 31 };
#define RD_IN(i) (1u << (i))
#define RD_OUT (1u << RD_MAXIN)
/* Per op (backward.c, expanded from ir/ops.def): what its grad hook reads
 * of the forward besides shapes, attrs and batchnorm's saved statistics. */
extern const uint32_t rt_grad_reads[NOP];

struct Tape {
    const Graph *g;
    TapeOptions opts;
    float **val;       /* per value: its data after a forward; NULL for an
                          activation in a slot (released at its last use) */
    float **act;       /* per value: kept activation buffer the tape owns, or NULL */
    uint32_t *slot_of; /* per value: 1 + its scratch slot, 0 if none */
    float **slots;     /* nslot shared scratch buffers */
    uint32_t nslot;
    size_t bytes;      /* of act[] and slots[] buffers: rt_tape_bytes */
    float *input;      /* copy of the last forward's input */
    float **grad;      /* per value: gradient buffer or NULL */
    bool *persistent;  /* per value: grad[v] is a param/input gradient */
    bool *needs_grad;  /* per value: a gradient flows to it (it depends on a
                          trainable param or the input) */
    float **bn_mean;   /* per node: batchnorm's saved batch mean (train) */
    float **bn_invstd; /* per node: 1/sqrt(var_biased + eps) (train) */
    float *ws;         /* convolution scratch, grown to the largest need */
    size_t ws_cap;     /* floats in ws */
    bool have_forward;
    RtMode mode;       /* of the last forward */
    Diag *d;           /* during a forward or backward call */
};

/* Grows t->ws to at least `floats`; false after reporting at n. */
bool rt_tape_need_ws(Tape *t, const Node *n, size_t floats);
/* Geometry of a conv2d or pool node from its operand shapes and attrs. */
RtConv2d rt_tape_conv_geometry(const Graph *g, const Node *n);
RtPool2d rt_tape_pool_geometry(const Graph *g, const Node *n);

#endif
