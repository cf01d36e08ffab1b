/* emit_c_kernels.c — the runtime kernels pasted into emitted C files.
 *
 * Each entry is C99 text that the emitter copies verbatim, once, into any
 * file that calls it (cg_use_kernel marks it). The text must compile clean
 * under -std=c99 -Wall -Wextra -Werror -pedantic with gcc and clang (also
 * -Wconversion -Wshadow -Wdouble-promotion -Wfloat-equal, which firmware
 * builds like), use no libm and no globals, and match runtime/ref/ semantics
 * (the tests run both). Indices are int: the emitter rejects any tensor of
 * more than INT_MAX elements, and every index below is bounded by some
 * tensor's size. A kernel's dependencies have smaller enum values, so
 * emitting in enum order defines everything before use.
 */
#include "internal.h"

static const char k_span[] =
    "/* Outputs o in [*lo, *hi) whose tap o*s + off lies inside [0, n). */\n"
    "static void nasc_rt_span(int off, int s, int n, int nout, int *lo, int *hi)\n"
    "{\n"
    "    int a = -off, b = n - 1 - off; /* want a <= o*s <= b */\n"
    "    *lo = a <= 0 ? 0 : (a + s - 1) / s;\n"
    "    *hi = b < 0 ? 0 : b / s + 1;\n"
    "    if (*hi > nout)\n"
    "        *hi = nout;\n"
    "    if (*lo > *hi)\n"
    "        *lo = *hi;\n"
    "}\n"
    ;

static const char k_conv_p[] =
    "/* Geometry of a convolution x[n,c,h,w] * w[oc, c/groups, kh, kw] -> y[n,oc,oh,ow]:\n"
    " * strides sh, sw; top and left padding pt, pl (bottom and right padding are\n"
    " * implied by oh, ow); dilations dh, dw. */\n"
    "typedef struct nasc_rt_conv_p {\n"
    "    int n, c, h, w, oc, oh, ow, kh, kw, sh, sw, pt, pl, dh, dw, groups;\n"
    "} nasc_rt_conv_p;\n"
    ;

static const char k_pool_p[] =
    "/* Geometry of a pooling window over x[nc,h,w] -> y[nc,oh,ow]; pads are\n"
    " * top, left, bottom, right. */\n"
    "typedef struct nasc_rt_pool_p {\n"
    "    int nc, h, w, oh, ow, kh, kw, sh, sw, pt, pl, pb, pr, count_include_pad;\n"
    "} nasc_rt_pool_p;\n"
    ;

static const char k_window[] =
    "/* Window of output o along one axis, clipped to the input: [*lo, *hi).\n"
    " * Returns its size clipped to the padded input only, which is the divisor\n"
    " * of average pooling with count_include_pad. */\n"
    "static int nasc_rt_window(int o, int n, int k, int s, int plo, int phi, int *lo, int *hi)\n"
    "{\n"
    "    int b = o * s - plo, e = b + k;\n"
    "    if (e > n + phi)\n"
    "        e = n + phi;\n"
    "    *lo = b < 0 ? 0 : b;\n"
    "    *hi = e > n ? n : e;\n"
    "    return e - b;\n"
    "}\n"
    ;

/* A conv's fused epilogue (Conv2dAttrs: y = act(conv + addend)) where the
 * kernel itself does not apply it: after each plane of the generic kernel,
 * after the call of a depthwise or dense one. Same operations in the same
 * order as the unfused add and relu kernels, so the same bits. */
static const char k_epilogue[] =
    "/* y = relu?(y + r) over count floats; r may be NULL (no addend). */\n"
    "static void nasc_rt_epilogue(float *restrict y, const float *restrict r, int relu,\n"
    "                             int count)\n"
    "{\n"
    "    if (r)\n"
    "        for (int i = 0; i < count; i++)\n"
    "            y[i] = y[i] + r[i];\n"
    "    if (relu)\n"
    "        for (int i = 0; i < count; i++)\n"
    "            y[i] = y[i] > 0.0f ? y[i] : 0.0f;\n"
    "}\n"
    ;

/* The input as a kernel loads it: as is, or through a fused pre=relu
 * (the relu kernel's expression). One kernel text per form, so the common
 * form pays nothing for the other. */
#define LOAD_PLAIN(E) E
#define LOAD_RELU(E) "(" E " > 0.0f ? " E " : 0.0f)"

/* restrict here and in nasc_rt_conv2d: an output never overlaps its node's
 * inputs (the memory plan's rule); without it clang vectorises the tap loop
 * of a copy specialised on constant geometry only with alias checks, or not
 * at all (the JIT's copies for the stem and FactorizedReduce stayed scalar). */
#define K_CONV_PLANE(SFX, LOAD)                                                              \
    "/* yo[oh,ow] += correlation of one input plane xi[h,w] with one filter\n"                \
    " * wk[kh,kw]. Each tap runs over the output range that reads inside the\n"                \
    " * input, so the zero padding costs nothing and no bounds test is needed. */\n"          \
    "static void nasc_rt_conv_plane" SFX "(const float *restrict xi,\n"                       \
    "        const float *restrict wk, float *restrict yo, const nasc_rt_conv_p *p)\n"        \
    "{\n"                                                                                     \
    "    for (int ky = 0; ky < p->kh; ky++) {\n"                                              \
    "        int ylo, yhi;\n"                                                                 \
    "        nasc_rt_span(ky * p->dh - p->pt, p->sh, p->h, p->oh, &ylo, &yhi);\n"            \
    "        for (int kx = 0; kx < p->kw; kx++) {\n"                                          \
    "            int xlo, xhi, offx = kx * p->dw - p->pl;\n"                                  \
    "            float wv = wk[ky * p->kw + kx];\n"                                           \
    "            nasc_rt_span(offx, p->sw, p->w, p->ow, &xlo, &xhi);\n"                       \
    "            for (int oy = ylo; oy < yhi; oy++) {\n"                                      \
    "                const float *xr = xi + (oy * p->sh + ky * p->dh - p->pt) * p->w;\n"      \
    "                float *yr = yo + oy * p->ow;\n"                                          \
    "                for (int ox = xlo; ox < xhi; ox++)\n"                                    \
    "                    yr[ox] += wv * " LOAD("xr[ox * p->sw + offx]") ";\n"                \
    "            }\n"                                                                         \
    "        }\n"                                                                             \
    "    }\n"                                                                                 \
    "}\n"

