"""Distributed extraction: `torchrun --nproc-per-node 2` on gloo (CPU) writes the same store as one process."""
import json, subprocess, sys
from pathlib import Path
import numpy as np
from _extract_helpers import make_images, write_script, env, store_files

def test_torchrun_two_ranks_equals_single_process(tmp_path):
    from soi.store import load_features
    paths = make_images(tmp_path/'img')                 # 13 images, #5 corrupt -> 7 shards of 2
    script = write_script(tmp_path)
    one, two = tmp_path/'one', tmp_path/'two'
    r = subprocess.run([sys.executable, str(script), str(one), '2', *paths], env=env(), capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc-per-node', '2',
                        str(script), str(two), '2', *paths], env=env(FWLOG=tmp_path/'fw'), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    # both ranks worked, on disjoint images: rank 0 has shards 0,2,4,6 = images 0,1,4,5,8,9,12 (#5 corrupt: 6
    # forwarded), rank 1 shards 1,3,5 = images 2,3,6,7,10,11; each image is forwarded at 2 scales
    n = {r: sum(map(int, (tmp_path/f'fw.{r}').read_text().split())) for r in (0, 1)}
    assert n == {0: 2 * 6, 1: 2 * 6}
    assert store_files(two) == store_files(one)         # identical arrays and markers, bit for bit
    X1, m1 = load_features(one); X2, m2 = load_features(two)
    assert np.array_equal(X1, X2) and np.array_equal(m1['ids'], m2['ids'])
    assert {k: v for k, v in m1.items() if k != 'ids'} == {k: v for k, v in m2.items() if k != 'ids'}
    assert m2['complete'] and [f['index'] for f in m2['failed']] == [5] and len(m2['shards']) == 7

def test_torchrun_module_cli(tmp_path):
    "`torchrun --nproc-per-node 2 -m soi.extract` (the CLI, resnet18-gem) writes the same store as `python -m soi.extract`."
    from soi.store import load_features
    make_images(tmp_path/'img', n=7, corrupt=(2,))
    cli = ['-m', 'soi.extract', '--images', str(tmp_path/'img'), '--model', 'resnet18-gem', '--image-size', '40',
           '--workers', '0', '--shard-size', '2', '--batch-size', '2', '--device', 'cpu', '--out']
    r = subprocess.run([sys.executable, *cli, str(tmp_path/'one')], env=env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert 'images:' in r.stdout and '6 x 512' in r.stdout
    r = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc-per-node', '2', *cli,
                        str(tmp_path/'two')], env=env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert r.stdout.count('images:') == 1                # only rank 0 reports
    assert store_files(tmp_path/'two') == store_files(tmp_path/'one')
    X1, m1 = load_features(tmp_path/'one'); X2, m2 = load_features(tmp_path/'two')
    assert np.array_equal(X1, X2) and m2['ids'].tolist() == [0, 1, 3, 4, 5, 6]
