// The x86_64 ArchVCpu policies, one per back end, chosen at compile time:
//   svm::VCpu<H> (svm_vcpu.hpp): AMD SVM with nested paging; runs under
//     QEMU (examples/x86_64).
//   vmx::VCpu<H> (vmx_vcpu.hpp): Intel VMX with EPT and VPIDs; compiled
//     freestanding and host-tested (QEMU's TCG has no VMX).
// Both take the same CreateConfig (entry mode, guest page-table root, boot
// argument), answer CPUID, XSETBV, EFER and PAT themselves, and return the
// same exit reasons (exit_decode.hpp). A VMM that wants both instantiates
// its code for each and picks one at run time with backend_of
// (features.hpp) from the CPU's CPUID.
#pragma once

#include "arch/x86_64/svm_vcpu.hpp"
#include "arch/x86_64/vmx_vcpu.hpp"
