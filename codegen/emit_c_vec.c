/* emit_c_vec.c — kernels in GNU C vector types for AVX-512 hosts, pasted
 * into emitted C files beside the portable ones they stand in for: the
 * pointwise kernel's 12-channel tile, depthwise 3x3 stride 1 on rows of
 * at most 32 outputs, and the stems' strided dense conv.
 *
 * Why: the portable tile (6 channels x 32 positions as six float[32]
 * arrays, emit_c_kernels.c) leaves the register allocation to the
 * vectoriser, and gcc 12 does not do it the same way twice: on DARTS
 * ImageNet's shapes it ran at 69-121 GFLOP/s, and a 12-channel version of
 * the same text ran 25-55 % faster or 2x slower depending on the shape and
 * where it was inlined. Written with GNU C vector types (one variable per
 * accumulator register), gcc and clang both keep the 24 accumulators in
 * zmm registers; single convs, gcc 12 -O3 -march=native, weights cold
 * (AVX-512 Xeon, FMA peak ~177 GFLOP/s), portable -> this tile:
 * 48 -> 48 on 28x28 91 -> 160, 96 -> 96 on 14x14 84 -> 141, 192 -> 192 on
 * 7x7 69 -> 112; with a fused pre=relu 192 -> 48 on 28x28 121 -> 140,
 * 384 -> 96 on 14x14 88 -> 115, 768 -> 192 on 7x7 71 -> 90.
 *
 * Only where it pays and is GNU C: the block below defines NASC_RT_VEC
 * for gcc and clang with AVX-512 enabled (a 64-byte vector is one zmm
 * register; elsewhere the compiler would split it), unless the including
 * build defines NASC_RT_PORTABLE (the tests build both paths). The drivers
 * in emit_c_kernels.c take 12-channel tiles when it is defined and the
 * portable 6-channel ones otherwise. Results are the same bit for bit:
 * each output is still bias + w[o,0] x[0] + w[o,1] x[1] + ... in channel
 * order, one multiply-add per term as in the scalar text, so both paths
 * contract (or not) alike under the same -ffp-contract. The relu of a
 * fused pre is x > 0 ? x : 0 as a mask (NaN and -0 give +0, as the scalar
 * test does).
 */
#include "internal.h"

const char cg_k_vec[] =
    "/* GNU C vector types for the pointwise tiles on AVX-512 hosts (see the\n"
    " * tile); define NASC_RT_PORTABLE to build the portable tiles instead. */\n"
    "#if defined(__GNUC__) && defined(__AVX512F__) && !defined(NASC_RT_PORTABLE)\n"
    "#define NASC_RT_VEC 1\n"
    "typedef float nasc_rt_v16 __attribute__((vector_size(64)));\n"
    "typedef int nasc_rt_v16i __attribute__((vector_size(64)));\n"
    "typedef float nasc_rt_v16u __attribute__((vector_size(64), aligned(4), may_alias));\n"
    "typedef float nasc_rt_v8 __attribute__((vector_size(32)));\n"
    "typedef float nasc_rt_v8u __attribute__((vector_size(32), aligned(4), may_alias));\n"
    "typedef int nasc_rt_v8i __attribute__((vector_size(32)));\n"
    "#define NASC_RT_PREFETCH(p) __builtin_prefetch((p), 0, 2)\n"
    "/* Functions in 64-byte vectors: clang otherwise splits them into 32-byte\n"
    " * halves where it prefers 256-bit vectors (-march=native on AVX-512 CPUs),\n"
    " * which spills the tiles' accumulators (DARTS ImageNet 20 ms -> 8.7 ms);\n"
    " * gcc takes the pragma at the top of the file. */\n"
    "#ifdef __clang__\n"
    "#define NASC_RT_W512 __attribute__((min_vector_width(512)))\n"
    "#else\n"
    "#define NASC_RT_W512\n"
    "#endif\n"
    "/* lanes 0, 2, ..., 30 of a:b (the even floats of 32) */\n"
    "#ifdef __clang__\n"
    "#define NASC_RT_EVEN16(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, \\\n"
    "                                                    16, 18, 20, 22, 24, 26, 28, 30)\n"
    "#else\n"
    "#define NASC_RT_EVEN16(a, b) \\\n"
    "    __builtin_shuffle(a, b, (nasc_rt_v16i){0, 2, 4, 6, 8, 10, 12, 14, \\\n"
    "                                           16, 18, 20, 22, 24, 26, 28, 30})\n"
    "#endif\n"
    "/* lanes k .. k + 15 of a:b (k + 7 for 8 lanes); k a constant */\n"
    "#ifdef __clang__\n"
    "#define NASC_RT_EXT16(a, b, k) __builtin_shufflevector(a, b, (k), (k) + 1, (k) + 2, \\\n"
    "    (k) + 3, (k) + 4, (k) + 5, (k) + 6, (k) + 7, (k) + 8, (k) + 9, (k) + 10, (k) + 11, \\\n"
    "    (k) + 12, (k) + 13, (k) + 14, (k) + 15)\n"
    "#define NASC_RT_EXT8(a, b, k) __builtin_shufflevector(a, b, (k), (k) + 1, (k) + 2, \\\n"
    "    (k) + 3, (k) + 4, (k) + 5, (k) + 6, (k) + 7)\n"
    "#else\n"
    "#define NASC_RT_EXT16(a, b, k) __builtin_shuffle(a, b, (nasc_rt_v16i){(k), (k) + 1, \\\n"
    "    (k) + 2, (k) + 3, (k) + 4, (k) + 5, (k) + 6, (k) + 7, (k) + 8, (k) + 9, (k) + 10, \\\n"
    "    (k) + 11, (k) + 12, (k) + 13, (k) + 14, (k) + 15})\n"
    "#define NASC_RT_EXT8(a, b, k) __builtin_shuffle(a, b, (nasc_rt_v8i){(k), (k) + 1, \\\n"
    "    (k) + 2, (k) + 3, (k) + 4, (k) + 5, (k) + 6, (k) + 7})\n"
    "#endif\n"
    "#endif\n"
    "#ifndef NASC_RT_W512\n"
    "#define NASC_RT_W512\n"
    "#endif\n";

