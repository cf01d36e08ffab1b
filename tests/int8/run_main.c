/* run_main.c — host driver of an emitted int8 net: net IN.bin OUT.bin runs
 * net_run once on raw f32 input and writes the raw output (floats or labels). */
#include "net.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    static float x[NET_INPUT_SIZE];
    static unsigned char ws[NET_WORKSPACE_BYTES + NET_WORKSPACE_ALIGN];
    static float y[NET_OUTPUT_SIZE];
    FILE *f = argc > 2 ? fopen(argv[1], "rb") : NULL;
    if (!f || fread(x, sizeof x, 1, f) != 1)
        return 2;
    fclose(f);
    void *w = ws + (NET_WORKSPACE_ALIGN - (uintptr_t)ws % NET_WORKSPACE_ALIGN);
    if (net_run(x, (void *)y, w) != 0)
        return 3;
    size_t n = NET_INT8_LABELS ? NET_OUTPUT_SIZE : sizeof y;
    f = fopen(argv[2], "wb");
    return f && fwrite(y, n, 1, f) == 1 && fclose(f) == 0 ? 0 : 4;
}