static const char k_conv_plane[] = K_CONV_PLANE("", LOAD_PLAIN);
static const char k_conv_plane_pre[] = K_CONV_PLANE("_pre", LOAD_RELU);

/* The generic convolution, also the fallback of every form the fast
 * kernels do not take (a pre=relu the depthwise and dense kernels lack). */
#define K_CONV2D(SFX, WHAT)                                                                  \
    "/* Direct convolution with stride, padding, dilation and groups" WHAT "; b and\n"       \
    " * r may be NULL. Fused: y = relu?(conv + b + r). */\n"                                  \
    "static void nasc_rt_conv2d" SFX "(const float *restrict x, const float *restrict w,\n"   \
    "        const float *restrict b, const float *restrict r, float *restrict y,\n"          \
    "        const nasc_rt_conv_p *p, int relu)\n"                                            \
    "{\n"                                                                                     \
    "    int icg = p->c / p->groups, ocg = p->oc / p->groups;\n"                              \
    "    int hw = p->h * p->w, ohw = p->oh * p->ow, khw = p->kh * p->kw;\n"                   \
    "    for (int n = 0; n < p->n; n++)\n"                                                    \
    "        for (int o = 0; o < p->oc; o++) {\n"                                             \
    "            const float *xg = x + (n * p->c + o / ocg * icg) * hw; /* o's group */\n"    \
    "            float *yo = y + (n * p->oc + o) * ohw;\n"                                    \
    "            float bias = b ? b[o] : 0.0f;\n"                                             \
    "            for (int i = 0; i < ohw; i++)\n"                                             \
    "                yo[i] = bias;\n"                                                         \
    "            for (int i = 0; i < icg; i++)\n"                                             \
    "                nasc_rt_conv_plane" SFX "(xg + i * hw, w + (o * icg + i) * khw, yo, p);\n" \
    "            nasc_rt_epilogue(yo, r ? r + (n * p->oc + o) * ohw : r, relu, ohw);\n"       \
    "        }\n"                                                                             \
    "}\n"

static const char k_conv2d[] = K_CONV2D("", "");
static const char k_conv2d_pre[] = K_CONV2D("_pre", ", reading relu(x)");

/* Pointwise convolution. Most of a DARTS net's multiply-adds are here, so
 * it is register-blocked: a tile of 6 output channels x 32 contiguous
 * positions is accumulated in a local array whose trip counts are constants
 * (gcc and clang keep it in vector registers and unroll), the weight of each
 * row is a scalar broadcast, and the input panel x[:, j..j+32) is reused by
 * every channel tile before the next panel. Every output is still
 * b[o] + w[o,0]*x[0,j] + w[o,1]*x[1,j] + ..., the plain loop's order, so the
 * tiling changes no rounding. 6 x 32 measured best on the host (AVX-512 and
 * AVX2 compilers both vectorise it); nasc_rt_pw_row takes the channels
 * left over, nasc_rt_pw_narrow maps narrower than one tile.
 * Fusions: a pre=relu is one max per x load (shared by six channels), in a
 * "_pre" copy of these texts. The addend and act are applied by the
 * drivers (below) to each block right after it is stored, still in L1, so
 * the tiles are the unfused ones.
 * Prefetch: a DARTS ImageNet inference reads ~19 MB of weights, more than
 * L2, so a tile's first pass over its 6 x c weights comes from L3, and on
 * small maps (7x7: two column tiles) that latency shows: 192 -> 192 on 7x7
 * ran at ~117 GFLOP/s with weights in L2 but ~75-80 with them cold (as in
 * the net, ~70). So each tile of the first column block first prefetches
 * the next tile's 6 * c weights (contiguous); net: pointwise time -8%
 * (ImageNet), -6% (CIFAR). The hints go before the i loop, not in it: in
 * it, gcc stopped unrolling the loop and 48 -> 48 on 28x28 fell from ~128
 * to ~100 GFLOP/s. */
