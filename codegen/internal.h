/* internal.h — what the files of codegen/ share: the emission context.
 *
 * Emission runs in two phases. Phase one walks the nodes and writes the body
 * of NAME_run into a memory buffer; while doing so every emitter asks the
 * context for C names of its operands (cg_val), which marks the params it
 * touches, and declares the runtime kernels it calls (cg_use_kernel). Phase
 * two writes the file top-down: includes, exactly the marked weights, exactly
 * the used kernels, then the buffered body. So the output never contains an
 * unused static (an error under -Werror) and needs no second walk.
 */
#ifndef NASC_CODEGEN_INTERNAL_H
#define NASC_CODEGEN_INTERNAL_H

#include "codegen/codegen.h"

/* ---- growable text buffer (emit_c.c) ---- */
typedef struct CgBuf {
    char *p;
    size_t len, cap;
    bool oom; /* a grow failed; the text is truncated and emission fails */
} CgBuf;

void cg_buf_printf(CgBuf *b, const char *fmt, ...) NASC_PRINTF(2, 3);
void cg_buf_free(CgBuf *b);

/* ---- kernels of the emitted file (emit_c_kernels.c) ----
 * Each kernel is one chunk of C text; a kernel may need up to two others
 * (a params struct, a shared helper) that must be emitted before it. The
 * enum order is the emission order, so dependencies come first. */
typedef enum CgKernel {
    CK_SPAN,         /* helper: output range whose window tap is in bounds */
    CK_CONV_P,       /* struct nasc_rt_conv_p */
    CK_POOL_P,       /* struct nasc_rt_pool_p */
    CK_WINDOW,       /* nasc_rt_window: a pooling window clipped to the input */
    CK_EPILOGUE,     /* helper: a conv's fused addend and relu, after its kernel */
    CK_CONV_PLANE,   /* one input plane * one KHxKW filter into one output plane */
    CK_CONV_PLANE_PRE, /* the same, reading relu(x) (a fused pre=relu) */
    CK_CONV2D,       /* generic: stride, pad, dilation, groups */
    CK_CONV2D_PRE,   /* the same with pre=relu: also every pre the fast kernels lack */
    CK_DCONV_S1,     /* dense (groups 1), horizontal stride 1 (emit_c_conv.c) */
    CK_DCONV_S2,     /* the same, horizontal stride 2 */
    CK_PK_COMMON,    /* helpers of the packed dense kernels (emit_c_pack.c) */
    CK_PCONV_S1,     /* dense, output channels as lanes, packed weights, stride 1 */
    CK_PCONV_S2,     /* the same, horizontal stride 2 */
    CK_PW_STRIDED,   /* pointwise with a stride, no pad (emit_c_pw.c) */
    CK_WINO,         /* Winograd F(4x4) and F(2x2, 3x3), 3x3 stride 1 (emit_c_wino.c) */
    CK_VEC,          /* GNU C vector types, NASC_RT_VEC (emit_c_vec.c) */
    CK_PW_TILES,     /* register-blocked tiles of the pointwise kernel */
    CK_PW_TILES_PRE, /* the same reading relu(x) (a fused pre=relu) */
    CK_PW_TILE12,    /* their 12-channel tile on AVX-512 hosts (emit_c_vec.c) */
    CK_PW_TILE12_16, /* the same on 16 positions (the last column block) */
    CK_PW_TILE12_PRE,
    CK_I2C_S2,       /* dense stride 2 as gathered patches x that tile (emit_c_vec.c) */
    CK_PW_S2G,       /* strided pointwise as gathered inputs x that tile (emit_c_pw.c) */
    CK_CONV2D_1X1,   /* pointwise, stride 1, no pad, groups 1; then its fused */
    CK_CONV2D_1X1_RELU, /* forms, in the order (pre, addend, act) read as a */
    CK_CONV2D_1X1_ADD,  /* binary number: CK_CONV2D_1X1 + index */
    CK_CONV2D_1X1_ADD_RELU,
    CK_CONV2D_1X1_PRE,
    CK_CONV2D_1X1_PRE_RELU,
    CK_CONV2D_1X1_PRE_ADD,
    CK_CONV2D_1X1_PRE_ADD_RELU,
    CK_PWP_TILE12,   /* pointwise on weights packed [oc / 12][c][12] (emit_c_pwp.c): */
    CK_PWP_TILE12_17, /* the 32- and 17-position vector tiles, the block that */
    CK_PWP_BLOCK,    /* picks one (or runs the portable loop), and the forms as */
    CK_CONV2D_1X1P,  /* above: CK_CONV2D_1X1P + (pre, addend, act) */
    CK_CONV2D_1X1P_RELU,
    CK_CONV2D_1X1P_ADD,
    CK_CONV2D_1X1P_ADD_RELU,
    CK_CONV2D_1X1P_PRE,
    CK_CONV2D_1X1P_PRE_RELU,
    CK_CONV2D_1X1P_PRE_ADD,
    CK_CONV2D_1X1P_PRE_ADD_RELU,
    CK_DWCONV2D,     /* depthwise: groups == c == oc, any geometry */
    CK_DW_STAGE,     /* helper: stages padded rows for the specialised depthwise */
    CK_DWV3,         /* depthwise 3x3 stride 1 in vector types (emit_c_vec.c) */
    CK_DW3S1D1,      /* depthwise KxK, stride S, dilation D along both axes; */
    CK_DW3S1D2,      /*   the order of these eight is (K == 5, S == 2, D == 2) */
    CK_DW3S2D1,      /*   read as a binary number: CK_DW3S1D1 + index */
    CK_DW3S2D2,
    CK_DW5S1D1,
    CK_DW5S1D2,
    CK_DW5S2D1,
    CK_DW5S2D2,
    CK_BATCHNORM,
    CK_RELU,
    CK_LEAKY_RELU,
    CK_ADD,
    CK_MAXPOOL2D,
    CK_AVGPOOL2D,
    CK_AVG_AT,       /* helper: border outputs of the specialised avg pooling */
    CK_MAXPOOL3S1,   /* 3x3 pooling, stride S along both axes: max s1, s2, */
    CK_MAXPOOL3S2,   /*   then avg s1, s2 (CK_MAXPOOL3S1 + (avg) * 2 + (S == 2)) */
    CK_AVGPOOL3S1,
    CK_AVGPOOL3S2,
    CK_GAVGPOOL,
    CK_COPY_CHANNELS, /* concat: one operand into its channel slice */
    CK_CROP,
    CK_ZERO,
    CK_LINEAR,
    CK_LINEAR_PK,    /* weights packed by nasc (emit_c_pack.c) */
    CK_RESIZE_BILINEAR, /* gathers through tap tables the emitter writes */
    CK_ARGMAX,       /* labels: the output is uint8_t */
    NCK
} CgKernel;

