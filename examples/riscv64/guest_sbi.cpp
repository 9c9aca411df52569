// Test guest, one vCPU: the SBI paths the policy answers without an exit
// and that only a real console exercises, plus HSM non-retentive suspend.
//   - legacy console_getchar (EID 0x02) and DBCN console_read, with no
//     input (nothing to read: -1 / 0 bytes), then with the bytes qemu-run.sh
//     types once the prompt line below appears (QEMU_RUN_INPUT);
//   - DBCN read refused for a buffer outside guest RAM without losing input;
//   - hart_suspend, non-retentive: resumes at resume_addr with a0 = hart id,
//     a1 = opaque, satp = 0 and sstatus.SIE = 0, and never returns.
// The VMM checks its side through hypercalls 11..13 (README.md).
#include <string_view>

#include "guest_rt.hpp"

using namespace guest;

GUEST_RUNTIME_SUPPORT

extern "C" {
void guest_resume();
[[noreturn]] void guest_resumed(std::uint64_t hartid, std::uint64_t opaque);
}

// Non-retentive resume: only a0/a1 are defined, so the stub sets up the
// stack (hart 0's, as _start does) before any C++ runs.
asm(R"(
.pushsection .text, "ax", @progbits
.balign 4
.globl guest_resume
guest_resume:
    la sp, __stacks_top
    call guest_resumed
1:  j 1b
.popsection
)");

