/* adl_search.h — the Auto-DeepLab hierarchical search space
 * (NoamRosenberg/autodeeplab auto_deeplab.py, cell_level_search.py) as a
 * SuperNet, and the decoding of a searched architecture into an AdlArch
 * (decoding_formulas.py Decoder: network-level Viterbi, cell genotype).
 *
 * The lattice: `layers` columns of cells over four levels (output stride
 * 4, 8, 16, 32). The cell at (layer, level) exists when level <= layer + 1
 * and has F * 2^level channels per node; it runs its DAG once per input it
 * has — the previous layer's output one level finer (resized down), at the
 * same level, one level coarser (resized up) — with the MixedOp weights
 * shared by the three runs, and sums the runs weighted by the normalised
 * betas of their sources. Every level's last output feeds an ASPP head
 * (rates 24, 12, 6, 3); the four heads are upsampled to the input and summed
 * (with cfg->head_weights, weighted by a learned softmax first).
 *
 * Betas use the reference's [layers, 4, 3] layout: betas[layer][src][dir]
 * weighs the edge from the source at level src (layer-1's cell, or the stem
 * for layer 0) in direction dir: 0 = to level src-1, 1 = same level,
 * 2 = to level src+1. Normalisation (auto_deeplab.py forward and Decoder):
 * softmax over the valid directions of each (layer, src) with src <= layer;
 * at level 0 (dirs 1, 2) and level 3 (dirs 0, 1) the softmax is scaled by
 * 2/3. Unused entries are never read.
 */
#ifndef NASC_SEARCH_ADL_SEARCH_H
#define NASC_SEARCH_ADL_SEARCH_H

#include "frontend/frontend.h"
#include "search/supernet.h"

enum {
    ADL_NUM_OPS = 8,   /* PRIMITIVES (fe_adl_ops 0..7), the width of an alpha row */
    ADL_OP_SKIP = 3,   /* skip_connect's place in PRIMITIVES */
    ADL_LEVELS = 4,    /* output strides 4, 8, 16, 32 */
    ADL_DIRS = 3,      /* beta directions: finer, same, coarser */
    ADL_MAX_STEPS = 8,
    ADL_SEARCH_MAX_LAYERS = 64,
};

typedef struct AdlSearchConfig {
    int layers;            /* L, >= 3 (level 3 first appears at layer 2) */
    int filter_multiplier; /* F: a level-l cell has F * 2^l channels per node */
    int steps;             /* nodes per cell (5 for a decodable cell) */
    int block_multiplier;  /* B: the cell output concatenates its last B nodes */
    int classes;
    int in_ch, h, w;       /* input image */
    int batch;             /* N of the graph input */
    int aspp_rate;         /* dilation of the level-0 (stride 4) head's 3x3 ASPP conv,
                              halved per level (at least 1); 0 = the reference's 24,
                              which auto_deeplab.py chose for 321x321 crops */
    int max_skip;          /* decode: at most this many skip_connects in the cell
                              (P-DARTS's limit); < 0 = no limit, DARTS's rule */
    bool head_weights;     /* weigh the four heads by a learned softmax ("head_weights",
                              an arch param) instead of summing them; the decode then
                              ends the path where path weight x head weight is largest */
} AdlSearchConfig;

/* Where the architecture params sit in the graph. */
typedef struct AdlSearchVars {
    int layers, steps;
    ValueId alphas;        /* param [edges, 8] "alphas", shared by all cells */
    ValueId *betas;        /* [layers * 4]: param [2 or 3] "betas.<layer>.<src>", the valid
                              directions of betas[layer][src] in order; 0 if src > layer */
    ValueId *beta_weights; /* [layers * 4]: their normalised values (softmax, * 2/3 at
                              levels 0 and 3), what the cells' scale nodes read */
    ValueId heads;         /* param [4] "head_weights" (cfg->head_weights), else 0 */
} AdlSearchVars;

