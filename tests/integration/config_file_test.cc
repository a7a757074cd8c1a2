// Unit tests for config.json parsing (phx/config/config_file.h): every honoured key with its
// value, every refused OPS key, unknown keys with suggestions, wrong types, malformed JSON with
// line:column, and the value grammars (RebootOnExit, BaseVolumeSz, Ports, NameServers).
#include "phx/config/config_file.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "phx/error.h"
#include "phx/temp_dir.h"

namespace {

using phx::Config;
using phx::PortRange;
using phx::RebootOnExit;
using When = phx::RebootOnExit::When;

Config parse(std::string_view text) { return phx::parse_config(text, "config.json"); }

// The message of the usage error parsing `text` raises ("(no error)" when it parses).
std::string error_of(std::string_view text) {
    try {
        parse(text);
    } catch (const phx::PhxError& e) {
        EXPECT_EQ(e.status(), phx::kExitUsage) << e.what();
        return e.what();
    }
    return "(no error)";
}

#define EXPECT_ERROR(text, message) EXPECT_EQ(error_of(text), message) << (text)
#define EXPECT_ERROR_STARTS(text, start) \
    EXPECT_TRUE(error_of(text).starts_with(start)) << (text) << " -> " << error_of(text)

TEST(ConfigFile, EmptyObjectLeavesEverythingUnset) {
    Config c = parse("{}");
    EXPECT_FALSE(c.program);
    EXPECT_TRUE(c.args.empty());
    EXPECT_TRUE(c.env.empty());
    EXPECT_FALSE(c.base_volume_bytes);
    EXPECT_FALSE(c.reboot_on_exit);
    EXPECT_FALSE(c.restart_policy);
    EXPECT_FALSE(c.run.memory_mib);
    EXPECT_TRUE(c.run.ports.empty());
    EXPECT_TRUE(c.cloud.platform.empty());
}

TEST(ConfigFile, EveryHonouredKeyKeepsItsValue) {
    Config c = parse(R"({
        "Program": "bin/server",
        "Args": ["-addr=:8080", "two words"],
        "Env": {"PORT": "8080", "HOME": "/tmp", "EMPTY": ""},
        "Dirs": ["static", "/etc/ssl"],
        "Files": ["config.yaml"],
        "MapDirs": {"/etc/ssl/certs/*": "/usr/lib/ssl/certs", "assets": "/srv"},
        "BaseVolumeSz": "64m",
        "Debugflags": ["trace", "fault", "trace"],
        "NameServers": ["10.8.0.1", "8.8.8.8"],
        "ManifestPassthrough": {"exec_protection": "t", "consoles": ["+net", "-serial"],
                                "ltrace": {}},
        "Kernel": "build/kernel/phoenix.elf",
        "RebootOnExit": "!0",
        "RestartPolicy": "on-failure",
        "RunConfig": {"Ports": ["80", "8000-8010", "443,8443"], "Memory": "512M", "CPUs": 2,
                      "Accel": false, "Verbose": true, "MaxRestarts": 5, "RestartWindow": 2.5,
                      "RestartBackoff": 100, "KeepCrashReports": 3},
        "CloudConfig": {"Platform": "gcp", "ProjectID": "proj-1000", "Zone": "us-west1-b",
                        "BucketName": "my-bucket", "BucketNamespace": "ns", "ImageName": "web",
                        "ImageType": "gen2", "Flavor": "t2.micro", "VPC": "vpc-1",
                        "Subnet": "sb-1", "SecurityGroup": "sg-1", "DomainName": "ops.city",
                        "StaticIP": "1.2.3.4", "InstanceProfile": "role",
                        "Tags": [{"key": "owner", "value": "joe"}, {"key": "fn"}]}
    })");
    EXPECT_EQ(c.program, "bin/server");
    EXPECT_EQ(c.args, (std::vector<std::string>{"-addr=:8080", "two words"}));
    using Pairs = std::vector<std::pair<std::string, std::string>>;
    EXPECT_EQ(c.env, (Pairs{{"EMPTY", ""}, {"HOME", "/tmp"}, {"PORT", "8080"}}));  // sorted
    EXPECT_EQ(c.dirs, (std::vector<std::string>{"static", "/etc/ssl"}));
    EXPECT_EQ(c.files, (std::vector<std::string>{"config.yaml"}));
    EXPECT_EQ(c.map_dirs, (Pairs{{"/etc/ssl/certs/*", "/usr/lib/ssl/certs"}, {"assets", "/srv"}}));
    EXPECT_EQ(c.base_volume_bytes, 64u << 20);
    EXPECT_EQ(c.debug_flags, (std::vector<std::string>{"trace", "fault"}));
    EXPECT_EQ(c.name_servers, (std::vector<std::string>{"10.8.0.1", "8.8.8.8"}));
    EXPECT_EQ(c.manifest_passthrough, (Pairs{{"consoles", R"(["+net","-serial"])"},
                                             {"exec_protection", R"("t")"},
                                             {"ltrace", "{}"}}));
    EXPECT_EQ(c.kernel, "build/kernel/phoenix.elf");
    ASSERT_TRUE(c.reboot_on_exit);
    EXPECT_EQ(c.reboot_on_exit->when, When::UnlessStatus);
    EXPECT_EQ(c.reboot_on_exit->statuses, (std::vector<uint8_t>{0}));
    EXPECT_EQ(c.restart_policy, phx::RestartPolicy::OnFailure);
    EXPECT_EQ(c.run.ports,
              (std::vector<PortRange>{{80, 80}, {8000, 8010}, {443, 443}, {8443, 8443}}));
    EXPECT_EQ(c.run.memory_mib, 512u);
    EXPECT_EQ(c.run.cpus, 2u);
    EXPECT_EQ(c.run.accel, false);
    EXPECT_EQ(c.run.verbose, true);
    EXPECT_EQ(c.run.max_restarts, 5u);
    EXPECT_EQ(c.run.restart_window_s, 2.5);
    EXPECT_EQ(c.run.restart_backoff_ms, 100u);
    EXPECT_EQ(c.run.keep_crash_reports, 3u);
    EXPECT_EQ(c.cloud.platform, "gcp");
    EXPECT_EQ(c.cloud.project_id, "proj-1000");
    EXPECT_EQ(c.cloud.zone, "us-west1-b");
    EXPECT_EQ(c.cloud.bucket_name, "my-bucket");
    EXPECT_EQ(c.cloud.bucket_namespace, "ns");
    EXPECT_EQ(c.cloud.image_name, "web");
    EXPECT_EQ(c.cloud.image_type, "gen2");
    EXPECT_EQ(c.cloud.flavor, "t2.micro");
    EXPECT_EQ(c.cloud.vpc, "vpc-1");
    EXPECT_EQ(c.cloud.subnet, "sb-1");
    EXPECT_EQ(c.cloud.security_group, "sg-1");
    EXPECT_EQ(c.cloud.domain_name, "ops.city");
    EXPECT_EQ(c.cloud.static_ip, "1.2.3.4");
    EXPECT_EQ(c.cloud.instance_profile, "role");
    ASSERT_EQ(c.cloud.tags.size(), 2u);
    EXPECT_EQ(c.cloud.tags[0].key, "owner");
    EXPECT_EQ(c.cloud.tags[0].value, "joe");
    EXPECT_EQ(c.cloud.tags[1].key, "fn");
    EXPECT_EQ(c.cloud.tags[1].value, "");
}