#define K_PW_TILES(SFX, LOAD)                                                                \
    "/* A hint to load the cache line at p into the caches (no effect on results). */\n"      \
    "#if defined(__GNUC__)\n"                                                                 \
    "#define NASC_RT_PREFETCH(p) __builtin_prefetch((p), 0, 2)\n"                             \
    "#else\n"                                                                                 \
    "#define NASC_RT_PREFETCH(p) ((void)(p))\n"                                               \
    "#endif\n"                                                                                \
    "\n"                                                                                      \
    "/* y[o0..o0+6, j..j+32) of a pointwise convolution; x, w, b, y point at\n"              \
    " * the tile's first column / row; rows of x and y are hw apart, of w c. The\n"           \
    " * six rows are written out, not a loop: with a row loop gcc may interchange\n"          \
    " * it with the i loop (it did, in clones specialised on hw), which leaves\n"             \
    " * the accumulators in memory; as six 32-wide loops in one i loop they are\n"            \
    " * vectorised, unrolled and kept in registers. nw, when not NULL, is the\n"             \
    " * next tile's w, whose 6 * c weights (contiguous) are prefetched first. */\n"          \
    "static void nasc_rt_pw_tile" SFX "(const float *restrict x, const float *restrict w,\n"  \
    "        const float *restrict b, float *restrict y, int c, int hw, const float *nw)\n"  \
    "{\n"                                                                                     \
    "    float a0[32], a1[32], a2[32], a3[32], a4[32], a5[32];\n"                             \
    "    const float *w0 = w, *w1 = w0 + c, *w2 = w1 + c, *w3 = w2 + c, *w4 = w3 + c;\n"     \
    "    const float *w5 = w4 + c;\n"                                                         \
    "    for (int j = 0; j < 32; j++) {\n"                                                    \
    "        a0[j] = b ? b[0] : 0.0f;\n"                                                      \
    "        a1[j] = b ? b[1] : 0.0f;\n"                                                      \
    "        a2[j] = b ? b[2] : 0.0f;\n"                                                      \
    "        a3[j] = b ? b[3] : 0.0f;\n"                                                      \
    "        a4[j] = b ? b[4] : 0.0f;\n"                                                      \
    "        a5[j] = b ? b[5] : 0.0f;\n"                                                      \
    "    }\n"                                                                                 \
    "    for (int k = 0; nw && k < 6 * c; k += 16)\n"                                         \
    "        NASC_RT_PREFETCH(nw + k);\n"                                                     \
    "    for (int i = 0; i < c; i++) {\n"                                                     \
    "        const float *restrict xi = x + i * hw;\n"                                        \
    "        float v0 = w0[i], v1 = w1[i], v2 = w2[i], v3 = w3[i], v4 = w4[i], v5 = w5[i];\n" \
    "        for (int j = 0; j < 32; j++) {\n"                                                \
    "            float xv = " LOAD("xi[j]") ";\n"                                             \
    "            a0[j] += v0 * xv;\n"                                                         \
    "            a1[j] += v1 * xv;\n"                                                         \
    "            a2[j] += v2 * xv;\n"                                                         \
    "            a3[j] += v3 * xv;\n"                                                         \
    "            a4[j] += v4 * xv;\n"                                                         \
    "            a5[j] += v5 * xv;\n"                                                         \
    "        }\n"                                                                             \
    "    }\n"                                                                                 \
    "    for (int j = 0; j < 32; j++) {\n"                                                    \
    "        y[j] = a0[j];\n"                                                                 \
    "        y[hw + j] = a1[j];\n"                                                            \
    "        y[2 * hw + j] = a2[j];\n"                                                        \
    "        y[3 * hw + j] = a3[j];\n"                                                        \
    "        y[4 * hw + j] = a4[j];\n"                                                        \
    "        y[5 * hw + j] = a5[j];\n"                                                        \
    "    }\n"                                                                                 \
    "}\n"                                                                                     \
    "\n"                                                                                      \
    "/* One output channel of the same tile: y[j..j+32). */\n"                                \
    "static void nasc_rt_pw_row" SFX "(const float *restrict x, const float *restrict w,\n"   \
    "        float bias, float *restrict y, int c, int hw)\n"                                 \
    "{\n"                                                                                     \
    "    float acc[32];\n"                                                                    \
    "    for (int j = 0; j < 32; j++)\n"                                                      \
    "        acc[j] = bias;\n"                                                                \
    "    for (int i = 0; i < c; i++) {\n"                                                     \
    "        const float *restrict xi = x + i * hw;\n"                                        \
    "        float wv = w[i];\n"                                                              \
    "        for (int j = 0; j < 32; j++)\n"                                                  \
    "            acc[j] += wv * " LOAD("xi[j]") ";\n"                                         \
    "    }\n"                                                                                 \
    "    for (int j = 0; j < 32; j++)\n"                                                      \
    "        y[j] = acc[j];\n"                                                                \
    "}\n"                                                                                     \
    "\n"                                                                                      \
    "/* One output channel of a map narrower than a tile (hw < 32). */\n"                     \
    "static void nasc_rt_pw_narrow" SFX "(const float *restrict x, const float *restrict w,\n" \
    "        float bias, float *restrict y, int c, int hw)\n"                                 \
    "{\n"                                                                                     \
    "    for (int j = 0; j < hw; j++)\n"                                                      \
    "        y[j] = bias;\n"                                                                  \
    "    for (int i = 0; i < c; i++) {\n"                                                     \
    "        const float *restrict xi = x + i * hw;\n"                                        \
    "        float wv = w[i];\n"                                                              \
    "        for (int j = 0; j < hw; j++)\n"                                                  \
    "            y[j] += wv * " LOAD("xi[j]") ";\n"                                           \
    "    }\n"                                                                                 \
    "}\n"

static const char k_pw_tiles[] = K_PW_TILES("", LOAD_PLAIN);
static const char k_pw_tiles_pre[] = K_PW_TILES("_pre", LOAD_RELU);

