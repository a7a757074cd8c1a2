// TAP devices through /dev/net/tun and interface ioctls (what `ip tuntap add` and `ip addr
// add` do), so the benchmark needs no iproute2 and can tell "not permitted" from other errors.
#include "bench/net/tap.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <utility>

namespace bench::net {

namespace {

// The devices that exist now, for remove_taps() (a signal handler's).
constexpr int kMaxDevices = 8;
char g_devices[kMaxDevices][IFNAMSIZ];

void remember_device(const std::string& name, bool exists) {
    for (auto& slot : g_devices) {
        if (exists ? slot[0] == '\0' : name == slot) {
            std::strncpy(slot, exists ? name.c_str() : "", IFNAMSIZ - 1);
            return;
        }
    }
}

// Attaches to (or creates) the TAP device NAME and sets its persistence; -errno on failure.
// Async-signal-safe.
int set_persistent(const char* name, bool persistent) {
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) return -errno;
    ifreq request{};
    request.ifr_flags = IFF_TAP | IFF_NO_PI;
    std::strncpy(request.ifr_name, name, IFNAMSIZ - 1);
    int result = 0;
    if (ioctl(fd, TUNSETIFF, &request) != 0 || ioctl(fd, TUNSETPERSIST, persistent ? 1 : 0) != 0)
        result = -errno;
    close(fd);
    return result;
}

// Sets the IPv4 address and netmask of NAME and brings it up; -errno on failure.
int configure(const std::string& name, const Subnet& subnet) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    auto set_address = [&](unsigned long request_code, const std::string& dotted) {
        ifreq request{};
        std::strncpy(request.ifr_name, name.c_str(), IFNAMSIZ - 1);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        inet_pton(AF_INET, dotted.c_str(), &address.sin_addr);
        std::memcpy(&request.ifr_addr, &address, sizeof address);
        return ioctl(fd, request_code, &request) == 0;
    };
    bool ok =
        set_address(SIOCSIFADDR, subnet.host()) && set_address(SIOCSIFNETMASK, Subnet::netmask());
    if (ok) {
        ifreq request{};
        std::strncpy(request.ifr_name, name.c_str(), IFNAMSIZ - 1);
        ok = ioctl(fd, SIOCGIFFLAGS, &request) == 0;
        request.ifr_flags |= IFF_UP;
        ok = ok && ioctl(fd, SIOCSIFFLAGS, &request) == 0;
    }
    int result = ok ? 0 : -errno;
    close(fd);
    return result;
}

}  // namespace

// A device is busy while a VM that was just killed still holds it: wait for that, 3 s at
// most. Async-signal-safe.
void remove_device(const char* name) {
    for (int i = 0; i < 60 && set_persistent(name, false) == -EBUSY; ++i) {
        timespec pause = {0, 50 * 1000 * 1000};
        nanosleep(&pause, nullptr);
    }
}

void remove_taps() {
    for (auto& slot : g_devices)
        if (slot[0] != '\0') remove_device(slot);
}

int free_subnet(int from) {
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return 0;
    for (int octet = from; octet < 255; ++octet) {
        bool used = false;
        for (ifaddrs* entry = list; entry && !used; entry = entry->ifa_next) {
            if (!entry->ifa_addr || entry->ifa_addr->sa_family != AF_INET) continue;
            uint32_t address =
                ntohl(reinterpret_cast<sockaddr_in*>(entry->ifa_addr)->sin_addr.s_addr);
            used = (address >> 8) == ((192u << 16) | (168u << 8) | unsigned(octet));
        }
        if (!used) {
            freeifaddrs(list);
            return octet;
        }
    }
    freeifaddrs(list);
    return 0;
}

TapDevice TapDevice::create(const std::string& name, Subnet subnet, std::string& error,
                            bool& denied) {
    denied = false;
    // A device of this name left by a run that was killed (runs are serialized by a lock).
    set_persistent(name.c_str(), false);
    TapDevice device;
    if (int result = set_persistent(name.c_str(), true); result != 0) {
        denied = result == -EPERM || result == -EACCES || result == -ENOENT;
        error = "cannot create TAP device " + name + ": " + std::strerror(-result);
        return device;
    }
    device.m_name = name;
    device.m_subnet = subnet;
    remember_device(name, true);
    if (int result = configure(name, subnet); result != 0) {
        denied = result == -EPERM || result == -EACCES;
        error =
            "cannot configure " + subnet.host() + "/24 on " + name + ": " + std::strerror(-result);
        return TapDevice();  // the destructor of `device` removes it
    }
    return device;
}

TapDevice::TapDevice(TapDevice&& other) noexcept
    : m_name(std::exchange(other.m_name, {})), m_subnet(other.m_subnet) {}

TapDevice& TapDevice::operator=(TapDevice&& other) noexcept {
    if (this != &other) {
        if (valid()) remove();
        m_name = std::exchange(other.m_name, {});
        m_subnet = other.m_subnet;
    }
    return *this;
}

TapDevice::~TapDevice() {
    if (valid()) remove();
}

void TapDevice::remove() {
    remove_device(m_name.c_str());
    remember_device(m_name, false);
    m_name.clear();
}

}  // namespace bench::net
