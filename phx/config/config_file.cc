// config.json -> Config. Keys are matched the way OPS's Go encoding/json matches struct fields
// (case-insensitively), every key OPS knows is either honoured or refused by name, and every
// value is checked before anything uses it. Longer than most files because the key tables and
// the value grammars belong together; docs/config.md follows this file section by section.
#include "phx/config/config_file.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <span>
#include <system_error>

#include "phx/config/env_entry.h"
#include "phx/config/memory_size.h"
#include "phx/error.h"
#include "phx/file_io.h"

namespace phx {

namespace {

using Json = nlohmann::json;
using Keys = std::span<const std::string_view>;

// The keys of OPS's types.Config, RunConfig, ProviderConfig and Tag (nanovms/ops
// types/config.go), split into the ones Phoenix honours (plus Phoenix's own) and the ones it
// refuses. A key in neither list is unknown to both.
// clang-format off
constexpr std::string_view kTopHonoured[] = {
    "Args", "BaseVolumeSz", "CloudConfig", "Debugflags", "Dirs", "Env", "Files", "Kernel",
    "ManifestPassthrough", "MapDirs", "NameServers", "NoASLR", "Program", "RebootOnExit",
    "RestartPolicy", "RunConfig"};
constexpr std::string_view kTopRefused[] = {
    "Boot", "BuildDir", "Description", "DisableArgsCopy", "Force", "Home", "KlibDir", "Klibs",
    "Language", "LocalFilesParentDirectory", "Mounts", "NanosVersion", "NightlyBuild", "NoTrace",
    "PackageBaseURL", "PackageManifestURL", "ProgramPath", "Runtime", "TargetConfig",
    "TargetRoot", "TFSv4", "Uefi", "UefiBoot", "Version", "VolumesDir"};
constexpr std::string_view kRunHonoured[] = {
    "Accel", "CPUs", "Gateway", "IPAddress", "KeepCrashReports", "MaxRestarts", "Memory",
    "NetMask", "Ports", "RestartBackoff", "RestartWindow", "TapName", "UDPPorts", "Verbose"};
constexpr std::string_view kRunRefused[] = {
    "AtExit", "AttachVolumeOnInstanceCreate", "Background", "BridgeIPAddress", "BridgeName",
    "Bridged", "CanIPForward", "Debug", "GPUType", "GPUs", "GdbPort",
    "IPv6Address", "ImageName", "InstanceGroup", "InstanceName", "JSON", "Kernel", "Klibs",
    "Mgmt", "Mounts", "Nics", "QMP", "ShowDebug", "ShowErrors", "ShowWarnings",
    "ThreadsPerCore", "Vga", "VolumeSizeInGb"};
constexpr std::string_view kCloudHonoured[] = {
    "BucketName", "BucketNamespace", "DomainName", "Flavor", "ImageName", "ImageType",
    "InstanceProfile", "Platform", "ProjectID", "SecurityGroup", "StaticIP", "Subnet", "Tags",
    "VPC", "Zone"};
constexpr std::string_view kCloudRefused[] = {
    "ConfidentialVM", "DedicatedHostID", "EnableIPv6", "KMS", "RootVolume", "SkipImportVerify",
    "Spot", "UserData"};
// clang-format on
constexpr std::string_view kTagHonoured[] = {"key", "value"};
constexpr std::string_view kTagRefused[] = {"attribute"};

// Debug flags the Phoenix kernel acts on (kernel/proc/loader.cc, apply_debug_flags).
constexpr std::string_view kKernelDebugFlags[] = {"trace", "debugsyscalls", "fault", "noaslr"};
constexpr std::string_view kNoAslrFlag = "noaslr";
constexpr std::string_view kRebootOnExitFlag = "reboot_on_exit";

constexpr int kMaxDepth = 64;                // nesting that any real config stays far below
constexpr size_t kMaxFileBytes = 16u << 20;  // 16 MiB

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

bool same_key(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return ascii_lower(x) == ascii_lower(y);
           });
}

// Levenshtein distance, case-insensitive (the closest known key for "did you mean").
size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t substitute = diagonal + (ascii_lower(a[i - 1]) == ascii_lower(b[j - 1]) ? 0 : 1);
            diagonal = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitute});
        }
    }
    return row[b.size()];
}

