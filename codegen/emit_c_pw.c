/* emit_c_pw.c — the strided pointwise kernel pasted into emitted C files
 * (1x1 filter, groups 1, no padding, any stride but 1 x 1).
 *
 * DARTS' FactorizedReduce (the preprocess0 of every cell after a reduction
 * cell) is two 1x1 stride-2 convolutions. The dense stride-2 kernel ran them
 * at 7-14 GFLOP/s on DARTS ImageNet (0.5 ms each at cell 10, 384 -> 96
 * channels on 7x7): its edge blocks restage every input channel for each
 * block of 8 output channels and 16 columns, and a 7-wide map fills 7 of
 * the 16 lanes. Here the input is gathered once per block of 32 output
 * positions (any positions: the block runs along the flattened oh x ow map,
 * so 7x7 is 2 blocks) and 16 input channels into a 2 KiB stack buffer, and
 * every block of 8 output channels then runs unit-stride from it: 8 x 32
 * accumulators (sixteen zmm registers with 512-bit vectors), eight broadcast
 * weights and two vector loads per input channel, as nasc_rt_dc_tile.
 *
 * The accumulators go back to y between chunks of 16 input channels (a
 * float store is exact), so each output is still bias + w[o,0] x[0] +
 * w[o,1] x[1] + ... in channel order, the generic kernel's order. A last
 * block of fewer than 8 output channels repeats its last channel (loaded
 * before anything is stored, so the copies compute and store the same
 * value); a last block of positions is moved back to end at oh * ow, and
 * its overlap, already final, is recomputed from the bias exactly as before.
 * Maps of fewer than 32 positions repeat the last one in the unused lanes
 * and store only the real ones. Frames: 2 KiB of staging, 1 KiB of
 * accumulators where they do not fit registers (Cortex-M).
 */
#include "internal.h"

/* one line of text per output channel n of a block (0..7) */
#define PS_EACH(F) F(0) F(1) F(2) F(3) F(4) F(5) F(6) F(7)
#define PS_DECL(n)                                                                          \
    "    int c" #n " = o0 + (" #n " < no ? " #n " : no - 1);\n"                             \
    "    const float *restrict w" #n " = w + c" #n " * c;\n"                                \
    "    int r" #n " = c" #n " * ohw; /* y row, maybe a repeated one */\n"                   \
    "    float a" #n "[32];\n"
#define PS_BIAS(n) "            a" #n "[j] = b ? b[c" #n "] : 0.0f;\n"
#define PS_LOAD(n) "            a" #n "[j] = y[r" #n " + j];\n"
#define PS_LOADN(n) "            a" #n "[j] = y[r" #n " + k];\n"
#define PS_WEIGHT(n) "        float v" #n " = w" #n "[i];\n"
#define PS_FMA(n) "            a" #n "[j] += v" #n " * u;\n"
#define PS_STORE(n) "            y[r" #n " + j] = a" #n "[j];\n"

