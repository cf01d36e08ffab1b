/* frontend.h — genotypes and weights in, IR out.
 *
 * Genotype readers (DARTS `Genotype(...)` literals and the canonical JSON)
 * produce a Genotype with a source Loc on every edge and concat entry, so
 * later checks can still point at the file. lower_darts.c turns a Genotype
 * plus a NetConfig into a Graph named exactly as the PyTorch reference model
 * (quark0/darts cnn/model.py) names its state_dict. weights.c binds
 * safetensors tensors to the graph's params by those names.
 */
#ifndef NASC_FRONTEND_FRONTEND_H
#define NASC_FRONTEND_FRONTEND_H

#include "ir/ir.h"

/* ---- genotype.c: the in-memory genotype ---- */
typedef struct GenoEdge {
    const char *op; /* primitive name as written, e.g. "sep_conv_3x3" */
    int input;      /* 0 = preprocess0 (cell k-2), 1 = preprocess1, j>=2 node j */
    Loc loc;        /* where the op name / tuple starts */
    Loc input_loc;  /* where the input index is */
} GenoEdge;

typedef struct GenoCell {
    GenoEdge *edges; /* 2 per node: edges 2i, 2i+1 feed node i+2 */
    int nedge;
    int *concat;     /* states concatenated to form the cell output */
    Loc *concat_loc;
    int nconcat;
    Loc loc;
} GenoCell;

typedef struct Genotype {
    const char *name; /* assignment name, or NULL */
    GenoCell normal, reduce;
    Loc loc;
} Genotype;

/* darts_ops.c: the DARTS primitive table (none, max_pool_3x3, ...). */
typedef enum DartsKind {
    DK_NONE, DK_MAXPOOL, DK_AVGPOOL, DK_SKIP, DK_SEPCONV, DK_DILCONV, DK_CONV7x1_1x7,
    DK_ATROUS /* TF hnasnet atrous_KxK: ReLU, dense KxK conv rate 2, BN */
} DartsKind;
typedef struct DartsOp {
    const char *name;
    DartsKind kind;
    int kernel, pad, dilation;
} DartsOp;
const DartsOp *fe_darts_op(const char *name); /* NULL if unknown */
extern const DartsOp fe_darts_ops[];         /* terminated by {NULL} */

/* Checks a parsed genotype: even number of edges >= 2 per cell, known ops,
 * input indices in range, concat indices in range. Errors at the edge. */
bool fe_genotype_check(const Genotype *g, Diag *d);

/* genotype_py.c: a file of `NAME = Genotype(...)` assignments and aliases
 * (`DARTS = DARTS_V2`), or one bare `Genotype(...)`. `want` selects a name;
 * NULL is fine when the file holds exactly one genotype. */
bool fe_parse_darts_text(Arena *a, const char *file, const char *text, size_t len,
                         const char *want, Genotype *out, Diag *d);
/* All genotypes in the text, in order (aliases resolved, each named). */
int fe_parse_darts_all(Arena *a, const char *file, const char *text, size_t len,
                       Genotype **out, Diag *d);
/* Prints the literal as DARTS prints it (lists for concat). */
char *fe_genotype_to_literal(Arena *a, const Genotype *g);

/* genotype_json.c: the canonical JSON form (docs/genotype-json.md). */
bool fe_parse_genotype_json(Arena *a, const char *file, const char *text, size_t len,
                            Genotype *out, Diag *d);
char *fe_genotype_to_json(Arena *a, const Genotype *g);

/* Reads `path` (JSON if its first non-blank byte is '{', else literal). */
bool fe_load_genotype(Arena *a, const char *path, const char *want, Genotype *out,
                      Diag *d);
/* What a genotype file holds: JSON whose "space" is "autodeeplab", a TF
 * hnasnet description (it names hiddenstate_indices), or else DARTS. */
typedef enum FeArchKind { FE_ARCH_DARTS, FE_ARCH_ADL_JSON, FE_ARCH_ADL_TF } FeArchKind;
FeArchKind fe_sniff_arch(const char *text, size_t len);
/* Whole file into arena memory, NUL-terminated; error names the path. */
char *fe_read_file(Arena *a, const char *path, size_t *len, Diag *d);

/* ---- lower_darts.c: macro networks ---- */
typedef enum NetKind { NET_CIFAR, NET_IMAGENET } NetKind;
typedef struct NetConfig {
    NetKind kind;
    int C, layers, classes;
    int in_h, in_w; /* input spatial size */
    int batch;      /* N of the input; 0 means 1 (inference) */
    int in_ch;      /* input channels; 0 means 3 (RGB) */
    bool auxiliary; /* expect auxiliary_head.* weights (unused in eval) */
} NetConfig;

/* Fills the defaults of the DARTS papers: cifar C=36 layers=20 classes=10
 * 32x32; imagenet C=48 layers=14 classes=1000 224x224. */
void fe_netconfig_default(NetConfig *c, NetKind k);
Graph *fe_lower_darts(Arena *a, const Genotype *g, const NetConfig *cfg, Diag *d);

/* ---- safetensors.c / weights.c ---- */
typedef enum StDType { ST_F32, ST_F16, ST_BF16, ST_F64, ST_I64, ST_I32, ST_OTHER } StDType;
typedef struct StTensor {
    const char *name;
    StDType dtype;
    int rank;
    int64_t shape[8];
    uint64_t begin, end; /* byte offsets into the data section */
} StTensor;
typedef struct SafeTensors {
    const char *path;
    unsigned char *data; /* data section (after the header) */
    uint64_t data_len;
    StTensor *t;
    int nt;
} SafeTensors;

/* Reads and validates a whole file: header length within the file and
 * <= 100 MB, JSON header well formed, known dtypes, offsets in bounds, not
 * overlapping, sized dtype*numel. Errors name the path and tensor. */
