/* plot.h — pictures of a search: SVG line charts (loss, mIoU, alpha and
 * beta over epochs) and diagrams of what was found (a cell, a network path)
 * as Graphviz DOT and as SVG drawn here, so no Graphviz is needed to look.
 * Every writer builds the text in memory and writes the file whole
 * (temporary file + rename). Output is deterministic.
 */
#ifndef NASC_SEARCH_PLOT_H
#define NASC_SEARCH_PLOT_H

#include "ir/ir.h" /* and <stdio.h> */

typedef struct PlotSeries {
    const char *name;
    const double *y; /* npoints values; NaN leaves a gap */
} PlotSeries;

/* A line chart of series over x = 0..npoints-1 (epochs). */
bool srch_svg_lines(const char *path, const char *title, const char *xlabel,
                    const PlotSeries *s, int nseries, int npoints, Diag *d);

/* One edge of a drawn cell: node `to` (0-based intermediate node) reads
 * input `from` (0, 1: the cell inputs; 2 + k: node k) through op. */
typedef struct DrawEdge {
    int from, to;
    const char *op;
} DrawEdge;

/* A cell: two inputs, nnodes intermediate nodes, an output concatenating
 * the nodes listed in concat[nconcat] (0-based node indices). */
bool srch_dot_cell(const char *path, const char *title, const DrawEdge *e, int ne, int nnodes,
                   const int *concat, int nconcat, Diag *d);
bool srch_svg_cell(const char *path, const char *title, const DrawEdge *e, int ne, int nnodes,
                   const int *concat, int nconcat, Diag *d);

/* A network-level path: level (0..3, stride 4 << level) of each of the
 * nlayers cells, drawn on the layer x level lattice; weights (may be NULL)
 * gives per (layer, level, edge 0..2 = down/same/up) a strength drawn as
 * the lattice edges' opacity. */
bool srch_dot_path(const char *path, const int *levels, int nlayers, Diag *d);
bool srch_svg_path(const char *path, const int *levels, int nlayers, const float *weights,
                   Diag *d);

/* Writes len bytes to path whole or not at all. */
bool srch_write_file(const char *path, const char *text, size_t len, Diag *d);
/* The same for any content: write(f, ctx) fills a temporary file beside
 * path (returning false on a short write), which then replaces path; on
 * any failure path is left as it was and d says why. */
bool srch_write_file_with(const char *path, bool (*write)(FILE *f, void *ctx), void *ctx,
                          Diag *d);

#endif