typedef struct CgKernelDef {
    const char *src;   /* C text, ends with a newline */
    int dep[2];        /* kernels this one needs, -1 for none */
    bool needs_string; /* calls memcpy/memset: <string.h> */
} CgKernelDef;

extern const CgKernelDef cg_kernels[NCK];
/* Texts of CK_DCONV_S1 and CK_DCONV_S2 (emit_c_conv.c). */
extern const char cg_k_dconv_s1[], cg_k_dconv_s2[];
/* Texts of CK_PW_STRIDED and CK_PW_S2G (emit_c_pw.c). */
extern const char cg_k_pw_strided[], cg_k_pw_s2g[];
/* Texts of CK_VEC, CK_PW_TILE12(_16, _PRE), CK_DWV3, CK_I2C_S2 (emit_c_vec.c). */
extern const char cg_k_vec[], cg_k_pw_tile12[], cg_k_pw_tile12_16[], cg_k_pw_tile12_pre[];
extern const char cg_k_dwv3[], cg_k_i2c_s2[];
/* Texts of CK_DWCONV2D, CK_DW_STAGE and CK_DW<K>S<S>D<D> (emit_c_dw.c). */
extern const char cg_k_dwconv2d[], cg_k_dw_stage[], cg_k_dw3s1d1[], cg_k_dw3s1d2[],
    cg_k_dw3s2d1[], cg_k_dw3s2d2[], cg_k_dw5s1d1[], cg_k_dw5s1d2[], cg_k_dw5s2d1[],
    cg_k_dw5s2d2[];
/* Whether the dense kernels take a groups-1 conv with these attributes, input
 * height h, output height oh and a kh x kw filter: horizontal stride 1 or 2
 * and the rows an edge block stages fit its buffers (emit_c_conv.c). */
bool cg_dconv_fits(const Conv2dAttrs *a, int64_t h, int64_t oh, int64_t kh, int64_t kw);

/* The loops of nasc_rt_linear and nasc_rt_linear_pk: per image, blocks of
 * no <= 32 outputs from o0. */
#define CG_LINEAR_BLOCKS                                                                    \
    "    for (int in = 0; in < n; in++, x += c, y += k)\n"                                  \
    "        for (int o0 = 0; o0 < k; o0 += 32) {\n"                                        \
    "            int no = k - o0 < 32 ? k - o0 : 32;\n"