bool fe_safetensors_load(Arena *a, const char *path, SafeTensors *st, Diag *d);
/* The same on a file already in memory (buf[len], not kept: the data
 * section is copied into the arena); `path` names it in messages. */
bool fe_safetensors_parse(Arena *a, const char *path, const unsigned char *buf, size_t len,
                          SafeTensors *st, Diag *d);
/* Converts tensor i to f32 (F16/BF16/F64 converted) into dst[numel]. */
bool fe_safetensors_to_f32(const SafeTensors *st, int i, float *dst, Diag *d);

/* Binds every OP_PARAM of g to the tensor of the same name (a "module."
 * prefix accepted). Reports every missing, unexpected or wrongly shaped
 * tensor by name; `num_batches_tracked` may be present or missing.
 * `ignore_prefix` (may be NULL): tensors under it are accepted and unused. */
bool fe_bind_weights(Graph *g, const SafeTensors *st, const char *ignore_prefix, Diag *d);
/* Deterministic initialisation from `seed` and each param's name:
 * conv/linear weights He-uniform(+-sqrt(6/fan_in)), BN gamma ~ 1, beta ~ 0,
 * running mean/var non-trivial but fixed. Independent of param order. */
void fe_init_weights(Graph *g, uint64_t seed);

/* ---- Auto-DeepLab architectures (autodeeplab*.c, docs/autodeeplab.md) ----
 * A cell is 10 rows [edge, op] over the 20-edge, 5-node DAG of the PyTorch
 * ports: node n (2..6) reads states 0..n-1 through edges offset(n)+j with
 * offset = 0, 2, 5, 9, 14 (state 0 = prev-prev cell, 1 = prev cell). The
 * path gives one level 0..3 (output stride 4, 8, 16, 32) per layer. */
enum { ADL_NODES = 5, ADL_EDGES = 20, ADL_ROWS = 10, ADL_MAX_LAYERS = 256 };

typedef enum AdlBn { ADL_BN_PLAIN, ADL_BN_ABN } AdlBn;

typedef struct AdlRow {
    int edge;
    const char *op; /* a name of fe_adl_ops: PRIMITIVES plus atrous_3x3/5x5 */
    Loc loc;        /* the row */
    Loc edge_loc, op_loc;
} AdlRow;

typedef struct AdlArch {
    const char *name;   /* or NULL */
    int *path;          /* nlayers levels */
    Loc *path_loc;
    int nlayers;
    AdlRow rows[ADL_ROWS];
    int nrows;
    int F, B;           /* filter multiplier (20/32/48), blocks concatenated (5) */
    int classes;
    int in_h, in_w;
    int batch;          /* N of the input; 0 means 1 (training uses more) */
    int in_ch;          /* input channels; 0 means 3 (RGB) */
    int aspp_rates[3];  /* dilations of the three 3x3 ASPP branches */
    bool decoder;       /* DeepLabv3+ decoder on cell 2's output */
    AdlBn bn;
    Loc loc;
} AdlArch;

/* PRIMITIVES order of the PyTorch ports (index = op number in [edge, op]
 * rows): none, max_pool_3x3, avg_pool_3x3, skip_connect, sep_conv_3x3,
 * sep_conv_5x5, dil_conv_3x3, dil_conv_5x5; then nasc's atrous_3x3 (8),
 * atrous_5x5 (9) for TF cells. Terminated by {NULL}. */
extern const DartsOp fe_adl_ops[];
const DartsOp *fe_adl_op(const char *name);
/* First edge of node n (2..6): 0, 2, 5, 9, 14. */
int fe_adl_edge_offset(int node);
/* F=20 B=5 classes=19 513x513 rates 6/12/18 decoder on, plain BN. */
void fe_adl_defaults(AdlArch *a);
/* Located checks: path levels 0..3, first level 0 or 1, steps of at most
 * one level, edges 0..19, each node exactly two rows, known ops. */
bool fe_adl_check(const AdlArch *a, Diag *d);

/* autodeeplab_read.c: readers. Each fills only what its form holds; the
 * rest keeps the caller's values (defaults or command-line options). */
bool fe_adl_read_path(Arena *a, const char *file, AdlArch *out, Diag *d);  /* .npy or JSON list */
bool fe_adl_read_cell(Arena *a, const char *file, AdlArch *out, Diag *d);  /* .npy or JSON rows */
/* TF hnasnet description: `backbone = [...]`, `operations = [...]`,
 * `hiddenstate_indices = [...]`, `used_hiddenstates = [...]` assignments
 * (Python or JSON object); TF input 0 = previous cell becomes our 1. */
bool fe_adl_parse_tf(Arena *a, const char *file, const char *text, size_t len, AdlArch *out,
                     Diag *d);
/* The canonical JSON (space "autodeeplab"), read and written. */
bool fe_adl_parse_json(Arena *a, const char *file, const char *text, size_t len, AdlArch *out,
                       Diag *d);
char *fe_adl_to_json(Arena *a, const AdlArch *arch);

/* npy.c: a NumPy .npy file (format 1.0/2.0/3.0) of integers, C order. */
typedef struct NpyArray {
    int rank;
    int64_t shape[8];
    int64_t *data; /* numel values converted to int64 */
    int64_t numel;
} NpyArray;
bool fe_npy_read_ints(Arena *a, const char *path, NpyArray *out, Diag *d);

/* lower_autodeeplab.c: the retrain network (stem, cells along the path,
 * ASPP, decoder, final bilinear upsample), state_dict names of
 * NoamRosenberg/autodeeplab Retrain_Autodeeplab. */
Graph *fe_lower_autodeeplab(Arena *a, const AdlArch *arch, Diag *d);

#endif
