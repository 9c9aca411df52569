#!/usr/bin/env python3
"""guest-dtb.py riscv64|arm64 OUT.dtb [options]: the device tree of a Linux
guest of the example VMM, written as DTS and compiled with dtc.

It describes the VM the hypervisor gives the guest, not the host: RAM, one
cpu node per vCPU, the virtual interrupt controller and the emulated UART
at the VM's guest-physical addresses, and /chosen with the command line and
the initramfs range.

riscv64: cpus with an ISA without the H extension, a PLIC and an NS16550A.
The defaults are the layout of the example hypervisor's Linux VM
(examples/riscv64/README.md, "Booting Linux"); the hypervisor checks the
blob against that VM before it starts the guest, so a tree that does not
fit is refused, not booted.

arm64: the layout of the aarch64 example's Linux VM, QEMU virt's
addresses (the A64_* constants below): a GICv3 (distributor, one
redistributor frame pair per vCPU), the architected timer's PPIs, PSCI
through HVC (the hypervisor answers it), cpus reg = MPIDR Aff0 = vCPU
number, and the PL011 with its 24 MHz apb_pclk, as QEMU's virt tree has
them. Linux 6.1 (Debian's arm64 kernel) boots it on bare QEMU too
(`qemu-system-aarch64 -M virt,gic-version=3 -dtb OUT.dtb` with --ram at
QEMU's 0x40000000; examples/linux/README.md).

Options:
  --cpus N                 cpu nodes (default 1)
  --ram BASE:SIZE          the memory node (default riscv64
                           0x90000000:0x10000000, arm64 0x50000000:0x10000000)
  --initrd ADDR:FILE       linux,initrd-start/end for FILE placed at ADDR
                           (64-bit cells; both kernels accept them)
  --bootargs TEXT          /chosen bootargs (default console=ttyS0, arm64
                           console=ttyAMA0)
  --sstc                   riscv64: the ISA string names Sstc (the
                           hypervisor's passthrough_timer build lets the
                           guest use it)
  --dts                    write the DTS instead of compiling it
"""
import argparse
import os
import subprocess
import sys

# The riscv64 Linux VM's devices (examples/riscv64/hyp.cpp, vm_linux).
RV_PLIC = 0x0C00_0000
RV_PLIC_SIZE = 0x60_0000
RV_PLIC_SOURCES = 31
RV_UART = 0x1000_0000
RV_UART_IRQ = 10
RV_TIMEBASE = 10_000_000  # QEMU virt's time CSR rate
RV_RAM = "0x90000000:0x10000000"

# The aarch64 Linux VM's devices, at QEMU virt's addresses.
A64_GICD = 0x0800_0000
A64_GICD_SIZE = 0x1_0000
A64_GICR = 0x080A_0000
A64_GICR_STRIDE = 0x2_0000  # RD_base and SGI_base frames of one redistributor
A64_GICR_SPACE = 0xF6_0000  # up to the PL011: 123 redistributors
A64_GIC_MAINTENANCE_PPI = 9
A64_TIMER_PPIS = (13, 14, 11, 10)  # secure physical, non-secure physical, virtual, hypervisor
A64_UART = 0x0900_0000
A64_UART_SIZE = 0x1000
A64_UART_SPI = 1  # INTID 33
A64_APB_PCLK = 24_000_000
A64_RAM = "0x50000000:0x10000000"
# Interrupt specifier cells: type (0 SPI, 1 PPI), number, flags (4: level,
# active high). A GICv3 tree carries no PPI CPU mask in the flags (bits
# 15:8 are GICv2's): QEMU's virt sets them only with gic-version=2.
GIC_SPI, GIC_PPI, IRQ_LEVEL_HIGH = 0, 1, 4


def number(text):
    return int(text, 0)


def pair(text):
    first, second = text.split(":", 1)
    return first, second


def cells64(value):
    return "0x%x 0x%x" % (value >> 32, value & 0xFFFF_FFFF)


def chosen_props(args, stdout_path):
    chosen = [f'bootargs = "{args.bootargs}";', f'stdout-path = "{stdout_path}";']
    if args.initrd:
        address, path = pair(args.initrd)
        start = number(address)
        end = start + os.path.getsize(path)
        chosen += [f"linux,initrd-start = <{cells64(start)}>;", f"linux,initrd-end = <{cells64(end)}>;"]
    return "\n        ".join(chosen)


def common_nodes(args, stdout_path, ram_base, ram_size):
    """The /chosen and /memory nodes both trees have, indented for the root."""
    chosen_text = chosen_props(args, stdout_path)
    return f"""    chosen {{
        {chosen_text}
    }};

    memory@{ram_base:x} {{
        device_type = "memory";
        reg = <{cells64(ram_base)} {cells64(ram_size)}>;
    }};"""


