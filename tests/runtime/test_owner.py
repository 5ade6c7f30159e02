"""RunOwner: this process and others as the OS reports them, read without psutil on Linux as psutil reads them."""

import os
import subprocess
import sys

import psutil

from agentstage.runtime.owner import RunOwner, _start_time


def test_start_time_is_psutils_create_time_for_this_and_other_processes() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        for pid in (os.getpid(), child.pid, 1):
            assert _start_time(pid) == psutil.Process(pid).create_time()
    finally:
        child.kill()
        child.wait()


def test_current_owner_is_alive_and_a_dead_pid_is_not() -> None:
    owner = RunOwner.current()
    assert owner.pid == os.getpid() and owner.is_local() and owner.is_alive()
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    dead = RunOwner(owner.host, child.pid, _start_time(os.getpid()))
    assert not dead.is_alive()
