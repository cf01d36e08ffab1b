/* emit_c_wino.c — Winograd F(4x4, 3x3) and F(2x2, 3x3) for dense 3x3
 * stride-1 convolutions.
 *
 * Auto-DeepLab spends ~60 % of its multiply-adds in two dense 3x3 convs of
 * its decoder (304 -> 256 and 256 -> 256 channels on 81x81). Winograd
 * F(4x4, 3x3) computes a 4x4 output tile of one (input, output) channel
 * pair with 36 multiplies instead of 144: each 6x6 input patch d becomes
 * V = B^T d B, each filter g becomes U = G g G^T, the 36 points q of a tile
 * are 36 independent GEMMs M[q] = U[q] V[q] over the input channels, and
 * y = A^T M A. F(2x2, 3x3) (16 GEMMs per 2x2 tile) saves 2.25x instead of
 * 4x; F(6x6, 3x3) (5.06x) needs constants up to 32 and ~10x F(4x4)'s error.
 *
 * Points. F(4x4) interpolates at 0, 1, -1, 2, -1/2 and infinity instead of
 * the usual 0, +-1, +-2 (Lavin): with one large and one small point the
 * transformed values vary less in size, and the fp32 error on single convs
 * drops 2-3x (Barabasz et al. 2020 found this set best; measured here: the
 * Auto-DeepLab decoder shapes 4.7e-6 -> 1.6e-6 of max |y|, below the direct
 * kernel's 2.6e-6). B^T's rows are scaled to small integers (G takes the
 * inverse scale, exactly, in double), so the input transform rounds only in
 * its sums. F(2x2) uses 0, +-1, infinity: B^T and A^T of 0 and +-1.
 *
 * Weights: U is computed here, in double, and emitted as its own
 * `static const float wino_<weight name>[P * ocp * c]` (P = 36 or 16 points,
 * ocp = oc rounded up to 8, zero rows past oc), in the order the GEMM reads
 * it: [q][oc / 8][c][8], so one GEMM call streams 8 consecutive floats per
 * input channel. The untransformed weight array is then not emitted. Blob
 * mode adds it to the blob as a derived array, as BatchNorm scales are.
 *
 * Run time (nasc_rt_wino, either tile): tiles in blocks of 64 (row-major
 * over the tile grid), input channels in chunks of 64. Per block and chunk,
 * nasc_rt_wino4_in / wino2_in transforms the patches into v (P x 64 x 64
 * floats, with the 16-tile groups as vector lanes), then per 16 output
 * channels nasc_rt_wino_mm runs the P GEMMs (8 channels x 32 tiles of
 * accumulators in registers, as the dense tile; the two 8-channel halves
 * read the same v while it is in L1: ~10 % faster than one at a time) into
 * m (P x 16 x 64 floats) and nasc_rt_wino4_out / wino2_out transforms m back
 * into y (nasc_rt_wino_put): the first chunk writes bias + sum, later ones
 * add (the transforms are linear), the last adds the conv's fused addend
 * and relu. Chunks bound the scratch; 64 tiles per block make each U element
 * serve 64 tiles per load (with 32 the 304 -> 256 decoder conv ran ~3x
 * slower: U, 11 MB, streamed from L3 twice as often).
 *
 * Scratch: v and m are stack arrays, ~740 KiB in one frame. That needs a
 * host stack (8 MiB on Linux main threads and glibc threads; not musl's
 * 128 KiB default nor any firmware): only the host target without a flash
 * budget emits it (emit_c.c). The workspace could hold the scratch instead
 * once plan_memory plans per-node scratch.
 *
 * Error: the transforms and the GEMM sums round; tests/codegen/wino.c
 * measures single convs, wino_tile says what whole networks make of it.
 */
#include "internal.h"

const char cg_wino_stack_note[] =
    "/* Stack: its Winograd convolutions keep ~740 KiB of scratch on the\n"
    " * stack, so run it on a thread whose stack has 1 MiB or more (Linux main\n"
    " * threads and glibc threads have 8 MiB; musl threads 128 KiB), or emit\n"
    " * it with nasc compile --conv=direct. */\n";

