// virtio-net end to end through the mmio transport, with a fake backend: negotiation, transmit
// (checksum finishing), receive into mergeable buffers, the bounded pending queue, hostile
// descriptors, interrupts (virtio 1.2, 5.1).
#include <gtest/gtest.h>

#include <memory>
#include <numeric>
#include <vector>

#include "tests/vmm/virtio_test_support.h"
#include "vmm/net/checksum.h"
#include "vmm/virtio/mmio_transport.h"
#include "vmm/virtio/net.h"

namespace {

namespace mmio = lib::virtio::mmio;
using namespace lib::virtio;
using phx_test::bit;
using phx_test::DriverRing;
using phx_test::FakeGuest;
using phx_test::FakeIrq;
using phx_test::MmioDriver;
using vmm::virtio::VirtioMmioTransport;
using vmm::virtio::VirtioNet;
using Bytes = std::vector<std::byte>;

constexpr uint64_t kBase = 0x100000;
constexpr uint64_t kBuf = kBase + 0x10000;
constexpr vmm::net::MacAddress kMac = {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef};

class FakeBackend final : public vmm::net::NetBackend {
public:
    void send_frame(std::span<const std::byte> frame) override {
        sent.emplace_back(frame.begin(), frame.end());
    }
    void push(const Bytes& frame) { deliver(frame); }
    std::vector<Bytes> sent;
};

struct NetHeader {
    uint8_t flags;
    uint8_t gso_type;
    uint16_t hdr_len;
    uint16_t gso_size;
    uint16_t csum_start;
    uint16_t csum_offset;
    uint16_t num_buffers;
};
static_assert(sizeof(NetHeader) == 12);

constexpr uint64_t kDefaultFeatures =
    bit(kFeatureVersion1) | bit(VirtioNet::kFeatureMac) | bit(VirtioNet::kFeatureStatus) |
    bit(VirtioNet::kFeatureMtu) | bit(VirtioNet::kFeatureMrgRxbuf) | bit(VirtioNet::kFeatureCsum) |
    bit(VirtioNet::kFeatureGuestCsum);

void put16(Bytes& b, size_t at, uint16_t v) {
    b[at] = std::byte(v >> 8);
    b[at + 1] = std::byte(v & 0xff);
}

// An Ethernet + IPv4 + UDP frame from 10.0.2.15:1234 to 10.0.2.2:53 with `payload` bytes; the
// IP header checksum is right, the UDP one is left 0.
Bytes udp_frame(size_t payload) {
    Bytes f(14 + 20 + 8 + payload);
    for (size_t i = 0; i < payload; ++i) f[42 + i] = std::byte(i * 7 + 3);
    put16(f, 12, 0x0800);
    f[14] = std::byte(0x45);
    put16(f, 16, uint16_t(20 + 8 + payload));
    f[22] = std::byte(64);
    f[23] = std::byte(17);
    uint8_t src[4] = {10, 0, 2, 15}, dst[4] = {10, 0, 2, 2};
    for (int i = 0; i < 4; ++i) f[26 + i] = std::byte(src[i]), f[30 + i] = std::byte(dst[i]);
    uint16_t ip_sum =
        uint16_t(~vmm::net::checksum_fold(vmm::net::checksum_add(std::span(f).subspan(14, 20))));
    put16(f, 24, ip_sum);
    put16(f, 34, 1234);
    put16(f, 36, 53);
    put16(f, 38, uint16_t(8 + payload));
    return f;
}

// What a driver with VIRTIO_NET_F_CSUM puts in the UDP checksum field: the pseudo-header's
// sum, folded, not complemented (Linux's csum_tcpudp_magic before the final ~).
void set_partial_checksum(Bytes& f) {
    uint64_t sum = vmm::net::checksum_add(std::span(f).subspan(26, 8));
    sum += 17;
    sum += f.size() - 34;
    put16(f, 40, vmm::net::checksum_fold(sum));
}

struct NetTest : ::testing::Test {
    FakeGuest guest{kBase, 0x40000};
    FakeIrq irq;
    FakeBackend backend;
    VirtioMmioTransport transport{guest.memory,
                                  std::make_unique<VirtioNet>(guest.memory, kMac, &backend), irq};
    MmioDriver driver{transport};
    DriverRing rx{guest, 16, kBase, kBase + 0x1000, kBase + 0x2000};
    DriverRing tx{guest, 16, kBase + 0x3000, kBase + 0x4000, kBase + 0x5000};
    VirtioNet& net = static_cast<VirtioNet&>(transport.device());

