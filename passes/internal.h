/* internal.h — helpers shared by the passes of this folder only. */
#ifndef NASC_PASSES_INTERNAL_H
#define NASC_PASSES_INTERNAL_H

#include "passes/passes.h"

/* compact.c: the end of every rewriting pass. Drops OP_NONE nodes and the
 * values only they produced, keeps every param (read or not: an unread
 * param is still a checkpoint tensor, unlike in ir_graph_compact), and
 * restores a topological node order that keeps the old order wherever it
 * already was one (a node appended at the end moves up to just before its
 * first reader). Asserts that no live node reads a dead node's result. */
void pass_graph_compact(Graph *g);

/* Makes every node operand and graph output that reads `from` read `to`
 * instead. Returns the number of references changed. */
uint32_t pass_replace_uses(Graph *g, ValueId from, ValueId to);

/* True if v is one of g's outputs. */
bool pass_is_output(const Graph *g, ValueId v);

/* The op of v's producer (OP_NONE for graph inputs). */
static inline Op pass_producer_op(const Graph *g, ValueId v)
{
    NodeId p = g->vals[v].producer;
    return p ? g->nodes[p].op : OP_NONE;
}

#endif
