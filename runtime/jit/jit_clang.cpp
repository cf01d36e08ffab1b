// jit_clang.cpp — the JIT backend on clang 16 and LLVM ORC; nasc's only C++.
//
// Pipeline per jit_be_compile: the files become an in-memory file system
// laid over the real one (so `#include "net.h"` finds the header), a
// CompilerInvocation is built from cc1 arguments equivalent to
// `clang -O3 -march=native` (host triple, llvm::sys::getHostCPUName and
// getHostCPUFeatures, loop and SLP vectorisers, FP contraction as clang's
// default), EmitLLVMOnlyAction runs the front end only, inline_policy copies
// the generic kernels per call geometry and keeps the entry points' calls
// out of line, the -O3 middle end runs with the host's TargetMachine
// (PassBuilder, as clang's BackendUtil does), and the module goes into a
// fresh LLJIT with the same target machine at CodeGenOpt::Aggressive.
// Machine code is generated on the first lookup.
// Diagnostics go to a TextDiagnosticPrinter writing into a string, which is
// handed back as the error text; nothing is printed.
//
// clang's resource directory (its stddef.h, stdint.h, vector intrinsics) is
// found at run time: $NASC_CLANG_RESOURCE_DIR, else the directory CMake
// found (NASC_CLANG_RESOURCE_DIR), else <dir of libclang-cpp>/clang/<major>;
// the first whose include/stddef.h exists wins.
#include "runtime/jit/internal.h"

#include <clang/Basic/Diagnostic.h>
#include <clang/Basic/DiagnosticOptions.h>
#include <clang/Basic/Version.h>
#include <clang/CodeGen/CodeGenAction.h>
#include <clang/Frontend/CompilerInstance.h>
#include <clang/Frontend/CompilerInvocation.h>
#include <clang/Frontend/TextDiagnosticPrinter.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/InstIterator.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/Module.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/VirtualFileSystem.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Transforms/Utils/Cloning.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/TargetParser/Host.h>
#include <llvm/TargetParser/Triple.h>

#include <dlfcn.h>
#include <limits.h>
#include <map>
#include <mutex>
#include <stdlib.h>
#include <string.h>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace {

struct Handle {
    std::unique_ptr<llvm::orc::LLJIT> jit;
};

char *dup_string(const std::string &s)
{
    char *p = static_cast<char *>(malloc(s.size() + 1));
    if (p)
        memcpy(p, s.c_str(), s.size() + 1);
    return p;
}

bool file_exists(const std::string &path)
{
    struct stat st;
    return stat(path.c_str(), &st) == 0;
}

// Where libclang-cpp lives: .../lib/libclang-cpp.so.16 -> .../lib/clang/16.
std::string resource_dir_near_libclang()
{
    Dl_info info;
    if (!dladdr(reinterpret_cast<void *>(&clang::getClangFullVersion), &info) ||
        !info.dli_fname)
        return "";
    char real[PATH_MAX];
    if (!realpath(info.dli_fname, real))
        return "";
    std::string p(real);
    size_t slash = p.rfind('/');
    if (slash == std::string::npos)
        return "";
    return p.substr(0, slash) + "/clang/" + std::to_string(CLANG_VERSION_MAJOR);
}

// The resource directory, or "" with `tried` listing the candidates.
std::string find_resource_dir(std::string &tried)
{
    std::vector<std::string> cand;
    if (const char *env = getenv("NASC_CLANG_RESOURCE_DIR"))
        cand.push_back(env);
#ifdef NASC_CLANG_RESOURCE_DIR
    cand.push_back(NASC_CLANG_RESOURCE_DIR);
#endif
    cand.push_back(resource_dir_near_libclang());
    for (const std::string &c : cand) {
        if (c.empty())
            continue;
        if (file_exists(c + "/include/stddef.h"))
            return c;
        tried += (tried.empty() ? "" : ", ") + c;
    }
    return "";
}

std::once_flag init_once;

