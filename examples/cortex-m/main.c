/* main.c — runs the emitted network once on a fixed input and prints the
 * result over semihosting: one line per output float with its exact bits
 * (what tests/firmware compares) and an approximate decimal (for people).
 *
 * Also measured and printed: CMSDK timer0 ticks across net_run and across
 * a calibration loop of a known instruction count (under QEMU -icount
 * shift=0 virtual time advances 1 ns per instruction, so ticks convert to
 * instructions; bench/firmware.sh does that), and the stack net_run used,
 * by painting the free stack before the call and finding the lowest word
 * it overwrote. The input comes from input.inc (the bits of a raw f32 file,
 * made by build.sh), the network from net.c / net.h (`nasc compile --name
 * net --target cortex-m4|cortex-m7`).
 */
#include "net.h"
#include "semihost.h"

#include <stdint.h>

/* Float bits written as integers, so the input is exactly the host's. */
static const union {
    uint32_t bits[NET_INPUT_SIZE];
    float f[NET_INPUT_SIZE];
} input = {{
#include "input.inc"
}};

static uint8_t workspace[NET_WORKSPACE_BYTES > 0 ? NET_WORKSPACE_BYTES : 1]
    __attribute__((aligned(NET_WORKSPACE_ALIGN)));
static union {
    float f[NET_OUTPUT_SIZE];
    uint32_t bits[NET_OUTPUT_SIZE];
} output;

/* CMSDK APB timer0 of the MPS2 boards: a 32-bit down counter. */
#define TIMER0_CTRL (*(volatile uint32_t *)0x40000000u)
#define TIMER0_VALUE (*(volatile uint32_t *)0x40000004u)
#define TIMER0_RELOAD (*(volatile uint32_t *)0x40000008u)

enum { CALIB_LOOPS = 1 << 20, CALIB_INSNS = 2 * CALIB_LOOPS }; /* subs + bne per loop */
enum { PAINT_BYTES = 256 * 1024, PAINT_WORD = 0xA5A5A5A5u };

extern uint32_t _sstack[];

static void timer_start(void)
{
    TIMER0_CTRL = 0;
    TIMER0_RELOAD = 0xFFFFFFFFu;
    TIMER0_VALUE = 0xFFFFFFFFu;
    TIMER0_CTRL = 1; /* enable, system clock */
}

static uint32_t calib_ticks(void)
{
    uint32_t n = CALIB_LOOPS, t0 = TIMER0_VALUE;
    __asm__ volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(n) : : "cc");
    return t0 - TIMER0_VALUE;
}

static inline __attribute__((always_inline)) uint32_t *stack_pointer(void)
{
    uint32_t *sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    return sp;
}

int main(void)
{
    timer_start();
    /* Paint the stack below this frame; main's own locals are above sp. */
    uint32_t *sp = stack_pointer();
    uint32_t *lo = sp - PAINT_BYTES / 4 > _sstack ? sp - PAINT_BYTES / 4 : _sstack;
    for (volatile uint32_t *p = lo; p < sp - 4; p++)
        *p = PAINT_WORD;

    uint32_t t0 = TIMER0_VALUE;
    int status = net_run(input.f, output.f, workspace);
    uint32_t ticks = t0 - TIMER0_VALUE;

    uint32_t *touched = lo;
    while (touched < sp - 4 && *touched == PAINT_WORD)
        touched++;
    uint32_t cal = calib_ticks();

    out_str("nasc-fw: input ");
    out_u32(NET_INPUT_SIZE);
    out_str(" floats, output ");
    out_u32(NET_OUTPUT_SIZE);
    out_str(" floats, workspace ");
    out_u32(NET_WORKSPACE_BYTES);
    out_str(" bytes\nnasc-fw: status ");
    out_u32((uint32_t)status);
    out_str("\nnasc-fw: ticks ");
    out_u32(ticks);
    out_str(" calib-ticks ");
    out_u32(cal);
    out_str(" calib-insns ");
    out_u32(CALIB_INSNS);
    out_str("\nnasc-fw: stack-used ");
    out_u32((uint32_t)((uintptr_t)sp - (uintptr_t)touched));
    out_str(touched == lo ? " (the whole painted area: more?)\n" : "\n");
    for (uint32_t i = 0; status == 0 && i < NET_OUTPUT_SIZE; i++) {
        out_str("y ");
        out_hex32(output.bits[i]);
        out_str(" ");
        out_float(output.f[i]);
        out_str("\n");
    }
    out_str("nasc-fw: end\n");
    out_flush();
    return status;
}