/* Texts of CK_PK_COMMON, CK_PCONV_S1 and CK_PCONV_S2 (emit_c_pack.c). */
extern const char cg_k_pk_common[], cg_k_pconv_s1[], cg_k_pconv_s2[], cg_k_linear_pk[];
/* Texts of the pooling kernels (emit_c_pool.c). */
extern const char cg_k_maxpool2d[], cg_k_avgpool2d[], cg_k_avg_at[],
    cg_k_maxpool3s1[], cg_k_maxpool3s2[], cg_k_avgpool3s1[], cg_k_avgpool3s2[], cg_k_gavgpool[];
/* Floats in nasc_rt_maxpool3s1/s2's stack row, which holds a row of w + 2:
 * the widest row they take is CG_MAXPOOL3_W. A literal, pasted into their text. */
#define CG_MAXPOOL3_ROW 512
enum { CG_MAXPOOL3_W = CG_MAXPOOL3_ROW - 2 };
/* Texts of the packed pointwise kernels: tiles (emit_c_vec.c), block and
 * forms (emit_c_pwp.c), in CK_PWP_TILE12 .. CK_CONV2D_1X1P_PRE_ADD_RELU order. */
extern const char cg_k_pwp_tile12[], cg_k_pwp_tile12_17[], cg_k_pwp_block[];
extern const char cg_k_conv2d_1x1p[], cg_k_conv2d_1x1p_relu[], cg_k_conv2d_1x1p_add[],
    cg_k_conv2d_1x1p_add_relu[], cg_k_conv2d_1x1p_pre[], cg_k_conv2d_1x1p_pre_relu[],
    cg_k_conv2d_1x1p_pre_add[], cg_k_conv2d_1x1p_pre_add_relu[];

/* ---- blob mode: one float array of the weights (emit_c.c) ---- */
typedef struct CgBlobEntry {
    const char *cname;  /* the identifier the body uses */
    const float *data;  /* n floats (param data, or a BN scale in the arena) */
    int64_t n, offset;  /* offset in floats, set by the layout */
    ValueId v;          /* the param, or 0 for a BN scale */
} CgBlobEntry;

/* ---- emission context (emit_c.c) ---- */
typedef struct CgCtx {
    const Graph *g;
    Diag *d;
    Arena arena;         /* names and scratch; freed when emission ends */
    int64_t *offset;     /* plan_memory(): byte offset of each value, or -1 */
    int64_t *scratch_offset; /* per node: byte offset of its kernel scratch, or -1 */
    uint32_t *num;       /* value numbers as the textual IR prints them */
    const char **cname;  /* C identifier of each referenced param, else NULL */
    bool *is_output;     /* per value: a graph output (lives in `output`) */
    const char **names;  /* every file-scope identifier taken so far */
    uint32_t nnames, capnames;
    bool kernel_used[NCK];
    bool used_input, used_output, used_ws, used_string;
    CgBuf body;          /* statements of NAME_run */
    CgBuf decls;         /* file-scope constants made by emitters (BN scale) */
    bool phase_kernels;  /* emit_c_s2b.c has put its two kernels in decls */
    bool blob;           /* CgOptions.weights_blob */
    CgConv conv;         /* CgOptions.conv */
    CgTarget target;     /* CgOptions.target (the dense kernel's choice) */
    int64_t max_flash;   /* CgOptions.max_flash (> 0: no packed weight copies) */
    bool profile;        /* CgOptions.profile (blob mode only) */
    CgBlobEntry *derived; /* blob mode: BN scales, in emission order */
    uint32_t nderived, capderived;
    CgBlobEntry *blob_ents; /* the layout (blob_layout), once computed */
    uint32_t nblob;
    int64_t blob_floats;
} CgCtx;

/* Whether value v is a param with data (weights nasc may repack at compile time). */
static inline bool cg_const_param(const CgCtx *c, ValueId v)
{
    const Value *w = &c->g->vals[v];
    return w->producer && c->g->nodes[w->producer].op == OP_PARAM && w->data;
}

/* Blob mode: records a derived constant array (a BN scale) that the
 * firmware file would declare as `static const float cname[n]`. */
void cg_blob_add_derived(CgCtx *c, const char *cname, const float *data, int64_t n);

/* C expression for value v's data: "input", "output", "(ws + 12)" or a
 * weight array's name (which marks that param for emission). */