// A user's text inside an error message: control bytes shown as \xNN.
std::string escape(std::string_view text) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : text) {
        if (c < 0x20 || c == 0x7f) {
            out += "\\x";
            out += kHex[c >> 4];
            out += kHex[c & 15];
        } else {
            out += char(c);
        }
    }
    return out;
}

std::string quote(std::string_view text) { return "'" + escape(text) + "'"; }

const char* type_name(const Json& value) {
    switch (value.type()) {
        case Json::value_t::null:
            return "null";
        case Json::value_t::object:
            return "an object";
        case Json::value_t::array:
            return "an array";
        case Json::value_t::string:
            return "a string";
        case Json::value_t::boolean:
            return "a boolean";
        case Json::value_t::binary:
            return "binary";
        case Json::value_t::discarded:
            return "nothing";
        default:
            return "a number";
    }
}

// The message of a PhxError thrown by the -m / -e helpers, without their "<flag> <text>: ".
std::string reason(const PhxError& error, const std::string& prefix) {
    std::string_view what = error.what();
    if (what.starts_with(prefix)) what.remove_prefix(prefix.size());
    return std::string(what);
}

bool parse_decimal(std::string_view digits, uint64_t max, uint64_t& out) {
    if (digits.empty() || digits.size() > 19) return false;
    uint64_t value = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + uint64_t(c - '0');
    }
    if (value > max) return false;
    out = value;
    return true;
}

// A dotted-quad IPv4 address, strictly: four decimal parts 0..255 without leading zeros (as
// Go's net.ParseIP and glibc's inet_pton read them).
bool is_ipv4(std::string_view text) {
    for (int part = 0; part < 4; ++part) {
        size_t end = part < 3 ? text.find('.') : text.size();
        if (end == std::string_view::npos) return false;
        std::string_view digits = text.substr(0, end);
        uint64_t value;
        if (digits.size() > 3 || !parse_decimal(digits, 255, value)) return false;
        if (digits.size() > 1 && digits[0] == '0') return false;
        text.remove_prefix(part < 3 ? end + 1 : end);
    }
    return true;
}

// One field of an object, found under its canonical name.
struct Field {
    std::string path;  // as the user spelled it, e.g. "RunConfig.ports"
    const Json* value;
};
using Fields = std::map<std::string_view, Field>;

// One level of the key tables: an object's known keys.
struct Level {
    std::string where;  // "" at the top, else the object's path ("RunConfig")
    Keys honoured;
    Keys refused;
};

class Reader {
public:
    explicit Reader(const std::string& name) : m_name(name) {}

    [[noreturn]] void fail(const std::string& what) const {
        throw PhxError(kExitUsage, m_name + ": " + what);
    }

    // Matches the object's keys against the level: refused and unknown keys fail here, before
    // any value is looked at; keys with a null value count as absent (as in Go).
    Fields resolve(const Json& object, const Level& level) const {
        Fields fields;
        std::string prefix = level.where.empty() ? "" : level.where + ".";
        std::string in = level.where.empty() ? "" : " in " + level.where;
        for (auto it = object.begin(); it != object.end(); ++it) {
            const std::string& key = it.key();
            auto canonical = find(key, level.honoured);
            if (!canonical) {
                if (find(key, level.refused)) fail(prefix + key + " is not supported yet");
                fail("unknown key " + quote(key) + in + "; did you mean '" +
                     std::string(closest(key, level)) + "'?");
            }
            auto [entry, added] = fields.try_emplace(*canonical, Field{prefix + key, &*it});
            if (!added)
                fail(quote(entry->second.path) + " and " + quote(prefix + key) +
                     " are the same key (keys match case-insensitively, as in OPS)");
        }
        std::erase_if(fields, [](const auto& entry) { return entry.second.value->is_null(); });
        return fields;
    }

    std::string string(const Field& field) const {
        if (!field.value->is_string()) fail(field.path + " must be a string");
        return field.value->get<std::string>();
    }

    // A path or name: a string, not empty, without NUL bytes.
    std::string text(const Field& field) const {
        std::string value = string(field);
        check_text(field.path, value);
        return value;
    }

