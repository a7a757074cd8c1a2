// Inodes of the image's ext2 filesystem (lib/fs/ext2), read-only.
#pragma once

#include "kernel/fs/disk_cache.h"
#include "kernel/fs/vfs.h"
#include "lib/fs/ext2/volume.h"

namespace kernel::fs {

// The root directory inode of `volume` (copied; `device` must live for good).
lib::Result<Inode*> open_ext2_root(PartitionDevice& device, const lib::fs::ext2::Volume& volume);

}  // namespace kernel::fs
