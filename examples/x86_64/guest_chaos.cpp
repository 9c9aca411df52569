// The chaos guest: random exits from a seeded PRNG until it has made the
// number asked for (README.md, "The chaos guest"): VMMCALL with random
// numbers and arguments, interrupt requests, MMIO at random widths and
// addresses through every MOV form the decoder takes and forms it refuses,
// IN/OUT of every width to random ports (string and REP forms too),
// RDMSR/WRMSR of known and unknown MSRs, CPUID of random leaves, the SVM
// and MONITOR/MWAIT instructions, HLT woken by a queued interrupt, the
// host's timer, and a call into unmapped memory. Every op runs through
// chaos_trap (below), which loads all fifteen GPRs and RFLAGS with random
// values first and stores them after, so every register is compared with
// what the op may change after every exit; RSP too. Each op's answer is
// checked against this guest's reading of the contract (README.md, "The
// guest contract"), and every 1,000 ops the exits it made, by kind, are
// compared with the VMM's (count_exits). A failure prints the seed and the
// op's number: the same seed replays the same ops.
#include "../common/chaos.hpp"
#include "../common/rng.hpp"
#include "guest_abi.hpp"
#include "guest_rt.hpp"

using namespace guest;
using example::Rng;
using i32 = std::int32_t;
using i64 = std::int64_t;

namespace {

// Registers in encoding order (in[4], RSP, is the stack: not loaded).
struct ChaosFrame {
    u64 in[16];
    u64 rflags_in;
    u64 out[16];
    u64 rflags_out;
};
constexpr unsigned rax = 0, rcx = 1, rdx = 2, rbx = 3, rsp = 4, rbp = 5, rsi = 6, rdi = 7, r8 = 8, r9 = 9, r10 = 10,
                   r11 = 11, r12 = 12, r13 = 13, r14 = 14, r15 = 15;
constexpr unsigned high_byte = 16;  // + 0..3: AH, CH, DH, BH

}  // namespace

extern "C" {
void chaos_trap(ChaosFrame* frame);
extern char chaos_stubs[], chaos_stubs_end[], chaos_after[];
u64 chaos_target;  // the stub chaos_trap jumps to
ChaosFrame* chaos_frame;
u64 chaos_rsp;
}

// chaos_trap: keeps the callee-saved registers, loads RFLAGS and the
// fifteen GPRs from the frame, jumps to the stub; the stub's one
// instruction exits (or faults: the exception hook resumes at chaos_after
// with every register as the fault left it), and chaos_after stores them
// all, RFLAGS and RSP into the frame. The stubs are 32 bytes apart, in
// the order of the Stub enum.
asm(R"(
.pushsection .text
.globl chaos_trap
chaos_trap:
    push %rbx
    push %rbp
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rdi, chaos_frame(%rip)
    mov %rsp, chaos_rsp(%rip)
    pushq 128(%rdi)
    popfq
    mov 8(%rdi), %rcx
    mov 16(%rdi), %rdx
    mov 24(%rdi), %rbx
    mov 40(%rdi), %rbp
    mov 48(%rdi), %rsi
    mov 64(%rdi), %r8
    mov 72(%rdi), %r9
    mov 80(%rdi), %r10
    mov 88(%rdi), %r11
    mov 96(%rdi), %r12
    mov 104(%rdi), %r13
    mov 112(%rdi), %r14
    mov 120(%rdi), %r15
    mov 0(%rdi), %rax
    mov 56(%rdi), %rdi
    jmp *chaos_target(%rip)

.globl chaos_after
chaos_after:
    pushfq
    push %rax
    mov chaos_frame(%rip), %rax
    mov %rcx, 144(%rax)
    mov %rdx, 152(%rax)
    mov %rbx, 160(%rax)
    mov %rbp, 176(%rax)
    mov %rsi, 184(%rax)
    mov %rdi, 192(%rax)
    mov %r8, 200(%rax)
    mov %r9, 208(%rax)
    mov %r10, 216(%rax)
    mov %r11, 224(%rax)
    mov %r12, 232(%rax)
    mov %r13, 240(%rax)
    mov %r14, 248(%rax)
    mov %r15, 256(%rax)
    pop %rcx
    mov %rcx, 136(%rax)
    pop %rcx
    mov %rcx, 264(%rax)
    mov %rsp, 168(%rax)
    pushq $2
    popfq
    mov chaos_rsp(%rip), %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbp
    pop %rbx
    ret

.macro STUB insn:vararg
    .balign 32
    \insn
    jmp chaos_after
.endm
.balign 32
.globl chaos_stubs
chaos_stubs:
    STUB vmmcall
    STUB .byte 0xfb, 0xf4  # sti; hlt (a macro argument ends at ';')
    STUB cpuid
    STUB rdmsr
    STUB wrmsr
    STUB inb %dx, %al
    STUB inw %dx, %ax
    STUB inl %dx, %eax
    STUB outb %al, %dx
    STUB outw %ax, %dx
    STUB outl %eax, %dx
    STUB inb $0x80, %al
    STUB outb %al, $0x80
    STUB outl %eax, $0x80
    STUB inw $0xf4, %ax
    STUB outw %ax, $0x71
    STUB rep outsb
    STUB outsw
    STUB rep insl
    STUB insb
    STUB outsl
    STUB clgi
    STUB stgi
    STUB vmsave
    STUB invlpga
    STUB monitor
    STUB mwait
    STUB xsetbv
    STUB wbinvd
    STUB invd
    STUB call *%r11
    STUB mov (%rbx), %rax
    STUB mov 0x10(%rsi), %ecx
    STUB mov 0x100(%rdi), %dx
    STUB mov (%r8), %bl
    STUB mov (%rcx), %ah
    STUB mov (%rdx), %bh
    STUB mov (%r10), %sil
    STUB mov (%r11,%r12,4), %r13
    STUB mov -8(%rbp,%rsi,8), %r14d
    STUB mov 0x7f(%r9), %r15w
    STUB movzbl (%r15), %eax
    STUB movzbw (%rax), %bp
    STUB movzwq (%rbx), %r9
    STUB movsbq (%rcx), %r10
    STUB movsbw (%rdx), %si
    STUB movswl (%rsi), %r11d
    STUB movslq (%rdi), %r12
    STUB movsbl (%r8), %edi
    STUB movzbq (%r14), %rdx
    STUB addr32 mov (%eax), %rdx
    STUB .byte 0x3e, 0x4c, 0x8b, 0x03  # ds mov (%rbx), %r8
    STUB .byte 0x48, 0x8b, 0x0d, 0x00, 0x00, 0xe0, 0x1f  # mov 0x1fe00000(%rip), %rcx
    STUB movabs 0xf0000000, %al
    STUB movabs 0xf0000010, %eax
    STUB movabs 0xf0000020, %rax
    STUB movabs %al, 0xf0000003
    STUB movabs %rax, 0xf0000018
    STUB movabs %ax, 0xf0000008
    STUB mov %rax, (%rbx)
    STUB mov %ecx, 4(%rsi)
    STUB mov %dx, (%rdi)
    STUB mov %bl, (%r8)
    STUB mov %ah, (%rcx)
    STUB mov %dil, (%rdx)
    STUB mov %r9, (%r10,%r11,2)
    STUB mov %r15d, 0x1000(%r12)
    STUB mov %r13w, -0x10(%r14)
    STUB movb $0x5a, (%r13)
    STUB movw $0xbeef, (%r14)
    STUB movl $0x89abcdef, (%r15)
    STUB movq $-0x12345678, (%rax)
    STUB add %rax, (%rbx)
    STUB xchg %rcx, (%rsi)
    STUB lock orl $1, (%rdi)
    STUB cmpxchg %rdx, (%r8)
    STUB movnti %rax, (%r9)
    STUB cmp %rbx, (%r10)
    STUB incb (%r11)
    STUB .byte 0xf3, 0x48, 0x89, 0x03  # rep mov %rax, (%rbx)
    STUB pushq (%r12)
    STUB movsq
    STUB stosl
    STUB lodsb
.balign 32
.globl chaos_stubs_end
chaos_stubs_end:
.popsection
)");

