// The x86-64 Linux signal ABI: signal numbers, sigaction flags, siginfo, stack_t, the
// rt_sigframe a handler finds on its stack (ucontext with its sigcontext), the FP state's
// software bytes, sigevent and signalfd_siginfo. Layouts follow the uapi headers
// (asm/sigcontext.h, asm/ucontext.h, asm-generic/siginfo.h, asm-generic/signal.h,
// linux/signalfd.h) and arch/x86/include/asm/sigframe.h; every offset a program relies on is
// asserted here and checked against the host's headers in tests/unit/signal_abi_test.cc.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kernel::proc {

inline constexpr int kMaxSignal = 64;
inline constexpr int kSigRtMin = 32;  // from here on signals queue (the kernel's SIGRTMIN)

inline constexpr int kSigHup = 1, kSigInt = 2, kSigQuit = 3, kSigIll = 4, kSigTrap = 5,
                     kSigAbrt = 6, kSigBus = 7, kSigFpe = 8, kSigKill = 9, kSigUsr1 = 10,
                     kSigSegv = 11, kSigUsr2 = 12, kSigPipe = 13, kSigAlrm = 14, kSigTerm = 15,
                     kSigStkflt = 16, kSigChld = 17, kSigCont = 18, kSigStop = 19, kSigTstp = 20,
                     kSigTtin = 21, kSigTtou = 22, kSigUrg = 23, kSigXcpu = 24, kSigXfsz = 25,
                     kSigVtalrm = 26, kSigProf = 27, kSigWinch = 28, kSigIo = 29, kSigPwr = 30,
                     kSigSys = 31;

// Bit signal-1 of a sigset_t (the kernel's is 64 bits on x86-64).
constexpr uint64_t sig_bit(int signal) { return uint64_t(1) << (signal - 1); }
inline constexpr uint64_t kUnblockable = sig_bit(kSigKill) | sig_bit(kSigStop);

// sa_flags.
inline constexpr uint64_t kSaSiginfo = 0x4, kSaRestorer = 0x04000000, kSaOnstack = 0x08000000,
                          kSaRestart = 0x10000000, kSaNodefer = 0x40000000,
                          kSaResethand = 0x80000000;
inline constexpr uint64_t kSigDfl = 0, kSigIgn = 1;

// struct sigaction as rt_sigaction takes it (the kernel's, not libc's).
struct SigAction {
    uint64_t handler;
    uint64_t flags;
    uint64_t restorer;
    uint64_t mask;
};

// si_code values.
inline constexpr int kSiUser = 0, kSiKernel = 0x80, kSiQueue = -1, kSiTimer = -2, kSiTkill = -6;
inline constexpr int kSegvMaperr = 1, kSegvAccerr = 2;
inline constexpr int kIllIllopn = 2;
inline constexpr int kFpeIntdiv = 1, kFpeFltdiv = 3, kFpeFltovf = 4, kFpeFltund = 5, kFpeFltres = 6,
                     kFpeFltinv = 7;
inline constexpr int kBusAdraln = 1;
inline constexpr int kTrapBrkpt = 1, kTrapTrace = 2;

// siginfo_t: 128 bytes, the union at 16.
struct SigInfo {
    int32_t signo;
    int32_t error;
    int32_t code;
    int32_t pad;
    union {
        struct {  // kill, tkill, sigqueue (value)
            int32_t pid;
            uint32_t uid;
            uint64_t value;
        } sender;
        struct {  // POSIX timers
            int32_t id;
            int32_t overrun;
            uint64_t value;
        } timer;
        struct {  // SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP
            uint64_t addr;
        } fault;
        uint8_t bytes[112];
    };
};
static_assert(sizeof(SigInfo) == 128);
static_assert(offsetof(SigInfo, sender.pid) == 16 && offsetof(SigInfo, sender.value) == 24);
static_assert(offsetof(SigInfo, timer.overrun) == 20 && offsetof(SigInfo, fault.addr) == 16);

