// phx/image's host pieces, without a VM: the dynamic-section reader and ld.so's search order
// (on shared objects gcc builds here, in a temporary tree), /etc/ld.so.cache, and the image
// tree (symlinks on the way recreated, conflicting paths refused).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "phx/error.h"
#include "phx/image/disk_image.h"
#include "phx/image/elf_deps.h"
#include "phx/image/ld_so_cache.h"

namespace {

namespace fs = std::filesystem;
using phx::Dependencies;
using phx::DependencyOptions;
using phx::ImageTree;
using phx::PhxError;

std::string make_temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "phx-elfdeps-XXXXXX").string();
    std::vector<char> name(pattern.begin(), pattern.end());
    name.push_back('\0');
    return mkdtemp(name.data()) ? std::string(name.data()) : "/nonexistent";
}

void write(const std::string& path, const std::string& text) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path) << text;
}

void sh(const std::string& command) { ASSERT_EQ(std::system(command.c_str()), 0) << command; }

// A tree of shared objects: libinner (needed by libouter), found through libouter's RUNPATH
// ($ORIGIN/../inner); libouter found through the program's RPATH or RUNPATH or
// LD_LIBRARY_PATH, depending on the test.
class ElfDeps : public ::testing::Test {
protected:
    void SetUp() override {
        dir = make_temp_dir();
        write(dir + "/inner.c", "int inner(void) { return 1; }\n");
        write(dir + "/outer.c", "int inner(void);\nint outer(void) { return inner(); }\n");
        write(dir + "/main.c", "int outer(void);\nint main(void) { return outer(); }\n");
        sh("mkdir -p " + dir + "/inner && gcc -shared -fPIC -Wl,-soname,libinner.so.1 -o " + dir +
           "/inner/libinner.so.1 " + dir + "/inner.c");
        sh("mkdir -p " + dir + "/outer && gcc -shared -fPIC -Wl,-soname,libouter.so.1 -Wl,--enable-new-dtags "
           "-Wl,-rpath,'$ORIGIN/../inner' -o " + dir + "/outer/libouter.so.1 " + dir + "/outer.c " + dir +
           "/inner/libinner.so.1");
    }
    std::string program(const std::string& name, const std::string& link_flags) {
        std::string path = dir + "/" + name;
        sh("gcc -o " + path + " " + dir + "/main.c " + dir + "/outer/libouter.so.1 " + link_flags);
        return path;
    }
    static bool contains(const Dependencies& deps, const std::string& suffix) {
        for (const auto& lib : deps.libraries)
            if (lib.size() >= suffix.size() && lib.compare(lib.size() - suffix.size(), suffix.size(), suffix) == 0)
                return true;
        return false;
    }
    std::string dir;
};

TEST_F(ElfDeps, ReadsInterpreterNeededSonameAndRunpath) {
    auto info = phx::read_elf_dynamic(dir + "/outer/libouter.so.1");
    EXPECT_FALSE(info.interpreter.has_value());
    ASSERT_TRUE(info.soname.has_value());
    EXPECT_EQ(*info.soname, "libouter.so.1");
    EXPECT_EQ(info.runpath, std::vector<std::string>{"$ORIGIN/../inner"});
    EXPECT_TRUE(info.rpath.empty());
    bool needs_inner = false;
    for (const auto& name : info.needed) needs_inner |= name == "libinner.so.1";
    EXPECT_TRUE(needs_inner);
}

TEST_F(ElfDeps, RpathWithOriginAndTheLibrariesOwnRunpath) {
    // Old-style DT_RPATH on the program: $ORIGIN/outer; libouter's DT_RUNPATH finds libinner.
    std::string exe = program("with_rpath", "-Wl,--disable-new-dtags -Wl,-rpath,'$ORIGIN/outer'");
    auto deps = phx::resolve_dependencies(exe, DependencyOptions{});
    ASSERT_TRUE(deps.interpreter.has_value());
    EXPECT_TRUE(contains(deps, "/outer/libouter.so.1"));
    EXPECT_TRUE(contains(deps, "/inner/libinner.so.1"));
    EXPECT_TRUE(contains(deps, "libc.so.6"));
    // Breadth first: the program's own needs before its libraries' needs.
    size_t outer = 0, inner = 0;
    for (size_t i = 0; i < deps.libraries.size(); ++i) {
        if (deps.libraries[i].find("libouter") != std::string::npos) outer = i;
        if (deps.libraries[i].find("libinner") != std::string::npos) inner = i;
    }
    EXPECT_LT(outer, inner);
}

