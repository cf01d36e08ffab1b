/* autodeeplab_read.c — Auto-DeepLab path and cell files, and TF hnasnet
 * descriptions, into an AdlArch.
 *
 * --path/--cell files are NumPy .npy (recognised by their magic, whatever
 * the extension) or JSON lists. A .npy carries no line:col, so its values
 * get a file-only Loc and every message names the layer or row instead.
 * A TF description is either Python assignments (`operations = [...]`) or
 * a JSON object with the same four keys; both are first read into TfList
 * items that keep each value's Loc, and one conversion (tf_convert) maps
 * them to our rows as docs/autodeeplab.md says. The readers check only
 * what they need to store a value; fe_adl_check does the rest.
 */
#include "frontend/genotype_internal.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <string.h>

static bool is_npy(const char *text, size_t len)
{
    return len >= 6 && memcmp(text, "\x93NUMPY", 6) == 0;
}

static const char *shape_of(char *buf, size_t size, const NpyArray *x)
{
    size_t o = (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < x->rank && o < size; i++)
        o += (size_t)snprintf(buf + o, size - o, "%s%lld", i ? ", " : "",
                              (long long)x->shape[i]);
    if (o < size)
        snprintf(buf + o, size - o, x->rank == 1 ? ",)" : ")");
    return buf;
}

static void set_path(Arena *a, AdlArch *out, int n, Loc at)
{
    out->nlayers = n;
    out->path = arena_calloc(a, (size_t)n + 1, sizeof *out->path);
    out->path_loc = arena_calloc(a, (size_t)n + 1, sizeof *out->path_loc);
    NASC_ASSERT(out->path && out->path_loc);
    for (int i = 0; i < n; i++)
        out->path_loc[i] = at;
}

/* network_layer_to_space form: x[i][level][sample] = 1, where sample is 0
 * when layer i went one level down in resolution (level + 1), 1 when it
 * stayed, 2 when it went up; layer 0 uses sample 0. */
static bool path_from_onehot(Arena *a, const NpyArray *x, Loc at, AdlArch *out, Diag *d)
{
    static const char *const how[3] = {"a step from the level above", "no level change",
                                       "a step from the level below"};
    int n = (int)x->shape[0];
    set_path(a, out, n, at);
    bool ok = true;
    for (int i = 0; i < n; i++) {
        const int64_t *v = x->data + (int64_t)i * 12;
        int ones = 0, where = -1;
        for (int k = 0; k < 12; k++) {
            if (v[k] != 0 && v[k] != 1) {
                diag_error(d, at, "layer %d of the one-hot path holds %lld; expected only 0 and 1",
                           i, (long long)v[k]);
                return false;
            }
            if (v[k] == 1) {
                ones++;
                where = k;
            }
        }
        if (ones != 1) {
            diag_error(d, at, "layer %d of the one-hot path has %d ones; expected exactly one",
                       i, ones);
            ok = false;
            continue;
        }
        out->path[i] = where / 3;
        int sample = where % 3, step = i ? out->path[i] - out->path[i - 1] : 0;
        if (i > 0 && step >= -1 && step <= 1 && sample != 1 - step) {
            diag_error(d, at, "layer %d of the one-hot path: sample column %d means %s, but the "
                       "level goes from %d to %d", i, sample, how[sample], out->path[i - 1],
                       out->path[i]);
            ok = false;
        }
    }
    return ok;
}

static bool path_from_npy(Arena *a, const char *file, const char *text, size_t len,
                          AdlArch *out, Diag *d)
{
    NpyArray x;
    if (!fe_npy_parse_ints(a, file, (const unsigned char *)text, len, &x, d))
        return false;
    Loc at = loc_file(file);
    char shape[160];
    bool onehot = x.rank == 3 && x.shape[1] == 4 && x.shape[2] == 3;
    if (x.rank != 1 && !onehot) {
        diag_error(d, at, "expected a 1-D array of levels or a (layers, 4, 3) one-hot array, "
                   "found shape %s", shape_of(shape, sizeof shape, &x));
        return false;
    }
    if (x.shape[0] == 0 || x.shape[0] > ADL_MAX_LAYERS) {
        diag_error(d, at, "the network path has %lld layers; expected 1..%d",
                   (long long)x.shape[0], ADL_MAX_LAYERS);
        return false;
    }
    if (onehot)
        return path_from_onehot(a, &x, at, out, d);
    set_path(a, out, (int)x.numel, at);
    for (int i = 0; i < out->nlayers; i++) {
        if (x.data[i] < INT_MIN || x.data[i] > INT_MAX) {
            diag_error(d, at, "level %lld at layer %d is out of range: allowed 0..3",
                       (long long)x.data[i], i);
            return false;
        }
        out->path[i] = (int)x.data[i];
    }
    return true;
}