/* Twelve lines, one per channel r of the tile, of text T(r). */
#define PV_EACH(T) T(0) T(1) T(2) T(3) T(4) T(5) T(6) T(7) T(8) T(9) T(10) T(11)
/* Row r's accumulators from the bias; the plain tiles also point w<r> at its weights. */
#define PV_ACC(r) "    nasc_rt_v16 a" #r "_0 = z + (b ? b[" #r "] : 0.0f), a" #r "_1 = a" #r "_0;\n"
#define PV_ACC16(r) "    nasc_rt_v16 a" #r " = z + (b ? b[" #r "] : 0.0f);\n"
#define PV_WROW(r) "    const float *w" #r " = w + " #r " * c;\n"
#define PV_INIT(r) PV_WROW(r) PV_ACC(r)
#define PV_FMA(r)                                                                           \
    "        s = w" #r "[i], a" #r "_0 += s * x0, a" #r "_1 += s * x1;\n"
#define PV_STORE(r)                                                                         \
    "    *(nasc_rt_v16u *)(y + " #r " * ys) = a" #r "_0;\n"                                 \
    "    *(nasc_rt_v16u *)(y + " #r " * ys + 16) = a" #r "_1;\n"
#define PV_RELU(v)                                                                          \
    "        " v " = (nasc_rt_v16)((nasc_rt_v16i)(" v " > 0.0f) & (nasc_rt_v16i)" v ");\n"

/* y[o0..o0+12, j..j+32): the portable tile's contract (emit_c_kernels.c)
 * with 12 channels; noinline because gcc, inlining it into some driver
 * clones, spilled the accumulators. The next tile's weights (nw; the
 * driver passes them for every column block) are prefetched one hint per
 * input channel inside the loop rather than all before it as the portable
 * tile does: in the net (DARTS ImageNet, gcc) that was ~4 % faster, the
 * burst of 12 c / 16 hints before the loop showed as ~7 % of the tile's
 * samples. PRE: the relu of x, or "". */
