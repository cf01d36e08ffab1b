/* fuse_act.c — relu fused into the convolutions around it.
 *
 * Epilogue: relu(conv(...)) -> conv{act=relu}, when the conv's result is
 * read by that relu alone and is no graph output (so nothing needs the
 * value before the relu). The conv's result takes the relu's readers and
 * trace name; the pre-relu tensor no longer exists anywhere.
 *
 * Prologue: relu(x) whose every reader is a pointwise conv (1x1, stride 1,
 * no padding, groups 1) reading it as its input -> each conv reads x with
 * pre=relu and the relu goes (ReLU-Conv-BN's pre-activation; relu(0) = 0,
 * so zero padding would be exact too). Only pointwise readers, by cost: a
 * prologue is one max per input load, and a pointwise kernel loads each
 * input once per tile of output channels, a KxK one K*K times as often;
 * and only when every reader takes it, since a relu some reader still
 * needs is computed anyway (once: run cse first).
 *
 * Both keep every bit: the fused kernels apply the same max(v, 0) to the
 * same values. One sweep in node order (the epilogue is tried first: done
 * once at the store, it beats a max at every load).
 */
#include "passes/internal.h"

/* relu(conv) -> conv{act=relu}. */
static bool fuse_epilogue(Graph *g, const uint32_t *uses, Node *relu)
{
    ValueId v = relu->in[0];
    Node *conv = pass_sole_conv_result(g, uses, v);
    if (!conv || conv->attrs.conv.act != ACT_NONE)
        return false;
    conv->attrs.conv.act = ACT_RELU;
    pass_replace_uses(g, relu->out, v);
    g->vals[v].name = g->vals[relu->out].name;
    relu->op = OP_NONE;
    return true;
}

/* Every reader of r is a pointwise conv reading it once, as operand 0. */
static bool prologue_ok(const Graph *g, const uint32_t *uses, ValueId r)
{
    uint32_t readers = 0;
    for (NodeId n = 1; n < g->nnode; n++) {
        const Node *node = &g->nodes[n];
        if (node->op == OP_NONE)
            continue;
        for (uint32_t i = 0; i < node->nin; i++) {
            if (node->in[i] != r)
                continue;
            if (node->op != OP_CONV2D || i != 0 || !pass_conv_is_pointwise(g, node) ||
                node->attrs.conv.pre != ACT_NONE)
                return false;
            readers++;
        }
    }
    return readers > 0 && readers == uses[r] && !pass_is_output(g, r);
}

/* relu(x) read only by pointwise convs -> each reads x with pre=relu. */
static bool fuse_prologue(Graph *g, const uint32_t *uses, Node *relu)
{
    ValueId r = relu->out, x = relu->in[0];
    if (!prologue_ok(g, uses, r))
        return false;
    for (NodeId n = 1; n < g->nnode; n++) {
        Node *node = &g->nodes[n];
        if (node->op == OP_CONV2D && node->in[0] == r) {
            node->in[0] = x;
            node->attrs.conv.pre = ACT_RELU;
        }
    }
    relu->op = OP_NONE;
    return true;
}

int pass_fuse_act(Graph *g, Diag *d)
{
    (void)d;
    uint32_t *uses = ir_fill_uses(g);
    int fused = 0;
    for (NodeId n = 1; n < g->nnode; n++) {
        Node *node = &g->nodes[n];
        if (node->op != OP_RELU)
            continue;
        if (fuse_epilogue(g, uses, node) || fuse_prologue(g, uses, node))
            fused++;
    }
    if (fused)
        ir_graph_compact(g);
    return fused;
}