const char cg_k_wino[] =
    "/* v[(q * nc + i) * 64 + k] = (B^T d B)[q] of the 6x6 input patch d of tile\n"
    " * t0 + k (row-major over the tile grid; past the last tile, the last again)\n"
    " * and channel i of x, padding read as zero. Gathered 16 tiles at a time so\n"
    " * the transform runs with the tiles as vector lanes. */\n"
    "static void nasc_rt_wino4_in(const float *restrict x, float *restrict v,\n"
    "        const nasc_rt_conv_p *p, int t0, int nc)\n"
    "{\n"
    "    int tw = (p->ow + 3) / 4, nt = tw * ((p->oh + 3) / 4), hw = p->h * p->w;\n"
    "    for (int k0 = 0; k0 < 64; k0 += 16) {\n"
    "        int off[16], lo[16], hi[16], inside = 1;\n"
    "        for (int l = 0; l < 16; l++) {\n"
    "            int t = t0 + k0 + l < nt ? t0 + k0 + l : nt - 1;\n"
    "            int iy = t / tw * 4 - p->pt, ix = t % tw * 4 - p->pl;\n"
    "            off[l] = iy * p->w + ix;\n"
    "            lo[l] = (iy < 0 ? -iy : 0) * 8 + (ix < 0 ? -ix : 0);\n"
    "            hi[l] = (p->h - iy < 6 ? p->h - iy : 6) * 8 + (p->w - ix < 6 ? p->w - ix : 6);\n"
    "            inside &= lo[l] == 0 && hi[l] == 6 * 8 + 6;\n"
    "        }\n"
    "        for (int i = 0; i < nc; i++) {\n"
    "            const float *restrict xc = x + i * hw;\n"
    "            float d[36][16], e[36][16];\n"
    "            for (int l = 0; l < 16; l++)\n"
    "                for (int a = 0; a < 6; a++)\n"
    "                    for (int j = 0; j < 6; j++)\n"
    "                        d[a * 6 + j][l] = inside || (a >= lo[l] / 8 && a < hi[l] / 8 &&\n"
    "                                                     j >= lo[l] % 8 && j < hi[l] % 8)\n"
    "                                          ? xc[off[l] + a * p->w + j] : 0.0f;\n"
    "            for (int j = 0; j < 6; j++)\n"
    "                for (int l = 0; l < 16; l++) {\n"
    "                    float d0 = d[j][l], d1 = d[6 + j][l], d2 = d[12 + j][l];\n"
    "                    float d3 = d[18 + j][l], d4 = d[24 + j][l], d5 = d[30 + j][l];\n"
    "                    e[j][l] = 2.0f * (d0 - 2.0f * d2 + d4) + 3.0f * (d1 - d3);\n"
    "                    e[6 + j][l] = 2.0f * (d1 - d4) + 5.0f * d2 + d3;\n"
    "                    e[12 + j][l] = 2.0f * (d1 + d4) + d2 - 5.0f * d3;\n"
    "                    e[18 + j][l] = 2.0f * (d4 - d2) + (d3 - d1);\n"
    "                    e[24 + j][l] = 2.0f * (d3 - d1) + (d2 - d4);\n"
    "                    e[30 + j][l] = 2.0f * (d1 - 2.0f * d3 + d5) + 3.0f * (d2 - d4);\n"
    "                }\n"
    "            float *restrict vi = v + i * 64 + k0;\n"
    "            int qs = nc * 64;\n"
    "            for (int a = 0; a < 6; a++)\n"
    "                for (int l = 0; l < 16; l++) {\n"
    "                    float g0 = e[a * 6][l], g1 = e[a * 6 + 1][l], g2 = e[a * 6 + 2][l];\n"
    "                    float g3 = e[a * 6 + 3][l], g4 = e[a * 6 + 4][l], g5 = e[a * 6 + 5][l];\n"
    "                    float *restrict va = vi + a * 6 * qs + l;\n"
    "                    va[0] = 2.0f * (g0 - 2.0f * g2 + g4) + 3.0f * (g1 - g3);\n"
    "                    va[qs] = 2.0f * (g1 - g4) + 5.0f * g2 + g3;\n"
    "                    va[2 * qs] = 2.0f * (g1 + g4) + g2 - 5.0f * g3;\n"
    "                    va[3 * qs] = 2.0f * (g4 - g2) + (g3 - g1);\n"
    "                    va[4 * qs] = 2.0f * (g3 - g1) + (g2 - g4);\n"
    "                    va[5 * qs] = 2.0f * (g1 - 2.0f * g3 + g5) + 3.0f * (g2 - g4);\n"
    "                }\n"
    "        }\n"
    "    }\n"
    "}\n"
    "\n"
    "/* m[o * 64 + j] = sum over i < nc of u[i * 8 + o] * v[i * 64 + j], o < 8,\n"
    " * j < 32: one of the batched GEMMs, 8 x 32 accumulators in registers. */\n"
    "static void nasc_rt_wino_mm(const float *restrict u, const float *restrict v,\n"
    "        float *restrict m, int nc)\n"
    "{\n"
    "    float s0[32], s1[32], s2[32], s3[32], s4[32], s5[32], s6[32], s7[32];\n"
    "    for (int j = 0; j < 32; j++)\n"
    "        s0[j] = s1[j] = s2[j] = s3[j] = s4[j] = s5[j] = s6[j] = s7[j] = 0.0f;\n"
    "    for (int i = 0; i < nc; i++, u += 8, v += 64) {\n"
    "        float w0 = u[0], w1 = u[1], w2 = u[2], w3 = u[3];\n"
    "        float w4 = u[4], w5 = u[5], w6 = u[6], w7 = u[7];\n"
    "        for (int j = 0; j < 32; j++) {\n"
    "            float a = v[j];\n"
    "            s0[j] += w0 * a, s1[j] += w1 * a, s2[j] += w2 * a, s3[j] += w3 * a;\n"
    "            s4[j] += w4 * a, s5[j] += w5 * a, s6[j] += w6 * a, s7[j] += w7 * a;\n"
    "        }\n"
    "    }\n"
    "    for (int j = 0; j < 32; j++) {\n"
    "        m[j] = s0[j], m[64 + j] = s1[j], m[128 + j] = s2[j], m[192 + j] = s3[j];\n"
    "        m[256 + j] = s4[j], m[320 + j] = s5[j], m[384 + j] = s6[j], m[448 + j] = s7[j];\n"
    "    }\n"
    "}\n"
    "\n"
    "/* Adds the outputs z[(a * s + j) * 16 + l] (row a, column j of s x s tile\n"
    " * t0 + l) into one output channel y (its addend r), clipped at the map's\n"
    " * edge. flags: 1 = first channel chunk (y = bv + z, else y += z), 2 = last\n"
    " * chunk (add r), 4 = last and relu. */\n"
    "static void nasc_rt_wino_put(const float *restrict z, int s, float *restrict y,\n"
    "        const float *restrict r, float bv, const nasc_rt_conv_p *p, int t0, int flags)\n"
    "{\n"
    "    int tw = (p->ow + s - 1) / s, nt = tw * ((p->oh + s - 1) / s);\n"
    "    for (int l = 0; l < 16 && t0 + l < nt; l++) {\n"
    "        int oy = (t0 + l) / tw * s, ox = (t0 + l) % tw * s;\n"
    "        int ny = p->oh - oy < s ? p->oh - oy : s, nx = p->ow - ox < s ? p->ow - ox : s;\n"
    "        for (int a = 0; a < ny; a++)\n"
    "            for (int j = 0; j < nx; j++) {\n"
    "                int at = (oy + a) * p->ow + ox + j;\n"
    "                float v = z[(a * s + j) * 16 + l] + ((flags & 1) ? bv : y[at]);\n"
    "                if ((flags & 2) && r)\n"
    "                    v += r[at];\n"
    "                if ((flags & 4) && v < 0.0f)\n"
    "                    v = 0.0f;\n"
    "                y[at] = v;\n"
    "            }\n"
    "    }\n"
    "}\n"
    "\n"
    "/* y = A^T m A for output channels o0 .. o0 + no - 1 (no <= 16) and tiles\n"
    " * t0 .. t0 + 63 (those that exist); flags as nasc_rt_wino_put's. */\n"
    "static void nasc_rt_wino4_out(const float *restrict m, const float *restrict b,\n"
    "        const float *restrict r, float *restrict y, const nasc_rt_conv_p *p, int t0,\n"
    "        int o0, int no, int flags)\n"
    "{\n"
    "    int nt = (p->ow + 3) / 4 * ((p->oh + 3) / 4), ohw = p->oh * p->ow;\n"
    "    for (int o = 0; o < no && o0 + o < p->oc; o++)\n"
    "        for (int k0 = 0; k0 < 64 && t0 + k0 < nt; k0 += 16) {\n"
    "            float g[24][16], z[16][16];\n"
    "            const float *restrict f = m + o * 64 + k0;\n"
    "            for (int j = 0; j < 6; j++)\n"
    "                for (int l = 0; l < 16; l++) {\n"
    "                    float f0 = f[j * 1024 + l], f1 = f[(6 + j) * 1024 + l];\n"
    "                    float f2 = f[(12 + j) * 1024 + l], f3 = f[(18 + j) * 1024 + l];\n"
    "                    float f4 = f[(24 + j) * 1024 + l], f5 = f[(30 + j) * 1024 + l];\n"
    "                    g[j][l] = f0 + (f1 + f2) + (f3 + f4);\n"
    "                    g[6 + j][l] = (f1 - f2) + (2.0f * f3 - 0.5f * f4);\n"
    "                    g[12 + j][l] = (f1 + f2) + (4.0f * f3 + 0.25f * f4);\n"
    "                    g[18 + j][l] = (f1 - f2) + (8.0f * f3 - 0.125f * f4) + f5;\n"
    "                }\n"
    "            for (int a = 0; a < 4; a++)\n"
    "                for (int l = 0; l < 16; l++) {\n"
    "                    float h0 = g[a * 6][l], h1 = g[a * 6 + 1][l], h2 = g[a * 6 + 2][l];\n"
    "                    float h3 = g[a * 6 + 3][l], h4 = g[a * 6 + 4][l], h5 = g[a * 6 + 5][l];\n"
    "                    z[a * 4][l] = h0 + (h1 + h2) + (h3 + h4);\n"
    "                    z[a * 4 + 1][l] = (h1 - h2) + (2.0f * h3 - 0.5f * h4);\n"
    "                    z[a * 4 + 2][l] = (h1 + h2) + (4.0f * h3 + 0.25f * h4);\n"
    "                    z[a * 4 + 3][l] = (h1 - h2) + (8.0f * h3 - 0.125f * h4) + h5;\n"
    "                }\n"
    "            float bv = b && (flags & 1) ? b[o0 + o] : 0.0f;\n"
    "            nasc_rt_wino_put(z[0], 4, y + (o0 + o) * ohw, r ? r + (o0 + o) * ohw : r, bv,\n"
    "                             p, t0 + k0, flags);\n"
    "        }\n"
    "}\n"
    "\n"
    "/* F(2x2, 3x3): v[(q * nc + i) * 64 + k] = (B^T d B)[q] of the 4x4 input\n"
    " * patch d of tile t0 + k, as nasc_rt_wino4_in (points 0, 1, -1, infinity:\n"
    " * B^T's entries are 0 and +-1, so each v is a sum of 4 x 4 inputs). */\n"
    "static void nasc_rt_wino2_in(const float *restrict x, float *restrict v,\n"
    "        const nasc_rt_conv_p *p, int t0, int nc)\n"
    "{\n"
    "    int tw = (p->ow + 1) / 2, nt = tw * ((p->oh + 1) / 2), hw = p->h * p->w;\n"
    "    for (int k0 = 0; k0 < 64; k0 += 16) {\n"
    "        int off[16], lo[16], hi[16], inside = 1;\n"
    "        for (int l = 0; l < 16; l++) {\n"
    "            int t = t0 + k0 + l < nt ? t0 + k0 + l : nt - 1;\n"
    "            int iy = t / tw * 2 - p->pt, ix = t % tw * 2 - p->pl;\n"
    "            off[l] = iy * p->w + ix;\n"
    "            lo[l] = (iy < 0 ? -iy : 0) * 8 + (ix < 0 ? -ix : 0);\n"
    "            hi[l] = (p->h - iy < 4 ? p->h - iy : 4) * 8 + (p->w - ix < 4 ? p->w - ix : 4);\n"
    "            inside &= lo[l] == 0 && hi[l] == 4 * 8 + 4;\n"
    "        }\n"
    "        for (int i = 0; i < nc; i++) {\n"
    "            const float *restrict xc = x + i * hw;\n"
    "            float d[16][16], e[16][16];\n"
    "            for (int l = 0; l < 16; l++)\n"
    "                for (int a = 0; a < 4; a++)\n"
    "                    for (int j = 0; j < 4; j++)\n"
    "                        d[a * 4 + j][l] = inside || (a >= lo[l] / 8 && a < hi[l] / 8 &&\n"
    "                                                     j >= lo[l] % 8 && j < hi[l] % 8)\n"
    "                                          ? xc[off[l] + a * p->w + j] : 0.0f;\n"
    "            for (int j = 0; j < 4; j++)\n"
    "                for (int l = 0; l < 16; l++) {\n"
    "                    float d0 = d[j][l], d1 = d[4 + j][l], d2 = d[8 + j][l];\n"
    "                    float d3 = d[12 + j][l];\n"
    "                    e[j][l] = d0 - d2;\n"
    "                    e[4 + j][l] = d1 + d2;\n"
    "                    e[8 + j][l] = d2 - d1;\n"
    "                    e[12 + j][l] = d1 - d3;\n"
    "                }\n"
    "            float *restrict vi = v + i * 64 + k0;\n"
    "            int qs = nc * 64;\n"
    "            for (int a = 0; a < 4; a++)\n"
    "                for (int l = 0; l < 16; l++) {\n"
    "                    float g0 = e[a * 4][l], g1 = e[a * 4 + 1][l];\n"
    "                    float g2 = e[a * 4 + 2][l], g3 = e[a * 4 + 3][l];\n"
    "                    float *restrict va = vi + a * 4 * qs + l;\n"
    "                    va[0] = g0 - g2;\n"
    "                    va[qs] = g1 + g2;\n"
    "                    va[2 * qs] = g2 - g1;\n"
    "                    va[3 * qs] = g1 - g3;\n"
    "                }\n"
    "        }\n"
    "    }\n"
    "}\n"
    "\n"
    "/* F(2x2, 3x3): y = A^T m A, as nasc_rt_wino4_out. */\n"
    "static void nasc_rt_wino2_out(const float *restrict m, const float *restrict b,\n"
    "        const float *restrict r, float *restrict y, const nasc_rt_conv_p *p, int t0,\n"
    "        int o0, int no, int flags)\n"
    "{\n"
    "    int nt = (p->ow + 1) / 2 * ((p->oh + 1) / 2), ohw = p->oh * p->ow;\n"
    "    for (int o = 0; o < no && o0 + o < p->oc; o++)\n"
    "        for (int k0 = 0; k0 < 64 && t0 + k0 < nt; k0 += 16) {\n"
    "            float g[8][16], z[4][16];\n"
    "            const float *restrict f = m + o * 64 + k0;\n"
    "            for (int j = 0; j < 4; j++)\n"
    "                for (int l = 0; l < 16; l++) {\n"
    "                    float f0 = f[j * 1024 + l], f1 = f[(4 + j) * 1024 + l];\n"
    "                    float f2 = f[(8 + j) * 1024 + l], f3 = f[(12 + j) * 1024 + l];\n"
    "                    g[j][l] = f0 + f1 + f2;\n"
    "                    g[4 + j][l] = f1 - f2 - f3;\n"
    "                }\n"
    "            for (int a = 0; a < 2; a++)\n"
    "                for (int l = 0; l < 16; l++) {\n"
    "                    float h0 = g[a * 4][l], h1 = g[a * 4 + 1][l];\n"
    "                    float h2 = g[a * 4 + 2][l], h3 = g[a * 4 + 3][l];\n"
    "                    z[a * 2][l] = h0 + h1 + h2;\n"
    "                    z[a * 2 + 1][l] = h1 - h2 - h3;\n"
    "                }\n"
    "            float bv = b && (flags & 1) ? b[o0 + o] : 0.0f;\n"
    "            nasc_rt_wino_put(z[0], 2, y + (o0 + o) * ohw, r ? r + (o0 + o) * ohw : r, bv,\n"
    "                             p, t0 + k0, flags);\n"
    "        }\n"
    "}\n"
    "\n"
    "/* 3x3 stride-1 dense convolution by Winograd F(s x s, 3x3), s = 4 or 2\n"
    " * (emit_c_wino.c). u: the weights transformed at compile time,\n"
    " * [(s + 2)^2][oc / 8 rounded up][c][8] (zero past oc). Blocks of 64 tiles x\n"
    " * 64 input channels: y gets the bias and the first chunk's sum, then each\n"
    " * later chunk's; the addend and relu come with the last. About 740 KiB of\n"
    " * stack (v and m, sized for s = 4). */\n"
    "static void nasc_rt_wino(const float *restrict x, const float *restrict u,\n"
    "        const float *restrict b, const float *restrict r, float *restrict y,\n"
    "        const nasc_rt_conv_p *p, int relu, int s)\n"
    "{\n"
    "    float v[36 * 64 * 64], m[36 * 16 * 64];\n"
    "    int nq = (s + 2) * (s + 2), nt = (p->ow + s - 1) / s * ((p->oh + s - 1) / s);\n"
    "    int nob = (p->oc + 7) / 8, hw = p->h * p->w, ohw = p->oh * p->ow;\n"
    "    for (int n = 0; n < p->n; n++, x += p->c * hw, y += p->oc * ohw) {\n"
    "        const float *restrict rn = r ? r + n * p->oc * ohw : r;\n"
    "        for (int t0 = 0; t0 < nt; t0 += 64)\n"
    "            for (int c0 = 0; c0 < p->c; c0 += 64) {\n"
    "                int nc = p->c - c0 < 64 ? p->c - c0 : 64;\n"
    "                int flags = (c0 == 0) | (c0 + nc == p->c ? 2 | relu * 4 : 0);\n"
    "                if (s == 4)\n"
    "                    nasc_rt_wino4_in(x + c0 * hw, v, p, t0, nc);\n"
    "                else\n"
    "                    nasc_rt_wino2_in(x + c0 * hw, v, p, t0, nc);\n"
    "                for (int ob0 = 0; ob0 < nob; ob0 += 2) {\n"
    "                    int nb = nob - ob0 < 2 ? nob - ob0 : 2;\n"
    "                    for (int q = 0; q < nq; q++)\n"
    "                        for (int k = 0; k < 64; k += 32)\n"
    "                            for (int ob = 0; ob < nb; ob++)\n"
    "                                nasc_rt_wino_mm(u + ((q * nob + ob0 + ob) * p->c + c0) * 8,\n"
    "                                                v + q * nc * 64 + k,\n"
    "                                                m + (q * 16 + ob * 8) * 64 + k, nc);\n"
    "                    if (s == 4)\n"
    "                        nasc_rt_wino4_out(m, b, rn, y, p, t0, ob0 * 8, nb * 8, flags);\n"
    "                    else\n"
    "                        nasc_rt_wino2_out(m, b, rn, y, p, t0, ob0 * 8, nb * 8, flags);\n"
    "                }\n"
    "            }\n"
    "    }\n"
    "}\n"
    ;

