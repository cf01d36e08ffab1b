/* emit_c_dw.c — the depthwise convolution kernels pasted into emitted C
 * files: the generic one (any geometry, through nasc_rt_conv_plane) and the
 * specialised 3x3 / 5x5, stride 1 / 2, dilation 1 / 2 ones that run on
 * zero-padded row bands staged by nasc_rt_dw_stage. The same rules as
 * emit_c_kernels.c hold: C99 text copied verbatim, clean under the codegen
 * flags with gcc and clang, no libm, no globals, runtime/ref's semantics.
 */
#include "internal.h"

const char cg_k_dwconv2d[] =
    "/* Depthwise convolution (groups == c == oc): one filter per channel. */\n"
    "static void nasc_rt_dwconv2d(const float *x, const float *w, const float *b, float *y,\n"
    "                             const nasc_rt_conv_p *p)\n"
    "{\n"
    "    int hw = p->h * p->w, ohw = p->oh * p->ow, khw = p->kh * p->kw;\n"
    "    for (int n = 0; n < p->n; n++)\n"
    "        for (int ch = 0; ch < p->c; ch++) {\n"
    "            float *yo = y + (n * p->c + ch) * ohw;\n"
    "            float bias = b ? b[ch] : 0.0f;\n"
    "            for (int i = 0; i < ohw; i++)\n"
    "                yo[i] = bias;\n"
    "            nasc_rt_conv_plane(x + (n * p->c + ch) * hw, w + ch * khw, yo, p);\n"
    "        }\n"
    "}\n"
    ;

/* The specialised depthwise kernels (K_DW below) test no bounds per output:
 * they read zero-padded copies of the input rows, so each output row is one
 * branch-free, unit-stride loop over all K*K taps, which the compiler
 * vectorises at full width, and the border needs no path of its own (a
 * per-output border call with bounds tests took almost half the outputs of
 * an 8x8 map, and most of the time).
 *
 * - Each plane is computed in bands of output rows. Before a band,
 *   nasc_rt_dw_stage copies the padded rows it reads into a stack buffer of
 *   896 floats (3.5 KiB: firmware frames stay under 4 KiB), one after the
 *   other, S * half floats apart. Staging the whole band before computing it
 *   keeps the loads away from the stores that just wrote their data (a row
 *   read right after its copy stalls on store forwarding).
 * - The buffer is cleared once per call and every stage writes the same
 *   columns, those that exist in the input, so the padding stays zero.
 * - Stride 2: the even padded columns of a row go to [0, half), the odd ones
 *   to [half, 2 * half), so every tap is a unit-stride load from one phase.
 *   With an even dilation no tap reads an odd column or (from the band's
 *   first row) an odd row, and those are not staged.
 * - A row is computed over ow rounded up to a multiple of 8 when that adds
 *   at most a quarter (7 -> 8, 14 -> 16, 21 -> 24, 28 -> 32, 41 -> 48, not
 *   11 or 5), so no scalar remainder follows the vector loop: with 9 or 25
 *   taps per output it cost as much as the vector part on 7- to 28-wide maps.
 *   The extra outputs land at the start of the next row (or plane), which is
 *   computed later and overwrites them; only the call's last row stops at ow.
 * - Each output is bias + w[ky,kx] * x[...] in (ky, kx) order, as in
 *   nasc_rt_dwconv2d; a tap in the padding adds w * 0, which changes at most
 *   the sign of a zero.
 *
 * dw_kernel (emit_c_ops.c) keeps the generic kernel when the (K - 1) * D + 1
 * padded rows of one output row do not fit the buffer. */
