"""The guest's network: virtio-net drivers in the initramfs, a static address from the kernel
command line, and ping commands whose results the guest prints on its serial console.

Debian's kernel builds virtio and virtio-net as modules, so the image carries them (MODULES, in
load order) and the init script loads them only when the command line gives an address
(`ovtui.ip=10.77.0.3/24`): guests without a NIC boot as before.

Lines the guest writes:
    ovtui-net eth0 <address> <mac>                      the NIC is up with its address
    ovtui-ping <addr> sent <n> received <m>             answer to `ping <addr> [count]`
    ovtui-pingline <busybox ping line>                  each reply of `pingrun <addr> <n> <secs>`
    ovtui-pingdone <addr>                               when that run is over
"""

from __future__ import annotations

import re

# The virtio core (virtio_ring, virtio, virtio_pci...) is loaded by /init for virtio-blk already
# (ovtui.lab.guestinit); these go on top of it.
MODULES = (
    "net/core/failover.ko",
    "drivers/net/net_failover.ko",
    "drivers/net/virtio_net.ko",
)
SCRIPT_PATH = "etc/ovtui-net.sh"

SCRIPT = r"""# sourced by /init (ovtui.lab.guest_net)
addr=$(sed -n 's/.*ovtui\.ip=\([0-9./]*\).*/\1/p' /proc/cmdline)
if [ -n "$addr" ]; then
    for m in failover net_failover virtio_net; do
        insmod /lib/modules/$m.ko
    done
    i=0
    while [ ! -e /sys/class/net/eth0 ] && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    ip link set lo up
    ip link set eth0 up
    ip addr add "$addr" dev eth0
    echo "ovtui-net eth0 $addr $(cat /sys/class/net/eth0/address)"
fi
ovtui_ping() {
    sum=$(ping -c "${2:-3}" -W 1 "$1" 2>&1 | sed -n \
        's/^\([0-9]*\) packets transmitted, \([0-9]*\) packets received.*/sent \1 received \2/p')
    echo "ovtui-ping $1 ${sum:-sent 0 received 0}"
}
ovtui_pingrun() {
    ( ping -c "$2" -i "$3" -W 1 "$1" 2>&1 | sed 's/^/ovtui-pingline /'; echo "ovtui-pingdone $1" ) &
}
"""

PING_RE = re.compile(r"^ovtui-ping (\S+) sent (\d+) received (\d+)", re.MULTILINE)
NET_RE = re.compile(r"^ovtui-net eth0 (\S+) (\S+)", re.MULTILINE)
SEQ_RE = re.compile(r"^ovtui-pingline .*seq=(\d+)", re.MULTILINE)
RTT_RE = re.compile(r"^ovtui-pingline .*seq=\d+ .*time=([0-9.]+) ms", re.MULTILINE)


def ping_command(addr: str, count: int = 3) -> bytes:
    return f"ping {addr} {count}\n".encode()


def pingrun_command(addr: str, count: int, interval: float) -> bytes:
    return f"pingrun {addr} {count} {interval:g}\n".encode()


def ping_results(log: str, addr: str) -> list[tuple[int, int]]:
    """(sent, received) of every `ping addr` the guest answered, oldest first."""
    return [(int(s), int(r)) for a, s, r in PING_RE.findall(log) if a == addr]


def replies(log: str) -> list[int]:
    """Sequence numbers of the replies of a `pingrun`, in the order they came."""
    return [int(s) for s in SEQ_RE.findall(log)]


def worst_rtt_ms(log: str) -> float:
    """The slowest reply of a `pingrun` (a reply held up while its peer was paused)."""
    return max((float(t) for t in RTT_RE.findall(log)), default=0.0)


def gaps(seqs: list[int], count: int) -> tuple[int, int]:
    """(lost, longest run of consecutive lost) over sequence numbers 0..count-1."""
    got = set(seqs)
    lost = longest = run = 0
    for seq in range(count):
        if seq in got:
            run = 0
        else:
            lost += 1
            run += 1
            longest = max(longest, run)
    return lost, longest
