"""A real one-node Slurm on localhost for tests: munged, slurmctld and slurmd started by hand.

Debian's `slurm-wlm` and `munge` packages provide the daemons (`.ci/slurm-setup.sh` installs
them). There is no systemd here, so each daemon runs in the foreground as a child of the test
and is stopped by its PID. The only file written outside the temporary directory is
`/etc/slurm/slurm.conf`: the executor plugin's in-job `srun` ignores `SLURM_CONF`, so the
configuration must sit at the default path. Whatever was there before is put back on stop.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

SLURM_CONF = Path("/etc/slurm/slurm.conf")
MUNGE_RUN = Path("/run/munge")
MUNGE_KEY = Path("/etc/munge/munge.key")
MUNGE_SOCKET = MUNGE_RUN / "munge.socket.2"
NODE = "zsnode"
PARTITION = "debug"
REQUIRED = ("munged", "munge", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scontrol")


class ClusterUnavailable(RuntimeError):
    """This machine cannot run the local Slurm (not root, packages missing, daemon failed)."""


def missing_requirements() -> str | None:
    """Why a local Slurm cannot be started here, or None when it can."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "needs root to start munged/slurmctld/slurmd and write /etc/slurm/slurm.conf"
    missing = [tool for tool in REQUIRED if _which(tool) is None]
    if missing:
        return (
            f"Slurm/munge tools not installed ({', '.join(missing)}); "
            "run `.ci/slurm-setup.sh` as root (apt-get install slurm-wlm munge)"
        )
    if _port_in_use(6817) or _port_in_use(6818):
        return "a Slurm daemon already listens on port 6817/6818; refusing to start a second one"
    return None


