// The legacy virtio-pci interface (virtio 1.2, 4.1.4.10 and the legacy parts of 4.1.5), for
// transitional devices that offer no modern capabilities (QEMU's disable-modern=on, older
// hypervisors): registers in I/O BAR 0, 32 feature bits, and per queue one register holding
// the page number of a ring laid out as 2.7.2 legacy (RingLayout::Legacy), whose size the
// device alone chooses.
#pragma once

#include <cstdint>

#include "kernel/drivers/virtio/transport.h"

namespace kernel::drivers::virtio {

class LegacyPciDevice final : public Transport {
public:
    // [io_base, io_base + io_size) is the BAR, checked by the caller to lie in I/O space and
    // to reach past `config_offset` (where the device configuration starts).
    LegacyPciDevice(const char* location, uint32_t device_id, uint16_t io_base, uint32_t io_size,
                    uint16_t config_offset);

    // The device's queue size, which must be a power of two no larger than
    // DriverQueue::kMaxSize (OpNotSupp otherwise); `max_size` cannot shrink it.
    lib::Result<lib::virtio::DriverQueue*> setup_queue(uint16_t index, uint16_t max_size) override;
    void notify(uint16_t queue_index) override;
    uint32_t read_config32(uint32_t offset) const override;
    // No generation counter in the legacy interface: read until two reads agree.
    uint64_t read_config64(uint32_t offset) const override;

protected:
    uint8_t status() const override;
    void set_status(uint8_t status) override;
    uint64_t device_features() override;
    void set_driver_features(uint64_t features) override;
    bool legacy() const override { return true; }

private:
    uint16_t port(uint16_t offset) const { return uint16_t(m_io_base + offset); }

    uint16_t m_io_base;
    uint32_t m_io_size;
    uint16_t m_config_offset;
    lib::virtio::DriverQueue* m_queues[kMaxQueues] = {};
};

}  // namespace kernel::drivers::virtio