namespace {

// What qemu-run.sh types (meson.build passes the same string): the first
// byte goes through legacy getchar, the rest through DBCN read.
constexpr std::string_view typed = "Gaxvcpu-dbcn";
constexpr std::uint64_t opaque = 0x0b5e55ed0b5e55ed;
constexpr std::uint64_t sstatus_sie = 1 << 1;
// Long enough for a loaded host; the QEMU run's own timeout is larger.
constexpr std::uint64_t input_wait_ticks = 20 * 10'000'000;

std::uint64_t legacy_getchar_calls = 0;
std::uint64_t bytes_read = 0;

// a1 carries a marker: legacy calls return only a0 and must leave a1 alone.
std::int64_t legacy_getchar() {
    constexpr std::uint64_t marker = 0xa1a1a1a1;
    const auto ret = ecall(sbi::eid::legacy_console_getchar, 0, 0, marker);
    check(ret.value == marker, "legacy getchar left a1 alone", ret.value);
    ++legacy_getchar_calls;
    if (ret.error >= 0) ++bytes_read;
    return ret.error;
}

sbi::SbiRet dbcn_read(std::uint64_t addr, std::uint64_t length, std::uint64_t addr_high = 0) {
    const auto ret = ecall(sbi::eid::dbcn, sbi::fid::dbcn_read, length, addr, addr_high);
    if (ret.error == 0) bytes_read += ret.value;
    return ret;
}

// A VS-stage identity map of 0x80000000..0xbfffffff (one 1 GiB page, RWX,
// accessed and dirty): the suspend must turn it off.
alignas(4096) std::uint64_t vs_root[512];

void console_tests() {
    // Nothing typed yet: qemu-run.sh waits for the prompt below.
    check(legacy_getchar() == -1, "legacy getchar with no input returns -1");
    char buf[32]{};
    auto ret = dbcn_read(reinterpret_cast<std::uint64_t>(buf), sizeof buf);
    check(ret.error == 0 && ret.value == 0, "DBCN read with no input: success, 0 bytes", ret.value);
    ret = dbcn_read(reinterpret_cast<std::uint64_t>(buf), sizeof buf, 1);
    check(ret.error == sbi::err::invalid_param, "DBCN read with a2 != 0 refused", static_cast<std::uint64_t>(ret.error));

    print("guest: waiting for console input\n");
    const std::uint64_t deadline = rdtime() + input_wait_ticks;
    std::int64_t first = -1;
    while (first < 0 && rdtime() < deadline) first = legacy_getchar();
    check(first == typed[0], "legacy getchar returns the typed byte", static_cast<std::uint64_t>(first));

    // The rest is (being) typed now. A buffer outside guest RAM must be
    // refused, whether or not input is waiting, and must not eat it.
    ret = dbcn_read(0x0a001000, 4);
    check(ret.error == sbi::err::invalid_param && ret.value == 0, "DBCN read into unmapped memory refused",
          static_cast<std::uint64_t>(ret.error));

    const std::string_view rest = typed.substr(1);
    std::uint64_t got = 0;
    while (got < rest.size() && rdtime() < deadline) {
        // Asks for more than will come: only what is there is returned.
        ret = dbcn_read(reinterpret_cast<std::uint64_t>(buf + got), sizeof buf - got);
        check(ret.error == 0 && ret.value <= sizeof buf - got, "DBCN read succeeds within the buffer", ret.value);
        if (ret.error != 0) break;
        got += ret.value;
    }
    check(std::string_view(buf, got) == rest, "DBCN read returns the typed bytes in order", got);
    ret = dbcn_read(reinterpret_cast<std::uint64_t>(buf), sizeof buf);
    check(ret.error == 0 && ret.value == 0, "nothing left to read", ret.value);
    print("guest: read '", std::string_view(&typed[0], first == typed[0] ? 1 : 0), std::string_view(buf, got),
          "' through legacy getchar and DBCN read\n");

    // The VMM compares with what the policy counted (no exits carry it).
    const std::uint64_t mismatch = hypercall(hc::console_bytes, bytes_read);
    check(mismatch == 0, "VMM counted the same console bytes", bytes_read);
}

[[noreturn]] void suspend_test() {
    check(ecall(sbi::eid::hsm, sbi::fid::hsm_hart_suspend, 1).error == sbi::err::invalid_param,
          "reserved suspend type refused");
    // A resume address stage 2 does not map is refused before the hart
    // stops: below the VM's RAM, and just past its end.
    for (const std::uint64_t bad : {0x1000ull, 0x88000000ull + (64ull << 20)}) {
        check(ecall(sbi::eid::hsm, sbi::fid::hsm_hart_suspend, sbi::suspend_type::default_non_retentive, bad, 0).error ==
                  sbi::err::invalid_address,
              "non-retentive suspend to an address outside RAM refused", bad);
    }

    vs_root[2] = (0x80000000ull >> 12) << 10 | 0xcf;  // V R W X A D
    const std::uint64_t satp = 8ull << 60 | reinterpret_cast<std::uint64_t>(vs_root) >> 12;
    asm volatile("csrw satp, %0\n sfence.vma" ::"r"(satp) : "memory");
    print("guest: paging on, non-retentive suspend until the timer\n");
    // Woken by a pending timer interrupt; sie = 0 so nothing is taken
    // before the suspend, SIE = 1 so the resume has something to clear.
    asm volatile("csrw sie, zero\n csrs sstatus, %0" ::"r"(sstatus_sie));
    ecall(sbi::eid::time, sbi::fid::time_set_timer, rdtime() + 10'000);
    const auto resume = reinterpret_cast<std::uint64_t>(&guest_resume);
    hypercall(hc::expect_resume, resume, opaque);
    const auto ret = ecall(sbi::eid::hsm, sbi::fid::hsm_hart_suspend, sbi::suspend_type::default_non_retentive, resume,
                           opaque);
    check(false, "non-retentive suspend returned", static_cast<std::uint64_t>(ret.error));
    shutdown();
}
}  // namespace

extern "C" void guest_resumed(std::uint64_t hartid, std::uint64_t arg) {
    std::uint64_t satp, sstatus;
    asm volatile("csrr %0, satp\n csrr %1, sstatus" : "=r"(satp), "=r"(sstatus));
    print("guest: resumed, a0 ", Hex{hartid}, ", a1 ", Hex{arg}, ", satp ", Hex{satp}, "\n");
    check(hartid == 0, "a0 = hart id on resume", hartid);
    check(arg == opaque, "a1 = opaque on resume", arg);
    check(satp == 0, "paging off on resume", satp);
    check((sstatus & sstatus_sie) == 0, "interrupts off on resume", sstatus);
    // What woke the hart: the host timer behind set_timer (sip.STIP is
    // not read back: QEMU 7.2 shows VS-mode sip without hvip.VSTIP).
    const std::uint64_t fires = hypercall(hc::timer_fires);
    check(fires == 1, "woken by the timer", fires);
    ecall(sbi::eid::time, sbi::fid::time_set_timer, ~0ull);
    check(hypercall(hc::resumes_seen) == 1, "VMM saw one non-retentive suspend");
    const std::uint64_t missing = hypercall(hc::check_exits, exit_bit::hypercall | exit_bit::halt);
    check(missing == 0, "VMM saw Hypercall and Halt", missing);
    shutdown();
}

extern "C" void guest_trap(TrapFrame& frame) {
    unexpected_trap(frame);
}

extern "C" void guest_main(std::uint64_t, std::uint64_t) {
    print("guest: SBI console input and non-retentive suspend\n");
    console_tests();
    suspend_test();
}
