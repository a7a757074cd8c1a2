// The 16550 UART on COM1: the console (program stdout/stderr, kernel log, stdin).
#pragma once

#include <cstddef>
#include <string_view>

namespace kernel::console {

void init_serial();
void serial_write(std::string_view text);
// Reads what is available, waiting for at least one byte.
size_t serial_read(char* buffer, size_t capacity);
// Whether a received byte is waiting (LSR data ready).
bool serial_input_ready();

}  // namespace kernel::console
