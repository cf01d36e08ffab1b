/* plan_memory.c — one workspace for every intermediate tensor.
 *
 * A value is live over the closed node interval [producer, last use]: it is
 * written while its producer runs and read until its last consumer has run
 * (an unread value lives at its producer only). Because the interval is
 * closed at the producer, a node's output is live together with its inputs,
 * so no kernel writes over its own operands unless a merge below says so.
 *
 * Slots. Values that share bytes on purpose form one slot: the holder at its
 * root owns the bytes, every other member sits inside it at a fixed byte
 * offset (holder[] / rel[] form a tree). Each member keeps its own interval:
 * a slot is a set of pieces (byte range, live interval), and two slots may
 * share a byte only when no piece of one covering it is live together with a
 * piece of the other covering it. Two merges make slots:
 *   - concat elimination (PLAN_CONCAT): with batch 1 a channel slice of a
 *     concat's result is contiguous, so an operand can be produced straight
 *     into its slice and the concat copies only the operands that are not
 *     there. An operand qualifies when it has a workspace slot (not an input,
 *     output or param), sits in no other concat yet (the first one that reads
 *     it wins; a later one copies it from there) and appears once in the
 *     concat. A concat result in its slice of an outer concat takes its own
 *     operands along (nested concats chain). Slices not yet written cost
 *     nothing: before an operand is made, its bytes may hold other values.
 *   - in-place elementwise (PLAN_INPLACE, after all concats): relu,
 *     leaky_relu and add write over an operand of their shape whose whole slot
 *     dies at that node. The result must not itself sit in a concat slice,
 *     and an operand inside a slot that is still read later does not qualify
 *     (the write would clobber it). The elementwise kernels read x[i] before
 *     they write y[i].
 *   - crop views (PLAN_CROP_VIEW, plan_crop_is_view): such a crop takes no
 *     slot, and each of its readers counts as a reader of the crop's input.
 * Every member is written once, by its producer, and members of one slot
 * share bytes only where one contains the other (a concat and its operands,
 * an in-place result and its operand), so the pieces' intervals are all the
 * planner has to keep apart.
 *
 * Scratch (plan_memory_scratch): bytes a node's kernel uses only while it
 * runs (Winograd's transformed tiles) are a slot of their own, live at that
 * node alone, placed and bounded with the tensors: it may take the bytes of
 * any value dead there, never those of its node's operands or result.
 *
 * Placement: greedy, in two orders — first fit in node order (XNNPACK's
 * memory planner, ggml's gallocr) and largest slot first into the narrowest
 * gap (TFLite's "greedy by size") — each followed by up to PLAN_ROUNDS
 * "squeaky wheel" rounds that move the slots ending above the lower bound to
 * the front of the order. The smallest workspace wins; the search stops once
 * one reaches the bound. Slot sizes round up to 64 bytes, so every slot
 * starts 64-aligned; members start where their channels do.
 *
 * The lower bound: at every node, the bytes of the pieces live there (a byte
 * of a slot counted once); its maximum is what any placement of these slots
 * needs. O(R * S^2) for S slots and R rounds: milliseconds for a DARTS or
 * Auto-DeepLab network.
 */
#include "passes/passes.h"

#include <stdlib.h>
#include <string.h>

enum { PLAN_ALIGN = 64, PLAN_ROUNDS = 16 };

typedef struct Planner {
    const Graph *g;
    uint32_t *first, *last; /* per value: producer, last reader (>= producer) */
    bool *slot;             /* per value: lives in the workspace */
    ValueId *holder;        /* per value: the value whose bytes hold it, or 0 */
    int64_t *rel;           /* per value: byte offset inside holder */
    uint32_t *end;          /* per slot holder: last node any member is read */
} Planner;

/* One value inside its slot: bytes [rel, rel + size), live over nodes
 * [first, last]. A holder's piece covers its whole slot. */
typedef struct Piece {
    int64_t rel, size;
    uint32_t first, last;
} Piece;

/* A slot to place: live over [first, last], the union of its pieces. */
typedef struct Slot {
    ValueId v; /* the holder */
    uint32_t first, last;
    uint32_t piece0, npiece; /* its pieces: Piece array [piece0, piece0 + npiece) */
    int64_t size, off;
} Slot;

