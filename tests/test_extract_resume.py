"""An extraction killed with SIGKILL (twice, at different points) resumes and ends with exactly the files of an
uninterrupted run; committed shards are not recomputed; no temporary file is left behind."""
import json, os, signal, subprocess, sys, time
from pathlib import Path
import numpy as np
from _extract_helpers import make_images, write_script, env, store_files

def _wait_for(path, proc, timeout=120):
    t0 = time.time()
    while not Path(path).exists():
        assert proc.poll() is None, f'extraction ended (rc={proc.returncode}) before {path} appeared'
        assert time.time() - t0 < timeout, f'{path} did not appear in {timeout} s'
        time.sleep(0.02)

def _kill_after(script, store, paths, marker, extra_delay=0.0):
    "Start an extraction, SIGKILL it once `marker` exists (plus a delay, to land mid-shard)."
    p = subprocess.Popen([sys.executable, str(script), str(store), '2', *paths], env=env(SLOW=0.15),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    _wait_for(Path(store)/marker, p); time.sleep(extra_delay)
    p.send_signal(signal.SIGKILL); p.wait()
    assert p.returncode == -signal.SIGKILL

def test_sigkill_resume(tmp_path):
    from soi.store import load_features, shard_done
    paths = make_images(tmp_path/'img')                 # 13 images, #5 corrupt -> 7 shards of 2
    script = write_script(tmp_path)
    full, killed = tmp_path/'full', tmp_path/'killed'
    r = subprocess.run([sys.executable, str(script), str(full), '2', *paths], env=env(), capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr

    _kill_after(script, killed, paths, 'shard-00001.json')              # right after shard 1 is committed
    done1 = [k for k in range(7) if shard_done(killed, k)]
    assert 2 <= len(done1) < 7 and done1 == list(range(len(done1)))
    assert not json.loads((killed/'manifest.json').read_text())['complete']
    _kill_after(script, killed, paths, 'shard-00003.json', extra_delay=0.2)   # resumed, then killed mid-shard 4
    done2 = [k for k in range(7) if shard_done(killed, k)]
    assert set(done1) <= set(done2) and len(done2) < 7
    kept = {f: ((killed/f).stat().st_ino, (killed/f).stat().st_mtime_ns)
            for k in done2 for f in (f'shard-{k:05d}.npy', f'ids-{k:05d}.npy')}

    r = subprocess.run([sys.executable, str(script), str(killed), '2', *paths], env=env(), capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    # committed shards were skipped, not rewritten
    assert kept == {f: ((killed/f).stat().st_ino, (killed/f).stat().st_mtime_ns) for f in kept}
    # the same files, bit for bit, as the uninterrupted run; nothing left over
    assert store_files(killed) == store_files(full)
    assert sorted(p.name for p in killed.iterdir()) == sorted(p.name for p in full.iterdir())
    Xf, mf = load_features(full); Xk, mk = load_features(killed)
    assert np.array_equal(Xf, Xk) and np.array_equal(mf['ids'], mk['ids'])
    assert mk['ids'].tolist() == [i for i in range(13) if i != 5] and len(set(mk['ids'])) == len(mk['ids'])
    assert [f['index'] for f in mk['failed']] == [5]
    assert {k: v for k, v in mk.items() if k != 'ids'} == {k: v for k, v in mf.items() if k != 'ids'}