void init_llvm()
{
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
}

// The host CPU as `-march=native` names it: LLVM 16 calls CPUs it does not
// know "generic" (this AMD EPYC VM), where clang's driver says "x86-64".
std::string host_cpu()
{
    std::string cpu = llvm::sys::getHostCPUName().str();
    llvm::Triple t(llvm::sys::getProcessTriple());
    if (cpu == "generic" && t.getArch() == llvm::Triple::x86_64)
        return "x86-64";
    return cpu;
}

// cc1 arguments of `clang -O3 -march=native -std=gnu11` for the host, front
// end only: -disable-llvm-passes keeps the IR as -O3 emits it (TBAA, no
// optnone) for optimise() to run the middle end after inline_policy.
std::vector<std::string> cc1_args(const std::string &resdir, const std::string &main_file)
{
    std::vector<std::string> a = {
        "-triple", llvm::sys::getProcessTriple(),
        "-target-cpu", host_cpu(),
        "-O3", "-vectorize-loops", "-vectorize-slp", "-ffp-contract=on",
        "-disable-llvm-passes",
        "-mrelocation-model", "pic", "-pic-level", "2",
        "-mframe-pointer=none", "-fgnuc-version=4.2.1",
        "-std=gnu11", "-resource-dir", resdir,
        "-internal-isystem", resdir + "/include",
        "-internal-isystem", "/usr/local/include",
    };
#ifdef NASC_JIT_MULTIARCH
    a.insert(a.end(), {"-internal-externc-isystem", "/usr/include/" NASC_JIT_MULTIARCH});
#endif
    a.insert(a.end(), {"-internal-externc-isystem", "/usr/include", "-x", "c", main_file});
    llvm::StringMap<bool> feats;
    if (llvm::sys::getHostCPUFeatures(feats))
        for (const auto &f : feats) {
            a.push_back("-target-feature");
            a.push_back((f.getValue() ? "+" : "-") + f.getKey().str());
        }
    // LLVM tunes AVX-512 CPUs to prefer 256-bit vectors, which halves the
    // FMA throughput of the emitted kernels (gcc does the same; the emitted
    // file asks gcc for 512 with a pragma, see codegen/emit_c.c).
    if (feats.lookup("avx512f"))
        a.push_back("-mprefer-vector-width=512");
    return a;
}

// The files in memory, in a virtual directory laid over the real file system
// (for the C library's headers): `#include "net.h"` resolves beside the main
// file. strip_memdir() then makes diagnostics name the files as the caller did.
const char k_memdir[] = "/nasc-jit-memory/";

llvm::IntrusiveRefCntPtr<llvm::vfs::FileSystem> memory_files(const JitBeFile *files, int nfiles)
{
    llvm::IntrusiveRefCntPtr<llvm::vfs::InMemoryFileSystem> mem(
        new llvm::vfs::InMemoryFileSystem);
    for (int i = 0; i < nfiles; i++)
        mem->addFile(std::string(k_memdir) + files[i].name, 0,
                     llvm::MemoryBuffer::getMemBufferCopy(
                         llvm::StringRef(files[i].text, files[i].len), files[i].name));
    llvm::IntrusiveRefCntPtr<llvm::vfs::OverlayFileSystem> fs(
        new llvm::vfs::OverlayFileSystem(llvm::vfs::getRealFileSystem()));
    fs->pushOverlay(mem);
    return fs;
}

void strip_memdir(std::string &s)
{
    const size_t n = strlen(k_memdir);
    for (size_t at; (at = s.find(k_memdir)) != std::string::npos;)
        s.erase(at, n);
}

