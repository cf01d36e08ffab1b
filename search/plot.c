/* plot.c — SVG charts and DOT/SVG diagrams of a search (plot.h).
 *
 * Plain string building: a growable buffer with printf, no layout engine.
 * The cell is drawn left to right (inputs, nodes in order, output) with
 * edges as labelled quadratic curves; the path on a fixed lattice grid.
 */
#include "search/plot.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct Buf {
    char *s;
    size_t len, cap;
    bool oom;
} Buf;

static void bprintf(Buf *b, const char *fmt, ...) NASC_PRINTF(2, 3);
static void bprintf(Buf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->len;
        int n = b->s ? vsnprintf(b->s + b->len, room, fmt, ap) : -1;
        va_end(ap);
        if (n >= 0 && (size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t ncap = b->cap * 2 + (n > 0 ? (size_t)n : 0) + 4096;
        char *ns = b->oom ? NULL : realloc(b->s, ncap);
        if (!ns) {
            b->oom = true;
            return;
        }
        b->s = ns, b->cap = ncap;
    }
}

bool srch_write_file_with(const char *path, bool (*write)(FILE *f, void *ctx), void *ctx,
                          Diag *d)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp) {
        diag_error(d, loc_file(path), "out of memory");
        return false;
    }
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (fd >= 0)
        fchmod(fd, 0644); /* mkstemp's 0600 would surprise on an output file */
    bool ok = f && write(f, ctx);
    ok = f ? (fclose(f) == 0) && ok : false;
    ok = ok && rename(tmp, path) == 0;
    if (!ok) {
        diag_error(d, loc_file(path), "cannot write: %s", strerror(errno ? errno : EIO));
        if (fd >= 0)
            unlink(tmp);
        if (fd >= 0 && !f)
            close(fd);
    }
    free(tmp);
    return ok;
}

typedef struct Text {
    const char *s;
    size_t len;
} Text;

static bool write_text(FILE *f, void *ctx)
{
    const Text *t = ctx;
    return fwrite(t->s, 1, t->len, f) == t->len;
}

bool srch_write_file(const char *path, const char *text, size_t len, Diag *d)
{
    Text t = {text, len};
    return srch_write_file_with(path, write_text, &t, d);
}

static bool finish(Buf *b, const char *path, Diag *d)
{
    bool ok = !b->oom && srch_write_file(path, b->s, b->len, d);
    if (b->oom)
        diag_error(d, loc_file(path), "out of memory");
    free(b->s);
    return ok;
}

static const char *const palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                      "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
enum { NPAL = sizeof palette / sizeof palette[0] };

/* ---- line charts ---- */

static void value_range(const PlotSeries *s, int ns, int np, double *lo, double *hi)
{
    *lo = INFINITY, *hi = -INFINITY;
    for (int i = 0; i < ns; i++)
        for (int k = 0; k < np; k++)
            if (isfinite(s[i].y[k])) {
                *lo = fmin(*lo, s[i].y[k]);
                *hi = fmax(*hi, s[i].y[k]);
            }
    if (!isfinite(*lo))
        *lo = 0, *hi = 1;
    if (*hi - *lo < 1e-12)
        *lo -= 0.5, *hi += 0.5;
}