static bool cell_from_npy(Arena *a, const char *file, const char *text, size_t len,
                          AdlArch *out, Diag *d)
{
    NpyArray x;
    if (!fe_npy_parse_ints(a, file, (const unsigned char *)text, len, &x, d))
        return false;
    Loc at = loc_file(file);
    char shape[160];
    if (x.rank != 2 || x.shape[1] != 2) {
        diag_error(d, at, "expected a (10, 2) array of [edge, op] rows, found shape %s",
                   shape_of(shape, sizeof shape, &x));
        return false;
    }
    if (x.shape[0] == 0 || x.shape[0] > ADL_ROWS) {
        diag_error(d, at, "the cell has %lld rows; Auto-DeepLab cells have %d (2 for each of "
                   "nodes 2..6)", (long long)x.shape[0], ADL_ROWS);
        return false;
    }
    bool ok = true;
    out->nrows = (int)x.shape[0];
    for (int k = 0; k < out->nrows; k++) {
        AdlRow *r = &out->rows[k];
        int64_t op = x.data[2 * k + 1];
        memset(r, 0, sizeof *r);
        r->loc = r->edge_loc = r->op_loc = at;
        r->op = fe_adl_op_name(op);
        if (!r->op) {
            diag_error(d, at, "row %d: op number %lld is out of range: allowed 0..9 (none .. "
                       "atrous_5x5)", k, (long long)op);
            ok = false;
        }
        if (x.data[2 * k] < INT_MIN || x.data[2 * k] > INT_MAX) {
            diag_error(d, at, "row %d: edge %lld is out of range: allowed 0..%d", k,
                       (long long)x.data[2 * k], ADL_EDGES - 1);
            ok = false;
        } else {
            r->edge = (int)x.data[2 * k];
        }
    }
    return ok;
}

/* A path or cell file: NumPy (by its magic bytes, whatever the name) or a
 * JSON list. */
typedef bool NpyForm(Arena *a, const char *file, const char *text, size_t len, AdlArch *out,
                     Diag *d);
typedef bool JsonForm(FeJson *j, const cJSON *v, size_t off, AdlArch *out);

static bool read_npy_or_json(Arena *a, const char *file, AdlArch *out, Diag *d, NpyForm *npy,
                             JsonForm *json)
{
    size_t len = 0;
    char *text = fe_read_file(a, file, &len, d);
    if (!text)
        return false;
    file = arena_strdup(a, file);
    if (is_npy(text, len))
        return npy(a, file, text, len, out, d);
    FeJson j;
    cJSON *root = fe_json_parse(&j, a, file, text, len, d);
    if (!root)
        return false;
    bool ok = json(&j, root, fe_json_root(&j), out);
    cJSON_Delete(root);
    return ok;
}

bool fe_adl_read_path(Arena *a, const char *file, AdlArch *out, Diag *d)
{
    return read_npy_or_json(a, file, out, d, path_from_npy, fe_adl_json_path);
}

bool fe_adl_read_cell(Arena *a, const char *file, AdlArch *out, Diag *d)
{
    return read_npy_or_json(a, file, out, d, cell_from_npy, fe_adl_json_cell);
}

/* ---- TF hnasnet descriptions ---- */

/* TF op names (tensorflow/models research/deeplab/core/nas_cell.py) and
 * ours. Inside a cell every state already has the cell's filter count,
 * so TF's `none` is the identity; TF pools use SAME padding, and TF's
 * average excludes the padding as count_include_pad=False does. */
