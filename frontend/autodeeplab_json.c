/* autodeeplab_json.c — the canonical Auto-DeepLab JSON (docs/autodeeplab.md).
 *
 * `{"format": "nasc-genotype", "version": 1, "space": "autodeeplab", "name",
 * "path", "cell", "F", "B", "classes", "input", "aspp_rates", "decoder",
 * "bn"}`: every key but "name" is required (nothing is defaulted), unknown
 * keys are warnings. Positions come from json_loc.c's lockstep walk. The
 * path and cell arrays have the same syntax as the --path/--cell JSON
 * files, so their readers are shared with autodeeplab_read.c. The writer
 * prints every key in one fixed order, ops by name, so that
 * write(read(write(x))) == write(x) byte for byte.
 */
#include "frontend/genotype_internal.h"

#include <cjson/cJSON.h>
#include <string.h>

/* ---- path and cell arrays ---- */

bool fe_adl_json_path(FeJson *j, const cJSON *v, size_t off, AdlArch *out)
{
    char buf[32], what[48];
    if (!cJSON_IsArray(v)) {
        diag_error(j->d, fe_json_loc(j, off), "the path must be an array of levels 0..3, "
                   "found %s", fe_json_type(v, buf, sizeof buf));
        return false;
    }
    int n = cJSON_GetArraySize(v);
    if (n == 0) {
        diag_error(j->d, fe_json_loc(j, off), "the network path is empty; it needs one level "
                   "per layer");
        return false;
    }
    if (n > ADL_MAX_LAYERS) {
        diag_error(j->d, fe_json_loc(j, off), "the network path has %d layers; at most %d are "
                   "supported", n, ADL_MAX_LAYERS);
        return false;
    }
    int *path = arena_calloc(j->a, (size_t)n, sizeof *path);
    Loc *locs = arena_calloc(j->a, (size_t)n, sizeof *locs);
    bool ok = true;
    size_t e = fe_json_first(j, off);
    int i = 0;
    for (const cJSON *c = v->child; c; c = c->next, e = fe_json_next(j, e), i++) {
        size_t at = e == FE_JS_END ? off : e;
        locs[i] = fe_json_loc(j, at);
        snprintf(what, sizeof what, "layer %d of the path", i);
        ok &= fe_json_int(j, c, at, &path[i], what);
    }
    out->path = path;
    out->path_loc = locs;
    out->nlayers = n;
    return ok;
}

static bool read_op(FeJson *j, const cJSON *op, size_t off, int k, AdlRow *r)
{
    char buf[32], what[32];
    r->op_loc = fe_json_loc(j, off);
    if (cJSON_IsString(op)) {
        r->op = arena_strdup(j->a, op->valuestring);
        return true;
    }
    int number;
    if (!cJSON_IsNumber(op)) {
        diag_error(j->d, r->op_loc, "row %d: the op must be a name or a number 0..9, found %s", k,
                   fe_json_type(op, buf, sizeof buf));
        return false;
    }
    snprintf(what, sizeof what, "row %d: the op", k);
    if (!fe_json_int(j, op, off, &number, what))
        return false;
    r->op = fe_adl_op_name(number);
    if (!r->op)
        diag_error(j->d, r->op_loc, "row %d: op number %d is out of range: allowed 0..9 "
                   "(none .. atrous_5x5)", k, number);
    return r->op != NULL;
}

static bool read_row(FeJson *j, const cJSON *e, size_t off, int k, AdlRow *r)
{
    char buf[32], what[32];
    r->loc = r->edge_loc = r->op_loc = fe_json_loc(j, off);
    if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2) {
        diag_error(j->d, r->loc, "row %d must be [edge, op], found %s", k,
                   fe_json_type(e, buf, sizeof buf));
        return false;
    }
    size_t eoff = fe_json_first(j, off), ooff = fe_json_next(j, eoff);
    r->edge_loc = fe_json_loc(j, eoff);
    snprintf(what, sizeof what, "row %d: the edge", k);
    bool ok = fe_json_int(j, e->child, eoff, &r->edge, what);
    return read_op(j, e->child->next, ooff, k, r) && ok;
}

bool fe_adl_json_cell(FeJson *j, const cJSON *v, size_t off, AdlArch *out)
{
    char buf[32];
    if (!cJSON_IsArray(v)) {
        diag_error(j->d, fe_json_loc(j, off), "the cell must be an array of [edge, op] rows, "
                   "found %s", fe_json_type(v, buf, sizeof buf));
        return false;
    }
    bool ok = true;
    size_t e = fe_json_first(j, off);
    int k = 0;
    for (const cJSON *c = v->child; c; c = c->next, e = fe_json_next(j, e), k++) {
        size_t at = e == FE_JS_END ? off : e;
        if (k == ADL_ROWS) {
            diag_error(j->d, fe_json_loc(j, at), "the cell has %d rows; Auto-DeepLab cells have "
                       "%d (2 for each of nodes 2..6)", cJSON_GetArraySize(v), ADL_ROWS);
            return false;
        }
        AdlRow *r = &out->rows[k];
        memset(r, 0, sizeof *r);
        r->edge = -1;
        ok &= read_row(j, c, at, k, r);
    }
    out->nrows = k;
    if (k == 0) {
        diag_error(j->d, fe_json_loc(j, off), "the cell is empty; Auto-DeepLab cells have %d rows "
                   "(2 for each of nodes 2..6)", ADL_ROWS);
        ok = false;
    }
    return ok;
}

