/* print.c — the textual IR (grammar in docs/ir.md).
 *
 * Values are numbered in print order (inputs first, then node results in
 * node order), so the text does not depend on internal ids and
 * print(parse(print(g))) == print(g). Attributes print every field of their
 * kind, in schema order, except optional fields at their default (0), so a
 * graph without fusions prints as it did before they existed.
 */
#include "ir.h"

#include <stdlib.h>
#include <string.h>

static void print_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\x%02x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* Shortest decimal that reads back as the same float (1e-05, not
 * 9.99999975e-06), so goldens stay readable and round trips exact. */
static void print_float(FILE *f, float x)
{
    char buf[32];
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, x);
        if (strtof(buf, NULL) == x)
            break;
    }
    fputs(buf, f);
}

/* True if an optional field holds its default (every int 0). */
static bool attr_is_default(const AttrField *fl, const char *base)
{
    const int *v = (const int *)(const void *)base;
    if (!fl->optional)
        return false;
    for (int k = 0; k < fl->count; k++)
        if (v[k])
            return false;
    return true;
}

static void print_attrs(FILE *f, const Node *n)
{
    const AttrField *fl = attr_fields(op_info[n->op].attr_kind);
    if (!fl[0].name)
        return;
    fputs(" {", f);
    bool first = true;
    for (int i = 0; fl[i].name; i++) {
        const char *base = (const char *)&n->attrs + fl[i].offset;
        if (attr_is_default(&fl[i], base))
            continue;
        fprintf(f, "%s%s=", first ? "" : ", ", fl[i].name);
        first = false;
        if (fl[i].type == AF_FLOAT) {
            print_float(f, *(const float *)(const void *)base);
            continue;
        }
        const int *v = (const int *)(const void *)base;
        if (fl[i].type == AF_ENUM) {
            int nname = 0; /* a value without a name (unverified graphs) prints as a number */
            while (fl[i].names[nname])
                nname++;
            if (v[0] >= 0 && v[0] < nname)
                fputs(fl[i].names[v[0]], f);
            else
                fprintf(f, "%d", v[0]);
            continue;
        }
        if (fl[i].count == 1) {
            fprintf(f, "%d", v[0]);
            continue;
        }
        fputc('[', f);
        for (int k = 0; k < fl[i].count; k++)
            fprintf(f, k ? ",%d" : "%d", v[k]);
        fputc(']', f);
    }
    fputc('}', f);
}

void ir_print(const Graph *g, FILE *f)
{
    uint32_t *num = arena_calloc(g->arena, g->nval, sizeof *num);
    uint32_t next = 0;
    char buf[128];
    fprintf(f, "graph @%s(", g->name);
    for (uint32_t i = 0; i < g->ninput; i++) {
        const Value *v = &g->vals[g->inputs[i]];
        num[g->inputs[i]] = next++;
        fprintf(f, "%s%%%u: %s", i ? ", " : "", num[g->inputs[i]],
                type_str(v->dtype, &v->shape, buf, sizeof buf));
        if (v->name) {
            fputc(' ', f);
            print_string(f, v->name);
        }
    }
    fputs(") {\n", f);
    for (NodeId n = 1; n < g->nnode; n++) {
        const Node *node = &g->nodes[n];
        if (node->op == OP_NONE)
            continue;
        const Value *v = &g->vals[node->out];
        num[node->out] = next++;
        fprintf(f, "  %%%u = %s", num[node->out], op_info[node->op].name);
        for (uint32_t i = 0; i < node->nin; i++)
            fprintf(f, "%s%%%u", i ? ", " : " ", num[node->in[i]]);
        print_attrs(f, node);
        fprintf(f, " : %s", type_str(v->dtype, &v->shape, buf, sizeof buf));
        if (v->name) {
            fputc(' ', f);
            print_string(f, v->name);
        }
        fputc('\n', f);
    }
    fputs("  return", f);
    for (uint32_t i = 0; i < g->noutput; i++)
        fprintf(f, "%s%%%u", i ? ", " : " ", num[g->outputs[i]]);
    fputs("\n}\n", f);
}

char *ir_print_str(const Graph *g, Arena *a)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    NASC_ASSERT(f);
    ir_print(g, f);
    fclose(f);
    char *s = arena_strndup(a, buf, len);
    free(buf);
    return s;
}
