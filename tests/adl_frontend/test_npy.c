/* test_npy.c — the NumPy integer-file reader (frontend/npy.c) on files
 * written here: every integer dtype, format versions 1/2/3, both byte
 * orders, Fortran order, and every malformed header or payload with its
 * one-line message.
 *
 *   test_npy TMPDIR
 */
#define _POSIX_C_SOURCE 200809L
#include "frontend/frontend.h"
#include "tests/adl_frontend/npy_out.h"
#include "tests/check.h"

#include <stdint.h>
#include <unistd.h>

static const char *tmp_dir;

static char *tmp_path(Arena *a, const char *name)
{
    return arena_printf(a, "%s/%s", tmp_dir, name);
}

/* ---- .npy files written here: every integer dtype, v1/v2/v3, both orders ---- */

static bool read_npy_bytes(Arena *a, const char *file, const NpyOut *o, NpyArray *x, Diag *d)
{
    write_file(file, o->b, o->n);
    return fe_npy_read_ints(a, file, x, d);
}

static void test_npy_matrix(Arena *a)
{
    static const struct { const char *t; int size; int64_t lo, hi; } types[] = {
        {"i1", 1, -128, 127},       {"u1", 1, 0, 255},
        {"i2", 2, -32768, 32767},   {"u2", 2, 0, 65535},
        {"i4", 4, INT32_MIN, INT32_MAX}, {"u4", 4, 0, UINT32_MAX},
        {"i8", 8, INT64_MIN, INT64_MAX}, {"u8", 8, 0, INT64_MAX},
    };
    char *file = tmp_path(a, "m.npy");
    int cases = 0;
    for (size_t t = 0; t < sizeof types / sizeof *types; t++) {
        for (int order = 0; order < 3; order++) {
            if (order == 2 && types[t].size != 1)
                continue;
            char bo = "<>|"[order];
            for (int major = 1; major <= 3; major++) {
                int64_t vals[6] = {0, 1, 3, types[t].lo, types[t].hi, types[t].lo + 7};
                char dict[128];
                snprintf(dict, sizeof dict, "{'descr': '%c%s', 'fortran_order': False, "
                         "'shape': (2, 3), }", bo, types[t].t);
                NpyOut o;
                npy_build(&o, major, dict, major != 2);
                for (int i = 0; i < 6; i++)
                    npy_put(&o, vals[i], types[t].size, bo == '>');
                NpyArray x;
                Diag d;
                diag_init(&d);
                bool ok = read_npy_bytes(a, file, &o, &x, &d);
                CHECKF(ok, "%s v%d: %s", dict, major, check_diag_text(a, &d));
                CHECK(!ok || (x.rank == 2 && x.shape[0] == 2 && x.shape[1] == 3 &&
                              x.numel == 6));
                for (int i = 0; ok && i < 6; i++)
                    CHECKF(x.data[i] == vals[i], "%s v%d [%d]: %lld != %lld", dict, major, i,
                           (long long)x.data[i], (long long)vals[i]);
                diag_free(&d);
                cases++;
            }
        }
    }
    CHECK(cases == 8 * 2 * 3 + 2 * 3);
    /* header spellings NumPy (or Python 2 NumPy) may write */
    static const char *const dicts[] = {
        "{\"shape\": (3,), \"fortran_order\": False, \"descr\": \"<i8\"}",
        "{'descr':'<i8','fortran_order':False,'shape':(3L,)}",
        "{ 'fortran_order' : False , 'shape' : ( 3 , ) , 'descr' : '<i8' , }",
    };
    for (size_t i = 0; i < sizeof dicts / sizeof *dicts; i++) {
        NpyOut o;
        npy_build(&o, 1, dicts[i], i != 1);
        for (int v = 0; v < 3; v++)
            npy_put(&o, v * 5 - 2, 8, false);
        NpyArray x;
        Diag d;
        diag_init(&d);
        bool ok = read_npy_bytes(a, file, &o, &x, &d);
        CHECKF(ok && x.rank == 1 && x.numel == 3 && x.data[2] == 8, "%s: %s", dicts[i],
               check_diag_text(a, &d));
        diag_free(&d);
    }
    /* rank 0 and empty arrays */
    NpyOut o;
    npy_build(&o, 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (), }", true);
    npy_put(&o, -9, 4, false);
    NpyArray x;
    Diag d;
    diag_init(&d);
    CHECK(read_npy_bytes(a, file, &o, &x, &d) && x.rank == 0 && x.numel == 1 && x.data[0] == -9);
    npy_build(&o, 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (0, 2), }", true);
    CHECK(read_npy_bytes(a, file, &o, &x, &d) && x.rank == 2 && x.numel == 0);
    CHECK(d.nerr == 0);
    diag_free(&d);
}