const char cg_k_dw_stage[] =
    "/* Copies the padded rows r0, r0 + step, ... (< r1) of the plane xc into buf\n"
    " * for the nasc_rt_dw* kernels. Padded row r is input row r - pt (zero\n"
    " * outside the plane), padded column j input column j - pl; row r goes to\n"
    " * buf + (r - r0) * sw * half, its column j to index j / sw of phase j % sw,\n"
    " * which starts at phase * half; phases from nph on are not read. Only the\n"
    " * columns that exist in the input are written: the caller zeroed the rest.\n"
    " * [lo, hi) are the indices whose every phase exists; at stride 2 one more\n"
    " * odd column may start the row and one more even column end it.\n"
    " * Not inlined (GNU C): gcc 12 -O3 with AVX2 or AVX-512 vectorisation, inlining it\n"
    " * into a kernel specialised on constant shapes (ipa-cp), computed wrong\n"
    " * outputs (a 9x9 dilation-2 case: 3.5 off; -fno-inline, -fno-ipa-cp or\n"
    " * -fno-tree-loop-vectorize each fixed it; clang, -O2 and the sanitizers\n"
    " * were right; no undefined behaviour found). test_emit_c builds -O3\n"
    " * -march=native to keep that covered. */\n"
    "#if defined(__GNUC__)\n"
    "__attribute__((noinline))\n"
    "#endif\n"
    "static void nasc_rt_dw_stage(const float *restrict xc, float *restrict buf,\n"
    "                             const nasc_rt_conv_p *p, int r0, int r1, int step, int nph,\n"
    "                             int half, int span)\n"
    "{\n"
    "    int s = p->sw, pl = p->pl, cn = span - pl < p->w ? span - pl : p->w;\n"
    "    int lo = (pl + s - 1) / s, hi = (pl + cn) / s;\n"
    "    for (int r = r0; s == 1 && r < r1; r++) {\n"
    "        float *restrict d = buf + (r - r0) * half;\n"
    "        int iy = r - p->pt, base = iy * p->w - pl; /* xc index of padded column 0 */\n"
    "        if (iy < 0 || iy >= p->h)\n"
    "            for (int i = lo; i < hi; i++)\n"
    "                d[i] = 0.0f;\n"
    "        else\n"
    "            for (int i = lo; i < hi; i++)\n"
    "                d[i] = xc[base + i];\n"
    "    }\n"
    "    for (int r = r0; s == 2 && r < r1; r += step) {\n"
    "        float *restrict d = buf + (r - r0) * 2 * half, *restrict e = d + half;\n"
    "        int iy = r - p->pt, base = iy * p->w - pl, in = iy >= 0 && iy < p->h;\n"
    "        if (!in) {\n"
    "            for (int i = lo; i < hi; i++)\n"
    "                d[i] = 0.0f;\n"
    "            for (int i = lo; nph == 2 && i < hi; i++)\n"
    "                e[i] = 0.0f;\n"
    "        } else if (nph == 1) {\n"
    "            for (int i = lo; i < hi; i++)\n"
    "                d[i] = xc[base + 2 * i];\n"
    "        } else {\n"
    "            for (int i = lo; i < hi; i++)\n"
    "                d[i] = xc[base + 2 * i], e[i] = xc[base + 2 * i + 1];\n"
    "        }\n"
    "        if (nph == 2 && pl % 2 && cn > 0)\n"
    "            e[pl / 2] = in ? xc[base + pl] : 0.0f;\n"
    "        if ((pl + cn) % 2 && cn > 0)\n"
    "            d[(pl + cn) / 2] = in ? xc[base + pl + cn - 1] : 0.0f;\n"
    "    }\n"
    "}\n"
    ;

/* Depthwise K x K, stride S, dilation D (the same along both axes), as one
 * text with the constants pasted in; STEP and NPH are the row step and the
 * number of column phases staged: 2 and 1 for stride 2 with an even
 * dilation, else 1 and S. Pads: top and left from p, bottom and right
 * implied by oh, ow. */
