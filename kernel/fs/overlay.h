// The root overlay: a writable memfs (upper) over the image's read-only ext2 root (lower),
// after Linux's overlayfs (Documentation/filesystems/overlayfs.rst), all in RAM, so every boot
// starts from the pristine image.
//
// - Lookups see the upper layer first, then the lower one; a directory in both is merged and
//   listed as the union (upper entries shadow lower ones of the same name).
// - Writing to a lower file (open for writing, truncate, chmod, chown, utimes, link, rename)
//   copies it up first: the whole file into memfs (only its metadata when it is being
//   truncated to zero), its parents as directories. A lower file that is only read is never
//   copied: its pages stay the page cache's, which is what ld.so's mmaps rely on.
// - unlink, rmdir and rename of names the lower layer has leave whiteouts in the upper
//   directory; a directory created where a whiteout is (or moved anywhere) is opaque: nothing
//   of the lower layer shows through it.
// - Inode numbers: a lower file keeps its ext2 number, also once copied up (the copy carries
//   it, as overlayfs' "origin"); files born in the upper layer count from 2^32. st_dev is the
//   overlay's for every file.
// - Renaming a directory that exists in the lower layer is EXDEV, as on overlayfs without
//   redirect_dir (mv falls back to copying). Hard links work on copied-up files; a lower file
//   that already had several names is copied once per name (the names drift apart).
// - An inode opened before its file was copied up through another path follows the copy from
//   then on (as Linux since 4.19); one whose path was deleted keeps reading the lower data.
#pragma once

#include "kernel/fs/memfs.h"
#include "kernel/fs/vfs.h"

namespace kernel::fs {

inline constexpr uint64_t kOverlayDev = 0x801;  // st_dev of "/", like /dev/sda1

// The overlay of `upper` over `lower_root` (a reference taken over): its root directory.
lib::Result<Inode*> make_overlay(Memfs& upper, Inode* lower_root);

}  // namespace kernel::fs
