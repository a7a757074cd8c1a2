// The exit policy's parsing and decisions (freestanding and hosted).
#include "lib/manifest/exit_policy.h"

#include "lib/manifest/manifest.h"

namespace lib::manifest {

namespace {

// "0".."255" without sign, spaces or leading zeros beyond a lone "0".
bool parse_status(std::string_view text, uint8_t& out) {
    if (text.empty() || text.size() > 3 || (text.size() > 1 && text[0] == '0')) return false;
    unsigned value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + unsigned(c - '0');
    }
    if (value > 255) return false;
    out = uint8_t(value);
    return true;
}

// "N" or "N,M,...": at least one status.
bool parse_status_list(std::string_view text, StatusSet& out) {
    if (text.empty()) return false;
    for (;;) {
        size_t comma = text.find(',');
        uint8_t status;
        if (!parse_status(text.substr(0, comma), status)) return false;
        out.add(status);
        if (comma == std::string_view::npos) return true;
        text.remove_prefix(comma + 1);
    }
}

bool parse_bool(std::string_view text, bool& out) {
    if (text == "t" || text == "true") {
        out = true;
        return true;
    }
    if (text == "f" || text == "false") {
        out = false;
        return true;
    }
    return false;
}

}  // namespace

Result<ExitPolicy> ExitPolicy::parse(std::string_view reboot_on_exit, std::string_view expected_exit_code,
                                     std::string_view idle_on_exit) {
    ExitPolicy policy;
    bool flag = false;
    if (reboot_on_exit.empty()) {
        // absent: never
    } else if (parse_bool(reboot_on_exit, flag)) {
        policy.reboot = flag ? Reboot::OnFailure : Reboot::Never;
    } else if (reboot_on_exit == "*") {
        policy.reboot = Reboot::Always;
    } else if (reboot_on_exit[0] == '!') {
        uint8_t status;
        if (!parse_status(reboot_on_exit.substr(1), status)) return Errno::Inval;
        policy.reboot = Reboot::UnlessStatus;
        policy.statuses.add(status);
    } else {
        if (!parse_status_list(reboot_on_exit, policy.statuses)) return Errno::Inval;
        policy.reboot = Reboot::OnStatus;
    }
    if (!expected_exit_code.empty() && !parse_status_list(expected_exit_code, policy.expected))
        return Errno::Inval;
    if (!idle_on_exit.empty() && !parse_bool(idle_on_exit, policy.idle)) return Errno::Inval;
    return policy;
}

Result<ExitPolicy> ExitPolicy::from_manifest(const Manifest& manifest, std::string_view& bad_key) {
    constexpr std::string_view kKeys[] = {"reboot_on_exit", "expected_exit_code", "idle_on_exit"};
    std::string_view values[3];
    for (size_t i = 0; i < 3; ++i) {
        if (!manifest.option(kKeys[i], values[i])) continue;
        // Checked one at a time so the error can name the key.
        std::string_view only[3];
        only[i] = values[i];
        if (parse(only[0], only[1], only[2]).is_error() || values[i].empty()) {
            bad_key = kKeys[i];
            return Errno::Inval;
        }
    }
    return parse(values[0], values[1], values[2]);
}

ExitDecision decide_exit(const ExitPolicy& policy, uint8_t status) {
    uint8_t effective = policy.expected.contains(status) ? 0 : status;
    bool reboot = false;
    switch (policy.reboot) {
        case ExitPolicy::Reboot::Never:
            break;
        case ExitPolicy::Reboot::OnFailure:
            reboot = effective != 0;
            break;
        case ExitPolicy::Reboot::Always:
            reboot = true;
            break;
        case ExitPolicy::Reboot::OnStatus:
            reboot = policy.statuses.contains(effective);
            break;
        case ExitPolicy::Reboot::UnlessStatus:
            reboot = !policy.statuses.contains(effective);
            break;
    }
    if (reboot) return {ExitAction::Reboot, effective};
    return {policy.idle ? ExitAction::Idle : ExitAction::PowerOff, effective};
}

ExitAction decide_panic(const ExitPolicy& policy) {
    switch (policy.reboot) {
        case ExitPolicy::Reboot::OnFailure:
        case ExitPolicy::Reboot::Always:
        case ExitPolicy::Reboot::UnlessStatus:
            return ExitAction::Reboot;
        case ExitPolicy::Reboot::Never:
        case ExitPolicy::Reboot::OnStatus:
            break;
    }
    return policy.idle ? ExitAction::Idle : ExitAction::PowerOff;
}

}  // namespace lib::manifest
