#!/bin/sh
# The world switch is emitted by every TU that includes world_switch.hpp;
# a final link must keep exactly one copy.
#   two-tu-check.sh NM READELF OBJ_A OBJ_B LINKED_ELF
set -eu
nm=$1 readelf=$2 a=$3 b=$4 elf=$5
for obj in "$a" "$b"; do
    "$readelf" -g "$obj" | grep -q 'COMDAT group.*axvcpu_rv64_world_switch' || {
        echo "$obj: world switch not in its COMDAT group"; exit 1; }
    [ "$("$nm" "$obj" | grep -c ' T axvcpu_rv64_enter_guest$')" -eq 1 ] || {
        echo "$obj: does not define the world switch"; exit 1; }
done
count=$("$nm" "$elf" | grep -c ' T axvcpu_rv64_enter_guest$')
sections=$("$readelf" -SW "$elf" | grep -c 'axvcpu_rv64_world_switch' || true)
echo "definitions in the final link: $count; world-switch sections: $sections"
[ "$count" -eq 1 ] && [ "$sections" -le 1 ]
# Both copies were emitted, one was discarded: the code appears once.
size=$("$nm" -S "$elf" | awk '/ T axvcpu_rv64_enter_guest$/ {print $2}')
[ -n "$size" ] && echo "world switch size: 0x$size"
