// libFuzzer harness: the riscv64 trap decoders (decode_load_store on 32-bit
// and compressed parcels, decode_load_low_half, decode_htinst,
// decode_guest_page_fault, mmio_load_value, store_exit, classify_scause).
// Each decoded access is checked against a table written from the ISA manual
// (RV64I LOAD/STORE, RVC quadrants 0 and 2), so a wrong field or a missing
// refusal is a failure, not only a crash. Input: insn (4 bytes), htinst,
// scause, stval, htval, raw value (8 bytes each), flags byte.
#include <arch/riscv64/exit_decode.hpp>

#include "fuzz.hpp"

using namespace axvcpu;
using namespace axvcpu::riscv64;

namespace {

unsigned field(std::uint32_t w, unsigned hi, unsigned lo) { return (w >> lo) & ((1u << (hi - lo + 1)) - 1); }

// The ISA's answer for one instruction: what a plain integer load/store it is.
std::optional<LoadStore> reference(std::uint32_t insn) {
    const std::uint32_t low = insn & 0xFFFF;
    if ((low & 3) != 3) {  // RVC
        const unsigned op = low & 3, f3 = field(low, 15, 13);
        if (op == 0) {
            const usize r = 8 + field(low, 4, 2);  // rd'/rs2': x8..x15
            if (f3 == 2) return LoadStore{false, AccessWidth::Dword, r, true, 2};   // c.lw
            if (f3 == 3) return LoadStore{false, AccessWidth::Qword, r, false, 2};  // c.ld (RV64)
            if (f3 == 6) return LoadStore{true, AccessWidth::Dword, r, false, 2};   // c.sw
            if (f3 == 7) return LoadStore{true, AccessWidth::Qword, r, false, 2};   // c.sd
            return std::nullopt;
        }
        if (op == 2) {
            const usize rd = field(low, 11, 7), rs2 = field(low, 6, 2);
            if (f3 == 2 && rd != 0) return LoadStore{false, AccessWidth::Dword, rd, true, 2};   // c.lwsp
            if (f3 == 3 && rd != 0) return LoadStore{false, AccessWidth::Qword, rd, false, 2};  // c.ldsp
            if (f3 == 6) return LoadStore{true, AccessWidth::Dword, rs2, false, 2};             // c.swsp
            if (f3 == 7) return LoadStore{true, AccessWidth::Qword, rs2, false, 2};             // c.sdsp
        }
        return std::nullopt;
    }
    if ((low & 0x1C) == 0x1C) return std::nullopt;  // 48-bit and longer: not RV64GC
    const unsigned opcode = field(insn, 6, 0), f3 = field(insn, 14, 12);
    if (opcode == 0x03) {
        switch (f3) {
            case 0: return LoadStore{false, AccessWidth::Byte, field(insn, 11, 7), true, 4};    // lb
            case 1: return LoadStore{false, AccessWidth::Word, field(insn, 11, 7), true, 4};    // lh
            case 2: return LoadStore{false, AccessWidth::Dword, field(insn, 11, 7), true, 4};   // lw
            case 3: return LoadStore{false, AccessWidth::Qword, field(insn, 11, 7), false, 4};  // ld
            case 4: return LoadStore{false, AccessWidth::Byte, field(insn, 11, 7), false, 4};   // lbu
            case 5: return LoadStore{false, AccessWidth::Word, field(insn, 11, 7), false, 4};   // lhu
            case 6: return LoadStore{false, AccessWidth::Dword, field(insn, 11, 7), false, 4};  // lwu
            default: return std::nullopt;
        }
    }
    if (opcode == 0x23 && f3 <= 3) return LoadStore{true, static_cast<AccessWidth>(f3), field(insn, 24, 20), false, 4};
    return std::nullopt;
}

void check_access(const LoadStore& a) {
    FUZZ_CHECK(static_cast<std::uint64_t>(a.width) <= static_cast<std::uint64_t>(AccessWidth::Qword));
    FUZZ_CHECK(a.reg <= 31);
    FUZZ_CHECK(!(a.signed_ext && a.is_store));                     // signedness only for loads
    FUZZ_CHECK(!(a.signed_ext && a.width == AccessWidth::Qword));  // ld has nothing to extend
    FUZZ_CHECK(a.length == 2 || a.length == 4);
}

void check_decode(std::uint32_t insn) {
    const std::optional<LoadStore> got = decode_load_store(insn);
    const std::optional<LoadStore> want = reference(insn);
    FUZZ_CHECK(got.has_value() == want.has_value());
    if (!got) return;
    check_access(*got);
    FUZZ_CHECK(*got == *want);
    FUZZ_CHECK(got->length == instruction_length(insn & 0xFFFF));
    if (got->length == 2 && (insn & 3) == 0) FUZZ_CHECK(got->reg >= 8 && got->reg <= 15);  // c.lw/c.ld/c.sw/c.sd
    if (got->length == 2 && (insn & 3) == 2 && !got->is_store) FUZZ_CHECK(got->reg != 0);  // c.lwsp/c.ldsp rd != 0
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Bytes in(data, size);
    const std::uint32_t insn = in.u32();
    const std::uint64_t htinst = in.u64();
    const std::uint64_t scause = in.u64();
    const std::uint64_t stval = in.u64();
    const std::uint64_t htval = in.u64();
    const std::uint64_t raw = in.u64();
    const std::uint8_t flags = in.u8();

    // Instruction words: as given, and its low parcel alone (a compressed
    // instruction read as 16 bits), and the same with the upper half changed.
    check_decode(insn);
    check_decode(insn & 0xFFFF);
    check_decode(insn ^ static_cast<std::uint32_t>(raw & 0xFFFF0000));
    const unsigned length = instruction_length(insn & 0xFFFF);
    FUZZ_CHECK(length == 0 || length == 2 || length == 4);

    // The fast path agrees with the full decoder on every 32-bit load, and
    // answers nothing for anything else, whatever the bits above the parcel.
    const std::uint64_t low_word = (raw & ~std::uint64_t{0xFFFF}) | (insn & 0xFFFF);
    const std::optional<LoadStore> fast = decode_load_low_half(low_word);
    const std::optional<LoadStore> full = decode_load_store(insn);
    if (full && !full->is_store && full->length == 4) FUZZ_CHECK(fast && *fast == *full);
    else FUZZ_CHECK(!fast);

    // htinst: a transformed instruction is a standard encoding with bit 1
    // telling the original length; zero and pseudoinstructions decode to nothing.
    const std::optional<LoadStore> ht = decode_htinst(htinst);
    const HtinstKind hk = classify_htinst(htinst);
    FUZZ_CHECK(hk == (htinst == 0 ? HtinstKind::NotProvided : (htinst & 1) ? HtinstKind::Transformed : HtinstKind::Pseudo));
    if (hk != HtinstKind::Transformed) FUZZ_CHECK(!ht);
    {
        std::optional<LoadStore> want = reference(static_cast<std::uint32_t>(htinst) | 3);
        if (hk != HtinstKind::Transformed) want.reset();
        if (want) want->length = (htinst & 2) != 0 ? 4 : 2;
        FUZZ_CHECK(ht.has_value() == want.has_value());
        if (ht) {
            check_access(*ht);
            FUZZ_CHECK(*ht == *want);
        }
    }

    // scause round trip.
    const Trap trap = classify_scause(scause);
    FUZZ_CHECK(trap.interrupt == ((scause >> 63) != 0) && trap.code == (scause & ~scause_interrupt_bit));

    // A guest page fault: MMIO only for a load (21) / store (23) whose decoded
    // instruction agrees; otherwise a nested page fault at the same GPA.
    GuestPageFaultInfo info{scause, stval, htval, htinst, std::nullopt};
    if (flags & 1) info.scause = (flags & 2) ? cause::store_guest_page_fault : cause::load_guest_page_fault;
    if (flags & 4) info.htinst = 0;
    if (flags & 8) info.insn = insn;
    const GuestPhysAddr gpa = guest_fault_address(info.stval, info.htval);
    FUZZ_CHECK(gpa.value() == ((info.htval << 2) | (info.stval & 3)));
    const std::uint64_t code = classify_scause(info.scause).code;
    const GuestPageFault fault = decode_guest_page_fault(info);
    if (const auto* mmio = std::get_if<MmioAccess>(&fault)) {
        FUZZ_CHECK(code == cause::load_guest_page_fault || code == cause::store_guest_page_fault);
        FUZZ_CHECK(mmio->access.is_store == (code == cause::store_guest_page_fault));
        FUZZ_CHECK(mmio->addr == gpa);
        FUZZ_CHECK(classify_htinst(info.htinst) != HtinstKind::Pseudo);
        FUZZ_CHECK(classify_htinst(info.htinst) == HtinstKind::Transformed || info.insn.has_value());
        check_access(mmio->access);
        const std::optional<LoadStore> src =
            classify_htinst(info.htinst) == HtinstKind::Transformed ? decode_htinst(info.htinst) : decode_load_store(*info.insn);
        FUZZ_CHECK(src && *src == mmio->access);

        // The exits it reports.
        if (mmio->access.is_store) {
            const exit::MmioWrite w = store_exit(*mmio, raw);
            FUZZ_CHECK(w.addr == gpa && w.width == mmio->access.width);
            const std::uint64_t mask = fuzz::width_mask(w.width);
            FUZZ_CHECK(w.data == (mmio->access.reg == 0 ? 0 : raw & mask));  // x0 reads as zero
            FUZZ_CHECK(mmio_exit(*mmio, raw).is<exit::MmioWrite>());
        } else {
            const exit::MmioRead r = load_exit(*mmio);
            FUZZ_CHECK(r.addr == gpa && r.width == mmio->access.width && r.reg == mmio->access.reg);
            FUZZ_CHECK(r.reg_width == AccessWidth::Qword && static_cast<bool>(r.signed_ext) == mmio->access.signed_ext);
            FUZZ_CHECK(mmio_exit(*mmio, raw).is<exit::MmioRead>());
        }
    } else {
        const auto& nested = std::get<exit::NestedPageFault>(fault);
        FUZZ_CHECK(nested.addr == gpa);
        const std::uint32_t f = nested.access_flags.bits;
        const bool amo = info.insn && code != cause::instruction_guest_page_fault &&
                         instruction_length(*info.insn & 0xFFFF) == 4 && (*info.insn & 0x7F) == 0x2F;
        if (amo) FUZZ_CHECK(f == (MappingFlags::READ | MappingFlags::WRITE));
        else if (code == cause::load_guest_page_fault) FUZZ_CHECK(f == MappingFlags::READ);
        else if (code == cause::store_guest_page_fault) FUZZ_CHECK(f == MappingFlags::WRITE);
        else FUZZ_CHECK(f == MappingFlags::EXECUTE);
    }

    // mmio_load_value: the access's bits are the raw bytes, the bits above
    // all copy the sign bit (signed load) or are zero.
    const exit::MmioRead read{gpa, static_cast<AccessWidth>(flags >> 4 & 3), 10, AccessWidth::Qword, (flags & 0x40) != 0};
    const std::uint64_t value = mmio_load_value(read, raw);
    const unsigned bits = static_cast<unsigned>(size_in_bits(read.width));
    const bool sign = read.signed_ext && ((raw >> (bits - 1)) & 1) != 0;
    for (unsigned i = 0; i < 64; ++i) {
        const bool want = i < bits ? ((raw >> i) & 1) != 0 : sign;
        FUZZ_CHECK((((value >> i) & 1) != 0) == want);
    }
    return 0;
}