// C source -> optimised module; nullptr with diagnostics in `diags`.
std::unique_ptr<llvm::Module> compile_module(const JitBeFile *files, int nfiles,
                                             llvm::LLVMContext &ctx, std::string &diags)
{
    std::string tried;
    std::string resdir = find_resource_dir(tried);
    if (resdir.empty()) {
        diags = "clang's resource directory (include/stddef.h) not found; tried " + tried +
                "; set NASC_CLANG_RESOURCE_DIR";
        return nullptr;
    }
    llvm::raw_string_ostream os(diags);
    llvm::IntrusiveRefCntPtr<clang::DiagnosticOptions> dopts(new clang::DiagnosticOptions);
    dopts->ShowColors = false;
    auto *printer = new clang::TextDiagnosticPrinter(os, dopts.get());
    llvm::IntrusiveRefCntPtr<clang::DiagnosticIDs> ids(new clang::DiagnosticIDs);
    clang::DiagnosticsEngine engine(ids, dopts, printer, /*ShouldOwnClient=*/true);

    std::vector<std::string> args = cc1_args(resdir, k_memdir + std::string(files[0].name));
    std::vector<const char *> argv;
    for (const std::string &s : args)
        argv.push_back(s.c_str());
    auto inv = std::make_shared<clang::CompilerInvocation>();
    if (!clang::CompilerInvocation::CreateFromArgs(*inv, argv, engine)) {
        os.flush();
        return nullptr;
    }
    // No "N errors generated." on stderr; carets would only be dropped.
    inv->getDiagnosticOpts().ShowCarets = false;
    inv->getDiagnosticOpts().ShowColors = false;
    clang::CompilerInstance ci;
    ci.setInvocation(inv);
    ci.createDiagnostics(printer, /*ShouldOwnClient=*/false);
    ci.createFileManager(memory_files(files, nfiles));
    clang::EmitLLVMOnlyAction act(&ctx);
    bool ok = ci.ExecuteAction(act);
    std::unique_ptr<llvm::Module> m = ok ? act.takeModule() : nullptr;
    os.flush();
    strip_memdir(diags);
    return m;
}

// The generic kernels: their loop bounds and strides come from a geometry
// struct at run time, so only a copy per geometry lets their loops be
// unrolled and vectorised (inline_policy). The fast kernels (pointwise,
// dwKsSdD, pool3sS) have their shape in the text already: copying them per
// geometry too saved less run time than it cost compile time (measured,
// bench/README.md).
const char *const k_generic_kernels[] = {
    "nasc_rt_conv2d", "nasc_rt_dwconv2d", "nasc_rt_maxpool2d", "nasc_rt_avgpool2d",
};

// A generic kernel called with more distinct geometries stays generic
// (bounds the compile time of nets with many such calls).
const unsigned k_max_copies = 8;

bool is_generic_kernel(const llvm::Function *f)
{
    for (const char *name : k_generic_kernels)
        if (f->getName() == name)
            return true;
    return false;
}

// The calls in f to functions defined in the module.
std::vector<llvm::CallBase *> defined_calls(llvm::Function &f)
{
    std::vector<llvm::CallBase *> calls;
    for (llvm::Instruction &i : llvm::instructions(f))
        if (auto *call = llvm::dyn_cast<llvm::CallBase>(&i))
            if (call->getCalledFunction() && !call->getCalledFunction()->isDeclaration())
                calls.push_back(call);
    return calls;
}

// What a specialised copy depends on: the callee, then per argument the
// constant it is, or the contents of the constant global it points at (each
// emitted call has its own `static const` geometry struct), or null.
using SpecKey = std::vector<llvm::Constant *>;

SpecKey spec_key(llvm::CallBase &call)
{
    SpecKey key = {call.getCalledFunction()};
    for (llvm::Value *arg : call.args()) {
        auto *gv = llvm::dyn_cast<llvm::GlobalVariable>(arg);
        if (gv && gv->isConstant() && gv->hasDefinitiveInitializer())
            key.push_back(gv->getInitializer());
        else
            key.push_back(llvm::dyn_cast<llvm::Constant>(arg));
    }
    return key;
}