#define K_PW_TILE12(SFX, PRE)                                                                \
    "#ifdef NASC_RT_VEC\n"                                                                 \
    "/* y[o0..o0+12, j..j+32) of a pointwise convolution, as nasc_rt_pw_tile" SFX "\n"       \
    " * with 12 channels: 24 accumulators of 16 lanes, one variable each, so\n"               \
    " * they stay in registers. Rows of x are hw floats apart, of y ys. */\n"                \
    "__attribute__((noinline)) NASC_RT_W512\n"                                              \
    "static void nasc_rt_pw_tile12" SFX "(const float *restrict x, const float *restrict w,\n" \
    "        const float *restrict b, float *restrict y, int c, int hw, int ys,\n"          \
    "        const float *nw)\n"                                                              \
    "{\n"                                                                                     \
    "    const nasc_rt_v16 z = {0};\n"                                                        \
    PV_EACH(PV_INIT)                                                                          \
    "    if (!nw)\n"                                                                          \
    "        nw = w; /* a harmless hint: this tile's own weights */\n"                        \
    "    for (int i = 0; i < c; i++) {\n"                                                     \
    "        NASC_RT_PREFETCH(nw + 12 * i); /* 12 c floats over c steps */\n"                 \
    "        nasc_rt_v16 x0 = *(const nasc_rt_v16u *)(x + i * hw);\n"                         \
    "        nasc_rt_v16 x1 = *(const nasc_rt_v16u *)(x + i * hw + 16);\n"                    \
    "        float s;\n"                                                                      \
    PRE                                                                                       \
    PV_EACH(PV_FMA)                                                                           \
    "    }\n"                                                                                 \
    PV_EACH(PV_STORE)                                                                         \
    "}\n"                                                                                     \
    "#endif\n"

const char cg_k_pw_tile12[] = K_PW_TILE12("", "");

/* The same on 16 positions (12 accumulators, still 12 independent chains
 * for the FMA latency): the drivers' last column block when it has at most
 * 16 new positions (14x14: 196 = 6 x 32 + 4; 28x28: 784 = 24 x 32 + 16),
 * instead of a 32-wide tile moved back over the one before. DARTS ImageNet
 * (run_so, gcc): ~1 % faster. */
#define PV_INIT16(r) PV_WROW(r) PV_ACC16(r)
#define PV_FMA16(r) "        a" #r " += w" #r "[i] * x0;\n"
#define PV_STORE16(r) "    *(nasc_rt_v16u *)(y + " #r " * ys) = a" #r ";\n"
const char cg_k_pw_tile12_16[] =
    "#ifdef NASC_RT_VEC\n"
    "/* y[o0..o0+12, j..j+16): nasc_rt_pw_tile12 on 16 positions. */\n"
    "__attribute__((noinline)) NASC_RT_W512\n"
    "static void nasc_rt_pw_tile12_16(const float *restrict x, const float *restrict w,\n"
    "        const float *restrict b, float *restrict y, int c, int hw, int ys)\n"
    "{\n"
    "    const nasc_rt_v16 z = {0};\n"
    PV_EACH(PV_INIT16)
    "    for (int i = 0; i < c; i++) {\n"
    "        nasc_rt_v16 x0 = *(const nasc_rt_v16u *)(x + i * hw);\n"
    PV_EACH(PV_FMA16)
    "    }\n"
    PV_EACH(PV_STORE16)
    "}\n"
    "#endif\n";
const char cg_k_pw_tile12_pre[] = K_PW_TILE12("_pre", PV_RELU("x0") PV_RELU("x1"));

/* The two tiles on weights packed [oc / 12][c][12] (emit_c_pwp.c): input
 * channel i's 12 weights are one run wp[12 i .. 12 i + 12), so the 12
 * broadcasts read one 48-byte run instead of 12 rows c floats apart, and the
 * 17-position tile can load them as one vector. */
#define PP_FMA(r) "        s = wi[" #r "], a" #r "_0 += s * x0, a" #r "_1 += s * x1;\n"
#define PP_FMA17(r) "        a" #r " += wi[" #r "] * x0;\n"
const char cg_k_pwp_tile12[] =
    "#ifdef NASC_RT_VEC\n"
    "/* y[0..12, 0..32) of a pointwise convolution on packed weights wp (12 per\n"
    " * input channel); rows of x are xs floats apart, of y ys. nw: the next\n"
    " * tile's weights, prefetched (or NULL). */\n"
    "__attribute__((noinline)) NASC_RT_W512\n"
    "static void nasc_rt_pwp_tile12(const float *restrict x, const float *restrict wp,\n"
    "        const float *restrict b, float *restrict y, int c, int xs, int ys,\n"
    "        const float *nw)\n"
    "{\n"
    "    const nasc_rt_v16 z = {0};\n"
    PV_EACH(PV_ACC)
    "    if (!nw)\n"
    "        nw = wp; /* a harmless hint: this tile's own weights */\n"
    "    for (int i = 0; i < c; i++) {\n"
    "        const float *wi = wp + 12 * i;\n"
    "        NASC_RT_PREFETCH(nw + 12 * i);\n"
    "        nasc_rt_v16 x0 = *(const nasc_rt_v16u *)(x + i * xs);\n"
    "        nasc_rt_v16 x1 = *(const nasc_rt_v16u *)(x + i * xs + 16);\n"
    "        float s;\n"
    PV_EACH(PP_FMA)
    "    }\n"
    PV_EACH(PV_STORE)
    "}\n"
    "#endif\n";

