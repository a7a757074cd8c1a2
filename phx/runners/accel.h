// Which CPU virtualization a runner uses: KVM when /dev/kvm works, TCG (emulation) otherwise.
#pragma once

#include <string>

namespace phx {

enum class Accel { Auto, Kvm, Tcg };

// "auto", "kvm" or "tcg" (CLI11 has already checked the spelling).
Accel parse_accel(const std::string& name);
const char* accel_name(Accel accel);

// Kvm or Tcg. Auto is Kvm when /dev/kvm can be opened read-write; an explicit Kvm that cannot
// be opened throws PhxError(kExitVmFailed). Logs the choice and its reason with -v.
Accel resolve_accel(Accel requested);

}  // namespace phx
