/* weights_fuzz.c — hostile safetensors files must not crash the loader.
 *
 * usage: weights_fuzz DIR [ITERATIONS]
 *
 * Starts from one valid file (all float dtypes, an integer tensor,
 * metadata), applies seeded random mutations aimed mostly at the header
 * (digit swaps reach the offset and shape checks; byte flips, inserts and
 * deletes reach the JSON and UTF-8 checks; length-field edits and
 * truncations reach the framing checks), writes each result and loads it.
 * Loaded files are fully converted and bound, so an accepted-but-wrong
 * header would show up as an out-of-bounds read under ASan. Besides "no
 * crash", each run checks the diagnostics contract: failure iff errors,
 * every message one line starting with "path: error: ".
 */
#include "frontend/frontend.h"
#include "st_writer.h"
#include "tests/check.h"

#include <stdlib.h>
#include <string.h>



static uint64_t rng_state = 0x5eed;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static size_t rndn(size_t n)
{
    return n ? (size_t)(rnd() % n) : 0;
}

static unsigned char *seed_file(size_t *len, size_t *hdr_end)
{
    StWriter w;
    stw_init(&w, "{\"format\":\"pt\",\"note\":\"x\"}");
    float f[24];
    for (int i = 0; i < 24; i++)
        f[i] = (float)i - 7.5f;
    uint16_t h[6] = {0x3c00, 0x0001, 0x7c00, 0xfe00, 0x8400, 0x7bff};
    double dd[3] = {1e300, -0.5, 1e-310};
    int64_t nbt = 5;
    stw_add(&w, "conv.weight", "F32", 4, (int64_t[]){2, 3, 2, 2}, f, sizeof f);
    stw_add(&w, "bn.weight", "F16", 1, (int64_t[]){6}, h, sizeof h);
    stw_add(&w, "bn.bias", "BF16", 2, (int64_t[]){2, 3}, h, sizeof h);
    stw_add(&w, "fc.weight", "F64", 2, (int64_t[]){3, 1}, dd, sizeof dd);
    stw_add(&w, "bn.num_batches_tracked", "I64", 0, NULL, &nbt, sizeof nbt);
    stw_add(&w, "empty", "F32", 2, (int64_t[]){0, 5}, f, 0);
    unsigned char *file = stw_finish(&w, len);
    *hdr_end = 8;
    for (int i = 0; i < 4; i++) /* header length < 2^32 here */
        *hdr_end += (size_t)file[i] << (8 * i);
    return file;
}

static Graph *seed_graph(Arena *a)
{
    Graph *g = ir_graph_new(a, "fuzz");
    Loc at = loc_file("fuzz");
    ir_graph_add_param(g, shape4(2, 3, 2, 2), "conv.weight", at);
    ir_graph_add_param(g, shape_make(1, (int64_t[]){6}), "bn.weight", at);
    ir_graph_add_param(g, shape_make(2, (int64_t[]){2, 3}), "bn.bias", at);
    ir_graph_add_param(g, shape_make(2, (int64_t[]){3, 1}), "fc.weight", at);
    return g;
}

/* Swaps two numbers of the header (dims, offsets) in place: the header
 * keeps its length, and tensors come to overlap, leave holes or change
 * size consistently — the layout checks' territory. */
static void swap_numbers(unsigned char *buf, size_t hl)
{
    size_t a = 0, an = 0, b = 0, bn = 0, count = 0, k = 0;
    for (size_t i = 8; i < hl; i++)
        count += buf[i] >= '0' && buf[i] <= '9' && !(buf[i - 1] >= '0' && buf[i - 1] <= '9');
    if (count < 2)
        return;
    size_t i = rndn(count), j = rndn(count);
    if (i > j) {
        size_t t = i;
        i = j;
        j = t;
    }
    for (size_t p = 8; p < hl; p++) {
        if (buf[p] < '0' || buf[p] > '9' || (buf[p - 1] >= '0' && buf[p - 1] <= '9'))
            continue;
        size_t q = p;
        while (q < hl && buf[q] >= '0' && buf[q] <= '9')
            q++;
        if (k == i)
            a = p, an = q - p;
        if (k == j)
            b = p, bn = q - p;
        k++;
    }
    if (i == j || !an || !bn)
        return;
    /* [a, a+an) X [a+an, b) Y -> Y X' middle X */
    unsigned char tmp[256];
    size_t span = b + bn - a;
    if (span > sizeof tmp)
        return;
    size_t mid = b - (a + an), o = 0;
    memcpy(tmp + o, buf + b, bn), o += bn;
    memcpy(tmp + o, buf + a + an, mid), o += mid;
    memcpy(tmp + o, buf + a, an);
    memcpy(buf + a, tmp, span);
}