/* 17 positions: 16 as the lanes of 12 accumulators, the 17th as one more
 * accumulator whose lanes are the 12 output channels (input channel i adds
 * x[i, 16] times its 12 packed weights, loaded as one vector). Per input
 * channel 13 multiply-adds and 15 loads, against 24 and 14 for the 32-wide
 * tile a 49-position map otherwise ends with (moved back over 15 done
 * positions). The column's 16-lane load reads 4 floats past the 12 (the
 * next channel's, or the array's 4 floats of padding); lanes 12..15 are
 * never stored. */
const char cg_k_pwp_tile12_17[] =
    "#ifdef NASC_RT_VEC\n"
    "/* y[0..12, 0..17) as nasc_rt_pwp_tile12: positions 0..15 as lanes, position\n"
    " * 16 in ac, whose lanes are the output channels. */\n"
    "__attribute__((noinline)) NASC_RT_W512\n"
    "static void nasc_rt_pwp_tile12_17(const float *restrict x, const float *restrict wp,\n"
    "        const float *restrict b, float *restrict y, int c, int xs, int ys)\n"
    "{\n"
    "    const nasc_rt_v16 z = {0};\n"
    PV_EACH(PV_ACC16)
    "    nasc_rt_v16 ac = z;\n"
    "    for (int r = 0; b && r < 12; r++)\n"
    "        ac[r] = b[r];\n"
    "    for (int i = 0; i < c; i++) {\n"
    "        const float *wi = wp + 12 * i;\n"
    "        nasc_rt_v16 x0 = *(const nasc_rt_v16u *)(x + i * xs);\n"
    PV_EACH(PP_FMA17)
    "        ac += x[i * xs + 16] * *(const nasc_rt_v16u *)wi;\n"
    "    }\n"
    PV_EACH(PV_STORE16)
    "    for (int r = 0; r < 12; r++)\n"
    "        y[r * ys + 16] = ac[r];\n"
    "}\n"
    "#endif\n";

/* Depthwise 3x3, stride 1, dilation D (both axes), "same" pads (D on every
 * side) on maps 4..32 wide and more than 2D high, called first by
 * nasc_rt_dw3s1d1 / dw3s1d2 (emit_c_dw.c), which run their own loops when
 * it returns 0.
 *
 * Why: the kernels before these staged each plane zero-padded into a
 * stack buffer, row by row. gcc made every row copy a memcpy call: ~180 000
 * calls per DARTS ImageNet inference (rows counted), 5.8 % of its time in
 * memcpy beside 11 % in the kernels (perf). These read each input row once, straight from x, as NCH
 * vectors v<k> of L lanes (the last one ANDed with a mask of the lanes
 * inside the row), and make the column shifts -D and +D (lf<k>, rt<k>) with
 * two-input shuffles against a zero vector, so the left and right padding
 * is in registers. Input row r then adds its three taps of row ky to the
 * accumulators of output rows r + D (ky 0, started from the bias), r (ky 1)
 * and r - D (ky 2, then stored): a<j>_<k> holds output row r - D + j, and
 * the 2D + 1 rows rotate by assignment. They are named variables, not an
 * array: gcc kept an array of them on the stack (perf: the 2x16 kernel took
 * 5.1 % of the net with the array, 3.3 % with named variables).
 * DARTS ImageNet, gcc 12 -O3 -march=native: 8.98 -> 8.60 ms per inference.
 *
 * Each output is bias + the 9 taps in (ky, kx) order, as the portable
 * kernel; taps in the padding columns add w * 0. The rows above and below
 * the map add nothing to a vector: their w * 0 terms are summed in a float
 * first (top) or added as one float each (bottom), the same values, so the
 * outputs equal the portable kernel's bit for bit (`codegen.dw_kernels_*`).
 * A row is stored as whole vectors: the lanes past the row spill into the
 * next row, stored later; the last row of the last plane is stored lane by
 * lane, and read through a zeroed copy so no load passes the end of x. */
