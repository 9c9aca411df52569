// The PSCI calls the aarch64 policy carries out for its guest: what
// decode_psci (exit_decode.hpp) decided, with the answers only the host API
// has.
//
// The rule, the same as riscv64's SBI service (sbi_service.hpp): a call
// whose answer needs no decision of the VMM is answered in place and the
// guest resumes without an exit: PSCI_VERSION, PSCI_FEATURES,
// MIGRATE_INFO_TYPE, AFFINITY_INFO (from the host's VmmIf, below), and
// NOT_SUPPORTED for a PSCI function the policy does not implement or an SMC
// outside PSCI (there is no secure firmware behind this hypervisor). run()
// returns only for what the VMM must decide: CPU_ON (CpuUp), CPU_OFF
// (CpuDown), CPU_SUSPEND (Halt), SYSTEM_OFF, SYSTEM_RESET and SYSTEM_RESET2
// (SystemDown), and any HVC outside PSCI (Hypercall).
//
// The queries reach the host API (VmmIf): call them with the vCPU published
// (RunPublisher).
#pragma once

#include <cstdint>
#include <optional>

#include "arch/aarch64/exit_decode.hpp"
#include "axvcpu/host_api.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu::aarch64 {

template <class H>
class PsciService {
    static_assert(api::check_vmm_if<H>());

public:
    // decode_sync's AFFINITY_INFO query for a vCPU of VM `vm`.
    [[nodiscard]] static auto affinity_query(VMId vm) noexcept {
        return [vm](std::uint64_t mpidr) { return affinity_is_on(vm, mpidr); };
    }

    // AFFINITY_INFO (level 0): by this policy's convention the target's
    // Aff1:Aff0 is its vCPU id (CreateConfig::mpidr_el1), and it is on when
    // it is in the VM's active set. No value: no such vCPU.
    [[nodiscard]] static std::optional<bool> affinity_is_on(VMId vm, std::uint64_t mpidr) {
        if ((mpidr >> 16) != 0) return std::nullopt;
        const usize id = static_cast<usize>((mpidr >> 8 & 0xFF) << 8 | (mpidr & 0xFF));
        const std::optional<usize> count = H::vcpu_num(vm);
        if (!count || id >= *count) return std::nullopt;
        const std::optional<VCpuSet> active = H::active_vcpus(vm);
        return active && active->contains(id);
    }
};

}  // namespace axvcpu::aarch64