// Go's encoding/json matches struct fields case-insensitively, so OPS reads "args" as Args.
TEST(ConfigFile, KeysMatchCaseInsensitivelyAsInOps) {
    Config c = parse(R"({"args": ["a"], "runconfig": {"MEMORY": "1G", "cpus": 1},
                         "CLOUDCONFIG": {"projectid": "p"}, "rebootonexit": true})");
    EXPECT_EQ(c.args, (std::vector<std::string>{"a"}));
    EXPECT_EQ(c.run.memory_mib, 1024u);
    EXPECT_EQ(c.run.cpus, 1u);
    EXPECT_EQ(c.cloud.project_id, "p");
    ASSERT_TRUE(c.reboot_on_exit);
    EXPECT_EQ(c.reboot_on_exit->when, When::OnFailure);
    // Data keys are data: Env names keep their case.
    EXPECT_EQ(parse(R"({"Env": {"Path": "a", "PATH": "b"}})").env.size(), 2u);
    // OPS's Imagename became ImageName; both spellings are the same key.
    EXPECT_ERROR(R"({"RunConfig": {"Imagename": "x"}})",
                 "config.json: RunConfig.Imagename is not supported yet");
}

TEST(ConfigFile, OneKeyTwice) {
    EXPECT_ERROR(R"({"Args": [], "args": []})",
                 "config.json: 'Args' and 'args' are the same key (keys match "
                 "case-insensitively, as in OPS)");
    EXPECT_ERROR(R"({"RunConfig": {"Memory": "1G", "memory": "2G"}})",
                 "config.json: 'RunConfig.Memory' and 'RunConfig.memory' are the same key (keys "
                 "match case-insensitively, as in OPS)");
    EXPECT_ERROR(R"({"Args": ["a"], "Args": ["b"]})", "config.json: duplicate key 'Args'");
    EXPECT_ERROR(R"({"Env": {"A": "1", "A": "2"}})", "config.json: duplicate key 'A' in Env");
    EXPECT_ERROR(R"({"CloudConfig": {"Tags": [{"key": "a"}, {"key": "b", "key": "c"}]}})",
                 "config.json: duplicate key 'key' in CloudConfig.Tags[1]");
}

TEST(ConfigFile, NullMeansAbsentAsInGo) {
    Config c = parse(R"({"Args": null, "RunConfig": null, "Env": null, "RebootOnExit": null})");
    EXPECT_TRUE(c.args.empty());
    EXPECT_FALSE(c.reboot_on_exit);
    EXPECT_FALSE(c.run.memory_mib);
}

