/* diag.c — diagnostics are collected, never printed here.
 *
 * Libraries report into a Diag and return failure; only tools/ print
 * (diag_print) and choose the exit status. Messages past DIAG_MAX are
 * counted but not stored, so a hostile input cannot flood the output.
 */
#include "ir.h"

#include <stdlib.h>
#include <string.h>

void diag_init(Diag *d)
{
    memset(d, 0, sizeof *d);
}

void diag_free(Diag *d)
{
    for (int i = 0; i < d->nmsg; i++)
        free(d->msg[i]);
    memset(d, 0, sizeof *d);
}

Loc loc_file(const char *file)
{
    Loc l = {file, 0, 0};
    return l;
}

Loc loc_at_offset(const char *file, const char *text, size_t off)
{
    Loc l = {file, 1, 1};
    for (size_t i = 0; i < off && text[i]; i++) {
        if (text[i] == '\n') {
            l.line++;
            l.col = 1;
        } else {
            l.col++;
        }
    }
    return l;
}

static int format_loc(char *buf, size_t n, Loc at)
{
    if (!at.file)
        return snprintf(buf, n, "nasc: ");
    if (at.line == 0)
        return snprintf(buf, n, "%s: ", at.file);
    if (at.col == 0)
        return snprintf(buf, n, "%s:%u: ", at.file, at.line);
    return snprintf(buf, n, "%s:%u:%u: ", at.file, at.line, at.col);
}

void diag_verror(Diag *d, Loc at, const char *kind, const char *fmt, va_list ap)
{
    if (strcmp(kind, "warning") == 0)
        d->nwarn++;
    else
        d->nerr++;
    if (d->nmsg >= DIAG_MAX)
        return;
    char head[512], body[1024];
    format_loc(head, sizeof head, at);
    vsnprintf(body, sizeof body, fmt, ap);
    /* one line per message, whatever the input contained */
    for (char *p = body; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    size_t len = strlen(head) + strlen(kind) + strlen(body) + 4;
    char *m = malloc(len);
    if (!m)
        return;
    snprintf(m, len, "%s%s: %s", head, kind, body);
    d->msg[d->nmsg++] = m;
}

void diag_error(Diag *d, Loc at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_verror(d, at, "error", fmt, ap);
    va_end(ap);
}

void diag_warn(Diag *d, Loc at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_verror(d, at, "warning", fmt, ap);
    va_end(ap);
}

void diag_print(const Diag *d, FILE *f)
{
    for (int i = 0; i < d->nmsg; i++)
        fprintf(f, "%s\n", d->msg[i]);
    int dropped = d->nerr + d->nwarn - d->nmsg;
    if (dropped > 0)
        fprintf(f, "nasc: note: %d more diagnostics not shown\n", dropped);
}
