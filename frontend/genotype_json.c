/* genotype_json.c — the canonical genotype JSON (docs/genotype-json.md).
 *
 * cJSON parses; it keeps no positions, so after it has accepted the text
 * this file re-scans the (now known to be valid) text in lockstep with the
 * cJSON tree: object members and array elements appear in the text in the
 * same order as in the tree, so one forward walk gives every key and value
 * its byte offset, and each error its line:col. Nothing missing is
 * defaulted; unknown keys are warnings, everything else is an error.
 */
#include "frontend/genotype_internal.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

typedef struct JReader {
    Arena *a;
    Diag *d;
    const char *text; /* NUL-terminated copy of the input */
    size_t len;
    FeLocCursor cur;
} JReader;

#define JS_END SIZE_MAX

/* ---- offsets in valid JSON text ---- */

static size_t js_ws(const JReader *r, size_t i)
{
    while (i < r->len && (r->text[i] == ' ' || r->text[i] == '\t' || r->text[i] == '\r' ||
                          r->text[i] == '\n'))
        i++;
    return i;
}

static size_t js_skip_string(const JReader *r, size_t i)
{
    for (i++; i < r->len && r->text[i] != '"'; i++)
        if (r->text[i] == '\\')
            i++;
    return i < r->len ? i + 1 : r->len;
}

/* Offset just after the value starting at i. */
static size_t js_skip_value(const JReader *r, size_t i)
{
    const char *t = r->text;
    if (i >= r->len)
        return r->len;
    if (t[i] == '"')
        return js_skip_string(r, i);
    if (t[i] != '{' && t[i] != '[') {
        while (i < r->len && !strchr(",]} \t\r\n", t[i]))
            i++;
        return i;
    }
    size_t depth = 0;
    while (i < r->len) {
        if (t[i] == '"') {
            i = js_skip_string(r, i);
            continue;
        }
        if (t[i] == '{' || t[i] == '[')
            depth++;
        else if ((t[i] == '}' || t[i] == ']') && --depth == 0)
            return i + 1;
        i++;
    }
    return r->len;
}

/* First element of the array (or first key of the object) at off. */
static size_t js_first(const JReader *r, size_t off)
{
    size_t i = js_ws(r, off + 1);
    return i < r->len && r->text[i] != ']' && r->text[i] != '}' ? i : JS_END;
}

/* The element after the one at off, or JS_END. */
static size_t js_next(const JReader *r, size_t off)
{
    if (off == JS_END)
        return JS_END;
    size_t i = js_ws(r, js_skip_value(r, off));
    return i < r->len && r->text[i] == ',' ? js_ws(r, i + 1) : JS_END;
}

/* Value of the member whose key is at off. */
static size_t js_member_value(const JReader *r, size_t key)
{
    size_t i = js_ws(r, js_skip_string(r, key));
    return js_ws(r, i + 1); /* past ':' */
}

/* The member after the one whose key is at off, or JS_END. */
static size_t js_next_member(const JReader *r, size_t key)
{
    return key == JS_END ? JS_END : js_next(r, js_member_value(r, key));
}

/* ---- reporting ---- */

static Loc jr_loc(JReader *r, size_t off)
{
    return fe_loc_at(&r->cur, off > r->len ? r->len : off);
}

static const char *jtype(const cJSON *v, char *buf, size_t size)
{
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsNumber(v))
        return "a number";
    if (cJSON_IsBool(v))
        return "a boolean";
    if (cJSON_IsNull(v))
        return "null";
    if (cJSON_IsObject(v))
        return "an object";
    int n = cJSON_GetArraySize(v);
    if (n == 0)
        return "an empty array";
    snprintf(buf, size, "an array of %d element%s", n, n == 1 ? "" : "s");
    return buf;
}

/* cJSON points into a string it could not finish; the useful place is the
 * string's opening quote. Returns that offset, or JS_END if off is not
 * inside an unterminated string. */
static size_t unterminated_string(const JReader *r, size_t off)
{
    size_t open = JS_END;
    for (size_t i = 0; i < r->len; i++) {
        if (open == JS_END && i > off)
            return JS_END;
        if (open != JS_END && r->text[i] == '\\')
            i++;
        else if (r->text[i] == '"')
            open = open == JS_END ? i : JS_END;
    }
    return open != JS_END && open <= off ? open : JS_END;
}

