#!/bin/sh
# run.sh ELF [cortex-m4|cortex-m7] [qemu options] — runs a build.sh image
# under QEMU: mps2-an386 (Cortex-M4 + FPU) or mps2-an500 (Cortex-M7),
# semihosting on, so the image's output goes to stdout and its exit status
# becomes QEMU's (0 ok, 1 failure); the semihosting output goes to stdout
# (QEMU 7.2 would send it to stderr without the chardev). Add `-icount
# shift=0` to make virtual time count instructions (bench/firmware.sh).
set -eu
elf=$1
cpu=${2:-cortex-m4}
[ $# -ge 2 ] && shift 2 || shift 1
case $cpu in
  cortex-m4) board=mps2-an386 ;;
  cortex-m7) board=mps2-an500 ;;
  *) echo "run.sh: unknown cpu '$cpu'" >&2; exit 2 ;;
esac
exec qemu-system-arm -M "$board" -nographic -monitor none -serial none \
  -chardev stdio,id=semihost -semihosting-config enable=on,target=native,chardev=semihost \
  "$@" -kernel "$elf"
