// RecordLog: what a test policy records (the calls it received, the
// interrupts it delivered or was asked to inject), in place, in order, with
// a fixed capacity.
//
// Not a std::vector: the test policies are included by every host test of a
// VMM, and <vector> with its instantiations was most of what they cost to
// compile (test/bench/README.md). In place also keeps a policy's records
// where the policy is, with no allocation.
//
// A full log is a test that outgrew its double, not a behaviour to model:
// the next push prints which log and how to make room (clear() it between
// phases of a long test) and aborts, rather than dropping records a test
// might then assert on.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdio>
#include <cstdlib>

namespace axvcpu::policies {

namespace detail {
// One out-of-template copy of the report, however many logs a test has.
[[noreturn]] inline void record_log_full(const char* name) {
    std::fputs(name, stderr);
    std::fputs(": full: clear() it between the phases of a long test\n", stderr);
    std::abort();
}
}  // namespace detail

template <class T, std::size_t Capacity>
class RecordLog {
    static_assert(Capacity >= 1, "RecordLog needs room for at least one record");

public:
    // `name` says which log in the message a full log prints.
    constexpr explicit RecordLog(const char* name = "RecordLog") noexcept : name_(name) {}

    void push_back(const T& record) {
        if (size_ == Capacity) detail::record_log_full(name_);
        items_[size_++] = record;
    }
    // Removes one record, keeping the others in order.
    void erase(const T* position) noexcept {
        const auto index = static_cast<std::size_t>(position - items_.data());
        for (std::size_t i = index; i + 1 < size_; ++i) items_[i] = items_[i + 1];
        --size_;
    }
    // Removes every record `drop` is true of, keeping the others in order.
    template <class Predicate>
    void erase_if(Predicate drop) {
        std::size_t kept = 0;
        for (std::size_t i = 0; i < size_; ++i)
            if (!drop(items_[i])) items_[kept++] = items_[i];
        size_ = kept;
    }
    constexpr void clear() noexcept { size_ = 0; }

    [[nodiscard]] constexpr std::size_t size() const noexcept { return size_; }
    [[nodiscard]] constexpr bool empty() const noexcept { return size_ == 0; }
    static constexpr std::size_t capacity() noexcept { return Capacity; }

    [[nodiscard]] constexpr const T& operator[](std::size_t index) const noexcept { return items_[index]; }
    [[nodiscard]] constexpr const T& front() const noexcept { return items_[0]; }
    [[nodiscard]] constexpr const T& back() const noexcept { return items_[size_ - 1]; }
    [[nodiscard]] constexpr const T* begin() const noexcept { return items_.data(); }
    [[nodiscard]] constexpr const T* end() const noexcept { return items_.data() + size_; }
    [[nodiscard]] constexpr T* begin() noexcept { return items_.data(); }
    [[nodiscard]] constexpr T* end() noexcept { return items_.data() + size_; }

    // Equal to any sized range holding the same records in the same order,
    // e.g. `log == std::vector<usize>{5, 6}` in a test.
    template <class Range>
        requires requires(const Range& r) {
            { r.size() } -> std::convertible_to<std::size_t>;
            { *r.begin() == *r.begin() } -> std::convertible_to<bool>;
        }
    friend constexpr bool operator==(const RecordLog& log, const Range& other) {
        if (log.size() != other.size()) return false;
        auto theirs = other.begin();
        for (const T& mine : log) {
            if (!(mine == *theirs)) return false;
            ++theirs;
        }
        return true;
    }

private:
    std::array<T, Capacity> items_{};
    std::size_t size_ = 0;
    const char* name_;
};

}  // namespace axvcpu::policies