static int64_t value_bytes(const Value *v)
{
    return shape_numel(&v->shape) * (int64_t)sizeof(float);
}

static int64_t round_up(int64_t bytes)
{
    return (bytes + PLAN_ALIGN - 1) / PLAN_ALIGN * PLAN_ALIGN;
}

static bool is_graph_output(const Graph *g, ValueId v)
{
    for (uint32_t i = 0; i < g->noutput; i++)
        if (g->outputs[i] == v)
            return true;
    return false;
}

bool plan_crop_is_view(const Graph *g, ValueId v)
{
    NodeId producer = g->vals[v].producer;
    if (!producer || g->nodes[producer].op != OP_CROP || is_graph_output(g, v))
        return false;
    uint32_t readers = 0;
    for (NodeId id = 1; id < g->nnode; id++) {
        const Node *n = &g->nodes[id];
        for (uint32_t i = 0; n->op != OP_NONE && i < n->nin; i++) {
            if (n->in[i] != v)
                continue;
            const Conv2dAttrs *a = &n->attrs.conv;
            const Shape *w = n->op == OP_CONV2D ? &g->vals[n->in[1]].shape : NULL;
            if (!w || i != 0 || w->d[2] != 1 || w->d[3] != 1 || a->groups != 1 ||
                (a->stride[0] == 1 && a->stride[1] == 1) || a->pad[0] || a->pad[1] ||
                a->pad[2] || a->pad[3] || a->pre != ACT_NONE)
                return false;
            readers++;
        }
    }
    return readers > 0;
}

/* Values with a workspace slot: results of live, non-param nodes that are
 * not graph outputs (those are written straight into the caller's buffer)
 * nor crop views (PLAN_CROP_VIEW in flags). */
static void find_slots(Planner *p, unsigned flags)
{
    const Graph *g = p->g;
    bool *is_output = calloc(g->nval, sizeof *is_output);
    bool *view = calloc(g->nval, sizeof *view); /* crop views (PLAN_CROP_VIEW) */
    NASC_ASSERT(is_output && view);
    for (uint32_t i = 0; i < g->noutput; i++)
        is_output[g->outputs[i]] = true;
    for (NodeId n = 1; n < g->nnode && (flags & PLAN_CROP_VIEW); n++)
        if (g->nodes[n].op == OP_CROP)
            view[g->nodes[n].out] = plan_crop_is_view(g, g->nodes[n].out);
    for (NodeId n = 1; n < g->nnode; n++) {
        const Node *node = &g->nodes[n];
        if (node->op == OP_NONE)
            continue;
        for (uint32_t i = 0; i < node->nin; i++) {
            ValueId v = node->in[i];
            p->last[v] = n;
            if (view[v]) /* read in place: the crop's input */
                p->last[g->nodes[g->vals[v].producer].in[0]] = n;
        }
        if (node->op == OP_PARAM || is_output[node->out] || view[node->out] ||
            (g->vals[node->out].flags & VAL_INPUT))
            continue;
        p->slot[node->out] = true;
        p->first[node->out] = n;
    }
    for (ValueId v = 1; v < g->nval; v++)
        if (p->slot[v] && p->last[v] < p->first[v])
            p->last[v] = p->first[v]; /* unread: dies right after its producer */
    free(is_output);
    free(view);
}

static ValueId root_of(const Planner *p, ValueId v)
{
    while (p->holder[v])
        v = p->holder[v];
    return v;
}

static bool occurs_once(const Node *n, ValueId x)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < n->nin; i++)
        k += n->in[i] == x;
    return k == 1;
}

/* Concat elimination at node n (see the file comment). Returns the number
 * of operands placed in their slice. */
