// Pseudo filesystems (/dev, /proc, /sys): read-only trees described by constant tables, so
// mounting one costs nothing at boot. As for ext2, an inode object is made per lookup; it
// points at its table node. Files are generated when opened (snapshot_file.h), link targets
// when read, and a numbered directory lists what exists when it is read (the fds under
// /proc/1/fd).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "kernel/fs/devfs.h"
#include "kernel/fs/vfs.h"

namespace kernel::fs {

class TextSink;

enum class PseudoKind : uint8_t {
    Directory,  // `children`
    Numbered,   // entries named by the numbers `scan` finds, each one `children[0]`
    File,       // `file` generates the contents
    Link,       // `link` generates the target
    Device,     // the character device `device`
};

// `argument`: the number a numbered directory's entry stands for (an fd), else 0.
using FileGenerator = void (*)(TextSink& out, uint64_t argument);
using LinkGenerator = void (*)(lib::FormatSink& out, uint64_t argument);
// The first number at or above `from` that has an entry, or kNoNumber.
using NumberScan = uint64_t (*)(uint64_t from);
inline constexpr uint64_t kNoNumber = ~uint64_t(0);

struct PseudoNode {
    std::string_view name;
    PseudoKind kind;
    uint16_t permissions = 0444;
    std::span<const PseudoNode> children = {};
    FileGenerator file = nullptr;
    LinkGenerator link = nullptr;
    NumberScan scan = nullptr;
    Device device = Device::Null;
};

struct PseudoFs {
    uint64_t dev;    // st_dev
    uint64_t magic;  // statfs f_type
    const PseudoNode& root;
};

// The root directory of `fs` (a new reference). NoMem.
lib::Result<Inode*> make_pseudo_root(const PseudoFs& fs);

// What stat reports for `node` (standing for `argument` in a numbered directory).
void pseudo_stat(const PseudoFs& fs, const PseudoNode& node, uint64_t argument,
                 sys::LinuxStat& out);

}  // namespace kernel::fs
