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

#endif