/* G of F(4x4, 3x3) at 0, 1, -1, 2, -1/2, infinity, rows scaled so that B^T
 * (nasc_rt_wino4_in) has small integer entries: U = G g G^T. */
static const double wino_g4[6][3] = {
    {1.0 / 2, 0, 0},
    {1.0 / 6, 1.0 / 6, 1.0 / 6},
    {1.0 / 6, -1.0 / 6, 1.0 / 6},
    {1.0 / 30, 2.0 / 30, 4.0 / 30},
    {16.0 / 15, -8.0 / 15, 4.0 / 15},
    {0, 0, 1.0 / 2},
};

/* G of F(2x2, 3x3) at 0, 1, -1, infinity. */
static const double wino_g2[4][3] = {
    {1, 0, 0},
    {1.0 / 2, 1.0 / 2, 1.0 / 2},
    {1.0 / 2, -1.0 / 2, 1.0 / 2},
    {0, 0, 1},
};

bool cg_wino_geometry(const CgCtx *c, const Node *n)
{
    const Conv2dAttrs *a = &n->attrs.conv;
    const Value *w = &c->g->vals[n->in[1]];
    bool param = w->producer && c->g->nodes[w->producer].op == OP_PARAM && w->data;
    return param && a->groups == 1 && !a->pre && a->stride[0] == 1 && a->stride[1] == 1 &&
           a->dilation[0] == 1 && a->dilation[1] == 1 && cg_dim(&w->shape, 2) == 3 &&
           cg_dim(&w->shape, 3) == 3;
}

