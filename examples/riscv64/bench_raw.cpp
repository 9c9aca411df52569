// The hand-written baseline for bench.sh: the smallest hypervisor that runs
// guest_bench.bin, with no library layers: CSRs set by hand, one
// SwitchContext, a switch on scause. It shares only the world-switch asm
// (the irreducible part: every GPR saved and restored) and the hlvx helper,
// so the instruction-count difference to hyp.elf is what AxVCpu, the
// policy's decoding and AxResult cost.
#include <cstdint>

#include "arch/riscv64/context.hpp"
#include "arch/riscv64/exit_decode.hpp"
#include "arch/riscv64/sbi.hpp"
#include "arch/riscv64/sysregs.hpp"
#include "arch/riscv64/world_switch.hpp"
#include "examples/vmm/hypercalls.hpp"
#include "platform.hpp"

namespace rv = axvcpu::riscv64;
namespace csr = axvcpu::riscv64::csr;

extern "C" {
[[noreturn]] void raw_main(std::uint64_t hartid, std::uint64_t fdt);
extern char __bss_start[], __bss_end[];
}

asm(R"(
.pushsection .text.entry, "ax", @progbits
.globl _start
_start:
    )" EXAMPLE_RV_HART_STACK R"(
    mv tp, a0
    call raw_main
.popsection
)");

namespace {
constexpr std::uint64_t echo_device = 0x0a000000, guest_base = 0x88000000;
alignas(16384) std::uint64_t root[2048];
alignas(4096) std::uint64_t l1_low[512], l0_uart[512], l1_ram[512];
std::uint8_t echo[16];
rv::SwitchContext ctx;

[[noreturn]] void finish(bool pass) {
    example::Out::print(pass ? "RESULT: PASS\n" : "RESULT: FAIL (bench_raw)\n");
    example::qemu_exit(pass ? 0 : 1);
}
}  // namespace

extern "C" void raw_main(std::uint64_t, std::uint64_t) {
    for (char* p = __bss_start; p < __bss_end; ++p) *p = 0;
    csr::write<csr::hedeleg>(csr::hedeleg_guest);
    csr::write<csr::hideleg>(csr::hideleg_guest);
    csr::write<csr::hcounteren>(csr::hcounteren_guest);
    const auto table = [](void* t) { return (reinterpret_cast<std::uint64_t>(t) >> 12) << 10 | 1; };
    const auto leaf = [](std::uint64_t pa) { return (pa >> 12) << 10 | 0xdf; };  // V R W X U A D
    root[0] = table(l1_low);
    root[2] = table(l1_ram);
    l1_low[example::uart_base >> 21] = table(l0_uart);
    l0_uart[0] = leaf(example::uart_base);
    for (std::uint64_t gpa = guest_base; gpa < guest_base + (64 << 20); gpa += 2 << 20) l1_ram[(gpa >> 21) & 511] = leaf(gpa);
    csr::write<csr::hgatp>(csr::hgatp_bits::mode_sv39x4 | (reinterpret_cast<std::uint64_t>(root) >> 12));
    csr::hfence_gvma_all();
    for (unsigned i = 8; i < 16; ++i) echo[i] = static_cast<std::uint8_t>(0x11 * (i - 7));

    ctx.guest.sepc = guest_base;
    ctx.guest.sstatus = csr::sstatus_bits::spp;
    // On the hart, as the library's bind() leaves it (the switch sets SPV for each run).
    csr::write<csr::hstatus>(csr::hstatus_bits::spvp | csr::hstatus_bits::vsxl_64);
    auto& x = ctx.guest.x;
    for (;;) {
        const std::uint64_t scause = rv::enter_guest(&axvcpu_rv64_run_guest, &ctx);
        if (scause == rv::cause::ecall_from_vs) {
            ctx.guest.sepc += 4;
            if (x[17] == rv::sbi::eid::axvisor_hypercall) {
                if (x[16] == vmm::hypercall::sum) {
                    x[10] = x[10] + x[11] + x[12] + x[13] + x[14] + x[15];  // sum
                } else if (x[16] == vmm::hypercall::inject) {
                    csr::set<csr::hvip>(csr::hvip_bits::vssip);  // inject(1)
                    x[10] = 0;
                } else {
                    x[10] = 0;  // set_quiet, bench_begin, bench_end
                }
                x[11] = 0;
            } else if (x[17] == rv::sbi::eid::dbcn && x[16] == rv::sbi::fid::dbcn_write) {
                // Guest RAM is identity-mapped: the GPA is the host address.
                const auto* text = reinterpret_cast<const char*>(x[11]);
                example::Out::print(std::string_view(text, x[10]));
                x[11] = x[10];
                x[10] = 0;
            } else if (x[17] == rv::sbi::eid::srst) {
                finish(x[11] == 0);
            } else {
                x[10] = static_cast<std::uint64_t>(rv::sbi::err::not_supported);
            }
        } else if (scause == rv::cause::load_guest_page_fault) {
            // The benchmark's only MMIO is a 32-bit `ld`: rd in bits 11:7.
            const rv::GuestAccess insn = rv::guest_access<rv::GuestAccessOp::hlvx_hu>(ctx.guest.sepc);
            const std::uint64_t lo = insn.value;
            const std::uint64_t gpa = csr::read<csr::htval>() << 2 | (csr::read<csr::stval>() & 3);
            std::uint64_t value = 0;
            for (unsigned i = 0; i < 8; ++i) value |= std::uint64_t{echo[(gpa - echo_device + i) & 15]} << (8 * i);
            const unsigned rd = (lo >> 7) & 31;
            if (insn.fault || (lo & 0x707f) != 0x3003) {
                example::Out::print("bench_raw: not an ld at ", vmm::Hex{ctx.guest.sepc}, "\n");
                finish(false);
            }
            if (rd != 0) x[rd] = value;
            ctx.guest.sepc += 4;
        } else {
            example::Out::print("bench_raw: unexpected scause ", vmm::Hex{scause}, " at ", vmm::Hex{ctx.guest.sepc}, "\n");
            finish(false);
        }
    }
}

extern "C" [[noreturn]] void abort() { finish(false); }
