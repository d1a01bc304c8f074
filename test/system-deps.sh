#!/bin/sh
# Checks the system tools the integration tests use; installs what is missing when root (Debian).
# Never fails the run: tests that need a missing tool skip themselves with a printed reason.

PATH="$PATH:/usr/sbin:/sbin"
missing=""
need() { missing="$missing $1"; }

command -v ssh >/dev/null 2>&1 && command -v ssh-keygen >/dev/null 2>&1 || need openssh-client
test -x /usr/sbin/sshd || need openssh-server
command -v rsync >/dev/null 2>&1 || need rsync
command -v nft >/dev/null 2>&1 || need nftables
command -v ip >/dev/null 2>&1 || need iproute2
# The Slurm backend tests run a real cluster (slurmctld, slurmd, munge) on this machine.
test -x /usr/sbin/slurmctld || need slurmctld
test -x /usr/sbin/slurmd || need slurmd
command -v sbatch >/dev/null 2>&1 || need slurm-client
test -x /usr/sbin/munged || need munge
# The HTML report test opens the report in a real headless browser.
test -x /usr/bin/chromium || need chromium
if test -x /usr/bin/python3; then
  # find_spec looks torch up without importing it (an import costs ~1 s); Debian ships ensurepip
  # only in python3-venv, so its absence means `python3 -m venv` cannot work.
  py_missing=$(/usr/bin/python3 -c '
import importlib.util as u
for mod, pkg in (("torch", "python3-torch"), ("numpy", "python3-numpy"), ("ensurepip", "python3-venv")):
    if u.find_spec(mod) is None: print(pkg)
' 2>/dev/null) || py_missing="python3-torch python3-numpy python3-venv"
  missing="$missing $py_missing"
else
  need python3-torch
  need python3-numpy
  need python3-venv
fi

missing=$(echo $missing)
root=no
test "$(id -u)" = 0 && root=yes
if test -z "$missing"; then
  test $root = no &&
    echo "system-deps: not root: the SSH test bed runs one sshd on loopback; multi-host and fault tests are skipped" >&2
  exit 0
fi

if test $root = yes && command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: installing $missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  if apt-get update -qq </dev/null >&2 && apt-get install -y -qq $missing </dev/null >&2; then
    exit 0
  fi
  echo "system-deps: apt-get failed; tests needing:$missing will be skipped" >&2
  exit 0
fi

echo "system-deps: missing: $missing (not root, not installing)" >&2
echo "  install with: sudo apt-get install -y $missing" >&2
case " $missing " in *" openssh-server "*|*" openssh-client "*)
  echo "  -> no SSH test bed: every test that needs a host is skipped" >&2 ;; esac
case " $missing " in *" rsync "*) echo "  -> sync tests are skipped" >&2 ;; esac
case " $missing " in *" python3-torch "*|*" python3-numpy "*)
  echo "  -> training tests (torch on CPU) are skipped" >&2 ;; esac
case " $missing " in *" python3-venv "*) echo "  -> remote venv tests are skipped" >&2 ;; esac
case " $missing " in *" slurmctld "*|*" slurmd "*|*" slurm-client "*|*" munge "*)
  echo "  -> the Slurm backend tests are skipped" >&2 ;; esac
case " $missing " in *" chromium "*) echo "  -> the HTML report browser test is skipped" >&2 ;; esac
if test $root = no; then
  echo "  (not root: the bed runs one sshd on loopback; multi-host and fault tests are skipped)" >&2
fi
exit 0