static const char *const tf_ops[][2] = {
    {"separable_3x3_2", "sep_conv_3x3"}, /* two ReLU-sepconv-BN stages, as DARTS */
    {"separable_5x5_2", "sep_conv_5x5"},
    {"atrous_3x3", "atrous_3x3"},        /* ReLU, dense conv rate 2, BN */
    {"atrous_5x5", "atrous_5x5"},
    {"none", "skip_connect"},
    {"skip", "skip_connect"},            /* not a TF name; accepted as an alias */
    {"avg_pool_3x3", "avg_pool_3x3"},
    {"max_pool_3x3", "max_pool_3x3"},
};
enum { TF_NOPS = sizeof tf_ops / sizeof tf_ops[0] };

enum { TF_BACKBONE, TF_OPS, TF_INDICES, TF_USED, TF_NLIST };
static const char *const tf_keys[TF_NLIST] = {"backbone", "operations", "hiddenstate_indices",
                                              "used_hiddenstates"};

typedef struct TfItem {
    bool is_str;
    int v;
    const char *s;
    Loc loc;
} TfItem;

typedef struct TfList {
    bool seen;
    Loc loc; /* the value (its opening bracket) */
    TfItem *it;
    int n;
} TfList;

typedef enum TfTokKind { T_EOF, T_NEWLINE, T_NAME, T_NUMBER, T_STRING, T_PUNCT, T_ERROR } TfTokKind;

typedef struct TfTok {
    TfTokKind kind;
    size_t off, len;
} TfTok;

typedef struct TfLex {
    Arena *a;
    Diag *d;
    const char *s;
    size_t n, i;
    int depth; /* open brackets: newlines inside them are blanks */
    FeLocCursor cur;
} TfLex;

enum { TF_MAX_ITEMS = 4096 };

static bool tf_is_name(unsigned char c, bool first)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (!first && c >= '0' && c <= '9');
}

static void tf_skip_blank(TfLex *L)
{
    while (L->i < L->n) {
        char c = L->s[L->i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || (c == '\n' && L->depth > 0))
            L->i++;
        else if (c == '\\' && L->i + 1 < L->n && L->s[L->i + 1] == '\n')
            L->i += 2;
        else if (c == '#')
            while (L->i < L->n && L->s[L->i] != '\n')
                L->i++;
        else if (L->i == 0 && L->n >= 3 && memcmp(L->s, "\xEF\xBB\xBF", 3) == 0)
            L->i = 3;
        else
            break;
    }
}

static TfTok tf_next(TfLex *L)
{
    tf_skip_blank(L);
    TfTok t = {T_EOF, L->i, 0};
    if (L->i >= L->n)
        return t;
    size_t j = L->i;
    unsigned char c = (unsigned char)L->s[j];
    if (c == '\n' || c == ';') {
        t.kind = T_NEWLINE;
        j++;
    } else if (c == '\'' || c == '"') {
        for (j++; j < L->n && L->s[j] != (char)c && L->s[j] != '\n'; j++)
            if (L->s[j] == '\\' && j + 1 < L->n && L->s[j + 1] != '\n')
                j++;
        if (j >= L->n || L->s[j] != (char)c) {
            diag_error(L->d, fe_loc_at(&L->cur, L->i), "unterminated string");
            t.kind = T_ERROR;
            return t;
        }
        t.kind = T_STRING;
        j++;
    } else if (tf_is_name(c, true) || (c >= '0' && c <= '9')) {
        t.kind = c >= '0' && c <= '9' ? T_NUMBER : T_NAME;
        while (j < L->n && (tf_is_name((unsigned char)L->s[j], false) || L->s[j] == '.'))
            j++;
    } else {
        t.kind = T_PUNCT;
        if (c == '[' || c == '(' || c == '{')
            L->depth++;
        else if ((c == ']' || c == ')' || c == '}') && L->depth > 0)
            L->depth--;
        j++;
    }
    t.len = j - L->i;
    L->i = j;
    return t;
}

static bool tf_punct(const TfLex *L, TfTok t, char c)
{
    return t.kind == T_PUNCT && L->s[t.off] == c;
}

