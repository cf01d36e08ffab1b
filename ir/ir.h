/* ir.h — the nasc operator IR and the support code every folder uses.
 *
 * A Graph is two arrays: values (tensors) and nodes (ops), referenced by
 * 32-bit ids with 0 reserved as "none". Every value has exactly one
 * producer node, except graph inputs (producer 0). Weights are values made
 * by OP_PARAM nodes; they carry their PyTorch state_dict name and, once the
 * frontend binds weights, their f32 data. Node order is topological; passes
 * that break it (appending nodes, marking some OP_NONE) end with
 * ir_graph_compact(). All IR memory comes from one Arena and is freed
 * together.
 */
#ifndef NASC_IR_IR_H
#define NASC_IR_IR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#if defined(__GNUC__)
#define NASC_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define NASC_PRINTF(f, a)
#endif

/* Internal bug (never bad input): report file:line and abort. */
#define NASC_ASSERT(x) \
    ((x) ? (void)0 : nasc_assert_fail(#x, __FILE__, __LINE__))
void nasc_assert_fail(const char *expr, const char *file, int line);

/* ---- arena.c: one arena per compilation; no individual frees ---- */
typedef struct ArenaBlock ArenaBlock;
typedef struct Arena {
    ArenaBlock *head;
    size_t total; /* bytes handed out, for statistics */
} Arena;

void arena_init(Arena *a);
/* Zeroed, 16-byte aligned memory; aborts only if the OS refuses memory. */
void *arena_alloc(Arena *a, size_t n);
/* arena_alloc(n * size) with overflow check; returns NULL on overflow. */
void *arena_calloc(Arena *a, size_t n, size_t size);
char *arena_strdup(Arena *a, const char *s);
char *arena_strndup(Arena *a, const char *s, size_t n);
char *arena_printf(Arena *a, const char *fmt, ...) NASC_PRINTF(2, 3);
void arena_free_all(Arena *a);

/* ---- diag.c: located, accumulated diagnostics ---- */
typedef struct Loc {
    const char *file; /* NULL: no file known */
    uint32_t line, col; /* 1-based; 0 = unknown */
} Loc;

enum { DIAG_MAX = 20 };
typedef struct Diag {
    int nerr, nwarn;
    int nmsg;             /* messages stored (at most DIAG_MAX) */
    char *msg[DIAG_MAX];  /* "file:line:col: error: text", malloc'd */
} Diag;

void diag_init(Diag *d);
void diag_free(Diag *d);
/* Formats "file:line:col: error: <fmt>" (parts of Loc that are unknown are
 * left out). Never prints; the CLI prints with diag_print(). */
void diag_error(Diag *d, Loc at, const char *fmt, ...) NASC_PRINTF(3, 4);
void diag_warn(Diag *d, Loc at, const char *fmt, ...) NASC_PRINTF(3, 4);
void diag_verror(Diag *d, Loc at, const char *kind, const char *fmt, va_list ap);
void diag_print(const Diag *d, FILE *f);
Loc loc_file(const char *file); /* {file, 0, 0} */
/* line:col of byte offset `off` in text (1-based). */
Loc loc_at_offset(const char *file, const char *text, size_t off);

/* ---- tensors ---- */
typedef enum DType { DT_F32, DT_U8 } DType; /* u8: class labels (argmax) only */
enum { MAXRANK = 4 };
typedef struct Shape {
    int rank;
    int64_t d[MAXRANK];
} Shape;

Shape shape_make(int rank, const int64_t *d);
Shape shape4(int64_t n, int64_t c, int64_t h, int64_t w);
int64_t shape_numel(const Shape *s);
bool shape_eq(const Shape *a, const Shape *b);
/* "f32[1,3,32,32]" into buf; returns buf. */
char *shape_str(const Shape *s, char *buf, size_t n);
/* The same with the value's element type: "u8[1,1,65,65]". */
char *type_str(DType t, const Shape *s, char *buf, size_t n);
const char *dtype_name(DType t); /* "f32", "u8" */
size_t dtype_size(DType t);

/* ---- operators ---- */
typedef enum Op {
    OP_NONE = 0,
#define OP(E, l, nmin, nmax, ak, fl) OP_##E,
#include "ops.def"
#undef OP
    NOP
} Op;

enum {
    OPF_PARAM = 1 << 0,    /* no operands; value is a weight */
    OPF_WEIGHTS = 1 << 1,  /* some operands are weights */
    OPF_ELEMWISE = 1 << 2, /* output[i] depends on inputs[i] only */
    OPF_COMMUTES = 1 << 3, /* operands may be swapped */
    OPF_STATS = 1 << 4,    /* operands 1, 2 are running statistics: buffers
                              in PyTorch, not trainable parameters */
    OPF_OUT_U8 = 1 << 5,   /* the result is u8 (every other value is f32) */
};

typedef enum AttrKind {
    AK_NONE, AK_CONV, AK_POOL, AK_BN, AK_CROP, AK_ZERO, AK_RESIZE, AK_LEAKY, AK_INDEX,
    AK_S2B, AK_B2S, NAK
} AttrKind;

/* An activation fused into a conv (Conv2dAttrs.pre, .act); text: none, relu. */
typedef enum FusedAct {
    ACT_NONE, /* identity */
    ACT_RELU, /* max(v, 0), as the relu op */
    NACT
} FusedAct;

/* pad order everywhere: top, left, bottom, right. The last three fields are
 * fusions, 0 by default (and then not printed): the conv computes
 *   y = act(conv(pre(x), w) + b + addend)
 * pre, act: FusedAct; addend: 1 when the last operand is added to the
 * result (operands x, w [, b], addend). Rounding equals the unfused ops'. */
typedef struct Conv2dAttrs {
    int stride[2], pad[4], dilation[2], groups;
    int pre, addend, act;
} Conv2dAttrs;
typedef struct Pool2dAttrs { int kernel[2], stride[2], pad[4], count_include_pad; } Pool2dAttrs;
typedef struct BnAttrs { float eps; } BnAttrs;
typedef struct CropAttrs { int top, left; } CropAttrs;
typedef struct ZeroAttrs { int stride; } ZeroAttrs;
typedef struct ResizeAttrs { int size[2], align_corners; } ResizeAttrs;
typedef struct LeakyAttrs { float slope; } LeakyAttrs; /* finite */
typedef struct IndexAttrs { int index; } IndexAttrs;   /* 0 <= index < numel */
/* space_to_batch / batch_to_space: block r >= 1; pad / crop top, left,
 * bottom, right (>= 0). */
typedef struct S2bAttrs { int block, pad[4]; } S2bAttrs;
typedef struct B2sAttrs { int block, crop[4]; } B2sAttrs;
typedef union Attrs {
    Conv2dAttrs conv; /* AK_CONV */
    Pool2dAttrs pool; /* AK_POOL */
    BnAttrs bn;       /* AK_BN */
    CropAttrs crop;   /* AK_CROP */
    ZeroAttrs zero;   /* AK_ZERO */
    ResizeAttrs resize; /* AK_RESIZE */
    LeakyAttrs leaky;   /* AK_LEAKY */
    IndexAttrs index;   /* AK_INDEX */
    S2bAttrs s2b;       /* AK_S2B */
    B2sAttrs b2s;       /* AK_B2S */
} Attrs;

/* One field of an attribute struct, for the generic attr printer/parser:
 * `count` ints (AF_INT), one float (AF_FLOAT) or one int spelled by name
 * (AF_ENUM: names[value]) at `offset` in Attrs. An optional field is 0 by
 * default, printed only when non-zero and may be left out of the text. */
typedef enum AttrFieldType { AF_INT, AF_FLOAT, AF_ENUM } AttrFieldType;
typedef struct AttrField {
    const char *name;
    size_t offset;
    int count;
    AttrFieldType type;
    bool optional;
    const char *const *names; /* AF_ENUM: value names, NULL-terminated */
} AttrField;

typedef uint32_t ValueId;
typedef uint32_t NodeId;
typedef struct Graph Graph;
typedef struct Node Node;

typedef struct OpInfo {
    const char *name;
    int nmin, nmax;
    AttrKind attr_kind;
    unsigned flags;
    /* Shape rule: set *out from the operands' shapes and attrs; on bad
     * input report to d (at node->loc) and return false. */
    bool (*infer)(const Graph *g, const Node *n, Shape *out, Diag *d);
} OpInfo;

extern const OpInfo op_info[NOP];
/* Fields of an attr kind, terminated by a {NULL} entry. */
const AttrField *attr_fields(AttrKind k);
Op op_by_name(const char *name, size_t len); /* OP_NONE if unknown */

/* ---- graph ---- */
enum { VAL_INPUT = 1 << 0 };

typedef struct Value {
    DType dtype;
    Shape shape;
    NodeId producer;   /* 0 for graph inputs */
    const char *name;  /* state_dict key for params, trace key, or NULL */
    float *data;       /* params only: bound f32 data (NULL until bound) */
    uint32_t flags;    /* VAL_* */
    Loc loc;
} Value;

struct Node {
    Op op;              /* OP_NONE marks a dead node, removed by ir_graph_compact */
    uint32_t nin;
    ValueId *in;        /* arena array of nin ids */
    ValueId out;
    Attrs attrs;
    Loc loc;
};

struct Graph {
    Arena *arena;
    const char *name;   /* printed as @name */
    Node *nodes;        /* nodes[0] unused */
    Value *vals;        /* vals[0] unused */
    uint32_t nnode, nval;   /* counts include the unused slot 0 */
    uint32_t capnode, capval;
    ValueId *inputs, *outputs;
    uint32_t ninput, noutput, capinput, capoutput;
};

/* The conv2d operand roles (operands x, w [, b] [, addend]): the bias or
 * the addend value, 0 when the node has none. n must be a conv2d. */
static inline ValueId ir_conv_bias(const Node *n)
{
    return n->nin - (n->attrs.conv.addend ? 1u : 0u) > 2 ? n->in[2] : 0;
}
static inline ValueId ir_conv_addend(const Node *n)
{
    return n->attrs.conv.addend ? n->in[n->nin - 1] : 0;
}
/* True if any fusion attribute (pre, addend, act) of conv2d n is set. */
static inline bool ir_conv_fused(const Node *n)
{
    const Conv2dAttrs *a = &n->attrs.conv;
    return a->pre != ACT_NONE || a->addend || a->act != ACT_NONE;
}

/* graph.c */
Graph *ir_graph_new(Arena *a, const char *name);
ValueId ir_graph_add_input(Graph *g, Shape s, const char *name);
/* Adds a param node whose value has shape s and state_dict name `name`. */
ValueId ir_graph_add_param(Graph *g, Shape s, const char *name, Loc loc);
/* Adds a node; runs the op's shape rule. Returns the output value id, or 0
 * after reporting to d. `attrs` may be NULL (zeroed). */
ValueId ir_graph_add_node(Graph *g, Op op, const ValueId *in, uint32_t nin,
                          const Attrs *attrs, Loc loc, Diag *d);
void ir_graph_add_output(Graph *g, ValueId v);
void ir_value_set_name(Graph *g, ValueId v, const char *name);
static inline Value *ir_val(const Graph *g, ValueId v) { return &g->vals[v]; }
static inline Node *ir_node(const Graph *g, NodeId n) { return &g->nodes[n]; }
/* Removes OP_NONE nodes and the values only they produced, keeps every
 * param (an unread param is still a checkpoint tensor), restores a
 * topological order (appended nodes move before their first reader) and
 * renumbers ids. Asserts that no live node reads a removed node. */
void ir_graph_compact(Graph *g);
/* Number of uses of each value (array of nval counts, from the arena). */
uint32_t *ir_fill_uses(const Graph *g);
/* Last node index that reads each value (outputs count as nnode). */
uint32_t *ir_fill_last_use(const Graph *g);
/* Elements of trainable parameters (as torch's named_parameters: running
 * statistics excluded); *buffers (may be NULL) gets the excluded rest. */
int64_t ir_graph_param_count(const Graph *g, int64_t *buffers);
/* Per value: true for params used as running statistics (OPF_STATS). */
bool *ir_fill_stats(const Graph *g);

/* verify.c: ids in range, operand counts, shapes agree with the shape
 * rules, topological order, outputs defined, param names unique. */
bool ir_verify(const Graph *g, Diag *d);

/* print.c / parse.c: the textual IR (docs/ir.md). print(parse(print(g)))
 * == print(g) byte for byte. Params print without data. */
void ir_print(const Graph *g, FILE *f);
char *ir_print_str(const Graph *g, Arena *a);
Graph *ir_parse(Arena *a, const char *file, const char *text, size_t len, Diag *d);

/* stats.c: multiply-adds of one node (conv and linear count; others 0). */
int64_t ir_node_macs(const Graph *g, const Node *n);

#endif