    std::vector<std::string> texts(const Field& field) const {
        const char* expected = " must be an array of strings";
        if (!field.value->is_array()) fail(field.path + expected);
        std::vector<std::string> out;
        for (size_t i = 0; i < field.value->size(); ++i) {
            const Json& item = (*field.value)[i];
            std::string path = field.path + "[" + std::to_string(i) + "]";
            if (!item.is_string())
                fail(field.path + expected + "; " + path + " is " + type_name(item));
            out.push_back(item.get<std::string>());
            check_text(path, out.back());
        }
        return out;
    }

    // An object of strings, as (key, value) pairs sorted by key (nlohmann's object order).
    std::vector<std::pair<std::string, std::string>> text_map(const Field& field) const {
        const char* expected = " must be an object whose values are strings";
        if (!field.value->is_object()) fail(field.path + expected);
        std::vector<std::pair<std::string, std::string>> out;
        for (auto it = field.value->begin(); it != field.value->end(); ++it) {
            const std::string& key = it.key();
            const Json& item = *it;
            std::string path = field.path + "." + key;
            if (!item.is_string())
                fail(field.path + expected + "; " + quote(path) + " is " + type_name(item));
            check_text(field.path + " key " + quote(key), key);
            out.emplace_back(key, item.get<std::string>());
            if (out.back().second.find('\0') != std::string::npos)
                fail(quote(path) + " contains a NUL byte");
        }
        return out;
    }

    bool boolean(const Field& field) const {
        if (!field.value->is_boolean()) fail(field.path + " must be true or false");
        return field.value->get<bool>();
    }

    // A JSON integer (no fraction, no exponent: Go's int fields refuse those too) in [min, max].
    uint64_t whole(const Field& field, uint64_t min, uint64_t max, std::string_view unit) const {
        const Json& v = *field.value;
        bool in_range =
            v.is_number_unsigned() && v.get<uint64_t>() >= min && v.get<uint64_t>() <= max;
        if (!in_range)
            fail(field.path + " must be a whole number" + std::string(unit) + " from " +
                 std::to_string(min) + " to " + std::to_string(max));
        return v.get<uint64_t>();
    }

    const Json& object(const Field& field) const {
        if (!field.value->is_object()) fail(field.path + " must be an object");
        return *field.value;
    }

private:
    void check_text(const std::string& path, const std::string& value) const {
        if (value.empty()) fail(path + " must not be empty");
        if (value.find('\0') != std::string::npos) fail(path + " contains a NUL byte");
    }

    static std::optional<std::string_view> find(std::string_view key, Keys keys) {
        for (auto known : keys)
            if (same_key(key, known)) return known;
        return std::nullopt;
    }

    static std::string_view closest(std::string_view key, const Level& level) {
        std::string_view best;
        size_t best_distance = std::numeric_limits<size_t>::max();
        for (Keys keys : {level.honoured, level.refused})
            for (auto known : keys)
                if (size_t d = edit_distance(key, known); d < best_distance) {
                    best = known;
                    best_distance = d;
                }
        return best;
    }

    const std::string& m_name;
};

const Field* get(const Fields& fields, std::string_view name) {
    auto it = fields.find(name);
    return it == fields.end() ? nullptr : &it->second;
}

// --- Values with a grammar of their own ----------------------------------------------------

// OPS's BaseVolumeSz (ops fs.MkfsCommand.SetFileSystemSize): digits, then nothing (bytes) or
// one of k, m, g in either case (powers of 1024); the size is rounded up to whole sectors.
uint64_t parse_base_volume(const Reader& reader, const Field& field) {
    std::string text = reader.string(field);
    auto bad = [&](const char* why) { reader.fail(field.path + " " + quote(text) + ": " + why); };
    size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    if (digits == 0) bad("expected a size like \"100m\", \"1g\" or a number of bytes");
    uint64_t unit = 1;
    if (digits < text.size()) {
        std::string_view suffix = std::string_view(text).substr(digits);
        if (suffix.size() != 1) bad("the unit is one letter: k, m or g (as in OPS)");
        switch (ascii_lower(suffix[0])) {
            case 'k':
                unit = uint64_t(1) << 10;
                break;
            case 'm':
                unit = uint64_t(1) << 20;
                break;
            case 'g':
                unit = uint64_t(1) << 30;
                break;
            default:
                bad("the unit is one letter: k, m or g (as in OPS)");
        }
    }
    constexpr uint64_t kMaxBytes = uint64_t(1) << 50;  // 1 PiB: far beyond any disk image
    uint64_t count;
    if (!parse_decimal(std::string_view(text).substr(0, digits), kMaxBytes / unit, count))
        bad("too large");
    if (count == 0) bad("must be more than 0");
    constexpr uint64_t kSector = 512;
    return (count * unit + kSector - 1) / kSector * kSector;
}

