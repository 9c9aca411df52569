// The whole generic library: types, errors, host API contracts, the arch
// contract, AxVCpu and AxPerCpu. Arch policies live in arch/<name>/.
#pragma once

#include "axvcpu/addr.hpp"
#include "axvcpu/arch_contract.hpp"
#include "axvcpu/config.hpp"
#include "axvcpu/current_vcpu_slots.hpp"
#include "axvcpu/device_type.hpp"
#include "axvcpu/error.hpp"
#include "axvcpu/exit_reason.hpp"
#include "axvcpu/fmt.hpp"
#include "axvcpu/host_api.hpp"
#include "axvcpu/irq_queue.hpp"
#include "axvcpu/percpu.hpp"
#include "axvcpu/percpu_contract.hpp"
#include "axvcpu/run_publisher.hpp"
#include "axvcpu/stage2_mapper.hpp"
#include "axvcpu/types.hpp"
#include "axvcpu/vcpu.hpp"
#include "axvcpu/vcpu_state.hpp"
#include "axvcpu/vm_config.hpp"
