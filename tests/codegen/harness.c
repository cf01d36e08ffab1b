/* harness.c — main() linked with one emitted network, built by
 * test_emit_c with -DNAME=<prefix> -DUPNAME=<PREFIX> -DHEADER="<prefix>.h"
 * and the expected header values as -DEXP_* macros, which are checked at
 * compile time.
 *
 *   harness input.bin output.bin
 *
 * reads NAME_INPUT_SIZE raw floats, checks that NAME_run rejects a NULL and
 * a misaligned workspace, runs it twice on a workspace pre-filled with NaN
 * bytes (a read of a workspace slot before it is written shows up as NaN,
 * and any hidden state as a difference between the runs) and writes the
 * output. Exit 0 on success. C99, clean under the same strict flags as the
 * emitted file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include HEADER

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define RUN CAT(NAME, _run)
#define M(s) CAT(UPNAME, s)

#if M(_INPUT_N) != EXP_IN_N || M(_INPUT_C) != EXP_IN_C || M(_INPUT_H) != EXP_IN_H || \
    M(_INPUT_W) != EXP_IN_W || M(_INPUT_SIZE) != EXP_IN_N * EXP_IN_C * EXP_IN_H * EXP_IN_W
#error "input macros disagree with the graph"
#endif
#if M(_OUTPUT_N) != EXP_OUT_N || M(_OUTPUT_C) != EXP_OUT_C || M(_OUTPUT_H) != EXP_OUT_H || \
    M(_OUTPUT_W) != EXP_OUT_W ||                                                           \
    M(_OUTPUT_SIZE) != EXP_OUT_N * EXP_OUT_C * EXP_OUT_H * EXP_OUT_W
#error "output macros disagree with the graph"
#endif
#if M(_WORKSPACE_BYTES) != EXP_WS || M(_WORKSPACE_ALIGN) != 64
#error "workspace macros disagree with cg_workspace_bytes"
#endif

static int fail(const char *msg)
{
    fprintf(stderr, "harness: %s\n", msg);
    return 1;
}

int main(int argc, char **argv)
{
    static float in[M(_INPUT_SIZE)], out[M(_OUTPUT_SIZE)], out2[M(_OUTPUT_SIZE)];
    size_t align = M(_WORKSPACE_ALIGN), bytes = (size_t)M(_WORKSPACE_BYTES);
    unsigned char *raw = malloc(bytes + 2 * align);
    unsigned char *ws;
    FILE *f;
    size_t i;

    if (argc != 3 || !raw)
        return fail("usage: harness input.bin output.bin");
    ws = raw + (align - (size_t)((uintptr_t)raw % align)) % align;
    f = fopen(argv[1], "rb");
    if (!f || fread(in, sizeof in[0], M(_INPUT_SIZE), f) != (size_t)M(_INPUT_SIZE))
        return fail("cannot read input");
    fclose(f);

    if (RUN(in, out, NULL) != -1)
        return fail("NULL workspace not rejected with -1");
    if (RUN(in, out, ws + 4) != -2)
        return fail("misaligned workspace not rejected with -2");
    for (i = 0; i < M(_OUTPUT_SIZE); i++)
        out[i] = out2[i] = -12345.0f;
    memset(ws, 0xff, bytes + align);
    if (RUN(in, out, ws) != 0)
        return fail("run failed");
    memset(ws, 0xff, bytes + align);
    if (RUN(in, out2, ws) != 0)
        return fail("second run failed");
    if (memcmp(out, out2, sizeof out) != 0)
        return fail("two runs differ");

    f = fopen(argv[2], "wb");
    if (!f || fwrite(out, sizeof out[0], M(_OUTPUT_SIZE), f) != (size_t)M(_OUTPUT_SIZE))
        return fail("cannot write output");
    if (fclose(f) != 0)
        return fail("cannot close output");
    free(raw);
    return 0;
}