/* The output tile of conv n's Winograd (4 or 2), or 0 for the direct kernel.
 * --conv=auto (direct off the host target or with a flash
 * budget) takes convs with >= 64 input and output channels and an output of
 * >= 16x16 (the rule measured when Winograd was opt-in: below it the direct
 * kernel is as fast), as F(4x4) when both channel counts are >= 128, else as
 * F(2x2). Why two tiles: F(4x4)'s fp32 GEMM sums round ~3x more than the
 * direct sum on the data of Auto-DeepLab's encoder.stem1 (64 -> 64 at
 * 161x161), and the 12 cells after it amplify that to 3.5e-3 of the net's
 * output against PyTorch (bench/peers.sh, tolerance 2.9e-3; direct 1.5e-3;
 * with the GEMM summed in double 1.9e-3). F(2x2), whose B^T and A^T hold 0
 * and +-1 only, rounds less than the direct sum (net: 1.3e-3). F(4x4) on the
 * 304/256 -> 256 decoder convs at the net's end leaves the error at direct's.
 * The 128 split is measured on that one net: a wide conv early in another
 * net could still amplify F(4x4)'s error (--conv=winograd2 or direct then). */
static int wino_tile(const CgCtx *c, const Node *n)
{
    if (!cg_wino_geometry(c, n))
        return 0;
    if (c->conv == CG_CONV_WINOGRAD || c->conv == CG_CONV_WINOGRAD2)
        return c->conv == CG_CONV_WINOGRAD ? 4 : 2;
    /* auto: the scratch needs a host stack and --max-flash cannot count U */
    if (c->conv != CG_CONV_AUTO || c->target != CG_TARGET_HOST || c->max_flash > 0)
        return 0;
    const Shape *sw = &c->g->vals[n->in[1]].shape, *sy = &c->g->vals[n->out].shape;
    int64_t oc = cg_dim(sw, 0), ch = cg_dim(sw, 1);
    if (oc < 64 || ch < 64 || cg_dim(sy, 2) < 16 || cg_dim(sy, 3) < 16)
        return 0;
    return oc >= 128 && ch >= 128 ? 4 : 2;
}