bool srch_svg_lines(const char *path, const char *title, const char *xlabel,
                    const PlotSeries *s, int nseries, int npoints, Diag *d)
{
    const double W = 640, H = 360, x0 = 60, y0 = 30, pw = 420, ph = 280;
    double lo, hi;
    value_range(s, nseries, npoints, &lo, &hi);
    double xs = npoints > 1 ? pw / (npoints - 1) : 0;
    Buf b = {0};
    bprintf(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                "font-family=\"sans-serif\" font-size=\"11\">\n", W, H);
    bprintf(&b, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    bprintf(&b, "<text x=\"%.0f\" y=\"18\" font-size=\"14\">%s</text>\n", x0, title);
    bprintf(&b, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" "
                "stroke=\"#888\"/>\n", x0, y0, pw, ph);
    for (int t = 0; t <= 4; t++) { /* y ticks */
        double v = lo + (hi - lo) * t / 4, y = y0 + ph - ph * t / 4;
        bprintf(&b, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%.4g</text>\n", x0 - 4,
                y + 4, v);
    }
    bprintf(&b, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">%s (0..%d)</text>\n",
            x0 + pw / 2, y0 + ph + 20, xlabel, npoints > 0 ? npoints - 1 : 0);
    for (int i = 0; i < nseries; i++) {
        const char *col = palette[i % NPAL];
        bool pen = false;
        bprintf(&b, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" d=\"", col);
        for (int k = 0; k < npoints; k++) {
            if (!isfinite(s[i].y[k])) {
                pen = false;
                continue;
            }
            double x = x0 + xs * k, y = y0 + ph - ph * (s[i].y[k] - lo) / (hi - lo);
            bprintf(&b, "%s%.1f %.1f ", pen ? "L" : "M", x, y);
            pen = true;
        }
        bprintf(&b, "\"/>\n");
        double ly = y0 + 12 + 14 * i;
        bprintf(&b, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"%s\" "
                    "stroke-width=\"2\"/>\n", x0 + pw + 10, ly - 4, x0 + pw + 28, ly - 4, col);
        bprintf(&b, "<text x=\"%.0f\" y=\"%.0f\">%s</text>\n", x0 + pw + 32, ly, s[i].name);
    }
    bprintf(&b, "</svg>\n");
    return finish(&b, path, d);
}

/* ---- cells ---- */

static const char *cell_node_name(int k, char *buf, size_t n)
{
    if (k == 0)
        return "c_{k-2}";
    if (k == 1)
        return "c_{k-1}";
    snprintf(buf, n, "%d", k - 2);
    return buf;
}

bool srch_dot_cell(const char *path, const char *title, const DrawEdge *e, int ne, int nnodes,
                   const int *concat, int nconcat, Diag *d)
{
    Buf b = {0};
    char n1[16], n2[16];
    bprintf(&b, "digraph cell {\n  label=\"%s\";\n  rankdir=LR;\n  node [shape=box, "
                "style=filled, fillcolor=lightgrey];\n", title);
    bprintf(&b, "  \"c_{k-2}\" [fillcolor=darkseagreen2];\n  \"c_{k-1}\" [fillcolor="
                "darkseagreen2];\n  \"c_{k}\" [fillcolor=palegoldenrod];\n");
    for (int k = 0; k < nnodes; k++)
        bprintf(&b, "  \"%d\" [fillcolor=lightblue];\n", k);
    for (int i = 0; i < ne; i++)
        bprintf(&b, "  \"%s\" -> \"%s\" [label=\"%s\"];\n",
                cell_node_name(e[i].from, n1, sizeof n1),
                cell_node_name(e[i].to + 2, n2, sizeof n2), e[i].op);
    for (int i = 0; i < nconcat; i++)
        bprintf(&b, "  \"%d\" -> \"c_{k}\";\n", concat[i]);
    bprintf(&b, "}\n");
    return finish(&b, path, d);
}

bool srch_svg_cell(const char *path, const char *title, const DrawEdge *e, int ne, int nnodes,
                   const int *concat, int nconcat, Diag *d)
{
    /* columns: inputs at x=0 (two rows), node k at column k+1, output last */
    const double cw = 130, top = 40, bw = 70, bh = 26;
    int ncol = nnodes + 2;
    double W = cw * ncol + 40, H = 260;
    double px[64], py[64];
    if (nnodes + 3 > 64) {
        diag_error(d, loc_file(path), "cell too large to draw (%d nodes)", nnodes);
        return false;
    }
    px[0] = px[1] = 20, py[0] = top + 40, py[1] = top + 150;
    for (int k = 0; k < nnodes; k++)
        px[k + 2] = 20 + cw * (k + 1), py[k + 2] = top + 95 + ((k % 2) ? 40 : -40);
    px[nnodes + 2] = 20 + cw * (nnodes + 1), py[nnodes + 2] = top + 95;
    Buf b = {0};
    char nm[16];
    bprintf(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                "font-family=\"sans-serif\" font-size=\"10\">\n<rect width=\"100%%\" "
                "height=\"100%%\" fill=\"white\"/>\n<text x=\"10\" y=\"18\" font-size=\"13\">"
                "%s</text>\n", W, H, title);
    for (int i = 0; i < ne; i++) {
        double xa = px[e[i].from] + bw, ya = py[e[i].from] + bh / 2;
        double xb = px[e[i].to + 2], yb = py[e[i].to + 2] + bh / 2;
        double mx = (xa + xb) / 2, my = (ya + yb) / 2 - 18 - 6 * (i % 3);
        bprintf(&b, "<path d=\"M%.1f %.1f Q%.1f %.1f %.1f %.1f\" fill=\"none\" stroke=\"%s\"/>\n",
                xa, ya, mx, my, xb, yb, palette[i % NPAL]);
        bprintf(&b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"%s\">%s</text>\n",
                mx, (ya + yb) / 2 - 12 - 6 * (i % 3), palette[i % NPAL], e[i].op);
    }
    for (int i = 0; i < nconcat; i++) {
        int k = concat[i] + 2;
        bprintf(&b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" "
                    "stroke-dasharray=\"3 2\"/>\n", px[k] + bw, py[k] + bh / 2,
                px[nnodes + 2], py[nnodes + 2] + bh / 2);
    }
    for (int k = 0; k < nnodes + 3; k++) {
        const char *fill = k < 2 ? "#cdeccd" : k == nnodes + 2 ? "#eee8aa" : "#cde4f5";
        const char *label = k == nnodes + 2 ? "c_{k}" : cell_node_name(k, nm, sizeof nm);
        bprintf(&b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.0f\" height=\"%.0f\" rx=\"4\" "
                    "fill=\"%s\" stroke=\"#555\"/>\n<text x=\"%.1f\" y=\"%.1f\" "
                    "text-anchor=\"middle\">%s</text>\n", px[k], py[k], bw, bh, fill,
                px[k] + bw / 2, py[k] + bh / 2 + 4, label);
    }
    bprintf(&b, "</svg>\n");
    return finish(&b, path, d);
}

/* ---- network paths ---- */

bool srch_dot_path(const char *path, const int *levels, int nlayers, Diag *d)
{
    Buf b = {0};
    bprintf(&b, "digraph path {\n  rankdir=LR;\n  node [shape=circle, style=filled, "
                "fillcolor=lightblue];\n  stem [shape=box, label=\"stem\\n/4\"];\n");
    for (int l = 0; l < nlayers; l++)
        bprintf(&b, "  L%d [label=\"%d\\n/%d\"];\n", l, l, 4 << levels[l]);
    bprintf(&b, "  aspp [shape=box, label=\"ASPP + decoder\"];\n  stem -> L0;\n");
    for (int l = 1; l < nlayers; l++)
        bprintf(&b, "  L%d -> L%d;\n", l - 1, l);
    if (nlayers > 0)
        bprintf(&b, "  L%d -> aspp;\n", nlayers - 1);
    bprintf(&b, "}\n");
    return finish(&b, path, d);
}

bool srch_svg_path(const char *path, const int *levels, int nlayers, const float *weights,
                   Diag *d)
{
    const double gx = 48, gy = 50, x0 = 70, y0 = 50;
    double W = x0 + gx * (nlayers + 1) + 20, H = y0 + gy * 4 + 30;
    Buf b = {0};
    bprintf(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                "font-family=\"sans-serif\" font-size=\"10\">\n<rect width=\"100%%\" "
                "height=\"100%%\" fill=\"white\"/>\n<text x=\"10\" y=\"20\" font-size=\"13\">"
                "network path (stride per layer)</text>\n", W, H);
    for (int s = 0; s < 4; s++)
        bprintf(&b, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">/%d</text>\n", x0 - 12,
                y0 + gy * s + 4, 4 << s);
    for (int l = 0; l + 1 < nlayers && weights; l++) /* lattice edges by strength */
        for (int s = 0; s < 4; s++)
            for (int e = 0; e < 3; e++) {
                int t = s + e - 1;
                float wgt = weights[(l * 4 + s) * 3 + e];
                if (t < 0 || t > 3 || !(wgt > 0.02f))
                    continue;
                bprintf(&b, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" "
                            "stroke=\"#1f77b4\" stroke-opacity=\"%.2f\"/>\n", x0 + gx * (l + 1),
                        y0 + gy * s, x0 + gx * (l + 2), y0 + gy * t, wgt > 1 ? 1.0 : wgt);
            }
    for (int l = 0; l < nlayers; l++)
        for (int s = 0; s < 4; s++)
            bprintf(&b, "<circle cx=\"%.0f\" cy=\"%.0f\" r=\"4\" fill=\"#ccc\"/>\n",
                    x0 + gx * (l + 1), y0 + gy * s);
    bprintf(&b, "<path fill=\"none\" stroke=\"#d62728\" stroke-width=\"3\" d=\"M%.0f %.0f ",
            x0, y0);
    for (int l = 0; l < nlayers; l++)
        bprintf(&b, "L%.0f %.0f ", x0 + gx * (l + 1), y0 + gy * levels[l]);
    bprintf(&b, "\"/>\n<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">stem</text>\n", x0 - 4,
            y0 - 10);
    for (int l = 0; l < nlayers; l++)
        bprintf(&b, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">%d</text>\n",
                x0 + gx * (l + 1), H - 8, l);
    bprintf(&b, "</svg>\n");
    return finish(&b, path, d);
}