// stack_t (sigaltstack, uc_stack).
inline constexpr int kSsOnstack = 1, kSsDisable = 2;
inline constexpr uint32_t kSsAutodisarm = 1u << 31;
inline constexpr uint64_t kMinSigStackSize = 2048;  // MINSIGSTKSZ
struct StackT {
    uint64_t sp;
    int32_t flags;
    int32_t pad;
    uint64_t size;
};
static_assert(sizeof(StackT) == 24);

// struct sigcontext (64-bit): what gregs[] of glibc's mcontext_t index.
struct SigContext {
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
    uint16_t cs, gs, fs, ss;
    uint64_t err, trapno, oldmask, cr2;
    uint64_t fpstate;  // user address of the FP state, 0 when none
    uint64_t reserved1[8];
};
static_assert(sizeof(SigContext) == 256);
static_assert(offsetof(SigContext, rip) == 128 && offsetof(SigContext, cs) == 144);
static_assert(offsetof(SigContext, err) == 152 && offsetof(SigContext, fpstate) == 184);

// uc_flags.
inline constexpr uint64_t kUcFpXstate = 0x1, kUcSigcontextSs = 0x2, kUcStrictRestoreSs = 0x4;

struct UContext {
    uint64_t flags;
    uint64_t link;
    StackT stack;
    SigContext mcontext;
    uint64_t sigmask;
};
static_assert(sizeof(UContext) == 304);
static_assert(offsetof(UContext, mcontext) == 40 && offsetof(UContext, sigmask) == 296);

// What the handler's rsp points at: its return address (sa_restorer, which calls
// rt_sigreturn), the context, the siginfo; the FP state lies above, 64-byte aligned.
struct SigFrame {
    uint64_t pretcode;
    UContext uc;
    SigInfo info;
};
static_assert(sizeof(SigFrame) == 440);
static_assert(offsetof(SigFrame, uc) == 8 && offsetof(SigFrame, info) == 312);

// struct _fpx_sw_bytes, in the FXSAVE area's software-available bytes 464..511: present
// (magic1) when the FP state is in XSAVE format, which then ends with FP_XSTATE_MAGIC2.
inline constexpr uint32_t kFpXstateMagic1 = 0x46505853, kFpXstateMagic2 = 0x46505845;
inline constexpr size_t kFpXstateMagic2Size = 4;
inline constexpr size_t kFxsaveSize = 512, kXsaveHeaderSize = 64;
inline constexpr size_t kFxSwBytesOffset = 464, kMxcsrOffset = 24, kMxcsrMaskOffset = 28;
struct FpxSwBytes {
    uint32_t magic1;
    uint32_t extended_size;  // the whole FP frame: XSAVE area + magic2
    uint64_t xfeatures;
    uint32_t xstate_size;  // the XSAVE area
    uint32_t padding[7];
};
static_assert(sizeof(FpxSwBytes) == 48 && kFxSwBytesOffset + sizeof(FpxSwBytes) == kFxsaveSize);

// struct sigevent (timer_create).
inline constexpr int kSigevSignal = 0, kSigevNone = 1, kSigevThread = 2, kSigevThreadId = 4;
struct SigEvent {
    uint64_t value;
    int32_t signo;
    int32_t notify;
    int32_t tid;  // sigev_notify_thread_id
    int32_t pad[11];
};
static_assert(sizeof(SigEvent) == 64 && offsetof(SigEvent, tid) == 16);

// struct signalfd_siginfo.
struct SignalfdSiginfo {
    uint32_t signo;
    int32_t error;
    int32_t code;
    uint32_t pid;
    uint32_t uid;
    int32_t fd;
    uint32_t tid;
    uint32_t band;
    uint32_t overrun;
    uint32_t trapno;
    int32_t status;
    int32_t int_value;
    uint64_t ptr;
    uint64_t utime;
    uint64_t stime;
    uint64_t addr;
    uint16_t addr_lsb;
    uint16_t pad2;
    int32_t syscall;
    uint64_t call_addr;
    uint32_t arch;
    uint8_t pad[28];
};
static_assert(sizeof(SignalfdSiginfo) == 128 && offsetof(SignalfdSiginfo, ptr) == 48);
static_assert(offsetof(SignalfdSiginfo, addr) == 72);

}  // namespace kernel::proc
