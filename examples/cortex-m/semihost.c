/* semihost.c — semihosting calls and a tiny formatter for the example.
 *
 * The formatter avoids stdio and libm so the image needs nothing but the
 * startup code and the emitted network; float printing is approximate
 * (for people), the exact bits go out in hex (for the tests).
 */
#include "semihost.h"

enum { SYS_WRITE0 = 0x04, SYS_EXIT = 0x18 };
enum { ADP_STOPPED_APPLICATION_EXIT = 0x20026, ADP_STOPPED_RUNTIME_ERROR = 0x20023 };

static int sh_call(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void sh_write0(const char *s)
{
    sh_call(SYS_WRITE0, s);
}

void sh_exit(int status)
{
    out_flush();
    /* 32-bit SYS_EXIT takes the reason itself in r1, not a pointer */
    sh_call(SYS_EXIT, (const void *)(uintptr_t)(status == 0 ? ADP_STOPPED_APPLICATION_EXIT
                                                             : ADP_STOPPED_RUNTIME_ERROR));
    for (;;)
        ;
}

/* One pending batch of text; the only mutable state, owned by the example. */
static struct {
    char buf[512];
    unsigned len;
} pending;

void out_flush(void)
{
    if (pending.len == 0)
        return;
    pending.buf[pending.len] = '\0';
    sh_write0(pending.buf);
    pending.len = 0;
}

static void out_char(char c)
{
    if (pending.len + 1 >= sizeof pending.buf)
        out_flush();
    pending.buf[pending.len++] = c;
    if (c == '\n' && pending.len > sizeof pending.buf - 80)
        out_flush();
}

void out_str(const char *s)
{
    while (*s)
        out_char(*s++);
}

void out_u32(uint32_t v)
{
    char digits[10];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        out_char(digits[--n]);
}

void out_hex32(uint32_t v)
{
    out_str("0x");
    for (int shift = 28; shift >= 0; shift -= 4)
        out_char("0123456789abcdef"[(v >> shift) & 15]);
}

void out_float(float v)
{
    if (v != v) {
        out_str("nan");
        return;
    }
    if (v < 0) {
        out_char('-');
        v = -v;
    }
    if (v > 1e9f) {
        out_str(v > 3.4e38f ? "inf" : "big");
        return;
    }
    uint32_t whole = (uint32_t)v;
    uint32_t frac = (uint32_t)((v - (float)whole) * 1e6f + 0.5f);
    if (frac >= 1000000u) {
        whole++;
        frac -= 1000000u;
    }
    out_u32(whole);
    out_char('.');
    for (uint32_t div = 100000u; div; div /= 10)
        out_char((char)('0' + frac / div % 10));
}
