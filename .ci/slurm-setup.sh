#!/usr/bin/env bash
# Install Slurm and munge for tests/test_slurm.py (Debian/Ubuntu, as root). Starts nothing:
# the test starts munged, slurmctld and slurmd itself and stops them by PID.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
    echo "slurm-setup: must run as root (apt-get); tests/test_slurm.py will skip" >&2
    exit 1
fi
if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null; then
    echo "slurm-setup: slurm-wlm and munge already installed"
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
start=$(date +%s)
apt-get update -qq
# Recommends pull in database/monitoring plugins the one-node test never loads.
apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
# Package scripts cannot start services without systemd; the test starts them by hand.
test -s /etc/munge/munge.key || { mungekey --create --keyfile /etc/munge/munge.key \
    && chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key; }
echo "slurm-setup: installed $(slurmctld -V) in $(( $(date +%s) - start )) s"
