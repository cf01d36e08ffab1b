/* harness.c — runs a nasc-emitted network on a raw f32 input file.
 *
 *   harness IN.bin OUT.bin
 *
 * Compiled together with the generated net.c (cc -std=c99 -Wall -Wextra
 * -Werror -pedantic, no -lm), so it also proves the emitted code needs no
 * libm. Beyond running the net it checks the emitted-code contract:
 *   - net_run returns 0;
 *   - the workspace is caller-owned scratch: it is poisoned with NaNs before
 *     each run (a read of unwritten scratch shows up as NaN in the output)
 *     and framed by guard zones that must stay untouched;
 *   - every output element is written (output pre-filled with NaN);
 *   - no hidden state: a second run over a re-poisoned workspace gives
 *     bit-identical output.
 * Exit 0 on success; 1 with a message on stderr otherwise.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

#define IN_COUNT ((size_t)NET_INPUT_N * NET_INPUT_C * NET_INPUT_H * NET_INPUT_W)
#define OUT_COUNT ((size_t)NET_OUTPUT_N * NET_OUTPUT_C * NET_OUTPUT_H * NET_OUTPUT_W)
#define WS_ALIGN 64u
#define GUARD_BYTES 256u
#define GUARD_BYTE 0xA5u

/* Bytes 0xFF form a quiet NaN in every float lane. */
static void poison(void *p, size_t n) { memset(p, 0xFF, n); }

static int read_input(const char *path, float *x)
{
    FILE *f = fopen(path, "rb");
    size_t got;
    int extra;
    if (!f) {
        fprintf(stderr, "harness: cannot open %s\n", path);
        return 0;
    }
    got = fread(x, sizeof *x, IN_COUNT, f);
    extra = fgetc(f);
    fclose(f);
    if (got != IN_COUNT || extra != EOF) {
        fprintf(stderr, "harness: %s: expected exactly %lu floats\n", path,
                (unsigned long)IN_COUNT);
        return 0;
    }
    return 1;
}

static int write_output(const char *path, const float *y)
{
    FILE *f = fopen(path, "wb");
    int ok;
    if (!f) {
        fprintf(stderr, "harness: cannot create %s\n", path);
        return 0;
    }
    ok = fwrite(y, sizeof *y, OUT_COUNT, f) == OUT_COUNT;
    ok = (fclose(f) == 0) && ok;
    if (!ok)
        fprintf(stderr, "harness: write error on %s\n", path);
    return ok;
}

static int guard_intact(const unsigned char *g)
{
    size_t i;
    for (i = 0; i < GUARD_BYTES; i++)
        if (g[i] != GUARD_BYTE)
            return 0;
    return 1;
}

/* One poisoned run; 1 if net_run succeeded and kept to its workspace. */
static int run_once(const float *x, float *y, unsigned char *ws, size_t ws_bytes)
{
    int rc;
    poison(ws, ws_bytes);
    memset(ws - GUARD_BYTES, GUARD_BYTE, GUARD_BYTES);
    memset(ws + ws_bytes, GUARD_BYTE, GUARD_BYTES);
    poison(y, OUT_COUNT * sizeof *y);
    rc = net_run(x, y, ws);
    if (rc != 0) {
        fprintf(stderr, "harness: net_run returned %d\n", rc);
        return 0;
    }
    if (!guard_intact(ws - GUARD_BYTES) || !guard_intact(ws + ws_bytes)) {
        fprintf(stderr, "harness: net_run wrote outside its workspace "
                "(NET_WORKSPACE_BYTES = %lu)\n", (unsigned long)ws_bytes);
        return 0;
    }
    return 1;
}

int main(int argc, char **argv)
{
    size_t ws_bytes = (size_t)NET_WORKSPACE_BYTES;
    float *x, *y, *y2;
    unsigned char *ws_raw, *ws;
    int ok = 0;
    if (argc != 3) {
        fprintf(stderr, "usage: %s IN.bin OUT.bin\n", argv[0]);
        return 2;
    }
    if (ws_bytes == 0)
        ws_bytes = 1;
    x = malloc(IN_COUNT * sizeof *x);
    y = malloc(OUT_COUNT * sizeof *y);
    y2 = malloc(OUT_COUNT * sizeof *y2);
    ws_raw = malloc(WS_ALIGN + GUARD_BYTES + ws_bytes + GUARD_BYTES);
    if (!x || !y || !y2 || !ws_raw) {
        fprintf(stderr, "harness: out of memory\n");
        return 1;
    }
    /* GUARD_BYTES is a multiple of WS_ALIGN, so ws stays aligned. */
    ws = ws_raw + GUARD_BYTES + (WS_ALIGN - (uintptr_t)ws_raw % WS_ALIGN) % WS_ALIGN;
    if (read_input(argv[1], x) && run_once(x, y, ws, ws_bytes) &&
        run_once(x, y2, ws, ws_bytes)) {
        if (memcmp(y, y2, OUT_COUNT * sizeof *y) != 0)
            fprintf(stderr, "harness: second run differs (hidden state?)\n");
        else
            ok = write_output(argv[2], y);
    }
    free(x);
    free(y);
    free(y2);
    free(ws_raw);
    return ok ? 0 : 1;
}
