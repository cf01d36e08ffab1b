/* emit_c_wino.c — Winograd F(4x4, 3x3) and F(2x2, 3x3) for dense 3x3
 * stride-1 convolutions, dilated or not.
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
 * Dilation (rates dh, dw; Auto-DeepLab's ASPP: 6, 12, 18 on 41x41): the
 * outputs (oy, ox) with oy % dh == fy and ox % dw == fx (one phase) read
 * only input rows fy - pt + dh * i and columns fx - pl + dw * j, so each
 * phase is an ordinary 3x3 conv on that sub-grid. Each axis is tiled phase
 * by phase (nasc_rt_wino_ntiles / _first: the phases of an axis of n
 * outputs hold n / d or n / d + 1 of them); a tile whose first output is
 * (oy, ox) covers (oy + dh * a, ox + dw * j), a, j < s, and its patch reads
 * rows oy - pt + dh * a and columns ox - pl + dw * j, a, j < s + 2, padding
 * as zero. Nothing is copied: the gather and the put just step by the rate.
 * U is the undilated one. Short phases leave tiles partly empty, and
 * Winograd computes the taps in the padding that the direct kernels skip,
 * so --conv=auto weighs both (wino_tile_dilated). Rate 1 is the plain
 * conv (one phase); the kernels pass a constant 1 for it to the gather and
 * put so the compiler keeps their unit-stride code.
 *
 * Weights: U is computed here, in double, and emitted as its own
 * `static const float wino_<weight name>[P * ocp * c]` (P = 36 or 16 points,
 * ocp = oc rounded up to 8, zero rows past oc), in the order the GEMM reads
 * it: [q][oc / 8][c][8], so one GEMM call streams 8 consecutive floats per
 * input channel. The untransformed weight array is then not emitted. Blob
 * mode adds it to the blob as a derived array, as BatchNorm scales are.
 *
 * Run time (nasc_rt_wino, either tile): tiles in blocks of 64 (row-major
 * over the tile grid), input channels in chunks of 64 (F(2x2): 144, what
 * fits the same v: fewer passes over y). Per block and chunk,
 * nasc_rt_wino4_in / wino2_in transforms the patches into v (P x 64 x 64
 * floats, with the 16-tile groups as vector lanes), then per 16 output
 * channels nasc_rt_wino_mm runs the P GEMMs (8 channels x 32 tiles of
 * accumulators in registers, as the dense tile; the two 8-channel halves
 * read the same v while it is in L1: ~10 % faster than one at a time) into
 * m (P x 16 x 64 floats) and nasc_rt_wino4_out / wino2_out transforms m back
 * into y (nasc_rt_wino_put): the first chunk writes bias + sum, later ones
 * add (the transforms are linear), the last adds the conv's fused addend
 * and relu (a last block of <= 32 tiles transforms and multiplies only 32
 * lanes). Chunks bound the scratch; 64 tiles per block make each U element
 * serve 64 tiles per load (with 32 the 304 -> 256 decoder conv ran ~3x
 * slower: U, 11 MB, streamed from L3 twice as often).
 *
 * Scratch: v and m (~720 KiB for F(4x4), ~640 KiB for F(2x2)) live in the
 * caller's workspace: cg_node_scratch_bytes asks plan_memory_scratch for
 * them as a slot live at this conv alone, so they reuse the bytes of
 * tensors dead there and the stack frame stays small (a thread with
 * musl's 128 KiB stack can run it; on the stack it needed a 1 MiB one).
 *
 * Error: the transforms and the GEMM sums round; tests/codegen/wino.c
 * measures single convs, wino_tile says what whole networks make of it.
 */
#include "internal.h"

