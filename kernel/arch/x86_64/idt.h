// Interrupt descriptor table setup and the x86 exception vector numbers.
#pragma once

namespace kernel::arch {

enum Vector : int {
    kVectorDivide = 0,
    kVectorDebug = 1,
    kVectorNmi = 2,
    kVectorBreakpoint = 3,
    kVectorOverflow = 4,
    kVectorBoundRange = 5,
    kVectorInvalidOpcode = 6,
    kVectorDeviceNotAvailable = 7,
    kVectorDoubleFault = 8,
    kVectorInvalidTss = 10,
    kVectorSegmentNotPresent = 11,
    kVectorStackFault = 12,
    kVectorGeneralProtection = 13,
    kVectorPageFault = 14,
    kVectorX87 = 16,
    kVectorAlignmentCheck = 17,
    kVectorMachineCheck = 18,
    kVectorSimd = 19,
    kVectorVirtualization = 20,
    kVectorControlProtection = 21,
};

// Every vector: exceptions to their stubs, the rest to the spurious stub. Early in boot,
// before the TSS exists, so no gate uses an IST stack yet.
void init_idt();
// Moves double fault, NMI and machine check onto their IST stacks (after init_cpu_tables).
void use_ist_stacks();
const char* vector_name(int vector);

}  // namespace kernel::arch