/* The vector path's 12-channel tiles of one column block, plain form. */
#define VEC12(EPI12)                                                                          \
    "            int nt = hw - j0 <= 16 ? 16 : 32, jt = j + 32 - nt; /* [jt, jt + nt) */\n"   \
    "            for (int o = 0; o < t12; o += 12) {\n"                                       \
    "                const float *nw = o + 12 < t12 ? w + (o + 12) * c : NULL;\n"          \
    "                if (nt == 16)\n"                                                         \
    "                    nasc_rt_pw_tile12_16(x + jt, w + o * c, b ? b + o : b,\n"            \
    "                                         y + o * hw + jt, c, hw, hw);\n"                 \
    "                else\n"                                                                  \
    "                    nasc_rt_pw_tile12(x + j, w + o * c, b ? b + o : b,\n"                \
    "                                      y + o * hw + j, c, hw, hw, nw);\n"                 \
    EPI12                                                                                     \
    "            }\n"

/* Pre form: relu(x) of the block is gathered once into col ([c][32],
 * contiguous) and the plain tile runs on it. The _pre tile re-applies the
 * relu for every 12 output channels and ran 15-20% slower per multiply-add
 * (ImageNet DARTS_V2: 10.70 -> 10.35 ms); it stays for c > 1024, beyond
 * col's 128 KiB of stack. relu is v > 0 ? v : 0 in both. */
#define VEC12_PRE(EPI12)                                                                      \
    "            float col[1024 * 32];\n"                                                     \
    "            for (int i = 0; c <= 1024 && i < c; i++)\n"                                  \
    "                for (int q = 0; q < 32; q++) {\n"                                        \
    "                    float v = x[i * hw + j + q];\n"                                      \
    "                    col[i * 32 + q] = v > 0.0f ? v : 0.0f;\n"                            \
    "                }\n"                                                                     \
    "            int nt = hw - j0 <= 16 && c <= 1024 ? 16 : 32, jt = j + 32 - nt;\n"        \
    "            for (int o = 0; o < t12; o += 12) {\n"                                       \
    "                const float *nw = o + 12 < t12 ? w + (o + 12) * c : NULL;\n"          \
    "                if (nt == 16)\n"                                                         \
    "                    nasc_rt_pw_tile12_16(col + 16, w + o * c, b ? b + o : b,\n"          \
    "                                         y + o * hw + jt, c, 32, hw);\n"                 \
    "                else if (c <= 1024)\n"                                                   \
    "                    nasc_rt_pw_tile12(col, w + o * c, b ? b + o : b,\n"                  \
    "                                      y + o * hw + j, c, 32, hw, nw);\n"                 \
    "                else\n"                                                                  \
    "                    nasc_rt_pw_tile12_pre(x + j, w + o * c, b ? b + o : b,\n"            \
    "                                          y + o * hw + j, c, hw, hw, nw);\n"             \
    EPI12                                                                                     \
    "            }\n"

/* The drivers, one text per fusion form (pre x addend x relu), emitted
 * only when used. Each block (a tile's six rows, a left-over row, a narrow
 * image) gets the addend and relu right after it is stored. The forms are
 * separate functions, not flags, because gcc's constant-propagation
 * cloning is what specialises the tiles on c and hw: given one driver with
 * an addend pointer that is NULL at most calls, gcc cloned it for "no
 * addend" across every shape, and the tiles under that clone stayed generic
 * (DARTS CIFAR ~10% slower). The overlapping last column tile recomputes
 * its outputs from x and stores them again before its epilogue, so no
 * output gets the epilogue twice. EPI6, EPI1, EPIN: the epilogue after a
 * tile, a row, a narrow image ("" for none). */
#define K_PW_DRIVER(SFX, TILE, FORM, RPARAM, RSTEP, EPI12, EPI6, EPI1, EPIN, V12)            \
    "/* Pointwise convolution y[n,oc,hw] = " FORM "; b may be NULL.\n"                        \
    " * Tiles of 12 channels (vector path) or 6 x 32 positions; when hw is not a\n"          \
    " * multiple of 32 the last column tile is moved left to end at hw, so it\n"             \
    " * overlaps the one before and recomputes a few outputs, bit for bit the\n"            \
    " * same values. */\n"                                                                    \
    "static void nasc_rt_conv2d_1x1" SFX "(const float *restrict x, const float *restrict w,\n" \
    "        const float *restrict b, " RPARAM "float *restrict y, int n, int c, int oc,\n"   \
    "        int hw)\n"                                                                       \
    "{\n"                                                                                     \
    "    int t12 = 0; /* channels [0, t12) go in tiles of 12 */\n"                            \
    "#ifdef NASC_RT_VEC\n"                                                                 \
    "    t12 = oc - oc % 12;\n"                                                               \
    "#endif\n"                                                                                \
    "    int tiled = oc - (oc - t12) % 6; /* then of 6; [tiled, oc) one at a time */\n"       \
    "    for (int in = 0; in < n; in++, x += c * hw, y += oc * hw" RSTEP ") {\n"              \
    "        if (hw < 32) {\n"                                                                \
    "            for (int o = 0; o < oc; o++)\n"                                              \
    "                nasc_rt_pw_narrow" TILE "(x, w + o * c, b ? b[o] : 0.0f, y + o * hw, c,\n" \
    "                                  hw);\n"                                                \
    EPIN                                                                                      \
    "            continue;\n"                                                                 \
    "        }\n"                                                                             \
    "        for (int j0 = 0; j0 < hw; j0 += 32) {\n"                                         \
    "            int j = j0 + 32 <= hw ? j0 : hw - 32;\n"                                     \
    "#ifdef NASC_RT_VEC\n"                                                                 \
    V12(EPI12)                                                                                \
    "#endif\n"                                                                                \
    "            for (int o = t12; o < tiled; o += 6) {\n"                                    \
    "                const float *nw = j0 == 0 && o + 6 < tiled ? w + (o + 6) * c : NULL;\n" \
    "                nasc_rt_pw_tile" TILE "(x + j, w + o * c, b ? b + o : b, y + o * hw + j,\n" \
    "                                c, hw, nw);\n"                                           \
    EPI6                                                                                      \
    "            }\n"                                                                         \
    "            for (int q = 0; q < oc % 6; q++) { /* q < 6: gcc sees the bound */\n"       \
    "                int o = tiled + q;\n"                                                    \
    "                nasc_rt_pw_row" TILE "(x + j, w + o * c, b ? b[o] : 0.0f, y + o * hw + j,\n" \
    "                               c, hw);\n"                                                \
    EPI1                                                                                      \
    "            }\n"                                                                         \
    "        }\n"                                                                             \
    "    }\n"                                                                                 \
    "}\n"