TEST_F(ElfDeps, LdLibraryPathFromTheEnvironment) {
    std::string exe = program("no_rpath", "");
    EXPECT_THROW(phx::resolve_dependencies(exe, DependencyOptions{}), PhxError);
    DependencyOptions options;
    options.ld_library_path = "/nonexistent:" + dir + "/outer";
    auto deps = phx::resolve_dependencies(exe, options);
    EXPECT_TRUE(contains(deps, "/outer/libouter.so.1"));
    EXPECT_TRUE(contains(deps, "/inner/libinner.so.1"));
}

TEST_F(ElfDeps, MissingLibraryIsNamedWithItsRequester) {
    std::string exe = program("runpath_elsewhere", "-Wl,--enable-new-dtags -Wl,-rpath,/nowhere");
    try {
        phx::resolve_dependencies(exe, DependencyOptions{});
        FAIL() << "resolved a library that is on no search path";
    } catch (const PhxError& e) {
        std::string message = e.what();
        EXPECT_NE(message.find("needs libouter.so.1, which is not found"), std::string::npos) << message;
        EXPECT_NE(message.find(exe), std::string::npos) << message;
        EXPECT_NE(message.find("DT_RUNPATH"), std::string::npos) << message;
        EXPECT_EQ(e.status(), phx::kExitUsage);
    }
}

TEST(LdSoCache, MapsSonamesToX8664Libraries) {
    auto cache = phx::read_ld_so_cache();
    if (cache.empty()) GTEST_SKIP() << "no /etc/ld.so.cache in the new format here";
    ASSERT_TRUE(cache.count("libc.so.6"));
    EXPECT_TRUE(fs::exists(cache["libc.so.6"])) << cache["libc.so.6"];
    EXPECT_TRUE(phx::read_ld_so_cache("/nonexistent/ld.so.cache").empty());
    std::string bogus = make_temp_dir() + "/ld.so.cache";
    write(bogus, "glibc-ld.so.cache1.1\xff\xff\xff\xff garbage");
    EXPECT_TRUE(phx::read_ld_so_cache(bogus).empty()) << "a count past the file must not be trusted";
}

TEST(LdSoCache, ComparesDigitRunsAsNumbersAsGlibcDoes) {
    EXPECT_LT(phx::ld_cache_compare("libfoo.so.9", "libfoo.so.10"), 0);
    EXPECT_GT(phx::ld_cache_compare("libfoo.so.10", "libfoo.so.9"), 0);
    EXPECT_EQ(phx::ld_cache_compare("libc.so.6", "libc.so.6"), 0);
    EXPECT_LT(phx::ld_cache_compare("libc.so", "libc.so.6"), 0);
    EXPECT_GT(phx::ld_cache_compare("libc.so.6", "libc.so"), 0);
    EXPECT_GT(phx::ld_cache_compare("lib1", "liba"), 0);  // a digit against a letter: 1
    EXPECT_LT(phx::ld_cache_compare("liba", "lib1"), 0);
    EXPECT_LT(phx::ld_cache_compare("libgcc_s.so.1", "libm.so.6"), 0);
}

// What ld.so does with the file (elf/dl-cache.c, search_cache): a binary search over the
// entries with _dl_cache_libcmp, `name < key` moving right, then the entry's value.
std::string look_up(const std::vector<std::byte>& cache, const std::string& name) {
    auto word = [&](size_t at) {
        uint32_t value;
        std::memcpy(&value, cache.data() + at, 4);
        return value;
    };
    auto string_at = [&](uint32_t offset) {
        return std::string(reinterpret_cast<const char*>(cache.data()) + offset);
    };
    int left = 0, right = int(word(20)) - 1;
    while (left <= right) {
        int middle = (left + right) / 2;
        size_t entry = 48 + size_t(middle) * 24;
        int order = phx::ld_cache_compare(name, string_at(word(entry + 4)));
        if (order == 0) return word(entry) == 0x0303 ? string_at(word(entry + 8)) : "bad flags";
        if (order < 0)
            left = middle + 1;
        else
            right = middle - 1;
    }
    return "";
}