#define DWR_EACH1(M) M("0")
#define DWR_EACH2(M) M("0") M("1")
/* The last vector of row r: masked, or for the call's last row a copy. */
#define DWR_LAST(k, OFF)                                                                    \
    "            if (nc == last && r == h - 1) {\n"                                           \
    "                float t[L] = {0};\n"                                                     \
    "                for (int l = 0; l < tail; l++)\n"                                        \
    "                    t[l] = xr[" OFF " + l];\n"                                           \
    "                v" k " = *(const vtu *)t;\n"                                             \
    "            } else {\n"                                                                  \
    "                v" k " = (vt)((vti) * (const vtu *)(xr + " OFF ") & m);\n"               \
    "            }\n"
#define DWR_LOAD1(EXT)                                                                      \
    "            vt v0;\n"                                                                    \
    DWR_LAST("0", "0")                                                                        \
    "            vt lf0 = " EXT "(z, v0, L - D), rt0 = " EXT "(v0, z, D);\n"
#define DWR_LOAD2(EXT)                                                                      \
    "            vt v0 = *(const vtu *)xr, v1;\n"                                             \
    DWR_LAST("1", "L")                                                                        \
    "            vt lf0 = " EXT "(z, v0, L - D), lf1 = " EXT "(v0, v1, L - D);\n"             \
    "            vt rt0 = " EXT "(v0, v1, D), rt1 = " EXT "(v1, z, D);\n"
/* Chunk k's taps; MID and NEW: the accumulators of output rows r and r + D. */
#define DWR_TAPS(k, MID, NEW)                                                               \
    "            " NEW "_" k " = z + bias;\n"                                                 \
    "            " NEW "_" k " += w0 * lf" k ";\n"                                            \
    "            " NEW "_" k " += w1 * v" k ";\n"                                             \
    "            " NEW "_" k " += w2 * rt" k ";\n"                                            \
    "            " MID "_" k " += w3 * lf" k ";\n"                                            \
    "            " MID "_" k " += w4 * v" k ";\n"                                             \
    "            " MID "_" k " += w5 * rt" k ";\n"                                            \
    "            a0_" k " += w6 * lf" k ";\n"                                                 \
    "            a0_" k " += w7 * v" k ";\n"                                                  \
    "            a0_" k " += w8 * rt" k ";\n"
#define DWR_TAPS_D1(k) DWR_TAPS(k, "a1", "a2")
#define DWR_TAPS_D2(k) DWR_TAPS(k, "a2", "a4")
#define DWR_STORE(k) "                *(vtu *)(yc + (r - D) * wd + " k " * L) = a0_" k ";\n"
#define DWR_DECL_D1(k) "        vt a0_" k " = z + top, a1_" k " = a0_" k ", a2_" k " = z;\n"
#define DWR_DECL_D2(k)                                                                      \
    "        vt a0_" k " = z + top, a1_" k " = a0_" k ", a2_" k " = a0_" k ", a3_" k            \
    " = a0_" k ", a4_" k " = z;\n"
#define DWR_ROT_D1(k) "            a0_" k " = a1_" k ", a1_" k " = a2_" k ";\n"
#define DWR_ROT_D2(k)                                                                       \
    "            a0_" k " = a1_" k ", a1_" k " = a2_" k ", a2_" k " = a3_" k ", a3_" k        \
    " = a4_" k ";\n"