// A copy of the callee with the call's constant arguments put in.
llvm::Function *specialise(llvm::CallBase &call)
{
    llvm::ValueToValueMapTy map;
    llvm::Function *copy = llvm::CloneFunction(call.getCalledFunction(), map);
    for (unsigned i = 0; i < call.arg_size(); i++)
        if (auto *c = llvm::dyn_cast<llvm::Constant>(call.getArgOperand(i)))
            copy->getArg(i)->replaceAllUsesWith(c);
    return copy;
}

// Inlining and specialisation, decided before the middle end runs. An
// emitted entry point calls each kernel with constant geometry: the fast
// pointwise and depthwise kernels hundreds of times, the generic
// convolution (stem, FactorizedReduce) a few times. Plain -O3 inlines every
// call into one huge entry point (3 s to compile DARTS_V2 CIFAR), so every
// call from an entry point is noinline. The generic convolution, its
// strides run-time values, then ran scalar (1.7-2.4x slower than gcc, which
// clones it per call); so, as gcc's IPA-CP would, calls to a generic kernel
// with at most k_max_copies distinct geometries go to one out-of-line copy
// per geometry (constants put in, everything it calls inlined into it).
//
// Inside the kernels clang's inliner decides, as for `clang -O3` of the same
// file. The register-blocked kernels need it: the dense convolution's tile
// (codegen/emit_c_conv.c) keeps its 256 accumulators in sixteen local
// arrays, which become registers only once the tile is inlined into its
// driver. Out of line, BasicAA cannot tell the input pointer the tile
// advances in its loops (a phi) from those arrays, which puts all sixteen in
// one alias set: the vectoriser would need over a hundred run-time checks
// (its limit is 8), gives up, and the tile runs scalar. Marking the calls
// inside kernels noinline, as this did before, made Auto-DeepLab ~8x slower
// than clang AOT of the same text (3.2 s instead of ~0.39 s a run); leaving
// them to the inliner costs ~40 % more compile time (runtime/jit/README.md).
void inline_policy(llvm::Module &m)
{
    std::vector<llvm::CallBase *> calls;
    std::map<SpecKey, llvm::Function *> copies;
    llvm::DenseMap<llvm::Function *, unsigned> geometries;
    for (llvm::Function &f : m)
        if (!f.isDeclaration() && !f.hasLocalLinkage())
            for (llvm::CallBase *call : defined_calls(f)) {
                call->addFnAttr(llvm::Attribute::NoInline);
                if (!is_generic_kernel(call->getCalledFunction()))
                    continue;
                calls.push_back(call);
                if (copies.emplace(spec_key(*call), nullptr).second)
                    geometries[call->getCalledFunction()]++;
            }
    llvm::SmallPtrSet<llvm::Function *, 16> flat; // copies and what they call
    std::vector<llvm::Function *> work;
    for (llvm::CallBase *call : calls) {
        if (geometries[call->getCalledFunction()] > k_max_copies)
            continue;
        llvm::Function *&copy = copies[spec_key(*call)];
        if (!copy) {
            copy = specialise(*call);
            flat.insert(copy);
            work.push_back(copy);
        }
        call->setCalledFunction(copy);
    }
    while (!work.empty()) {
        llvm::Function *f = work.back();
        work.pop_back();
        for (llvm::CallBase *call : defined_calls(*f))
            if (flat.insert(call->getCalledFunction()).second)
                work.push_back(call->getCalledFunction());
    }
    for (llvm::Function *f : flat)
        for (llvm::CallBase *call : defined_calls(*f))
            call->addFnAttr(llvm::Attribute::AlwaysInline);
}

