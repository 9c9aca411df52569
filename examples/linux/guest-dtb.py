#!/usr/bin/env python3
"""guest-dtb.py riscv64 OUT.dtb [options]: the device tree of a Linux guest
of the example VMM, written as DTS and compiled with dtc.

It describes the VM the hypervisor gives the guest, not the host: RAM, one
cpu node per vCPU (ISA without the H extension), the virtual interrupt
controller and the emulated UART at the VM's guest-physical addresses, and
/chosen with the command line and the initramfs range. The defaults are the
layout of the example hypervisor's Linux VM (examples/riscv64/README.md,
"Booting Linux"); the hypervisor checks the blob against that VM before it
starts the guest, so a tree that does not fit is refused, not booted.

Options:
  --cpus N                 cpu nodes (default 1)
  --ram BASE:SIZE          the memory node (default 0x90000000:0x10000000)
  --initrd ADDR:FILE       linux,initrd-start/end for FILE placed at ADDR
  --bootargs TEXT          /chosen bootargs
  --sstc                   the ISA string names Sstc (the hypervisor's
                           passthrough_timer build lets the guest use it)
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


def number(text):
    return int(text, 0)


def pair(text):
    first, second = text.split(":", 1)
    return first, second


def cells64(value):
    return "0x%x 0x%x" % (value >> 32, value & 0xFFFF_FFFF)


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
                #interrupt-cells = <1>;
                interrupt-controller;
                compatible = "riscv,cpu-intc";
            }};
        }};""")
        # QEMU's shape: context 2n is hart n's M-mode (11), 2n+1 its S-mode (9).
        contexts.append(f"&cpu{n}_intc 11 &cpu{n}_intc 9")
    chosen = [f'bootargs = "{args.bootargs}";', f'stdout-path = "/soc/serial@{RV_UART:x}";']
    if args.initrd:
        address, path = pair(args.initrd)
        start = number(address)
        end = start + os.path.getsize(path)
        chosen += [f"linux,initrd-start = <{cells64(start)}>;", f"linux,initrd-end = <{cells64(end)}>;"]
    chosen_text = "\n        ".join(chosen)
    return f"""/dts-v1/;

/ {{
    #address-cells = <2>;
    #size-cells = <2>;
    compatible = "riscv-virtio";
    model = "axvcpu example VMM, riscv64 Linux VM";

    chosen {{
        {chosen_text}
    }};

    memory@{ram_base:x} {{
        device_type = "memory";
        reg = <{cells64(ram_base)} {cells64(ram_size)}>;
    }};

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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("arch", choices=["riscv64"])
    parser.add_argument("out")
    parser.add_argument("--cpus", type=int, default=1)
    parser.add_argument("--ram", default="0x90000000:0x10000000")
    parser.add_argument("--initrd")
    parser.add_argument("--bootargs", default="console=ttyS0")
    parser.add_argument("--sstc", action="store_true")
    parser.add_argument("--dts", action="store_true")
    args = parser.parse_args()
    if args.cpus < 1:
        sys.exit("guest-dtb: --cpus must be at least 1")
    dts = riscv64_dts(args)
    if args.dts:
        with open(args.out, "w") as out:
            out.write(dts)
        return
    subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", args.out, "-"], input=dts.encode(), check=True)


if __name__ == "__main__":
    main()
