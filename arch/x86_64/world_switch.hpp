// The SVM and VMX world switches (top-level asm).
//
// Each sits in a COMDAT section group named after it, so every translation
// unit that includes this header emits both and the linker keeps exactly
// one copy of each per final link (test/x86_64/two_tu_*.cpp prove it).
//
//   void axvcpu_x86_svm_run_guest(SwitchContext* ctx)   (C ABI)
//     Keeps the host's callee-saved registers on its stack, swaps the
//     VMLOAD/VMSAVE state (FS, GS, TR, LDTR with their hidden parts,
//     KERNEL_GS_BASE, STAR, LSTAR, CSTAR, SFMASK, SYSENTER_*) from the
//     host's to the guest's, loads the guest's GPRs but RAX and RSP (the
//     VMCB's), and VMRUNs the guest. After #VMEXIT, which has restored the
//     host's RAX (the VMCB's address), RSP, RIP, RFLAGS, control and
//     segment registers from the host save area (AMD APM vol. 2, 15.5 and
//     15.6), it stores the guest's GPRs, swaps the VMLOAD/VMSAVE state
//     back and returns; the exit is in the VMCB.
//     Interrupts: the global interrupt flag is clear around the switch, and
//     the host's RFLAGS.IF is set for VMRUN, so a physical interrupt during
//     the guest's run exits with INTR (V_INTR_MASKING, vmcb.hpp) instead of
//     being masked; the function returns with RFLAGS.IF clear and GIF set,
//     the interrupt still pending for the host to take when it enables
//     interrupts. Call it with RFLAGS.IF clear, EFER.SVME set and
//     VM_HSAVE_PA programmed (PerCpu).
//
//   unsigned axvcpu_x86_vmx_run_guest(vmx::SwitchContext* ctx)   (C ABI)
//     Keeps the host's callee-saved registers on its stack, makes the
//     current VMCS's host RSP this frame's (a VMWRITE only when it moved),
//     loads every guest GPR but RSP (the VMCS's) and enters the guest with
//     VMLAUNCH, or VMRESUME once ctx->launched. VM exit lands at
//     axvcpu_x86_vmx_exit (the VMCS's host RIP) with the host's RSP and
//     RFLAGS = 2 (interrupts off; Intel SDM vol. 3C, 28.5.3), which stores
//     the guest's GPRs and CR2, sets launched (unless the exit reports a
//     failed VM entry, which leaves the launch state alone) and returns 0. The guest's CR2, which the VMCS does
//     not hold, is loaded before the entry. A VM entry that fails
//     as an instruction returns 1 (VMfailInvalid: no current VMCS) or 2
//     (VMfailValid: the VMCS's VM-instruction error says why); a failure
//     of the guest-state checks is a VM exit instead (31.7, 28.8). Call it
//     with RFLAGS.IF clear, in VMX operation with the vCPU's VMCS current
//     (vmx::PerCpu, vmx::VCpu::bind). The syscall MSRs are switched by the
//     VMCS's MSR lists, FS/GS bases by its fields (vmcs.hpp).
#pragma once

#include "arch/x86_64/context.hpp"
#include "arch/x86_64/vmcs.hpp"

#if !defined(__x86_64__)
#error "arch/x86_64/world_switch.hpp is for x86_64 targets only"
#endif

#define AXVCPU_X86_STR2(x) #x
#define AXVCPU_X86_STR(x) AXVCPU_X86_STR2(x)
#define AXVCPU_X86_OFF(name) AXVCPU_X86_STR(AXVCPU_X86_##name)

static_assert(axvcpu::x86_64::offset::gprs == 0, "the GPR code below addresses gprs[i] at 8 * i");

// What both switches do alike, as assembly text: the host's callee-saved
// registers kept on the stack and given back, and the guest's GPRs but
// RAX, RSP and RDI (each switch's own) loaded from and stored to the
// context at RDI, gprs[i] at 8 * i in encoding order.
#define AXVCPU_X86_PUSH_CALLEE_SAVED "push %rbp; push %rbx; push %r12; push %r13; push %r14; push %r15\n"
#define AXVCPU_X86_POP_CALLEE_SAVED_AND_RETURN "pop %r15; pop %r14; pop %r13; pop %r12; pop %rbx; pop %rbp; ret\n"
#define AXVCPU_X86_LOAD_GPRS                                                                                    \
    "mov 8(%rdi), %rcx; mov 16(%rdi), %rdx; mov 24(%rdi), %rbx; mov 40(%rdi), %rbp; mov 48(%rdi), %rsi\n" \
    "mov 64(%rdi), %r8; mov 72(%rdi), %r9; mov 80(%rdi), %r10; mov 88(%rdi), %r11\n"                       \
    "mov 96(%rdi), %r12; mov 104(%rdi), %r13; mov 112(%rdi), %r14; mov 120(%rdi), %r15\n"
#define AXVCPU_X86_STORE_GPRS                                                                                   \
    "mov %rcx, 8(%rdi); mov %rdx, 16(%rdi); mov %rbx, 24(%rdi); mov %rbp, 40(%rdi); mov %rsi, 48(%rdi)\n" \
    "mov %r8, 64(%rdi); mov %r9, 72(%rdi); mov %r10, 80(%rdi); mov %r11, 88(%rdi)\n"                       \
    "mov %r12, 96(%rdi); mov %r13, 104(%rdi); mov %r14, 112(%rdi); mov %r15, 120(%rdi)\n"