#define K_DW(K, S, D, STEP, NPH, VEC)                                                       \
    "/* Depthwise " #K "x" #K ", stride " #S ", dilation " #D " (groups == c == oc) on\n"     \
    " * staged rows; see nasc_rt_dw_stage. */\n"                                              \
    "static void nasc_rt_dw" #K "s" #S "d" #D "(const float *restrict x,\n"                   \
    "        const float *restrict w, const float *restrict b, float *restrict y,\n"          \
    "        const nasc_rt_conv_p *p)\n"                                                      \
    "{\n"                                                                                     \
    VEC                                                                                       \
    "    int ow = p->ow, owr = (ow + 7) / 8 * 8, last = p->n * p->c - 1;\n"                    \
    "    if ((owr - ow) * 4 > ow)\n"                                                          \
    "        owr = ow; /* rows computed over owr columns: see the last row below */\n"        \
    "    int span = (owr - 1) * " #S " + (" #K " - 1) * " #D " + 1; /* padded columns */\n"    \
    "    int half = (span + " #S " - 1) / " #S ", rs = " #S " * half; /* floats per row */\n" \
    "    int band = (896 / rs - (" #K " - 1) * " #D " - 1) / " #S " + 1; /* nasc: >= 1 */\n"  \
    "    float buf[896];\n"                                                                   \
    "    for (int i = 0; i < 896; i++)\n"                                                     \
    "        buf[i] = 0.0f;\n"                                                                \
    "    for (int nc = 0; nc <= last; nc++) {\n"                                              \
    "        const float *restrict wk = w + nc % p->c * " #K " * " #K ";\n"                   \
    "        float *restrict yc = y + nc * p->oh * ow;\n"                                     \
    "        float bias = b ? b[nc % p->c] : 0.0f, wr[" #K " * " #K "];\n"                    \
    "        for (int t = 0; t < " #K " * " #K "; t++)\n"                                     \
    "            wr[t] = wk[t];\n"                                                            \
    "        for (int oy0 = 0; oy0 < p->oh; oy0 += band) {\n"                                 \
    "            int oy1 = oy0 + band < p->oh ? oy0 + band : p->oh;\n"                        \
    "            nasc_rt_dw_stage(x + nc * p->h * p->w, buf, p, oy0 * " #S ",\n"              \
    "                             (oy1 - 1) * " #S " + (" #K " - 1) * " #D " + 1, " #STEP ", " \
    #NPH ", half, span);\n"                                                                   \
    "            for (int oy = oy0; oy < oy1; oy++) {\n"                                      \
    "                const float *restrict br = buf + (oy - oy0) * " #S " * rs;\n"            \
    "                float *restrict yr = yc + oy * ow;\n"                                    \
    "                int n = nc == last && oy == p->oh - 1 ? ow : owr; /* not past y */\n"   \
    "                for (int ox = 0; ox < n; ox++) {\n"                                      \
    "                    float acc = bias;\n"                                                 \
    "                    for (int ky = 0; ky < " #K "; ky++)\n"                               \
    "                        for (int kx = 0; kx < " #K "; kx++)\n"                           \
    "                            acc += wr[ky * " #K " + kx] * br[ky * " #D " * rs + kx * "   \
    #D " % " #S " * half + ox + kx * " #D " / " #S "];\n"                                      \
    "                    yr[ox] = acc;\n"                                                     \
    "                }\n"                                                                     \
    "            }\n"                                                                         \
    "        }\n"                                                                             \
    "    }\n"                                                                                 \
    "}\n"

/* 3x3 stride 1: first the vector kernels on AVX-512 hosts (emit_c_vec.c). */
#define DWV3(D)                                                                             \
    "#ifdef NASC_RT_VEC\n"                                                                    \
    "    if (nasc_rt_dwv3(x, w, b, y, p, " #D "))\n"                                          \
    "        return;\n"                                                                       \
    "#endif\n"

const char cg_k_dw3s1d1[] = K_DW(3, 1, 1, 1, 1, DWV3(1));
const char cg_k_dw3s1d2[] = K_DW(3, 1, 2, 1, 1, DWV3(2));
const char cg_k_dw3s2d1[] = K_DW(3, 2, 1, 1, 2, "");
const char cg_k_dw3s2d2[] = K_DW(3, 2, 2, 2, 1, "");
const char cg_k_dw5s1d1[] = K_DW(5, 1, 1, 1, 1, "");
const char cg_k_dw5s1d2[] = K_DW(5, 1, 2, 1, 1, "");
const char cg_k_dw5s2d1[] = K_DW(5, 2, 1, 1, 2, "");
const char cg_k_dw5s2d2[] = K_DW(5, 2, 2, 2, 1, "");
