#include "vmm/kvm/exit_handler.h"

#include <cstring>

namespace vmm {

void DeviceBus::add_pio(uint16_t base, uint16_t count, PioDevice& device) {
    m_pio.push_back({base, count, &device});
}

void DeviceBus::add_mmio(uint64_t base, uint64_t size, MmioDevice& device) {
    m_mmio.push_back({base, size, &device});
}

void DeviceBus::pio(uint16_t port, bool write, std::span<std::byte> data) {
    for (const PioRange& range : m_pio) {
        if (port < range.base || port - range.base >= range.count) continue;
        uint16_t offset = uint16_t(port - range.base);
        if (write)
            range.device->pio_write(offset, data);
        else
            range.device->pio_read(offset, data);
        return;
    }
    if (!write) std::memset(data.data(), 0xff, data.size());
}

void DeviceBus::mmio(uint64_t address, bool write, std::span<std::byte> data) {
    for (const MmioRange& range : m_mmio) {
        if (address < range.base || address - range.base >= range.size) continue;
        uint64_t offset = address - range.base;
        if (write)
            range.device->mmio_write(offset, data);
        else
            range.device->mmio_read(offset, data);
        return;
    }
    if (!write) std::memset(data.data(), 0, data.size());
}

namespace {

ExitResult handle_io(kvm_run& run, size_t run_size, DeviceBus& bus, std::string& error) {
    auto& io = run.io;
    size_t size = io.size;
    if ((size != 1 && size != 2 && size != 4) || io.count == 0 || io.data_offset > run_size ||
        size * io.count > run_size - io.data_offset) {
        error = "malformed KVM_EXIT_IO record";
        return ExitResult::Failed;
    }
    auto* data = reinterpret_cast<std::byte*>(&run) + io.data_offset;
    bool write = io.direction == KVM_EXIT_IO_OUT;
    for (uint32_t i = 0; i < io.count; ++i) bus.pio(io.port, write, {data + i * size, size});
    return ExitResult::Continue;
}

}  // namespace

ExitResult handle_exit(kvm_run& run, size_t run_size, DeviceBus& bus, StopRequest& stop,
                       std::string& error) {
    switch (run.exit_reason) {
        case KVM_EXIT_IO:
            return handle_io(run, run_size, bus, error);
        case KVM_EXIT_MMIO: {
            uint32_t len = run.mmio.len;
            if (len == 0 || len > sizeof(run.mmio.data)) {
                error = "malformed KVM_EXIT_MMIO record";
                return ExitResult::Failed;
            }
            bus.mmio(run.mmio.phys_addr, run.mmio.is_write,
                     {reinterpret_cast<std::byte*>(run.mmio.data), len});
            return ExitResult::Continue;
        }
        case KVM_EXIT_IOAPIC_EOI:
            bus.end_of_interrupt(run.eoi.vector);
            return ExitResult::Continue;
        case KVM_EXIT_SHUTDOWN:
            // A triple fault: the CPU resets, which for us means a fresh VM.
            if (stop.kind == StopKind::None) stop = {StopKind::Reset, 0, "triple fault"};
            return ExitResult::Continue;
        case KVM_EXIT_SYSTEM_EVENT:
            if (run.system_event.type == KVM_SYSTEM_EVENT_RESET) {
                if (stop.kind == StopKind::None) stop = {StopKind::Reset, 0, "system reset"};
                return ExitResult::Continue;
            }
            error = "KVM system event " + std::to_string(run.system_event.type);
            return ExitResult::Failed;
        case KVM_EXIT_HLT:
            error = "the vCPU halted with no interrupt controller to wake it";
            return ExitResult::Failed;
        case KVM_EXIT_FAIL_ENTRY:
            error = "KVM could not enter the guest (hardware entry failure reason " +
                    std::to_string(run.fail_entry.hardware_entry_failure_reason) + ")";
            return ExitResult::Failed;
        case KVM_EXIT_INTERNAL_ERROR:
            error = "KVM internal error (suberror " + std::to_string(run.internal.suberror) + ")";
            return ExitResult::Failed;
        default:
            error = "unexpected KVM exit reason " + std::to_string(run.exit_reason);
            return ExitResult::Failed;
    }
}

}  // namespace vmm
