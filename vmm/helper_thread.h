// Helper threads of the VMM (input pump, background worker, network backends) start with the
// stop signals (SIGINT, SIGTERM) and the profiler's SIGPROF blocked, so that those always
// reach the vCPU thread, whose KVM_RUN they must interrupt.
#pragma once

#include <pthread.h>
#include <signal.h>

#include <thread>
#include <utility>

namespace vmm {

template <typename F>
std::thread start_helper_thread(F&& body) {
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGPROF);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    std::thread thread(std::forward<F>(body));
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return thread;
}

}  // namespace vmm