static uint32_t merge_concat(Planner *p, const Node *n)
{
    const Graph *g = p->g;
    ValueId y = n->out;
    const Shape *s = &g->vals[y].shape;
    if (!p->slot[y] || s->rank < 2 || s->d[0] != 1)
        return 0; /* batch > 1: a channel slice is not contiguous */
    int64_t inner = 1;
    for (int i = 2; i < s->rank; i++)
        inner *= s->d[i];
    int64_t c0 = 0;
    uint32_t merged = 0;
    for (uint32_t i = 0; i < n->nin; i++) {
        ValueId x = n->in[i];
        if (p->slot[x] && !p->holder[x] && occurs_once(n, x)) {
            p->holder[x] = y;
            p->rel[x] = c0 * inner * (int64_t)sizeof(float);
            merged++;
        }
        c0 += g->vals[x].shape.d[1];
    }
    return merged;
}

/* In-place elementwise at node n: y takes the bytes of the first operand x
 * of its shape whose whole slot dies here (x's own, or a concat or in-place
 * slot x lies in). The kernel reads x[i] before it writes y[i], and nothing
 * else in that slot is read after n. */
static uint32_t merge_inplace(Planner *p, NodeId id)
{
    const Graph *g = p->g;
    const Node *n = &g->nodes[id];
    ValueId y = n->out;
    if (!(op_info[n->op].flags & OPF_ELEMWISE) || !p->slot[y] || p->holder[y])
        return 0; /* y already sits in a concat slice */
    for (uint32_t i = 0; i < n->nin; i++) {
        ValueId x = n->in[i], r = p->slot[x] ? root_of(p, x) : 0;
        if (!r || p->end[r] != id || !shape_eq(&g->vals[x].shape, &g->vals[y].shape))
            continue;
        p->holder[y] = x;
        p->rel[y] = 0;
        if (p->last[y] > p->end[r])
            p->end[r] = p->last[y];
        return 1;
    }
    return 0;
}

/* ---- slots ---- */

/* Byte offset of v inside the slot of its outermost holder. */
static int64_t rel_to_root(const Planner *p, ValueId v)
{
    int64_t off = 0;
    for (; p->holder[v]; v = p->holder[v])
        off += p->rel[v];
    return off;
}

/* One slot per value without holder; pieces[] gets every slotted value,
 * grouped by slot (slot i owns pieces[s[i].piece0 ..][0 .. s[i].npiece)). */
static uint32_t collect_slots(const Planner *p, Slot *s, Piece *pieces, uint32_t *slot_of)
{
    const Graph *g = p->g;
    uint32_t n = 0;
    for (ValueId v = 1; v < g->nval; v++)
        if (p->slot[v] && !p->holder[v]) {
            slot_of[v] = n;
            s[n++] = (Slot){v, p->first[v], p->last[v], 0, 0,
                            round_up(value_bytes(&g->vals[v])), 0};
        }
    for (ValueId v = 1; v < g->nval; v++)
        if (p->slot[v] && p->holder[v])
            s[slot_of[v] = slot_of[root_of(p, v)]].npiece++;
    uint32_t next = 0;
    for (uint32_t i = 0; i < n; i++) {
        s[i].piece0 = next;
        next += 1 + s[i].npiece;
        s[i].npiece = 0;
    }
    for (ValueId v = 1; v < g->nval; v++) {
        if (!p->slot[v])
            continue;
        Slot *r = &s[slot_of[v]];
        bool root = !p->holder[v];
        pieces[r->piece0 + r->npiece++] =
            (Piece){root ? 0 : rel_to_root(p, v),
                    root ? r->size : value_bytes(&g->vals[v]), p->first[v], p->last[v]};
        if (p->first[v] < r->first)
            r->first = p->first[v];
        if (p->last[v] > r->last)
            r->last = p->last[v];
    }
    return n;
}

/* ---- placement ---- */

/* Offsets [lo, hi) a slot may not start at. */
typedef struct Range {
    int64_t lo, hi;
} Range;

typedef struct Ranges {
    Range *r;
    size_t n, cap;
} Ranges;

static void ranges_push(Ranges *f, int64_t lo, int64_t hi)
{
    if (f->n == f->cap) {
        f->cap = f->cap ? 2 * f->cap : 256;
        f->r = realloc(f->r, f->cap * sizeof *f->r);
        NASC_ASSERT(f->r);
    }
    f->r[f->n++] = (Range){lo, hi};
}

static int cmp_range(const void *a, const void *b)
{
    const Range *x = a, *y = b;
    return (x->lo > y->lo) - (x->lo < y->lo);
}

