/* labels_harness.c — main for an emitted net compiled with --output argmax:
 * reads NET_INPUT_SIZE floats (argv[1]), writes NET_OUTPUT_SIZE uint8_t
 * labels (argv[2]). Built with -std=c99 -Wall -Wextra -Werror -pedantic. */
#include "net.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    static float input[NET_INPUT_SIZE];
    static uint8_t labels[NET_OUTPUT_SIZE];
    static unsigned char ws[NET_WORKSPACE_BYTES + 2 * NET_WORKSPACE_ALIGN];
    void *aligned = ws + (NET_WORKSPACE_ALIGN - (uintptr_t)ws % NET_WORKSPACE_ALIGN);
    FILE *f = argc == 3 ? fopen(argv[1], "rb") : NULL;
    if (!f || fread(input, sizeof input[0], NET_INPUT_SIZE, f) != NET_INPUT_SIZE)
        return 2;
    fclose(f);
    if (net_run(input, labels, aligned) != 0)
        return 3;
    f = fopen(argv[2], "wb");
    if (!f || fwrite(labels, 1, NET_OUTPUT_SIZE, f) != NET_OUTPUT_SIZE || fclose(f) != 0)
        return 4;
    return 0;
}
