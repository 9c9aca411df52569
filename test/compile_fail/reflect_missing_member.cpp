// A member missing from a struct's Hana member list would silently vanish
// from its log text and its reflect::struct_equal comparison; it fails the
// build instead.
// expect-first-error: reflect: BOOST_HANA_ADAPT_STRUCT does not list every member
#include <axvcpu/fmt.hpp>
#include <axvcpu/reflect.hpp>
#include <boost/hana/adapt_struct.hpp>
#include <axvcpu/types.hpp>

namespace axvcpu {
struct TwoFields {
    static constexpr std::string_view type_name = "TwoFields";
    usize listed = 0;
    usize forgotten = 0;
};
}  // namespace axvcpu
BOOST_HANA_ADAPT_STRUCT(axvcpu::TwoFields, listed);

bool same(const axvcpu::TwoFields& a, const axvcpu::TwoFields& b) { return axvcpu::reflect::struct_equal(a, b); }
