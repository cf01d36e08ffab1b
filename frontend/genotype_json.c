/* genotype_json.c — the canonical genotype JSON (docs/genotype-json.md).
 *
 * cJSON parses; json_loc.c gives its values line:col by walking the valid
 * text in lockstep with the tree. Nothing missing is defaulted; unknown
 * keys are warnings, everything else is an error.
 */
#include "frontend/genotype_internal.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

/* ---- cells ---- */

static bool read_edge(FeJson *r, const cJSON *e, size_t off, int i, const char *cell,
                      GenoEdge *out)
{
    char buf[32], what[64];
    if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2) {
        diag_error(r->d, fe_json_loc(r, off),
                   "edge %d of cell '%s' must be [\"op\", input], found %s",
                   i, cell, fe_json_type(e, buf, sizeof buf));
        return false;
    }
    size_t op_off = fe_json_first(r, off), in_off = fe_json_next(r, op_off);
    const cJSON *op = e->child, *in = op->next;
    out->loc = fe_json_loc(r, op_off);
    if (!cJSON_IsString(op)) {
        diag_error(r->d, out->loc, "op of edge %d in cell '%s' must be a string, found %s", i,
                   cell, fe_json_type(op, buf, sizeof buf));
        return false;
    }
    out->op = arena_strdup(r->a, op->valuestring);
    out->input_loc = fe_json_loc(r, in_off);
    snprintf(what, sizeof what, "input of edge %d in cell '%s'", i, cell);
    return fe_json_int(r, in, in_off, &out->input, what);
}

static bool read_edges(FeJson *r, const FeJsonField *f, const char *cell, GenoCell *c)
{
    if (!fe_json_expect(r, f, cJSON_IsArray(f->v), "an array of [\"op\", input] edges"))
        return false;
    bool ok = true;
    int n = cJSON_GetArraySize(f->v);
    c->edges = arena_calloc(r->a, (size_t)n + 1, sizeof *c->edges);
    size_t off = fe_json_first(r, f->voff);
    int i = 0;
    for (const cJSON *e = f->v->child; e; e = e->next, off = fe_json_next(r, off), i++) {
        if (read_edge(r, e, off == FE_JS_END ? f->voff : off, i, cell, &c->edges[c->nedge]))
            c->nedge++;
        else
            ok = false;
    }
    return ok;
}

static bool read_concat(FeJson *r, const FeJsonField *f, const char *cell, GenoCell *c)
{
    char what[64];
    if (!fe_json_expect(r, f, cJSON_IsArray(f->v), "an array of state indices"))
        return false;
    bool ok = true;
    int n = cJSON_GetArraySize(f->v);
    c->concat = arena_calloc(r->a, (size_t)n + 1, sizeof *c->concat);
    c->concat_loc = arena_calloc(r->a, (size_t)n + 1, sizeof *c->concat_loc);
    size_t off = fe_json_first(r, f->voff);
    int i = 0;
    for (const cJSON *e = f->v->child; e; e = e->next, off = fe_json_next(r, off), i++) {
        size_t at = off == FE_JS_END ? f->voff : off;
        snprintf(what, sizeof what, "concat entry %d of cell '%s'", i, cell);
        c->concat_loc[c->nconcat] = fe_json_loc(r, at);
        if (fe_json_int(r, e, at, &c->concat[c->nconcat], what))
            c->nconcat++;
        else
            ok = false;
    }
    return ok;
}

static bool read_cell(FeJson *r, const FeJsonField *f, GenoCell *c)
{
    char where[32];
    c->loc = fe_json_loc(r, f->koff);
    if (!fe_json_expect(r, f, cJSON_IsObject(f->v), "an object with \"edges\" and \"concat\""))
        return false;
    snprintf(where, sizeof where, " in cell '%s'", f->key);
    FeJsonField m[2] = {{"edges", true, NULL, 0, 0}, {"concat", true, NULL, 0, 0}};
    bool ok = fe_json_members(r, f->v, f->voff, m, 2, where);
    if (m[0].v)
        ok &= read_edges(r, &m[0], f->key, c);
    if (m[1].v)
        ok &= read_concat(r, &m[1], f->key, c);
    return ok;
}

/* ---- the document ---- */

enum { F_FORMAT, F_VERSION, F_NAME, F_SPACE, F_NORMAL, F_REDUCE, NFIELD };

