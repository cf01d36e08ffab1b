/* jit_cc.c — the JIT backend without LLVM: the files go to a private temp
 * directory, `cc -O3 -march=native -shared -fPIC` builds a shared object
 * there, and dlopen loads it. The directory is removed before returning
 * (the mapping outlives the unlinked file). The compiler is NASC_JIT_CC,
 * fixed when nasc is configured (CMake's C compiler); cc runs in the temp
 * directory so its diagnostics name the files as the caller named them. */
#include "runtime/jit/internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef NASC_JIT_CC
#define NASC_JIT_CC "cc"
#endif

extern char **environ;

static char *dup_printf(const char *fmt, const char *a, const char *b)
{
    size_t n = strlen(fmt) + strlen(a) + strlen(b) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, fmt, a, b);
    return s;
}

static char *path_in(const char *dir, const char *name)
{
    return dup_printf("%s/%s", dir, name);
}

static bool write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(text, 1, len, f) == len;
    return f && fclose(f) == 0 && ok;
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *s = malloc(cap);
    while (s) {
        len += fread(s + len, 1, cap - len - 1, f);
        if (len < cap - 1)
            break;
        char *t = realloc(s, cap *= 2);
        if (!t)
            free(s);
        s = t;
    }
    fclose(f);
    if (s)
        s[len] = '\0';
    return s;
}

/* Runs cc in dir with stdout and stderr into dir/cc.log; true if it exited 0. */
static bool run_cc(const char *dir, const char *src, char **log)
{
    char *logp = path_in(dir, "cc.log");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    int fd = logp ? open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0600) : -1;
    char *argv[] = {NASC_JIT_CC, "-O3", "-march=native", "-shared", "-fPIC", "-o", "jit.so",
                    (char *)src, NULL};
    char *cdir = dup_printf("%s%s", dir, "");
    pid_t pid;
    int rc = -1, st = 0;
    if (fd >= 0 && cdir) {
        posix_spawn_file_actions_adddup2(&fa, fd, 1);
        posix_spawn_file_actions_adddup2(&fa, fd, 2);
        /* posix_spawn has no chdir before glibc 2.29's _np; exec through sh */
        char *sh[] = {"/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", cdir, NULL};
        char *full[16];
        int k = 0;
        for (int i = 0; sh[i]; i++)
            full[k++] = sh[i];
        for (int i = 0; argv[i]; i++)
            full[k++] = argv[i];
        full[k] = NULL;
        rc = posix_spawn(&pid, "/bin/sh", &fa, NULL, full, environ);
        if (rc == 0)
            while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
    }
    posix_spawn_file_actions_destroy(&fa);
    if (fd >= 0)
        close(fd);
    *log = logp ? read_all(logp) : NULL;
    free(logp);
    free(cdir);
    if (rc != 0 && !*log)
        *log = dup_printf("cannot run %s: %s", NASC_JIT_CC, strerror(rc > 0 ? rc : errno));
    return rc == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Removes dir and what this backend put in it. */
static void remove_dir(const char *dir, const JitBeFile *files, int nfiles)
{
    static const char *const extra[] = {"cc.log", "jit.so"};
    for (int i = 0; i < nfiles + 2; i++) {
        char *p = path_in(dir, i < nfiles ? files[i].name : extra[i - nfiles]);
        if (p)
            unlink(p);
        free(p);
    }
    rmdir(dir);
}

void *jit_be_compile(const JitBeFile *files, int nfiles, char **err)
{
    const char *tmp = getenv("TMPDIR");
    char *dir = dup_printf("%s/%s", tmp && *tmp ? tmp : "/tmp", "nasc-jit-XXXXXX");
    *err = NULL;
    if (!dir || !mkdtemp(dir)) {
        *err = dup_printf("cannot make a temp directory: %s%s", strerror(errno), "");
        free(dir);
        return NULL;
    }
    bool ok = true;
    for (int i = 0; i < nfiles && ok; i++) {
        char *p = path_in(dir, files[i].name);
        ok = p && write_file(p, files[i].text, files[i].len);
        if (!ok)
            *err = dup_printf("cannot write %s: %s", p ? p : files[i].name, strerror(errno));
        free(p);
    }
    void *h = NULL;
    if (ok && run_cc(dir, files[0].name, err)) {
        char *so = path_in(dir, "jit.so");
        h = so ? dlopen(so, RTLD_NOW | RTLD_LOCAL) : NULL;
        if (!h) {
            free(*err);
            *err = dup_printf("dlopen: %s%s", dlerror(), "");
        }
        free(so);
    }
    remove_dir(dir, files, nfiles);
    free(dir);
    if (h) {
        free(*err); /* warnings only */
        *err = NULL;
    }
    return h;
}

void *jit_be_lookup(void *h, const char *symbol, char **err)
{
    dlerror();
    void *p = dlsym(h, symbol);
    if (!p) {
        const char *e = dlerror();
        *err = dup_printf("%s%s", e ? e : "dlsym returned NULL", "");
    }
    return p;
}

void jit_be_free(void *h)
{
    if (h)
        dlclose(h);
}

const char *jit_be_name(void)
{
    return NASC_JIT_CC " -O3 -march=native -shared + dlopen";
}
