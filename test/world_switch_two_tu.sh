#!/bin/sh
# The world switch is emitted by every translation unit that includes its
# header, in one COMDAT group; a final link of two such TUs must keep
# exactly one copy of each of its symbols. Used by every arch.
#   world_switch_two_tu.sh NM READELF GROUP A.o B.o LINKED.elf SYMBOL[:ALIGN]...
# SYMBOL:ALIGN also checks the symbol's address is ALIGN-byte aligned.
set -eu
nm=$1 readelf=$2 group=$3 a=$4 b=$5 elf=$6
shift 6
for obj in "$a" "$b"; do
    "$readelf" -gW "$obj" | grep -q "COMDAT group.*\[$group\]" ||
        { echo "FAIL: $obj lacks the $group COMDAT group"; exit 1; }
done
for spec in "$@"; do
    sym=${spec%%:*}
    for obj in "$a" "$b"; do
        "$nm" "$obj" | grep -q " [TtDdRr] $sym\$" || { echo "FAIL: $obj does not define $sym"; exit 1; }
    done
    n=$("$nm" "$elf" | grep -c " $sym\$" || true)
    [ "$n" = 1 ] || { echo "FAIL: $sym appears $n times in $elf"; exit 1; }
    if [ "$spec" != "$sym" ]; then
        align=${spec#*:}
        addr=$("$nm" "$elf" | awk -v s="$sym" '$3 == s { print $1 }')
        [ $((0x$addr % align)) = 0 ] || { echo "FAIL: $sym at 0x$addr is not $align-byte aligned"; exit 1; }
    fi
    echo "$sym: one copy in the two-TU link"
done
echo "PASS: one world switch ($group) in a two-TU link"