/* One random edit of buf[0..*len) (capacity cap), header-biased. */
static void mutate(unsigned char *buf, size_t *len, size_t cap, size_t hdr_end)
{
    size_t hl = hdr_end < *len ? hdr_end : *len;
    static const char digits[] = "0123456789-.e";
    static const char json[] = "{}[]\",:0 \\u";
    switch (rnd() % 10) {
    case 0: /* flip bits in the header; mostly staying ASCII */
        buf[rndn(hl)] ^= (unsigned char)(1u << rndn(rnd() % 4 ? 7 : 8));
        break;
    case 8:
    case 9:
        swap_numbers(buf, hl);
        break;
    case 1: { /* replace a digit with another digit-ish char */
        size_t at = 8 + rndn(hl > 8 ? hl - 8 : 1);
        for (size_t k = 0; k < hl && at < hl; k++, at = at + 1 < hl ? at + 1 : 8)
            if (buf[at] >= '0' && buf[at] <= '9') {
                buf[at] = (unsigned char)digits[rndn(sizeof digits - 1)];
                break;
            }
        break;
    }
    case 2: /* JSON punctuation anywhere in the header */
        buf[rndn(hl)] = (unsigned char)json[rndn(sizeof json - 1)];
        break;
    case 3: /* truncate */
        *len = rndn(*len + 1);
        break;
    case 4: /* rewrite the length field */
        for (int i = 0; i < 8; i++)
            buf[i] = (unsigned char)(i < 4 || rnd() % 4 == 0 ? rnd() : 0);
        if (rnd() % 2) { /* near the true value */
            uint64_t v = (uint64_t)(hdr_end - 8) + rndn(17) - 8;
            for (int i = 0; i < 8; i++)
                buf[i] = (unsigned char)(v >> (8 * i));
        }
        break;
    case 5: /* insert a byte into the header */
        if (*len < cap) {
            size_t at = rndn(hl + 1);
            memmove(buf + at + 1, buf + at, *len - at);
            buf[at] = (unsigned char)(rnd() % 4 ? rnd() % 0x80 : rnd());
            ++*len;
        }
        break;
    case 6: /* delete a byte */
        if (*len) {
            size_t at = rndn(*len);
            memmove(buf + at, buf + at + 1, *len - at - 1);
            --*len;
        }
        break;
    default: /* random byte anywhere */
        if (*len)
            buf[rndn(*len)] = (unsigned char)rnd();
        break;
    }
}

static void check_diag(const Diag *d, const char *path, bool ok)
{
    CHECK(ok == (d->nerr == 0));
    CHECK(d->nmsg == (d->nerr < DIAG_MAX ? d->nerr : DIAG_MAX));
    size_t pl = strlen(path);
    for (int i = 0; i < d->nmsg; i++) {
        const char *m = d->msg[i];
        bool good = strncmp(m, path, pl) == 0 && strncmp(m + pl, ": error: ", 9) == 0 &&
                    !strchr(m, '\n');
        if (!good)
            fprintf(stderr, "bad diagnostic: %s\n", m);
        CHECK(good);
    }
}

/* Loads one mutant; returns 1 if accepted. */
static int try_one(const char *path, const unsigned char *buf, size_t len)
{
    CHECK(st_write_bytes(path, buf, len));
    Arena a;
    arena_init(&a);
    Diag d;
    diag_init(&d);
    SafeTensors st;
    bool ok = fe_safetensors_load(&a, path, &st, &d);
    check_diag(&d, path, ok);
    if (getenv("WEIGHTS_FUZZ_VERBOSE")) /* to see which checks the mutants reach */
        fprintf(stderr, "%s\n", ok ? "accepted" : d.msg[0]);
    if (ok) {
        for (int i = 0; i < st.nt; i++) {
            const StTensor *t = &st.t[i];
            CHECK(t->begin <= t->end && t->end <= st.data_len);
            float *dst = arena_calloc(&a, (size_t)(t->end - t->begin) / 2 + 1, sizeof *dst);
            Diag d2;
            diag_init(&d2);
            fe_safetensors_to_f32(&st, i, dst, &d2);
            diag_free(&d2);
        }
        Diag d3;
        diag_init(&d3);
        Graph *g = seed_graph(&a);
        check_diag(&d3, st.path, fe_bind_weights(g, &st, "bn.", &d3));
        diag_free(&d3);
    }
    diag_free(&d);
    arena_free_all(&a);
    return ok;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    int iters = argc > 2 ? atoi(argv[2]) : 2000;
    char path[1024];
    snprintf(path, sizeof path, "%s/wf_mutant.safetensors", dir);
    size_t len, hdr_end;
    unsigned char *seed = seed_file(&len, &hdr_end);
    size_t cap = len + 64;
    unsigned char *buf = malloc(cap);
    CHECK(try_one(path, seed, len) == 1);
    int accepted = 0;
    for (int it = 0; it < iters; it++) {
        size_t n = len;
        memcpy(buf, seed, len);
        int edits = 1 + (int)rndn(3);
        for (int e = 0; e < edits; e++)
            mutate(buf, &n, cap, hdr_end);
        accepted += try_one(path, buf, n);
    }
    /* both outcomes must occur, or the mutations test nothing */
    fprintf(stderr, "weights_fuzz: %d of %d mutants accepted\n", accepted, iters);
    CHECK(accepted > iters / 50 && accepted < iters / 2);
    free(seed);
    free(buf);
    return failures != 0;
}
