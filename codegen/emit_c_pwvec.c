/* emit_c_pwvec.c — the pointwise kernel's 12-channel tile in GNU C vector
 * types, pasted into emitted C files beside the portable tiles.
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
 * Only where it pays and is GNU C: the block below defines NASC_RT_PW_VEC
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

const char cg_k_pw_vec[] =
    "/* GNU C vector types for the pointwise tiles on AVX-512 hosts (see the\n"
    " * tile); define NASC_RT_PORTABLE to build the portable tiles instead. */\n"
    "#if defined(__GNUC__) && defined(__AVX512F__) && !defined(NASC_RT_PORTABLE)\n"
    "#define NASC_RT_PW_VEC 1\n"
    "typedef float nasc_rt_v16 __attribute__((vector_size(64)));\n"
    "typedef int nasc_rt_v16i __attribute__((vector_size(64)));\n"
    "typedef float nasc_rt_v16u __attribute__((vector_size(64), aligned(4), may_alias));\n"
    "#endif\n";

/* Twelve lines, one per channel r of the tile, of text T(r). */
#define PV_EACH(T) T(0) T(1) T(2) T(3) T(4) T(5) T(6) T(7) T(8) T(9) T(10) T(11)
#define PV_INIT(r)                                                                          \
    "    const float *w" #r " = w + " #r " * c;\n"                                          \
    "    nasc_rt_v16 a" #r "_0 = z + (b ? b[" #r "] : 0.0f), a" #r "_1 = a" #r "_0;\n"
#define PV_FMA(r)                                                                           \
    "        s = w" #r "[i], a" #r "_0 += s * x0, a" #r "_1 += s * x1;\n"
#define PV_STORE(r)                                                                         \
    "    *(nasc_rt_v16u *)(y + " #r " * hw) = a" #r "_0;\n"                                 \
    "    *(nasc_rt_v16u *)(y + " #r " * hw + 16) = a" #r "_1;\n"
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
    "#ifdef NASC_RT_PW_VEC\n"                                                                 \
    "/* y[o0..o0+12, j..j+32) of a pointwise convolution, as nasc_rt_pw_tile" SFX "\n"       \
    " * with 12 channels: 24 accumulators of 16 lanes, one variable each, so\n"               \
    " * they stay in registers. */\n"                                                         \
    "__attribute__((noinline))\n"                                                             \
    "static void nasc_rt_pw_tile12" SFX "(const float *restrict x, const float *restrict w,\n" \
    "        const float *restrict b, float *restrict y, int c, int hw, const float *nw)\n"  \
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
const char cg_k_pw_tile12_pre[] = K_PW_TILE12("_pre", PV_RELU("x0") PV_RELU("x1"));