bool cg_wino_chosen(const CgCtx *c, const Node *n)
{
    return wino_tile(c, n) != 0;
}

/* U = G g G^T for every (output, input) channel pair, in double, laid out
 * [q][oc / 8][c][8] with zero rows past oc; tile s = 4 or 2. */
static float *wino_weights(CgCtx *c, const Value *w, int s, int64_t *nout)
{
    int64_t oc = cg_dim(&w->shape, 0), ch = cg_dim(&w->shape, 1), nob = (oc + 7) / 8;
    const double(*gm)[3] = s == 4 ? wino_g4 : wino_g2;
    int np = s + 2; /* points: the transformed tile is np x np */
    *nout = np * np * nob * 8 * ch;
    float *u = arena_calloc(&c->arena, (size_t)*nout, sizeof *u);
    NASC_ASSERT(u);
    for (int64_t o = 0; o < oc; o++)
        for (int64_t i = 0; i < ch; i++) {
            const float *g = w->data + (o * ch + i) * 9;
            double t[6][3]; /* G g */
            for (int a = 0; a < np; a++)
                for (int kx = 0; kx < 3; kx++)
                    t[a][kx] = gm[a][0] * g[kx] + gm[a][1] * g[3 + kx] + gm[a][2] * g[6 + kx];
            for (int a = 0; a < np; a++)
                for (int b = 0; b < np; b++) {
                    double v = t[a][0] * gm[b][0] + t[a][1] * gm[b][1] + t[a][2] * gm[b][2];
                    u[(((a * np + b) * nob + o / 8) * ch + i) * 8 + o % 8] = (float)v;
                }
        }
    return u;
}

