// Signal frames: the interrupted context and FP state written to the user stack for a
// handler, and read back (distrusting every byte) by rt_sigreturn. The thread's FP area
// (sched::Thread::fpu, otherwise used only while it is switched out) is the scratch buffer
// for the FP state on its way to and from user memory.
#include "kernel/proc/signal_frame.h"

#include <cstddef>

#include "kernel/arch/x86_64/cpu_features.h"
#include "kernel/arch/x86_64/fpu.h"
#include "kernel/arch/x86_64/layout.h"
#include "kernel/mm/user_ptr.h"
#include "kernel/sched/thread.h"

namespace kernel::proc {

namespace {

constexpr uint64_t kRedZone = 128;  // the x86-64 ABI's, below the interrupted rsp
constexpr uint64_t kFlagCf = 1 << 0, kFlagPf = 1 << 2, kFlagAf = 1 << 4, kFlagZf = 1 << 6,
                   kFlagSf = 1 << 7, kFlagTf = 1 << 8, kFlagDf = 1 << 10, kFlagOf = 1 << 11,
                   kFlagRf = 1 << 16, kFlagAc = 1 << 18;
// What rt_sigreturn may change (Linux's FIX_EFLAGS): never IF, IOPL, NT, VM.
constexpr uint64_t kUserFlags = kFlagAc | kFlagOf | kFlagDf | kFlagTf | kFlagSf | kFlagZf |
                                kFlagAf | kFlagPf | kFlagCf | kFlagRf;
constexpr uint64_t kXstateFpSse = 3;  // XSTATE_BV bits of the legacy region
constexpr uint32_t kDefaultMxcsrMask = 0xffbf;

uint32_t g_mxcsr_mask = 0;  // MXCSR bits this CPU accepts (FXSAVE's MXCSR_MASK)

template <typename T>
T load(const void* area, size_t offset) {
    T value;
    __builtin_memcpy(&value, static_cast<const std::byte*>(area) + offset, sizeof value);
    return value;
}

template <typename T>
void store(void* area, size_t offset, const T& value) {
    __builtin_memcpy(static_cast<std::byte*>(area) + offset, &value, sizeof value);
}

size_t xsave_size() { return arch::cpu().xsave_size; }
size_t fp_frame_size() {
    return arch::cpu().xsave ? xsave_size() + kFpXstateMagic2Size : kFxsaveSize;
}

// The live FP registers into the thread's area.
void save_live_fp(sched::Thread& self) {
    arch::fpu_save(self.fpu);
    if (!g_mxcsr_mask) {
        uint32_t mask = load<uint32_t>(self.fpu, kMxcsrMaskOffset);
        g_mxcsr_mask = mask ? mask : kDefaultMxcsrMask;
    }
}

// A handler starts with the FP state a new program has, as on Linux.
void reset_fp(sched::Thread& self) {
    arch::fpu_init_area(self.fpu);
    arch::fpu_restore(self.fpu);
}

// FXSAVE format, or XSAVE format marked by the software bytes and MAGIC2 (fpu/signal.c).
bool write_fp_state(sched::Thread& self, uint64_t user) {
    save_live_fp(self);
    FpxSwBytes sw{};
    if (arch::cpu().xsave) {
        sw.magic1 = kFpXstateMagic1;
        sw.extended_size = uint32_t(xsave_size() + kFpXstateMagic2Size);
        sw.xfeatures = arch::cpu().xcr0;
        sw.xstate_size = uint32_t(xsave_size());
        // x87 and SSE always marked present, so a program editing only the legacy region
        // gets its change restored.
        store(self.fpu, kFxsaveSize, load<uint64_t>(self.fpu, kFxsaveSize) | kXstateFpSse);
    }
    store(self.fpu, kFxSwBytesOffset, sw);
    if (mm::copy_to_user_bytes(user, self.fpu, arch::fpu_area_size()).is_error()) return false;
    if (arch::cpu().xsave &&
        mm::copy_to_user(mm::UserOut<uint32_t>(user + xsave_size()), kFpXstateMagic2).is_error())
        return false;
    return true;
}

// The FP state of a frame into the registers. XSAVE format only when both magics and the
// size match this CPU's; anything else counts as FXSAVE format (the rest initialized). The
// header and MXCSR are sanitized so that FXRSTOR/XRSTOR cannot fault.
bool read_fp_state(sched::Thread& self, uint64_t user) {
    if (!user) {
        reset_fp(self);
        return true;
    }
    if (!g_mxcsr_mask) save_live_fp(self);  // learn the mask before the area is overwritten
    void* area = self.fpu;
    if (mm::copy_from_user_bytes(area, user, kFxsaveSize).is_error()) return false;
    if (arch::cpu().xsave) {
        auto sw = load<FpxSwBytes>(area, kFxSwBytesOffset);
        bool extended = sw.magic1 == kFpXstateMagic1 && sw.xstate_size == xsave_size() &&
                        sw.extended_size >= xsave_size() + kFpXstateMagic2Size;
        uint32_t magic2 = 0;
        extended =
            extended &&
            mm::copy_from_user(magic2, mm::UserIn<uint32_t>(user + xsave_size())).has_value() &&
            magic2 == kFpXstateMagic2;
        if (extended && mm::copy_from_user_bytes(static_cast<std::byte*>(area) + kFxsaveSize,
                                                 user + kFxsaveSize, xsave_size() - kFxsaveSize)
                            .is_error())
            return false;
        uint64_t features =
            extended ? load<uint64_t>(area, kFxsaveSize) & arch::cpu().xcr0 & sw.xfeatures
                     : kXstateFpSse;
        __builtin_memset(static_cast<std::byte*>(area) + kFxsaveSize, 0, kXsaveHeaderSize);
        store(area, kFxsaveSize, features);  // XSTATE_BV; XCOMP_BV 0: the standard format
    }
    store(area, kMxcsrOffset, load<uint32_t>(area, kMxcsrOffset) & g_mxcsr_mask);
    arch::fpu_restore(area);
    return true;
}

void save_registers(SigContext& sc, const arch::TrapFrame& frame) {
    sc.r8 = frame.r8, sc.r9 = frame.r9, sc.r10 = frame.r10, sc.r11 = frame.r11;
    sc.r12 = frame.r12, sc.r13 = frame.r13, sc.r14 = frame.r14, sc.r15 = frame.r15;
    sc.rdi = frame.rdi, sc.rsi = frame.rsi, sc.rbp = frame.rbp, sc.rbx = frame.rbx;
    sc.rdx = frame.rdx, sc.rax = frame.rax, sc.rcx = frame.rcx, sc.rsp = frame.rsp;
    sc.rip = frame.rip, sc.eflags = frame.rflags;
    sc.cs = uint16_t(frame.cs), sc.ss = uint16_t(frame.ss);
    bool exception = frame.vector < 32;
    sc.trapno = exception ? frame.vector : 0;
    sc.err = exception ? frame.error_code : 0;
}

void restore_registers(arch::TrapFrame& frame, const SigContext& sc) {
    frame.r8 = sc.r8, frame.r9 = sc.r9, frame.r10 = sc.r10, frame.r11 = sc.r11;
    frame.r12 = sc.r12, frame.r13 = sc.r13, frame.r14 = sc.r14, frame.r15 = sc.r15;
    frame.rdi = sc.rdi, frame.rsi = sc.rsi, frame.rbp = sc.rbp, frame.rbx = sc.rbx;
    frame.rdx = sc.rdx, frame.rax = sc.rax, frame.rcx = sc.rcx, frame.rsp = sc.rsp;
    frame.rip = sc.rip;
    frame.rflags = (frame.rflags & ~kUserFlags) | (sc.eflags & kUserFlags);
    frame.cs = arch::kUserCs;  // never another segment, whatever the frame says
    frame.ss = arch::kUserDs;
}

}  // namespace

bool setup_signal_frame(arch::TrapFrame& frame, sched::Thread& self, const SigInfo& info,
                        const SigAction& action, uint64_t old_mask, uint64_t& where) {
    ThreadSignals& signals = self.signals;
    // arch/x86/kernel/signal.c get_sigframe(): below the red zone or at the top of the
    // alternate stack; the FP state 64-byte aligned, the frame so that rsp + 8 is 16-byte
    // aligned, as after a call.
    uint64_t sp = frame.rsp - kRedZone;
    bool nested = signals.on_alt_stack(frame.rsp);
    bool entering = false;
    if ((action.flags & kSaOnstack) && signals.alt_stack_state(sp) == 0) {
        sp = signals.alt_sp + signals.alt_size;
        entering = true;
    }
    uint64_t fpstate = (sp - fp_frame_size()) & ~uint64_t(63);
    uint64_t address = ((fpstate - sizeof(SigFrame)) & ~uint64_t(15)) - 8;
    where = address;
    if ((nested || entering) && !signals.in_alt_stack(address)) return false;  // overflow
    // x86-64 handlers return through sa_restorer: there is no kernel trampoline.
    if (!(action.flags & kSaRestorer) || action.handler >= arch::kUserEnd) return false;

    SigFrame sf{};
    sf.pretcode = action.restorer;
    sf.uc.flags = kUcSigcontextSs | kUcStrictRestoreSs | (arch::cpu().xsave ? kUcFpXstate : 0);
    sf.uc.stack = {signals.alt_sp, signals.alt_stack_flags(frame.rsp), 0, signals.alt_size};
    save_registers(sf.uc.mcontext, frame);
    sf.uc.mcontext.oldmask = old_mask;
    sf.uc.mcontext.cr2 = frame.vector == 14 ? info.fault.addr : 0;  // #PF
    sf.uc.mcontext.fpstate = fpstate;
    sf.uc.sigmask = old_mask;
    sf.info = info;
    where = fpstate;
    if (!write_fp_state(self, fpstate)) return false;
    where = address;
    if (mm::copy_to_user_bytes(address, &sf, sizeof sf).is_error()) return false;

    if (entering && (signals.alt_flags & kSsAutodisarm))
        signals.alt_sp = signals.alt_size = 0, signals.alt_flags = 0;
    reset_fp(self);
    frame.rdi = uint64_t(info.signo);
    frame.rsi = address + offsetof(SigFrame, info);
    frame.rdx = address + offsetof(SigFrame, uc);
    frame.rax = 0;  // for handlers declared without a prototype (varargs)
    frame.rip = action.handler;
    frame.rsp = address;
    frame.cs = arch::kUserCs;
    frame.ss = arch::kUserDs;
    frame.rflags &= ~(kFlagTf | kFlagDf | kFlagRf);
    return true;
}

bool restore_signal_frame(arch::TrapFrame& frame, sched::Thread& self) {
    SigFrame sf;
    if (mm::copy_from_user_bytes(&sf, frame.rsp - 8, sizeof sf).is_error()) return false;
    const SigContext& sc = sf.uc.mcontext;
    if (sc.rip >= arch::kUserEnd) return false;  // iretq would fault in the kernel
    if (!read_fp_state(self, sc.fpstate)) return false;
    restore_registers(frame, sc);
    self.signals.blocked = sf.uc.sigmask & ~kUnblockable;
    // As Linux's restore_altstack(): applied unless the restored context is on the
    // alternate stack (EPERM, ignored).
    (void)change_alt_stack(self.signals, sf.uc.stack, frame.rsp);
    return true;
}

lib::ErrorOr change_alt_stack(ThreadSignals& signals, const StackT& stack, uint64_t sp) {
    if (signals.on_alt_stack(sp)) return lib::Errno::Perm;
    uint32_t flags = uint32_t(stack.flags);
    uint32_t mode = flags & ~kSsAutodisarm;
    if (mode != 0 && mode != uint32_t(kSsDisable) && mode != uint32_t(kSsOnstack))
        return lib::Errno::Inval;
    if (mode == uint32_t(kSsDisable)) {
        signals.alt_sp = signals.alt_size = 0;
        signals.alt_flags = 0;
        return {};
    }
    if (stack.size < kMinSigStackSize) return lib::Errno::NoMem;
    signals.alt_sp = stack.sp;
    signals.alt_size = stack.size;
    signals.alt_flags = flags & kSsAutodisarm;
    return {};
}

}  // namespace kernel::proc