/* ---- the document ---- */

enum {
    F_FORMAT, F_VERSION, F_SPACE, F_NAME, F_PATH, F_CELL, F_F, F_B, F_CLASSES, F_INPUT,
    F_RATES, F_DECODER, F_BN, NFIELD
};

/* `"key": "want"`; `note` ends the message when the string differs. */
static bool read_string_is(FeJson *j, const FeJsonField *f, const char *want, const char *note)
{
    if (!fe_json_expect(j, f, cJSON_IsString(f->v), "a string"))
        return false;
    if (strcmp(f->v->valuestring, want) == 0)
        return true;
    char show[FE_SHOW_MAX];
    diag_error(j->d, fe_json_loc(j, f->voff), "\"%s\" must be \"%s\", found \"%s\"%s", f->key,
               want, fe_show(show, sizeof show, f->v->valuestring, strlen(f->v->valuestring)),
               note);
    return false;
}

/* Each reader below looks only at the fields that are present, so one
 * run reports a missing key and a wrong value elsewhere together. */
static bool read_header(FeJson *j, FeJsonField *f, AdlArch *out)
{
    bool ok = true;
    int version = 0;
    /* a non-integer "version" is reported by fe_json_int without clearing
     * ok: counting errors catches it (as in genotype_json.c, found there
     * by fuzzing) */
    int before = j->d->nerr;
    if (f[F_FORMAT].v)
        ok &= read_string_is(j, &f[F_FORMAT], "nasc-genotype", "");
    if (f[F_VERSION].v &&
        fe_json_int(j, f[F_VERSION].v, f[F_VERSION].voff, &version, "\"version\"") &&
        version != 1) {
        diag_error(j->d, fe_json_loc(j, f[F_VERSION].voff),
                   "unsupported version %d; this reader knows version 1", version);
        ok = false;
    }
    if (f[F_SPACE].v)
        ok &= read_string_is(j, &f[F_SPACE], "autodeeplab",
                             " (DARTS genotypes have their own reader)");
    const cJSON *v = f[F_NAME].v;
    if (v && !cJSON_IsNull(v)) {
        char show[FE_SHOW_MAX];
        if (!fe_json_expect(j, &f[F_NAME], cJSON_IsString(v), "a string or null")) {
            ok = false;
        } else if (!fe_is_identifier(v->valuestring)) {
            diag_error(j->d, fe_json_loc(j, f[F_NAME].voff), "\"name\" must be an identifier, "
                       "found \"%s\"", fe_show(show, sizeof show, v->valuestring,
                                               strlen(v->valuestring)));
            ok = false;
        } else {
            out->name = arena_strdup(j->a, v->valuestring);
        }
    }
    return ok && j->d->nerr == before;
}

/* `"key": [a, b, ...]` of exactly n ints. */
static bool read_ints(FeJson *j, const FeJsonField *f, int *dst, int n, const char *want)
{
    char what[48];
    if (!fe_json_expect(j, f, cJSON_IsArray(f->v) && cJSON_GetArraySize(f->v) == n, want))
        return false;
    bool ok = true;
    size_t e = fe_json_first(j, f->voff);
    int i = 0;
    for (const cJSON *c = f->v->child; c; c = c->next, e = fe_json_next(j, e), i++) {
        snprintf(what, sizeof what, "entry %d of \"%s\"", i, f->key);
        ok &= fe_json_int(j, c, e == FE_JS_END ? f->voff : e, &dst[i], what);
    }
    return ok;
}

static bool read_options(FeJson *j, FeJsonField *f, AdlArch *out)
{
    char what[16];
    bool ok = true;
    int *ints[3] = {&out->F, &out->B, &out->classes};
    for (int i = 0; i < 3; i++) {
        const FeJsonField *x = &f[F_F + i];
        snprintf(what, sizeof what, "\"%s\"", x->key);
        if (x->v)
            ok &= fe_json_int(j, x->v, x->voff, ints[i], what);
    }
    int hw[2];
    if (f[F_INPUT].v && read_ints(j, &f[F_INPUT], hw, 2, "[height, width]")) {
        out->in_h = hw[0];
        out->in_w = hw[1];
    } else if (f[F_INPUT].v) {
        ok = false;
    }
    if (f[F_RATES].v)
        ok &= read_ints(j, &f[F_RATES], out->aspp_rates, 3, "an array of 3 dilation rates");
    if (f[F_DECODER].v && fe_json_expect(j, &f[F_DECODER], cJSON_IsBool(f[F_DECODER].v),
                                         "true or false"))
        out->decoder = cJSON_IsTrue(f[F_DECODER].v);
    else if (f[F_DECODER].v)
        ok = false;
    const FeJsonField *bn = &f[F_BN];
    if (!bn->v)
        return ok;
    if (fe_json_expect(j, bn, cJSON_IsString(bn->v), "\"bn\" or \"abn\"") &&
        (strcmp(bn->v->valuestring, "bn") == 0 || strcmp(bn->v->valuestring, "abn") == 0)) {
        out->bn = bn->v->valuestring[0] == 'a' ? ADL_BN_ABN : ADL_BN_PLAIN;
    } else {
        if (cJSON_IsString(bn->v))
            diag_error(j->d, fe_json_loc(j, bn->voff), "\"bn\" must be \"bn\" (BatchNorm) or "
                       "\"abn\" (InPlaceABN)");
        ok = false;
    }
    return ok;
}