/* One bad file -> exactly `want` (after "<file>: error: "). */
static void npy_expect(Arena *a, const char *dict, int major, size_t data_bytes,
                       const char *want)
{
    NpyOut o;
    npy_build(&o, major, dict, true);
    memset(o.b + o.n, 0, data_bytes);
    o.n += data_bytes;
    char *file = tmp_path(a, "e.npy");
    NpyArray x;
    Diag d;
    diag_init(&d);
    CHECKF(!read_npy_bytes(a, file, &o, &x, &d), "%s", dict);
    CHECK_STR(check_diag_text(a, &d), arena_printf(a, "%s: error: %s\n", file, want));
    diag_free(&d);
}

static void test_npy_errors(Arena *a)
{
    const char *ok10 = "{'descr': '<i8', 'fortran_order': False, 'shape': (10,), }";
    npy_expect(a, "{'descr': '<i8', 'fortran_order': True, 'shape': (2, 5), }", 1, 80,
               "Fortran-order arrays are not supported");
    npy_expect(a, "{'descr': '<f2', 'fortran_order': False, 'shape': (10,), }", 1, 20,
               "arrays of '<f2' are not supported; expected integers (or float32/float64 "
               "holding whole numbers)");
    npy_expect(a, "{'descr': '|b1', 'fortran_order': False, 'shape': (10,), }", 1, 10,
               "boolean arrays ('|b1') are not supported; expected an integer dtype");
    npy_expect(a, "{'descr': '|O', 'fortran_order': False, 'shape': (10,), }", 1, 80,
               "object arrays ('|O') are not supported; expected an integer dtype");
    npy_expect(a, "{'descr': '<U3', 'fortran_order': False, 'shape': (10,), }", 1, 120,
               "dtype '<U3' is not supported; expected an integer dtype such as '<i8', '<i4' or "
               "'|u1'");
    npy_expect(a, "{'descr': '|i8', 'fortran_order': False, 'shape': (10,), }", 1, 80,
               "dtype '|i8' is not supported; expected an integer dtype such as '<i8', '<i4' or "
               "'|u1'");
    npy_expect(a, "{'descr': '<i3', 'fortran_order': False, 'shape': (10,), }", 1, 30,
               "dtype '<i3' is not supported; expected an integer dtype such as '<i8', '<i4' or "
               "'|u1'");
    npy_expect(a, "{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (10,), }", 1, 40,
               "structured dtypes are not supported; expected an integer array");
    npy_expect(a, ok10, 1, 79, "truncated data: shape (10,) needs 80 bytes, the file has 79");
    npy_expect(a, ok10, 2, 81, "extra data: shape (10,) needs 80 bytes, the file has 81");
    npy_expect(a, ok10, 1, 0, "truncated data: shape (10,) needs 80 bytes, the file has 0");
    npy_expect(a, "{'descr': '<i8', 'fortran_order': False, 'shape': (1048576, 1048576), }", 1,
               0, "array too large: more than 1048576 elements");
    npy_expect(a, "{'descr': '<i8', 'fortran_order': False, 'shape': (99999999999999999999,)}",
               1, 0, "dimension 0 of the shape is larger than 1048576");
    npy_expect(a, "{'descr': '<i8', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1)}", 1,
               8, "arrays of more than 8 dimensions are not supported");
    npy_expect(a, "{'descr': '<i8', 'fortran_order': False}", 1, 0,
               "the .npy header lacks 'shape'");
    npy_expect(a, "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), 'x': 1}", 1, 8,
               "unknown key 'x' in the .npy header");
    npy_expect(a, "{'descr': '<i8', 'descr': '<i8', 'fortran_order': False, 'shape': (1,)}", 1,
               8, "duplicate key 'descr' in the .npy header");
    npy_expect(a, "{'descr': '<i8', 'fortran_order': 0, 'shape': (1,)}", 1, 8,
               "malformed .npy header at byte 34: expected True or False, found '0'");
    npy_expect(a, "{'descr': '<i8', 'fortran_order': False, 'shape': (1,)} x", 1, 8,
               "malformed .npy header at byte 56: expected only padding after the dictionary, "
               "found 'x'");
    npy_expect(a, "{'descr': '<i8', 'fortran_order': False, 'shape': [1]}", 1, 8,
               "malformed .npy header at byte 50: expected '(' starting the shape, found '['");
    npy_expect(a, "{'descr': '<i8, 'fortran_order': False, 'shape': (1,)}", 1, 8,
               "malformed .npy header at byte 17: expected ',' or '}', found 'f'");
    npy_expect(a, "{'descr': '<i8', 'fortran_order': False, 'shape': (-1,)}", 1, 8,
               "malformed .npy header at byte 51: expected a dimension or ')', found '-'");
    /* magic, version, header length */
    char *file = tmp_path(a, "v.npy");
    NpyOut o;
    npy_build(&o, 1, ok10, true);
    o.n += 80;
    memset(o.b + o.n - 80, 0xff, 80); /* -1s */
    const struct { size_t at; unsigned char byte; size_t n; const char *want; } cases[] = {
        {0, 'x', 0, "not a .npy file (no \\x93NUMPY magic)"},
        {6, 4, 0, "unsupported .npy version 4.0 (known: 1.0, 2.0, 3.0)"},
        {7, 1, 0, "unsupported .npy version 1.1 (known: 1.0, 2.0, 3.0)"},
        {9, 0x40, 0, "truncated .npy file: the header needs 16502 bytes, 198 remain"},
        {0, 0x93, 9, "truncated .npy file: it ends inside the header length"},
        {0, 0x93, 5, "not a .npy file (no \\x93NUMPY magic)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        NpyOut m = o;
        m.b[cases[i].at] = cases[i].byte;
        if (cases[i].n)
            m.n = cases[i].n;
        NpyArray x;
        Diag d;
        diag_init(&d);
        CHECK(!read_npy_bytes(a, file, &m, &x, &d));
        CHECK_STR(check_diag_text(a, &d), arena_printf(a, "%s: error: %s\n", file, cases[i].want));
        diag_free(&d);
    }
    /* u8 above INT64_MAX */
    npy_build(&o, 1, "{'descr': '<u8', 'fortran_order': False, 'shape': (2,), }", true);
    npy_put(&o, 1, 8, false);
    npy_put(&o, -1, 8, false);
    NpyArray x;
    Diag d;
    diag_init(&d);
    CHECK(!read_npy_bytes(a, file, &o, &x, &d));
    CHECK_STR(check_diag_text(a, &d),
              arena_printf(a, "%s: error: element 1 (18446744073709551615) is too large\n",
                           file));
    diag_free(&d);
    diag_init(&d);
    CHECK(!fe_npy_read_ints(a, tmp_path(a, "does-not-exist.npy"), &x, &d) && d.nerr == 1);
    diag_free(&d);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s TMPDIR\n", argv[0]);
        return 2;
    }
    tmp_dir = argv[1];
    Arena a;
    arena_init(&a);
    test_npy_matrix(&a);
    test_npy_errors(&a);
    arena_free_all(&a);
    printf("npy: %d failures\n", failures);
    return failures != 0;
}
