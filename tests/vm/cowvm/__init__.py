"""cowvm: boot Debian kernels under QEMU with a busybox initramfs (python3 stdlib only).

kernels.py   — resolve, download and cache Debian kernel packages (private apt state)
initramfs.py — build a gzip'd newc cpio: busybox, binaries + libs, modules, config, /init
qemu.py      — run one VM with a timeout and split the serial console into sections
suite.py     — the VM-tier test: the /init script, parsing, evaluation of expectations.py
"""