def riscv64_dts(args):
    ram_base, ram_size = (number(v) for v in pair(args.ram))
    isa = "rv64imafdc_zicsr_zifencei_zihintpause_zba_zbb_zbc_zbs" + ("_sstc" if args.sstc else "")
    cpus = []
    contexts = []
    for n in range(args.cpus):
        cpus.append(f"""
        cpu{n}: cpu@{n} {{
            device_type = "cpu";
            reg = <{n}>;
            status = "okay";
            compatible = "riscv";
            riscv,isa = "{isa}";
            mmu-type = "riscv,sv48";
            cpu{n}_intc: interrupt-controller {{
                #address-cells = <0>;
                #interrupt-cells = <1>;
                interrupt-controller;
                compatible = "riscv,cpu-intc";
            }};
        }};""")
        # QEMU's shape: context 2n is hart n's M-mode (11), 2n+1 its S-mode (9).
        contexts.append(f"&cpu{n}_intc 11 &cpu{n}_intc 9")
    common = common_nodes(args, f"/soc/serial@{RV_UART:x}", ram_base, ram_size)
    return f"""/dts-v1/;

/ {{
    #address-cells = <2>;
    #size-cells = <2>;
    compatible = "riscv-virtio";
    model = "axvcpu example VMM, riscv64 Linux VM";

{common}

    cpus {{
        #address-cells = <1>;
        #size-cells = <0>;
        timebase-frequency = <{RV_TIMEBASE}>;{"".join(cpus)}
    }};

    soc {{
        #address-cells = <2>;
        #size-cells = <2>;
        compatible = "simple-bus";
        ranges;

        plic: interrupt-controller@{RV_PLIC:x} {{
            compatible = "sifive,plic-1.0.0", "riscv,plic0";
            reg = <{cells64(RV_PLIC)} {cells64(RV_PLIC_SIZE)}>;
            interrupts-extended = <{" ".join(contexts)}>;
            interrupt-controller;
            #interrupt-cells = <1>;
            #address-cells = <0>;
            riscv,ndev = <{RV_PLIC_SOURCES}>;
        }};

        serial@{RV_UART:x} {{
            compatible = "ns16550a";
            reg = <{cells64(RV_UART)} {cells64(0x100)}>;
            interrupt-parent = <&plic>;
            interrupts = <{RV_UART_IRQ}>;
            clock-frequency = <3686400>;
        }};
    }};
}};
"""


def arm64_dts(args):
    ram_base, ram_size = (number(v) for v in pair(args.ram))
    gicr_size = A64_GICR_STRIDE * args.cpus
    if gicr_size > A64_GICR_SPACE:
        sys.exit(f"guest-dtb: arm64 has room for {A64_GICR_SPACE // A64_GICR_STRIDE} redistributors, not {args.cpus}")
    cpus = "".join(f"""
        cpu@{n} {{
            device_type = "cpu";
            compatible = "arm,armv8";
            reg = <{n}>;
            enable-method = "psci";
        }};""" for n in range(args.cpus))
    timer = " ".join(f"{GIC_PPI} {ppi} {IRQ_LEVEL_HIGH}" for ppi in A64_TIMER_PPIS)
    common = common_nodes(args, f"/pl011@{A64_UART:x}", ram_base, ram_size)
    return f"""/dts-v1/;

/ {{
    #address-cells = <2>;
    #size-cells = <2>;
    compatible = "linux,dummy-virt";
    model = "axvcpu example VMM, arm64 Linux VM";
    interrupt-parent = <&gic>;

{common}

    cpus {{
        #address-cells = <1>;
        #size-cells = <0>;{cpus}
    }};

    psci {{
        compatible = "arm,psci-1.0", "arm,psci-0.2", "arm,psci";
        method = "hvc";
        /* PSCI 0.1's function IDs, as QEMU gives them; 0.2 and later use the standard ones. */
        cpu_suspend = <0xc4000001>;
        cpu_off = <0x84000002>;
        cpu_on = <0xc4000003>;
        migrate = <0xc4000005>;
    }};

    gic: intc@{A64_GICD:x} {{
        compatible = "arm,gic-v3";
        reg = <{cells64(A64_GICD)} {cells64(A64_GICD_SIZE)}>, <{cells64(A64_GICR)} {cells64(gicr_size)}>;
        #redistributor-regions = <1>;
        #interrupt-cells = <3>;
        #address-cells = <0>;  /* no ITS, no child nodes: for interrupt-map users (and dtc) */
        interrupt-controller;
        interrupts = <{GIC_PPI} {A64_GIC_MAINTENANCE_PPI} {IRQ_LEVEL_HIGH}>;
    }};

    timer {{
        compatible = "arm,armv8-timer";
        interrupts = <{timer}>;
        always-on;
    }};

    apb_pclk: apb-pclk {{
        compatible = "fixed-clock";
        #clock-cells = <0>;
        clock-frequency = <{A64_APB_PCLK}>;
        clock-output-names = "clk24mhz";
    }};

    pl011@{A64_UART:x} {{
        compatible = "arm,pl011", "arm,primecell";
        reg = <{cells64(A64_UART)} {cells64(A64_UART_SIZE)}>;
        interrupts = <{GIC_SPI} {A64_UART_SPI} {IRQ_LEVEL_HIGH}>;
        clocks = <&apb_pclk &apb_pclk>;
        clock-names = "uartclk", "apb_pclk";
    }};
}};
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("arch", choices=["riscv64", "arm64"])
    parser.add_argument("out")
    parser.add_argument("--cpus", type=int, default=1)
    parser.add_argument("--ram")
    parser.add_argument("--initrd")
    parser.add_argument("--bootargs")
    parser.add_argument("--sstc", action="store_true")
    parser.add_argument("--dts", action="store_true")
    args = parser.parse_args()
    if args.cpus < 1:
        sys.exit("guest-dtb: --cpus must be at least 1")
    if args.arch == "riscv64":
        args.ram = args.ram or RV_RAM
        args.bootargs = args.bootargs if args.bootargs is not None else "console=ttyS0"
        dts = riscv64_dts(args)
    else:
        if args.sstc:
            sys.exit("guest-dtb: --sstc is riscv64's")
        args.ram = args.ram or A64_RAM
        args.bootargs = args.bootargs if args.bootargs is not None else "console=ttyAMA0"
        dts = arm64_dts(args)
    if args.dts:
        with open(args.out, "w") as out:
            out.write(dts)
        return
    subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", args.out, "-"], input=dts.encode(), check=True)


if __name__ == "__main__":
    main()
