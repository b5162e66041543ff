"""`soi index build` killed with SIGKILL mid-extraction resumes: the next build extracts only the images of the
shards that were not committed, and the index equals an uninterrupted build of the same folder."""
import json, os, signal, subprocess, sys, time
from pathlib import Path
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = """
import json, os, sys, time
from soi.engine import build_collection, make_net
net, tag = make_net('resnet18-gem', None, 0); seen = []; slow = float(os.environ.get('SLOW', 0))
def hook(m, i, o): seen.append(i[0].shape[0]); time.sleep(slow)     # returns None: the output is kept
net.register_forward_hook(hook)
s = build_collection(sys.argv[1], sys.argv[2], net=net, weights=tag, image_size=64, batch_size=1, shard_size=2, progress=False)
print(json.dumps(dict(seen=sum(seen), **s)))
"""

def build(folder, out, slow=0.0, wait_for=None):
    env = {**os.environ, 'PYTHONPATH': str(ROOT), 'SLOW': str(slow)}
    p = subprocess.Popen([sys.executable, '-c', SCRIPT, str(folder), str(out)], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    if wait_for is None:
        o, e = p.communicate(timeout=600); assert p.returncode == 0, e[-3000:]; return json.loads(o.strip().splitlines()[-1])
    t0 = time.time()
    while not (Path(out)/wait_for).exists():
        assert p.poll() is None, f'build ended before {wait_for} appeared: {p.stderr.read()[-2000:]}'
        assert time.time() - t0 < 600, f'{wait_for} did not appear'
        time.sleep(0.02)
    p.send_signal(signal.SIGKILL); p.wait(); assert p.returncode == -signal.SIGKILL

def test_killed_build_resumes(tmp_path):
    from soi.engine import sample_photos, SAMPLES
    from soi.store import shard_done
    photos = tmp_path/'photos'; sample_photos(photos, SAMPLES[:8], size=96)
    full = build(photos, tmp_path/'full'); assert (full['seen'], full['added']) == (8, 8)
    killed = tmp_path/'killed'
    build(photos, killed, slow=0.3, wait_for='segments/seg-00000/shard-00001.json')   # after 2 of 4 shards
    seg = killed/'segments'/'seg-00000'
    done = [k for k in range(4) if shard_done(seg, k)]
    assert 2 <= len(done) < 4 and not (killed/'index.json').exists() and (killed/'pending.json').exists()
    r = build(photos, killed)
    assert r['seen'] == 8 - 2 * len(done) and r['added'] == 8       # only the uncommitted shards were extracted
    assert not (killed/'pending.json').exists()
    a, b = tmp_path/'full', killed
    assert json.loads((a/'items.json').read_text()) == json.loads((b/'items.json').read_text())
    assert np.array_equal(np.load(a/'vectors.npy'), np.load(b/'vectors.npy'))
    assert sorted(p.name for p in (a/'thumbs').iterdir()) == sorted(p.name for p in (b/'thumbs').iterdir())
