#include "vmm/devices/serial.h"

namespace vmm {

namespace {

constexpr uint16_t kData = 0, kIer = 1, kIir = 2, kLcr = 3, kMcr = 4, kLsr = 5, kMsr = 6, kScr = 7;
constexpr uint8_t kLcrDlab = 0x80;
constexpr uint8_t kIerReceive = 0x01, kIerTransmit = 0x02;
constexpr uint8_t kLsrDataReady = 0x01, kLsrThrEmpty = 0x20, kLsrIdle = 0x40;
constexpr uint8_t kIirNone = 0x01, kIirThrEmpty = 0x02, kIirReceive = 0x04, kIirFifo = 0xc0;
constexpr uint8_t kMsrConnected = 0xb0;  // DCD, DSR, CTS

}  // namespace

void SerialInput::push(const char* data, size_t length) {
    std::lock_guard lock(m_lock);
    for (size_t i = 0; i < length && m_queue.size() < kMaxQueued; ++i) m_queue.push_back(data[i]);
    if (m_listener) m_listener();
}

bool SerialInput::empty() {
    std::lock_guard lock(m_lock);
    return m_queue.empty();
}

bool SerialInput::pop(char& c) {
    std::lock_guard lock(m_lock);
    if (m_queue.empty()) return false;
    c = m_queue.front();
    m_queue.pop_front();
    return true;
}

void SerialInput::set_listener(std::function<void()> listener) {
    std::lock_guard lock(m_lock);
    m_listener = std::move(listener);
}

Serial::Serial(Sink sink, SerialInput* input, IrqLine* irq)
    : m_sink(std::move(sink)), m_input(input), m_irq(irq) {}

Serial::~Serial() {
    disconnect_input();
    flush();
}

void Serial::connect_input() {
    if (!m_input || !m_irq || m_connected) return;
    m_input->set_listener([this] {
        if (m_ier & kIerReceive) m_irq->set_level(true);
    });
    m_connected = true;
}

void Serial::disconnect_input() {
    if (!m_connected) return;
    m_input->set_listener(nullptr);
    m_connected = false;
}

bool Serial::input_ready() { return m_input && !m_input->empty(); }

uint8_t Serial::interrupt_identification() {
    uint8_t fifo = m_fifo ? kIirFifo : 0;
    if ((m_ier & kIerReceive) && input_ready()) return fifo | kIirReceive;
    if ((m_ier & kIerTransmit) && m_thr_interrupt) return fifo | kIirThrEmpty;
    return fifo | kIirNone;
}

void Serial::update_irq() {
    if (m_irq) m_irq->set_level(!(interrupt_identification() & kIirNone));
}

uint8_t Serial::read_register(uint16_t offset) {
    bool dlab = m_lcr & kLcrDlab;
    switch (offset) {
        case kData: {
            if (dlab) return m_dll;
            flush();  // a program reading input has usually just printed a prompt
            char c = 0;
            if (!m_input || !m_input->pop(c)) return 0;
            update_irq();
            return uint8_t(c);
        }
        case kIer:
            return dlab ? m_dlm : m_ier.load();
        case kIir: {
            uint8_t iir = interrupt_identification();
            if ((iir & 0x0f) == kIirThrEmpty) {
                m_thr_interrupt = false;
                update_irq();
            }
            return iir;
        }
        case kLcr:
            return m_lcr;
        case kMcr:
            return m_mcr;
        case kLsr:
            return kLsrThrEmpty | kLsrIdle | (input_ready() ? kLsrDataReady : 0);
        case kMsr:
            return kMsrConnected;
        case kScr:
            return m_scr;
    }
    return 0xff;
}

void Serial::write_register(uint16_t offset, uint8_t value) {
    bool dlab = m_lcr & kLcrDlab;
    switch (offset) {
        case kData:
            if (dlab) {
                m_dll = value;
                return;
            }
            m_output.push_back(char(value));
            if (value == '\n' || m_output.size() >= kFlushBytes) flush();
            m_thr_interrupt = true;  // the byte left at once: THR is empty again
            break;
        case kIer:
            if (dlab) {
                m_dlm = value;
                return;
            }
            // Enabling the THRE interrupt while THR is empty raises it at once.
            if ((value & kIerTransmit) && !(m_ier & kIerTransmit)) m_thr_interrupt = true;
            m_ier = value & 0x0f;
            break;
        case kIir:  // FCR
            // A receive-FIFO reset does not drop the host's queue: that is input phx's stdin
            // already delivered (a pipe's contents, keys typed during a reboot), not bytes in
            // a hardware FIFO, and the guest resets the FIFO as it boots.
            m_fifo = value & 1;
            break;
        case kLcr:
            m_lcr = value;
            return;
        case kMcr:
            m_mcr = value & 0x1f;
            return;
        case kScr:
            m_scr = value;
            return;
        default:
            return;  // LSR and MSR are read-only
    }
    update_irq();
}

void Serial::pio_read(uint16_t offset, std::span<std::byte> data) {
    for (size_t i = 0; i < data.size(); ++i)
        data[i] = std::byte(offset + i < kPortCount ? read_register(uint16_t(offset + i)) : 0xff);
}

void Serial::pio_write(uint16_t offset, std::span<const std::byte> data) {
    // Wider accesses write consecutive registers, as the ISA bus would split them.
    for (size_t i = 0; i < data.size(); ++i)
        if (offset + i < kPortCount) write_register(uint16_t(offset + i), uint8_t(data[i]));
}

void Serial::flush() {
    if (m_output.empty()) return;
    if (m_sink) m_sink(m_output.data(), m_output.size());
    m_output.clear();
}

}  // namespace vmm