static bool tf_expected(TfLex *L, TfTok t, const char *what)
{
    char show[FE_SHOW_MAX], found[FE_SHOW_MAX + 2];
    if (t.kind == T_ERROR)
        return false;
    if (t.kind == T_EOF)
        snprintf(found, sizeof found, "end of file");
    else if (t.kind == T_NEWLINE && L->s[t.off] == '\n')
        snprintf(found, sizeof found, "end of line");
    else
        snprintf(found, sizeof found, "'%s'", fe_show(show, sizeof show, L->s + t.off, t.len));
    diag_error(L->d, fe_loc_at(&L->cur, t.off), "expected %s, found %s", what, found);
    return false;
}

static bool tf_item(TfLex *L, TfTok t, TfItem *it)
{
    it->loc = fe_loc_at(&L->cur, t.off);
    if (t.kind == T_STRING) {
        it->is_str = true;
        it->s = arena_strndup(L->a, L->s + t.off + 1, t.len - 2);
        return true;
    }
    bool neg = tf_punct(L, t, '-');
    if (neg)
        t = tf_next(L);
    if (t.kind != T_NUMBER)
        return tf_expected(L, t, "an integer or a string");
    long long v = 0;
    for (size_t k = 0; k < t.len; k++) {
        char c = L->s[t.off + k];
        if (c < '0' || c > '9' || v > INT_MAX / 10) {
            char show[FE_SHOW_MAX];
            diag_error(L->d, it->loc, c < '0' || c > '9' ? "expected an integer, found '%s'"
                       : "integer '%s' is out of range", fe_show(show, sizeof show, L->s + t.off,
                                                                t.len));
            return false;
        }
        v = v * 10 + (c - '0');
    }
    it->v = (int)(neg ? -v : v);
    return true;
}

/* `[a, b, ...]` or `(a, b, ...)`, a trailing comma allowed. */
static bool tf_list(TfLex *L, TfList *out)
{
    TfTok t = tf_next(L);
    out->loc = fe_loc_at(&L->cur, t.off);
    if (!tf_punct(L, t, '[') && !tf_punct(L, t, '('))
        return tf_expected(L, t, "'[' starting a list");
    char close = L->s[t.off] == '[' ? ']' : ')';
    int cap = 16;
    out->it = arena_calloc(L->a, (size_t)cap, sizeof *out->it);
    for (;;) {
        t = tf_next(L);
        if (tf_punct(L, t, close))
            return true;
        if (out->n == TF_MAX_ITEMS) {
            diag_error(L->d, fe_loc_at(&L->cur, t.off), "list longer than %d items",
                       TF_MAX_ITEMS);
            return false;
        }
        if (out->n == cap) {
            TfItem *more = arena_calloc(L->a, (size_t)cap * 2, sizeof *more);
            memcpy(more, out->it, (size_t)cap * sizeof *more);
            out->it = more;
            cap *= 2;
        }
        if (!tf_item(L, t, &out->it[out->n++]))
            return false;
        t = tf_next(L);
        if (tf_punct(L, t, close))
            return true;
        if (!tf_punct(L, t, ','))
            return tf_expected(L, t, close == ']' ? "',' or ']'" : "',' or ')'");
    }
}

static int tf_key(const char *s, size_t n)
{
    for (int k = 0; k < TF_NLIST; k++)
        if (strlen(tf_keys[k]) == n && memcmp(tf_keys[k], s, n) == 0)
            return k;
    return -1;
}

/* `name = [...]` statements, one per line (or ';'). */
static bool tf_parse_py(TfLex *L, TfList *lists)
{
    char show[FE_SHOW_MAX];
    for (TfTok t = tf_next(L); t.kind != T_EOF; t = tf_next(L)) {
        if (t.kind == T_NEWLINE)
            continue;
        if (t.kind != T_NAME)
            return tf_expected(L, t, "an assignment `name = [...]`");
        Loc name_loc = fe_loc_at(&L->cur, t.off);
        int k = tf_key(L->s + t.off, t.len);
        fe_show(show, sizeof show, L->s + t.off, t.len);
        TfTok eq = tf_next(L);
        if (!tf_punct(L, eq, '='))
            return tf_expected(L, eq, "'='");
        TfList scratch = {0}, *dst = k >= 0 ? &lists[k] : &scratch;
        if (k >= 0 && dst->seen) {
            diag_error(L->d, name_loc, "'%s' is assigned twice", show);
            return false;
        }
        if (!tf_list(L, dst))
            return false;
        dst->seen = true;
        if (k < 0)
            diag_warn(L->d, name_loc, "unknown name '%s' ignored", show);
        t = tf_next(L);
        if (t.kind != T_NEWLINE && t.kind != T_EOF)
            return tf_expected(L, t, "end of line");
    }
    bool ok = true;
    for (int k = 0; k < TF_NLIST; k++) {
        if (!lists[k].seen) {
            diag_error(L->d, loc_file(L->cur.file), "missing `%s = [...]`", tf_keys[k]);
            ok = false;
        }
    }
    return ok;
}

