/* fuzz.h — helpers shared by the libFuzzer targets (tests/fuzz/fuzz_*.c).
 *
 * Each target is one LLVMFuzzerTestOneInput built twice: with libFuzzer
 * (-DNASC_FUZZ=ON, clang) and with replay.c as an ordinary ctest case. Every
 * target checks the same contract on top of the sanitizers: a reader that
 * fails has reported at least one error, a reader that succeeds has reported
 * none, and every message is one line. A violation aborts, which libFuzzer
 * and ctest both count as a finding.
 */
#ifndef NASC_TESTS_FUZZ_FUZZ_H
#define NASC_TESTS_FUZZ_FUZZ_H

#include "frontend/genotype_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline void fuzz_require(bool cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz: contract violated: %s\n", what);
        abort();
    }
}

/* An exact-size, unterminated copy: the readers take (text, len), so any
 * read of text[len] is a bug that ASan must see. */
static inline char *fuzz_copy(const uint8_t *data, size_t size)
{
    char *p = malloc(size ? size : 1);
    fuzz_require(p != NULL, "out of memory copying the input");
    if (size)
        memcpy(p, data, size);
    return p;
}

/* ok <=> no errors; failures say why; every message is a single line. */
static inline void fuzz_result(bool ok, const Diag *d, const char *what)
{
    if (ok && d->nerr != 0) {
        fprintf(stderr, "fuzz: %s succeeded with %d errors\n", what, d->nerr);
        abort();
    }
    if (!ok && (d->nerr == 0 || d->nmsg == 0)) {
        fprintf(stderr, "fuzz: %s failed without an error message\n", what);
        abort();
    }
    for (int i = 0; i < d->nmsg; i++)
        fuzz_require(d->msg[i] && !strchr(d->msg[i], '\n') && !strchr(d->msg[i], '\r'),
                     "diagnostic spans more than one line");
}

#endif
