/* arena.c — bump allocator for everything a compilation builds.
 *
 * Blocks are malloc'd in a chain and freed together by arena_free_all;
 * there is no per-object free. Large requests get a block of their own so
 * a 13 MB weight tensor does not waste a standard block.
 */
#include "ir.h"

#include <stdlib.h>
#include <string.h>

struct ArenaBlock {
    ArenaBlock *next;
    size_t used, cap;
    _Alignas(16) unsigned char mem[];
};

enum { ARENA_BLOCK = 64 * 1024 };

void nasc_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "%s:%d: internal error: assertion '%s' failed\n", file, line, expr);
    abort();
}

void arena_init(Arena *a)
{
    a->head = NULL;
    a->total = 0;
}

static ArenaBlock *arena_new_block(size_t cap)
{
    ArenaBlock *b = malloc(sizeof *b + cap);
    if (!b) {
        fprintf(stderr, "nasc: out of memory (%zu bytes)\n", cap);
        abort();
    }
    b->next = NULL;
    b->used = 0;
    b->cap = cap;
    return b;
}

void *arena_alloc(Arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n == 0)
        n = 16;
    ArenaBlock *b = a->head;
    if (!b || b->cap - b->used < n) {
        if (n > ARENA_BLOCK / 4) {
            /* big object: own block, linked behind the current one */
            ArenaBlock *big = arena_new_block(n);
            big->used = n;
            if (b) {
                big->next = b->next;
                b->next = big;
            } else {
                a->head = big;
            }
            a->total += n;
            memset(big->mem, 0, n);
            return big->mem;
        }
        b = arena_new_block(ARENA_BLOCK);
        b->next = a->head;
        a->head = b;
    }
    void *p = b->mem + b->used;
    b->used += n;
    a->total += n;
    memset(p, 0, n);
    return p;
}

void *arena_calloc(Arena *a, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    return arena_alloc(a, n * size);
}

char *arena_strndup(Arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *arena_strdup(Arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

char *arena_printf(Arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    NASC_ASSERT(n >= 0);
    char *p = arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void arena_free_all(Arena *a)
{
    ArenaBlock *b = a->head;
    while (b) {
        ArenaBlock *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->total = 0;
}
