#include "vmm/kvm/kvm.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

namespace {

TEST(KvmOpen, MissingDeviceIsAUsageErrorNamingIt) {
    auto kvm = vmm::Kvm::open("/nonexistent/kvm");
    ASSERT_TRUE(kvm.is_error());
    EXPECT_EQ(kvm.error().kind, vmm::ErrorKind::Usage);
    EXPECT_NE(kvm.error().message().find("/nonexistent/kvm does not exist"), std::string::npos)
        << kvm.error().message();
}

TEST(KvmOpen, NotAKvmDeviceIsAUsageError) {
    auto kvm = vmm::Kvm::open("/dev/null");  // opens, but answers no KVM ioctl
    ASSERT_TRUE(kvm.is_error());
    EXPECT_EQ(kvm.error().kind, vmm::ErrorKind::Usage);
    EXPECT_NE(kvm.error().message().find("KVM API version"), std::string::npos)
        << kvm.error().message();
}

}  // namespace