asm(R"(
.pushsection .text.axvcpu_x86_svm_world_switch,"axG",@progbits,axvcpu_x86_svm_world_switch,comdat
.globl axvcpu_x86_svm_run_guest
.type axvcpu_x86_svm_run_guest, @function
.balign 16
axvcpu_x86_svm_run_guest:
    )" AXVCPU_X86_PUSH_CALLEE_SAVED R"(
    # ctx, found again on the stack after the exit.
    push %rdi
    clgi
    mov )" AXVCPU_X86_OFF(SVM_HOST_SAVE_PA) R"((%rdi), %rax
    vmsave
    mov )" AXVCPU_X86_OFF(SVM_VMCB_PA) R"((%rdi), %rax
    vmload
    # GIF is clear: nothing is taken between here and VMRUN.
    sti
    )" AXVCPU_X86_LOAD_GPRS R"(
    mov 56(%rdi), %rdi
    vmrun
    # #VMEXIT: GIF clear, RAX = the VMCB's address, RSP as pushed above.
    vmsave
    cli
    # The guest's RDI for ctx.
    xchg %rdi, (%rsp)
    )" AXVCPU_X86_STORE_GPRS R"(
    pop %rcx
    mov %rcx, 56(%rdi)
    mov )" AXVCPU_X86_OFF(SVM_HOST_SAVE_PA) R"((%rdi), %rax
    vmload
    stgi
    )" AXVCPU_X86_POP_CALLEE_SAVED_AND_RETURN R"(
.size axvcpu_x86_svm_run_guest, . - axvcpu_x86_svm_run_guest
.popsection
)");

extern "C" void axvcpu_x86_svm_run_guest(axvcpu::x86_64::svm::SwitchContext* ctx);

static_assert(axvcpu::x86_64::vmcs::field::host_rsp == 0x6C14 && axvcpu::x86_64::vmcs::field::exit_reason == 0x4402,
              "the VMX switch writes host RSP and reads the exit reason by their encodings");

asm(R"(
.pushsection .text.axvcpu_x86_vmx_world_switch,"axG",@progbits,axvcpu_x86_vmx_world_switch,comdat
.globl axvcpu_x86_vmx_run_guest
.type axvcpu_x86_vmx_run_guest, @function
.globl axvcpu_x86_vmx_exit
.balign 16
axvcpu_x86_vmx_run_guest:
    )" AXVCPU_X86_PUSH_CALLEE_SAVED R"(
    # ctx, found again on the stack after the exit.
    push %rdi
    # VM exit resumes at this stack pointer: the VMCS's host RSP.
    cmp %rsp, )" AXVCPU_X86_OFF(VMX_HOST_RSP) R"((%rdi)
    je 1f
    mov %rsp, )" AXVCPU_X86_OFF(VMX_HOST_RSP) R"((%rdi)
    mov $0x6C14, %eax
    vmwrite %rsp, %rax
1:
    # The guest's CR2 (not in the VMCS); a CR2 write is slow, so only if it differs.
    mov %cr2, %rax
    cmp %rax, )" AXVCPU_X86_OFF(VMX_CR2) R"((%rdi)
    je 2f
    mov )" AXVCPU_X86_OFF(VMX_CR2) R"((%rdi), %rax
    mov %rax, %cr2
2:
    # ZF of this test chooses VMLAUNCH or VMRESUME; the MOVs keep it.
    cmpb $0, )" AXVCPU_X86_OFF(VMX_LAUNCHED) R"((%rdi)
    mov 0(%rdi), %rax
    )" AXVCPU_X86_LOAD_GPRS R"(
    mov 56(%rdi), %rdi
    jne 3f
    vmlaunch
    jmp 4f
3:
    vmresume
4:
    # Still here: the entry failed as an instruction. CF: VMfailInvalid,
    # else ZF: VMfailValid. The pops below restore the host's registers.
    mov $1, %eax
    jc 5f
    mov $2, %eax
5:
    add $8, %rsp
    jmp 6f
axvcpu_x86_vmx_exit:
    # The guest's RDI for ctx.
    xchg %rdi, (%rsp)
    mov %rax, 0(%rdi)
    )" AXVCPU_X86_STORE_GPRS R"(
    pop %rcx
    mov %rcx, 56(%rdi)
    mov %cr2, %rcx
    mov %rcx, )" AXVCPU_X86_OFF(VMX_CR2) R"((%rdi)
    # Launched, unless VM entry failed its guest-state checks (exit reason
    # bit 31, 28.8), which leaves the launch state as it was (31.3).
    mov $0x4402, %ecx
    vmread %rcx, %rcx
    bt $31, %ecx
    jc 7f
    movb $1, )" AXVCPU_X86_OFF(VMX_LAUNCHED) R"((%rdi)
7:
    xor %eax, %eax
6:
    )" AXVCPU_X86_POP_CALLEE_SAVED_AND_RETURN R"(
.size axvcpu_x86_vmx_run_guest, . - axvcpu_x86_vmx_run_guest
.popsection
)");

extern "C" unsigned axvcpu_x86_vmx_run_guest(axvcpu::x86_64::vmx::SwitchContext* ctx);
// The VMCS's host RIP: where VM exit resumes the host inside the function above.
extern "C" const char axvcpu_x86_vmx_exit[];
