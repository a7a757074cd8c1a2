// A 16550A UART (COM1): the console. Transmitted bytes go to an output sink (phx's stdout),
// buffered and flushed per line; received bytes come from a queue another thread fills
// (phx's stdin). The guest may poll LSR or enable the receive interrupt (IRQ 4).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>

#include "vmm/devices/mmio_device.h"
#include "vmm/devices/pio_device.h"

namespace vmm {

// Host input waiting for the guest. It outlives each VM (one per run), so keys typed across a
// reboot are not lost; thread-safe between the input thread and the vCPU thread.
class SerialInput {
public:
    void push(const char* data, size_t length);
    bool empty();
    bool pop(char& c);
    // Called (from the pushing thread, under the queue's lock) after input arrives; set while a
    // VM runs. Once set_listener(nullptr) returns, the old listener is not running and never
    // will be, so its owner may go away.
    void set_listener(std::function<void()> listener);

private:
    static constexpr size_t kMaxQueued = 64 * 1024;
    std::mutex m_lock;
    std::deque<char> m_queue;
    std::function<void()> m_listener;
};

class Serial final : public PioDevice {
public:
    static constexpr uint16_t kCom1Base = 0x3f8;
    static constexpr uint16_t kPortCount = 8;
    static constexpr uint32_t kIrq = 4;
    using Sink = std::function<void(const char* data, size_t length)>;

    // input may be null (no stdin); irq may be null (polling only). Input raises the IRQ only
    // between connect_input() and disconnect_input(): a VM built ahead of time (the standby)
    // must not take the running VM's input.
    Serial(Sink sink, SerialInput* input, IrqLine* irq);
    ~Serial() override;
    void connect_input();
    void disconnect_input();

    void pio_read(uint16_t offset, std::span<std::byte> data) override;
    void pio_write(uint16_t offset, std::span<const std::byte> data) override;

    // Writes buffered output to the sink.
    void flush();

private:
    static constexpr size_t kFlushBytes = 4096;

    uint8_t read_register(uint16_t offset);
    void write_register(uint16_t offset, uint8_t value);
    uint8_t interrupt_identification();
    void update_irq();
    bool input_ready();

    Sink m_sink;
    SerialInput* m_input;
    IrqLine* m_irq;
    std::string m_output;
    std::atomic<uint8_t> m_ier = 0;  // read by the input thread too
    uint8_t m_lcr = 0, m_mcr = 0, m_scr = 0, m_dll = 1, m_dlm = 0;
    bool m_fifo = false;
    bool m_thr_interrupt = false;  // THRE interrupt pending until IIR is read or THR written
    bool m_connected = false;
};

}  // namespace vmm
