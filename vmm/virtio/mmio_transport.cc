// virtio-mmio v2 register model (virtio 1.2, 4.2.2 and 4.2.3), status state machine (2.1,
// 3.1.1) and feature negotiation (2.2).
#include "vmm/virtio/mmio_transport.h"

#include <algorithm>
#include <cstring>

#include "lib/virtio/mmio_regs.h"

namespace vmm::virtio {

namespace mmio = lib::virtio::mmio;
using lib::virtio::kStatusDriverOk;
using lib::virtio::kStatusFeaturesOk;
using lib::virtio::kStatusNeedsReset;

VirtioMmioTransport::VirtioMmioTransport(const GuestMemory& memory,
                                         std::unique_ptr<VirtioDevice> device, IrqLine& irq)
    : m_device(std::move(device)),
      m_irq(&irq),
      m_offered_features(m_device->device_features() | kTransportFeatures) {
    uint16_t count = m_device->queue_count();
    m_queues.reserve(count);
    for (uint16_t q = 0; q < count; ++q) m_queues.emplace_back(memory, m_device->max_queue_size(q));
    m_device->attach_host(*this);
}

void VirtioMmioTransport::mmio_read(uint64_t offset, std::span<std::byte> data) {
    std::lock_guard lock(m_lock);
    std::fill(data.begin(), data.end(), std::byte{0});
    if (offset >= mmio::kConfig) {
        if (offset < mmio::kWindowSize) m_device->read_config(offset - mmio::kConfig, data);
        return;
    }
    // 4.2.2: registers are 32 bits wide and accessed as such; anything else reads as zero.
    if (data.size() != sizeof(uint32_t) || offset % sizeof(uint32_t) != 0) return;
    uint32_t value = read_register(offset);
    std::memcpy(data.data(), &value, sizeof(value));
}

void VirtioMmioTransport::mmio_write(uint64_t offset, std::span<const std::byte> data) {
    std::lock_guard lock(m_lock);
    if (offset >= mmio::kConfig) {
        if (offset < mmio::kWindowSize) m_device->write_config(offset - mmio::kConfig, data);
        return;
    }
    if (data.size() != sizeof(uint32_t) || offset % sizeof(uint32_t) != 0) return;
    uint32_t value;
    std::memcpy(&value, data.data(), sizeof(value));
    write_register(offset, value);
}

uint32_t VirtioMmioTransport::read_register(uint64_t offset) const {
    const Virtqueue* queue = selected_queue();
    switch (offset) {
        case mmio::kMagicValue:
            return mmio::kMagic;
        case mmio::kVersion:
            return mmio::kModernVersion;
        case mmio::kDeviceId:
            return m_device->device_id();
        case mmio::kVendorId:
            return kVendorId;
        case mmio::kDeviceFeatures:
            if (m_device_features_sel > 1) return 0;
            return uint32_t(m_offered_features >> (32 * m_device_features_sel));
        case mmio::kQueueNumMax:
            return queue ? queue->max_size() : 0;
        case mmio::kQueueReady:
            return queue && queue->ready() ? 1 : 0;
        case mmio::kInterruptStatus:
            return m_interrupt_status;
        case mmio::kStatus:
            return m_status;
        case mmio::kConfigGeneration:
            return m_config_generation;
        // 4.2.2: no shared memory regions; a missing region reads as length -1.
        case mmio::kShmLenLow:
        case mmio::kShmLenHigh:
        case mmio::kShmBaseLow:
        case mmio::kShmBaseHigh:
            return UINT32_MAX;
        default:
            return 0;  // write-only and unknown registers
    }
}

void VirtioMmioTransport::write_register(uint64_t offset, uint32_t value) {
    Virtqueue* queue = selected_queue();
    switch (offset) {
        case mmio::kDeviceFeaturesSel:
            m_device_features_sel = value;
            return;
        case mmio::kDriverFeatures:
            // 3.1.1: features are fixed once FEATURES_OK is set.
            if (m_driver_features_sel > 1 || (m_status & kStatusFeaturesOk)) return;
            m_driver_features &= ~(uint64_t(UINT32_MAX) << (32 * m_driver_features_sel));
            m_driver_features |= uint64_t(value) << (32 * m_driver_features_sel);
            return;
        case mmio::kDriverFeaturesSel:
            m_driver_features_sel = value;
            return;
        case mmio::kQueueSel:
            m_queue_sel = value;
            return;
        case mmio::kQueueNum:
            // A value no queue can have becomes 0, which QueueReady then refuses.
            if (queue && !queue->ready())
                queue->set_size(value <= UINT16_MAX ? uint16_t(value) : 0);
            return;
        case mmio::kQueueReady:
            write_queue_ready(value);
            return;
        case mmio::kQueueNotify:
            notify(value);
            return;
        case mmio::kInterruptAck:
            ack_interrupt(value);
            return;
        case mmio::kStatus:
            write_status(value);
            return;
        case mmio::kQueueDescLow:
        case mmio::kQueueDescHigh:
        case mmio::kQueueDriverLow:
        case mmio::kQueueDriverHigh:
        case mmio::kQueueDeviceLow:
        case mmio::kQueueDeviceHigh:
            write_queue_addr(offset, value);
            return;
        default:
            return;  // read-only and unknown registers
    }
}

Virtqueue* VirtioMmioTransport::selected_queue() {
    return m_queue_sel < m_queues.size() ? &m_queues[m_queue_sel] : nullptr;
}

const Virtqueue* VirtioMmioTransport::selected_queue() const {
    return m_queue_sel < m_queues.size() ? &m_queues[m_queue_sel] : nullptr;
}

void VirtioMmioTransport::write_queue_addr(uint64_t offset, uint32_t value) {
    Virtqueue* queue = selected_queue();
    if (!queue || queue->ready()) return;  // 4.2.3.2: fixed while the queue is ready
    auto merge = [&](uint64_t old) {
        bool high = offset % 8 == 4;
        return high ? (old & UINT32_MAX) | (uint64_t(value) << 32)
                    : (old & ~uint64_t(UINT32_MAX)) | value;
    };
    if (offset < mmio::kQueueDriverLow)
        queue->set_desc_addr(merge(queue->desc_addr()));
    else if (offset < mmio::kQueueDeviceLow)
        queue->set_avail_addr(merge(queue->avail_addr()));
    else
        queue->set_used_addr(merge(queue->used_addr()));
}

void VirtioMmioTransport::write_queue_ready(uint32_t value) {
    Virtqueue* queue = selected_queue();
    if (!queue) return;
    if (value == 0) {
        queue->disable();  // Linux's teardown writes 0 and reads it back
        return;
    }
    if (queue->ready()) return;  // already validated; the configuration cannot have changed
    // Ring addresses outside RAM or misaligned: the queue stays off and the driver is told.
    if (queue->enable().is_error()) enter_needs_reset();
}

void VirtioMmioTransport::write_status(uint32_t value) {
    if (value == 0) {
        reset();
        return;
    }
    // DEVICE_NEEDS_RESET belongs to the device; the driver never clears a bit but by reset.
    uint32_t old = m_status & ~kStatusNeedsReset;
    value &= ~kStatusNeedsReset;
    if ((value & old) != old) return;
    uint32_t added = value & ~old;
    if (added & kStatusFeaturesOk) {
        // 3.1.1 step 5/6: refused features leave FEATURES_OK clear for the driver to see.
        if (accept_features()) {
            for (Virtqueue& queue : m_queues) queue.set_features(m_driver_features);
        } else {
            value &= ~kStatusFeaturesOk;
        }
    }
    if (!(value & kStatusFeaturesOk)) value &= ~kStatusDriverOk;  // DRIVER_OK needs features
    m_status = value | (m_status & kStatusNeedsReset);
    if ((added & value & kStatusDriverOk) && m_device->activate(m_driver_features).is_error())
        enter_needs_reset();
}

bool VirtioMmioTransport::accept_features() const {
    bool subset = (m_driver_features & ~m_offered_features) == 0;
    bool modern = m_driver_features & (uint64_t(1) << lib::virtio::kFeatureVersion1);
    return subset && modern;
}

void VirtioMmioTransport::notify(uint32_t value) {
    // 2.1.2 / 3.1.1: nothing is processed before DRIVER_OK or after the device gave up.
    if (!(m_status & kStatusDriverOk) || (m_status & kStatusNeedsReset)) return;
    uint32_t q = value & UINT16_MAX;  // the high half is notification data, not negotiated
    if (q >= m_queues.size() || !m_queues[q].ready()) return;
    auto used = m_device->queue_notify(uint16_t(q), m_queues[q]);
    if (used.is_error()) {
        enter_needs_reset();
        return;
    }
    if (used.value() && m_queues[q].needs_interrupt()) raise_interrupt(mmio::kInterruptUsedBuffer);
}

void VirtioMmioTransport::process_queue(
    uint16_t q, const std::function<lib::Result<bool>(Virtqueue&)>& work) {
    std::lock_guard lock(m_lock);
    if (!(m_status & kStatusDriverOk) || (m_status & kStatusNeedsReset)) return;
    if (q >= m_queues.size() || !m_queues[q].ready()) return;
    auto used = work(m_queues[q]);
    if (used.is_error()) {
        enter_needs_reset();
        return;
    }
    if (used.value() && m_queues[q].needs_interrupt()) raise_interrupt(mmio::kInterruptUsedBuffer);
}

void VirtioMmioTransport::enter_needs_reset() {
    m_status |= kStatusNeedsReset;
    // 2.1.2: a driver that is running hears about it through a configuration change interrupt.
    if (m_status & kStatusDriverOk) raise_interrupt(mmio::kInterruptConfigChange);
}

void VirtioMmioTransport::raise_interrupt(uint32_t bits) {
    m_interrupt_status |= bits;
    m_irq->set_level(true);
}

void VirtioMmioTransport::ack_interrupt(uint32_t bits) {
    if (m_interrupt_status == 0) return;
    m_interrupt_status &= ~bits;
    if (m_interrupt_status == 0) m_irq->set_level(false);
}

void VirtioMmioTransport::reset() {
    m_device->reset();
    for (Virtqueue& queue : m_queues) queue.reset();
    m_driver_features = 0;
    m_device_features_sel = m_driver_features_sel = m_queue_sel = 0;
    m_status = 0;
    if (m_interrupt_status != 0) m_irq->set_level(false);
    m_interrupt_status = 0;
}

}  // namespace vmm::virtio
