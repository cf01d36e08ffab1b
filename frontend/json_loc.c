/* json_loc.c — cJSON with line:col for every JSON reader of the frontend.
 *
 * cJSON parses; it keeps no positions, so after it has accepted the text a
 * reader re-scans the (now known to be valid) text in lockstep with the
 * tree: object members and array elements appear in the text in the same
 * order as in the tree, so one forward walk gives every key and value its
 * byte offset, and each error its line:col.
 */
#include "frontend/genotype_internal.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <string.h>

/* ---- offsets in valid JSON text ---- */

static size_t js_ws(const FeJson *j, size_t i)
{
    while (i < j->len && (j->text[i] == ' ' || j->text[i] == '\t' || j->text[i] == '\r' ||
                          j->text[i] == '\n'))
        i++;
    return i;
}

static size_t js_skip_string(const FeJson *j, size_t i)
{
    for (i++; i < j->len && j->text[i] != '"'; i++)
        if (j->text[i] == '\\')
            i++;
    return i < j->len ? i + 1 : j->len;
}

/* Offset just after the value starting at i. */
static size_t js_skip_value(const FeJson *j, size_t i)
{
    const char *t = j->text;
    if (i >= j->len)
        return j->len;
    if (t[i] == '"')
        return js_skip_string(j, i);
    if (t[i] != '{' && t[i] != '[') {
        while (i < j->len && !strchr(",]} \t\r\n", t[i]))
            i++;
        return i;
    }
    size_t depth = 0;
    while (i < j->len) {
        if (t[i] == '"') {
            i = js_skip_string(j, i);
            continue;
        }
        if (t[i] == '{' || t[i] == '[')
            depth++;
        else if ((t[i] == '}' || t[i] == ']') && --depth == 0)
            return i + 1;
        i++;
    }
    return j->len;
}

size_t fe_json_root(const FeJson *j)
{
    return js_ws(j, j->len >= 3 && memcmp(j->text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0);
}

size_t fe_json_first(const FeJson *j, size_t off)
{
    if (off == FE_JS_END)
        return FE_JS_END;
    size_t i = js_ws(j, off + 1);
    return i < j->len && j->text[i] != ']' && j->text[i] != '}' ? i : FE_JS_END;
}

size_t fe_json_next(const FeJson *j, size_t off)
{
    if (off == FE_JS_END)
        return FE_JS_END;
    size_t i = js_ws(j, js_skip_value(j, off));
    return i < j->len && j->text[i] == ',' ? js_ws(j, i + 1) : FE_JS_END;
}

size_t fe_json_value_of(const FeJson *j, size_t key)
{
    if (key == FE_JS_END)
        return FE_JS_END;
    size_t i = js_ws(j, js_skip_string(j, key));
    return js_ws(j, i + 1); /* past ':' */
}

size_t fe_json_next_member(const FeJson *j, size_t key)
{
    return key == FE_JS_END ? FE_JS_END : fe_json_next(j, fe_json_value_of(j, key));
}

Loc fe_json_loc(FeJson *j, size_t off)
{
    return fe_loc_at(&j->cur, off > j->len ? j->len : off);
}

const char *fe_json_type(const cJSON *v, char *buf, size_t size)
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

/* ---- parsing ---- */

/* cJSON points into a string it could not finish; the useful place is the
 * string's opening quote. Returns that offset, or FE_JS_END if off is not
 * inside an unterminated string. */
static size_t unterminated_string(const FeJson *j, size_t off)
{
    size_t open = FE_JS_END;
    for (size_t i = 0; i < j->len; i++) {
        if (open == FE_JS_END && i > off)
            return FE_JS_END;
        if (open != FE_JS_END && j->text[i] == '\\')
            i++;
        else if (j->text[i] == '"')
            open = open == FE_JS_END ? i : FE_JS_END;
    }
    return open != FE_JS_END && open <= off ? open : FE_JS_END;
}

/* Brackets open before off (outside strings). */
static size_t depth_at(const FeJson *j, size_t off)
{
    size_t depth = 0;
    for (size_t i = 0; i < off;) {
        char c = j->text[i];
        if (c == '"') {
            i = js_skip_string(j, i);
            continue;
        }
        if (c == '[' || c == '{')
            depth++;
        else if ((c == ']' || c == '}') && depth > 0)
            depth--;
        i++;
    }
    return depth;
}

static void syntax_error(FeJson *j, const char *end)
{
    size_t off = end && end >= j->text ? (size_t)(end - j->text) : 0;
    off = js_ws(j, off > j->len ? j->len : off);
    size_t str = unterminated_string(j, off);
    if (str != FE_JS_END) {
        diag_error(j->d, fe_json_loc(j, str), "invalid JSON: unterminated string");
        return;
    }
    if (off >= j->len) {
        diag_error(j->d, fe_json_loc(j, j->len), "invalid JSON: unexpected end of file");
        return;
    }
    /* cJSON stops at its nesting limit (so hostile input cannot exhaust
     * the stack); say so rather than "unexpected '['" */
    if ((j->text[off] == '[' || j->text[off] == '{') && depth_at(j, off) >= CJSON_NESTING_LIMIT) {
        diag_error(j->d, fe_json_loc(j, off), "invalid JSON: nested deeper than %d levels",
                   CJSON_NESTING_LIMIT);
        return;
    }
    char show[FE_SHOW_MAX];
    diag_error(j->d, fe_json_loc(j, off), "invalid JSON: unexpected '%s'",
               fe_show(show, sizeof show, j->text + off, 1));
}

/* cJSON skips every byte 0x01..0x20 as whitespace, JSON only space, tab,
 * CR and LF. The position walk above follows JSON, so a stray control byte
 * outside a string would put every later offset out of step (found by
 * fuzzing: offsets ran past the end). Such bytes are refused up front. */
size_t fe_json_stray_control(const char *text, size_t len)
{
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c < 0x20 && c != ' ' && c != '\t' && c != '\r' && c != '\n') {
            return i;
        }
    }
    return len;
}