/* The lowest (first fit) or the one in the narrowest window (best fit)
 * 64-aligned offset >= 0 outside every forbidden range; past them all when
 * no window is open. */
static int64_t find_offset(Ranges *f, bool best)
{
    if (f->n > 1) /* f->r is NULL while empty: qsort must not see it */
        qsort(f->r, f->n, sizeof *f->r, cmp_range);
    int64_t at = 0, pick = -1, pick_width = 0;
    for (size_t i = 0; i < f->n; i++) {
        int64_t width = f->r[i].lo - at;
        if (width > 0 && (pick < 0 || width < pick_width)) {
            pick = at;
            pick_width = width;
            if (!best)
                return pick;
        }
        if (f->r[i].hi > at)
            at = round_up(f->r[i].hi);
    }
    return pick >= 0 ? pick : at;
}

/* Places slots in the order order[0..n); returns the workspace size. A slot
 * may not start where one of its pieces would share a byte with a piece of
 * a placed slot while both are live: piece p at off + p.rel meets piece q at
 * A = u.off + q.rel iff off is in (A - p.rel - p.size, A - p.rel + q.size). */
static int64_t place(Slot *s, const Piece *pc, const uint32_t *order, uint32_t n, bool best,
                     Ranges *f)
{
    int64_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        Slot *x = &s[order[i]];
        f->n = 0;
        for (uint32_t j = 0; j < i; j++) {
            const Slot *u = &s[order[j]];
            if (u->first > x->last || x->first > u->last)
                continue;
            for (const Piece *q = pc + u->piece0; q < pc + u->piece0 + u->npiece; q++)
                for (const Piece *p = pc + x->piece0; p < pc + x->piece0 + x->npiece; p++)
                    if (q->first <= p->last && p->first <= q->last) {
                        int64_t at = u->off + q->rel - p->rel;
                        ranges_push(f, at - p->size + 1, at + q->size);
                    }
        }
        x->off = find_offset(f, best);
        if (x->off + x->size > total)
            total = x->off + x->size;
    }
    return total;
}

static int cmp_node_order(const Slot *x, const Slot *y)
{
    if (x->first != y->first)
        return (x->first > y->first) - (x->first < y->first);
    return (x->v > y->v) - (x->v < y->v);
}

static int cmp_size_order(const Slot *x, const Slot *y)
{
    if (x->size != y->size)
        return (x->size < y->size) - (x->size > y->size); /* largest first */
    return cmp_node_order(x, y);
}

/* qsort has no context argument: a merge sort of slot indices. */
static void sort_order(uint32_t *order, uint32_t *tmp, uint32_t n, const Slot *s,
                       int (*cmp)(const Slot *, const Slot *))
{
    if (n < 2)
        return;
    uint32_t h = n / 2;
    sort_order(order, tmp, h, s, cmp);
    sort_order(order + h, tmp, n - h, s, cmp);
    uint32_t i = 0, j = h, k = 0;
    while (i < h || j < n)
        tmp[k++] = j == n || (i < h && cmp(&s[order[i]], &s[order[j]]) <= 0) ? order[i++]
                                                                           : order[j++];
    memcpy(order, tmp, n * sizeof *order);
}

static const struct {
    const char *name;
    int (*cmp)(const Slot *, const Slot *);
    bool best;
} k_methods[] = {
    {"first-fit", cmp_node_order, false},
    {"greedy-by-size", cmp_size_order, true},
};

/* Squeaky wheel: the slots that ended above `target` go first next time. */
static void promote_high(const Slot *s, uint32_t *order, uint32_t *tmp, uint32_t n,
                         int64_t target)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++)
        if (s[order[i]].off + s[order[i]].size > target)
            tmp[k++] = order[i];
    for (uint32_t i = 0; i < n; i++)
        if (s[order[i]].off + s[order[i]].size <= target)
            tmp[k++] = order[i];
    if (n > 0) /* order and tmp may be NULL for a graph without slots */
        memcpy(order, tmp, n * sizeof *order);
}