TEST(ConfigFile, RefusesEveryOtherOpsKeyByName) {
    // clang-format off
    for (const char* key :
         {"Boot", "BuildDir", "Description", "DisableArgsCopy", "Force", "Home", "KlibDir",
          "Klibs", "Language", "LocalFilesParentDirectory", "Mounts", "NanosVersion",
          "NightlyBuild", "NoTrace", "PackageBaseURL", "PackageManifestURL", "ProgramPath",
          "Runtime", "TargetConfig", "TargetRoot", "TFSv4", "Uefi", "UefiBoot", "Version",
          "VolumesDir"}) {
        std::string text = std::string(R"({")") + key + R"(": "x"})";
        EXPECT_ERROR(text, std::string("config.json: ") + key + " is not supported yet");
    }
    for (const char* key :
         {"AtExit", "AttachVolumeOnInstanceCreate", "Background", "BridgeIPAddress", "BridgeName",
          "Bridged", "CanIPForward", "Debug", "GPUType", "GPUs", "GdbPort",
          "IPv6Address", "ImageName", "InstanceGroup", "InstanceName", "JSON", "Kernel", "Klibs",
          "Mgmt", "Mounts", "Nics", "QMP", "ShowDebug", "ShowErrors", "ShowWarnings",
          "ThreadsPerCore", "Vga", "VolumeSizeInGb"}) {
        // Refused whatever the value, even OPS's default: nothing is silently different.
        std::string text = std::string(R"({"RunConfig": {")") + key + R"(": false}})";
        EXPECT_ERROR(text, std::string("config.json: RunConfig.") + key + " is not supported yet");
    }
    // clang-format on
    for (const char* key : {"ConfidentialVM", "DedicatedHostID", "EnableIPv6", "KMS", "RootVolume",
                            "SkipImportVerify", "Spot", "UserData"}) {
        std::string text = std::string(R"({"CloudConfig": {")") + key + R"(": 1}})";
        EXPECT_ERROR(text,
                     std::string("config.json: CloudConfig.") + key + " is not supported yet");
    }
    EXPECT_ERROR(R"({"CloudConfig": {"Tags": [{"key": "k", "attribute": {}}]}})",
                 "config.json: CloudConfig.Tags[0].attribute is not supported yet");
    EXPECT_ERROR(R"({"RunConfig": {"GdbPort": 1234}})",
                 "config.json: RunConfig.GdbPort is not supported yet");
    EXPECT_ERROR(R"({"klibs": ["ntp"]})", "config.json: klibs is not supported yet");
}

TEST(ConfigFile, StaticAddressKeys) {
    EXPECT_ERROR_STARTS(R"({"RunConfig": {"IPAddress": "10.0.2"}})",
                        "config.json: RunConfig.IPAddress '10.0.2': expected an IPv4 address");
    EXPECT_ERROR_STARTS(R"({"RunConfig": {"Gateway": "10.0.2.2"}})",
                        "config.json: RunConfig.NetMask and RunConfig.Gateway need RunConfig.IPAddress");
    EXPECT_ERROR_STARTS(R"({"RunConfig": {"IPAddress": "10.0.2.15", "NetMask": "x"}})",
                        "config.json: RunConfig.NetMask 'x': expected an IPv4 address");
    Config c = parse(R"({"RunConfig": {"IPAddress": "192.168.100.2", "NetMask": "255.255.255.0",
                                       "Gateway": "192.168.100.1"}})");
    EXPECT_EQ(c.run.ip_address, "192.168.100.2");
    EXPECT_EQ(c.run.netmask, "255.255.255.0");
    EXPECT_EQ(c.run.gateway, "192.168.100.1");
}

TEST(ConfigFile, UnknownKeysNameTheClosestKnownOne) {
    EXPECT_ERROR(R"({"Arg": []})", "config.json: unknown key 'Arg'; did you mean 'Args'?");
    EXPECT_ERROR(R"({"NameServer": "8.8.8.8"})",
                 "config.json: unknown key 'NameServer'; did you mean 'NameServers'?");
    EXPECT_ERROR(R"({"MapsDirs": {}})",
                 "config.json: unknown key 'MapsDirs'; did you mean 'MapDirs'?");
    EXPECT_ERROR(R"({"klib": []})", "config.json: unknown key 'klib'; did you mean 'Klibs'?");
    EXPECT_ERROR(R"({"RunConfig": {"Port": ["80"]}})",
                 "config.json: unknown key 'Port' in RunConfig; did you mean 'Ports'?");
    EXPECT_ERROR(R"({"RunConfig": {"memroy": "1G"}})",
                 "config.json: unknown key 'memroy' in RunConfig; did you mean 'Memory'?");
    EXPECT_ERROR(R"({"CloudConfig": {"Zon": "x"}})",
                 "config.json: unknown key 'Zon' in CloudConfig; did you mean 'Zone'?");
    EXPECT_ERROR(R"({"CloudConfig": {"Tags": [{"Key": "a", "valu": "b"}]}})",
                 "config.json: unknown key 'valu' in CloudConfig.Tags[0]; did you mean 'value'?");
    // Unknown and refused keys are reported before any value is looked at.
    EXPECT_ERROR(R"({"Args": 5, "Argz": []})",
                 "config.json: unknown key 'Argz'; did you mean 'Args'?");
}

TEST(ConfigFile, WrongTypesNameTheKeyAndTheType) {
    EXPECT_ERROR(R"({"Args": "a b"})", "config.json: Args must be an array of strings");
    EXPECT_ERROR(R"({"Args": ["a", 1]})",
                 "config.json: Args must be an array of strings; Args[1] is a number");
    EXPECT_ERROR(R"({"Args": [""]})", "config.json: Args[0] must not be empty");
    EXPECT_ERROR(R"({"Env": ["A=1"]})",
                 "config.json: Env must be an object whose values are strings");
    EXPECT_ERROR(R"({"Env": {"PORT": 8080}})",
                 "config.json: Env must be an object whose values are strings; 'Env.PORT' is a "
                 "number");
    EXPECT_ERROR(R"({"Program": 3})", "config.json: Program must be a string");
    EXPECT_ERROR(R"({"Program": ""})", "config.json: Program must not be empty");
    EXPECT_ERROR(R"({"Kernel": true})", "config.json: Kernel must be a string");
    EXPECT_ERROR(R"({"Dirs": {}})", "config.json: Dirs must be an array of strings");
    EXPECT_ERROR(R"({"MapDirs": {"a": 1}})",
                 "config.json: MapDirs must be an object whose values are strings; 'MapDirs.a' is "
                 "a number");
    EXPECT_ERROR(R"({"BaseVolumeSz": 64})", "config.json: BaseVolumeSz must be a string");
    EXPECT_ERROR(R"({"ManifestPassthrough": []})",
                 "config.json: ManifestPassthrough must be an object");
    EXPECT_ERROR(R"({"RunConfig": []})", "config.json: RunConfig must be an object");
    EXPECT_ERROR(R"({"CloudConfig": "gcp"})", "config.json: CloudConfig must be an object");
    EXPECT_ERROR(R"({"RunConfig": {"Accel": "yes"}})",
                 "config.json: RunConfig.Accel must be true or false");
    EXPECT_ERROR(R"({"RunConfig": {"Verbose": 1}})",
                 "config.json: RunConfig.Verbose must be true or false");
    for (const char* cpus : {"0", "1.5", "\"2\"", "-1", "4294967296"})
        EXPECT_ERROR(std::string(R"({"RunConfig": {"CPUs": )") + cpus + "}}",
                     "config.json: RunConfig.CPUs must be a whole number from 1 to 4294967295");
    EXPECT_ERROR(R"({"RunConfig": {"Memory": 512}})",
                 "config.json: RunConfig.Memory must be a string");
    EXPECT_ERROR(R"({"RunConfig": {"MaxRestarts": -1}})",
                 "config.json: RunConfig.MaxRestarts must be a whole number from 0 to 4294967295");
    EXPECT_ERROR(R"({"RunConfig": {"RestartWindow": -1}})",
                 "config.json: RunConfig.RestartWindow must be a number of seconds from 0 to "
                 "1000000000");
    EXPECT_ERROR(R"({"RunConfig": {"RestartWindow": "10"}})",
                 "config.json: RunConfig.RestartWindow must be a number of seconds from 0 to "
                 "1000000000");
    EXPECT_ERROR(R"({"RunConfig": {"RestartBackoff": 1.5}})",
                 "config.json: RunConfig.RestartBackoff must be a whole number of milliseconds "
                 "from 0 to 4294967295");
    EXPECT_ERROR(R"({"CloudConfig": {"Zone": 1}})",
                 "config.json: CloudConfig.Zone must be a string");
    EXPECT_ERROR(R"({"CloudConfig": {"Tags": {"key": "a"}}})",
                 "config.json: CloudConfig.Tags must be an array of objects");
    EXPECT_ERROR(R"({"CloudConfig": {"Tags": [{"key": 1}]}})",
                 "config.json: CloudConfig.Tags[0].key must be a string");
    EXPECT_ERROR(R"(["Args"])", "config.json: the top level must be a JSON object");
    EXPECT_ERROR(R"("x")", "config.json: the top level must be a JSON object");
    EXPECT_ERROR("{\"Args\": [\"a\\u0000b\"]}", "config.json: Args[0] contains a NUL byte");
}

TEST(ConfigFile, MalformedJsonGivesLineAndColumn) {
    EXPECT_ERROR("{\n  \"Args\": [\"a\"],\n  \"Env\": {\"A\": 1,}\n}",
                 "config.json:3:18: syntax error: unexpected '}'; expected string literal");
    EXPECT_ERROR("{\n  \"Args\": [1,]\n}",
                 "config.json:2:14: syntax error: unexpected ']'; expected '[', '{', or a "
                 "literal");
    EXPECT_ERROR_STARTS("{\n\"RunConfig\": {\"Accel\": tru}\n}",
                        "config.json:2:27: syntax error: ");
    EXPECT_ERROR_STARTS("{\"Args\": [", "config.json:1:11: syntax error: unexpected end of input");
    EXPECT_ERROR_STARTS("", "config.json:1:1: syntax error: unexpected end of input");
    EXPECT_ERROR_STARTS("{}\n{}", "config.json:2:1: syntax error: ");
    EXPECT_ERROR_STARTS("{\"a\": \"\xff\"}", "config.json:1:8: syntax error: invalid string");
    // Trailing commas and comments are JSON errors in Go as well.
    EXPECT_ERROR_STARTS("{\"Args\": [],\n}", "config.json:2:1: syntax error: ");
    EXPECT_ERROR_STARTS("{ // hi\n}", "config.json:1:3: syntax error: ");
    EXPECT_ERROR(R"({"RunConfig": {"CPUs": 1e400}})",
                 "config.json: number overflow parsing '1e400'");
    // The name in messages is the one the caller gave.
    try {
        phx::parse_config("{", "conf/ops.json");
        FAIL();
    } catch (const phx::PhxError& e) {
        EXPECT_TRUE(std::string(e.what()).starts_with("conf/ops.json:1:2: syntax error: "))
            << e.what();
    }
}

TEST(ConfigFile, NestingIsBounded) {
    std::string deep =
        R"({"ManifestPassthrough": {"a": )" + std::string(100, '[') + std::string(100, ']') + "}}";
    EXPECT_ERROR(deep, "config.json: nested more than 64 levels deep");
}

RebootOnExit reboot(std::string_view value) {
    auto c = parse(std::string(R"({"RebootOnExit": )") + std::string(value) + "}");
    EXPECT_TRUE(c.reboot_on_exit) << value;
    return c.reboot_on_exit.value_or(RebootOnExit{});
}

TEST(ConfigFile, RebootOnExitForms) {
    EXPECT_EQ(reboot("true").when, When::OnFailure);
    EXPECT_EQ(reboot("false").when, When::Never);
    EXPECT_EQ(reboot(R"("*")").when, When::Always);
    EXPECT_EQ(reboot("3").when, When::OnStatus);
    EXPECT_EQ(reboot("3").statuses, (std::vector<uint8_t>{3}));
    EXPECT_EQ(reboot(R"("255")").statuses, (std::vector<uint8_t>{255}));
    EXPECT_EQ(reboot(R"("0")").when, When::OnStatus);
    EXPECT_EQ(reboot(R"("!0")").when, When::UnlessStatus);
    EXPECT_EQ(reboot(R"("!0")").statuses, (std::vector<uint8_t>{0}));
    EXPECT_EQ(reboot("[2, 1, 2]").when, When::OnStatus);
    EXPECT_EQ(reboot("[2, 1, 2]").statuses, (std::vector<uint8_t>{1, 2}));
    const std::string expected =
        ": expected true, false, \"*\", an exit status N (0 to 255), \"!N\" or an array of exit "
        "statuses";
    for (const char* bad : {R"("!x")", "-1", "256", "[true]", "[]", R"("")", R"("!")", "1.5", "{}",
                            R"("t")", R"("1,2")", R"("!256")", "[256]", R"(["1"])"}) {
        std::string text = std::string(R"({"RebootOnExit": )") + bad + "}";
        std::string message = error_of(text);
        EXPECT_TRUE(message.starts_with("config.json: RebootOnExit ")) << message;
        EXPECT_TRUE(message.ends_with(expected)) << message;
    }
    EXPECT_ERROR(R"({"RebootOnExit": "!x"})", "config.json: RebootOnExit '!x'" + expected);
    EXPECT_ERROR(R"({"RebootOnExit": -1})", "config.json: RebootOnExit -1" + expected);
    EXPECT_ERROR(R"({"RebootOnExit": 256})", "config.json: RebootOnExit 256" + expected);
    EXPECT_ERROR(R"({"RebootOnExit": [true]})", "config.json: RebootOnExit [true]" + expected);
}

// OPS: Debugflags ["reboot_on_exit"] is the same as "RebootOnExit": true.
TEST(ConfigFile, DebugflagsRebootOnExit) {
    Config c = parse(R"({"Debugflags": ["reboot_on_exit", "trace"]})");
    ASSERT_TRUE(c.reboot_on_exit);
    EXPECT_EQ(c.reboot_on_exit->when, When::OnFailure);
    EXPECT_EQ(c.debug_flags, (std::vector<std::string>{"trace"}));
    for (const char* agreeing : {"true", "false"}) {
        c = parse(std::string(R"({"RebootOnExit": )") + agreeing +
                  R"(, "Debugflags": ["reboot_on_exit"]})");
        EXPECT_EQ(c.reboot_on_exit->when, When::OnFailure) << agreeing;
    }
    EXPECT_ERROR(R"({"RebootOnExit": "*", "Debugflags": ["reboot_on_exit"]})",
                 "config.json: RebootOnExit and Debugflags \"reboot_on_exit\" disagree; keep one "
                 "of them");
    EXPECT_ERROR(R"({"Debugflags": ["futex_trace"]})",
                 "config.json: Debugflags 'futex_trace' is not supported yet (Phoenix has trace, "
                 "debugsyscalls, fault, noaslr and reboot_on_exit)");
    EXPECT_EQ(parse(R"({"Debugflags": ["debugsyscalls"]})").debug_flags,
              (std::vector<std::string>{"debugsyscalls"}));
}

TEST(ConfigFile, NoAslrIsTheNoaslrDebugFlag) {
    EXPECT_EQ(parse(R"({"NoASLR": true})").debug_flags, (std::vector<std::string>{"noaslr"}));
    EXPECT_EQ(parse(R"({"NoASLR": true, "Debugflags": ["noaslr"]})").debug_flags,
              (std::vector<std::string>{"noaslr"}));
    EXPECT_TRUE(parse(R"({"NoASLR": false})").debug_flags.empty());
    EXPECT_ERROR_STARTS(R"({"NoASLR": "yes"})", "config.json: NoASLR");
}

TEST(ConfigFile, ManifestPassthroughExitKeys) {
    Config c = parse(R"({"ManifestPassthrough": {"expected_exit_code": [4, 3], "idle_on_exit": "t",
                          "reboot_on_exit": "!0", "exec_protection": "t"}})");
    EXPECT_EQ(c.expected_exit_codes, (std::vector<uint8_t>{3, 4}));
    EXPECT_TRUE(c.idle_on_exit);
    ASSERT_TRUE(c.reboot_on_exit);
    EXPECT_EQ(c.reboot_on_exit->when, When::UnlessStatus);
    ASSERT_EQ(c.manifest_passthrough.size(), 1u);  // the others stay for the image to refuse
    EXPECT_EQ(c.manifest_passthrough[0].first, "exec_protection");
    EXPECT_EQ(parse(R"({"ManifestPassthrough": {"expected_exit_code": "7"}})").expected_exit_codes,
              (std::vector<uint8_t>{7}));
    EXPECT_FALSE(parse(R"({"ManifestPassthrough": {"idle_on_exit": false}})").idle_on_exit);
    EXPECT_ERROR_STARTS(R"({"ManifestPassthrough": {"expected_exit_code": "*"}})",
                        "config.json: ManifestPassthrough.expected_exit_code ");
    EXPECT_ERROR_STARTS(R"({"ManifestPassthrough": {"expected_exit_code": 300}})",
                        "config.json: ManifestPassthrough.expected_exit_code ");
    EXPECT_ERROR_STARTS(R"({"ManifestPassthrough": {"idle_on_exit": 1}})",
                        "config.json: ManifestPassthrough.idle_on_exit ");
    EXPECT_ERROR(R"({"RebootOnExit": true, "ManifestPassthrough": {"reboot_on_exit": "*"}})",
                 "config.json: ManifestPassthrough.reboot_on_exit and RebootOnExit both say when to "
                 "reboot; keep one of them");
}

