// What every arch's chaos guest shares (examples/<arch>/README.md, "The
// chaos guest"): the run in batches of 1,000 ops, each batch's exits
// compared with the VMM's at its end (count_exits), a progress line every
// 20,000 exits, and the summary line. The ops, the exits they cause and
// how to talk to the VMM are the guest's own. Needs only <cstdint>; the
// guests are freestanding.
#pragma once

#include <cstdint>

namespace example::chaos {

using u64 = std::uint64_t;

// One exit kind of the summary: its AxVCpuExitReason index and its name.
struct Kind {
    unsigned index;
    const char* name;
};

// Writes a line piece by piece: Out has print(const char*), print_dec(u64)
// and print_hex(u64).
template <class Out>
void print_progress(u64 ops, u64 exits) {
    Out::print("guest: chaos: ");
    Out::print_dec(ops);
    Out::print(" ops, ");
    Out::print_dec(exits);
    Out::print(" exits\n");
}

// Runs ops until `exits` (which run_op counts up) reaches `target`:
// begin() opens each batch (the VMM's count starts there), end() closes it
// (the comparison). `op` counts the ops made, for the guest's failure
// reports.
template <class Out, class RunOp, class Begin, class End>
void run(u64 target, const u64& exits, u64& op, RunOp run_op, Begin begin, End end) {
    u64 next_report = 0;
    while (exits < target) {
        begin();
        for (unsigned i = 0; i < 1000 && exits < target; ++i, ++op) run_op();
        end();
        if (exits >= next_report) {
            print_progress<Out>(op, exits);
            next_report += 20'000;
        }
    }
}

// "guest: chaos done, seed S: O ops, E exits (kind n, ...)": the guest
// ends the line with what else it counted.
template <class Out, unsigned N>
void print_summary(u64 seed, u64 ops, u64 exits, const u64* totals, const Kind (&kinds)[N]) {
    Out::print("guest: chaos done, seed ");
    Out::print_hex(seed);
    Out::print(": ");
    Out::print_dec(ops);
    Out::print(" ops, ");
    Out::print_dec(exits);
    Out::print(" exits (");
    for (unsigned k = 0; k < N; ++k) {
        Out::print(k == 0 ? "" : ", ");
        Out::print(kinds[k].name);
        Out::print(" ");
        Out::print_dec(totals[kinds[k].index]);
    }
    Out::print(")");
}

}  // namespace example::chaos