/* Tries every method, each followed by rounds of promote_high, until one
 * reaches `target` (the lower bound); leaves the smallest placement's offsets
 * in s and returns its method's name. */
static const char *place_best(Slot *s, const Piece *pc, uint32_t n, int64_t target,
                              int64_t *bytes)
{
    uint32_t *order = malloc((n ? n : 1) * sizeof *order);
    uint32_t *tmp = malloc((n ? n : 1) * sizeof *tmp);
    int64_t *best_off = malloc((n ? n : 1) * sizeof *best_off);
    NASC_ASSERT(order && tmp && best_off);
    Ranges f = {0};
    const char *winner = NULL;
    *bytes = 0;
    for (size_t m = 0; m < sizeof k_methods / sizeof k_methods[0]; m++) {
        for (uint32_t i = 0; i < n; i++)
            order[i] = i;
        sort_order(order, tmp, n, s, k_methods[m].cmp);
        for (int round = 0; round < PLAN_ROUNDS && !(winner && *bytes <= target); round++) {
            if (round)
                promote_high(s, order, tmp, n, target);
            int64_t total = place(s, pc, order, n, k_methods[m].best, &f);
            if (winner && total >= *bytes)
                continue;
            winner = k_methods[m].name;
            *bytes = total;
            for (uint32_t i = 0; i < n; i++)
                best_off[i] = s[i].off;
        }
    }
    for (uint32_t i = 0; i < n; i++)
        s[i].off = best_off[i];
    free(order);
    free(tmp);
    free(best_off);
    free(f.r);
    return winner;
}

/* ---- the lower bound ---- */

static int cmp_piece_rel(const void *a, const void *b)
{
    const Piece *x = a, *y = b;
    return (x->rel > y->rel) - (x->rel < y->rel);
}

/* Bytes of the union of the pieces of pc[0..n) live at node t. */
static int64_t live_bytes(const Piece *pc, uint32_t n, uint32_t t, Piece *tmp)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++)
        if (pc[i].first <= t && t <= pc[i].last)
            tmp[k++] = pc[i];
    if (k > 1)
        qsort(tmp, k, sizeof *tmp, cmp_piece_rel);
    int64_t bytes = 0, end = 0;
    for (uint32_t i = 0; i < k; i++) {
        int64_t lo = tmp[i].rel > end ? tmp[i].rel : end, hi = tmp[i].rel + tmp[i].size;
        if (hi > lo)
            bytes += hi - lo, end = hi;
    }
    return bytes;
}

/* Max over nodes of the bytes live there (a byte of a slot counts once,
 * however many of its pieces hold it), and the first node reaching it.
 * A slot's live bytes change only where one of its pieces starts or ends. */
static int64_t lower_bound(const Graph *g, const Slot *s, const Piece *pc, uint32_t n,
                           uint32_t npiece, NodeId *peak)
{
    int64_t *delta = calloc(g->nnode + 2, sizeof *delta);
    Piece *tmp = malloc((npiece ? npiece : 1) * sizeof *tmp);
    NASC_ASSERT(delta && tmp);
    for (uint32_t i = 0; i < n; i++) {
        const Piece *p = pc + s[i].piece0;
        int64_t prev = 0;
        for (uint32_t t = s[i].first; t <= s[i].last + 1; t++) {
            bool edge = t == s[i].last + 1;
            for (uint32_t k = 0; k < s[i].npiece && !edge; k++)
                edge = p[k].first == t || p[k].last + 1 == t;
            if (!edge && t != s[i].first)
                continue;
            int64_t now = t > s[i].last ? 0 : live_bytes(p, s[i].npiece, t, tmp);
            delta[t] += now - prev;
            prev = now;
        }
    }
    int64_t live = 0, max = 0;
    *peak = 0;
    for (NodeId k = 1; k < g->nnode; k++) {
        live += delta[k];
        if (live > max)
            max = live, *peak = k;
    }
    free(delta);
    free(tmp);
    return max;
}

/* One slot per node with scratch, live at that node alone, after the ns
 * value slots and their pieces; returns the new slot count. */
