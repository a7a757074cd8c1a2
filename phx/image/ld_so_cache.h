// /etc/ld.so.cache for an image: the libraries phx put in it, in glibc's own format
// ("glibc-ld.so.cache1.1", sysdeps/generic/dl-cache.h), so that ld.so opens each library at
// once instead of probing every glibc-hwcaps and default directory for it (each probe is a
// failed open and stat, and the guest kernel pays for every one on every boot).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace phx {

struct LdCacheEntry {
    std::string name;  // what DT_NEEDED asks for (a soname)
    std::string path;  // the absolute path in the image
};

// The cache's bytes. Entries come out in the order ld.so's binary search expects (descending
// by its comparison, digits compared as numbers); of two entries with one name the first wins.
// All x86-64 libc6 libraries, without hwcaps.
std::vector<std::byte> build_ld_so_cache(std::vector<LdCacheEntry> entries);

// glibc's _dl_cache_libcmp: strcmp, except that runs of digits compare as numbers.
int ld_cache_compare(const std::string& a, const std::string& b);

}  // namespace phx