namespace {

enum Stub : unsigned {
    s_vmmcall, s_hlt, s_cpuid, s_rdmsr, s_wrmsr,
    s_in_dx_b, s_in_dx_w, s_in_dx_l, s_out_dx_b, s_out_dx_w, s_out_dx_l,
    s_in_80_b, s_out_80_b, s_out_80_l, s_in_f4_w, s_out_71_w,
    s_rep_outsb, s_outsw, s_rep_insl, s_insb, s_outsl,
    s_clgi, s_stgi, s_vmsave, s_invlpga, s_monitor, s_mwait, s_xsetbv, s_wbinvd, s_invd,
    s_call,
    s_mmio_first,  // + the index in `forms`
};
constexpr u64 stub_size = 32;
u64 stub_address(unsigned stub) { return reinterpret_cast<u64>(chaos_stubs) + stub_size * stub; }

// --- The parameters: QEMU's loader may write them (README.md) ---
constexpr u64 default_seed = 0x00C0'FFEE'2024'0013;
constexpr u64 default_exits = 100'000;

// Exit kinds, as AxVCpuExitReason's alternatives are numbered (the VMM's
// count_exits compares these words).
constexpr unsigned exit_kinds = 19;
enum Kind : unsigned {
    k_hypercall = 0, k_mmio_read = 1, k_mmio_write = 2, k_msr_read = 3, k_msr_write = 4, k_io_read = 5,
    k_io_write = 6, k_external = 7, k_nested_page_fault = 8, k_halt = 9,
};
constexpr u64 compared_kinds = 0x3FF;  // kinds 0..9
alignas(8) u64 counts[exit_kinds];  // read by the VMM at count_exits
u64 total_exits = 0;
u64 kind_totals[exit_kinds];
void count(Kind kind, u64 n = 1) {
    counts[kind] += n;
    kind_totals[kind] += n;
    total_exits += n;
}

u64 seed = 0, op = 0, current_stub = ~u64{0};
const u64* current_in = nullptr;  // the op's registers before it, for the failure's report

[[noreturn]] void chaos_fail(u64 what, u64 value) {
    print("guest: chaos FAILED at op ");
    print_dec(op);
    print(" with seed ");
    print_hex(seed);
    print(" (stub ");
    print_dec(current_stub);
    print(")\nguest: its registers (RAX..R15, RFLAGS) were");
    for (unsigned i = 0; i < 17; ++i) {
        print(" ");
        print_hex(current_in[i]);
    }
    print("\n");
    finish(what, value);
}
void expect(bool ok, u64 what, u64 value = 0) {
    if (!ok) chaos_fail(what, value);
}

// --- Exceptions the ops take ---
// The hook resumes a fault inside a stub at chaos_after, every register as
// the fault left it; a fetch from unmapped memory (s_call) returns to the
// stub's caller, as if the call had not happened.
u64 faults = 0, last_vector = 0, last_error = 0, last_rip = 0;
u64 fetch_target = ~u64{0};
bool chaos_exception(Frame* frame) {
    const u64 rip = frame->rip;
    const bool in_stub = rip >= reinterpret_cast<u64>(chaos_stubs) && rip < reinterpret_cast<u64>(chaos_stubs_end);
    if (!in_stub && rip != fetch_target) return false;
    if (!in_stub) frame->rsp += 8;  // the call's return address
    ++faults;
    last_vector = frame->vector;
    last_error = frame->error_code;
    last_rip = rip;
    frame->rip = reinterpret_cast<u64>(chaos_after);
    return true;
}

// --- Interrupts this guest asked for, by vector, and how many are queued ---
// The queue holds a vector once (IrqQueue: a pending bit, as an interrupt
// controller has): asking again for one not yet taken adds nothing.
u64 expected_irqs[256];
bool pending(u64 v) { return expected_irqs[v] != interrupts_taken[v]; }
u64 outstanding() {
    u64 n = 0;
    for (unsigned v = 32; v < 256; ++v) n += expected_irqs[v] - interrupts_taken[v];
    return n;
}
// Every requested interrupt is taken, soon, once the guest enables
// interrupts (the policy opens a window for each that waits): no exit
// is needed for it.
void wait_for_interrupts() {
    asm volatile("sti");
    u64 spins = 0;
    while (outstanding() != 0) {
        asm volatile("pause");
        if (++spins == 1'000'000) {
            asm volatile("cli");
            print("guest: interrupts still outstanding:");
            for (unsigned v = 32; v < 256; ++v) {
                if (expected_irqs[v] == interrupts_taken[v]) continue;
                print(" ");
                print_dec(v);
                print(" (");
                print_dec(expected_irqs[v] - interrupts_taken[v]);
                print(")");
            }
            print("\n");
            chaos_fail(0x60, outstanding());
        }
    }
    asm volatile("cli");
    for (unsigned v = 32; v < 256; ++v) expect(interrupts_taken[v] == expected_irqs[v], 0x61, v);
}

// --- The test device, as this guest wrote it ---
u64 scratch = 0;
u64 device_bytes(u64 offset, unsigned size) {  // offset naturally aligned, inside one register
    const u64 reg = offset & ~u64{7};
    const u64 value = reg == 0 ? scratch : reg == 8 ? 0x0A64'C0DE'1234'5678 : 0xFFFF'FFFF'8000'8080;
    const u64 shifted = value >> (8 * (offset & 7));
    return size == 8 ? shifted : shifted & ((u64{1} << (8 * size)) - 1);
}
u64 mask_of(unsigned size) { return size == 8 ? ~u64{0} : (u64{1} << (8 * size)) - 1; }

// --- One op: what it does to the registers and what it must cause ---
enum class Outcome { Returns, Fault };
struct Op {
    ChaosFrame frame{};
    unsigned stub = 0;
    Outcome outcome = Outcome::Returns;
    u64 vector = 13;        // Fault: the exception (error code 0)
    u64 fault_rip = 0;      // Fault: where (0: the stub)
    u64 changed = 0;        // bit i: register i is written ...
    u64 values[16] = {};    // ... with this value
    u64 unchecked = 0;      // bit i: register i's value is the host's (CPUID)
    int exit_kind = -1;     // the exit the VMM must see (-1: none)
    bool sets_if = false;   // RFLAGS.IF is 1 after the op
    // Applied when the op returns: what a store did to the device, a
    // value a register or MSR holds from now on.
    u64* commit = nullptr;
    u64 commit_value = 0;
};
void set_reg(Op& o, unsigned reg, u64 value) {
    o.changed |= u64{1} << reg;
    o.values[reg] = value;
}

// An address of `size` bytes outside RAM: the test device's registers, the
// rest of its page and its edges, RAM's end, unmapped memory below 4 GiB
// (the guest's own tables map only that), or any of these misaligned.
u64 random_address(Rng& rng, unsigned size) {
    u64 addr;
    const u64 pick = rng.below(100);
    if (pick < 45) {
        addr = guest_abi::test_device + (rng.below(0x20) & ~u64{size - 1});
    } else if (pick < 60) {
        addr = guest_abi::test_device + ((0x20 + rng.below(0x1000 - 0x20)) & ~u64{size - 1});
    } else if (pick < 70) {
        const u64 edges[] = {guest_abi::test_device - size, guest_abi::test_device + 0x1000 - size,
                             guest_abi::test_device + 0x1000, guest_abi::ram_size,
                             guest_abi::ram_size - (size == 1 ? 0 : size / 2)};
        addr = edges[rng.below(5)];
    } else {
        do {
            addr = rng.next() & 0xFFFF'FFF8;
        } while (addr < guest_abi::ram_size + 8 || (addr >> 12) == (guest_abi::test_device >> 12));
    }
    if (size > 1 && rng.chance(10)) addr += 1 + rng.below(size - 1);
    return addr;
}

// What a load of `size` at `addr` answers (false: the VMM refuses it).
bool device_load(u64 addr, unsigned size, u64& value) {
    const u64 offset = addr - guest_abi::test_device;
    if (addr < guest_abi::test_device || offset >= 0x18 || offset % size != 0) return false;
    value = device_bytes(offset, size);
    return true;
}
// Whether a store of `size` at `addr` is taken (scratch, the sink).
bool device_store(u64 addr, unsigned size) {
    const u64 offset = addr - guest_abi::test_device;
    if (addr < guest_abi::test_device || offset >= 0x20 || offset % size != 0) return false;
    return offset < 8 || offset >= 0x18;
}

// --- MMIO forms: one per MMIO stub, in their order ---
enum class Form : u8 { Load, Store, Immediate, Refused };
constexpr u8 none = 0xFF;
struct Access {
    Form form;
    u8 size;
    u8 reg;        // Load: destination, Store: source (high_byte + n: AH..BH)
    u8 reg_width;  // Load: the destination's width
    bool sign;
    u8 base, index, scale;
    i32 disp;
    u64 fixed;     // the moffs forms' address (0: from base/index)
    u64 imm;
};
using F = Form;
constexpr Access forms[] = {
    {F::Load, 8, rax, 8, false, rbx, none, 0, 0, 0, 0},
    {F::Load, 4, rcx, 4, false, rsi, none, 0, 0x10, 0, 0},
    {F::Load, 2, rdx, 2, false, rdi, none, 0, 0x100, 0, 0},
    {F::Load, 1, rbx, 1, false, r8, none, 0, 0, 0, 0},
    {F::Load, 1, high_byte + 0, 1, false, rcx, none, 0, 0, 0, 0},
    {F::Load, 1, high_byte + 3, 1, false, rdx, none, 0, 0, 0, 0},
    {F::Load, 1, rsi, 1, false, r10, none, 0, 0, 0, 0},
    {F::Load, 8, r13, 8, false, r11, r12, 4, 0, 0, 0},
    {F::Load, 4, r14, 4, false, rbp, rsi, 8, -8, 0, 0},
    {F::Load, 2, r15, 2, false, r9, none, 0, 0x7f, 0, 0},
    {F::Load, 1, rax, 4, false, r15, none, 0, 0, 0, 0},  // movzbl
    {F::Load, 1, rbp, 2, false, rax, none, 0, 0, 0, 0},  // movzbw
    {F::Load, 2, r9, 8, false, rbx, none, 0, 0, 0, 0},   // movzwq
    {F::Load, 1, r10, 8, true, rcx, none, 0, 0, 0, 0},   // movsbq
    {F::Load, 1, rsi, 2, true, rdx, none, 0, 0, 0, 0},   // movsbw
    {F::Load, 2, r11, 4, true, rsi, none, 0, 0, 0, 0},   // movswl
    {F::Load, 4, r12, 8, true, rdi, none, 0, 0, 0, 0},   // movslq
    {F::Load, 1, rdi, 4, true, r8, none, 0, 0, 0, 0},    // movsbl
    {F::Load, 1, rdx, 8, false, r14, none, 0, 0, 0, 0},  // movzbq
    {F::Load, 8, rdx, 8, false, rax, none, 0, 0, 0, 0},  // addr32: EAX is the address
    {F::Load, 8, r8, 8, false, rbx, none, 0, 0, 0, 0},   // DS prefix
    {F::Load, 8, rcx, 8, false, none, none, 0, 0, 1, 0},  // RIP-relative, far past RAM (fixed: computed)
    {F::Load, 1, rax, 1, false, none, none, 0, 0, 0xF000'0000, 0},
    {F::Load, 4, rax, 4, false, none, none, 0, 0, 0xF000'0010, 0},
    {F::Load, 8, rax, 8, false, none, none, 0, 0, 0xF000'0020, 0},
    {F::Store, 1, rax, 0, false, none, none, 0, 0, 0xF000'0003, 0},
    {F::Store, 8, rax, 0, false, none, none, 0, 0, 0xF000'0018, 0},
    {F::Store, 2, rax, 0, false, none, none, 0, 0, 0xF000'0008, 0},
    {F::Store, 8, rax, 0, false, rbx, none, 0, 0, 0, 0},
    {F::Store, 4, rcx, 0, false, rsi, none, 0, 4, 0, 0},
    {F::Store, 2, rdx, 0, false, rdi, none, 0, 0, 0, 0},
    {F::Store, 1, rbx, 0, false, r8, none, 0, 0, 0, 0},
    {F::Store, 1, high_byte + 0, 0, false, rcx, none, 0, 0, 0, 0},
    {F::Store, 1, rdi, 0, false, rdx, none, 0, 0, 0, 0},
    {F::Store, 8, r9, 0, false, r10, r11, 2, 0, 0, 0},
    {F::Store, 4, r15, 0, false, r12, none, 0, 0x1000, 0, 0},
    {F::Store, 2, r13, 0, false, r14, none, 0, -0x10, 0, 0},
    {F::Immediate, 1, 0, 0, false, r13, none, 0, 0, 0, 0x5A},
    {F::Immediate, 2, 0, 0, false, r14, none, 0, 0, 0, 0xBEEF},
    {F::Immediate, 4, 0, 0, false, r15, none, 0, 0, 0, 0x89AB'CDEF},
    {F::Immediate, 8, 0, 0, false, rax, none, 0, 0, 0, static_cast<u64>(-0x1234'5678ll)},
    {F::Refused, 8, 0, 0, false, rbx, none, 0, 0, 0, 0},  // add
    {F::Refused, 8, 0, 0, false, rsi, none, 0, 0, 0, 0},  // xchg
    {F::Refused, 4, 0, 0, false, rdi, none, 0, 0, 0, 0},  // lock or
    {F::Refused, 8, 0, 0, false, r8, none, 0, 0, 0, 0},   // cmpxchg
    {F::Refused, 8, 0, 0, false, r9, none, 0, 0, 0, 0},   // movnti
    {F::Refused, 8, 0, 0, false, r10, none, 0, 0, 0, 0},  // cmp
    {F::Refused, 1, 0, 0, false, r11, none, 0, 0, 0, 0},  // inc
    {F::Refused, 8, 0, 0, false, rbx, none, 0, 0, 0, 0},  // rep mov
    {F::Refused, 8, 0, 0, false, r12, none, 0, 0, 0, 0},  // push
    {F::Refused, 8, 0, 0, false, rsi, none, 0, 0, 0, 0},  // movsq (RDI: a RAM buffer, or the other way)
    {F::Refused, 4, 0, 0, false, rdi, none, 0, 0, 0, 0},  // stosl
    {F::Refused, 1, 0, 0, false, rsi, none, 0, 0, 0, 0},  // lodsb
};
constexpr unsigned form_count = sizeof(forms) / sizeof(forms[0]);
constexpr unsigned s_count = s_mmio_first + form_count;
constexpr unsigned s_movsq = s_mmio_first + form_count - 3;
constexpr unsigned s_riprel = s_mmio_first + 21;
constexpr u64 riprel_length = 7, riprel_disp = 0x1FE0'0000;

alignas(64) u8 ram_buffer[256];  // string I/O and MOVS's other side: RAM, never touched

void mmio_op(Rng& rng, Op& o) {
    const unsigned index = static_cast<unsigned>(rng.below(form_count));
    const Access& a = forms[index];
    o.stub = s_mmio_first + index;
    u64* r = o.frame.in;
    u64 addr;
    if (o.stub == s_riprel) {
        addr = stub_address(o.stub) + riprel_length + riprel_disp;
    } else if (a.fixed != 0) {
        addr = a.fixed;
    } else {
        addr = random_address(rng, a.size);
        u64 base = addr - static_cast<u64>(static_cast<i64>(a.disp));
        if (a.index != none) base -= r[a.index] * a.scale;
        if (o.stub == s_mmio_first + 19) base = (r[rax] & ~u64{0xFFFF'FFFF}) | addr;  // addr32: EAX alone counts
        r[a.base] = base;
        if (o.stub == s_movsq && rng.chance(50)) {  // RSI in RAM, RDI the address
            r[rdi] = addr;
            r[rsi] = reinterpret_cast<u64>(ram_buffer);
        } else if (o.stub == s_movsq) {
            r[rdi] = reinterpret_cast<u64>(ram_buffer);
        }
    }
    o.fault_rip = 0;
    if (a.form == Form::Refused) {  // the decoder refuses the instruction: #GP, nothing changed
        o.outcome = Outcome::Fault;
        o.exit_kind = k_nested_page_fault;
        return;
    }
    if (a.form == Form::Load) {
        o.exit_kind = k_mmio_read;
        u64 value = 0;
        if (!device_load(addr, a.size, value)) {
            o.outcome = Outcome::Fault;
            return;
        }
        if (a.sign && a.size < 8 && (value >> (8 * a.size - 1)) != 0) value |= ~u64{0} << (8 * a.size);
        if (a.reg >= high_byte) {
            const unsigned reg = a.reg - high_byte;
            set_reg(o, reg, (r[reg] & ~u64{0xFF00}) | ((value & 0xFF) << 8));
        } else if (a.reg_width == 8) {
            set_reg(o, a.reg, value);
        } else if (a.reg_width == 4) {
            set_reg(o, a.reg, value & 0xFFFF'FFFF);
        } else {
            const u64 m = mask_of(a.reg_width);
            set_reg(o, a.reg, (r[a.reg] & ~m) | (value & m));
        }
        return;
    }
    o.exit_kind = k_mmio_write;
    if (!device_store(addr, a.size)) {
        o.outcome = Outcome::Fault;
        return;
    }
    u64 data = a.form == Form::Immediate ? a.imm : a.reg >= high_byte ? r[a.reg - high_byte] >> 8 : r[a.reg];
    data &= mask_of(a.size);
    const u64 offset = addr - guest_abi::test_device;
    if (offset < 8) {
        const u64 m = mask_of(a.size) << (8 * offset);
        o.commit = &scratch;
        o.commit_value = (scratch & ~m) | (data << (8 * offset));
    }
}

// --- Hypercalls and interrupt requests ---
bool answered_number(u64 nr) {
    namespace hc = vmm::hypercall;
    // Numbers with an effect beyond their answer: the verdict, the test's
    // checks, the benchmark loops, the count itself, the register test's check.
    return nr == hc::hello || nr == hc::result || nr == hc::sum || nr == hc::inject || nr == hc::nop ||
           nr == hc::check_exits || nr == hc::set_quiet || nr == hc::timer_fires || nr == hc::count_exits ||
           nr == hc::host_timer || nr == hc::bench_raw || nr == hc::bench_begin ||
           nr == guest_abi::hypercall_regs_check || nr == guest_abi::hypercall_trap_rip;
}

void inject_op(Rng& rng, Op& o) {
    u64* r = o.frame.in;
    r[rax] = vmm::hypercall::inject;
    const u64 queued = outstanding();
    // With vectors queued, IF set would let them in before the VMMCALL, and
    // which of its vectors the queue then coalesces could not be told.
    if (queued != 0) o.frame.rflags_in &= ~u64{0x200};
    const u64 pick = rng.below(100);
    if (pick < 70) {  // vectors the guest takes, the queue never overflowing
        r[rdi] = 32 + rng.below(224);
        r[rsi] = rng.below(AXVCPU_INTERRUPT_QUEUE_DEPTH - queued < 9 ? AXVCPU_INTERRUPT_QUEUE_DEPTH - queued : 9);
    } else if (pick < 85) {  // exceptions' vectors and vectors past 255: each refused
        r[rdi] = rng.chance(50) ? rng.below(32) : 256 + (rng.next() >> rng.below(64));
        r[rsi] = rng.below(5);
        if (r[rdi] < 32 && r[rdi] + r[rsi] > 32) r[rsi] = 32 - r[rdi];
    } else if (queued == 0) {  // more than the queue holds: the rest refused
        r[rdi] = 32 + rng.below(224);
        r[rsi] = AXVCPU_INTERRUPT_QUEUE_DEPTH + 1 + rng.below(20);
        // Now and then any count at all: past inject_limit, refused untried.
        if (rng.chance(30)) r[rsi] = rng.next() >> rng.below(64);
    } else {
        r[rdi] = 250 + rng.below(6);  // straddling 255
        r[rsi] = 2 + rng.below(8);
    }
    const u64 n = r[rsi] == 0 ? 1 : r[rsi];
    const u64 tried = n < vmm::hypercall::inject_limit ? n : vmm::hypercall::inject_limit;
    u64 refused = n - tried, accepted = queued;
    for (u64 i = 0; i < tried; ++i) {
        const u64 v = r[rdi] + i;
        if (v >= 32 && v <= 255 && pending(v)) continue;  // already queued
        if (v >= 32 && v <= 255 && accepted < AXVCPU_INTERRUPT_QUEUE_DEPTH) {
            ++expected_irqs[v];
            ++accepted;
        } else {
            ++refused;
        }
    }
    set_reg(o, rax, refused);
}

void hypercall_op(Rng& rng, Op& o) {
    o.stub = s_vmmcall;
    o.exit_kind = k_hypercall;
    u64* r = o.frame.in;
    const u64 pick = rng.below(100);
    if (pick < 20) {
        r[rax] = vmm::hypercall::sum;
        set_reg(o, rax, r[rdi] + r[rsi] + r[rdx] + r[rcx] + r[r8] + r[r9]);
    } else if (pick < 28) {
        r[rax] = vmm::hypercall::nop;
        set_reg(o, rax, 0);
    } else if (pick < 33) {
        r[rax] = vmm::hypercall::timer_fires;
        set_reg(o, rax, ~u64{0});  // x86_64: guest timers never go through host timers
    } else if (pick < 38) {
        r[rax] = vmm::hypercall::set_quiet;
        r[rdi] |= 1;  // stays quiet
        set_reg(o, rax, 0);
    } else if (pick < 70) {
        inject_op(rng, o);
    } else {  // a number nobody answers: -1
        do {
            r[rax] = rng.chance(50) ? rng.next() : vmm::hypercall::base + rng.below(0x40);
        } while (answered_number(r[rax]));
        set_reg(o, rax, ~u64{0});
    }
}

// --- Ports (README.md, "The guest contract") ---
u64 port_latch = 0;
void port_op(Rng& rng, Op& o) {
    u64* r = o.frame.in;
    const u64 pick = rng.below(100);
    if (pick < 12) {  // string and REP forms: #GP from the policy, no exit reaches the VMM
        constexpr unsigned forms_[] = {s_rep_outsb, s_outsw, s_rep_insl, s_insb, s_outsl};
        o.stub = forms_[rng.below(5)];
        r[rdx] = rng.chance(50) ? guest_abi::test_port : rng.next();
        r[rsi] = r[rdi] = reinterpret_cast<u64>(ram_buffer);
        r[rcx] = 1 + rng.below(4);
        o.outcome = Outcome::Fault;
        return;
    }
    if (pick < 22) {  // the imm8 forms: 0x80 takes OUTs; 0xF4 and 0x71 are nobody's
        constexpr unsigned forms_[] = {s_in_80_b, s_out_80_b, s_out_80_l, s_in_f4_w, s_out_71_w};
        o.stub = forms_[rng.below(5)];
        const bool in = o.stub == s_in_80_b || o.stub == s_in_f4_w;
        o.exit_kind = in ? k_io_read : k_io_write;
        if (o.stub != s_out_80_b && o.stub != s_out_80_l) o.outcome = Outcome::Fault;
        return;
    }
    const unsigned width_log = static_cast<unsigned>(rng.below(3));
    const unsigned size = 1u << width_log;
    const bool in = rng.chance(50);
    o.stub = (in ? s_in_dx_b : s_out_dx_b) + width_log;
    o.exit_kind = in ? k_io_read : k_io_write;
    u64 port;
    const u64 which = rng.below(100);
    if (which < 40) {
        port = guest_abi::test_port;
    } else if (which < 55) {
        port = guest_abi::sink_port;
    } else if (which < 65) {
        port = 0x3FD;  // COM1's LSR
    } else {
        do {
            port = rng.below(0x10000);
        } while (port == 0x3F8 || port == guest_abi::test_port || port == guest_abi::sink_port || port == 0x3FD);
    }
    // DX's upper bits are not the port's.
    r[rdx] = (r[rdx] & ~u64{0xFFFF}) | port;
    // ACPI S5 (a word 0x2000 to 0x604) would end the test.
    if (!in && port == 0x604 && (r[rax] & mask_of(size)) == 0x2000) r[rax] ^= 1;
    const u64 m = mask_of(size);
    if (in) {
        u64 value;
        if (port == guest_abi::test_port) {
            value = ~port_latch;
        } else if (port == 0x3FD) {
            value = 0x60;
        } else {
            o.outcome = Outcome::Fault;
            return;
        }
        set_reg(o, rax, size == 4 ? value & 0xFFFF'FFFF : (r[rax] & ~m) | (value & m));
    } else if (port == guest_abi::test_port) {
        o.commit = &port_latch;
        o.commit_value = r[rax] & m;
    } else if (port != guest_abi::sink_port) {
        o.outcome = Outcome::Fault;
    }
}

// --- MSRs and CPUID ---
constexpr u32 msr_efer = 0xC000'0080, msr_pat = 0x277, msr_star = 0xC000'0081, msr_kernel_gs_base = 0xC000'0102;
constexpr u32 passthrough[] = {0xC000'0100, 0xC000'0101, msr_kernel_gs_base, msr_star, 0xC000'0082,
                               0xC000'0083, 0xC000'0084, 0x174, 0x175, 0x176};
u64 test_msr = 0, pat = 0, efer = 0, star = 0, kernel_gs_base = 0;
constexpr u64 efer_sce = 1, efer_lme = 1u << 8, efer_lma = 1u << 10, efer_nxe = 1u << 11, efer_svme = 1u << 12;

bool pat_ok(u64 value) {
    for (unsigned i = 0; i < 8; ++i) {
        const u64 type = (value >> (8 * i)) & 0xFF;
        if (type == 2 || type == 3 || type > 7) return false;
    }
    return true;
}

void msr_read(Op& o, u64 value) {
    set_reg(o, rax, value & 0xFFFF'FFFF);
    set_reg(o, rdx, value >> 32);
}

void msr_op(Rng& rng, Op& o) {
    u64* r = o.frame.in;
    const bool write = rng.chance(50);
    o.stub = write ? s_wrmsr : s_rdmsr;
    const u64 value = (r[rdx] << 32) | (r[rax] & 0xFFFF'FFFF);
    const u64 pick = rng.below(100);
    u32 index;
    if (pick < 25) {
        index = guest_abi::test_msr;
        o.exit_kind = write ? k_msr_write : k_msr_read;
        if (write) {
            o.commit = &test_msr;
            o.commit_value = value;
        } else {
            msr_read(o, test_msr);
        }
    } else if (pick < 50) {  // an MSR nobody emulates: #GP from the VMM
        bool known;
        do {
            index = static_cast<u32>(rng.chance(50) ? rng.next() : (rng.chance(50) ? 0xC000'0000 : 0) + rng.below(0x2000));
            known = index == guest_abi::test_msr || index == msr_efer || index == msr_pat;
            for (u32 p : passthrough) known |= index == p;
        } while (known);
        o.exit_kind = write ? k_msr_write : k_msr_read;
        o.outcome = Outcome::Fault;
    } else if (pick < 65) {  // PAT: the policy's, no exit
        index = msr_pat;
        if (!write) {
            msr_read(o, pat);
        } else {
            if (rng.chance(60)) {  // valid types
                constexpr u64 types[] = {0, 1, 4, 5, 6, 7};
                u64 v = 0;
                for (unsigned i = 0; i < 8; ++i) v |= types[rng.below(6)] << (8 * i);
                r[rax] = (r[rax] & ~u64{0xFFFF'FFFF}) | (v & 0xFFFF'FFFF);
                r[rdx] = (r[rdx] & ~u64{0xFFFF'FFFF}) | (v >> 32);
            }
            const u64 v = (r[rdx] << 32) | (r[rax] & 0xFFFF'FFFF);
            if (pat_ok(v)) {
                o.commit = &pat;
                o.commit_value = v;
            } else {
                o.outcome = Outcome::Fault;
            }
        }
    } else if (pick < 80) {  // EFER: the policy's, no exit; SVME hidden
        index = msr_efer;
        if (!write) {
            msr_read(o, efer);
        } else {
            u64 v = efer;
            const u64 what = rng.below(100);
            if (what < 50) {
                v ^= rng.chance(50) ? efer_sce : efer_nxe;  // allowed
            } else if (what < 65) {
                v |= efer_svme;  // not the guest's
            } else if (what < 80) {
                v &= ~efer_lme;  // long mode off under paging (SDM: #GP)
            } else {
                v |= u64{1} << (13 + rng.below(51));  // reserved (or SVME and above)
            }
            r[rax] = (r[rax] & ~u64{0xFFFF'FFFF}) | (v & 0xFFFF'FFFF);
            r[rdx] = (r[rdx] & ~u64{0xFFFF'FFFF}) | (v >> 32);
            if (what < 50) {
                o.commit = &efer;
                o.commit_value = v;
            } else {
                o.outcome = Outcome::Fault;
            }
        }
    } else {  // MSRs the VMCB holds, passed through: no exit
        const bool use_star = rng.chance(50);
        index = use_star ? msr_star : msr_kernel_gs_base;
        u64& shadow = use_star ? star : kernel_gs_base;
        if (!write) {
            msr_read(o, shadow);
        } else {
            u64 v = value;
            if (!use_star) v = (v & 0x7FFF'FFFF'FFFF) | (rng.chance(50) ? 0xFFFF'8000'0000'0000 : 0);  // canonical
            r[rax] = (r[rax] & ~u64{0xFFFF'FFFF}) | (v & 0xFFFF'FFFF);
            r[rdx] = (r[rdx] & ~u64{0xFFFF'FFFF}) | (v >> 32);
            o.commit = &shadow;
            o.commit_value = v;
        }
    }
    // ECX names the MSR; RCX's upper half is not the MSR's, except that
    // QEMU 7.2 finds an MSR of the permission map's ranges (0..1FFF,
    // C000_0000.., C001_0000..) in the map through all of RCX, so with
    // those bits set it looks past the map and does not intercept at all.
    const bool in_map = index < 0x2000 || (index >= 0xC000'0000 && index < 0xC000'2000) ||
                        (index >= 0xC001'0000 && index < 0xC001'2000);
    r[rcx] = (in_map ? 0 : r[rcx] & ~u64{0xFFFF'FFFF}) | index;
}

void cpuid_op(Rng& rng, Op& o) {
    u64* r = o.frame.in;
    o.stub = s_cpuid;
    u64 leaf;
    const u64 pick = rng.below(100);
    if (pick < 35) {
        leaf = rng.below(0x20);
    } else if (pick < 60) {
        leaf = 0x8000'0000 + rng.below(0x20);
    } else if (pick < 80) {
        leaf = rng.chance(50) ? 0x4000'0000 + rng.below(4) : 0x4000'0000 + (rng.next() & 0x0FFF'FFFF);
    } else {
        leaf = rng.next() & 0xFFFF'FFFF;
    }
    r[rax] = (r[rax] & ~u64{0xFFFF'FFFF}) | leaf;
    o.unchecked = 0xF;  // RAX..RDX: the host's values, checked in check_cpuid
}

void check_cpuid(const Op& o) {
    const u64* in = o.frame.in;
    const u64* out = o.frame.out;
    const u32 leaf = static_cast<u32>(in[rax]);
    for (unsigned i = 0; i < 4; ++i) expect(out[i] >> 32 == 0, 0x40 + i, out[i]);
    const u32 eax = static_cast<u32>(out[rax]), ebx = static_cast<u32>(out[rbx]), ecx = static_cast<u32>(out[rcx]),
              edx = static_cast<u32>(out[rdx]);
    if (leaf == 1) {
        expect((ecx & (1u << 31)) != 0, 0x44, ecx);  // hypervisor
        expect((ecx & (1u << 5)) == 0, 0x45, ecx);   // no VMX
        expect((ecx & (1u << 3)) == 0, 0x46, ecx);   // no MONITOR
        expect((ebx >> 24) == 0, 0x47, ebx);         // APIC id: vCPU 0
    } else if (leaf == 0x8000'0001) {
        expect((ecx & (1u << 2)) == 0, 0x48, ecx);   // no SVM
        expect((ecx & (1u << 12)) == 0, 0x49, ecx);  // no SKINIT/STGI (they raise #UD)
    } else if (leaf == 0x8000'000A) {
        expect((eax | ebx | ecx | edx) == 0, 0x4A, eax | ebx | ecx | edx);
    } else if (leaf == 0x4000'0000) {
        expect(eax == 0x4000'0000 && ebx == 0x6956'7841 && ecx == 0x2072'6F73 && edx == 0x5550'4376, 0x4B, ebx);
    } else if (leaf > 0x4000'0000 && leaf <= 0x4FFF'FFFF) {
        expect((eax | ebx | ecx | edx) == 0, 0x4C, eax | ebx | ecx | edx);
    }
}

// The SVM instructions and MONITOR/MWAIT: #UD from the policy; XSETBV: #UD
// (CR4.OSXSAVE is clear); WBINVD/INVD: skipped. None reaches the VMM.
void system_op(Rng& rng, Op& o) {
    u64* r = o.frame.in;
    constexpr unsigned stubs[] = {s_clgi, s_stgi, s_vmsave, s_invlpga, s_monitor, s_mwait, s_xsetbv, s_wbinvd, s_invd};
    o.stub = stubs[rng.below(9)];
    r[rax] = reinterpret_cast<u64>(ram_buffer) & ~u64{0xFFF};  // VMSAVE, INVLPGA, MONITOR: an address in RAM
    r[rcx] = 0;  // MONITOR/MWAIT: no extensions
    if (o.stub == s_wbinvd || o.stub == s_invd) return;
    o.outcome = Outcome::Fault;
    o.vector = 6;
}

// A call into memory that is not there: #GP at the target, no register changed.
void call_op(Rng& rng, Op& o) {
    u64 target;
    do {
        target = rng.next() & 0xFFFF'FFFF;
    } while (target < guest_abi::ram_size + 16);
    o.stub = s_call;
    o.frame.in[r11] = target;
    o.outcome = Outcome::Fault;
    o.fault_rip = target;
    o.exit_kind = k_nested_page_fault;
}

// --- The host's timer: armed, then waited for (one ExternalInterrupt exit) ---
void wait_host_timer(u64 before) {
    u64 polls = 0;
    for (;;) {
        const u64 now = hypercall(vmm::hypercall::host_timer);
        count(k_hypercall);
        if (now != before) {
            expect(now == before + 1, 0x70, now - before);
            break;
        }
        ++polls;
        expect(polls < 100'000, 0x71, polls);  // a few seconds: the PIT never fired
        for (int i = 0; i < 2000; ++i) asm volatile("pause");
    }
    count(k_external);
}
u64 arm_host_timer(Rng& rng) {
    const u64 before = hypercall(vmm::hypercall::host_timer);
    const u64 armed = hypercall(vmm::hypercall::host_timer, 1 + rng.below(400));
    count(k_hypercall, 2);
    expect(armed == before, 0x72, armed);
    return before;
}

// Runs one op through chaos_trap and checks every register after it.
void run(Op& o) {
    u64 want[16];
    for (unsigned i = 0; i < 16; ++i) want[i] = (o.changed >> i & 1) != 0 ? o.values[i] : o.frame.in[i];
    for (u64& reg : o.frame.out) reg = 0x0BAD'0BAD'0BAD'0BAD;
    current_stub = o.stub;
    current_in = o.frame.in;

    chaos_target = stub_address(o.stub);
    fetch_target = o.fault_rip != 0 ? o.fault_rip : ~u64{0};
    const u64 faults_before = faults;
    chaos_trap(&o.frame);
    fetch_target = ~u64{0};
    if (o.outcome == Outcome::Fault) {
        expect(faults == faults_before + 1, 0x20, faults - faults_before);
        expect(last_vector == o.vector, 0x21, last_vector);
        expect(last_error == 0 || o.vector == 6, 0x22, last_error);
        expect(last_rip == (o.fault_rip != 0 ? o.fault_rip : stub_address(o.stub)), 0x23, last_rip);
        for (unsigned i = 0; i < 16; ++i) want[i] = o.frame.in[i];  // nothing written
    } else {
        expect(faults == faults_before, 0x24, last_vector);
        if (o.commit != nullptr) *o.commit = o.commit_value;
    }
    for (unsigned i = 0; i < 16; ++i) {
        if (i == rsp || (o.outcome == Outcome::Returns && (o.unchecked >> i & 1) != 0)) continue;
        if (o.frame.out[i] != want[i]) {
            print("guest: register ");
            print_dec(i);
            print(" after the op is ");
            print_dec(o.frame.out[i]);
            print(", expected ");
            print_dec(want[i]);
            print(" (stub ");
            print_dec(o.stub);
            print(")\n");
            chaos_fail(0x30 + i, o.frame.out[i]);
        }
    }
    expect(o.frame.out[rsp] == chaos_rsp, 0x34, o.frame.out[rsp]);
    constexpr u64 flags = 0x8D5 | 0x400 | 0x200;  // CF PF AF ZF SF OF, DF, IF
    const u64 want_flags = (o.frame.rflags_in & flags) | (o.sets_if ? 0x200 : 0);
    expect((o.frame.rflags_out & flags) == want_flags, 0x50, o.frame.rflags_out);
    if (o.stub == s_cpuid) check_cpuid(o);
    if (o.exit_kind >= 0) count(static_cast<Kind>(o.exit_kind));
}

void run_op(Rng& rng) {
    Op o;
    for (u64& reg : o.frame.in) reg = rng.next();
    o.frame.in[rsp] = 0;
    // Random arithmetic flags and DF; IF half the time (queued interrupts
    // may then arrive in the middle of the op).
    o.frame.rflags_in = 2 | (rng.next() & (0x8D5 | 0x400)) | (rng.chance(50) ? 0x200 : 0);
    const u64 pick = rng.below(100);
    if (pick < 18) {
        hypercall_op(rng, o);
    } else if (pick < 50) {
        mmio_op(rng, o);
    } else if (pick < 65) {
        port_op(rng, o);
    } else if (pick < 78) {
        msr_op(rng, o);
    } else if (pick < 85) {
        cpuid_op(rng, o);
    } else if (pick < 89) {
        system_op(rng, o);
    } else if (pick < 91) {
        call_op(rng, o);
    } else if (pick < 98) {
        // HLT, woken by an interrupt queued first (IF clear until the STI
        // before it). Never with the host's timer armed: QEMU 7.2's VMRUN
        // does not restore the STI shadow (the VMCB's INTERRUPT_SHADOW),
        // so a host interrupt exit between STI and HLT lets the queued
        // interrupt in before the HLT, which then waits for good.
        // At most half the queue is left waiting after an op: this one fits.
        const u64 vector = 32 + rng.below(224);
        const u64 refused = hypercall(vmm::hypercall::inject, vector);
        count(k_hypercall);
        expect(refused == 0, 0x73, vector);
        if (!pending(vector)) ++expected_irqs[vector];
        o.frame.rflags_in &= ~u64{0x200};
        o.stub = s_hlt;
        o.exit_kind = k_halt;
        o.sets_if = true;
    } else {  // the host's timer while the guest spins
        wait_host_timer(arm_host_timer(rng));
        return;
    }
    run(o);
    // Interrupts asked for are taken now, or (now and then) left queued
    // across the next op, which then runs with them pending.
    if (outstanding() != 0 && (rng.chance(70) || outstanding() > AXVCPU_INTERRUPT_QUEUE_DEPTH / 2)) wait_for_interrupts();
}

// The console, as example::chaos prints to it.
struct Out {
    static void print(const char* text) { guest::print(text); }
    static void print_dec(u64 value) { guest::print_dec(value); }
    static void print_hex(u64 value) { guest::print_hex(value); }
};

void count_exits_reset() {
    hypercall(vmm::hypercall::count_exits, 0, 0);
    for (unsigned k = 0; k < exit_kinds; ++k) counts[k] = 0;
}
void count_exits_compare() {
    counts[k_hypercall] += 1;  // this call
    const u64 differ = hypercall(vmm::hypercall::count_exits, reinterpret_cast<u64>(counts), compared_kinds);
    expect(differ == 0, 0x7F, differ);
}

}  // namespace

extern "C" [[noreturn]] void guest_main(u64) {
    const volatile u64* params = reinterpret_cast<const volatile u64*>(guest_abi::chaos_params);
    seed = params[0] != 0 ? params[0] : default_seed;
    const u64 target = params[1] != 0 ? params[1] : default_exits;
    print("guest: chaos test, seed ");
    print_hex(seed);
    print(", exits ");
    print_dec(target);
    print("\n");
    GUEST_CHECK(reinterpret_cast<u64>(chaos_stubs_end) - reinterpret_cast<u64>(chaos_stubs) == stub_size * s_count,
                0x1, reinterpret_cast<u64>(chaos_stubs_end) - reinterpret_cast<u64>(chaos_stubs));
    hypercall(vmm::hypercall::hello, guest_abi::test_chaos);
    hypercall(vmm::hypercall::set_quiet, 1);
    exception_hook = chaos_exception;
    // What the policy's MSRs hold now (none of these reads exits).
    pat = rdmsr(msr_pat);
    efer = rdmsr(msr_efer);
    star = rdmsr(msr_star);
    kernel_gs_base = rdmsr(msr_kernel_gs_base);
    Rng rng{seed};
    // A batch ends with every interrupt asked for taken, so that one never
    // delivered fails within its batch.
    const auto batch_end = [] {
        if (outstanding() != 0) wait_for_interrupts();
        count_exits_compare();
    };
    example::chaos::run<Out>(target, total_exits, op, [&] { run_op(rng); }, count_exits_reset, batch_end);
    constexpr example::chaos::Kind summary[] = {
        {k_hypercall, "hypercall"}, {k_mmio_read, "mmio read"},   {k_mmio_write, "mmio write"},
        {k_msr_read, "msr read"},   {k_msr_write, "msr write"},   {k_io_read, "io read"},
        {k_io_write, "io write"},   {k_external, "external interrupt"}, {k_nested_page_fault, "nested page fault"},
        {k_halt, "halt"},
    };
    example::chaos::print_summary<Out>(seed, op, total_exits, kind_totals, summary);
    print(", exceptions taken ");
    print_dec(faults);
    print("\n");
    finish(0);
}
