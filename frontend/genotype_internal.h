/* genotype_internal.h — helpers shared by the genotype readers and writers
 * (genotype.c, genotype_py.c, genotype_json.c). Not part of the frontend
 * API; never included from outside frontend/.
 */
#ifndef NASC_FRONTEND_GENOTYPE_INTERNAL_H
#define NASC_FRONTEND_GENOTYPE_INTERNAL_H

#include "frontend/frontend.h"

/* A growable string in arena memory: growing copies into a block twice as
 * large (the old block stays in the arena), so outputs cost < 3x their size. */
typedef struct FeBuf {
    Arena *a;
    char *p;
    size_t len, cap;
} FeBuf;

void fe_buf_init(FeBuf *b, Arena *a);
void fe_buf_putn(FeBuf *b, const char *s, size_t n);
void fe_buf_puts(FeBuf *b, const char *s);
void fe_buf_printf(FeBuf *b, const char *fmt, ...) NASC_PRINTF(2, 3);
/* s as a JSON string literal, quotes and escapes included. */
void fe_buf_json_string(FeBuf *b, const char *s);
/* The NUL-terminated contents (arena memory, valid after more puts too). */
char *fe_buf_str(FeBuf *b);

/* Loc of increasing byte offsets in linear total time (loc_at_offset is
 * linear per call, quadratic over a file). Going backwards restarts. Same
 * convention as loc_at_offset: 1-based lines, byte columns. */
typedef struct FeLocCursor {
    const char *file, *text;
    size_t off;
    uint32_t line, col;
} FeLocCursor;

void fe_loc_cursor_init(FeLocCursor *c, const char *file, const char *text);
Loc fe_loc_at(FeLocCursor *c, size_t off);

/* Writes s (at most n bytes of it) into buf[size] for a one-line message:
 * control bytes escaped, long strings cut with "...". Returns buf. */
char *fe_show(char *buf, size_t size, const char *s, size_t n);
enum { FE_SHOW_MAX = 72 };

/* "normal" / "reduce": the cell's name in messages and in both formats. */
const char *fe_cell_name(const Genotype *g, const GenoCell *c);

/* Python-identifier test used for genotype names in both formats. */
bool fe_is_identifier(const char *s);

/* ---- json_loc.c: cJSON plus positions (shared by the JSON readers) ----
 * cJSON keeps no positions. After it has accepted the text, a reader walks
 * the (valid) text in lockstep with the tree: members and elements appear
 * in the text in tree order, so js offsets follow from one forward walk. */
struct cJSON;
typedef struct FeJson {
    Arena *a;
    Diag *d;
    const char *text; /* NUL-terminated copy of the input */
    size_t len;
    FeLocCursor cur;
} FeJson;
#define FE_JS_END SIZE_MAX

/* Parses text (NUL bytes and syntax errors reported at their line:col).
 * Returns the root to cJSON_Delete, or NULL after an error. */
struct cJSON *fe_json_parse(FeJson *j, Arena *a, const char *file, const char *text, size_t len,
                            Diag *d);
/* Offset of the first control byte outside a string other than JSON's
 * whitespace (cJSON would skip it, the position walk would not), or len;
 * fe_json_control_error reports it. Run before cJSON by both readers. */
size_t fe_json_stray_control(const char *text, size_t len);
void fe_json_control_error(Diag *d, FeLocCursor *cur, const char *text, size_t off);
size_t fe_json_root(const FeJson *j);                  /* offset of the root value */
size_t fe_json_first(const FeJson *j, size_t off);     /* first element/key, or FE_JS_END */
size_t fe_json_next(const FeJson *j, size_t off);      /* next element, or FE_JS_END */
size_t fe_json_value_of(const FeJson *j, size_t key);  /* value of the member keyed at key */
size_t fe_json_next_member(const FeJson *j, size_t key);
Loc fe_json_loc(FeJson *j, size_t off);
/* "a string", "an array of 3 elements", ... for "found %s" messages. */
const char *fe_json_type(const struct cJSON *v, char *buf, size_t size);

typedef struct FeJsonField {
    const char *key;
    bool required;
    const struct cJSON *v; /* out: the member with this key, or NULL */
    size_t koff, voff;
} FeJsonField;
/* Matches obj's members (text offset off) to f[nf]: warns on unknown keys,
 * reports duplicate and missing required keys; `where` follows the key in
 * messages (" in cell 'normal'"). False after an error. */
bool fe_json_members(FeJson *j, const struct cJSON *obj, size_t off, FeJsonField *f, int nf,
                     const char *where);
/* An integer written as one (no fraction or exponent) that fits an int;
 * `what` names it in messages (e.g. "F" in quotes). */
bool fe_json_int(FeJson *j, const struct cJSON *v, size_t off, int *out, const char *what);
/* Reports `"key" must be <want>, found <type>` unless ok. Returns ok. */
bool fe_json_expect(FeJson *j, const FeJsonField *f, bool ok, const char *want);

/* ---- autodeeplab_json.c: the JSON forms of a path and a cell, shared by
 * the canonical reader and the --path/--cell file readers. v is an array
 * at text offset off; errors are located at its elements. */
bool fe_adl_json_path(FeJson *j, const struct cJSON *v, size_t off, AdlArch *out);
bool fe_adl_json_cell(FeJson *j, const struct cJSON *v, size_t off, AdlArch *out);
/* Row op numbers 0..9 index fe_adl_ops; NULL if out of range. */
const char *fe_adl_op_name(long long number);

/* npy.c: fe_npy_read_ints on bytes already in memory (b[len]); `path`
 * names the file in messages. */
bool fe_npy_parse_ints(Arena *a, const char *path, const unsigned char *b, size_t len,
                       NpyArray *out, Diag *d);

#endif
