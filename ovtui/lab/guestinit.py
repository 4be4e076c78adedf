"""The guest's userspace: a busybox shell script as PID 1, and the protocol to talk to it.

The guest's first serial port is its console. QEMU copies everything the guest writes there to a
log file outside every host (so it survives migration), and the lab types commands into it
through libvirt's console stream (virDomainOpenConsole), which works on any libvirt connection,
follows the guest when it migrates and needs no agent, disk or network in the guest.

Lines the guest writes:
    ovtui-boot                        once per boot
    ovtui-uptime <seconds> load <n>   every second (uptime from /proc/uptime)
    ovtui-load <n>                    after it changed its number of busy loops
    ovtui-doing <command> <args>      at once, when it starts write, check or sum
    ovtui-writing <dev>               /dev/<dev> is a block device: the pattern writer starts
    ovtui-written <dev> <n>           its pattern writer put blocks 0..n-1 on /dev/<dev>
    ovtui-error <text>                a command could not run (e.g. no such block device)
    ovtui-check <dev> <good> <bad>    blocks 0..n-1 read back from the disk (caches dropped)
    ovtui-sum <dev> <md5>             md5 of the whole of /dev/<dev>, read from the disk
    ovtui-cloud-init <dev> hostname <name> keys <n>
                                      at boot, a NoCloud seed (ISO9660 with meta-data) was
                                      found on /dev/<dev>: the hostname it gave, SSH keys seen
Lines it reads:
    load <n>                          run n busy loops from now on (0 = idle)
    write <dev> <n>                   in the background, once /dev/<dev> is a block device, write
                                      block i (4 KiB) = "ovtui-%08d\n" for i in 0..n-1, each
                                      synced, then say ovtui-written
    check <dev> <n>                   read blocks 0..n-1 back and count the right ones
    sum <dev>                         checksum the whole disk
    poweroff                          power off at once
    sh <command>                      run a shell command (diagnostics; the console is root's)
An ACPI power button press (virDomainShutdown) also powers it off, through busybox acpid.
"""

from __future__ import annotations

import re

INIT = r"""#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox --install -s /bin
export PATH=/bin
exec </dev/console >/dev/console 2>&1
stty -echo
hostname ovtui-guest
insmod /lib/modules/evdev.ko
insmod /lib/modules/button.ko
# virtio-blk, for disks hot-plugged from storage domains (in dependency order)
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk; do
    insmod "/lib/modules/$m.ko"
done
insmod /lib/modules/cdrom.ko
insmod /lib/modules/isofs.ko
# cloud-init NoCloud seed: an ISO9660 image on a virtio disk. Wait (up to 5 s) until every
# virtio-blk PCI device has its block device, then look for meta-data on each.
want=$(cat /sys/bus/pci/devices/*/device 2>/dev/null | grep -c -e 0x1001 -e 0x1042)
i=0
while [ "$(ls /sys/block | grep -c '^vd')" -lt "$want" ] && [ "$i" -lt 50 ]; do
    sleep 0.1; i=$((i + 1))
done
mkdir -p /mnt/seed
for dev in /sys/block/vd*; do
    [ -e "$dev" ] || continue
    d=${dev##*/}
    if mount -t iso9660 -o ro "/dev/$d" /mnt/seed 2>/dev/null; then
        if [ -f /mnt/seed/meta-data ]; then
            h=$(sed -n 's/^local-hostname: *//p' /mnt/seed/meta-data | tr -d '"\r')
            [ -n "$h" ] && hostname "$h"
            keys=$(grep -c -e '"ssh-' -e '"ecdsa-' /mnt/seed/user-data 2>/dev/null)
            echo "ovtui-cloud-init $d hostname $(hostname) keys ${keys:-0}"
        fi
        umount /mnt/seed
    fi
done
# acpid opens the event devices present when it starts: wait for the power button's.
i=0
while [ ! -e /dev/input/event0 ] && [ "$i" -lt 20 ]; do sleep 0.1; i=$((i + 1)); done
acpid -c /etc/acpi -l /tmp/acpid.log
. /etc/ovtui-net.sh
echo ovtui-boot
busy=""
set_load() {
    for pid in $busy; do kill "$pid"; done
    busy=""
    i=0
    while [ "$i" -lt "$1" ]; do
        ( while :; do :; done ) &
        busy="$busy $!"
        i=$((i + 1))
    done
    echo "$1" > /tmp/load
    echo "ovtui-load $1"
}
n=$(sed -n 's/.*ovtui\.load=\([0-9][0-9]*\).*/\1/p' /proc/cmdline)
set_load "${n:-0}"
(
    while :; do
        read -r up _ < /proc/uptime
        echo "ovtui-uptime $up load $(cat /tmp/load)"
        sleep 1
    done
) &
# A hot-plugged disk shows up in the guest a moment after libvirt says it is attached (seconds on
# a loaded machine). Until then `dd of=/dev/vda` would create a plain file in devtmpfs, and the
# pattern would be written to RAM instead of the disk: wait for the block device first.
disk_ready() {
    n=0
    while [ ! -b "/dev/$1" ]; do
        [ "$n" -ge 120 ] && return 1
        sleep 1
        n=$((n + 1))
    done
}
while :; do
    if read -r cmd arg; then
        case "$cmd" in
            load)
                case "$arg" in
                    ''|*[!0-9]*) echo "ovtui-error load wants a number, not '$arg'" ;;
                    *) set_load "$arg" ;;
                esac ;;
            write)
                echo "ovtui-doing write $arg"
                set -- $arg
                (
                    if disk_ready "$1"; then
                        echo "ovtui-writing $1"
                        i=0
                        while [ "$i" -lt "$2" ]; do
                            printf 'ovtui-%08d\n' "$i" | dd of="/dev/$1" bs=4096 \
                                seek="$i" count=1 conv=notrunc,fsync 2>/dev/null
                            i=$((i + 1))
                        done
                        echo "ovtui-written $1 $2"
                    else
                        echo "ovtui-error /dev/$1 is not a block device"
                    fi
                ) & ;;
            check)
                echo "ovtui-doing check $arg"
                set -- $arg
                disk_ready "$1" || echo "ovtui-error /dev/$1 is not a block device"
                sync; echo 3 > /proc/sys/vm/drop_caches
                good=0; bad=0; i=0
                while [ "$i" -lt "$2" ]; do
                    b=$(dd if="/dev/$1" bs=4096 skip="$i" count=1 2>/dev/null | head -c 15)
                    if [ "$b" = "$(printf 'ovtui-%08d' "$i")" ]; then good=$((good + 1))
                    else bad=$((bad + 1)); fi
                    i=$((i + 1))
                done
                echo "ovtui-check $1 $good $bad" ;;
            sum)
                echo "ovtui-doing sum $arg"
                disk_ready "$arg" || echo "ovtui-error /dev/$arg is not a block device"
                sync; echo 3 > /proc/sys/vm/drop_caches
                echo "ovtui-sum $arg $(md5sum < "/dev/$arg" | cut -d' ' -f1)" ;;
            poweroff) poweroff -f ;;
            ping) ovtui_ping $arg ;;
            pingrun) ovtui_pingrun $arg ;;
            sh) eval "$arg" ;;
        esac
    else
        sleep 1
    fi
done
"""

