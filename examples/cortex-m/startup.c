/* startup.c — vector table and reset handler for Cortex-M4/M7 (ARMv7E-M).
 *
 * On reset the core loads SP from word 0 of the vector table and jumps to
 * word 1, Reset_Handler, which (1) gives CP10/CP11 full access in CPACR so
 * FPU instructions stop faulting, (2) copies .data from its load address in
 * flash to RAM and zeroes .bss, (3) calls main and ends the run through
 * semihosting with main's status. The symbols come from cortex-m.ld. Faults
 * print their name and end the run with a failure status.
 */
#include "semihost.h"

#include <stdint.h>

extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[];
extern uint32_t _estack[];

int main(void);

#define CPACR (*(volatile uint32_t *)0xE000ED88u)

__attribute__((noreturn)) void Reset_Handler(void)
{
    /* First, before anything might touch an FP register: CP10 and CP11
     * (bits 20..23) = full access; then make the write take effect. */
    CPACR |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");

    const uint32_t *src = _sidata;
    for (uint32_t *dst = _sdata; dst < _edata;)
        *dst++ = *src++;
    for (uint32_t *dst = _sbss; dst < _ebss;)
        *dst++ = 0;
    sh_exit(main());
}

static __attribute__((noreturn)) void fault(const char *what)
{
    sh_write0("nasc-fw: ");
    sh_write0(what);
    sh_write0("\n");
    sh_exit(1);
}

static void NMI_Handler(void) { fault("NMI"); }
static void HardFault_Handler(void) { fault("HardFault"); }
static void MemManage_Handler(void) { fault("MemManage fault"); }
static void BusFault_Handler(void) { fault("BusFault"); }
static void UsageFault_Handler(void) { fault("UsageFault (an FPU access before CPACR?)"); }
static void Other_Handler(void) { fault("unexpected exception"); }

/* The 16 system entries; the example enables no interrupt, so no IRQ slots. */
__attribute__((section(".isr_vector"), used))
static void (*const vectors[16])(void) = {
    (void (*)(void))(uintptr_t)_estack, /* initial SP */
    Reset_Handler,
    NMI_Handler,
    HardFault_Handler,
    MemManage_Handler,
    BusFault_Handler,
    UsageFault_Handler,
    0, 0, 0, 0,                         /* reserved */
    Other_Handler,                      /* SVCall */
    Other_Handler,                      /* DebugMonitor */
    0,                                  /* reserved */
    Other_Handler,                      /* PendSV */
    Other_Handler,                      /* SysTick */
};