#define PS_TILE                                                                             \
    "/* Output channels [o0, o0 + no) (no <= 8; the last one repeated up to 8) at the\n"    \
    " * np <= 32 positions y[0, np) of a strided pointwise convolution, over the ni\n"      \
    " * staged input channels xs[i][32] whose weights start at w[., 0]: from the\n"         \
    " * bias when first is set, else from the partial sums in y. Rows of w are c\n"        \
    " * floats apart, of y ohw. */\n"                                                       \
    "static void nasc_rt_pws_tile(const float *restrict xs, const float *restrict w,\n"     \
    "        const float *restrict b, float *restrict y, int c, int ohw, int o0, int no,\n" \
    "        int ni, int np, int first)\n"                                                  \
    "{\n"                                                                                   \
    PS_EACH(PS_DECL)                                                                        \
    "    if (first)\n"                                                                      \
    "        for (int j = 0; j < 32; j++) {\n"                                              \
    PS_EACH(PS_BIAS)                                                                        \
    "        }\n"                                                                           \
    "    else if (np == 32)\n"                                                              \
    "        for (int j = 0; j < 32; j++) {\n"                                              \
    PS_EACH(PS_LOAD)                                                                        \
    "        }\n"                                                                           \
    "    else\n"                                                                            \
    "        for (int j = 0; j < 32; j++) {\n"                                              \
    "            int k = j < np ? j : np - 1;\n"                                            \
    PS_EACH(PS_LOADN)                                                                       \
    "        }\n"                                                                           \
    "    for (int i = 0; i < ni; i++) {\n"                                                  \
    "        const float *restrict xi = xs + i * 32;\n"                                     \
    PS_EACH(PS_WEIGHT)                                                                      \
    "        for (int j = 0; j < 32; j++) {\n"                                              \
    "            float u = xi[j];\n"                                                        \
    PS_EACH(PS_FMA)                                                                         \
    "        }\n"                                                                           \
    "    }\n"                                                                               \
    "    if (np == 32)\n"                                                                   \
    "        for (int j = 0; j < 32; j++) {\n"                                              \
    PS_EACH(PS_STORE)                                                                       \
    "        }\n"                                                                           \
    "    else\n"                                                                            \
    "        for (int j = 0; j < np; j++) {\n"                                              \
    PS_EACH(PS_STORE)                                                                       \
    "        }\n"                                                                           \
    "}\n"                                                                                   \
    "\n"

#define PS_DRIVER                                                                           \
    "/* Pointwise convolution with strides sh, sw and no padding (groups 1, 1x1\n"          \
    " * filter); b may be NULL. Pads pt, pl <= 0 only when a crop of x was folded\n"      \
    " * in: output (i, j) reads x[i sh - pt, j sw - pl]. Blocks of 32 output\n"           \
    " * positions along the flattened map, their inputs gathered 16 channels at a\n"      \
    " * time; see nasc_rt_pws_tile. */\n"                                                 \
    "static void nasc_rt_pw_strided(const float *restrict x, const float *restrict w,\n"   \
    "        const float *restrict b, float *restrict y, const nasc_rt_conv_p *p)\n"        \
    "{\n"                                                                                   \
    "    int hw = p->h * p->w, ohw = p->oh * p->ow, np = ohw < 32 ? ohw : 32;\n"            \
    "    float xs[16 * 32];\n"                                                              \
    "    int off[32];\n"                                                                    \
    "    for (int n = 0; n < p->n; n++) {\n"                                                \
    "        const float *restrict xn = x + n * p->c * hw;\n"                               \
    "        float *restrict yn = y + n * p->oc * ohw;\n"                                   \
    "        for (int j0 = 0; j0 < ohw; j0 += 32) {\n"                                      \
    "            int j = j0 + np <= ohw ? j0 : ohw - np;\n"                                 \
    "            for (int q = 0; q < 32; q++) {\n"                                          \
    "                int t = j + (q < np ? q : np - 1);\n"                                  \
    "                off[q] = (t / p->ow * p->sh - p->pt) * p->w + t % p->ow * p->sw -\n"  \
    "                         p->pl;\n"                                                    \
    "            }\n"                                                                       \
    "            for (int i0 = 0; i0 < p->c; i0 += 16) {\n"                                 \
    "                int ni = p->c - i0 < 16 ? p->c - i0 : 16;\n"                           \
    "                for (int i = 0; i < ni; i++) {\n"                                      \
    "                    const float *restrict xi = xn + (i0 + i) * hw;\n"                  \
    "                    for (int q = 0; q < 32; q++)\n"                                    \
    "                        xs[i * 32 + q] = xi[off[q]];\n"                                \
    "                }\n"                                                                   \
    "                for (int o = 0; o < p->oc; o += 8)\n"                                  \
    "                    nasc_rt_pws_tile(xs, w + i0, b, yn + j, p->c, ohw, o,\n"           \
    "                                     p->oc - o < 8 ? p->oc - o : 8, ni, np, i0 == 0);\n" \
    "            }\n"                                                                       \
    "        }\n"                                                                           \
    "    }\n"                                                                               \
    "}\n"