static void syntax_error(JReader *r, const char *end)
{
    size_t off = end && end >= r->text ? (size_t)(end - r->text) : 0;
    off = js_ws(r, off > r->len ? r->len : off);
    size_t str = unterminated_string(r, off);
    if (str != JS_END) {
        diag_error(r->d, jr_loc(r, str), "invalid JSON: unterminated string");
        return;
    }
    if (off >= r->len) {
        diag_error(r->d, jr_loc(r, r->len), "invalid JSON: unexpected end of file");
        return;
    }
    char show[FE_SHOW_MAX];
    diag_error(r->d, jr_loc(r, off), "invalid JSON: unexpected '%s'",
               fe_show(show, sizeof show, r->text + off, 1));
}

/* ---- objects: lockstep member walk ---- */

typedef struct JField {
    const char *key;
    bool required;
    const cJSON *v; /* out: the first member with this key, or NULL */
    size_t koff, voff;
} JField;

/* Matches the members of obj (text offset off) to fields; warns on unknown
 * keys, reports duplicates and missing required keys. `where` follows the
 * key in messages (" in cell 'normal'"). False after an error. */
static bool read_members(JReader *r, const cJSON *obj, size_t off, JField *f, int nf,
                         const char *where)
{
    char show[FE_SHOW_MAX];
    bool ok = true;
    size_t k = js_first(r, off);
    for (const cJSON *c = obj->child; c; c = c->next, k = js_next_member(r, k)) {
        size_t koff = k == JS_END ? off : k;
        int i = 0;
        while (i < nf && strcmp(f[i].key, c->string) != 0)
            i++;
        fe_show(show, sizeof show, c->string, strlen(c->string));
        if (i == nf) {
            diag_warn(r->d, jr_loc(r, koff), "unknown key \"%s\"%s ignored", show, where);
        } else if (f[i].v) {
            diag_error(r->d, jr_loc(r, koff), "duplicate key \"%s\"%s", show, where);
            ok = false;
        } else {
            f[i].v = c;
            f[i].koff = koff;
            f[i].voff = k == JS_END ? off : js_member_value(r, k);
        }
    }
    for (int i = 0; i < nf; i++) {
        if (f[i].required && !f[i].v) {
            diag_error(r->d, jr_loc(r, off), "missing required key \"%s\"%s", f[i].key, where);
            ok = false;
        }
    }
    return ok;
}

/* An integer written as one (no fraction or exponent) that fits an int. */
static bool read_int(JReader *r, const cJSON *v, size_t off, int *out, const char *what)
{
    char buf[32], show[FE_SHOW_MAX];
    if (!cJSON_IsNumber(v)) {
        diag_error(r->d, jr_loc(r, off), "%s must be an integer, found %s", what,
                   jtype(v, buf, sizeof buf));
        return false;
    }
    size_t end = js_skip_value(r, off), i = off;
    bool neg = i < end && r->text[i] == '-';
    long long x = 0, limit = neg ? -(long long)INT_MIN : INT_MAX;
    fe_show(show, sizeof show, r->text + off, end - off);
    for (i += neg; i < end; i++) {
        if (r->text[i] < '0' || r->text[i] > '9') {
            diag_error(r->d, jr_loc(r, off), "%s must be an integer, found %s", what, show);
            return false;
        }
        x = x * 10 + (r->text[i] - '0');
        if (x > limit) {
            diag_error(r->d, jr_loc(r, off), "%s is out of range: %s", what, show);
            return false;
        }
    }
    *out = (int)(neg ? -x : x);
    return true;
}

static bool expect_type(JReader *r, const JField *f, cJSON_bool ok, const char *want)
{
    char buf[32];
    if (!ok)
        diag_error(r->d, jr_loc(r, f->voff), "\"%s\" must be %s, found %s", f->key, want,
                   jtype(f->v, buf, sizeof buf));
    return ok;
}

/* ---- cells ---- */

