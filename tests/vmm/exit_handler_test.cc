// handle_exit over hand-made kvm_run records: port and MMIO exits reach their devices,
// malformed records stop the VM with a reason, resets and EOIs go where they belong.
#include "vmm/kvm/exit_handler.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace {

using vmm::ExitResult;
using vmm::StopKind;
using vmm::StopRequest;

class RecordingPio final : public vmm::PioDevice {
public:
    void pio_read(uint16_t offset, std::span<std::byte> data) override {
        reads.push_back(offset);
        std::memset(data.data(), 0x5a, data.size());
    }
    void pio_write(uint16_t offset, std::span<const std::byte> data) override {
        writes.push_back({offset, uint8_t(data[0])});
    }
    std::vector<uint16_t> reads;
    std::vector<std::pair<uint16_t, uint8_t>> writes;
};

class NullSink final : public vmm::MsiSink {
public:
    void signal(const vmm::MsiMessage&) override { ++signals; }
    void set_routes(const std::array<vmm::MsiMessage, 24>&, const std::array<bool, 24>&) override {}
    int signals = 0;
};

// A kvm_run with room behind it for string I/O data, as KVM maps it.
struct Record {
    alignas(kvm_run) std::byte bytes[8192] = {};
    kvm_run& run() { return *reinterpret_cast<kvm_run*>(bytes); }
};

TEST(ExitHandler, PortWritesAndReadsReachTheDevice) {
    vmm::DeviceBus bus;
    RecordingPio device;
    bus.add_pio(0x3f8, 8, device);
    Record record;
    kvm_run& run = record.run();
    run.exit_reason = KVM_EXIT_IO;
    run.io = {KVM_EXIT_IO_OUT, 1, 0x3f9, 3, 4096};
    std::memcpy(record.bytes + 4096, "abc", 3);  // rep outsb of three bytes
    StopRequest stop;
    std::string error;
    ASSERT_EQ(vmm::handle_exit(run, sizeof(record.bytes), bus, stop, error), ExitResult::Continue);
    ASSERT_EQ(device.writes.size(), 3u);
    EXPECT_EQ(device.writes[2], (std::pair<uint16_t, uint8_t>{1, 'c'}));
    run.io = {KVM_EXIT_IO_IN, 1, 0x3ff, 1, 4096};
    ASSERT_EQ(vmm::handle_exit(run, sizeof(record.bytes), bus, stop, error), ExitResult::Continue);
    EXPECT_EQ(device.reads.back(), 7);
    run.io = {KVM_EXIT_IO_IN, 1, 0x80, 1, 4096};  // nobody there: all ones
    ASSERT_EQ(vmm::handle_exit(run, sizeof(record.bytes), bus, stop, error), ExitResult::Continue);
    EXPECT_EQ(record.bytes[4096], std::byte{0xff});
    EXPECT_EQ(stop.kind, StopKind::None);
}

TEST(ExitHandler, MalformedIoRecordsStopTheVm) {
    vmm::DeviceBus bus;
    Record record;
    kvm_run& run = record.run();
    run.exit_reason = KVM_EXIT_IO;
    StopRequest stop;
    std::string error;
    run.io = {KVM_EXIT_IO_OUT, 3, 0x3f8, 1, 4096};  // size 3
    EXPECT_EQ(vmm::handle_exit(run, sizeof(record.bytes), bus, stop, error), ExitResult::Failed);
    run.io = {KVM_EXIT_IO_OUT, 4, 0x3f8, 2000, 4096};  // data past the mapping
    EXPECT_EQ(vmm::handle_exit(run, sizeof(record.bytes), bus, stop, error), ExitResult::Failed);
    run.io = {KVM_EXIT_IO_OUT, 1, 0x3f8, 1, 1u << 20};  // offset past the mapping
    EXPECT_EQ(vmm::handle_exit(run, sizeof(record.bytes), bus, stop, error), ExitResult::Failed);
    EXPECT_NE(error, "");
    run.exit_reason = KVM_EXIT_MMIO;
    run.mmio.len = 9;
    EXPECT_EQ(vmm::handle_exit(run, sizeof(record.bytes), bus, stop, error), ExitResult::Failed);
}

TEST(ExitHandler, TripleFaultResetsAndEoiReachesTheIoApic) {
    vmm::DeviceBus bus;
    NullSink sink;
    vmm::IoApic ioapic(sink);
    bus.set_eoi_listener(ioapic);
    bus.add_mmio(vmm::IoApic::kBase, vmm::IoApic::kSize, ioapic);
    Record record;
    kvm_run& run = record.run();
    StopRequest stop;
    std::string error;
    // The guest programs pin 5 level-triggered, vector 0x30, through MMIO exits.
    auto mmio_write = [&](uint64_t address, uint32_t value) {
        run.exit_reason = KVM_EXIT_MMIO;
        run.mmio.phys_addr = address;
        run.mmio.is_write = 1;
        run.mmio.len = 4;
        std::memcpy(run.mmio.data, &value, 4);
        ASSERT_EQ(vmm::handle_exit(run, sizeof(record.bytes), bus, stop, error),
                  ExitResult::Continue);
    };
    mmio_write(vmm::IoApic::kBase, 0x10 + 2 * 5);
    mmio_write(vmm::IoApic::kBase + 0x10, 0x30 | 1u << 15);
    ioapic.set_level(5, true);
    EXPECT_EQ(sink.signals, 1);
    run.exit_reason = KVM_EXIT_IOAPIC_EOI;
    run.eoi.vector = 0x30;
    ASSERT_EQ(vmm::handle_exit(run, sizeof(record.bytes), bus, stop, error), ExitResult::Continue);
    EXPECT_EQ(sink.signals, 2) << "the line is still high: delivered again after the EOI";

    run.exit_reason = KVM_EXIT_SHUTDOWN;
    ASSERT_EQ(vmm::handle_exit(run, sizeof(record.bytes), bus, stop, error), ExitResult::Continue);
    EXPECT_EQ(stop.kind, StopKind::Reset);
}

}  // namespace