POWER_BUTTON = """#!/bin/sh
echo ovtui-poweroff
poweroff -f
"""

UPTIME_RE = re.compile(r"^ovtui-uptime (\d+(?:\.\d+)?) load (\d+)", re.MULTILINE)
# Both the answer to `load n` and every uptime line say the current load.
LOAD_RE = re.compile(r"^ovtui-(?:load|uptime \S+ load) (\d+)", re.MULTILINE)
BOOT_RE = re.compile(r"^ovtui-boot\b", re.MULTILINE)


def load_command(n: int) -> bytes:
    if n < 0:
        raise ValueError(f"a load is a number of busy loops, 0 or more, not {n}")
    return f"load {n}\n".encode()


def uptimes(log: str) -> list[float]:
    return [float(m.group(1)) for m in UPTIME_RE.finditer(log)]


def boots(log: str) -> int:
    return len(BOOT_RE.findall(log))


def last_load(log: str) -> int | None:
    found = LOAD_RE.findall(log)
    return int(found[-1]) if found else None


WRITTEN_RE = re.compile(r"^ovtui-written (\S+) (\d+)", re.MULTILINE)
CHECK_RE = re.compile(r"^ovtui-check (\S+) (\d+) (\d+)", re.MULTILINE)
SUM_RE = re.compile(r"^ovtui-sum (\S+) ([0-9a-f]{32})", re.MULTILINE)


def written(log: str, dev: str) -> int | None:
    found = [int(n) for d, n in WRITTEN_RE.findall(log) if d == dev]
    return found[-1] if found else None


def checked(log: str, dev: str) -> tuple[int, int] | None:
    found = [(int(g), int(b)) for d, g, b in CHECK_RE.findall(log) if d == dev]
    return found[-1] if found else None


def summed(log: str, dev: str) -> str | None:
    found = [m for d, m in SUM_RE.findall(log) if d == dev]
    return found[-1] if found else None


CLOUD_INIT_RE = re.compile(r"^ovtui-cloud-init (\S+) hostname (\S+) keys (\d+)", re.MULTILINE)


def cloud_init(log: str) -> tuple[str, int] | None:
    """The hostname a cloud-init seed gave the guest at its last boot, and the keys it saw."""
    found = CLOUD_INIT_RE.findall(log)
    return (found[-1][1], int(found[-1][2])) if found else None
