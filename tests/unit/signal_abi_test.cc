// The kernel's signal ABI structures (kernel/proc/signal_abi.h) against the host's own
// headers: what a glibc program reads from its siginfo_t, ucontext_t, stack_t, sigevent and
// signalfd_siginfo must be where the kernel writes it.
#include "kernel/proc/signal_abi.h"

#include <gtest/gtest.h>
#include <sys/signalfd.h>
#include <sys/ucontext.h>

#include <csignal>
#include <cstddef>

namespace {

namespace proc = kernel::proc;

TEST(SignalAbi, SiginfoFields) {
    EXPECT_EQ(sizeof(proc::SigInfo), sizeof(siginfo_t));
    EXPECT_EQ(offsetof(proc::SigInfo, signo), offsetof(siginfo_t, si_signo));
    EXPECT_EQ(offsetof(proc::SigInfo, error), offsetof(siginfo_t, si_errno));
    EXPECT_EQ(offsetof(proc::SigInfo, code), offsetof(siginfo_t, si_code));
    EXPECT_EQ(offsetof(proc::SigInfo, sender.pid), offsetof(siginfo_t, si_pid));
    EXPECT_EQ(offsetof(proc::SigInfo, sender.uid), offsetof(siginfo_t, si_uid));
    EXPECT_EQ(offsetof(proc::SigInfo, sender.value), offsetof(siginfo_t, si_value));
    EXPECT_EQ(offsetof(proc::SigInfo, timer.id), offsetof(siginfo_t, si_timerid));
    EXPECT_EQ(offsetof(proc::SigInfo, timer.overrun), offsetof(siginfo_t, si_overrun));
    EXPECT_EQ(offsetof(proc::SigInfo, fault.addr), offsetof(siginfo_t, si_addr));
    EXPECT_EQ(proc::kSiQueue, SI_QUEUE);
    EXPECT_EQ(proc::kSiTimer, SI_TIMER);
    EXPECT_EQ(proc::kSiTkill, SI_TKILL);
    EXPECT_EQ(proc::kSiKernel, SI_KERNEL);
    EXPECT_EQ(proc::kSegvAccerr, SEGV_ACCERR);
    EXPECT_EQ(proc::kIllIllopn, ILL_ILLOPN);
    EXPECT_EQ(proc::kFpeIntdiv, FPE_INTDIV);
    EXPECT_EQ(proc::kBusAdraln, BUS_ADRALN);
}

TEST(SignalAbi, UcontextAsGlibcSeesIt) {
    EXPECT_EQ(offsetof(proc::UContext, flags), offsetof(ucontext_t, uc_flags));
    EXPECT_EQ(offsetof(proc::UContext, link), offsetof(ucontext_t, uc_link));
    EXPECT_EQ(offsetof(proc::UContext, stack), offsetof(ucontext_t, uc_stack));
    EXPECT_EQ(offsetof(proc::UContext, mcontext), offsetof(ucontext_t, uc_mcontext));
    EXPECT_EQ(offsetof(proc::UContext, sigmask), offsetof(ucontext_t, uc_sigmask));
    // gregs[REG_*] are the sigcontext's words, fpregs its fpstate pointer.
    auto greg = [](int reg) { return size_t(reg) * sizeof(greg_t); };
    EXPECT_EQ(offsetof(proc::SigContext, r8), greg(REG_R8));
    EXPECT_EQ(offsetof(proc::SigContext, r15), greg(REG_R15));
    EXPECT_EQ(offsetof(proc::SigContext, rdi), greg(REG_RDI));
    EXPECT_EQ(offsetof(proc::SigContext, rbp), greg(REG_RBP));
    EXPECT_EQ(offsetof(proc::SigContext, rax), greg(REG_RAX));
    EXPECT_EQ(offsetof(proc::SigContext, rcx), greg(REG_RCX));
    EXPECT_EQ(offsetof(proc::SigContext, rsp), greg(REG_RSP));
    EXPECT_EQ(offsetof(proc::SigContext, rip), greg(REG_RIP));
    EXPECT_EQ(offsetof(proc::SigContext, eflags), greg(REG_EFL));
    EXPECT_EQ(offsetof(proc::SigContext, cs), greg(REG_CSGSFS));
    EXPECT_EQ(offsetof(proc::SigContext, err), greg(REG_ERR));
    EXPECT_EQ(offsetof(proc::SigContext, trapno), greg(REG_TRAPNO));
    EXPECT_EQ(offsetof(proc::SigContext, oldmask), greg(REG_OLDMASK));
    EXPECT_EQ(offsetof(proc::SigContext, cr2), greg(REG_CR2));
    EXPECT_EQ(offsetof(proc::SigContext, fpstate), offsetof(mcontext_t, fpregs));
    // The FP state in FXSAVE layout: glibc's struct _libc_fpstate.
    EXPECT_EQ(proc::kMxcsrOffset, offsetof(struct _libc_fpstate, mxcsr));
    EXPECT_EQ(proc::kMxcsrMaskOffset, offsetof(struct _libc_fpstate, mxcr_mask));
    EXPECT_EQ(proc::kFxsaveSize, sizeof(struct _libc_fpstate));
}

TEST(SignalAbi, FrameLayout) {
    // The handler's rsp + 8 is 16-byte aligned with the frame built 16-aligned minus 8: the
    // ucontext then starts on a 16-byte boundary, as Linux's does.
    EXPECT_EQ(offsetof(proc::SigFrame, uc) % 16, 8u);
    EXPECT_EQ(offsetof(proc::SigFrame, info), 8 + sizeof(proc::UContext));
}

TEST(SignalAbi, StackSigeventSignalfd) {
    EXPECT_EQ(sizeof(proc::StackT), sizeof(stack_t));
    EXPECT_EQ(offsetof(proc::StackT, sp), offsetof(stack_t, ss_sp));
    EXPECT_EQ(offsetof(proc::StackT, flags), offsetof(stack_t, ss_flags));
    EXPECT_EQ(offsetof(proc::StackT, size), offsetof(stack_t, ss_size));
    EXPECT_EQ(proc::kSsOnstack, SS_ONSTACK);
    EXPECT_EQ(proc::kSsDisable, SS_DISABLE);

    EXPECT_EQ(sizeof(proc::SigEvent), sizeof(struct sigevent));
    EXPECT_EQ(offsetof(proc::SigEvent, value), offsetof(struct sigevent, sigev_value));
    EXPECT_EQ(offsetof(proc::SigEvent, signo), offsetof(struct sigevent, sigev_signo));
    EXPECT_EQ(offsetof(proc::SigEvent, notify), offsetof(struct sigevent, sigev_notify));
    EXPECT_EQ(offsetof(proc::SigEvent, tid), offsetof(struct sigevent, _sigev_un._tid));
    EXPECT_EQ(proc::kSigevThreadId, SIGEV_THREAD_ID);

    EXPECT_EQ(sizeof(proc::SignalfdSiginfo), sizeof(struct signalfd_siginfo));
    EXPECT_EQ(offsetof(proc::SignalfdSiginfo, pid), offsetof(struct signalfd_siginfo, ssi_pid));
    EXPECT_EQ(offsetof(proc::SignalfdSiginfo, tid), offsetof(struct signalfd_siginfo, ssi_tid));
    EXPECT_EQ(offsetof(proc::SignalfdSiginfo, overrun),
              offsetof(struct signalfd_siginfo, ssi_overrun));
    EXPECT_EQ(offsetof(proc::SignalfdSiginfo, int_value),
              offsetof(struct signalfd_siginfo, ssi_int));
    EXPECT_EQ(offsetof(proc::SignalfdSiginfo, ptr), offsetof(struct signalfd_siginfo, ssi_ptr));
    EXPECT_EQ(offsetof(proc::SignalfdSiginfo, addr), offsetof(struct signalfd_siginfo, ssi_addr));
    EXPECT_EQ(offsetof(proc::SignalfdSiginfo, arch), offsetof(struct signalfd_siginfo, ssi_arch));
}

TEST(SignalAbi, SigactionFlags) {
    EXPECT_EQ(proc::kSaSiginfo, uint64_t(SA_SIGINFO));
    EXPECT_EQ(proc::kSaOnstack, uint64_t(SA_ONSTACK));
    EXPECT_EQ(proc::kSaRestart, uint64_t(SA_RESTART));
    EXPECT_EQ(proc::kSaNodefer, uint64_t(SA_NODEFER));
    EXPECT_EQ(proc::kSaResethand, uint64_t(uint32_t(SA_RESETHAND)));
}

}  // namespace
