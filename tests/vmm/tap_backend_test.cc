// The TAP backend's checks: names Linux cannot take are refused before /dev/net/tun is opened;
// where the test may attach TAP devices (CAP_NET_ADMIN) one is attached and written to.
#include "vmm/net/tap_backend.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace {

using vmm::net::TapBackend;

TEST(TapBackend, RefusesNamesThatAreNoInterfaceNames) {
    for (const char* name : {"", "sixteen-chars-xx", "a/b"}) {
        auto backend = TapBackend::create(name);
        ASSERT_TRUE(backend.is_error()) << name;
        EXPECT_EQ(backend.error().kind, vmm::ErrorKind::Usage);
        EXPECT_EQ(
            std::string(backend.error().message()),
            std::string("--tap ") + name + ": not an interface name (1 to 15 characters, no '/')");
    }
}

TEST(TapBackend, AttachesAndSendsOrSaysWhatToDo) {
    std::string name = "phxt" + std::to_string(getpid() % 100000);
    auto backend = TapBackend::create(name);
    if (backend.is_error()) {
        // Without CAP_NET_ADMIN (or /dev/net/tun) the message names the device and the fix.
        std::string message(backend.error().message());
        EXPECT_EQ(message.rfind("--tap " + name + ": ", 0), 0u) << message;
        GTEST_SKIP() << message;
    }
    // The interface is down: the frame goes nowhere, and nothing blocks or crashes.
    std::vector<std::byte> frame(60, std::byte{0xff});
    backend.value()->send_frame(frame);
    backend.value().reset();  // joins the reader thread; the transient interface goes away
}

}  // namespace
