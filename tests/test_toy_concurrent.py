"""ensure_toy takes turns with other processes through a lock file beside the build: while one process holds it
(building), another waits instead of rebuilding or reading a half-written data set, then finds the build intact."""
import fcntl, subprocess, sys, time

CODE = """
import sys
from soi.toy import ensure_toy, check_manifest
p = ensure_toy('tiny', sys.argv[1])
print('bad' if check_manifest(p) else 'ok')
"""

def test_ensure_toy_waits_for_the_lock(tmp_path):
    (tmp_path/'test').mkdir()
    with open(tmp_path/'test'/'.toy-tiny.lock', 'a') as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)                      # another process is "building"
        p = subprocess.Popen([sys.executable, '-c', CODE, str(tmp_path)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        time.sleep(8)                                       # far longer than a tiny build (~2 s)
        assert p.poll() is None, 'ensure_toy did not wait for the lock'
        assert not (tmp_path/'test'/'toy-tiny').exists()
        fcntl.flock(fh, fcntl.LOCK_UN)
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err[-3000:]
    assert out.strip() == 'ok'

def test_ensure_toy_concurrent(tmp_path):
    procs = [subprocess.Popen([sys.executable, '-c', CODE, str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-3000:]
        assert out.strip() == 'ok'