const char cg_k_wino[] =
    "/* Tiles along one axis of n outputs at dilation dl with tile s: the axis\n"
    " * splits into dl phases (outputs f, f + dl, f + 2 dl, ...: the first n % dl\n"
    " * phases hold n / dl + 1 outputs, the others n / dl), each phase into tiles\n"
    " * of s of its outputs (the last one partial). dl = 1: one phase. */\n"
    "static int nasc_rt_wino_ntiles(int n, int dl, int s)\n"
    "{\n"
    "    int q = n / dl, rem = n % dl;\n"
    "    return rem * ((q + s) / s) + (dl - rem) * ((q + s - 1) / s);\n"
    "}\n"
    "\n"
    "/* The first output of tile t along such an axis (phase by phase, each\n"
    " * phase's tiles in order); the tile's others follow at + dl, + 2 dl, ... */\n"
    "static int nasc_rt_wino_first(int t, int n, int dl, int s)\n"
    "{\n"
    "    int q = n / dl, rem = n % dl, a = (q + s) / s;\n"
    "    if (t < rem * a)\n"
    "        return t / a + t % a * s * dl;\n"
    "    t -= rem * a;\n"
    "    a = (q + s - 1) / s; /* > 0 here: t < nasc_rt_wino_ntiles */\n"
    "    return rem + t / a + t % a * s * dl;\n"
    "}\n"
    "\n"
    "/* The input rows (or columns) i0 + dl * a, a < n, of a patch that exist:\n"
    " * those with lo <= a < hi, 0 <= lo (hi may be below lo: none). */\n"
    "static void nasc_rt_wino_span(int i0, int size, int dl, int n, int *lo, int *hi)\n"
    "{\n"
    "    *lo = i0 < 0 ? (dl - 1 - i0) / dl : 0;\n"
    "    *hi = i0 >= size ? 0 : (size - i0 + dl - 1) / dl;\n"
    "    *hi = *hi < n ? *hi : n;\n"
    "}\n"
    "\n"
    "/* 16 input patches (n x n): where they start in x (off, maybe outside it),\n"
    " * which of their rows (ylo..yhi) and columns (xlo..xhi) exist, and whether\n"
    " * all 16 lie wholly inside x. */\n"
    "typedef struct nasc_rt_wino_pt {\n"
    "    int inside, off[16], ylo[16], yhi[16], xlo[16], xhi[16];\n"
    "} nasc_rt_wino_pt;\n"
    "\n"
    "/* The patches of tiles t0 .. t0 + 15 for tile s (past the last tile, the\n"
    " * last again). Tile t is row t / tw, column t % tw of the tile grid, tw =\n"
    " * nasc_rt_wino_ntiles over the columns. */\n"
    "static void nasc_rt_wino_patches(const nasc_rt_conv_p *p, int s, int t0,\n"
    "        nasc_rt_wino_pt *pt)\n"
    "{\n"
    "    int tw = nasc_rt_wino_ntiles(p->ow, p->dw, s);\n"
    "    int nt = tw * nasc_rt_wino_ntiles(p->oh, p->dh, s);\n"
    "    pt->inside = 1;\n"
    "    for (int l = 0; l < 16; l++) {\n"
    "        int t = t0 + l < nt ? t0 + l : nt - 1;\n"
    "        int iy = nasc_rt_wino_first(t / tw, p->oh, p->dh, s) - p->pt;\n"
    "        int ix = nasc_rt_wino_first(t % tw, p->ow, p->dw, s) - p->pl;\n"
    "        pt->off[l] = iy * p->w + ix;\n"
    "        nasc_rt_wino_span(iy, p->h, p->dh, s + 2, &pt->ylo[l], &pt->yhi[l]);\n"
    "        nasc_rt_wino_span(ix, p->w, p->dw, s + 2, &pt->xlo[l], &pt->xhi[l]);\n"
    "        pt->inside &= pt->ylo[l] == 0 && pt->yhi[l] == s + 2 && pt->xlo[l] == 0 &&\n"
    "                      pt->xhi[l] == s + 2;\n"
    "    }\n"
    "}\n"
    "\n"
    "/* d[(a * n + j) * 16 + l] = x[off[l] + a * rs + j * cs] for the patches of\n"
    " * pt, zero where that does not exist. Called with cs = 1 as a constant for\n"
    " * undilated convs: then the compiler reads the rows as contiguous runs. */\n"
    "static void nasc_rt_wino_gather(const float *restrict x, float *restrict d, int n,\n"
    "        int rs, int cs, const nasc_rt_wino_pt *pt)\n"
    "{\n"
    "    for (int l = 0; l < 16; l++)\n"
    "        for (int a = 0; a < n; a++)\n"
    "            for (int j = 0; j < n; j++)\n"
    "                d[(a * n + j) * 16 + l] =\n"
    "                    pt->inside || (a >= pt->ylo[l] && a < pt->yhi[l] && j >= pt->xlo[l] &&\n"
    "                                   j < pt->xhi[l])\n"
    "                        ? x[pt->off[l] + a * rs + j * cs] : 0.0f;\n"
    "}\n"
    "\n"
    "/* v[(q * nc + i) * 64 + k] = (B^T d B)[q] of the 6x6 input patch d of tile\n"
    " * t0 + k, k < nk (nk = 32 or 64), and channel i of x, padding read as zero;\n"
    " * the patch of a tile whose first output is (oy, ox) reads input rows\n"
    " * oy - pt + dh * a and columns ox - pl + dw * j, a, j < 6. Gathered 16\n"
    " * tiles at a time so the transform runs with the tiles as vector lanes. */\n"
    "static void nasc_rt_wino4_in(const float *restrict x, float *restrict v,\n"
    "        const nasc_rt_conv_p *p, int t0, int nk, int nc)\n"
    "{\n"
    "    int hw = p->h * p->w, rs = p->dh * p->w, cs = p->dw;\n"
    "    for (int k0 = 0; k0 < nk; k0 += 16) {\n"
    "        nasc_rt_wino_pt pt;\n"
    "        nasc_rt_wino_patches(p, 4, t0 + k0, &pt);\n"
    "        for (int i = 0; i < nc; i++) {\n"
    "            float d[36][16], e[36][16];\n"
    "            if (cs == 1)\n"
    "                nasc_rt_wino_gather(x + i * hw, d[0], 6, rs, 1, &pt);\n"
    "            else\n"
    "                nasc_rt_wino_gather(x + i * hw, d[0], 6, rs, cs, &pt);\n"
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
    "/* Where the outputs of up to 64 consecutive tiles go in an output channel:\n"
    " * row a, column j of tile k (s x s) is output at[k] + a * dh * ow + j * dw,\n"
    " * a < ny[k], j < nx[k] (clipped at the map's edge); n tiles exist. */\n"
    "typedef struct nasc_rt_wino_at {\n"
    "    int n, at[64], ny[64], nx[64];\n"
    "} nasc_rt_wino_at;\n"
    "\n"
    "/* The places of tiles t0 .. t0 + 63 for tile s. */\n"
    "static void nasc_rt_wino_places(const nasc_rt_conv_p *p, int s, int t0,\n"
    "        nasc_rt_wino_at *w)\n"
    "{\n"
    "    int tw = nasc_rt_wino_ntiles(p->ow, p->dw, s);\n"
    "    int nt = tw * nasc_rt_wino_ntiles(p->oh, p->dh, s);\n"
    "    w->n = nt - t0 < 64 ? nt - t0 : 64;\n"
    "    for (int k = 0; k < w->n; k++) {\n"
    "        int oy = nasc_rt_wino_first((t0 + k) / tw, p->oh, p->dh, s);\n"
    "        int ox = nasc_rt_wino_first((t0 + k) % tw, p->ow, p->dw, s);\n"
    "        int ny = (p->oh - oy + p->dh - 1) / p->dh, nx = (p->ow - ox + p->dw - 1) / p->dw;\n"
    "        w->at[k] = oy * p->ow + ox;\n"
    "        w->ny[k] = ny < s ? ny : s;\n"
    "        w->nx[k] = nx < s ? nx : s;\n"
    "    }\n"
    "}\n"
    "\n"
    "/* Adds the outputs z[(a * s + j) * 16 + l] (row a, column j of s x s tile\n"
    " * k0 + l of w) into one output channel y (its addend r); cs = p->dw, a\n"
    " * constant 1 for undilated convs (as nasc_rt_wino_gather's). flags: 1 =\n"
    " * first channel chunk (y = bv + z, else y += z), 2 = last chunk (add r),\n"
    " * 4 = last and relu. */\n"
    "static void nasc_rt_wino_put(const float *restrict z, int s, float *restrict y,\n"
    "        const float *restrict r, float bv, const nasc_rt_conv_p *p, int cs,\n"
    "        const nasc_rt_wino_at *w, int k0, int flags)\n"
    "{\n"
    "    int rs = p->dh * p->ow, nl = w->n - k0 < 16 ? w->n - k0 : 16;\n"
    "    for (int l = 0; l < nl; l++) {\n"
    "        int ny = w->ny[k0 + l], nx = w->nx[k0 + l], at0 = w->at[k0 + l];\n"
    "        for (int a = 0; a < ny; a++)\n"
    "            for (int j = 0; j < nx; j++) {\n"
    "                int at = at0 + a * rs + j * cs;\n"
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
    "/* y = A^T m A for output channels o0 .. o0 + no - 1 (no <= 16) and the\n"
    " * tiles of w; flags as nasc_rt_wino_put's. */\n"
    "static void nasc_rt_wino4_out(const float *restrict m, const float *restrict b,\n"
    "        const float *restrict r, float *restrict y, const nasc_rt_conv_p *p,\n"
    "        const nasc_rt_wino_at *w, int o0, int no, int flags)\n"
    "{\n"
    "    int ohw = p->oh * p->ow;\n"
    "    for (int o = 0; o < no && o0 + o < p->oc; o++)\n"
    "        for (int k0 = 0; k0 < w->n; k0 += 16) {\n"
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
    "            float *restrict yo = y + (o0 + o) * ohw;\n"
    "            const float *restrict ro = r ? r + (o0 + o) * ohw : r;\n"
    "            if (p->dw == 1)\n"
    "                nasc_rt_wino_put(z[0], 4, yo, ro, bv, p, 1, w, k0, flags);\n"
    "            else\n"
    "                nasc_rt_wino_put(z[0], 4, yo, ro, bv, p, p->dw, w, k0, flags);\n"
    "        }\n"
    "}\n"
    "\n"
    "/* F(2x2, 3x3): v[(q * nc + i) * 64 + k] = (B^T d B)[q] of the 4x4 input\n"
    " * patch d of tile t0 + k, as nasc_rt_wino4_in (points 0, 1, -1, infinity:\n"
    " * B^T's entries are 0 and +-1, so each v is a sum of 4 x 4 inputs). */\n"
    "static void nasc_rt_wino2_in(const float *restrict x, float *restrict v,\n"
    "        const nasc_rt_conv_p *p, int t0, int nk, int nc)\n"
    "{\n"
    "    int hw = p->h * p->w, rs = p->dh * p->w, cs = p->dw;\n"
    "    for (int k0 = 0; k0 < nk; k0 += 16) {\n"
    "        nasc_rt_wino_pt pt;\n"
    "        nasc_rt_wino_patches(p, 2, t0 + k0, &pt);\n"
    "        for (int i = 0; i < nc; i++) {\n"
    "            float d[16][16], e[16][16];\n"
    "            if (cs == 1)\n"
    "                nasc_rt_wino_gather(x + i * hw, d[0], 4, rs, 1, &pt);\n"
    "            else\n"
    "                nasc_rt_wino_gather(x + i * hw, d[0], 4, rs, cs, &pt);\n"
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
    "        const float *restrict r, float *restrict y, const nasc_rt_conv_p *p,\n"
    "        const nasc_rt_wino_at *w, int o0, int no, int flags)\n"
    "{\n"
    "    int ohw = p->oh * p->ow;\n"
    "    for (int o = 0; o < no && o0 + o < p->oc; o++)\n"
    "        for (int k0 = 0; k0 < w->n; k0 += 16) {\n"
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
    "            float *restrict yo = y + (o0 + o) * ohw;\n"
    "            const float *restrict ro = r ? r + (o0 + o) * ohw : r;\n"
    "            if (p->dw == 1)\n"
    "                nasc_rt_wino_put(z[0], 2, yo, ro, bv, p, 1, w, k0, flags);\n"
    "            else\n"
    "                nasc_rt_wino_put(z[0], 2, yo, ro, bv, p, p->dw, w, k0, flags);\n"
    "        }\n"
    "}\n"
    "\n"
    "/* 3x3 stride-1 dense convolution by Winograd F(s x s, 3x3), s = 4 or 2\n"
    " * (emit_c_wino.c). u: the weights transformed at compile time,\n"
    " * [(s + 2)^2][oc / 8 rounded up][c][8] (zero past oc); dilation p->dh, p->dw.\n"
    " * Blocks of 64 tiles x 64 input channels (s = 2: 144, the same v): y gets\n"
    " * the bias and the first chunk's sum, then each later chunk's; the addend\n"
    " * and relu come with the last. sc: workspace scratch for v (36 x 64 x 64\n"
    " * floats) and m ((s + 2)^2 x 16 x 64). */\n"
    "static void nasc_rt_wino(const float *restrict x, const float *restrict u,\n"
    "        const float *restrict b, const float *restrict r, float *restrict y,\n"
    "        const nasc_rt_conv_p *p, int relu, int s, float *restrict sc)\n"
    "{\n"
    "    float *restrict v = sc, *restrict m = sc + 36 * 64 * 64;\n"
    "    int nq = (s + 2) * (s + 2), cmax = 36 * 64 / nq; /* channels whose v fit */\n"
    "    int nt = nasc_rt_wino_ntiles(p->ow, p->dw, s) * nasc_rt_wino_ntiles(p->oh, p->dh, s);\n"
    "    int nob = (p->oc + 7) / 8, hw = p->h * p->w, ohw = p->oh * p->ow;\n"
    "    for (int n = 0; n < p->n; n++, x += p->c * hw, y += p->oc * ohw) {\n"
    "        const float *restrict rn = r ? r + n * p->oc * ohw : r;\n"
    "        for (int t0 = 0; t0 < nt; t0 += 64) {\n"
    "            nasc_rt_wino_at w;\n"
    "            nasc_rt_wino_places(p, s, t0, &w);\n"
    "            for (int c0 = 0; c0 < p->c; c0 += cmax) {\n"
    "                int nc = p->c - c0 < cmax ? p->c - c0 : cmax, nk = w.n > 32 ? 64 : 32;\n"
    "                int flags = (c0 == 0) | (c0 + nc == p->c ? 2 | relu * 4 : 0);\n"
    "                if (s == 4)\n"
    "                    nasc_rt_wino4_in(x + c0 * hw, v, p, t0, nk, nc);\n"
    "                else\n"
    "                    nasc_rt_wino2_in(x + c0 * hw, v, p, t0, nk, nc);\n"
    "                for (int ob0 = 0; ob0 < nob; ob0 += 2) {\n"
    "                    int nb = nob - ob0 < 2 ? nob - ob0 : 2;\n"
    "                    for (int q = 0; q < nq; q++)\n"
    "                        for (int k = 0; k < nk; k += 32)\n"
    "                            for (int ob = 0; ob < nb; ob++)\n"
    "                                nasc_rt_wino_mm(u + ((q * nob + ob0 + ob) * p->c + c0) * 8,\n"
    "                                                v + q * nc * 64 + k,\n"
    "                                                m + (q * 16 + ob * 8) * 64 + k, nc);\n"
    "                    if (s == 4)\n"
    "                        nasc_rt_wino4_out(m, b, rn, y, p, &w, ob0 * 8, nb * 8, flags);\n"
    "                    else\n"
    "                        nasc_rt_wino2_out(m, b, rn, y, p, &w, ob0 * 8, nb * 8, flags);\n"
    "                }\n"
    "            }\n"
    "        }\n"
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
    bool param = cg_const_param(c, n->in[1]);
    return param && a->groups == 1 && !a->pre && a->stride[0] == 1 && a->stride[1] == 1 &&
           cg_dim(&w->shape, 2) == 3 && cg_dim(&w->shape, 3) == 3;
}