/* The addend block at offset E, or none; the epilogue texts of a form. */
#define ADDEND(E) "r + " E
#define NO_ADDEND(E) "NULL"
#define PW_FUSED(SFX, TILE, FORM, RPARAM, RSTEP, R, RELU, V12)                               \
    K_PW_DRIVER(SFX, TILE, FORM, RPARAM, RSTEP,                                               \
        "                for (int q = 0; q < 12; q++)\n"                                      \
        "                    nasc_rt_epilogue(y + (o + q) * hw + jt, "                        \
        R("(o + q) * hw + jt") ", " RELU ", nt);\n",                                          \
        "                for (int q = 0; q < 6; q++)\n"                                       \
        "                    nasc_rt_epilogue(y + (o + q) * hw + j, "                         \
        R("(o + q) * hw + j") ", " RELU ", 32);\n",                                           \
        "                nasc_rt_epilogue(y + o * hw + j, " R("o * hw + j") ", " RELU ", 32);\n", \
        "            nasc_rt_epilogue(y, " R("0") ", " RELU ", oc * hw);\n", V12)
#define RP "const float *restrict r, "
#define RS ", r += oc * hw"

static const char k_conv2d_1x1[] = K_PW_DRIVER("", "", "w[oc,c] * x[n,c,hw] + b", "", "",
                                               "", "", "", "", VEC12);
static const char k_conv2d_1x1_relu[] =
    PW_FUSED("_relu", "", "relu(w * x + b)", "", "", NO_ADDEND, "1", VEC12);
static const char k_conv2d_1x1_add[] =
    PW_FUSED("_add", "", "w * x + b + r", RP, RS, ADDEND, "0", VEC12);
static const char k_conv2d_1x1_add_relu[] =
    PW_FUSED("_add_relu", "", "relu(w * x + b + r)", RP, RS, ADDEND, "1", VEC12);
static const char k_conv2d_1x1_pre[] = K_PW_DRIVER("_pre", "_pre", "w * relu(x) + b", "", "",
                                                   "", "", "", "", VEC12_PRE);
static const char k_conv2d_1x1_pre_relu[] =
    PW_FUSED("_pre_relu", "_pre", "relu(w * relu(x) + b)", "", "", NO_ADDEND, "1",
             VEC12_PRE);
static const char k_conv2d_1x1_pre_add[] =
    PW_FUSED("_pre_add", "_pre", "w * relu(x) + b + r", RP, RS, ADDEND, "0", VEC12_PRE);
static const char k_conv2d_1x1_pre_add_relu[] =
    PW_FUSED("_pre_add_relu", "_pre", "relu(w * relu(x) + b + r)", RP, RS, ADDEND, "1",
             VEC12_PRE);
#undef RP
#undef RS

static const char k_batchnorm[] =
    "/* Eval-mode batch norm per channel: y = (x - mean) * scale + beta, where\n"
    " * scale = gamma / sqrt(var + eps) was computed by the compiler. Keeping the\n"
    " * mean subtraction (rather than folding it into a shift) avoids cancellation\n"
    " * when |mean| >> |x - mean|. beta may be NULL. */\n"
    "static void nasc_rt_batchnorm(const float *x, const float *mean, const float *scale,\n"
    "                              const float *beta, float *y, int n, int c, int hw)\n"
    "{\n"
    "    for (int in = 0; in < n; in++)\n"
    "        for (int ch = 0; ch < c; ch++) {\n"
    "            const float *xc = x + (in * c + ch) * hw;\n"
    "            float *yc = y + (in * c + ch) * hw;\n"
    "            float m = mean[ch], s = scale[ch], t = beta ? beta[ch] : 0.0f;\n"
    "            for (int j = 0; j < hw; j++)\n"
    "                yc[j] = (xc[j] - m) * s + t;\n"
    "        }\n"
    "}\n"
    ;

static const char k_relu[] =
    "static void nasc_rt_relu(const float *x, float *y, int count)\n"
    "{\n"
    "    for (int i = 0; i < count; i++)\n"
    "        y[i] = x[i] > 0.0f ? x[i] : 0.0f;\n"
    "}\n"
    ;

/* torch's CPU formula; no libm. */
static const char k_leaky_relu[] =
    "static void nasc_rt_leaky_relu(const float *x, float slope, float *y, int count)\n"
    "{\n"
    "    for (int i = 0; i < count; i++)\n"
    "        y[i] = x[i] > 0.0f ? x[i] : x[i] * slope;\n"
    "}\n"
    ;

static const char k_add[] =
    "static void nasc_rt_add(const float *a, const float *b, float *y, int count)\n"
    "{\n"
    "    for (int i = 0; i < count; i++)\n"
    "        y[i] = a[i] + b[i];\n"
    "}\n"
    ;

