/* emit_c_s2b.c — the phase split and interleave of a dilated conv.
 *
 * passes/lower_dilation.c rewrites a conv with rate r (stride 1) into
 * space_to_batch (the r*r phase sub-images of the zero-padded input, as
 * batch entries) -> the same conv with dilation 1 and no padding, run by
 * the ordinary dense or depthwise kernel on that batch -> batch_to_space
 * (the phase outputs interleaved back, the excess rows cropped). The two
 * data movers are emitted here as kernels of their own, once per file, in
 * the file-scope declarations (they need nothing from emit_c_kernels.c).
 * Semantics: runtime/ref/shape_ops.c rt_ref_space_to_batch /
 * rt_ref_batch_to_space, which they copy exactly.
 */
#include "internal.h"

static const char k_phases[] =
    "\n/* space_to_batch: phase (py,px) of x[nc,h,w] zero-padded by top/left (and\n"
    " * whatever the phase size ph x pw needs at the bottom/right) goes to\n"
    " * y[py*r+px][nc][i][j] = xpad[py + r*i][px + r*j]. */\n"
    "static void nasc_rt_space_to_batch(const float *x, float *y, int nc, int h, int w,\n"
    "                                   int r, int top, int left, int ph, int pw)\n"
    "{\n"
    "    for (int p = 0; p < r * r; p++) {\n"
    "        int py = p / r, px = p % r;\n"
    "        int j0 = px >= left ? 0 : (left - px + r - 1) / r;\n"
    "        int j1 = w + left - px <= 0 ? 0 : (w + left - px + r - 1) / r;\n"
    "        j1 = j1 > pw ? pw : j1 < j0 ? j0 : j1;\n"
    "        for (int k = 0; k < nc; k++) {\n"
    "            const float *xp = x + k * h * w;\n"
    "            float *yp = y + (p * nc + k) * ph * pw;\n"
    "            for (int i = 0; i < ph; i++) {\n"
    "                int iy = py + r * i - top;\n"
    "                float *yr = yp + i * pw;\n"
    "                int lo = iy < 0 || iy >= h ? pw : j0, hi = lo == pw ? pw : j1;\n"
    "                for (int j = 0; j < lo; j++)\n"
    "                    yr[j] = 0.0f;\n"
    "                for (int j = lo; j < hi; j++)\n"
    "                    yr[j] = xp[iy * w + px + r * j - left];\n"
    "                for (int j = hi; j < pw; j++)\n"
    "                    yr[j] = 0.0f;\n"
    "            }\n"
    "        }\n"
    "    }\n"
    "}\n"
    "\n"
    "/* batch_to_space: y[nc][oy][ox] = x[py*r+px][nc][i][j] for oy + top = r*i + py,\n"
    " * ox + left = r*j + px: the phases of x[r*r][nc][ph][pw] interleaved. */\n"
    "static void nasc_rt_batch_to_space(const float *x, float *y, int nc, int ph, int pw,\n"
    "                                   int r, int top, int left, int oh, int ow)\n"
    "{\n"
    "    for (int k = 0; k < nc; k++)\n"
    "        for (int oy = 0; oy < oh; oy++) {\n"
    "            int py = (oy + top) % r, i = (oy + top) / r;\n"
    "            float *yr = y + (k * oh + oy) * ow;\n"
    "            for (int px = 0; px < r; px++) {\n"
    "                const float *xr = x + ((py * r + px) * nc + k) * ph * pw + i * pw;\n"
    "                int ox = (px - left % r + r) % r, j = (ox + left) / r;\n"
    "                for (; ox < ow; ox += r, j++)\n"
    "                    yr[ox] = xr[j];\n"
    "            }\n"
    "        }\n"
    "}\n";

static void use_phase_kernels(CgCtx *c)
{
    if (c->phase_kernels)
        return;
    c->phase_kernels = true;
    cg_buf_printf(&c->decls, "%s", k_phases);
}

static long long dim(const CgCtx *c, ValueId v, int i)
{
    return (long long)cg_dim(&c->g->vals[v].shape, i);
}

bool cg_emit_space_to_batch(CgCtx *c, const Node *n)
{
    ValueId x = n->in[0], y = n->out;
    const S2bAttrs *a = &n->attrs.s2b;
    const char *xs = cg_val(c, x);
    use_phase_kernels(c);
    cg_buf_printf(&c->body, "    nasc_rt_space_to_batch(%s, %s, %lld, %lld, %lld, %d, %d, %d, "
                  "%lld, %lld);\n", xs, cg_val(c, y), dim(c, x, 0) * dim(c, x, 1), dim(c, x, 2),
                  dim(c, x, 3), a->block, a->pad[0], a->pad[1], dim(c, y, 2), dim(c, y, 3));
    return true;
}

bool cg_emit_batch_to_space(CgCtx *c, const Node *n)
{
    ValueId x = n->in[0], y = n->out;
    const B2sAttrs *a = &n->attrs.b2s;
    const char *xs = cg_val(c, x);
    use_phase_kernels(c);
    cg_buf_printf(&c->body, "    nasc_rt_batch_to_space(%s, %s, %lld, %lld, %lld, %d, %d, %d, "
                  "%lld, %lld);\n", xs, cg_val(c, y), dim(c, y, 0) * dim(c, y, 1), dim(c, x, 2),
                  dim(c, x, 3), a->block, a->crop[0], a->crop[1], dim(c, y, 2), dim(c, y, 3));
    return true;
}
