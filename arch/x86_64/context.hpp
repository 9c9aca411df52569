// The guest state the SVM world switch moves on every entry and exit, with
// the byte offsets its assembly uses, each checked against the struct here
// so the two cannot drift. The rest of the guest's register state lives in
// the VMCB (RAX, RSP, RIP, RFLAGS, segments, control registers, the
// syscall MSRs: vmcb.hpp) or is switched at bind/unbind (FpState).
#pragma once

#include <cstddef>
#include <cstdint>

#include "arch/x86_64/exit_decode.hpp"

#if !defined(__x86_64__)
#error "arch/x86_64/context.hpp is for x86_64 targets only"
#endif

namespace axvcpu::x86_64 {

// What axvcpu_x86_svm_run_guest reads and writes.
struct SwitchContext {
    // RAX..R15 in encoding order (Gprs). The switch loads and stores all
    // but RAX and RSP, which VMRUN and #VMEXIT take from and leave in the
    // VMCB: those two live there, and their slots here are unused.
    Gprs gprs{};
    std::uint64_t vmcb_pa = 0;       // the guest's VMCB
    std::uint64_t host_save_pa = 0;  // where VMSAVE keeps the host's FS/GS/TR/LDTR and syscall MSRs meanwhile
};

// Offsets for the top-level assembly, which takes no operands.
#define AXVCPU_X86_GPRS 0
#define AXVCPU_X86_VMCB_PA 128
#define AXVCPU_X86_HOST_SAVE_PA 136

namespace offset {
inline constexpr std::size_t gprs = AXVCPU_X86_GPRS;
inline constexpr std::size_t vmcb_pa = AXVCPU_X86_VMCB_PA;
inline constexpr std::size_t host_save_pa = AXVCPU_X86_HOST_SAVE_PA;
}  // namespace offset

static_assert(offsetof(SwitchContext, gprs) == offset::gprs);
static_assert(offsetof(SwitchContext, vmcb_pa) == offset::vmcb_pa);
static_assert(offsetof(SwitchContext, host_save_pa) == offset::host_save_pa);
static_assert(sizeof(Gprs) == 16 * sizeof(std::uint64_t), "the switch stores register i at 8 * i");

}  // namespace axvcpu::x86_64