static const char k_argmax[] =
    "/* Labels: y[b, i] = the first channel with the largest x[b, :, i]. */\n"
    "static void nasc_rt_argmax(const float *x, uint8_t *y, int n, int c, int hw)\n"
    "{\n"
    "    for (int b = 0; b < n; b++)\n"
    "        for (int i = 0; i < hw; i++) {\n"
    "            const float *xi = x + (size_t)b * (size_t)c * (size_t)hw + i;\n"
    "            int best = 0;\n"
    "            for (int k = 1; k < c; k++)\n"
    "                if (xi[(size_t)k * (size_t)hw] > xi[(size_t)best * (size_t)hw])\n"
    "                    best = k;\n"
    "            y[(size_t)b * (size_t)hw + (size_t)i] = (uint8_t)best;\n"
    "        }\n"
    "}\n"
    ;

static const char k_copy_channels[] =
    "/* Concat step: x[n,cx,hw] into channels [c0, c0 + cx) of y[n,cy,hw]. In\n"
    " * NCHW one image's channels are contiguous, so it is one copy per image. */\n"
    "static void nasc_rt_copy_channels(const float *x, float *y, int n, int cx, int cy, int c0,\n"
    "                                  int hw)\n"
    "{\n"
    "    for (int in = 0; in < n; in++)\n"
    "        memcpy(y + (in * cy + c0) * hw, x + in * cx * hw,\n"
    "               (size_t)cx * (size_t)hw * sizeof *x);\n"
    "}\n"
    ;

static const char k_crop[] =
    "/* y[k,i,j] = x[k, top + i, left + j] for x[nc,h,w], y[nc,oh,ow]. */\n"
    "static void nasc_rt_crop(const float *x, float *y, int nc, int h, int w, int oh, int ow,\n"
    "                         int top, int left)\n"
    "{\n"
    "    for (int k = 0; k < nc; k++)\n"
    "        for (int i = 0; i < oh; i++) {\n"
    "            const float *xr = x + (k * h + top + i) * w + left;\n"
    "            float *yr = y + (k * oh + i) * ow;\n"
    "            for (int j = 0; j < ow; j++)\n"
    "                yr[j] = xr[j];\n"
    "        }\n"
    "}\n"
    ;

static const char k_zero[] =
    "static void nasc_rt_zero(float *y, int count)\n"
    "{\n"
    "    for (int i = 0; i < count; i++)\n"
    "        y[i] = 0.0f;\n"
    "}\n"
    ;

/* Each output is b[o] + x[0] * w[o,0] + x[1] * w[o,1] + ..., runtime/ref's
 * order: a chain of dependent adds. One output at a time ran at the FMA
 * latency (the 768 -> 1000 ImageNet classifier took 1.3 ms, ~1 GFLOP/s);
 * 32 outputs at a time keep 32 chains in flight, which gcc and clang
 * vectorise across outputs (gathers down the weight rows) and which then
 * run at memory speed (~0.2 ms). The last block repeats its last row. */
static const char k_linear[] =
    "/* y[n,k] = sum_c x[n,c] * w[k,c] + b[k]; b may be NULL. 32 outputs at a\n"
    " * time, each summed in c order. */\n"
    "static void nasc_rt_linear(const float *restrict x, const float *restrict w,\n"
    "                           const float *restrict b, float *restrict y, int n, int c,\n"
    "                           int k)\n"
    "{\n"
    CG_LINEAR_BLOCKS
    "            const float *restrict wr[32];\n"
    "            float s[32];\n"
    "            for (int q = 0; q < 32; q++) {\n"
    "                int o = o0 + (q < no ? q : no - 1);\n"
    "                wr[q] = w + o * c;\n"
    "                s[q] = b ? b[o] : 0.0f;\n"
    "            }\n"
    "            for (int j = 0; j < c; j++) {\n"
    "                float xv = x[j];\n"
    "                for (int q = 0; q < 32; q++)\n"
    "                    s[q] += xv * wr[q][j];\n"
    "            }\n"
    "            for (int q = 0; q < no; q++)\n"
    "                y[o0 + q] = s[q];\n"
    "        }\n"
    "}\n"
    ;

/* Bilinear resize. Each output row mixes two column-mixed input rows, and
 * each input row serves several output rows when upsampling (4 to 8 in
 * Auto-DeepLab's x4 decoder and logits), so the column mix of a row is
 * computed once into a stack buffer and kept while consecutive output rows
 * read it (the tables are monotonic), instead of once per output row: the
 * row mix is then a unit-stride loop at memory speed. Column blocks of 256
 * keep the buffers at 2 KiB (firmware frames). The values are the ones the
 * per-output formula gives: each column mix and row mix is the same
 * expression on the same operands. */
