/* jit.c — the backend-independent half of jit.h: argument checks, and the
 * compiler's text output turned into located diagnostics.
 *
 * Both backends (clang's TextDiagnosticPrinter and cc) print problems as
 * "file:line:col: error: text"; each such line becomes one diag_error at
 * that Loc, so callers see them exactly like nasc's own errors. Output with
 * no such line (a crashed compiler, a dlopen failure) becomes one error. */
#include "runtime/jit/jit.h"
#include "runtime/jit/internal.h"

#include <stdlib.h>
#include <string.h>

struct Jit {
    void *be;
};

/* Parses "file:line:col: error: msg" (also "fatal error"); false if the
 * line is anything else (warnings, notes, source excerpts, carets). */
static bool parse_error_line(const char *line, size_t len, char *file, size_t fcap, Loc *at,
                             const char **msg)
{
    const char *end = line + len, *p = memchr(line, ':', len);
    if (!p || p == line || (size_t)(p - line) >= fcap)
        return false;
    memcpy(file, line, (size_t)(p - line));
    file[p - line] = '\0';
    char *q;
    unsigned long ln = strtoul(p + 1, &q, 10);
    if (q == p + 1 || *q != ':')
        return false;
    unsigned long col = strtoul(q + 1, &q, 10);
    if (*q != ':' || q >= end)
        return false;
    static const char *const kinds[] = {" error: ", " fatal error: "};
    for (int k = 0; k < 2; k++) {
        size_t kl = strlen(kinds[k]);
        if ((size_t)(end - q - 1) >= kl && memcmp(q + 1, kinds[k], kl) == 0) {
            *at = (Loc){file, (uint32_t)ln, (uint32_t)col};
            *msg = q + 1 + kl;
            return true;
        }
    }
    return false;
}

static void report(const char *text, const char *main_file, Diag *d)
{
    int before = d->nerr;
    char file[256];
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        Loc at;
        const char *msg;
        if (parse_error_line(line, len, file, sizeof file, &at, &msg))
            diag_error(d, at, "%.*s", (int)(len - (size_t)(msg - line)), msg);
        line = nl ? nl + 1 : NULL;
    }
    if (d->nerr == before) {
        size_t len = strlen(text);
        while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
            len--;
        diag_error(d, loc_file(main_file), "jit: %.*s", (int)(len > 2000 ? 2000 : len), text);
    }
}

static bool check_files(const JitFile *files, int nfiles, Diag *d)
{
    if (nfiles < 1 || !files) {
        diag_error(d, (Loc){0}, "jit: no source file given");
        return false;
    }
    for (int i = 0; i < nfiles; i++) {
        const char *n = files[i].name;
        if (!n || !*n || strchr(n, '/') || strcmp(n, ".") == 0 || strcmp(n, "..") == 0 ||
            strlen(n) > 200 || (!files[i].text && files[i].len)) {
            diag_error(d, (Loc){0}, "jit: file %d: name '%s' must be a plain file name", i,
                       n ? n : "(null)");
            return false;
        }
        for (int k = 0; k < i; k++)
            if (strcmp(files[k].name, n) == 0) {
                diag_error(d, (Loc){0}, "jit: file name '%s' given twice", n);
                return false;
            }
    }
    return true;
}

Jit *jit_compile(const JitFile *files, int nfiles, Diag *d)
{
    if (!check_files(files, nfiles, d))
        return NULL;
    JitBeFile *bf = calloc((size_t)nfiles, sizeof *bf);
    Jit *j = malloc(sizeof *j);
    if (!bf || !j) {
        free(bf);
        free(j);
        diag_error(d, (Loc){0}, "jit: out of memory");
        return NULL;
    }
    for (int i = 0; i < nfiles; i++)
        bf[i] = (JitBeFile){files[i].name, files[i].text ? files[i].text : "", files[i].len};
    char *err = NULL;
    j->be = jit_be_compile(bf, nfiles, &err);
    free(bf);
    if (!j->be) {
        report(err ? err : "compilation failed", files[0].name, d);
        free(err);
        free(j);
        return NULL;
    }
    free(err);
    return j;
}

void *jit_lookup(Jit *j, const char *symbol, Diag *d)
{
    char *err = NULL;
    void *p = j && symbol ? jit_be_lookup(j->be, symbol, &err) : NULL;
    if (!p) {
        diag_error(d, (Loc){0}, "jit: symbol '%s' not found%s%s", symbol ? symbol : "(null)",
                   err ? ": " : "", err ? err : "");
        free(err);
    }
    return p;
}

void jit_free(Jit *j)
{
    if (!j)
        return;
    jit_be_free(j->be);
    free(j);
}

const char *jit_backend(void)
{
    return jit_be_name();
}