// One RunConfig.Ports string: "8080", "8000-8010", or several of those joined by commas (OPS's
// -p syntax, cmd/network_ports.go).
void parse_ports(const Reader& reader, const std::string& path, const std::string& text,
                 std::vector<PortRange>& out) {
    auto bad = [&]() {
        std::string hint = text.find(':') != std::string::npos
                               ? " (OPS has no host:guest form: a port is forwarded to itself)"
                               : "";
        reader.fail(path + " " + quote(text) +
                    ": expected a port like \"8080\", a range like \"8000-8010\" or a "
                    "comma-separated list of those" +
                    hint);
    };
    std::string_view rest = text;
    while (true) {
        size_t comma = rest.find(',');
        std::string_view item = rest.substr(0, comma);
        size_t dash = item.find('-');
        uint64_t first, last;
        if (!parse_decimal(item.substr(0, dash), 65535, first)) bad();
        last = first;
        if (dash != std::string_view::npos && !parse_decimal(item.substr(dash + 1), 65535, last))
            bad();
        if (first == 0 || last < first)
            reader.fail(path + " " + quote(text) + ": ports are 1 to 65535, a range low-high");
        out.push_back({uint16_t(first), uint16_t(last)});
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
}

// Nanos's reboot_on_exit (kernel vm_exit_match): true/false, "*", an exit status N (number or
// string), "!N", or an array of exit statuses.
RebootOnExit parse_reboot_on_exit(const Reader& reader, const Field& field) {
    const Json& v = *field.value;
    const std::string expected =
        ": expected true, false, \"*\", an exit status N (0 to 255), \"!N\" or an array of "
        "exit statuses";
    RebootOnExit out;
    uint64_t status;
    if (v.is_boolean()) {
        out.when = v.get<bool>() ? RebootOnExit::When::OnFailure : RebootOnExit::When::Never;
    } else if (v.is_number()) {
        if (!v.is_number_unsigned() || v.get<uint64_t>() > 255)
            reader.fail(field.path + " " + v.dump() + expected);
        out.when = RebootOnExit::When::OnStatus;
        out.statuses = {uint8_t(v.get<uint64_t>())};
    } else if (v.is_string()) {
        std::string_view text = v.get_ref<const std::string&>();
        if (text == "*") {
            out.when = RebootOnExit::When::Always;
        } else if (bool unless = text.starts_with('!');
                   parse_decimal(text.substr(unless ? 1 : 0), 255, status)) {
            out.when = unless ? RebootOnExit::When::UnlessStatus : RebootOnExit::When::OnStatus;
            out.statuses = {uint8_t(status)};
        } else {
            reader.fail(field.path + " " + quote(text) + expected);
        }
    } else if (v.is_array() && !v.empty()) {
        out.when = RebootOnExit::When::OnStatus;
        for (const Json& item : v) {
            if (!item.is_number_unsigned() || item.get<uint64_t>() > 255)
                reader.fail(field.path + " " + v.dump() + expected);
            out.statuses.push_back(uint8_t(item.get<uint64_t>()));
        }
        std::sort(out.statuses.begin(), out.statuses.end());
        out.statuses.erase(std::unique(out.statuses.begin(), out.statuses.end()),
                           out.statuses.end());
    } else {
        reader.fail(field.path + " " + v.dump() + expected);
    }
    return out;
}

RestartPolicy parse_restart_policy(const Reader& reader, const Field& field) {
    std::string text = reader.string(field);
    if (text == "never") return RestartPolicy::Never;
    if (text == "on-failure") return RestartPolicy::OnFailure;
    if (text == "always") return RestartPolicy::Always;
    reader.fail(field.path + " " + quote(text) +
                ": expected \"never\", \"on-failure\" or \"always\"");
}

// ManifestPassthrough: Nanos's exit settings become typed fields (reboot_on_exit is
// RebootOnExit's manifest name); every other key is kept as compact JSON text.
void read_manifest_passthrough(const Reader& reader, const Field& field, Config& config) {
    for (const auto& item : reader.object(field).items()) {
        if (item.key().empty()) reader.fail(field.path + " has an empty key");
        Field entry{field.path + "." + item.key(), &item.value()};
        const Json& v = item.value();
        if (item.key() == "reboot_on_exit") {
            if (config.reboot_on_exit)
                reader.fail(entry.path + " and RebootOnExit both say when to reboot; keep one of them");
            config.reboot_on_exit = parse_reboot_on_exit(reader, entry);
        } else if (item.key() == "expected_exit_code") {
            // A status (number or string) or an array of numbers, as reboot_on_exit's lists.
            RebootOnExit statuses = parse_reboot_on_exit(reader, entry);
            if (statuses.when != RebootOnExit::When::OnStatus)
                reader.fail(entry.path + " " + v.dump() + ": expected an exit status N (0 to 255) or an array of them");
            config.expected_exit_codes = statuses.statuses;
        } else if (item.key() == "idle_on_exit") {
            // A JSON boolean, or Nanos's manifest spellings "t"/"true"/"f"/"false".
            if (v.is_boolean())
                config.idle_on_exit = v.get<bool>();
            else if (v == "t" || v == "true" || v == "f" || v == "false")
                config.idle_on_exit = v == "t" || v == "true";
            else
                reader.fail(entry.path + " " + v.dump() + ": expected true or false");
        } else {
            config.manifest_passthrough.emplace_back(item.key(), v.dump());
        }
    }
}

// --- The levels -----------------------------------------------------------------------------

RunConfig read_run_config(const Reader& reader, const Json& object) {
    Fields f = reader.resolve(object, {"RunConfig", kRunHonoured, kRunRefused});
    RunConfig run;
    auto read_ports = [&](const char* key, std::vector<PortRange>& out) {
        auto* field = get(f, key);
        if (!field) return;
        // OPS's own sample config once wrote [8008]; Go refuses that too (ops-documentation#202).
        if (field->value->is_array())
            for (const Json& item : *field->value)
                if (item.is_number())
                    reader.fail(field->path + " must be an array of strings (write \"" +
                                item.dump() + "\", not " + item.dump() + ")");
        std::vector<std::string> entries = reader.texts(*field);
        for (size_t i = 0; i < entries.size(); ++i)
            parse_ports(reader, field->path + "[" + std::to_string(i) + "]", entries[i], out);
    };
    read_ports("Ports", run.ports);
    read_ports("UDPPorts", run.udp_ports);
    if (auto* field = get(f, "TapName")) {
        std::string name = reader.string(*field);
        // Linux interface names: IFNAMSIZ - 1 bytes, no '/' or whitespace.
        if (name.size() > 15 || name.find_first_of("/ \t\n:") != std::string::npos)
            reader.fail(field->path + " " + quote(name) +
                        ": expected a network interface name (at most 15 characters, no '/', ':' "
                        "or spaces)");
        if (!name.empty()) run.tap_name = name;  // "" is OPS's default: no TAP
    }
    // A static address (OPS's RunConfig.IPAddress/NetMask/Gateway): the kernel then skips DHCP.
    auto read_address = [&](const char* key, std::optional<std::string>& out) {
        auto* field = get(f, key);
        if (!field) return;
        std::string text = reader.string(*field);
        if (text.empty()) return;  // OPS's default: unset
        if (!is_ipv4(text))
            reader.fail(field->path + " " + quote(text) + ": expected an IPv4 address like \"10.0.2.15\"");
        out = text;
    };
    read_address("IPAddress", run.ip_address);
    read_address("NetMask", run.netmask);
    read_address("Gateway", run.gateway);
    if ((run.netmask || run.gateway) && !run.ip_address)
        reader.fail("RunConfig.NetMask and RunConfig.Gateway need RunConfig.IPAddress");
    if (auto* field = get(f, "Memory")) {
        std::string text = reader.string(*field);
        try {
            run.memory_mib = parse_memory_mib(text);
        } catch (const PhxError& e) {
            reader.fail(field->path + " " + quote(text) + ": " + reason(e, "-m " + text + ": "));
        }
    }
    constexpr uint64_t kU32 = std::numeric_limits<uint32_t>::max();
    if (auto* field = get(f, "CPUs")) run.cpus = uint32_t(reader.whole(*field, 1, kU32, ""));
    if (auto* field = get(f, "Accel")) run.accel = reader.boolean(*field);
    if (auto* field = get(f, "Verbose")) run.verbose = reader.boolean(*field);
    if (auto* field = get(f, "MaxRestarts"))
        run.max_restarts = uint32_t(reader.whole(*field, 0, kU32, ""));
    if (auto* field = get(f, "RestartWindow")) {
        const Json& v = *field->value;
        constexpr double kMaxWindow = 1e9;  // seconds; keeps window * 1000 exact in a uint64
        if (!v.is_number() || !(v.get<double>() >= 0 && v.get<double>() <= kMaxWindow))
            reader.fail(field->path + " must be a number of seconds from 0 to 1000000000");
        run.restart_window_s = v.get<double>();
    }
    if (auto* field = get(f, "RestartBackoff"))
        run.restart_backoff_ms = reader.whole(*field, 0, kU32, " of milliseconds");
    if (auto* field = get(f, "KeepCrashReports"))
        run.keep_crash_reports = uint32_t(reader.whole(*field, 0, kU32, ""));
    return run;
}

CloudConfig read_cloud_config(const Reader& reader, const Json& object) {
    Fields f = reader.resolve(object, {"CloudConfig", kCloudHonoured, kCloudRefused});
    CloudConfig cloud;
    std::pair<std::string_view, std::string*> strings[] = {
        {"BucketName", &cloud.bucket_name},
        {"BucketNamespace", &cloud.bucket_namespace},
        {"DomainName", &cloud.domain_name},
        {"Flavor", &cloud.flavor},
        {"ImageName", &cloud.image_name},
        {"ImageType", &cloud.image_type},
        {"InstanceProfile", &cloud.instance_profile},
        {"Platform", &cloud.platform},
        {"ProjectID", &cloud.project_id},
        {"SecurityGroup", &cloud.security_group},
        {"StaticIP", &cloud.static_ip},
        {"Subnet", &cloud.subnet},
        {"VPC", &cloud.vpc},
        {"Zone", &cloud.zone}};
    for (auto [name, out] : strings)
        if (auto* field = get(f, name)) *out = reader.string(*field);
    if (auto* field = get(f, "Tags")) {
        if (!field->value->is_array()) reader.fail(field->path + " must be an array of objects");
        for (size_t i = 0; i < field->value->size(); ++i) {
            std::string path = field->path + "[" + std::to_string(i) + "]";
            const Json& item = (*field->value)[i];
            if (!item.is_object()) reader.fail(path + " must be an object");
            Fields tag = reader.resolve(item, {path, kTagHonoured, kTagRefused});
            CloudTag out;
            if (auto* key = get(tag, "key")) out.key = reader.string(*key);
            if (auto* value = get(tag, "value")) out.value = reader.string(*value);
            cloud.tags.push_back(std::move(out));
        }
    }
    return cloud;
}

// Debugflags: kernel flags each once, in order; "reboot_on_exit" is OPS's other spelling of
// RebootOnExit true.
void read_debug_flags(const Reader& reader, const Field& field, Config& config) {
    std::vector<std::string> names = reader.texts(field);
    bool reboot_flag = false;
    for (const auto& name : names) {
        if (name == kRebootOnExitFlag) {
            reboot_flag = true;
            continue;
        }
        if (std::find(std::begin(kKernelDebugFlags), std::end(kKernelDebugFlags), name) ==
            std::end(kKernelDebugFlags))
            reader.fail(field.path + " " + quote(name) +
                        " is not supported yet (Phoenix has trace, debugsyscalls, fault, noaslr "
                        "and reboot_on_exit)");
        if (std::find(config.debug_flags.begin(), config.debug_flags.end(), name) ==
            config.debug_flags.end())
            config.debug_flags.push_back(name);
    }
    if (!reboot_flag) return;
    // OPS writes both into the manifest's reboot_on_exit; agreeing values are fine.
    using When = RebootOnExit::When;
    auto& reboot = config.reboot_on_exit;
    if (reboot && reboot->when != When::Never && reboot->when != When::OnFailure)
        reader.fail("RebootOnExit and " + field.path +
                    " \"reboot_on_exit\" disagree; keep one of them");
    reboot = RebootOnExit{When::OnFailure, {}};
}

Config read_config(const Reader& reader, const Json& top) {
    if (!top.is_object()) reader.fail("the top level must be a JSON object");
    Fields f = reader.resolve(top, {"", kTopHonoured, kTopRefused});
    Config config;
    if (auto* field = get(f, "Program")) config.program = reader.text(*field);
    if (auto* field = get(f, "Args")) config.args = reader.texts(*field);
    if (auto* field = get(f, "Env")) {
        config.env = reader.text_map(*field);
        for (const auto& [key, value] : config.env) {
            if (key.find('=') != std::string::npos)
                reader.fail(field->path + " key " + quote(key) + " contains '='");
            std::string entry = key + "=" + value;
            try {
                check_env_entry(entry);
            } catch (const PhxError& e) {
                reader.fail(field->path + " key " + quote(key) + ": " +
                            reason(e, "-e " + entry + ": "));
            }
        }
    }
    for (auto [name, out] : {std::pair{"Dirs", &config.dirs}, std::pair{"Files", &config.files}})
        if (auto* field = get(f, name)) {
            *out = reader.texts(*field);
            for (size_t i = 0; i < out->size(); ++i) {
                std::string padded = "/" + (*out)[i] + "/";
                if (padded.find("/../") != std::string::npos)
                    reader.fail(field->path + "[" + std::to_string(i) + "] " + quote((*out)[i]) +
                                ": '..' would leave the image's root");
            }
        }
    if (auto* field = get(f, "MapDirs")) {
        config.map_dirs = reader.text_map(*field);
        for (const auto& [from, to] : config.map_dirs)
            if (to.empty()) reader.fail(quote(field->path + "." + from) + " must not be empty");
    }
    if (auto* field = get(f, "BaseVolumeSz"))
        config.base_volume_bytes = parse_base_volume(reader, *field);
    if (auto* field = get(f, "NameServers")) {
        config.name_servers = reader.texts(*field);
        for (size_t i = 0; i < config.name_servers.size(); ++i)
            if (!is_ipv4(config.name_servers[i]))
                reader.fail(field->path + "[" + std::to_string(i) + "] " +
                            quote(config.name_servers[i]) +
                            ": expected an IPv4 address like \"8.8.8.8\" (Phoenix has no IPv6 "
                            "yet)");
    }
    if (auto* field = get(f, "Kernel")) config.kernel = reader.text(*field);
    if (auto* field = get(f, "RebootOnExit"))
        config.reboot_on_exit = parse_reboot_on_exit(reader, *field);
    if (auto* field = get(f, "Debugflags")) read_debug_flags(reader, *field, config);
    if (auto* field = get(f, "ManifestPassthrough")) read_manifest_passthrough(reader, *field, config);
    if (auto* field = get(f, "RestartPolicy"))
        config.restart_policy = parse_restart_policy(reader, *field);
    if (auto* field = get(f, "NoASLR"); field && reader.boolean(*field) &&
        std::find(config.debug_flags.begin(), config.debug_flags.end(), kNoAslrFlag) == config.debug_flags.end())
        config.debug_flags.emplace_back(kNoAslrFlag);
    if (auto* field = get(f, "RunConfig"))
        config.run = read_run_config(reader, reader.object(*field));
    if (auto* field = get(f, "CloudConfig"))
        config.cloud = read_cloud_config(reader, reader.object(*field));
    return config;
}

// --- JSON text ------------------------------------------------------------------------------

// Tracks where the parser is, to refuse duplicate keys (Go keeps the last one silently) and
// absurd nesting. nlohmann reports no positions to callbacks, so these errors name a path.
class ParseWatch {
public:
    explicit ParseWatch(const Reader& reader) : m_reader(reader) {}

    bool operator()(int depth, Json::parse_event_t event, const Json& parsed) {
        using Event = Json::parse_event_t;
        switch (event) {
            case Event::object_start:
            case Event::array_start:
                if (depth >= kMaxDepth)
                    m_reader.fail("nested more than " + std::to_string(kMaxDepth) + " levels deep");
                m_frames.push_back({child_path(), event == Event::array_start, 0, {}, {}});
                break;
            case Event::key: {
                Frame& frame = m_frames.back();
                frame.key = parsed.get<std::string>();
                if (!frame.keys.insert(frame.key).second)
                    m_reader.fail("duplicate key " + quote(frame.key) +
                                  (frame.path.empty() ? "" : " in " + frame.path));
                break;
            }
            case Event::object_end:
            case Event::array_end:
                m_frames.pop_back();
                next_element();
                break;
            case Event::value:
                next_element();
                break;
        }
        return true;
    }

private:
    struct Frame {
        std::string path;
        bool array;
        size_t index;
        std::string key;  // the object's latest key
        std::set<std::string> keys;
    };

    std::string child_path() const {
        if (m_frames.empty()) return "";
        const Frame& parent = m_frames.back();
        if (parent.array) return parent.path + "[" + std::to_string(parent.index) + "]";
        return parent.path.empty() ? parent.key : parent.path + "." + parent.key;
    }

    void next_element() {
        if (!m_frames.empty() && m_frames.back().array) ++m_frames.back().index;
    }

    const Reader& m_reader;
    std::vector<Frame> m_frames;
};

// nlohmann's messages read "[json.exception.parse_error.101] parse error at line 2, column
// 14: syntax error while parsing value - unexpected ']'; ..."; keep what follows the " - ".
std::string syntax_detail(std::string_view what) {
    size_t dash = what.find(" - ");
    if (dash != std::string_view::npos) return std::string(what.substr(dash + 3));
    size_t bracket = what.find("] ");
    return std::string(bracket == std::string_view::npos ? what : what.substr(bracket + 2));
}

Json parse_json(std::string_view text, const Reader& reader, const std::string& name) {
    ParseWatch watch(reader);
    try {
        return Json::parse(text, std::ref(watch));
    } catch (const Json::parse_error& e) {
        // e.byte is the 1-based index of the byte the parser stopped at (one past the end for
        // a truncated text); lines and columns count bytes, from 1.
        size_t at = std::min<size_t>(e.byte == 0 ? 0 : e.byte - 1, text.size());
        size_t newline = at == 0 ? std::string_view::npos : text.rfind('\n', at - 1);
        size_t line_start = newline == std::string_view::npos ? 0 : newline + 1;
        auto line = 1 + std::count(text.begin(), text.begin() + std::ptrdiff_t(at), '\n');
        throw PhxError(kExitUsage, name + ":" + std::to_string(line) + ":" +
                                       std::to_string(at - line_start + 1) +
                                       ": syntax error: " + escape(syntax_detail(e.what())));
    } catch (const Json::exception& e) {
        reader.fail(escape(syntax_detail(e.what())));
    }
}

}  // namespace

Config parse_config(std::string_view text, const std::string& name_for_errors) {
    Reader reader(name_for_errors);
    return read_config(reader, parse_json(text, reader, name_for_errors));
}

Config load_config(const std::string& path) {
    std::vector<std::byte> bytes;
    try {
        bytes = read_file(path);
    } catch (const std::system_error& e) {
        throw PhxError(kExitUsage, path + ": cannot read: " + e.code().message());
    }
    if (bytes.size() > kMaxFileBytes)
        throw PhxError(kExitUsage, path + ": larger than 16 MiB; not a config file?");
    return parse_config(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                        path);
}

}  // namespace phx