/* Tiles of Winograd tile s along an axis of n outputs at dilation d (the
 * kernel's nasc_rt_wino_ntiles: each of the d phases tiled alone). */
static int64_t wino_axis_tiles(int64_t n, int d, int s)
{
    int64_t q = n / d, rem = n % d;
    return rem * ((q + s) / s) + (d - rem) * ((q + s - 1) / s);
}

/* Multiply-adds per (input, output) channel pair of the packed direct kernel
 * (emit_c_pack.c) on conv n, 3x3: it skips the tap rows outside the input
 * but computes every column (its stage rows are zero-padded). */
static int64_t wino_direct_macs(const CgCtx *c, const Node *n)
{
    const Conv2dAttrs *a = &n->attrs.conv;
    int64_t h = cg_dim(&c->g->vals[n->in[0]].shape, 2);
    const Shape *sy = &c->g->vals[n->out].shape;
    int64_t oh = cg_dim(sy, 2), rows = 0;
    for (int ky = 0; ky < 3; ky++) /* outputs oy with 0 <= oy - pt + ky * dh < h */
        for (int64_t oy = 0; oy < oh; oy++) {
            int64_t iy = oy - a->pad[0] + (int64_t)ky * a->dilation[0];
            rows += iy >= 0 && iy < h;
        }
    return rows * 3 * cg_dim(sy, 3);
}