#define DWR_FIN_D1(k) "        fin[0][" k "] = a0_" k ";\n"
#define DWR_FIN_D2(k) "        fin[0][" k "] = a0_" k ", fin[1][" k "] = a1_" k ";\n"
#define K_DWR(NAME, VT, VTU, VI, EXT, L, NCH, D)                                             \
    "__attribute__((noinline)) NASC_RT_W512\n"                                              \
    "static void " NAME "(const float *restrict x, const float *restrict w,\n"              \
    "        const float *restrict b, float *restrict y, const nasc_rt_conv_p *p)\n"         \
    "{\n"                                                                                     \
    "    typedef " VT " vt;\n"                                                                \
    "    typedef " VTU " vtu;\n"                                                              \
    "    typedef " VI " vti;\n"                                                               \
    "    enum { L = " #L ", NCH = " #NCH ", D = " #D " };\n"                                    \
    "    int wd = p->w, h = p->h, hw = h * wd, last = p->n * p->c - 1;\n"                     \
    "    int tail = wd - (NCH - 1) * L; /* lanes of the last vector inside the row */\n"     \
    "    const vt z = {0};\n"                                                                 \
    "    vti m;\n"                                                                            \
    "    for (int l = 0; l < L; l++)\n"                                                       \
    "        m[l] = l < tail ? -1 : 0;\n"                                                     \
    "    for (int nc = 0; nc <= last; nc++) {\n"                                              \
    "        const float *xc = x + nc * hw, *wk = w + nc % p->c * 9;\n"                       \
    "        float *yc = y + nc * hw;\n"                                                      \
    "        float w0 = wk[0], w1 = wk[1], w2 = wk[2], w3 = wk[3], w4 = wk[4];\n"             \
    "        float w5 = wk[5], w6 = wk[6], w7 = wk[7], w8 = wk[8];\n"                         \
    "        float bias = b ? b[nc % p->c] : 0.0f, top = bias;\n"                             \
    "        top += w0 * 0.0f;\n"                                                             \
    "        top += w1 * 0.0f;\n"                                                             \
    "        top += w2 * 0.0f;\n"                                                             \
    DWR_EACH##NCH(DWR_DECL_D##D)                                                              \
    "        for (int r = 0; r < h; r++) {\n"                                                 \
    "            const float *xr = xc + r * wd;\n"                                            \
    DWR_LOAD##NCH(EXT)                                                                        \
    DWR_EACH##NCH(DWR_TAPS_D##D)                                                              \
    "            if (r >= D) {\n"                                                             \
    DWR_EACH##NCH(DWR_STORE)                                                                  \
    "            }\n"                                                                         \
    DWR_EACH##NCH(DWR_ROT_D##D)                                                               \
    "        }\n"                                                                             \
    "        vt fin[D][NCH]; /* output rows h - D .. h - 1 */\n"                              \
    DWR_EACH##NCH(DWR_FIN_D##D)                                                               \
    "        float b6 = w6 * 0.0f, b7 = w7 * 0.0f, b8 = w8 * 0.0f; /* rows below the map */\n" \
    "        for (int j = 0; j < D; j++)\n"                                                   \
    "            for (int k = 0; k < NCH; k++) {\n"                                           \
    "                vt a = fin[j][k];\n"                                                     \
    "                a += b6;\n"                                                              \
    "                a += b7;\n"                                                              \
    "                a += b8;\n"                                                              \
    "                float *yr = yc + (h - D + j) * wd + k * L;\n"                            \
    "                if (nc == last && j == D - 1 && k == NCH - 1)\n"                         \
    "                    for (int l = 0; l < tail; l++)\n"                                    \
    "                        yr[l] = a[l];\n"                                                 \
    "                else\n"                                                                  \
    "                    *(vtu *)yr = a;\n"                                                   \
    "            }\n"                                                                         \
    "    }\n"                                                                                 \
    "}\n"
#define K_DWR_D(D)                                                                          \
    K_DWR("nasc_rt_dwr_8x1_d" #D, "nasc_rt_v8", "nasc_rt_v8u", "nasc_rt_v8i",                 \
          "NASC_RT_EXT8", 8, 1, D)                                                          \
    K_DWR("nasc_rt_dwr_16x1_d" #D, "nasc_rt_v16", "nasc_rt_v16u", "nasc_rt_v16i",             \
          "NASC_RT_EXT16", 16, 1, D)                                                        \
    K_DWR("nasc_rt_dwr_16x2_d" #D, "nasc_rt_v16", "nasc_rt_v16u", "nasc_rt_v16i",             \
          "NASC_RT_EXT16", 16, 2, D)

