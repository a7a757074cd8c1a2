// config.json, the configuration file of OPS (nanovms/ops, types.Config), read into a typed
// Config. docs/config.md is the reference: the keys Phoenix honours, the OPS keys it refuses
// ("not supported yet"), and where Phoenix and OPS differ.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace phx {

// RebootOnExit, with Nanos's reboot_on_exit semantics: which exit statuses of the program make
// the kernel reset the VM (phx then boots a fresh one, within the restart limits) instead of
// powering it off. Parsed and validated here; carried out by the kernel and the runner.
struct RebootOnExit {
    enum class When {
        Never,         // false
        OnFailure,     // true (Nanos "t"; also Debugflags "reboot_on_exit"): any status but 0
        Always,        // "*": any status, 0 included
        OnStatus,      // 3, "3" or [1, 2]: a status listed in `statuses`
        UnlessStatus,  // "!0": any status but statuses[0]
    };
    When when = When::Never;
    std::vector<uint8_t> statuses;  // OnStatus: sorted, unique, at least one; UnlessStatus: one
};

// RestartPolicy (Phoenix's own key): whether phx starts a fresh VM after this one ends.
enum class RestartPolicy {
    Never,      // "never": the first exit or guest reset ends the run
    OnFailure,  // "on-failure": restart after a guest reset or a failed exit (status != 0)
    Always,     // "always": restart after every exit and reset
};

// One RunConfig.Ports (TCP) or UDPPorts entry: the ports first..last (first == last for a
// single port), each forwarded from the host to the same port in the guest.
struct PortRange {
    uint16_t first = 0;
    uint16_t last = 0;
    bool operator==(const PortRange&) const = default;
};

// RunConfig: how the VM runs. Unset optionals leave phx run's defaults.
struct RunConfig {
    std::vector<PortRange> ports;                // Ports: "8080", "8000-8010", "80,443"
    std::vector<PortRange> udp_ports;            // UDPPorts: the same forms, UDP
    std::optional<std::string> tap_name;         // TapName: run on this TAP device (phx run --tap)
    std::optional<std::string> ip_address;       // IPAddress: a static guest address (no DHCP)
    std::optional<std::string> netmask;          // NetMask: with IPAddress (default 255.255.255.0)
    std::optional<std::string> gateway;          // Gateway: with IPAddress
    std::optional<uint64_t> memory_mib;          // Memory: "512M", "2G" (phx/config/memory_size.h)
    std::optional<uint32_t> cpus;                // CPUs: 1 or more
    std::optional<bool> accel;                   // Accel: true = --accel auto, false = --accel tcg
    std::optional<bool> verbose;                 // Verbose: phx run -v
    std::optional<uint32_t> max_restarts;        // MaxRestarts (Phoenix): --max-restarts
    std::optional<double> restart_window_s;      // RestartWindow (Phoenix): seconds, >= 0
    std::optional<uint64_t> restart_backoff_ms;  // RestartBackoff (Phoenix): milliseconds
    std::optional<uint32_t> keep_crash_reports;  // KeepCrashReports (Phoenix): --keep-crash-reports
};

// CloudConfig.Tags entry.
struct CloudTag {
    std::string key;
    std::string value;
};

// CloudConfig: where `phx deploy` (a later issue) puts the image. Kept as OPS spells the
// values, unvalidated beyond their JSON type; an empty string means unset, as in OPS.
struct CloudConfig {
    std::string platform;          // Platform: "gcp", "aws", "azure", "onprem", ...
    std::string project_id;        // ProjectID
    std::string zone;              // Zone
    std::string bucket_name;       // BucketName
    std::string bucket_namespace;  // BucketNamespace (OCI)
    std::string image_name;        // ImageName
    std::string image_type;        // ImageType
    std::string flavor;            // Flavor: the machine type, e.g. "t2.micro"
    std::string vpc;               // VPC
    std::string subnet;            // Subnet
    std::string security_group;    // SecurityGroup
    std::string domain_name;       // DomainName
    std::string static_ip;         // StaticIP
    std::string instance_profile;  // InstanceProfile (AWS IAM role)
    std::vector<CloudTag> tags;    // Tags: [{"key": ..., "value": ...}]
};

// Everything config.json said that Phoenix honours. Absent keys leave empty vectors and
// unset optionals; paths are kept as written (relative to the current directory, as in OPS).
struct Config {
    std::optional<std::string> program;  // Program: host path of the ELF
    // Args: the program's argv[1..]. As in OPS, argv[0] is never taken from Args: it is the
    // program's path in the image, "/<file name>".
    std::vector<std::string> args;
    std::vector<std::pair<std::string, std::string>> env;  // Env: (name, value), sorted by name
    std::vector<std::string> dirs;   // Dirs: host directories, copied to the same path
    std::vector<std::string> files;  // Files: host files, copied to the same path
    // MapDirs: (host path or glob, image directory), sorted by the host side.
    std::vector<std::pair<std::string, std::string>> map_dirs;
    // BaseVolumeSz: the image's minimum size in bytes, rounded up to 512-byte sectors.
    std::optional<uint64_t> base_volume_bytes;
    // Debugflags: kernel debug flag names ("trace", "debugsyscalls", "fault"), in order, each
    // once. "reboot_on_exit" is not listed here: it sets reboot_on_exit instead.
    std::vector<std::string> debug_flags;
    std::vector<std::string> name_servers;  // NameServers: IPv4 addresses, dotted quads
    // ManifestPassthrough: (key, the value as compact JSON text), sorted by key.
    std::vector<std::pair<std::string, std::string>> manifest_passthrough;
    std::optional<std::string> kernel;            // Kernel: host path of the Phoenix kernel
    std::optional<RebootOnExit> reboot_on_exit;   // RebootOnExit
    std::optional<RestartPolicy> restart_policy;  // RestartPolicy (Phoenix)
    // ManifestPassthrough's expected_exit_code (statuses that count as success, sorted) and
    // idle_on_exit (halt instead of powering off), Nanos's companions of reboot_on_exit.
    std::vector<uint8_t> expected_exit_codes;
    bool idle_on_exit = false;
    RunConfig run;                                // RunConfig
    CloudConfig cloud;                            // CloudConfig
};

// Reads and parses the file at `path`. Errors name `path` as given: a missing or unreadable
// file, malformed JSON ("path:LINE:COLUMN: syntax error: ..."), and everything parse_config
// refuses. All throw PhxError(kExitUsage).
Config load_config(const std::string& path);

// Parses config.json text; `name_for_errors` starts every error message. Throws
// PhxError(kExitUsage) for malformed JSON, a key OPS knows that Phoenix does not support yet,
// a key nobody knows (naming the closest known one), a value of the wrong type or out of range.
Config parse_config(std::string_view text, const std::string& name_for_errors);

}  // namespace phx