TEST(ConfigFile, RestartPolicyForms) {
    EXPECT_EQ(parse(R"({"RestartPolicy": "never"})").restart_policy, phx::RestartPolicy::Never);
    EXPECT_EQ(parse(R"({"RestartPolicy": "always"})").restart_policy, phx::RestartPolicy::Always);
    EXPECT_ERROR(R"({"RestartPolicy": "Always"})",
                 "config.json: RestartPolicy 'Always': expected \"never\", \"on-failure\" or "
                 "\"always\"");
    EXPECT_ERROR(R"({"RestartPolicy": true})", "config.json: RestartPolicy must be a string");
}

uint64_t volume(std::string_view size) {
    auto c = parse(std::string(R"({"BaseVolumeSz": ")") + std::string(size) + "\"}");
    return c.base_volume_bytes.value_or(0);
}

TEST(ConfigFile, BaseVolumeSzFormsAsOpsReadsThem) {
    EXPECT_EQ(volume("100m"), 100u << 20);
    EXPECT_EQ(volume("100M"), 100u << 20);
    EXPECT_EQ(volume("1g"), 1u << 30);
    EXPECT_EQ(volume("1G"), 1u << 30);
    EXPECT_EQ(volume("64k"), 64u << 10);
    EXPECT_EQ(volume("1048576"), 1u << 20);  // bare digits are bytes
    EXPECT_EQ(volume("1000"), 1024u);        // rounded up to whole 512-byte sectors, as OPS does
    EXPECT_EQ(volume("1"), 512u);
    EXPECT_EQ(volume("1024g"), uint64_t(1) << 40);
    const char* units = ": the unit is one letter: k, m or g (as in OPS)";
    EXPECT_ERROR(R"({"BaseVolumeSz": "1mb"})",
                 std::string("config.json: BaseVolumeSz '1mb'") + units);
    EXPECT_ERROR(R"({"BaseVolumeSz": "5GB"})",
                 std::string("config.json: BaseVolumeSz '5GB'") + units);
    EXPECT_ERROR(R"({"BaseVolumeSz": "1t"})",
                 std::string("config.json: BaseVolumeSz '1t'") + units);
    EXPECT_ERROR(R"({"BaseVolumeSz": "1.5g"})",
                 std::string("config.json: BaseVolumeSz '1.5g'") + units);
    EXPECT_ERROR(R"({"BaseVolumeSz": "1 m"})",
                 std::string("config.json: BaseVolumeSz '1 m'") + units);
    const char* expected = ": expected a size like \"100m\", \"1g\" or a number of bytes";
    for (const char* bad : {"", "m", "-1m", "+1m", " 1m"})
        EXPECT_ERROR(std::string(R"({"BaseVolumeSz": ")") + bad + "\"}",
                     std::string("config.json: BaseVolumeSz '") + bad + "'" + expected);
    EXPECT_ERROR(R"({"BaseVolumeSz": "0"})", "config.json: BaseVolumeSz '0': must be more than 0");
    EXPECT_ERROR(R"({"BaseVolumeSz": "99999999999g"})",
                 "config.json: BaseVolumeSz '99999999999g': too large");
}

