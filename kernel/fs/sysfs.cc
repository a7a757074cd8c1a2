// /sys: only what glibc reads to count processors (sysconf(_SC_NPROCESSORS_ONLN) reads
// devices/system/cpu/online, _SC_NPROCESSORS_CONF possible or the cpuN directories). One vCPU.
#include "kernel/fs/procfs.h"
#include "kernel/fs/pseudo_fs.h"
#include "kernel/fs/snapshot_file.h"

namespace kernel::fs {

namespace {

constexpr uint64_t kSysfsDev = 0x15;          // 0:21
constexpr uint64_t kSysfsMagic = 0x62656572;  // SYSFS_MAGIC

void first_cpu(TextSink& out, uint64_t) { out.write("0\n"); }

constexpr PseudoNode kCpu[] = {
    {.name = "online", .kind = PseudoKind::File, .file = first_cpu},
    {.name = "possible", .kind = PseudoKind::File, .file = first_cpu},
    {.name = "present", .kind = PseudoKind::File, .file = first_cpu},
    {.name = "cpu0", .kind = PseudoKind::Directory, .permissions = 0755},
};
constexpr PseudoNode kSystem[] = {
    {.name = "cpu", .kind = PseudoKind::Directory, .permissions = 0755, .children = kCpu}};
constexpr PseudoNode kDevices[] = {
    {.name = "system", .kind = PseudoKind::Directory, .permissions = 0755, .children = kSystem}};
constexpr PseudoNode kSysEntries[] = {
    {.name = "devices", .kind = PseudoKind::Directory, .permissions = 0755, .children = kDevices}};
constexpr PseudoNode kSysRoot = {
    .name = "/", .kind = PseudoKind::Directory, .permissions = 0555, .children = kSysEntries};
constexpr PseudoFs kSysfs{kSysfsDev, kSysfsMagic, kSysRoot};

}  // namespace

lib::Result<Inode*> make_sysfs_root() { return make_pseudo_root(kSysfs); }

}  // namespace kernel::fs