/* The 64x64 Fashion-MNIST segmentation budget (2 CPU cores, 30 minutes):
 * L=4 F=4 steps=5 B=5, 11 classes (10 garments + background), 3x64x64, batch
 * 8. The reference search uses L=12 F=8 steps=5 B=5. */
void adl_search_defaults(AdlSearchConfig *cfg);

/* Alpha rows (cell edges): steps*(steps+3)/2, 20 for 5 steps. */
int adl_search_edges(int steps);
/* Valid beta directions of a source level: dirs [lo, hi). */
void adl_beta_dirs(int level, int *lo, int *hi);

/* Builds the supernet in arena a: input [batch, in_ch, h, w], output logits
 * [batch, classes, h, w]. Weights get search_init_weights(seed), alphas and
 * betas search_init_normal(1e-3, seed, name); out->arch lists alphas then
 * every beta param. Params carry auto_deeplab.py's state_dict keys
 * ("cells.7._ops.12._ops.4.op.2.weight", "aspp_8.0.conv33.0.weight"). False
 * after reporting to d: config out of range, or an input size whose level
 * sizes the down- and up-resizing of the cells do not map onto each other. */
bool adl_supernet_build(Arena *a, const AdlSearchConfig *cfg, uint64_t seed, SuperNet *out,
                        AdlSearchVars *v, Diag *d);

/* ---- adl_decode.c ---- */

/* Copies the current arch params of g into alphas [edges, 8] and betas
 * [layers, 4, 3] (the reference layout; entries that are not params are 0). */
void adl_read_arch(const Graph *g, const AdlSearchVars *v, float *alphas, float *betas);

/* The softmax of the head_weights param into heads[4]; false (heads
 * untouched) when the supernet sums its heads unweighted. */
bool adl_read_heads(const Graph *g, const AdlSearchVars *v, float *heads);

/* Decoder.network_space: the normalised betas [layers, 4, 3] of raw betas
 * [layers, 4, 3]; entries outside the valid directions (or src > layer) are
 * 0. This is what the supernet multiplies with, and what plots show. */
void adl_normalise_betas(int layers, const float *betas, float *space);

/* Decoder.viterbi_decode on a normalised lattice space [layers, 4, 3]: the
 * path (one level per layer) maximising the product of its edge weights,
 * starting from the stem at level 0, times heads[last level] when heads is
 * not NULL (learned head weights). Ties go as the reference's argmax: the
 * last level is the lowest best one; into a level the candidate from the
 * coarser level wins, then the same level, then the finer one. */
void adl_viterbi(int layers, const float *space, const float *heads, int *path);

/* Decoder.genotype_decode on raw alphas [edges(steps), 8]: softmax per row;
 * for each node the two incoming edges with the largest non-'none' weight
 * (ties: lower edge first), strongest first, each with its argmax op
 * (ties: lower op) over all eight when allow_none (the reference's rule),
 * else over the seven real ops (DARTS's rule). With max_skip >= 0, P-DARTS's
 * limit (chenxin061/pdarts train_search.py): while more than max_skip kept
 * edges are skip_connect, the weakest one's skip weight is set to 0 and the
 * cell derived again. rows gets 2*steps [edge, op] pairs. */
void adl_derive_cell(const float *alphas, int steps, bool allow_none, int max_skip,
                     int (*rows)[2]);

/* The retrain architecture of a search: Viterbi path of the betas (and of
 * the normalised head weights heads[4], NULL when not learned), cell of
 * the alphas (DARTS's rule: never 'none' — a kept edge that computes zeros
 * is a wasted input of its node in the retrained net; the reference's
 * genotype_decode can keep one), F / classes / input size from cfg, the frontend's defaults
 * otherwise (ASPP rates 6/12/18, decoder, plain BN). Needs steps = B = 5 (the
 * frontend's cell). Path and names live in a. False after reporting to d:
 * non-finite arch params (a diverged search), a config the frontend cannot
 * hold, or an arch fe_adl_check refuses. */
bool adl_decode(const AdlSearchConfig *cfg, const float *alphas, const float *betas,
                const float *heads, Arena *a, AdlArch *out, Diag *d);

#endif
