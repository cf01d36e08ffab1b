/* st_writer.h — a tiny safetensors writer for the weights tests.
 *
 * Independent of frontend/safetensors.c on purpose: the tests must not
 * share the code they check. stw_* builds well-formed files the way the
 * reference writer does (header padded with spaces to a multiple of 8);
 * st_raw builds files from literal header bytes, to make broken ones.
 */
#ifndef NASC_TESTS_WEIGHTS_ST_WRITER_H
#define NASC_TESTS_WEIGHTS_ST_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct StWriter {
    char *header;        /* JSON built so far, without the closing brace */
    size_t hlen, hcap;
    unsigned char *data; /* data section built so far */
    size_t dlen, dcap;
    int n;               /* entries written */
} StWriter;

void stw_init(StWriter *w, const char *metadata_json /* "{...}" or NULL */);
/* Appends a tensor; `bytes` are its raw little-endian element bytes. */
void stw_add(StWriter *w, const char *name, const char *dtype, int rank, const int64_t *shape,
             const void *bytes, size_t nbytes);
/* The whole file (malloc'd); releases the writer. */
unsigned char *stw_finish(StWriter *w, size_t *len);

/* u64le(claimed header length) + header bytes + data, malloc'd. */
unsigned char *st_raw(uint64_t claimed, const char *header, const void *data, size_t dlen,
                      size_t *len);
/* st_raw with the true header length. */
unsigned char *st_file(const char *header, const void *data, size_t dlen, size_t *len);

bool st_write_bytes(const char *path, const void *p, size_t n);

#endif
