#!/bin/sh
# Guest-side set-up for the directive probes (run once per boot by `cargo xtask e2e`): the files,
# directories and addresses the probes use, and the probe-listener helper service.
set -eu

# fs: a directory the needs probe creates files in, a file it appends to, one the free probe reads.
mkdir -p /srv/probe-fs/needs
echo log > /srv/probe-fs/needs.log
echo free > /srv/probe-fs/free.txt

# tmp: a /tmp file the service did not create.
echo shared > /tmp/probe-shared.txt

# home: a file under /home.
mkdir -p /home/probe
echo home > /home/probe/data.txt

# modules: what a module loader would read.
mkdir -p /usr/lib/modules/probe
: > /usr/lib/modules/probe/modules.dep

# private-users: a file of an unmapped owner that only a capability opens, and one of root.
mkdir -p /srv/probe-pu
echo other > /srv/probe-pu/other
chown 4242:4242 /srv/probe-pu/other
chmod 0600 /srv/probe-pu/other
echo own > /srv/probe-pu/own
chmod 0600 /srv/probe-pu/own

# mounts: mount points.
mkdir -p /mnt/probe-mounts-needs /mnt/probe-mounts-free

# ip-address: an address that is not loopback (the guest's only interface is lo).
ip address add 192.0.2.1/32 dev lo

# exec-writable: the free unit's writable places (ReadWritePaths= for a directory and a file,
# a BindPaths= target and its source, one its vendor unit grants), a script it runs from a
# read-only place, and a program that is in its state directory before it starts.
mkdir -p /srv/probe-exec/rw /srv/probe-exec/bind /srv/probe-exec/bind-src /srv/probe-exec/vendor-rw
cp /usr/bin/true /srv/probe-exec/rw.bin
printf '#!/bin/sh\nexit 0\n' > /srv/probe-exec/ok.sh
chmod 0755 /srv/probe-exec/rw.bin /srv/probe-exec/ok.sh
for base in /var/lib /var/cache /var/log /run; do mkdir -p $base/probe-exec-writable-free; done
mkdir -p /var/lib/probe-exec-writable-free/bin
cp /usr/bin/true /var/lib/probe-exec-writable-free/bin/tool

systemctl start probe-listener.service
