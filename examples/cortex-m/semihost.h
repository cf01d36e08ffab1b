/* semihost.h — ARM semihosting for the Cortex-M example (not part of the net).
 *
 * A semihosting call is `bkpt 0xab` with the operation in r0 and its argument
 * in r1; the debugger (here QEMU with -semihosting-config enable=on) performs
 * it on the host. Only three operations are used: SYS_WRITE0 prints a string,
 * SYS_EXIT ends the run (QEMU exits 0 for ApplicationExit, 1 otherwise).
 */
#ifndef NASC_EXAMPLE_SEMIHOST_H
#define NASC_EXAMPLE_SEMIHOST_H

#include <stdint.h>

/* Prints a NUL-terminated string on the host's stdout (SYS_WRITE0). */
void sh_write0(const char *s);
/* Ends the program: status 0 -> QEMU exits 0, anything else -> 1 (SYS_EXIT). */
void sh_exit(int status) __attribute__((noreturn));

/* Line-buffered printing on top of sh_write0 (one trap per flushed line
 * batch instead of one per character). */
void out_str(const char *s);
void out_u32(uint32_t v);     /* decimal */
void out_hex32(uint32_t v);   /* 0x%08x */
void out_float(float v);      /* [-]int.6 digits, "inf"/"nan", or "big" past 1e9 */
void out_flush(void);

#endif