static const char k_resize_bilinear[] =
    "/* Column mix of input row r over output columns [j0, j0 + nj): t[j]. */\n"
    "static void nasc_rt_resize_row(const float *restrict r, float *restrict t, int j0,\n"
    "                               int nj, const int *x0, const int *x1, const float *lx)\n"
    "{\n"
    "    for (int j = 0; j < nj; j++) {\n"
    "        float d = lx[j0 + j], e = 1.0f - d;\n"
    "        t[j] = r[x0[j0 + j]] * e + r[x1[j0 + j]] * d;\n"
    "    }\n"
    "}\n"
    "\n"
    "/* Bilinear resize x[nc,h,w] -> y[nc,oh,ow] through tap tables made by nasc:\n"
    " * output row i mixes input rows y0[i], y1[i] with weights 1 - ly[i], ly[i],\n"
    " * output column j input columns x0[j], x1[j] with 1 - lx[j], lx[j]. Columns\n"
    " * are mixed first, then rows, in runtime/ref's order (same rounding). The\n"
    " * column mixes of the two rows in use are kept in t0, t1 (rows u0, u1). */\n"
    "static void nasc_rt_resize_bilinear(const float *x, float *y, int nc, int h, int w, int oh,\n"
    "                                    int ow, const int *y0, const int *y1, const float *ly,\n"
    "                                    const int *x0, const int *x1, const float *lx)\n"
    "{\n"
    "    float buf[2][256];\n"
    "    for (int k = 0; k < nc; k++, x += h * w, y += oh * ow)\n"
    "        for (int j0 = 0; j0 < ow; j0 += 256) {\n"
    "            int nj = ow - j0 < 256 ? ow - j0 : 256, u0 = -1, u1 = -1;\n"
    "            float *t0 = buf[0], *t1 = buf[1];\n"
    "            for (int i = 0; i < oh; i++) {\n"
    "                float b = ly[i], a = 1.0f - b, *yr = y + i * ow + j0;\n"
    "                if (u0 != y0[i] && u1 == y0[i]) { /* the old second row is now first */\n"
    "                    float *t = t0;\n"
    "                    t0 = t1, t1 = t, u0 = u1, u1 = -1;\n"
    "                }\n"
    "                if (u0 != y0[i])\n"
    "                    nasc_rt_resize_row(x + y0[i] * w, t0, j0, nj, x0, x1, lx), u0 = y0[i];\n"
    "                if (u1 != y1[i])\n"
    "                    nasc_rt_resize_row(x + y1[i] * w, t1, j0, nj, x0, x1, lx), u1 = y1[i];\n"
    "                for (int j = 0; j < nj; j++)\n"
    "                    yr[j] = t0[j] * a + t1[j] * b;\n"
    "            }\n"
    "        }\n"
    "}\n"
    ;