/* The error for fe_json_stray_control's finding (off < len). */
void fe_json_control_error(Diag *d, FeLocCursor *cur, const char *text, size_t off)
{
    diag_error(d, fe_loc_at(cur, off), "invalid JSON: control byte 0x%02X outside a string",
               (unsigned)(unsigned char)text[off]);
}

cJSON *fe_json_parse(FeJson *j, Arena *a, const char *file, const char *text, size_t len,
                     Diag *d)
{
    j->a = a;
    j->d = d;
    j->len = len;
    j->text = text;
    fe_loc_cursor_init(&j->cur, file, text);
    const char *nul = memchr(text, 0, len);
    if (nul) {
        diag_error(d, fe_loc_at(&j->cur, (size_t)(nul - text)), "NUL byte in input");
        return NULL;
    }
    size_t ctl = fe_json_stray_control(text, len);
    if (ctl < len) {
        fe_json_control_error(d, &j->cur, text, ctl);
        return NULL;
    }
    /* cJSON needs the terminating NUL right after the text */
    j->text = arena_strndup(a, text, len);
    fe_loc_cursor_init(&j->cur, file, j->text);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(j->text, &end, 1);
    if (!root)
        syntax_error(j, end);
    return root;
}

/* ---- objects and numbers ---- */

bool fe_json_members(FeJson *j, const cJSON *obj, size_t off, FeJsonField *f, int nf,
                     const char *where)
{
    char show[FE_SHOW_MAX];
    bool ok = true;
    size_t k = fe_json_first(j, off);
    for (const cJSON *c = obj->child; c; c = c->next, k = fe_json_next_member(j, k)) {
        size_t koff = k == FE_JS_END ? off : k;
        int i = 0;
        while (i < nf && strcmp(f[i].key, c->string) != 0)
            i++;
        fe_show(show, sizeof show, c->string, strlen(c->string));
        if (i == nf) {
            diag_warn(j->d, fe_json_loc(j, koff), "unknown key \"%s\"%s ignored", show, where);
        } else if (f[i].v) {
            diag_error(j->d, fe_json_loc(j, koff), "duplicate key \"%s\"%s", show, where);
            ok = false;
        } else {
            f[i].v = c;
            f[i].koff = koff;
            f[i].voff = k == FE_JS_END ? off : fe_json_value_of(j, k);
        }
    }
    for (int i = 0; i < nf; i++) {
        if (f[i].required && !f[i].v) {
            diag_error(j->d, fe_json_loc(j, off), "missing required key \"%s\"%s", f[i].key,
                       where);
            ok = false;
        }
    }
    return ok;
}

bool fe_json_int(FeJson *j, const cJSON *v, size_t off, int *out, const char *what)
{
    char buf[32], show[FE_SHOW_MAX];
    if (!cJSON_IsNumber(v)) {
        diag_error(j->d, fe_json_loc(j, off), "%s must be an integer, found %s", what,
                   fe_json_type(v, buf, sizeof buf));
        return false;
    }
    size_t end = js_skip_value(j, off), i = off;
    bool neg = i < end && j->text[i] == '-';
    long long x = 0, limit = neg ? -(long long)INT_MIN : INT_MAX;
    fe_show(show, sizeof show, j->text + off, end - off);
    for (i += neg; i < end; i++) {
        if (j->text[i] < '0' || j->text[i] > '9') {
            diag_error(j->d, fe_json_loc(j, off), "%s must be an integer, found %s", what, show);
            return false;
        }
        x = x * 10 + (j->text[i] - '0');
        if (x > limit) {
            diag_error(j->d, fe_json_loc(j, off), "%s is out of range: %s", what, show);
            return false;
        }
    }
    *out = (int)(neg ? -x : x);
    return true;
}

bool fe_json_expect(FeJson *j, const FeJsonField *f, bool ok, const char *want)
{
    char buf[32];
    if (!ok)
        diag_error(j->d, fe_json_loc(j, f->voff), "\"%s\" must be %s, found %s", f->key, want,
                   fe_json_type(f->v, buf, sizeof buf));
    return ok;
}