std::vector<PortRange> ports(std::string_view entries) {
    return parse(std::string(R"({"RunConfig": {"Ports": )") + std::string(entries) + "}}")
        .run.ports;
}

TEST(ConfigFile, PortsFormsAsOpsWritesThem) {
    EXPECT_EQ(ports(R"(["8080"])"), (std::vector<PortRange>{{8080, 8080}}));
    EXPECT_EQ(ports(R"(["1", "65535"])"), (std::vector<PortRange>{{1, 1}, {65535, 65535}}));
    EXPECT_EQ(ports(R"(["80-90"])"), (std::vector<PortRange>{{80, 90}}));
    EXPECT_EQ(ports(R"(["80-80"])"), (std::vector<PortRange>{{80, 80}}));
    EXPECT_EQ(ports(R"(["80,443-444"])"), (std::vector<PortRange>{{80, 80}, {443, 444}}));
    EXPECT_EQ(ports("[]"), (std::vector<PortRange>{}));
    const char* expected =
        ": expected a port like \"8080\", a range like \"8000-8010\" or a comma-separated list "
        "of those";
    EXPECT_ERROR(R"({"RunConfig": {"Ports": ["8080:80"]}})",
                 std::string("config.json: RunConfig.Ports[0] '8080:80'") + expected +
                     " (OPS has no host:guest form: a port is forwarded to itself)");
    for (const char* bad : {"80-", "-80", "a", "80,,81", " 80", "80,", "80-90-100", "65536",
                            "99999999999999999999", "0x50"})
        EXPECT_ERROR(std::string(R"({"RunConfig": {"Ports": ["80", ")") + bad + "\"]}}",
                     std::string("config.json: RunConfig.Ports[1] '") + bad + "'" + expected);
    for (const char* bad : {"0", "90-80", "0-5"})
        EXPECT_ERROR(std::string(R"({"RunConfig": {"Ports": [")") + bad + "\"]}}",
                     std::string("config.json: RunConfig.Ports[0] '") + bad +
                         "': ports are 1 to 65535, a range low-high");
    EXPECT_ERROR(R"({"RunConfig": {"Ports": [""]}})",
                 "config.json: RunConfig.Ports[0] must not be empty");
    EXPECT_ERROR(R"({"RunConfig": {"Ports": [8008]}})",
                 "config.json: RunConfig.Ports must be an array of strings (write \"8008\", not "
                 "8008)");
    EXPECT_ERROR(R"({"RunConfig": {"Ports": "80"}})",
                 "config.json: RunConfig.Ports must be an array of strings");
}