static bool tf_parse_json(FeJson *j, const cJSON *root, TfList *lists)
{
    char buf[32];
    size_t off = fe_json_root(j);
    if (!cJSON_IsObject(root)) {
        diag_error(j->d, fe_json_loc(j, off), "expected a JSON object, found %s",
                   fe_json_type(root, buf, sizeof buf));
        return false;
    }
    FeJsonField f[TF_NLIST];
    for (int k = 0; k < TF_NLIST; k++)
        f[k] = (FeJsonField){tf_keys[k], true, NULL, 0, 0};
    if (!fe_json_members(j, root, off, f, TF_NLIST, ""))
        return false;
    bool ok = true;
    for (int k = 0; k < TF_NLIST; k++) {
        TfList *l = &lists[k];
        if (!fe_json_expect(j, &f[k], cJSON_IsArray(f[k].v), "an array")) {
            ok = false;
            continue;
        }
        l->seen = true;
        l->loc = fe_json_loc(j, f[k].voff);
        l->n = cJSON_GetArraySize(f[k].v);
        l->it = arena_calloc(j->a, (size_t)l->n + 1, sizeof *l->it);
        size_t e = fe_json_first(j, f[k].voff);
        int i = 0;
        for (const cJSON *c = f[k].v->child; c; c = c->next, e = fe_json_next(j, e), i++) {
            size_t at = e == FE_JS_END ? f[k].voff : e;
            TfItem *it = &l->it[i];
            it->loc = fe_json_loc(j, at);
            if (cJSON_IsString(c)) {
                it->is_str = true;
                it->s = arena_strdup(j->a, c->valuestring);
            } else {
                snprintf(buf, sizeof buf, "%s[%d]", tf_keys[k], i);
                ok &= fe_json_int(j, c, at, &it->v, buf);
            }
        }
    }
    return ok;
}

/* ---- TF lists -> AdlArch ---- */

static bool tf_count(Diag *d, const TfList *l, int key, int want, const char *why)
{
    if (l->n == want)
        return true;
    diag_error(d, l->loc, "`%s` has %d entr%s; %s", tf_keys[key], l->n, l->n == 1 ? "y" : "ies",
               why);
    return false;
}

static bool tf_is_int(Diag *d, const TfList *l, int key, int i)
{
    if (l->it[i].is_str)
        diag_error(d, l->it[i].loc, "%s[%d] must be an integer, found a string", tf_keys[key], i);
    return !l->it[i].is_str;
}

static bool tf_path(Arena *a, const TfList *l, AdlArch *out, Diag *d)
{
    if (l->n == 0 || l->n > ADL_MAX_LAYERS) {
        diag_error(d, l->loc, "`backbone` has %d entries; the network path needs 1..%d levels",
                   l->n, ADL_MAX_LAYERS);
        return false;
    }
    bool ok = true;
    out->nlayers = l->n;
    out->path = arena_calloc(a, (size_t)l->n, sizeof *out->path);
    out->path_loc = arena_calloc(a, (size_t)l->n, sizeof *out->path_loc);
    for (int i = 0; i < l->n; i++) {
        ok &= tf_is_int(d, l, TF_BACKBONE, i);
        out->path[i] = l->it[i].v;
        out->path_loc[i] = l->it[i].loc;
    }
    return ok;
}

/* TF concatenates the states marked 0; nasc's cell output is always the
 * five blocks, so exactly the two inputs may be marked. */