static uint32_t add_scratch_slots(const Graph *g, const int64_t *scratch, Slot *s, Piece *pc,
                                  uint32_t ns)
{
    uint32_t np = ns ? s[ns - 1].piece0 + s[ns - 1].npiece : 0;
    for (NodeId n = 1; n < g->nnode && scratch; n++) {
        if (scratch[n] <= 0 || g->nodes[n].op == OP_NONE)
            continue;
        int64_t size = round_up(scratch[n]);
        /* v past every value id: ties in node order stay deterministic */
        s[ns++] = (Slot){g->nval + n, n, n, np, 1, size, 0};
        pc[np++] = (Piece){0, scratch[n], n, n}; /* the bound counts its bytes */
    }
    return ns;
}

void plan_memory_full(const Graph *g, unsigned flags, Arena *a, MemPlan *plan)
{
    plan_memory_scratch(g, flags, NULL, a, plan);
}

void plan_memory_scratch(const Graph *g, unsigned flags, const int64_t *scratch, Arena *a,
                         MemPlan *plan)
{
    size_t nv = g->nval ? g->nval : 1;
    Planner p = {g, arena_calloc(a, nv, sizeof *p.first), arena_calloc(a, nv, sizeof *p.last),
                 calloc(nv, sizeof *p.slot), arena_calloc(a, nv, sizeof *p.holder),
                 calloc(nv, sizeof *p.rel), calloc(nv, sizeof *p.end)};
    NASC_ASSERT(p.first && p.last && p.slot && p.holder && p.rel && p.end);
    memset(plan, 0, sizeof *plan);
    find_slots(&p, flags);
    /* Concats first: an in-place merge must know which values they hold. */
    for (NodeId n = 1; n < g->nnode && (flags & PLAN_CONCAT); n++)
        if (g->nodes[n].op == OP_CONCAT)
            plan->nconcat += merge_concat(&p, &g->nodes[n]);
    for (ValueId v = 1; v < g->nval; v++) {
        ValueId r = p.slot[v] ? root_of(&p, v) : 0;
        if (r && p.last[v] > p.end[r])
            p.end[r] = p.last[v];
    }
    for (NodeId n = 1; n < g->nnode && (flags & PLAN_INPLACE); n++)
        plan->ninplace += merge_inplace(&p, n);

    size_t cap = nv + g->nnode; /* value slots, then scratch slots */
    Slot *s = malloc(cap * sizeof *s);
    Piece *pc = malloc(cap * sizeof *pc);
    uint32_t *slot_of = calloc(nv, sizeof *slot_of);
    NASC_ASSERT(s && pc && slot_of);
    uint32_t nvs = collect_slots(&p, s, pc, slot_of);
    uint32_t ns = add_scratch_slots(g, scratch, s, pc, nvs);
    plan->lower_bound = lower_bound(g, s, pc, ns, (uint32_t)nv, &plan->peak);
    plan->placement = place_best(s, pc, ns, plan->lower_bound, &plan->bytes);

    plan->offset = arena_calloc(a, nv, sizeof *plan->offset);
    NASC_ASSERT(plan->offset);
    for (ValueId v = 0; v < g->nval; v++)
        plan->offset[v] = p.slot[v] ? s[slot_of[v]].off + rel_to_root(&p, v) : -1;
    if (scratch) {
        plan->scratch_offset = arena_calloc(a, g->nnode ? g->nnode : 1, sizeof(int64_t));
        NASC_ASSERT(plan->scratch_offset);
        for (NodeId n = 0; n < g->nnode; n++)
            plan->scratch_offset[n] = -1;
        for (uint32_t i = nvs; i < ns; i++)
            plan->scratch_offset[s[i].v - g->nval] = s[i].off;
    }
    plan->holder = p.holder;
    plan->first = p.first;
    plan->last = p.last;
    free(p.slot);
    free(p.rel);
    free(p.end);
    free(s);
    free(pc);
    free(slot_of);
}

int64_t plan_memory(const Graph *g, int64_t *offset)
{
    Arena a;
    arena_init(&a);
    MemPlan plan;
    plan_memory_full(g, 0, &a, &plan);
    memcpy(offset, plan.offset, g->nval * sizeof *offset);
    int64_t bytes = plan.bytes;
    arena_free_all(&a);
    return bytes;
}