TEST(ConfigFile, NameServersAreIpv4Addresses) {
    EXPECT_EQ(parse(R"({"NameServers": ["0.0.0.0", "255.255.255.255"]})").name_servers.size(), 2u);
    for (const char* bad : {"1.2.3", "256.1.1.1", "01.2.3.4", "::1", "1.2.3.4.5", "a.b.c.d",
                            "1.2.3.4 ", "1..2.3", "dns.google", "1.2.3.-4"})
        EXPECT_ERROR(std::string(R"({"NameServers": [")") + bad + "\"]}",
                     std::string("config.json: NameServers[0] '") + bad +
                         "': expected an IPv4 address like \"8.8.8.8\" (Phoenix has no IPv6 yet)");
}

TEST(ConfigFile, EnvEntriesAreChecked) {
    EXPECT_ERROR(R"({"Env": {"A=B": "1"}})", "config.json: Env key 'A=B' contains '='");
    EXPECT_ERROR(R"({"Env": {"": "1"}})", "config.json: Env key '' must not be empty");
    EXPECT_ERROR("{\"Env\": {\"A\": \"x\\u0000\"}}", "config.json: 'Env.A' contains a NUL byte");
}

TEST(ConfigFile, MemoryReusesThePhxRunGrammar) {
    EXPECT_EQ(parse(R"({"RunConfig": {"Memory": "2G"}})").run.memory_mib, 2048u);
    EXPECT_EQ(parse(R"({"RunConfig": {"Memory": "1536"}})").run.memory_mib, 1536u);
    EXPECT_ERROR(R"({"RunConfig": {"Memory": "32M"}})",
                 "config.json: RunConfig.Memory '32M': at least 64M is needed");
    EXPECT_ERROR(R"({"RunConfig": {"Memory": "lots"}})",
                 "config.json: RunConfig.Memory 'lots': expected a size like 512M, 2G or 1024 "
                 "(MiB)");
}

