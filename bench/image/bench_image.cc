// bench/image: how long `phx image create` takes for the static C hello-world and for a
// cargo-built (dynamic glibc) Rust program, beside mke2fs -d building an ext2 filesystem of
// the same tree (the image's contents, copied out with debugfs) in the same run; and the dynamic Rust program's time to first output when
// booted from its image on Phoenix's VMM, beside the same binary run natively and beside the
// static hello booted without an image. Prints:
//   bench image <subject> <metric>_ms median=... p10=... p90=... n=...
//   bench image ratio <metric> <subject>/<baseline>=...
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/common/measure.h"

namespace {

using namespace bench;

std::vector<double> times_of(const std::vector<std::string>& command, int runs, double Sample::*metric,
                             const char* marker = "") {
    std::vector<double> values;
    for (int i = 0; i < runs; ++i) {
        Sample sample = measure(command, marker);
        if (sample.status != 0 && metric == &Sample::exit_ms) {
            std::fprintf(stderr, "bench image: %s failed (status %d)\n", command[0].c_str(), sample.status);
            std::exit(1);
        }
        values.push_back(sample.*metric);
    }
    return values;
}

void ratio(const char* metric, const char* a, const std::vector<double>& x, const char* b,
           const std::vector<double>& y) {
    std::printf("bench image ratio %s %s/%s=%.2f\n", metric, a, b, percentile(x, 0.5) / percentile(y, 0.5));
}

std::string temp_dir() {
    char pattern[] = "/tmp/phx-bench-image-XXXXXX";
    return mkdtemp(pattern) ? pattern : "/tmp";
}

}  // namespace

int main(int argc, char** argv) {
    int runs = 10;
    for (int i = 1; i + 1 < argc; i += 2)
        if (std::string(argv[i]) == "--runs") runs = std::max(1, std::atoi(argv[i + 1]));
    std::string work = temp_dir();
    setenv("PHX_HOME", work.c_str(), 1);
    std::printf("bench image config runs=%d kvm=%s\n", runs, kvm_available() ? "yes" : "no");

    // Image builds: phx against mke2fs -d of a directory holding the same kernel and program.
    struct Build {
        const char* name;
        std::string program;
    };
    const Build builds[] = {{"hello", PHX_HELLO}, {"rust", PHX_RUST}};
    for (const Build& build : builds) {
        if (access(build.program.c_str(), X_OK) != 0) {
            std::printf("bench image %s skipped (no %s)\n", build.name, build.program.c_str());
            continue;
        }
        std::string image = work + "/" + build.name + ".img";
        auto phx = times_of({PHX_BIN, "image", "create", "-a", build.program, "-o", image}, runs, &Sample::exit_ms);
        // The baseline builds the very same tree: the image's contents, copied back out.
        std::string tree = work + "/tree-" + build.name;
        std::string setup = "mkdir -p '" + tree + "' && debugfs -R 'rdump / " + tree + "' '" + image +
                            "?offset=1048576' >/dev/null 2>&1 && test -e '" + tree + "/boot/kernel'";
        if (std::system(setup.c_str()) != 0) {
            std::fprintf(stderr, "bench image: cannot copy the image's tree out with debugfs\n");
            return 1;
        }
        tree += "/";  // rdump puts the root's entries under TREE
        auto mke2fs = times_of({"/sbin/mke2fs", "-q", "-F", "-t", "ext2", "-b", "4096", "-d", tree,
                                work + "/mke2fs.img", "16M"},
                               runs, &Sample::exit_ms);
        std::string subject = std::string(build.name) + "_phx";
        std::string baseline = std::string(build.name) + "_mke2fs";
        print_stats("image", subject.c_str(), "build", phx);
        print_stats("image", baseline.c_str(), "build", mke2fs);
        ratio("build", subject.c_str(), phx, baseline.c_str(), mke2fs);
    }

    // Boot of the dynamic Rust program from its image, to its first line ("args:").
    if (kvm_available() && access(PHX_RUST, X_OK) == 0) {
        std::string image = work + "/rust.img";
        auto boot = times_of({PHX_BIN, "run", image}, runs, &Sample::first_output_ms, "args:");
        auto native = times_of({PHX_RUST}, runs, &Sample::first_output_ms, "args:");
        auto static_hello = times_of({PHX_BIN, "run", PHX_HELLO}, runs, &Sample::first_output_ms, "Hello");
        print_stats("image", "rust_builtin", "first_output", boot);
        print_stats("image", "rust_native", "first_output", native);
        print_stats("image", "static_hello_builtin", "first_output", static_hello);
        ratio("first_output", "rust_builtin", boot, "rust_native", native);
        ratio("first_output", "rust_builtin", boot, "static_hello_builtin", static_hello);
    }
    std::string cleanup = "rm -rf '" + work + "'";
    return std::system(cleanup.c_str()) == 0 ? 0 : 1;
}
