/* fuzz_adl_lists.c — the Auto-DeepLab --path/--cell readers (.npy one-hot
 * or level arrays, JSON lists). They only read files, so the input goes
 * through one temporary file per process; each read is followed by the
 * architecture check.
 */
#include "fuzz.h"

#include <unistd.h>

static char tmp_path[64];

static void remove_tmp(void)
{
    if (tmp_path[0])
        unlink(tmp_path);
}

static const char *tmp_file(void)
{
    if (!tmp_path[0]) {
        snprintf(tmp_path, sizeof tmp_path, "/tmp/nasc-fuzz-adl-XXXXXX");
        int fd = mkstemp(tmp_path);
        fuzz_require(fd >= 0, "cannot create a temporary file");
        close(fd);
        atexit(remove_tmp);
    }
    return tmp_path;
}

static void read_one(const char *file, bool cell)
{
    Arena a;
    arena_init(&a);
    Diag d;
    diag_init(&d);
    AdlArch arch;
    fe_adl_defaults(&arch);
    bool ok = cell ? fe_adl_read_cell(&a, file, &arch, &d) : fe_adl_read_path(&a, file, &arch, &d);
    fuzz_result(ok, &d, cell ? "fe_adl_read_cell" : "fe_adl_read_path");
    if (ok) {
        Diag c;
        diag_init(&c);
        /* the other half is missing, so the check fails; it must say so */
        fuzz_result(fe_adl_check(&arch, &c), &c, "fe_adl_check");
        diag_free(&c);
    }
    diag_free(&d);
    arena_free_all(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *file = tmp_file();
    FILE *f = fopen(file, "wb");
    fuzz_require(f && fwrite(data, 1, size, f) == size && fclose(f) == 0,
                 "cannot write the temporary file");
    read_one(file, false);
    read_one(file, true);
    return 0;
}