    void start(uint64_t features = kDefaultFeatures) {
        ASSERT_EQ(driver.negotiate(features),
                  kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk);
        driver.setup_queue(0, rx);
        driver.setup_queue(1, tx);
        driver.driver_ok();
        ASSERT_EQ(driver.read(mmio::kStatus) & kStatusDriverOk, kStatusDriverOk);
        backend.attach(&net);
    }
    void TearDown() override { backend.attach(nullptr); }

    // Offers `count` receive chains of one `len`-byte buffer each, descriptors from `first`.
    void offer_rx(uint16_t first, uint16_t count, uint32_t len) {
        for (uint16_t i = 0; i < count; ++i) {
            uint16_t d = uint16_t(first + i);
            rx.set_desc(d, kBuf + uint64_t(d) * 0x800, len, kDescWrite);
            rx.offer(d);
        }
        driver.write(mmio::kQueueNotify, 0);
    }
    // Sends header + frame as a two-descriptor chain on the tx queue.
    void transmit(const NetHeader& header, const Bytes& frame, uint16_t head = 0) {
        uint64_t at = kBuf + 0x20000 + uint64_t(head) * 0x1000;
        guest.put(at, header);
        std::memcpy(guest.host(at + 0x100), frame.data(), frame.size());
        tx.set_desc(head, at, 12, kDescNext, uint16_t(head + 1));
        tx.set_desc(uint16_t(head + 1), at + 0x100, uint32_t(frame.size()));
        tx.offer(head);
        driver.write(mmio::kQueueNotify, 1);
    }
    Bytes guest_bytes(uint64_t gpa, size_t len) {
        return Bytes(guest.host(gpa), guest.host(gpa) + len);
    }
    void ack_interrupt() { driver.write(mmio::kInterruptAck, driver.read(mmio::kInterruptStatus)); }
};

TEST_F(NetTest, IdentityFeaturesAndConfiguration) {
    EXPECT_EQ(driver.read(mmio::kDeviceId), 1u);
    driver.write(mmio::kQueueSel, 0);
    EXPECT_EQ(driver.read(mmio::kQueueNumMax), 256u);
    driver.write(mmio::kQueueSel, 1);
    EXPECT_EQ(driver.read(mmio::kQueueNumMax), 256u);
    driver.write(mmio::kQueueSel, 2);
    EXPECT_EQ(driver.read(mmio::kQueueNumMax), 0u);  // no control queue
    uint64_t features = driver.device_features();
    for (unsigned b : {0u, 1u, 3u, 5u, 15u, 16u, 32u}) EXPECT_TRUE(features & bit(b)) << b;
    for (unsigned b : {11u, 17u, 22u}) EXPECT_FALSE(features & bit(b)) << b;  // TSO, CTRL_VQ, MQ
    uint8_t config[12];
    for (size_t i = 0; i < sizeof(config); ++i) {
        uint8_t byte = 0;
        transport.mmio_read(mmio::kConfig + i, std::as_writable_bytes(std::span(&byte, 1)));
        config[i] = byte;
    }
    EXPECT_EQ(0, std::memcmp(config, kMac.data(), 6));
    EXPECT_EQ(config[6] | config[7] << 8, 1);       // status: VIRTIO_NET_S_LINK_UP
    EXPECT_EQ(config[10] | config[11] << 8, 1500);  // mtu
}

TEST_F(NetTest, NegotiatesASubsetAndRefusesUnofferedFeatures) {
    EXPECT_EQ(
        driver.negotiate(bit(kFeatureVersion1) | bit(VirtioNet::kFeatureMac)) & kStatusFeaturesOk,
        kStatusFeaturesOk);
    EXPECT_EQ(driver.negotiate(bit(kFeatureVersion1) | bit(11)) & kStatusFeaturesOk, 0u);
}

TEST_F(NetTest, TransmitFinishesTheChecksumTheGuestLeftPartial) {
    start();
    Bytes frame = udp_frame(101);  // odd length: the padded last byte counts
    set_partial_checksum(frame);
    NetHeader header{};
    header.flags = VirtioNet::kHdrNeedsCsum;
    header.csum_start = 34;
    header.csum_offset = 6;
    transmit(header, frame);
    ASSERT_EQ(backend.sent.size(), 1u);
    EXPECT_TRUE(vmm::net::checksums_valid(backend.sent[0]));
    EXPECT_NE(backend.sent[0][40], frame[40]);
    // Everything but the checksum field is the guest's frame unchanged.
    Bytes expected = frame;
    expected[40] = backend.sent[0][40];
    expected[41] = backend.sent[0][41];
    EXPECT_EQ(backend.sent[0], expected);
    EXPECT_EQ(tx.used_idx(), 1);
    EXPECT_EQ(tx.used_elem(0).len, 0u);
    EXPECT_TRUE(irq.level);
    EXPECT_EQ(driver.read(mmio::kInterruptStatus), mmio::kInterruptUsedBuffer);
}

TEST_F(NetTest, TransmitDropsWhatItCannotTrust) {
    start();
    NetHeader header{};
    header.flags = VirtioNet::kHdrNeedsCsum;
    header.csum_start = 34;
    header.csum_offset = 200;  // past the frame's end
    transmit(header, udp_frame(10), 0);
    header = NetHeader{};
    header.gso_type = 1;  // TCPv4 segmentation, never offered
    transmit(header, udp_frame(10), 2);
    transmit(NetHeader{}, udp_frame(1600), 4);  // larger than MTU + Ethernet header
    EXPECT_TRUE(backend.sent.empty());
    EXPECT_EQ(net.counters().tx_dropped, 3u);
    EXPECT_EQ(tx.used_idx(), 3);  // the chains still come back
    transmit(NetHeader{}, udp_frame(10), 6);
    EXPECT_EQ(backend.sent.size(), 1u);
}

TEST_F(NetTest, NeedsCsumWithoutTheFeatureIsDropped) {
    start(kDefaultFeatures & ~bit(VirtioNet::kFeatureCsum));
    NetHeader header{};
    header.flags = VirtioNet::kHdrNeedsCsum;
    header.csum_start = 34;
    header.csum_offset = 6;
    transmit(header, udp_frame(10));
    EXPECT_TRUE(backend.sent.empty());
}

TEST_F(NetTest, ReceiveSpreadsAFrameOverMergeableBuffers) {
    start();
    offer_rx(0, 3, 400);
    ack_interrupt();
    irq.level = false;
    Bytes frame = udp_frame(958);  // 1000 bytes
    backend.push(frame);
    ASSERT_EQ(rx.used_idx(), 3);
    EXPECT_EQ(rx.used_elem(0).id, 0u);
    EXPECT_EQ(rx.used_elem(0).len, 400u);
    EXPECT_EQ(rx.used_elem(1).id, 1u);
    EXPECT_EQ(rx.used_elem(1).len, 400u);
    EXPECT_EQ(rx.used_elem(2).id, 2u);
    EXPECT_EQ(rx.used_elem(2).len, 212u);
    auto header = guest.get<NetHeader>(kBuf);
    EXPECT_EQ(header.num_buffers, 3);
    EXPECT_EQ(header.gso_type, 0);
    EXPECT_EQ(header.flags, 0);  // the UDP checksum is 0: nothing verified
    Bytes got = guest_bytes(kBuf + 12, 388);
    Bytes more = guest_bytes(kBuf + 0x800, 400);
    got.insert(got.end(), more.begin(), more.end());
    more = guest_bytes(kBuf + 0x1000, 212);
    got.insert(got.end(), more.begin(), more.end());
    EXPECT_EQ(got, frame);
    EXPECT_TRUE(irq.level);
    EXPECT_EQ(driver.read(mmio::kInterruptStatus), mmio::kInterruptUsedBuffer);
    EXPECT_EQ(net.counters().rx_frames, 1u);
}

TEST_F(NetTest, ReceiveMarksVerifiedChecksumsDataValid) {
    start();
    offer_rx(0, 2, 1526);
    Bytes frame = udp_frame(50);
    set_partial_checksum(frame);
    ASSERT_TRUE(vmm::net::finish_checksum(frame, 34, 6));
    backend.push(frame);
    backend.push(udp_frame(50));  // UDP checksum 0
    ASSERT_EQ(rx.used_idx(), 2);
    EXPECT_EQ(guest.get<NetHeader>(kBuf).flags, VirtioNet::kHdrDataValid);
    EXPECT_EQ(guest.get<NetHeader>(kBuf + 0x800).flags, 0);
    frame[50] ^= std::byte{1};  // corrupt the payload
    offer_rx(2, 1, 1526);
    backend.push(frame);
    EXPECT_EQ(guest.get<NetHeader>(kBuf + 0x1000).flags, 0);
}

TEST_F(NetTest, FramesWaitForBuffersThenArrive) {
    start();
    backend.push(udp_frame(100));
    backend.push(udp_frame(200));
    EXPECT_EQ(rx.used_idx(), 0);
    EXPECT_FALSE(irq.level);
    offer_rx(0, 1, 1526);  // room for the first only
    EXPECT_EQ(rx.used_idx(), 1);
    EXPECT_EQ(rx.used_elem(0).len, 12u + 142u);
    EXPECT_TRUE(irq.level);
    offer_rx(1, 1, 1526);
    EXPECT_EQ(rx.used_idx(), 2);
    EXPECT_EQ(rx.used_elem(1).len, 12u + 242u);
    EXPECT_EQ(guest_bytes(kBuf + 0x800 + 12, 242), udp_frame(200));
}

TEST_F(NetTest, PartOfAMergedFrameWaitsForTheRest) {
    start();
    offer_rx(0, 1, 400);  // a 1000-byte frame needs three
    backend.push(udp_frame(958));
    EXPECT_EQ(rx.used_idx(), 0);  // nothing published for a frame not yet whole
    offer_rx(1, 2, 400);
    ASSERT_EQ(rx.used_idx(), 3);
    EXPECT_EQ(guest.get<NetHeader>(kBuf).num_buffers, 3);
}

TEST_F(NetTest, PendingFramesAreBoundedAndTheRestDropped) {
    start();
    for (size_t i = 0; i < VirtioNet::kMaxPendingFrames + 5; ++i) backend.push(udp_frame(20));
    EXPECT_EQ(net.counters().rx_dropped, 5u);
    offer_rx(0, 16, 1526);
    EXPECT_EQ(rx.used_idx(), 16);
    EXPECT_EQ(net.counters().rx_frames, 16u);
}

TEST_F(NetTest, OneChainPerFrameWithoutMergeableBuffers) {
    start(kDefaultFeatures & ~bit(VirtioNet::kFeatureMrgRxbuf));
    offer_rx(0, 2, 300);
    backend.push(udp_frame(500));  // does not fit one chain: dropped, the chain kept
    backend.push(udp_frame(100));
    ASSERT_EQ(rx.used_idx(), 1);
    EXPECT_EQ(rx.used_elem(0).id, 0u);
    EXPECT_EQ(guest.get<NetHeader>(kBuf).num_buffers, 1);
    EXPECT_EQ(guest_bytes(kBuf + 12, 142), udp_frame(100));
    EXPECT_EQ(net.counters().rx_dropped, 1u);
}

TEST_F(NetTest, FramesBeforeDriverOkOrAfterResetAreDropped) {
    backend.attach(&net);
    backend.push(udp_frame(10));
    EXPECT_EQ(net.counters().rx_dropped, 1u);
    start();
    backend.push(udp_frame(10));  // pending, no buffers
    driver.write(mmio::kStatus, 0);
    start();
    offer_rx(0, 1, 1526);
    EXPECT_EQ(rx.used_idx(), 0);  // the frame pending at the reset is gone
}

TEST_F(NetTest, ReceiveChainOutsideRamNeedsResetWithoutCrashing) {
    start();
    rx.set_desc(0, guest.end() - 8, 1526, kDescWrite);  // runs past the end of RAM
    rx.offer(0);
    backend.push(udp_frame(10));
    EXPECT_EQ(driver.read(mmio::kStatus) & kStatusNeedsReset, kStatusNeedsReset);
    EXPECT_EQ(rx.used_idx(), 0);
    backend.push(udp_frame(10));  // the device stays quiet until reset
    EXPECT_EQ(rx.used_idx(), 0);
}

TEST_F(NetTest, ReadableReceiveBufferNeedsReset) {
    start();
    rx.set_desc(0, kBuf, 1526, 0);  // device-readable: not a receive buffer
    rx.offer(0);
    driver.write(mmio::kQueueNotify, 0);
    backend.push(udp_frame(10));
    EXPECT_EQ(driver.read(mmio::kStatus) & kStatusNeedsReset, kStatusNeedsReset);
}

TEST_F(NetTest, LoopingTransmitChainNeedsReset) {
    start();
    tx.set_desc(0, kBuf, 12, kDescNext, 1);
    tx.set_desc(1, kBuf, 60, kDescNext, 0);  // back to the head
    tx.offer(0);
    driver.write(mmio::kQueueNotify, 1);
    EXPECT_EQ(driver.read(mmio::kStatus) & kStatusNeedsReset, kStatusNeedsReset);
    EXPECT_TRUE(backend.sent.empty());
}

TEST_F(NetTest, NoInterruptFlagIsHonoured) {
    start();
    rx.set_avail_flags(kAvailNoInterrupt);
    offer_rx(0, 1, 1526);
    backend.push(udp_frame(10));
    EXPECT_EQ(rx.used_idx(), 1);
    EXPECT_FALSE(irq.level);
}

TEST_F(NetTest, DetachedDeviceGetsNothing) {
    start();
    offer_rx(0, 1, 1526);
    backend.attach(nullptr);
    backend.push(udp_frame(10));
    EXPECT_EQ(rx.used_idx(), 0);
}

TEST(NetChecksum, FinishRefusesFieldsOutsideTheFrame) {
    Bytes frame(40);
    EXPECT_FALSE(vmm::net::finish_checksum(frame, 39, 0));
    EXPECT_FALSE(vmm::net::finish_checksum(frame, 41, 0));
    EXPECT_FALSE(vmm::net::finish_checksum(frame, 0, SIZE_MAX));
    EXPECT_FALSE(vmm::net::finish_checksum(frame, SIZE_MAX, 2));
    EXPECT_TRUE(vmm::net::finish_checksum(frame, 38, 0));
}

TEST(NetChecksum, ValidityNeedsAWholeIpv4Packet) {
    Bytes frame = udp_frame(20);
    set_partial_checksum(frame);
    ASSERT_TRUE(vmm::net::finish_checksum(frame, 34, 6));
    EXPECT_TRUE(vmm::net::checksums_valid(frame));
    EXPECT_FALSE(vmm::net::checksums_valid(std::span(frame).first(40)));  // truncated
    Bytes bad_ip = frame;
    bad_ip[22] = std::byte(63);  // TTL changed, IP checksum stale
    EXPECT_FALSE(vmm::net::checksums_valid(bad_ip));
    Bytes long_ip = frame;
    put16(long_ip, 16, 2000);  // total length past the frame
    EXPECT_FALSE(vmm::net::checksums_valid(long_ip));
}

}  // namespace
