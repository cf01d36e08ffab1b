/* test_dw_kernels.c — the specialised depthwise kernels against the
 * generic one, bit for bit (dw_harness.c says how).
 *
 *   test_dw_kernels DW_HARNESS_C WORKDIR CC [--asan]
 *
 * Emits the "dw" case of cases.c (it uses all eight specialised kernels and
 * the generic one) to WORKDIR/dw.c, then builds dw_harness.c, which
 * includes that file, with CC under the strict flags and -ffp-contract=off
 * at -O2, again at -O3 -march=native when CC takes it (the vector code the
 * benchmarks run; skipped otherwise), and with --asan under
 * -fsanitize=address,undefined on a subset (also with -march=native when
 * CC takes it); each build must run clean.
 */
#include "codegen/codegen.h"
#include "tests/check.h"
#include "tests/codegen/cases.h"
#include "tests/codegen/emit_util.h"

static const char strict[] = "-std=c99 -Wall -Wextra -Werror -pedantic -Wshadow -Wvla "
                             "-Wconversion -Wdouble-promotion -Wfloat-equal -Wcast-qual "
                             "-Wstrict-prototypes -Wmissing-prototypes -ffp-contract=off";

/* Builds the harness with flags as dir/tag and runs it with arg; false if
 * the build (when must_build) or the run fails. */
static bool build_run(const char *harness, const char *dir, const char *cc, const char *flags,
                      const char *tag, const char *arg)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s '-DKERNELS=\"%s/dw.c\"' -I%s %s -o %s/%s", cc, flags, dir,
             dir, harness, dir, tag);
    if (cgtest_run(cmd) != 0)
        return false;
    snprintf(cmd, sizeof cmd, "%s/%s %s", dir, tag, arg);
    return cgtest_run(cmd) == 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: test_dw_kernels DW_HARNESS_C WORKDIR CC [--asan]\n");
        return 2;
    }
    const char *harness = argv[1], *dir = argv[2], *cc = argv[3];
    const Case *k = cases;
    while (k->name && strcmp(k->name, "dw") != 0)
        k++;
    CHECKF(k->name, "no case named dw in cases.c");
    if (!k->name)
        return 1;
    char cmd[1200], flags[1024];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", dir);
    Arena a;
    arena_init(&a);
    CHECK(cgtest_run(cmd) == 0 && cgtest_emit(k->build(&a), NULL, dir, "dw"));
    arena_free_all(&a);
    if (failures)
        return 1;

    snprintf(flags, sizeof flags, "%s -O2", strict);
    CHECKF(build_run(harness, dir, cc, flags, "o2", ""), "%s, -O2 build", cc);
    snprintf(cmd, sizeof cmd, "echo 'int main(void){return 0;}' | %s -march=native -x c - -o %s/m",
             cc, dir);
    bool native = system(cmd) == 0;
    if (native) {
        snprintf(flags, sizeof flags, "%s -O3 -march=native", strict);
        CHECKF(build_run(harness, dir, cc, flags, "native", ""), "%s, -O3 -march=native", cc);
    } else {
        printf("test_dw_kernels: %s takes no -march=native, that build skipped\n", cc);
    }
    if (argc > 4 && strcmp(argv[4], "--asan") == 0) {
        snprintf(flags, sizeof flags, "%s -O1 -g -fsanitize=address,undefined "
                 "-fno-sanitize-recover=all -fno-omit-frame-pointer", strict);
        CHECKF(build_run(harness, dir, cc, flags, "asan", "quick"), "%s, sanitizers", cc);
        /* The vector kernels (AVX-512 hosts) load whole vectors near the
         * ends of x and y: the sanitizers must see them too. */
        strcat(flags, " -march=native");
        if (native)
            CHECKF(build_run(harness, dir, cc, flags, "asan_native", "quick"),
                   "%s, sanitizers with -march=native", cc);
    }
    if (failures) {
        fprintf(stderr, "test_dw_kernels (%s): %d failures\n", cc, failures);
        return 1;
    }
    printf("test_dw_kernels (%s): ok\n", cc);
    return 0;
}