static bool read_header(FeJson *r, FeJsonField *f, Genotype *g)
{
    char show[FE_SHOW_MAX];
    bool ok = true;
    /* a wrongly typed "format", "version" or "space" is reported inside
     * the conditions below without clearing ok: counting errors catches
     * those too (found by fuzzing: "version": "x" read as success) */
    int before = r->d->nerr;
    const cJSON *v;
    if ((v = f[F_FORMAT].v) && fe_json_expect(r, &f[F_FORMAT], cJSON_IsString(v), "a string") &&
        strcmp(v->valuestring, "nasc-genotype") != 0) {
        diag_error(r->d, fe_json_loc(r, f[F_FORMAT].voff), "\"format\" must be \"nasc-genotype\"");
        ok = false;
    }
    int version = 0;
    if ((v = f[F_VERSION].v) && fe_json_int(r, v, f[F_VERSION].voff, &version, "\"version\"") &&
        version != 1) {
        diag_error(r->d, fe_json_loc(r, f[F_VERSION].voff),
                   "unsupported version %d; this reader knows version 1", version);
        ok = false;
    }
    if ((v = f[F_NAME].v) && !cJSON_IsNull(v)) {
        if (!fe_json_expect(r, &f[F_NAME], cJSON_IsString(v), "a string or null"))
            ok = false;
        else if (!fe_is_identifier(v->valuestring)) {
            diag_error(r->d, fe_json_loc(r, f[F_NAME].voff),
                       "\"name\" must be an identifier, found "
                       "\"%s\"", fe_show(show, sizeof show, v->valuestring,
                                         strlen(v->valuestring)));
            ok = false;
        } else {
            g->name = arena_strdup(r->a, v->valuestring);
        }
    }
    if ((v = f[F_SPACE].v) && fe_json_expect(r, &f[F_SPACE], cJSON_IsString(v), "a string") &&
        strcmp(v->valuestring, "darts") != 0) {
        diag_error(r->d, fe_json_loc(r, f[F_SPACE].voff),
                   "unsupported search space \"%s\"; this reader knows \"darts\"",
                   fe_show(show, sizeof show, v->valuestring, strlen(v->valuestring)));
        ok = false;
    }
    return ok && r->d->nerr == before && f[F_FORMAT].v && f[F_VERSION].v && f[F_SPACE].v;
}

static bool read_root(FeJson *r, const cJSON *root, Genotype *g)
{
    char buf[32];
    size_t off = fe_json_root(r);
    g->loc = fe_json_loc(r, off);
    if (!cJSON_IsObject(root)) {
        diag_error(r->d, g->loc, "expected a JSON object, found %s",
                   fe_json_type(root, buf, sizeof buf));
        return false;
    }
    FeJsonField f[NFIELD] = {
        [F_FORMAT] = {"format", true, NULL, 0, 0}, [F_VERSION] = {"version", true, NULL, 0, 0},
        [F_NAME] = {"name", false, NULL, 0, 0},    [F_SPACE] = {"space", true, NULL, 0, 0},
        [F_NORMAL] = {"normal", true, NULL, 0, 0}, [F_REDUCE] = {"reduce", true, NULL, 0, 0},
    };
    bool ok = fe_json_members(r, root, off, f, NFIELD, "");
    ok &= read_header(r, f, g);
    if (f[F_NORMAL].v)
        ok &= read_cell(r, &f[F_NORMAL], &g->normal);
    if (f[F_REDUCE].v)
        ok &= read_cell(r, &f[F_REDUCE], &g->reduce);
    return ok;
}

bool fe_parse_genotype_json(Arena *a, const char *file, const char *text, size_t len,
                            Genotype *out, Diag *d)
{
    FeJson r;
    memset(out, 0, sizeof *out);
    cJSON *root = fe_json_parse(&r, a, file, text, len, d);
    if (!root)
        return false;
    bool ok = read_root(&r, root, out);
    cJSON_Delete(root);
    return ok;
}

/* ---- writer ---- */

static void put_cell(FeBuf *b, const GenoCell *c, const char *name)
{
    fe_buf_printf(b, "  \"%s\": {\n    \"edges\": [", name);
    for (int i = 0; i < c->nedge; i++) {
        fe_buf_puts(b, i ? ",\n      [" : "\n      [");
        fe_buf_json_string(b, c->edges[i].op);
        fe_buf_printf(b, ", %d]", c->edges[i].input);
    }
    fe_buf_puts(b, c->nedge ? "\n    ],\n    \"concat\": [" : "],\n    \"concat\": [");
    for (int i = 0; i < c->nconcat; i++)
        fe_buf_printf(b, "%s%d", i ? ", " : "", c->concat[i]);
    fe_buf_puts(b, "]\n  }");
}

char *fe_genotype_to_json(Arena *a, const Genotype *g)
{
    FeBuf b;
    fe_buf_init(&b, a);
    fe_buf_puts(&b, "{\n  \"format\": \"nasc-genotype\",\n  \"version\": 1,\n");
    if (g->name) {
        fe_buf_puts(&b, "  \"name\": ");
        fe_buf_json_string(&b, g->name);
        fe_buf_puts(&b, ",\n");
    }
    fe_buf_puts(&b, "  \"space\": \"darts\",\n");
    put_cell(&b, &g->normal, "normal");
    fe_buf_puts(&b, ",\n");
    put_cell(&b, &g->reduce, "reduce");
    fe_buf_puts(&b, "\n}\n");
    return fe_buf_str(&b);
}