bool fe_adl_parse_json(Arena *a, const char *file, const char *text, size_t len, AdlArch *out,
                       Diag *d)
{
    FeJson j;
    cJSON *root = fe_json_parse(&j, a, file, text, len, d);
    if (!root)
        return false;
    char buf[32];
    size_t off = fe_json_root(&j);
    out->loc = fe_json_loc(&j, off);
    bool ok = cJSON_IsObject(root);
    if (!ok)
        diag_error(d, out->loc, "expected a JSON object, found %s",
                   fe_json_type(root, buf, sizeof buf));
    FeJsonField f[NFIELD] = {
        [F_FORMAT] = {"format", true, NULL, 0, 0},   [F_VERSION] = {"version", true, NULL, 0, 0},
        [F_SPACE] = {"space", true, NULL, 0, 0},     [F_NAME] = {"name", false, NULL, 0, 0},
        [F_PATH] = {"path", true, NULL, 0, 0},       [F_CELL] = {"cell", true, NULL, 0, 0},
        [F_F] = {"F", true, NULL, 0, 0},             [F_B] = {"B", true, NULL, 0, 0},
        [F_CLASSES] = {"classes", true, NULL, 0, 0}, [F_INPUT] = {"input", true, NULL, 0, 0},
        [F_RATES] = {"aspp_rates", true, NULL, 0, 0},
        [F_DECODER] = {"decoder", true, NULL, 0, 0}, [F_BN] = {"bn", true, NULL, 0, 0},
    };
    if (ok) {
        ok = fe_json_members(&j, root, off, f, NFIELD, "");
        ok &= read_header(&j, f, out);
        if (f[F_PATH].v)
            ok &= fe_adl_json_path(&j, f[F_PATH].v, f[F_PATH].voff, out);
        if (f[F_CELL].v)
            ok &= fe_adl_json_cell(&j, f[F_CELL].v, f[F_CELL].voff, out);
        ok &= read_options(&j, f, out);
    }
    cJSON_Delete(root);
    return ok;
}

/* ---- writer ---- */

char *fe_adl_to_json(Arena *a, const AdlArch *arch)
{
    FeBuf b;
    fe_buf_init(&b, a);
    fe_buf_puts(&b, "{\n  \"format\": \"nasc-genotype\",\n  \"version\": 1,\n"
                    "  \"space\": \"autodeeplab\",\n");
    if (arch->name) {
        fe_buf_puts(&b, "  \"name\": ");
        fe_buf_json_string(&b, arch->name);
        fe_buf_puts(&b, ",\n");
    }
    fe_buf_puts(&b, "  \"path\": [");
    for (int i = 0; i < arch->nlayers; i++)
        fe_buf_printf(&b, "%s%d", i ? ", " : "", arch->path[i]);
    fe_buf_puts(&b, "],\n  \"cell\": [");
    for (int k = 0; k < arch->nrows && k < ADL_ROWS; k++) {
        fe_buf_printf(&b, "%s\n    [%d, ", k ? "," : "", arch->rows[k].edge);
        if (arch->rows[k].op)
            fe_buf_json_string(&b, arch->rows[k].op);
        else
            fe_buf_puts(&b, "null");
        fe_buf_puts(&b, "]");
    }
    fe_buf_puts(&b, arch->nrows ? "\n  ],\n" : "],\n");
    fe_buf_printf(&b, "  \"F\": %d,\n  \"B\": %d,\n  \"classes\": %d,\n  \"input\": [%d, %d],\n",
                  arch->F, arch->B, arch->classes, arch->in_h, arch->in_w);
    fe_buf_printf(&b, "  \"aspp_rates\": [%d, %d, %d],\n  \"decoder\": %s,\n  \"bn\": \"%s\"\n}\n",
                  arch->aspp_rates[0], arch->aspp_rates[1], arch->aspp_rates[2],
                  arch->decoder ? "true" : "false", arch->bn == ADL_BN_ABN ? "abn" : "bn");
    return fe_buf_str(&b);
}