static bool read_edge(JReader *r, const cJSON *e, size_t off, int i, const char *cell,
                      GenoEdge *out)
{
    char buf[32], what[64];
    if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2) {
        diag_error(r->d, jr_loc(r, off), "edge %d of cell '%s' must be [\"op\", input], found %s",
                   i, cell, jtype(e, buf, sizeof buf));
        return false;
    }
    size_t op_off = js_first(r, off), in_off = js_next(r, op_off);
    const cJSON *op = e->child, *in = op->next;
    out->loc = jr_loc(r, op_off);
    if (!cJSON_IsString(op)) {
        diag_error(r->d, out->loc, "op of edge %d in cell '%s' must be a string, found %s", i,
                   cell, jtype(op, buf, sizeof buf));
        return false;
    }
    out->op = arena_strdup(r->a, op->valuestring);
    out->input_loc = jr_loc(r, in_off);
    snprintf(what, sizeof what, "input of edge %d in cell '%s'", i, cell);
    return read_int(r, in, in_off, &out->input, what);
}

static bool read_edges(JReader *r, const JField *f, const char *cell, GenoCell *c)
{
    if (!expect_type(r, f, cJSON_IsArray(f->v), "an array of [\"op\", input] edges"))
        return false;
    bool ok = true;
    int n = cJSON_GetArraySize(f->v);
    c->edges = arena_calloc(r->a, (size_t)n + 1, sizeof *c->edges);
    size_t off = js_first(r, f->voff);
    int i = 0;
    for (const cJSON *e = f->v->child; e; e = e->next, off = js_next(r, off), i++) {
        if (read_edge(r, e, off == JS_END ? f->voff : off, i, cell, &c->edges[c->nedge]))
            c->nedge++;
        else
            ok = false;
    }
    return ok;
}

static bool read_concat(JReader *r, const JField *f, const char *cell, GenoCell *c)
{
    char what[64];
    if (!expect_type(r, f, cJSON_IsArray(f->v), "an array of state indices"))
        return false;
    bool ok = true;
    int n = cJSON_GetArraySize(f->v);
    c->concat = arena_calloc(r->a, (size_t)n + 1, sizeof *c->concat);
    c->concat_loc = arena_calloc(r->a, (size_t)n + 1, sizeof *c->concat_loc);
    size_t off = js_first(r, f->voff);
    int i = 0;
    for (const cJSON *e = f->v->child; e; e = e->next, off = js_next(r, off), i++) {
        size_t at = off == JS_END ? f->voff : off;
        snprintf(what, sizeof what, "concat entry %d of cell '%s'", i, cell);
        c->concat_loc[c->nconcat] = jr_loc(r, at);
        if (read_int(r, e, at, &c->concat[c->nconcat], what))
            c->nconcat++;
        else
            ok = false;
    }
    return ok;
}

static bool read_cell(JReader *r, const JField *f, GenoCell *c)
{
    char where[32];
    c->loc = jr_loc(r, f->koff);
    if (!expect_type(r, f, cJSON_IsObject(f->v), "an object with \"edges\" and \"concat\""))
        return false;
    snprintf(where, sizeof where, " in cell '%s'", f->key);
    JField m[2] = {{"edges", true, NULL, 0, 0}, {"concat", true, NULL, 0, 0}};
    bool ok = read_members(r, f->v, f->voff, m, 2, where);
    if (m[0].v)
        ok &= read_edges(r, &m[0], f->key, c);
    if (m[1].v)
        ok &= read_concat(r, &m[1], f->key, c);
    return ok;
}

/* ---- the document ---- */

enum { F_FORMAT, F_VERSION, F_NAME, F_SPACE, F_NORMAL, F_REDUCE, NFIELD };