TEST(LdSoCache, WritesWhatLdSoAndOurReaderFind) {
    std::vector<phx::LdCacheEntry> entries = {
        {"libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6"},
        {"libgcc_s.so.1", "/usr/lib/x86_64-linux-gnu/libgcc_s.so.1"},
        {"libfoo.so.10", "/opt/lib/libfoo.so.10"},
        {"libfoo.so.9", "/opt/lib/libfoo.so.9"},
        {"libm.so.6", "/usr/lib/x86_64-linux-gnu/libm.so.6"},
        {"libc.so.6", "/elsewhere/libc.so.6"},  // the first entry of a name wins
    };
    auto bytes = phx::build_ld_so_cache(entries);
    ASSERT_GE(bytes.size(), 48u + 5 * 24);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes.data()), 20), "glibc-ld.so.cache1.1");
    EXPECT_EQ(uint8_t(bytes[28]), 2) << "little-endian flag";
    for (size_t i = 0; i + 1 < entries.size(); ++i)
        EXPECT_EQ(look_up(bytes, entries[i].name), entries[i].path) << entries[i].name;
    EXPECT_EQ(look_up(bytes, "libnone.so.1"), "");

    std::string path = make_temp_dir() + "/ld.so.cache";
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    auto read = phx::read_ld_so_cache(path);
    EXPECT_EQ(read.size(), 5u);
    EXPECT_EQ(read["libc.so.6"], "/usr/lib/x86_64-linux-gnu/libc.so.6");
    EXPECT_EQ(read["libfoo.so.9"], "/opt/lib/libfoo.so.9");
    // The host's own ldconfig reads it too, where there is one.
    if (std::system("command -v ldconfig >/dev/null 2>&1") == 0) {
        std::string listing = path + ".txt";
        ASSERT_EQ(std::system(("ldconfig -p -C " + path + " > " + listing).c_str()), 0);
        std::ifstream in(listing);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        EXPECT_NE(text.find("5 libs found"), std::string::npos) << text;
        EXPECT_NE(text.find("libgcc_s.so.1 (libc6,x86-64) => "
                            "/usr/lib/x86_64-linux-gnu/libgcc_s.so.1"),
                  std::string::npos)
            << text;
    }
}

TEST(ImageTreeTest, HostPathsKeepTheirSymlinksOnTheWay) {
    std::string dir = make_temp_dir();
    write(dir + "/real/lib/libx.so.1.2", "x");
    fs::create_directory_symlink("real", dir + "/linkdir");
    fs::create_symlink("libx.so.1.2", dir + "/real/lib/libx.so.1");
    ImageTree tree;
    std::string final_path = tree.add_host_path(dir + "/linkdir/lib/libx.so.1");
    EXPECT_EQ(final_path, dir + "/real/lib/libx.so.1.2");
    const auto& entries = tree.entries();
    ASSERT_TRUE(entries.count(dir + "/linkdir"));
    EXPECT_EQ(entries.at(dir + "/linkdir").kind, ImageTree::Entry::Kind::Symlink);
    EXPECT_EQ(entries.at(dir + "/linkdir").target, "real");
    ASSERT_TRUE(entries.count(dir + "/real/lib/libx.so.1"));
    EXPECT_EQ(entries.at(dir + "/real/lib/libx.so.1").target, "libx.so.1.2");
    ASSERT_TRUE(entries.count(dir + "/real/lib/libx.so.1.2"));
    EXPECT_EQ(entries.at(dir + "/real/lib/libx.so.1.2").kind, ImageTree::Entry::Kind::File);
}

TEST(ImageTreeTest, ConflictingPathsAreRefusedTheSameTwiceIsFine) {
    std::string dir = make_temp_dir();
    write(dir + "/a", "a");
    write(dir + "/b", "b");
    ImageTree tree;
    tree.add_file("/etc/x", dir + "/a");
    tree.add_file("/etc/x", dir + "/a");  // the same thing twice
    EXPECT_THROW(tree.add_file("/etc/x", dir + "/b"), PhxError);
    EXPECT_THROW(tree.add_symlink("/etc/x", "y"), PhxError);
    EXPECT_THROW(tree.add_file("/etc/x/inside", dir + "/a"), PhxError) << "a file used as a directory";
    EXPECT_THROW(tree.add_file("relative", dir + "/a"), PhxError);
    EXPECT_THROW(tree.add_file("/etc/missing", dir + "/no-such-file"), PhxError);
    tree.add_file("/usr/./lib/../lib/y", dir + "/b");
    EXPECT_TRUE(tree.contains("/usr/lib/y"));
    EXPECT_TRUE(tree.contains("/usr"));
}

}  // namespace
