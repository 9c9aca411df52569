// The build options of the example hypervisors (meson: example_vcpus,
// example_trace), with the defaults a build without meson gets.
#pragma once

#include <axvcpu/types.hpp>

#ifndef EXAMPLE_VCPUS
#define EXAMPLE_VCPUS 2
#endif
#ifndef EXAMPLE_TRACE
#define EXAMPLE_TRACE 1
#endif

namespace vmm::options {
// vCPUs the example VM boots, at most one per physical CPU.
inline constexpr axvcpu::usize vcpus = EXAMPLE_VCPUS;
// Print every exit (up to a limit); the summary of exits is printed either way.
inline constexpr bool trace = EXAMPLE_TRACE != 0;
}  // namespace vmm::options