const CgKernelDef cg_kernels[NCK] = {
    [CK_SPAN] = {k_span, {-1, -1}, false},
    [CK_CONV_P] = {k_conv_p, {-1, -1}, false},
    [CK_POOL_P] = {k_pool_p, {-1, -1}, false},
    [CK_WINDOW] = {k_window, {-1, -1}, false},
    [CK_EPILOGUE] = {k_epilogue, {-1, -1}, false},
    [CK_CONV_PLANE] = {k_conv_plane, {CK_SPAN, CK_CONV_P}, false},
    [CK_CONV_PLANE_PRE] = {k_conv_plane_pre, {CK_SPAN, CK_CONV_P}, false},
    [CK_CONV2D] = {k_conv2d, {CK_CONV_PLANE, CK_EPILOGUE}, false},
    [CK_CONV2D_PRE] = {k_conv2d_pre, {CK_CONV_PLANE_PRE, CK_EPILOGUE}, false},
    [CK_DCONV_S1] = {cg_k_dconv_s1, {CK_SPAN, CK_CONV_P}, false},
    [CK_DCONV_S2] = {cg_k_dconv_s2, {CK_SPAN, CK_CONV_P}, false},
    [CK_PK_COMMON] = {cg_k_pk_common, {CK_CONV_P, -1}, false},
    [CK_PCONV_S1] = {cg_k_pconv_s1, {CK_PK_COMMON, -1}, false},
    [CK_PCONV_S2] = {cg_k_pconv_s2, {CK_PK_COMMON, -1}, false},
    [CK_PW_STRIDED] = {cg_k_pw_strided, {CK_CONV_P, -1}, false},
    [CK_WINO] = {cg_k_wino, {CK_CONV_P, -1}, false},
    [CK_VEC] = {cg_k_vec, {-1, -1}, false},
    [CK_PW_TILES] = {k_pw_tiles, {CK_PW_TILE12_16, CK_PW_TILE12}, false},
    [CK_PW_TILES_PRE] = {k_pw_tiles_pre, {CK_PW_TILE12, CK_PW_TILE12_PRE}, false},
    [CK_PW_TILE12] = {cg_k_pw_tile12, {CK_VEC, -1}, false},
    [CK_PW_TILE12_16] = {cg_k_pw_tile12_16, {CK_VEC, CK_PW_TILE12}, false},
    [CK_PW_TILE12_PRE] = {cg_k_pw_tile12_pre, {CK_VEC, CK_PW_TILE12_16}, false},
    [CK_I2C_S2] = {cg_k_i2c_s2, {CK_DCONV_S2, CK_PW_TILE12}, false},
    [CK_PW_S2G] = {cg_k_pw_s2g, {CK_PW_STRIDED, CK_PW_TILE12_16}, false},
    [CK_CONV2D_1X1] = {k_conv2d_1x1, {CK_PW_TILES, -1}, false},
    [CK_CONV2D_1X1_RELU] = {k_conv2d_1x1_relu, {CK_PW_TILES, CK_EPILOGUE}, false},
    [CK_CONV2D_1X1_ADD] = {k_conv2d_1x1_add, {CK_PW_TILES, CK_EPILOGUE}, false},
    [CK_CONV2D_1X1_ADD_RELU] = {k_conv2d_1x1_add_relu, {CK_PW_TILES, CK_EPILOGUE}, false},
    [CK_CONV2D_1X1_PRE] = {k_conv2d_1x1_pre, {CK_PW_TILES_PRE, -1}, false},
    [CK_CONV2D_1X1_PRE_RELU] = {k_conv2d_1x1_pre_relu, {CK_PW_TILES_PRE, CK_EPILOGUE}, false},
    [CK_CONV2D_1X1_PRE_ADD] = {k_conv2d_1x1_pre_add, {CK_PW_TILES_PRE, CK_EPILOGUE}, false},
    [CK_CONV2D_1X1_PRE_ADD_RELU] = {k_conv2d_1x1_pre_add_relu, {CK_PW_TILES_PRE, CK_EPILOGUE},
                                    false},
    [CK_PWP_TILE12] = {cg_k_pwp_tile12, {CK_VEC, -1}, false},
    [CK_PWP_TILE12_17] = {cg_k_pwp_tile12_17, {CK_VEC, -1}, false},
    [CK_PWP_BLOCK] = {cg_k_pwp_block, {CK_PWP_TILE12, CK_PWP_TILE12_17}, false},
    [CK_CONV2D_1X1P] = {cg_k_conv2d_1x1p, {CK_PWP_BLOCK, -1}, false},
    [CK_CONV2D_1X1P_RELU] = {cg_k_conv2d_1x1p_relu, {CK_PWP_BLOCK, CK_EPILOGUE}, false},
    [CK_CONV2D_1X1P_ADD] = {cg_k_conv2d_1x1p_add, {CK_PWP_BLOCK, CK_EPILOGUE}, false},
    [CK_CONV2D_1X1P_ADD_RELU] = {cg_k_conv2d_1x1p_add_relu, {CK_PWP_BLOCK, CK_EPILOGUE}, false},
    [CK_CONV2D_1X1P_PRE] = {cg_k_conv2d_1x1p_pre, {CK_PWP_BLOCK, -1}, false},
    [CK_CONV2D_1X1P_PRE_RELU] = {cg_k_conv2d_1x1p_pre_relu, {CK_PWP_BLOCK, CK_EPILOGUE}, false},
    [CK_CONV2D_1X1P_PRE_ADD] = {cg_k_conv2d_1x1p_pre_add, {CK_PWP_BLOCK, CK_EPILOGUE}, false},
    [CK_CONV2D_1X1P_PRE_ADD_RELU] = {cg_k_conv2d_1x1p_pre_add_relu,
                                     {CK_PWP_BLOCK, CK_EPILOGUE}, false},
    [CK_DWCONV2D] = {cg_k_dwconv2d, {CK_CONV_PLANE, -1}, false},
    [CK_DW_STAGE] = {cg_k_dw_stage, {CK_CONV_P, -1}, false},
    [CK_DWV3] = {cg_k_dwv3, {CK_VEC, CK_CONV_P}, false},
    [CK_DW3S1D1] = {cg_k_dw3s1d1, {CK_DW_STAGE, CK_DWV3}, false},
    [CK_DW3S1D2] = {cg_k_dw3s1d2, {CK_DW_STAGE, CK_DWV3}, false},
    [CK_DW3S2D1] = {cg_k_dw3s2d1, {CK_DW_STAGE, -1}, false},
    [CK_DW3S2D2] = {cg_k_dw3s2d2, {CK_DW_STAGE, -1}, false},
    [CK_DW5S1D1] = {cg_k_dw5s1d1, {CK_DW_STAGE, -1}, false},
    [CK_DW5S1D2] = {cg_k_dw5s1d2, {CK_DW_STAGE, -1}, false},
    [CK_DW5S2D1] = {cg_k_dw5s2d1, {CK_DW_STAGE, -1}, false},
    [CK_DW5S2D2] = {cg_k_dw5s2d2, {CK_DW_STAGE, -1}, false},
    [CK_BATCHNORM] = {k_batchnorm, {-1, -1}, false},
    [CK_RELU] = {k_relu, {-1, -1}, false},
    [CK_LEAKY_RELU] = {k_leaky_relu, {-1, -1}, false},
    [CK_ADD] = {k_add, {-1, -1}, false},
    [CK_MAXPOOL2D] = {cg_k_maxpool2d, {CK_POOL_P, CK_WINDOW}, false},
    [CK_AVGPOOL2D] = {cg_k_avgpool2d, {CK_POOL_P, CK_WINDOW}, false},
    [CK_AVG_AT] = {cg_k_avg_at, {CK_POOL_P, CK_WINDOW}, false},
    [CK_MAXPOOL3S1] = {cg_k_maxpool3s1, {CK_POOL_P, -1}, false},
    [CK_MAXPOOL3S2] = {cg_k_maxpool3s2, {CK_POOL_P, -1}, false},
    [CK_AVGPOOL3S1] = {cg_k_avgpool3s1, {CK_AVG_AT, CK_SPAN}, false},
    [CK_AVGPOOL3S2] = {cg_k_avgpool3s2, {CK_AVG_AT, CK_SPAN}, false},
    [CK_GAVGPOOL] = {cg_k_gavgpool, {-1, -1}, false},
    [CK_COPY_CHANNELS] = {k_copy_channels, {-1, -1}, true},
    [CK_CROP] = {k_crop, {-1, -1}, false},
    [CK_ZERO] = {k_zero, {-1, -1}, false},
    [CK_LINEAR] = {k_linear, {-1, -1}, false},
    [CK_LINEAR_PK] = {cg_k_linear_pk, {-1, -1}, false},
    [CK_RESIZE_BILINEAR] = {k_resize_bilinear, {-1, -1}, false},
    [CK_ARGMAX] = {k_argmax, {-1, -1}, false},
};

_Static_assert(sizeof cg_kernels / sizeof cg_kernels[0] == NCK, "kernel table incomplete");
