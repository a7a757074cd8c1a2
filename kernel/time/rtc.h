// The CMOS real-time clock: whole seconds since the epoch, for the realtime clock's anchor when
// the hypervisor offers no wall clock.
#pragma once

#include <cstdint>

namespace kernel::time {

uint64_t read_rtc_seconds();

}  // namespace kernel::time
