// The seed's demo (examples/hello-world-rust): a Rust web server that executes `cli; hlt`
// after every answer. 50 sequential requests all succeed (the client retries while the VM is
// being reborn), each answer comes from a new boot, and all 50 stack addresses differ.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/phx_process.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

uint16_t free_port() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    close(fd);
    return ntohs(address.sin_port);
}

// One GET; the whole answer, or nullopt when the server was not (yet) there: refused, or
// accepted by the forward and closed without an answer while the guest reboots.
std::optional<std::string> get(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval timeout{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string answer;
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
        const char request[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
        if (send(fd, request, sizeof(request) - 1, MSG_NOSIGNAL) == ssize_t(sizeof(request) - 1)) {
            char buffer[4096];
            for (ssize_t n; (n = recv(fd, buffer, sizeof(buffer), 0)) > 0;) answer.append(buffer, size_t(n));
        }
    }
    close(fd);
    if (answer.find("Hello world") == std::string::npos) return std::nullopt;
    return answer;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

class Demo : public ::testing::TestWithParam<std::string> {};

TEST_P(Demo, FiftyRequestsFromFiftyBootsWithFiftyStacks) {
    if (!PHX_HAVE_CARGO) GTEST_SKIP() << "cargo not found: the demo was not built";
    if (phx_test::target_needs_kvm(GetParam()) && !phx_test::kvm_available())
        GTEST_SKIP() << "no usable /dev/kvm";
    const int requests = GetParam() == "builtin" ? 50 : 10;  // QEMU restarts cost a second each
    std::string home = phx_test::temp_dir("phx-home");
    std::string out = home + "/out.txt", err = home + "/err.txt";
    uint16_t port = free_port();
    std::vector<std::string> args = {PHX_BIN, "run"};
    for (auto& arg : phx_test::target_args(GetParam())) args.push_back(arg);
    args.insert(args.end(), {"-c", std::string(PHX_SOURCE_DIR) + "/examples/hello-world-rust/config.json",
                             "-p", std::to_string(port) + ":8080", "--restart-backoff", "0",
                             std::string(PHX_EXAMPLE_DIR) + "/hello-world-rust/target/debug/hello-world"});
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&files, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&files, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::string home_env = "PHX_HOME=" + home;
    std::vector<char*> envp;
    for (char** e = environ; *e; ++e) envp.push_back(*e);
    envp.push_back(home_env.data());
    envp.push_back(nullptr);
    pid_t pid;
    ASSERT_EQ(posix_spawn(&pid, PHX_BIN, &files, nullptr, argv.data(), envp.data()), 0);
    posix_spawn_file_actions_destroy(&files);

    std::set<std::string> stacks;
    std::vector<double> gaps_ms;  // from one answer to the next
    auto last = Clock::now();
    for (int i = 0; i < requests; ++i) {
        std::optional<std::string> answer;
        auto deadline = Clock::now() + std::chrono::seconds(i == 0 ? 120 : 60);
        while (!(answer = get(port)) && Clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        ASSERT_TRUE(answer) << "request " << i << " never answered\n" << read_file(out) << read_file(err);
        auto now = Clock::now();
        if (i > 0) gaps_ms.push_back(std::chrono::duration<double, std::milli>(now - last).count());
        last = now;
        size_t at = answer->find("stack variable at ");
        ASSERT_NE(at, std::string::npos) << *answer;
        std::string stack = answer->substr(at + 18, answer->find('\r', at) - at - 18);
        EXPECT_TRUE(stacks.insert(stack).second) << "request " << i << ": stack " << stack << " seen before";
    }
    kill(pid, SIGINT);
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_EQ(stacks.size(), size_t(requests));
    // Every answer ended its boot: the VM was reborn after each one (the last rebirth may
    // still have been under way when phx was stopped).
    std::string log = read_file(err);
    EXPECT_NE(log.find("reboot " + std::to_string(requests - 1) + ":"), std::string::npos) << log;
    size_t resets = 0;
    for (size_t at = log.find("guest reset"); at != std::string::npos; at = log.find("guest reset", at + 1)) ++resets;
    EXPECT_GE(resets, size_t(requests - 1)) << log;
    EXPECT_LE(resets, size_t(requests)) << "a boot ended without its answer reaching the client\n" << log;
    // Each death left a crash report naming the Rust function that halted, from the
    // program's own symbols.
    EXPECT_NE(read_file(out).find("hello_world::handle_write+0x"), std::string::npos) << read_file(out).substr(0, 6000);
    std::sort(gaps_ms.begin(), gaps_ms.end());
    if (!gaps_ms.empty())
        std::printf("demo on %s: %d answers from %d boots; answer to next answer median %.1f ms, max %.1f ms\n",
                    GetParam().c_str(), requests, requests, gaps_ms[gaps_ms.size() / 2], gaps_ms.back());
}

INSTANTIATE_TEST_SUITE_P(Target, Demo, ::testing::Values("builtin", "qemu-tcg"));

}  // namespace