static bool tf_used(const TfList *l, Diag *d)
{
    if (!tf_count(d, l, TF_USED, 2 + ADL_NODES, "expected 7 (the 2 cell inputs, then 5 blocks)"))
        return false;
    for (int i = 0; i < l->n; i++) {
        if (!tf_is_int(d, l, TF_USED, i))
            return false;
        if (l->it[i].v != (i < 2)) {
            diag_error(d, l->it[i].loc, "used_hiddenstates[%d] is %d; nasc needs [1, 1, 0, 0, 0, "
                       "0, 0]: TF concatenates the states marked 0, and nasc's cell output "
                       "concatenates all five blocks (B = 5) and neither input", i, l->it[i].v);
            return false;
        }
    }
    return true;
}

static const char *tf_op(Diag *d, const TfItem *it, int k)
{
    char show[FE_SHOW_MAX], known[192];
    if (!it->is_str) {
        diag_error(d, it->loc, "operations[%d] must be a string, found a number", k);
        return NULL;
    }
    size_t o = 0;
    for (int i = 0; i < TF_NOPS; i++) {
        if (strcmp(it->s, tf_ops[i][0]) == 0)
            return tf_ops[i][1];
        if (o < sizeof known)
            o += (size_t)snprintf(known + o, sizeof known - o, "%s%s", i ? ", " : "",
                                  tf_ops[i][0]);
    }
    diag_error(d, it->loc, "unknown TF op '%s'; known: %s",
               fe_show(show, sizeof show, it->s, strlen(it->s)), known);
    return NULL;
}

/* Block b = node b + 2 combines operations[2b] on TF state
 * hiddenstate_indices[2b] and operations[2b+1] on [2b+1]. TF state 0 is
 * the previous cell (our 1), 1 the one before (our 0), k >= 2 block k-2
 * (our node k): row k gets edge offset(b + 2) + ours(state). */
static bool tf_cell(const TfList *ops, const TfList *idx, AdlArch *out, Diag *d)
{
    const char *why = "an hnasnet cell has 10 (2 per block, 5 blocks)";
    bool ok = tf_count(d, ops, TF_OPS, ADL_ROWS, why);
    ok &= tf_count(d, idx, TF_INDICES, ADL_ROWS, why);
    if (!ok)
        return false;
    for (int k = 0; k < ADL_ROWS; k++) {
        int block = k / 2, s = idx->it[k].v;
        AdlRow *r = &out->rows[k];
        memset(r, 0, sizeof *r);
        r->op = tf_op(d, &ops->it[k], k);
        r->loc = r->op_loc = ops->it[k].loc;
        r->edge_loc = idx->it[k].loc;
        if (!r->op || !tf_is_int(d, idx, TF_INDICES, k)) {
            ok = false;
            continue;
        }
        if (s < 0 || s > block + 1) {
            diag_error(d, idx->it[k].loc, "hiddenstate_indices[%d] is %d; block %d reads TF "
                       "states 0..%d (0 = previous cell, 1 = the one before, 2.. = blocks)", k, s,
                       block, block + 1);
            ok = false;
            continue;
        }
        r->edge = fe_adl_edge_offset(block + 2) + (s == 0 ? 1 : s == 1 ? 0 : s);
    }
    out->nrows = ADL_ROWS;
    return ok;
}

static bool looks_like_json_object(const char *text, size_t len)
{
    size_t i = len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    while (i < len && strchr(" \t\r\n", text[i]) && text[i])
        i++;
    return i < len && text[i] == '{';
}

bool fe_adl_parse_tf(Arena *a, const char *file, const char *text, size_t len, AdlArch *out,
                     Diag *d)
{
    TfList lists[TF_NLIST];
    memset(lists, 0, sizeof lists);
    bool ok;
    if (looks_like_json_object(text, len)) {
        FeJson j;
        cJSON *root = fe_json_parse(&j, a, file, text, len, d);
        ok = root && tf_parse_json(&j, root, lists);
        cJSON_Delete(root);
    } else {
        TfLex L = {a, d, text, len, 0, 0, {0}};
        fe_loc_cursor_init(&L.cur, file, text);
        ok = tf_parse_py(&L, lists);
    }
    if (!ok)
        return false;
    ok = tf_used(&lists[TF_USED], d);
    ok &= tf_path(a, &lists[TF_BACKBONE], out, d);
    ok &= tf_cell(&lists[TF_OPS], &lists[TF_INDICES], out, d);
    return ok;
}
