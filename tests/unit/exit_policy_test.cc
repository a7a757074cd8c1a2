// The exit policy: Nanos's reboot_on_exit forms, expected_exit_code, idle_on_exit and panics.
#include "lib/manifest/exit_policy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lib/manifest/manifest.h"
#include "lib/manifest/manifest_writer.h"

namespace {

using lib::manifest::decide_exit;
using lib::manifest::decide_panic;
using lib::manifest::ExitAction;
using lib::manifest::ExitPolicy;

ExitPolicy policy(std::string_view reboot, std::string_view expected = "", std::string_view idle = "") {
    auto parsed = ExitPolicy::parse(reboot, expected, idle);
    EXPECT_TRUE(parsed.has_value()) << reboot << " " << expected << " " << idle;
    return parsed.value_or(ExitPolicy{});
}

bool reboots(const ExitPolicy& p, uint8_t status) { return decide_exit(p, status).action == ExitAction::Reboot; }

TEST(ExitPolicy, AbsentOrFalseNeverReboots) {
    for (auto text : {"", "f", "false"}) {
        ExitPolicy p = policy(text);
        for (int status : {0, 1, 3, 139, 255}) EXPECT_FALSE(reboots(p, uint8_t(status))) << text;
        EXPECT_EQ(decide_exit(p, 3).action, ExitAction::PowerOff);
        EXPECT_EQ(decide_exit(p, 3).status, 3);
        EXPECT_EQ(decide_panic(p), ExitAction::PowerOff);
    }
}

TEST(ExitPolicy, TrueRebootsOnAnyFailure) {
    for (auto text : {"t", "true"}) {
        ExitPolicy p = policy(text);
        EXPECT_FALSE(reboots(p, 0));
        for (int status : {1, 3, 134, 139, 255}) EXPECT_TRUE(reboots(p, uint8_t(status)));
        EXPECT_EQ(decide_panic(p), ExitAction::Reboot);
    }
}

TEST(ExitPolicy, StarRebootsOnEveryExit) {
    ExitPolicy p = policy("*");
    for (int status : {0, 1, 255}) EXPECT_TRUE(reboots(p, uint8_t(status)));
    EXPECT_EQ(decide_panic(p), ExitAction::Reboot);
}

TEST(ExitPolicy, StatusListRebootsOnlyOnThose) {
    ExitPolicy one = policy("3");
    EXPECT_TRUE(reboots(one, 3));
    EXPECT_FALSE(reboots(one, 0));
    EXPECT_FALSE(reboots(one, 4));
    ExitPolicy list = policy("1,2,139");
    for (int status : {1, 2, 139}) EXPECT_TRUE(reboots(list, uint8_t(status)));
    for (int status : {0, 3, 138, 255}) EXPECT_FALSE(reboots(list, uint8_t(status)));
    EXPECT_EQ(decide_panic(list), ExitAction::PowerOff);  // a panic has no status to match
}

TEST(ExitPolicy, UnlessStatusRebootsOnAllOthers) {
    ExitPolicy p = policy("!0");
    EXPECT_FALSE(reboots(p, 0));
    EXPECT_TRUE(reboots(p, 1));
    ExitPolicy q = policy("!7");
    EXPECT_TRUE(reboots(q, 0));
    EXPECT_FALSE(reboots(q, 7));
    EXPECT_EQ(decide_panic(q), ExitAction::Reboot);
}

TEST(ExitPolicy, ExpectedExitCodeCountsAsSuccess) {
    ExitPolicy p = policy("t", "3,4");
    EXPECT_FALSE(reboots(p, 3));
    EXPECT_FALSE(reboots(p, 4));
    EXPECT_TRUE(reboots(p, 5));
    EXPECT_EQ(decide_exit(p, 3).status, 0);  // and the VM powers off reporting success
    EXPECT_EQ(decide_exit(p, 3).action, ExitAction::PowerOff);
    EXPECT_EQ(decide_exit(policy("", "2"), 2).status, 0);
}

TEST(ExitPolicy, IdleInsteadOfPowerOff) {
    ExitPolicy p = policy("3", "", "t");
    EXPECT_EQ(decide_exit(p, 0).action, ExitAction::Idle);
    EXPECT_EQ(decide_exit(p, 3).action, ExitAction::Reboot);
    EXPECT_EQ(decide_panic(p), ExitAction::Idle);
    EXPECT_EQ(decide_exit(policy("", "", "f"), 0).action, ExitAction::PowerOff);
}

TEST(ExitPolicy, MalformedValuesAreRefused) {
    for (auto text : {"!", "!x", "x", "256", "-1", "1,", ",1", "1,,2", "01", " 1", "1.5", "!1,2", "**"})
        EXPECT_TRUE(ExitPolicy::parse(text, "", "").is_error()) << text;
    for (auto text : {"x", "256", "1,", "t"}) EXPECT_TRUE(ExitPolicy::parse("", text, "").is_error()) << text;
    for (auto text : {"yes", "1", "*"}) EXPECT_TRUE(ExitPolicy::parse("", "", text).is_error()) << text;
}

std::vector<std::byte> manifest_with(const std::vector<std::pair<std::string, std::string>>& options) {
    lib::manifest::ManifestWriter writer;
    writer.add_text(lib::manifest::RecordType::Program, "/p");
    for (const auto& [key, value] : options)
        writer.add_text(lib::manifest::RecordType::Option, key + "=" + value);
    return writer.finish();
}

TEST(ExitPolicy, FromManifestNamesTheBadKey) {
    auto bytes = manifest_with({{"reboot_on_exit", "*"}, {"expected_exit_code", "9"}, {"idle_on_exit", "t"}});
    auto manifest = lib::manifest::Manifest::parse(bytes);
    ASSERT_TRUE(manifest.has_value());
    std::string_view bad;
    auto p = ExitPolicy::from_manifest(manifest.value(), bad);
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p.value().reboot, ExitPolicy::Reboot::Always);
    EXPECT_TRUE(p.value().expected.contains(9));
    EXPECT_TRUE(p.value().idle);

    for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
             {"reboot_on_exit", "maybe"}, {"expected_exit_code", ""}, {"idle_on_exit", "2"}}) {
        auto bad_bytes = manifest_with({{key, value}});
        auto bad_manifest = lib::manifest::Manifest::parse(bad_bytes);
        ASSERT_TRUE(bad_manifest.has_value());
        std::string_view named;
        EXPECT_TRUE(ExitPolicy::from_manifest(bad_manifest.value(), named).is_error()) << key;
        EXPECT_EQ(named, key);
    }
    auto empty = manifest_with({});
    auto none = lib::manifest::Manifest::parse(empty);
    ASSERT_TRUE(none.has_value());
    EXPECT_EQ(ExitPolicy::from_manifest(none.value(), bad).value().reboot, ExitPolicy::Reboot::Never);
}

}  // namespace