def _which(tool: str) -> str | None:
    # sbin is not on every root PATH inside containers.
    return shutil.which(tool, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _mem_total_mib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    raise ClusterUnavailable("MemTotal missing from /proc/meminfo")


def slurm_conf_text(root: Path, cpus: int, real_memory_mib: int, gpus: int = 0) -> str:
    """A minimal single-node configuration: no accounting, no cgroups, state under `root`."""
    gres = f" Gres=gpu:{gpus}" if gpus else ""
    lines = [
        "ClusterName=zsnas",
        "SlurmctldHost=localhost",
        "SlurmUser=root",
        "SlurmdUser=root",
        "AuthType=auth/munge",
        f"StateSaveLocation={root / 'state'}",
        f"SlurmdSpoolDir={root / 'spool'}",
        f"SlurmctldPidFile={root / 'slurmctld.pid'}",
        f"SlurmdPidFile={root / 'slurmd.pid'}",
        f"SlurmctldLogFile={root / 'log' / 'slurmctld.log'}",
        f"SlurmdLogFile={root / 'log' / 'slurmd.log'}",
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_Core_Memory",
        "AccountingStorageType=accounting_storage/none",
        "JobAcctGatherType=jobacct_gather/none",
        "JobCompType=jobcomp/none",
        "MpiDefault=none",
        "ReturnToService=2",
        # The plugin reads job states from squeue, which forgets a job MinJobAge seconds
        # after it ends; the plugin needs >= 3 x its first status-check delay.
        "MinJobAge=300",
        # Trust this file over the detected hardware, so a CI runner with another CPU
        # layout does not drain the node.
        "SlurmdParameters=config_overrides",
        *(["GresTypes=gpu"] if gpus else []),
        f"NodeName={NODE} NodeHostname={socket.gethostname()} NodeAddr=127.0.0.1 "
        f"CPUs={cpus} RealMemory={real_memory_mib}{gres} State=UNKNOWN",
        f"PartitionName={PARTITION} Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
    ]
    return "\n".join(lines) + "\n"


@dataclass
class LocalSlurm:
    """One-node Slurm rooted in `root`; use as a context manager or call start()/stop()."""

    root: Path
    cpus: int = 2
    # A stand-in GPU GRES, so GPU requests can be scheduled and checked (at most 1 here).
    gpus: int = 1
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    _saved_conf: bytes | None = None
    _wrote_conf: bool = False
    _created_munge_run: bool = False
    _created_gres_conf: bool = False

    def __enter__(self) -> LocalSlurm:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def env(self) -> dict[str, str]:
        """Environment for client commands (sbatch, squeue, snakemake)."""
        env = dict(os.environ)
        env["SLURM_CONF"] = str(SLURM_CONF)
        env["PATH"] = env.get("PATH", "") + ":/usr/sbin:/sbin"
        return env

    def start(self, timeout: float = 60.0) -> None:
        """Start munged (if none runs), slurmctld and slurmd; wait for the node to be idle."""
        reason = missing_requirements()
        if reason:
            raise ClusterUnavailable(reason)
        for sub in ("state", "spool", "log"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self._start_munge(timeout)
        self._write_conf()
        self._spawn("slurmctld", [_which("slurmctld"), "-D", "-i"])
        self._wait(lambda: self._ok(["scontrol", "ping"], "UP"), timeout, "slurmctld")
        self._spawn("slurmd", [_which("slurmd"), "-D", "-N", NODE])
        self._wait(self._node_idle, timeout, "slurmd (node idle in sinfo)")

    def _start_munge(self, timeout: float) -> None:
        if MUNGE_SOCKET.exists() and self._ok(["munge", "-n"]):
            return  # a munged started by someone else serves us; leave it alone
        if not MUNGE_KEY.exists():
            raise ClusterUnavailable(f"{MUNGE_KEY} missing (the munge package creates it)")
        if not MUNGE_RUN.exists():
            MUNGE_RUN.mkdir(mode=0o755, parents=True)
            self._created_munge_run = True
        shutil.chown(MUNGE_RUN, "munge", "munge")
        # -F keeps it in the foreground so the PID we hold is the daemon itself.
        self._spawn("munged", ["runuser", "-u", "munge", "--", _which("munged"), "-F"])
        self._wait(lambda: self._ok(["munge", "-n"]), timeout, "munged")

    def _write_conf(self) -> None:
        SLURM_CONF.parent.mkdir(parents=True, exist_ok=True)
        if SLURM_CONF.exists():
            self._saved_conf = SLURM_CONF.read_bytes()
        cpus = min(self.cpus, os.cpu_count() or 1)
        # Leave headroom for the OS; slurmd rejects a node claiming more than it has.
        real_memory = int(_mem_total_mib() * 0.8)
        SLURM_CONF.write_text(slurm_conf_text(self.root, cpus, real_memory, self.gpus))
        self._wrote_conf = True
        gres_conf = SLURM_CONF.parent / "gres.conf"
        if self.gpus and not gres_conf.exists():
            # A bare Count is reported as 0 by slurmd 22.05 (node drained); device files are
            # what it counts, and /dev/null stands in for a GPU nobody touches.
            gres_conf.write_text(f"NodeName={NODE} Name=gpu File=/dev/null\n" * self.gpus)
            self._created_gres_conf = True

    def _spawn(self, name: str, cmd: list[str]) -> None:
        log = open(self.root / "log" / f"{name}.out", "wb")  # noqa: SIM115 (lives with the daemon)
        self.procs[name] = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=self.env, start_new_session=True
        )
        log.close()

    def _ok(self, cmd: list[str], needle: str | None = None) -> bool:
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=10, env=self.env)
        except (OSError, subprocess.TimeoutExpired):
            return False
        return out.returncode == 0 and (needle is None or needle in out.stdout)

    def _node_idle(self) -> bool:
        out = subprocess.run(
            ["sinfo", "-h", "-n", NODE, "-o", "%t"],
            capture_output=True,
            text=True,
            timeout=10,
            env=self.env,
        )
        return out.stdout.strip() == "idle"

    def _wait(self, check, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise ClusterUnavailable(
                        f"{name} exited with {proc.returncode} while waiting for {what}: "
                        + self.log_tail(name)
                    )
            if check():
                return
            time.sleep(0.5)
        raise ClusterUnavailable(f"timed out after {timeout:.0f} s waiting for {what}")

    def log_tail(self, name: str, n: int = 2000) -> str:
        """The end of a daemon's captured output, for error messages."""
        path = self.root / "log" / f"{name}.out"
        return path.read_text(errors="replace")[-n:] if path.exists() else "(no log)"

    def stop(self) -> None:
        """Stop exactly the daemons started here (by PID) and restore /etc/slurm."""
        for name in ("slurmd", "slurmctld", "munged"):
            proc = self.procs.pop(name, None)
            if proc is None or proc.poll() is not None:
                continue
            # runuser forwards SIGTERM to munged; slurm daemons shut down on SIGTERM.
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if self._wrote_conf:
            if self._saved_conf is not None:
                SLURM_CONF.write_bytes(self._saved_conf)
            else:
                SLURM_CONF.unlink(missing_ok=True)
            self._wrote_conf = False
        if self._created_gres_conf:
            (SLURM_CONF.parent / "gres.conf").unlink(missing_ok=True)
            self._created_gres_conf = False
        if self._created_munge_run:
            shutil.rmtree(MUNGE_RUN, ignore_errors=True)
            self._created_munge_run = False
