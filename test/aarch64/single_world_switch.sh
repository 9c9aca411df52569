#!/bin/sh
# Both objects carry the world switch in the same COMDAT group (each TU that
# includes the header emits it); the linked image has exactly one copy of
# each symbol, and the vector table keeps its 2 KiB alignment.
# usage: single_world_switch.sh NM READELF A.o B.o LINKED.elf
set -eu
nm=$1 readelf=$2 a=$3 b=$4 elf=$5
for sym in axvcpu_aarch64_enter_guest axvcpu_aarch64_vectors; do
    for obj in "$a" "$b"; do
        "$nm" "$obj" | grep -q " [TtDdRr] $sym\$" || { echo "FAIL: $obj does not define $sym"; exit 1; }
    done
    n=$("$nm" "$elf" | grep -c " $sym\$" || true)
    [ "$n" = 1 ] || { echo "FAIL: $sym appears $n times in $elf"; exit 1; }
done
for obj in "$a" "$b"; do
    "$readelf" -gW "$obj" | grep -q 'COMDAT group.*\[axvcpu_aarch64_world_switch\]' ||
        { echo "FAIL: $obj lacks the axvcpu_aarch64_world_switch COMDAT group"; exit 1; }
done
addr=$("$nm" "$elf" | awk '$3 == "axvcpu_aarch64_vectors" { print $1 }')
[ $((0x$addr % 2048)) = 0 ] || { echo "FAIL: vectors at 0x$addr are not 2 KiB aligned"; exit 1; }
echo "PASS: one world switch in a two-TU link (vectors at 0x$addr)"