/* The transformed weights' array (emitted now, or added to the blob). */
static const char *wino_weights_array(CgCtx *c, const Node *n, int s)
{
    const Value *w = &c->g->vals[n->in[1]];
    int64_t nu;
    float *u = wino_weights(c, w, s, &nu);
    const char *name = cg_unique_name(c, "wino_", w->name, n->in[1], "");
    if (c->blob) {
        cg_blob_add_derived(c, name, u, nu);
        return name;
    }
    cg_buf_printf(&c->decls, "\n/* conv2d %%%u: Winograd F(%dx%d, 3x3) weights U = G g G^T of ",
                  c->num[n->out], s, s);
    cg_buf_comment_text(&c->decls, w->name ? w->name : "(unnamed)");
    cg_buf_printf(&c->decls, ",\n * computed by nasc, laid out [%d][oc / 8][c][8] */\n"
                  "static const float %s[%lld] = {\n", (s + 2) * (s + 2), name, (long long)nu);
    cg_buf_floats(&c->decls, u, nu);
    cg_buf_printf(&c->decls, "};\n");
    return name;
}

bool cg_emit_wino(CgCtx *c, const Node *n)
{
    const Conv2dAttrs *a = &n->attrs.conv;
    int s = wino_tile(c, n);
    ValueId x = n->in[0], y = n->out, b = ir_conv_bias(n), r = ir_conv_addend(n);
    const char *xs = cg_val(c, x), *us = wino_weights_array(c, n, s);
    const char *bs = b ? cg_val(c, b) : "NULL", *rs = r ? cg_val(c, r) : "NULL";
    const Shape *sx = &c->g->vals[x].shape, *sy = &c->g->vals[y].shape;
    cg_use_kernel(c, CK_WINO);
    cg_buf_printf(&c->body,
                  "    {\n"
                  "        static const nasc_rt_conv_p p = {\n"
                  "            .n = %lld, .c = %lld, .h = %lld, .w = %lld,"
                  " .oc = %lld, .oh = %lld, .ow = %lld,\n"
                  "            .kh = 3, .kw = 3, .sh = 1, .sw = 1, .pt = %d, .pl = %d,"
                  " .dh = 1, .dw = 1, .groups = 1};\n"
                  "        nasc_rt_wino(%s, %s, %s, %s, %s, &p, %d, %d);\n"
                  "    }\n",
                  (long long)cg_dim(sx, 0), (long long)cg_dim(sx, 1), (long long)cg_dim(sx, 2),
                  (long long)cg_dim(sx, 3), (long long)cg_dim(sy, 1), (long long)cg_dim(sy, 2),
                  (long long)cg_dim(sy, 3), a->pad[0], a->pad[1], xs, us, bs, rs,
                  cg_val(c, y), a->act == ACT_RELU, s);
    return true;
}