// The -O3 module pipeline with loop and SLP vectorisers and unrolling, the
// target's cost model from tm (what clang's BackendUtil runs for -O3).
void optimise(llvm::Module &m, llvm::TargetMachine &tm)
{
    // Declared in this order so that they are destroyed in the reverse one.
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PipelineTuningOptions pto;
    pto.LoopInterleaving = true;
    pto.LoopVectorization = true;
    pto.SLPVectorization = true;
    pto.LoopUnrolling = true;
    llvm::PassBuilder pb(&tm, pto);
    pb.registerModuleAnalyses(mam);
    pb.registerCGSCCAnalyses(cgam);
    pb.registerFunctionAnalyses(fam);
    pb.registerLoopAnalyses(lam);
    pb.crossRegisterProxies(lam, fam, cgam, mam);
    m.setDataLayout(tm.createDataLayout());
    pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3).run(m, mam);
}

// The host as cc1_args describes it: host_cpu() and the host's features
// (detectHost asks getHostCPUFeatures), CodeGenOpt::Aggressive.
llvm::Expected<llvm::orc::JITTargetMachineBuilder> host_machine()
{
    auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
    if (jtmb) {
        jtmb->setCPU(host_cpu());
        jtmb->setCodeGenOptLevel(llvm::CodeGenOpt::Aggressive);
    }
    return jtmb;
}

std::unique_ptr<llvm::orc::LLJIT> make_jit(llvm::orc::JITTargetMachineBuilder jtmb,
                                           std::string &err)
{
    auto jit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(jtmb)).create();
    if (!jit) {
        err = llvm::toString(jit.takeError());
        return nullptr;
    }
    // memcpy/memset and friends come from the process.
    auto gen = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
        (*jit)->getDataLayout().getGlobalPrefix());
    if (!gen) {
        err = llvm::toString(gen.takeError());
        return nullptr;
    }
    (*jit)->getMainJITDylib().addGenerator(std::move(*gen));
    return std::move(*jit);
}

} // namespace

extern "C" void *jit_be_compile(const JitBeFile *files, int nfiles, char **err)
{
    std::call_once(init_once, init_llvm);
    *err = nullptr;
    auto ctx = std::make_unique<llvm::LLVMContext>();
    std::string diags;
    std::unique_ptr<llvm::Module> m = compile_module(files, nfiles, *ctx, diags);
    if (!m) {
        *err = dup_string(diags.empty() ? std::string("clang failed without a diagnostic")
                                        : diags);
        return nullptr;
    }
    auto jtmb = host_machine();
    auto tm = jtmb ? jtmb->createTargetMachine()
                   : llvm::Expected<std::unique_ptr<llvm::TargetMachine>>(jtmb.takeError());
    if (!tm) {
        *err = dup_string("LLJIT: " + llvm::toString(tm.takeError()));
        return nullptr;
    }
    inline_policy(*m);
    optimise(*m, **tm);
    std::string jerr;
    std::unique_ptr<llvm::orc::LLJIT> jit = make_jit(std::move(*jtmb), jerr);
    if (!jit) {
        *err = dup_string("LLJIT: " + jerr);
        return nullptr;
    }
    m->setDataLayout(jit->getDataLayout());
    if (llvm::Error e = jit->addIRModule(llvm::orc::ThreadSafeModule(std::move(m),
                                                                     std::move(ctx)))) {
        *err = dup_string("LLJIT: " + llvm::toString(std::move(e)));
        return nullptr;
    }
    Handle *h = new Handle;
    h->jit = std::move(jit);
    return h;
}

extern "C" void *jit_be_lookup(void *hp, const char *symbol, char **err)
{
    Handle *h = static_cast<Handle *>(hp);
    auto addr = h->jit->lookup(symbol);
    if (!addr) {
        *err = dup_string(llvm::toString(addr.takeError()));
        return nullptr;
    }
    return addr->toPtr<void *>();
}

extern "C" void jit_be_free(void *hp)
{
    delete static_cast<Handle *>(hp);
}

extern "C" const char *jit_be_name(void)
{
    static std::string name;
    static std::once_flag once;
    std::call_once(once, [] {
        name = "clang " CLANG_VERSION_STRING " + LLVM ORC LLJIT, -O3 -march=native (" +
               host_cpu() + " + host features)";
    });
    return name.c_str();
}