/* Rows of 4..8 floats: one 8-lane vector; 9..16: one 16-lane; 17..32: two. */
const char cg_k_dwv3[] =
    "#ifdef NASC_RT_VEC\n"
    K_DWR_D(1) K_DWR_D(2)
    "/* Runs depthwise 3x3 stride 1 dilation d with the vector kernels above and\n"
    " * returns 1, or returns 0 for a geometry they do not take (see them). */\n"
    "static int nasc_rt_dwv3(const float *restrict x, const float *restrict w,\n"
    "        const float *restrict b, float *restrict y, const nasc_rt_conv_p *p, int d)\n"
    "{\n"
    "    int wd = p->w;\n"
    "    if (p->kh != 3 || p->kw != 3 || p->sh != 1 || p->sw != 1 || p->pt != d ||\n"
    "        p->pl != d || p->oh != p->h || p->ow != wd || wd < 4 || wd > 32 ||\n"
    "        p->h <= 2 * d || (d != 1 && d != 2))\n"
    "        return 0;\n"
    "    if (wd <= 8)\n"
    "        (d == 1 ? nasc_rt_dwr_8x1_d1 : nasc_rt_dwr_8x1_d2)(x, w, b, y, p);\n"
    "    else if (wd <= 16)\n"
    "        (d == 1 ? nasc_rt_dwr_16x1_d1 : nasc_rt_dwr_16x1_d2)(x, w, b, y, p);\n"
    "    else\n"
    "        (d == 1 ? nasc_rt_dwr_16x2_d1 : nasc_rt_dwr_16x2_d2)(x, w, b, y, p);\n"
    "    return 1;\n"
    "}\n"
    "#endif\n";

/* Dense convolution (groups 1, horizontal stride 2) as a GEMM through the
 * 12-channel pointwise tile: per block of 32 output positions (along the
 * flattened oh x ow map; the last block moved back to end at oh * ow), the
 * block's input patches are gathered into col[k][32], k = (c, ky, kx) in
 * that order with zeros for padding, and every 12 output channels run
 * nasc_rt_pw_tile12 on it with K = c kh kw "input channels"; the weights
 * [oc, c, kh, kw] are already its rows. Each output is bias + the taps in
 * (c, ky, kx) order (padding taps add w * 0), the register-blocked
 * kernel's order. Why: DARTS ImageNet's stems (3 -> 24, 24 -> 48, 48 -> 48,
 * all stride 2) ran at 37-70 GFLOP/s in the direct and packed kernels, a
 * sixth of the net's time; the tile runs K = 216 and 432 at ~150. The
 * emitter takes it on the host target for oc % 12 == 0, 27 <= K <= 512
 * (col is 96 KiB: rows of 48 floats) and >= 32 output positions
 * (dense_kernel, emit_c_ops.c); without NASC_RT_VEC it is the
 * register-blocked stride-2 kernel and the epilogue.
 *
 * The gather takes each tap row of a run of positions within one output
 * row (the run's x[ix + 2 t]) as whole vectors, two loads and one even-lane
 * shuffle per 16 positions, when the run is inside the input; the lanes past
 * the run land in the next run's place (written after it) or in the row's 16
 * spare floats, and the reads past it stay in the plane (checked). Runs that
 * touch the padding take the scalar loops. Loops run tap-outer, channel-
 * inner, so the bounds are worked out once per tap. DARTS ImageNet's three
 * stems alone (run_so): 1.21 -> 1.00 ms; the gather had been 0.47 of it
 * (scalar loops with variable trip counts for runs of 8-32 positions). */