/* The auto tile of a dilated conv (rate dh or dw > 1) with >= 64 channels
 * both sides: the tile s (4 only when f4) with the fewest GEMM multiplies,
 * tiles x (s + 2)^2, if twice that is at most the packed direct kernel's
 * multiply-adds, else 0 (direct). A phase of a map barely larger than the
 * rate leaves most of a tile empty (41 rows at rate 18: phases of 2 and 3
 * rows), and the direct kernel skips the taps in the padding, which Winograd
 * computes. Factor 2: per multiply, F(4x4) took 1.8-2.1x and F(2x2)
 * 1.2-1.3x the packed kernel's time on Auto-DeepLab's ASPP convs (200 -> 256
 * channels, 41x41, pad = rate; gcc 12 -O3 -march=native, AVX-512, medians
 * of 4 interleaved runs on a loaded 2-core host), direct / F(4x4) / F(2x2):
 * rate 6 18.6 / 14.0 / 13.6 ms (F(4x4) 0.38x the direct multiplies, F(2x2)
 * 0.62x), rate 12 15.3 / 13.8 / 15.0 (0.43x, 0.76x), rate 18 13.8 / 27.4 /
 * 13.7 (1.09x, 0.79x). The rule picks F(4x4), F(4x4) and direct there, each
 * within ~3 % of the fastest. */
