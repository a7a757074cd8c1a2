// The virtio-mmio transport's register map (virtio 1.2, section 4.2.2, version 2 "modern"
// layout), shared by the kernel's transport driver and the VMM's device model. All registers
// are 32 bits wide and little-endian; the device-specific configuration space starts at
// kMmioConfig.
#pragma once

#include <cstdint>

namespace lib::virtio::mmio {

inline constexpr uint32_t kMagicValue = 0x000;  // reads 0x74726976 ("virt")
inline constexpr uint32_t kVersion = 0x004;     // 2 for the modern layout
inline constexpr uint32_t kDeviceId = 0x008;    // 0: no device here
inline constexpr uint32_t kVendorId = 0x00c;
inline constexpr uint32_t kDeviceFeatures = 0x010;
inline constexpr uint32_t kDeviceFeaturesSel = 0x014;
inline constexpr uint32_t kDriverFeatures = 0x020;
inline constexpr uint32_t kDriverFeaturesSel = 0x024;
inline constexpr uint32_t kQueueSel = 0x030;
inline constexpr uint32_t kQueueNumMax = 0x034;
inline constexpr uint32_t kQueueNum = 0x038;
inline constexpr uint32_t kQueueReady = 0x044;
inline constexpr uint32_t kQueueNotify = 0x050;
inline constexpr uint32_t kInterruptStatus = 0x060;
inline constexpr uint32_t kInterruptAck = 0x064;
inline constexpr uint32_t kStatus = 0x070;
inline constexpr uint32_t kQueueDescLow = 0x080;
inline constexpr uint32_t kQueueDescHigh = 0x084;
inline constexpr uint32_t kQueueDriverLow = 0x090;
inline constexpr uint32_t kQueueDriverHigh = 0x094;
inline constexpr uint32_t kQueueDeviceLow = 0x0a0;
inline constexpr uint32_t kQueueDeviceHigh = 0x0a4;
inline constexpr uint32_t kShmSel = 0x0ac;
inline constexpr uint32_t kShmLenLow = 0x0b0;
inline constexpr uint32_t kShmLenHigh = 0x0b4;
inline constexpr uint32_t kShmBaseLow = 0x0b8;
inline constexpr uint32_t kShmBaseHigh = 0x0bc;
inline constexpr uint32_t kQueueReset = 0x0c0;
inline constexpr uint32_t kConfigGeneration = 0x0fc;
inline constexpr uint32_t kConfig = 0x100;

inline constexpr uint32_t kMagic = 0x74726976;
inline constexpr uint32_t kModernVersion = 2;

// InterruptStatus / InterruptAck bits.
inline constexpr uint32_t kInterruptUsedBuffer = 1;
inline constexpr uint32_t kInterruptConfigChange = 2;

// The size of one device's register window as the VMM lays devices out.
inline constexpr uint64_t kWindowSize = 0x1000;

}  // namespace lib::virtio::mmio