TEST(ConfigFile, PathsStayInsideTheImage) {
    EXPECT_ERROR(R"({"Files": ["../secret"]})",
                 "config.json: Files[0] '../secret': '..' would leave the image's root");
    EXPECT_ERROR(R"({"Dirs": ["a/../../b"]})",
                 "config.json: Dirs[0] 'a/../../b': '..' would leave the image's root");
    EXPECT_EQ(parse(R"({"Files": ["a..b/..c"]})").files, (std::vector<std::string>{"a..b/..c"}));
    EXPECT_ERROR(R"({"MapDirs": {"a": ""}})", "config.json: 'MapDirs.a' must not be empty");
    EXPECT_ERROR(R"({"ManifestPassthrough": {"": "t"}})",
                 "config.json: ManifestPassthrough has an empty key");
}

// Configurations written in OPS's documentation (nanovms/ops-documentation, configuration.md)
// either parse unchanged or fail only because a key is not supported yet. The docs' sample at
// the end of that page is shown as OPS itself accepts it: it misspells MapDirs as "MapsDirs",
// carries "Mkfs" and "DiskImage" (no longer OPS keys) and writes Ports as [8008], all of which
// OPS's decoder (DisallowUnknownFields, Ports []string) refuses too.
TEST(ConfigFile, OpsDocumentationExamples) {
    Config c = parse(R"({
        "Args": ["--report-on-fatalerror", "ex.js"],
        "Files": ["ex.js"],
        "Dirs": ["myapp/static"],
        "Env": {"Environment": "development", "NODE_DEBUG": "*"},
        "MapDirs": {"/etc/ssl/certs/*": "/usr/lib/ssl/certs"},
        "NameServers": ["10.8.0.1"],
        "BaseVolumeSz": "100m",
        "RebootOnExit": true,
        "Debugflags": ["reboot_on_exit"],
        "ManifestPassthrough": {"exec_protection": "t", "cwd": "/my_new/path",
                                "consoles": ["+net", "-serial", "-vga"]},
        "Kernel": "nanos/output/platform/pc/bin/kernel.img",
        "RunConfig": {"Accel": true, "CPUs": 2, "Memory": "2G", "Ports": ["80", "8008"],
                      "Verbose": true},
        "CloudConfig": {"BucketName": "my-bucket", "Platform": "gcp", "ProjectID": "proj-1000",
                        "Zone": "us-west1-b", "Flavor": "t2.micro", "ImageName": "web-server",
                        "Tags": [{"key": "instance-owner", "value": "joe-smith"},
                                 {"key": "function", "value": "web-server"}]}
    })");
    EXPECT_EQ(c.base_volume_bytes, 100u << 20);
    EXPECT_EQ(c.run.ports, (std::vector<PortRange>{{80, 80}, {8008, 8008}}));

    auto sample = nlohmann::json::parse(R"({
        "Files": ["ex.js"],
        "Dirs": ["src"],
        "Args": ["ex.js "],
        "Env": {"NODE_DEBUG": "*", "NODE_DEBUG_NATIVE": "*"},
        "MapDirs": {"src": "/myapp/code"},
        "Boot": "./staging/boot2.img",
        "Kernel": "./staging/stage4.img",
        "NameServers": ["10.8.0.1"],
        "RunConfig": {"Verbose": true, "Bridged": true, "Ports": ["8008"], "Memory": "2G"}
    })");
    // Drop each refused key in turn: every failure on the way must be "not supported yet".
    std::vector<std::string> refused;
    while (true) {
        std::string message = error_of(sample.dump());
        if (message == "(no error)") break;
        const std::string prefix = "config.json: ", suffix = " is not supported yet";
        ASSERT_TRUE(message.starts_with(prefix) && message.ends_with(suffix)) << message;
        std::string key =
            message.substr(prefix.size(), message.size() - prefix.size() - suffix.size());
        refused.push_back(key);
        if (key.starts_with("RunConfig."))
            sample["RunConfig"].erase(key.substr(10));
        else
            sample.erase(key);
    }
    EXPECT_EQ(refused, (std::vector<std::string>{"Boot", "RunConfig.Bridged"}));
}

TEST(ConfigFile, LoadConfigReadsTheFileAndNamesIt) {
    phx::TempDir dir;
    std::string path = dir.file("config.json");
    std::ofstream(path) << R"({"Args": ["x"]})";
    EXPECT_EQ(phx::load_config(path).args, (std::vector<std::string>{"x"}));
    try {
        phx::load_config(dir.file("missing.json"));
        FAIL();
    } catch (const phx::PhxError& e) {
        EXPECT_EQ(e.status(), phx::kExitUsage);
        EXPECT_EQ(std::string(e.what()),
                  dir.file("missing.json") + ": cannot read: No such file or directory");
    }
    try {
        phx::load_config(dir.path());
        FAIL();
    } catch (const phx::PhxError& e) {
        EXPECT_EQ(std::string(e.what()), dir.path() + ": cannot read: Is a directory");
    }
    std::ofstream(dir.file("bad.json")) << "{\n\"Args\": [}";
    try {
        phx::load_config(dir.file("bad.json"));
        FAIL();
    } catch (const phx::PhxError& e) {
        EXPECT_TRUE(std::string(e.what()).starts_with(dir.file("bad.json") + ":2:10: syntax error"))
            << e.what();
    }
}

}  // namespace