static int wino_tile_dilated(const CgCtx *c, const Node *n, bool f4)
{
    const Conv2dAttrs *a = &n->attrs.conv;
    const Shape *sy = &c->g->vals[n->out].shape;
    int64_t direct = wino_direct_macs(c, n), best = 0;
    int tile = 0;
    for (int s = f4 ? 4 : 2; s >= 2; s -= 2) {
        int64_t mults = wino_axis_tiles(cg_dim(sy, 2), a->dilation[0], s) *
                        wino_axis_tiles(cg_dim(sy, 3), a->dilation[1], s) * (s + 2) * (s + 2);
        if (2 * mults <= direct && (!tile || mults < best))
            tile = s, best = mults;
    }
    return tile;
}

/* The output tile of conv n's Winograd (4 or 2), or 0 for the direct kernel.
 * --conv=auto (direct off the host target or with a flash
 * budget) takes convs with >= 64 input and output channels and an output of
 * >= 16x16 (the rule measured when Winograd was opt-in: below it the direct
 * kernel is as fast), as F(4x4) when both channel counts are >= 128, else as
 * F(2x2); dilated convs by wino_tile_dilated's cost rule. Why two tiles:
 * F(4x4)'s fp32 GEMM sums round ~3x more than the
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
    /* auto: host only (off it the direct kernels are measured; --max-flash
     * cannot count U) */
    if (c->conv != CG_CONV_AUTO || c->target != CG_TARGET_HOST || c->max_flash > 0)
        return 0;
    const Shape *sw = &c->g->vals[n->in[1]].shape, *sy = &c->g->vals[n->out].shape;
    int64_t oc = cg_dim(sw, 0), ch = cg_dim(sw, 1);
    if (oc < 64 || ch < 64 || cg_dim(sy, 2) < 16 || cg_dim(sy, 3) < 16)
        return 0;
    bool f4 = oc >= 128 && ch >= 128;
    if (n->attrs.conv.dilation[0] > 1 || n->attrs.conv.dilation[1] > 1)
        return wino_tile_dilated(c, n, f4);
    return f4 ? 4 : 2;
}

bool cg_wino_chosen(const CgCtx *c, const Node *n)
{
    return wino_tile(c, n) != 0;
}

/* nasc_rt_wino's v (36 x 64 x 64 floats, whatever the tile) and m. */
int64_t cg_node_scratch_bytes(const CgCtx *c, const Node *n)
{
    int s = n->op == OP_CONV2D ? wino_tile(c, n) : 0;
    return s ? (36 * 64 * 64 + (int64_t)(s + 2) * (s + 2) * 16 * 64) * (int64_t)sizeof(float)
             : 0;
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
    cg_use_kernel(c, CK_WINO);
    cg_conv_params(c, n);
    cg_buf_printf(&c->body, "        nasc_rt_wino(%s, %s, %s, %s, %s, &p, %d, %d, %s);\n    }\n",
                  xs, us, bs, rs, cg_val(c, y), a->act == ACT_RELU, s, cg_scratch(c, n));
    return true;
}