#define K_I2C(SFX, WHAT, OTHER)                                                            \
    "/* " WHAT " with a horizontal stride of 2 and oc % 12 == 0 as a GEMM of\n"             \
    " * gathered patches through nasc_rt_pw_tile12 (AVX-512 hosts), else\n"                 \
    " * nasc_rt_" OTHER "; then + r and relu when set. */\n"                                \
    "NASC_RT_W512\n"                                                                        \
    "static void nasc_rt_i2c_" SFX "(const float *restrict x, const float *restrict w,\n"   \
    "        const float *restrict b, const float *restrict r, float *restrict y,\n"        \
    "        const nasc_rt_conv_p *p, int relu)\n"                                          \
    "{\n"                                                                                   \
    "#ifdef NASC_RT_VEC\n"                                                                  \
    "    float col[512 * 48];\n"                                                            \
    "    (void)nasc_rt_" OTHER "; /* the other path's kernel: not unused */\n"              \
    "    int kk = p->c * p->kh * p->kw, ohw = p->oh * p->ow, hw = p->h * p->w;\n"           \
    "    for (int n = 0; n < p->n; n++) {\n"                                                \
    "        const float *xn = x + n * p->c * hw;\n"                                        \
    "        float *yn = y + n * p->oc * ohw;\n"                                            \
    "        for (int j0 = 0; j0 < ohw; j0 += 32) {\n"                                      \
    "            int j = j0 + 32 <= ohw ? j0 : ohw - 32;\n"                                 \
    "            for (int q = 0; q < 32;) { /* one run of positions within a row */\n"      \
    "                int oy = (j + q) / p->ow, ox = (j + q) % p->ow;\n"                     \
    "                int len = p->ow - ox < 32 - q ? p->ow - ox : 32 - q, nv = (len + 15) / 16;\n" \
    "                for (int ky = 0; ky < p->kh; ky++)\n"                                  \
    "                    for (int kx = 0; kx < p->kw; kx++) {\n"                          \
    "                        int iy = oy * p->sh - p->pt + ky * p->dh;\n"                 \
    "                        int in = iy >= 0 && iy < p->h;\n"                              \
    "                        int ix = ox * 2 - p->pl + kx * p->dw, at = iy * p->w + ix;\n"   \
    "                        /* whole vectors: the row is inside, and so are the reads past\n" \
    "                         * it (in the plane; the lanes past len are not used) */\n"   \
    "                        int whole = in && ix >= 0 && ix + 2 * (len - 1) < p->w &&\n"   \
    "                                    at + 32 * nv <= hw;\n"                            \
    "                        /* else [t0, t1): the t with 0 <= ix + 2 t < w */\n"          \
    "                        int t0 = ix < 0 ? (1 - ix) / 2 : 0, t1 = (p->w - ix + 1) / 2;\n" \
    "                        t1 = !in || t1 < 0 ? 0 : t1 < len ? t1 : len;\n"              \
    "                        t0 = t0 < t1 ? t0 : t1;\n"                                     \
    "                        for (int ci = 0; ci < p->c; ci++) {\n"                        \
    "                            float *d = col + ((ci * p->kh + ky) * p->kw + kx) * 48 + q;\n" \
    "                            const float *xr = xn + ci * hw + (in ? iy : 0) * p->w;\n"  \
    "                            for (int v = 0; whole && v < nv; v++) {\n"                \
    "                                const float *s = xr + ix + 32 * v;\n"                 \
    "                                nasc_rt_v16 a = *(const nasc_rt_v16u *)s;\n"          \
    "                                nasc_rt_v16 e = *(const nasc_rt_v16u *)(s + 16);\n"   \
    "                                *(nasc_rt_v16u *)(d + 16 * v) = NASC_RT_EVEN16(a, e);\n" \
    "                            }\n"                                                       \
    "                            for (int t = 0; !whole && t < t0; t++)\n"                 \
    "                                d[t] = 0.0f;\n"                                        \
    "                            for (int t = t0; !whole && t < t1; t++)\n"                \
    "                                d[t] = xr[ix + 2 * t];\n"                              \
    "                            for (int t = t1; !whole && t < len; t++)\n"               \
    "                                d[t] = 0.0f;\n"                                        \
    "                        }\n"                                                           \
    "                    }\n"                                                               \
    "                q += len;\n"                                                           \
    "            }\n"                                                                       \
    "            for (int o = 0; o < p->oc; o += 12) {\n"                                   \
    "                nasc_rt_pw_tile12(col, w + o * kk, b ? b + o : b, yn + o * ohw + j,\n"   \
    "                                  kk, 48, ohw, NULL);\n"                              \
    "                for (int q = 0; q < 12; q++)\n"                                        \
    "                    nasc_rt_epilogue(yn + (o + q) * ohw + j,\n"                        \
    "                                     r ? r + (n * p->oc + o + q) * ohw + j : r, relu, 32);\n" \
    "            }\n"                                                                       \
    "        }\n"                                                                           \
    "    }\n"                                                                               \
    "#else\n"                                                                               \
    "    nasc_rt_" OTHER "(x, w, b, y, p);\n"                                               \
    "    if (r || relu)\n"                                                                  \
    "        nasc_rt_epilogue(y, r, relu, p->n * p->oc * p->oh * p->ow);\n"                 \
    "#endif\n"                                                                              \
    "}\n"

/* Without NASC_RT_VEC: the register-blocked stride-2 kernel. (A strided 1x1
 * would take nasc_rt_pw_strided as OTHER; measured, it gained nothing.) */
const char cg_k_i2c_s2[] = K_I2C("s2", "Dense convolution", "dconv_s2");