const char *cg_val(CgCtx *c, ValueId v);
/* Like cg_val, but "NULL" when operand i of n does not exist. */
const char *cg_opt_operand(CgCtx *c, const Node *n, uint32_t i);
/* Marks kernel k and what it depends on as used. */
void cg_use_kernel(CgCtx *c, CgKernel k);
/* A new file-scope identifier "<prefix><sanitized raw><suffix>", made unique
 * with _2, _3, ... in emission order. raw may be NULL (then "v<num>"). */
const char *cg_unique_name(CgCtx *c, const char *prefix, const char *raw, ValueId v,
                           const char *suffix);
/* Writes `%.9g` of v with a trailing "f", always a valid float literal that
 * reads back to exactly v. v must be finite. */
void cg_format_float(char *buf, size_t n, float v);
/* Appends n floats as an initializer body, 8 per line, 4-space indent. */
void cg_buf_floats(CgBuf *b, const float *v, int64_t n);
/* Appends s to b as comment text: "*" "/" and "/" "*" are split and
 * non-printable characters replaced, so no name can end or nest a comment. */
void cg_buf_comment_text(CgBuf *b, const char *s);

/* Dimension i of s, or 1 past its rank. */
static inline int64_t cg_dim(const Shape *s, int i)
{
    return i < s->rank ? s->d[i] : 1;
}

/* ---- Winograd F(4x4, 3x3) and F(2x2, 3x3) convolution (emit_c_wino.c) ---- */
extern const char cg_k_wino[];
/* Whether conv n has the geometry: groups 1, 3x3, stride 1 (any dilation), no
 * pre, and its weight a param with data (transformed at compile time). */
bool cg_wino_geometry(const CgCtx *c, const Node *n);
/* Whether conv n runs as Winograd under c->conv. */
bool cg_wino_chosen(const CgCtx *c, const Node *n);
/* Opens conv n's call scope in c->body: "    {" and its `static const
 * nasc_rt_conv_p p = {...};` (emit_c_ops.c); the caller prints the call
 * and the closing "    }". */
void cg_conv_params(CgCtx *c, const Node *n);
/* Bytes of workspace scratch node n's kernel needs while it runs (0: none). */
int64_t cg_node_scratch_bytes(const CgCtx *c, const Node *n);
/* "(ws + k)": node n's scratch in the emitted function's workspace. */
const char *cg_scratch(CgCtx *c, const Node *n);

/* ---- emit_c_budget.c ---- */
/* False after reporting to c->d when the plan's workspace exceeds max_ram
 * (> 0), naming the values live at its peak. */
bool cg_check_ram(CgCtx *c, const MemPlan *plan, int64_t max_ram);
/* After emission: false after reporting when the file's weight arrays
 * exceed max_flash (> 0), naming the largest. */
bool cg_check_flash(CgCtx *c, int64_t max_flash);
/* Emits conv n as Winograd (its transformed weights and the call). */
bool cg_emit_wino(CgCtx *c, const Node *n);

/* ---- packed dense convolution (emit_c_pack.c) ---- */
/* Whether the packed kernel can take conv n (groups 1, no pre, horizontal
 * stride 1 or 2, a param weight, its staged rows fit); dense_kernel chooses. */
bool cg_pack_fits(const CgCtx *c, const Node *n);
/* Emits conv n with the packed kernel (its packed weights and the call). */
bool cg_emit_pack(CgCtx *c, const Node *n);
/* A linear whose weights are a param with data, through nasc_rt_linear_pk. */
bool cg_emit_linear_pk(CgCtx *c, const Node *n);
/* The name of node n's weights packed as u[nu] (emitted now as a static
 * array, or added to the blob); layout names the order in its comment. */
const char *cg_packed_array(CgCtx *c, const Node *n, float *u, int64_t nu, const char *layout);

/* ---- pointwise on packed weights (emit_c_pwp.c) ---- */
/* Whether the pointwise (1x1, stride 1, unpadded, groups 1) conv n runs on
 * weights packed [oc / 12][c][12]: see the rule in emit_c_pwp.c. */
bool cg_pwp_takes(const CgCtx *c, const Node *n);
/* Emits it: the packed weights and the call of form (emit_c_ops.c pw_form). */
bool cg_emit_pwp(CgCtx *c, const Node *n, int form, const char *suffix);

/* ---- per-op emitters (emit_c_ops.c) ---- */
/* Appends node n's statements to c->body; false after a diagnostic. */
bool cg_emit_node(CgCtx *c, NodeId n);

/* emit_c_s2b.c: the phase split and interleave of a dilated conv lowered
 * by passes/lower_dilation.c (ops space_to_batch, batch_to_space). */
bool cg_emit_space_to_batch(CgCtx *c, const Node *n);
bool cg_emit_batch_to_space(CgCtx *c, const Node *n);

#endif
