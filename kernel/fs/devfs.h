// /dev: the character devices programs open by name (null, zero, full, random, urandom, tty,
// console), the standard streams as links into /proc/self/fd, /dev/shm for POSIX shared memory
// (a tmpfs is mounted over it: glibc's shm_open works there) and an empty /dev/pts.
#pragma once

#include <cstdint>
#include <string_view>

#include "lib/base/result.h"

namespace kernel::sys {
struct LinuxStat;
}

namespace kernel::fs {

class File;
class Inode;

enum class Device : uint8_t { Null, Zero, Full, Random, Urandom, Tty, Console };

// The devfs root directory (a new reference).
lib::Result<Inode*> make_devfs_root();
// A description of `device` opened through its node `node` by `path`. NoMem.
lib::Result<File*> open_device(Inode& node, Device device, int flags, std::string_view path);
// st_rdev: Linux's numbers (null 1:3, zero 1:5, full 1:7, random 1:8, urandom 1:9, tty 5:0,
// console 5:1).
uint64_t device_number(Device device);
// What stat says of the node of `device`: the console's descriptions report their node.
void device_stat(Device device, sys::LinuxStat& out);

}  // namespace kernel::fs
