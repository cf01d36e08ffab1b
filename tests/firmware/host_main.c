/* host_main.c — runs an emitted net.c on the host with the firmware's input
 * and prints its outputs in the firmware's format ("y 0x<bits>"), so the
 * test can require the Cortex-M build of the same C to match bit for bit.
 * Built by test_firmware.sh with -I<build dir> (net.h, input.inc).
 */
#include "net.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const union {
    uint32_t bits[NET_INPUT_SIZE];
    float f[NET_INPUT_SIZE];
} input = {{
#include "input.inc"
}};

int main(void)
{
    size_t ws_bytes = NET_WORKSPACE_BYTES;
    size_t rounded = (ws_bytes + NET_WORKSPACE_ALIGN - 1) / NET_WORKSPACE_ALIGN *
                     NET_WORKSPACE_ALIGN;
    void *ws = aligned_alloc(NET_WORKSPACE_ALIGN, rounded ? rounded : NET_WORKSPACE_ALIGN);
    float *y = calloc(NET_OUTPUT_SIZE, sizeof *y);
    if (!ws || !y)
        return 1;
    int status = net_run(input.f, y, ws);
    if (status != 0) {
        fprintf(stderr, "host_main: net_run returned %d\n", status);
        return 1;
    }
    for (size_t i = 0; i < NET_OUTPUT_SIZE; i++) {
        uint32_t bits;
        memcpy(&bits, &y[i], sizeof bits);
        printf("y 0x%08lx\n", (unsigned long)bits);
    }
    free(ws);
    free(y);
    return 0;
}