const char cg_k_pw_strided[] = PS_TILE PS_DRIVER;


/* On AVX-512 hosts (NASC_RT_VEC) a strided pointwise conv with oc % 12 == 0,
 * c <= 1024 and >= 32 output positions gathers, per block of 32 output
 * positions (the last moved back, or 16 wide when it has at most 16 new
 * ones, as nasc_rt_conv2d_1x1's drivers), all c input channels into
 * col[c][32] (128 KiB of stack at most) and runs the pointwise 12-channel
 * tiles on it: each output is bias + w[o,0] x[0] + ... in channel order, as
 * above, so the same floats (codegen.emit_cc: memcmp against the portable
 * build, which runs nasc_rt_pw_strided). Why: DARTS ImageNet's
 * FactorizedReduce convs ran at ~45 GFLOP/s here (4.3 % of the net's time,
 * perf); through the tiles 2.6 %, the net 9.33 -> 9.14 ms (run_so, gcc). */
const char cg_k_pw_s2g[] =
    "/* nasc_rt_pw_strided through the pointwise tiles on AVX-512 hosts: the\n"
    " * inputs of 32 output positions gathered into col[c][32] (c <= 1024,\n"
    " * oc % 12 == 0, oh * ow >= 32; emit_c_pw.c). */\n"
    "static void nasc_rt_pw_s2g(const float *restrict x, const float *restrict w,\n"
    "        const float *restrict b, float *restrict y, const nasc_rt_conv_p *p)\n"
    "{\n"
    "#ifdef NASC_RT_VEC\n"
    "    int hw = p->h * p->w, ohw = p->oh * p->ow, c = p->c;\n"
    "    float col[1024 * 32];\n"
    "    int off[32];\n"
    "    (void)nasc_rt_pw_strided; /* the other path's kernel: not unused */\n"
    "    for (int n = 0; n < p->n; n++) {\n"
    "        const float *restrict xn = x + n * c * hw;\n"
    "        float *restrict yn = y + n * p->oc * ohw;\n"
    "        for (int j0 = 0; j0 < ohw; j0 += 32) {\n"
    "            int j = j0 + 32 <= ohw ? j0 : ohw - 32;\n"
    "            int nt = ohw - j0 <= 16 ? 16 : 32, jt = j + 32 - nt; /* [jt, jt + nt) */\n"
    "            for (int q = 0; q < nt; q++) {\n"
    "                int t = jt + q;\n"
    "                off[q] = (t / p->ow * p->sh - p->pt) * p->w + t % p->ow * p->sw -\n"
    "                         p->pl;\n"
    "            }\n"
    "            for (int i = 0; i < c; i++)\n"
    "                for (int q = 0; q < nt; q++)\n"
    "                    col[i * 32 + q] = xn[i * hw + off[q]];\n"
    "            for (int o = 0; o < p->oc; o += 12) {\n"
    "                const float *nw = o + 12 < p->oc ? w + (o + 12) * c : NULL;\n"
    "                if (nt == 16)\n"
    "                    nasc_rt_pw_tile12_16(col, w + o * c, b ? b + o : b,\n"
    "                                         yn + o * ohw + jt, c, 32, ohw);\n"
    "                else\n"
    "                    nasc_rt_pw_tile12(col, w + o * c, b ? b + o : b, yn + o * ohw + jt,\n"
    "                                      c, 32, ohw, nw);\n"
    "            }\n"
    "        }\n"
    "    }\n"
    "#else\n"
    "    nasc_rt_pw_strided(x, w, b, y, p);\n"
    "#endif\n"
    "}\n";
