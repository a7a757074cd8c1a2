// MC146818 CMOS RTC reader (ports 0x70/0x71). Reads twice until two reads agree, so an update
// in the middle cannot tear the value.
#include "kernel/time/rtc.h"

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/time/clock.h"

namespace kernel::time {

namespace {

uint8_t cmos(uint8_t reg) {
    arch::outb(0x70, reg);
    return arch::inb(0x71);
}

struct RtcTime {
    uint8_t second, minute, hour, day, month, year, century;
    bool operator==(const RtcTime&) const = default;
};

RtcTime read_once() {
    for (int i = 0; i < 100000 && (cmos(0x0a) & 0x80); ++i) arch::pause();  // update running
    return {cmos(0x00), cmos(0x02), cmos(0x04), cmos(0x07), cmos(0x08), cmos(0x09), cmos(0x32)};
}

uint8_t from_bcd(uint8_t v) { return uint8_t((v & 0x0f) + (v >> 4) * 10); }

}  // namespace

uint64_t read_rtc_seconds() {
    RtcTime t = read_once();
    for (int i = 0; i < 5; ++i) {
        RtcTime again = read_once();
        if (again == t) break;
        t = again;
    }
    uint8_t status_b = cmos(0x0b);
    bool pm = t.hour & 0x80;
    t.hour &= 0x7f;
    if (!(status_b & 0x04)) {  // BCD
        t.second = from_bcd(t.second);
        t.minute = from_bcd(t.minute);
        t.hour = from_bcd(t.hour);
        t.day = from_bcd(t.day);
        t.month = from_bcd(t.month);
        t.year = from_bcd(t.year);
        t.century = from_bcd(t.century);
    }
    if (!(status_b & 0x02) && pm) t.hour = uint8_t((t.hour % 12) + 12);  // 12-hour mode
    int64_t year = (t.century >= 19 && t.century <= 30 ? t.century : 20) * 100 + t.year;
    if (t.month < 1 || t.month > 12 || t.day < 1 || t.day > 31) return 0;
    int64_t days = days_from_civil(year, t.month, t.day);
    if (days < 0) return 0;
    return uint64_t(days) * 86400 + t.hour * 3600u + t.minute * 60u + t.second;
}

}  // namespace kernel::time
