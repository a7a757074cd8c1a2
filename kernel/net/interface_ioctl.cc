// netdevice(7) queries over the stack's interfaces: struct ifreq (40 bytes: a 16-byte name,
// then a union) and struct ifconf.
#include "kernel/net/interface_ioctl.h"

#include "kernel/mm/user_ptr.h"
#include "kernel/net/network.h"
#include "lib/net/bytes.h"

namespace kernel::net {

namespace {

constexpr uint32_t kSiocgifname = 0x8910, kSiocgifconf = 0x8912, kSiocgifflags = 0x8913,
                   kSiocgifaddr = 0x8915, kSiocgifbrdaddr = 0x8919, kSiocgifnetmask = 0x891b,
                   kSiocgifmtu = 0x8921, kSiocgifhwaddr = 0x8927, kSiocgifindex = 0x8933;
// IFF_* (uapi/linux/if.h).
constexpr uint16_t kIffUp = 0x1, kIffBroadcast = 0x2, kIffLoopback = 0x8, kIffRunning = 0x40,
                   kIffMulticast = 0x1000;

struct [[gnu::packed]] IfReq {
    char name[16];
    uint8_t data[24];
};
static_assert(sizeof(IfReq) == 40);

struct IfConf {
    int32_t length;
    int32_t pad;
    uint64_t buffer;
};

void put_address(IfReq& request, lib::net::Ipv4Address address) {
    __builtin_memset(request.data, 0, sizeof request.data);
    request.data[0] = 2;  // AF_INET
    lib::net::store_be32(&request.data[4], address.value);
}

lib::net::Ipv4Address mask_of(uint8_t prefix) {
    return {prefix == 0 ? 0 : ~uint32_t(0) << (32 - prefix)};
}

// The interface an ifreq names; NoDev when none.
lib::Result<int> find(const IfReq& request) {
    lib::net::Stack& s = stack();
    for (size_t i = 0; i < s.interface_count(); ++i) {
        const char* name = s.interface_info(int(i)).name;
        size_t n = 0;
        while (n < 16 && name[n] && request.name[n] == name[n]) ++n;
        if (n < 16 && name[n] == 0 && request.name[n] == 0) return int(i);
    }
    return lib::Errno::NoDev;
}

void set_name(IfReq& request, const char* name) {
    __builtin_memset(request.name, 0, sizeof request.name);
    for (size_t i = 0; i < 15 && name[i]; ++i) request.name[i] = name[i];
}

lib::Result<int64_t> list_interfaces(uint64_t argument) {
    IfConf conf;
    TRY(mm::copy_from_user_bytes(&conf, argument, sizeof conf));
    lib::net::Stack& s = stack();
    int32_t written = 0;
    for (size_t i = 0; i < s.interface_count(); ++i) {
        lib::net::InterfaceInfo info = s.interface_info(int(i));
        if (!info.configured) continue;  // SIOCGIFCONF lists interfaces with an address
        if (conf.buffer == 0) {          // a sizing call
            written += int32_t(sizeof(IfReq));
            continue;
        }
        if (conf.length - written < int32_t(sizeof(IfReq))) break;
        IfReq request{};
        set_name(request, info.name);
        put_address(request, info.config.address);
        TRY(mm::copy_to_user_bytes(conf.buffer + uint64_t(written), &request, sizeof request));
        written += int32_t(sizeof(IfReq));
    }
    conf.length = written;
    TRY(mm::copy_to_user_bytes(argument, &conf, sizeof conf));
    return 0;
}

}  // namespace

lib::Result<int64_t> interface_ioctl(uint32_t request, uint64_t argument) {
    switch (request) {
        case kSiocgifconf:
            return list_interfaces(argument);
        case kSiocgifname:
        case kSiocgifflags:
        case kSiocgifaddr:
        case kSiocgifbrdaddr:
        case kSiocgifnetmask:
        case kSiocgifmtu:
        case kSiocgifhwaddr:
        case kSiocgifindex:
            break;
        default:
            return lib::Errno::NotTy;
    }
    IfReq ifr;
    TRY(mm::copy_from_user_bytes(&ifr, argument, sizeof ifr));
    int index;
    if (request == kSiocgifname) {
        int32_t wanted;
        __builtin_memcpy(&wanted, ifr.data, 4);
        // if_nametoindex numbering: lo is 1.
        if (wanted < 1 || size_t(wanted) > stack().interface_count()) return lib::Errno::NoDev;
        index = wanted - 1;
    } else {
        index = TRY(find(ifr));
    }
    lib::net::InterfaceInfo info = stack().interface_info(index);
    bool loopback = index == 0;
    switch (request) {
        case kSiocgifname:
            set_name(ifr, info.name);
            break;
        case kSiocgifflags: {
            uint16_t flags = (info.up ? kIffUp | kIffRunning : 0) |
                             (loopback ? kIffLoopback : kIffBroadcast | kIffMulticast);
            __builtin_memset(ifr.data, 0, sizeof ifr.data);
            __builtin_memcpy(ifr.data, &flags, sizeof flags);
            break;
        }
        case kSiocgifaddr:
            if (!info.configured) return lib::Errno::AddrNotAvail;
            put_address(ifr, info.config.address);
            break;
        case kSiocgifnetmask:
            if (!info.configured) return lib::Errno::AddrNotAvail;
            put_address(ifr, mask_of(info.config.prefix_length));
            break;
        case kSiocgifbrdaddr:
            if (!info.configured) return lib::Errno::AddrNotAvail;
            put_address(ifr,
                        {info.config.address.value | ~mask_of(info.config.prefix_length).value});
            break;
        case kSiocgifmtu: {
            int32_t mtu = loopback ? 65536 : info.mtu;
            __builtin_memset(ifr.data, 0, sizeof ifr.data);
            __builtin_memcpy(ifr.data, &mtu, sizeof mtu);
            break;
        }
        case kSiocgifhwaddr:
            __builtin_memset(ifr.data, 0, sizeof ifr.data);
            ifr.data[0] =
                loopback ? 4 : 1;  // sa_family: ARPHRD_LOOPBACK (772 & 0xff) / ARPHRD_ETHER
            if (loopback) ifr.data[1] = 3;
            __builtin_memcpy(&ifr.data[2], info.mac.bytes.data(), 6);
            break;
        case kSiocgifindex: {
            int32_t number = index + 1;
            __builtin_memset(ifr.data, 0, sizeof ifr.data);
            __builtin_memcpy(ifr.data, &number, sizeof number);
            break;
        }
        default:
            break;
    }
    TRY(mm::copy_to_user_bytes(argument, &ifr, sizeof ifr));
    return 0;
}

}  // namespace kernel::net