static bool read_header(JReader *r, JField *f, Genotype *g)
{
    char show[FE_SHOW_MAX];
    bool ok = true;
    const cJSON *v;
    if ((v = f[F_FORMAT].v) && expect_type(r, &f[F_FORMAT], cJSON_IsString(v), "a string") &&
        strcmp(v->valuestring, "nasc-genotype") != 0) {
        diag_error(r->d, jr_loc(r, f[F_FORMAT].voff), "\"format\" must be \"nasc-genotype\"");
        ok = false;
    }
    int version = 0;
    if ((v = f[F_VERSION].v) && read_int(r, v, f[F_VERSION].voff, &version, "\"version\"") &&
        version != 1) {
        diag_error(r->d, jr_loc(r, f[F_VERSION].voff),
                   "unsupported version %d; this reader knows version 1", version);
        ok = false;
    }
    if ((v = f[F_NAME].v) && !cJSON_IsNull(v)) {
        if (!expect_type(r, &f[F_NAME], cJSON_IsString(v), "a string or null"))
            ok = false;
        else if (!fe_is_identifier(v->valuestring)) {
            diag_error(r->d, jr_loc(r, f[F_NAME].voff), "\"name\" must be an identifier, found "
                       "\"%s\"", fe_show(show, sizeof show, v->valuestring,
                                         strlen(v->valuestring)));
            ok = false;
        } else {
            g->name = arena_strdup(r->a, v->valuestring);
        }
    }
    if ((v = f[F_SPACE].v) && expect_type(r, &f[F_SPACE], cJSON_IsString(v), "a string") &&
        strcmp(v->valuestring, "darts") != 0) {
        diag_error(r->d, jr_loc(r, f[F_SPACE].voff),
                   "unsupported search space \"%s\"; this reader knows \"darts\"",
                   fe_show(show, sizeof show, v->valuestring, strlen(v->valuestring)));
        ok = false;
    }
    return ok && f[F_FORMAT].v && f[F_VERSION].v && f[F_SPACE].v;
}

static bool read_root(JReader *r, const cJSON *root, Genotype *g)
{
    char buf[32];
    size_t off = js_ws(r, r->len >= 3 && memcmp(r->text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0);
    g->loc = jr_loc(r, off);
    if (!cJSON_IsObject(root)) {
        diag_error(r->d, g->loc, "expected a JSON object, found %s", jtype(root, buf, sizeof buf));
        return false;
    }
    JField f[NFIELD] = {
        [F_FORMAT] = {"format", true, NULL, 0, 0}, [F_VERSION] = {"version", true, NULL, 0, 0},
        [F_NAME] = {"name", false, NULL, 0, 0},    [F_SPACE] = {"space", true, NULL, 0, 0},
        [F_NORMAL] = {"normal", true, NULL, 0, 0}, [F_REDUCE] = {"reduce", true, NULL, 0, 0},
    };
    bool ok = read_members(r, root, off, f, NFIELD, "");
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
    JReader r = {a, d, NULL, len, {0}};
    memset(out, 0, sizeof *out);
    fe_loc_cursor_init(&r.cur, file, text);
    const char *nul = memchr(text, 0, len);
    if (nul) {
        diag_error(d, fe_loc_at(&r.cur, (size_t)(nul - text)), "NUL byte in input");
        return false;
    }
    size_t ctl = fe_json_stray_control(text, len); /* see json_loc.c */
    if (ctl < len) {
        fe_json_control_error(d, &r.cur, text, ctl);
        return false;
    }
    /* cJSON needs the terminating NUL right after the text */
    r.text = arena_strndup(a, text, len);
    fe_loc_cursor_init(&r.cur, file, r.text);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(r.text, &end, 1);
    if (!root) {
        syntax_error(&r, end);
        return false;
    }
    bool ok = read_root(&r, root, out);
    cJSON_Delete(root);
    return ok;
}

/* ---- writer ---- */

static void put_json_string(FeBuf *b, const char *s)
{
    fe_buf_putn(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fe_buf_printf(b, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            fe_buf_printf(b, "\\u%04x", c);
        else
            fe_buf_putn(b, (const char *)&c, 1);
    }
    fe_buf_putn(b, "\"", 1);
}

static void put_cell(FeBuf *b, const GenoCell *c, const char *name)
{
    fe_buf_printf(b, "  \"%s\": {\n    \"edges\": [", name);
    for (int i = 0; i < c->nedge; i++) {
        fe_buf_puts(b, i ? ",\n      [" : "\n      [");
        put_json_string(b, c->edges[i].op);
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
        put_json_string(&b, g->name);
        fe_buf_puts(&b, ",\n");
    }
    fe_buf_puts(&b, "  \"space\": \"darts\",\n");
    put_cell(&b, &g->normal, "normal");
    fe_buf_puts(&b, ",\n");
    put_cell(&b, &g->reduce, "reduce");
    fe_buf_puts(&b, "\n}\n");
    return fe_buf_str(&b);
}
