"""Shared by the extraction tests that run soi in subprocesses: a script whose network is soi.testing.TinyNet (slowed or logged on request), and tiny images."""
import os, sys, time
from pathlib import Path
import numpy as np

SCRIPT = r'''
import os, sys, time, json
from pathlib import Path
import torch
torch.set_num_threads(1)
from soi.extract import extract_to_store, init_distributed
from soi.testing import TinyNet

class SlowNet(TinyNet):
    "soi.testing's TinyNet (8 outputs) that sleeps SLOW seconds per forward and logs each batch's size to FWLOG.<rank>."
    def __init__(self): super().__init__(dim=8); self.eval()
    def forward(self, x):
        time.sleep(float(os.environ.get('SLOW', '0')))
        if os.environ.get('FWLOG'):   # log the images each process forwards (one file per rank)
            with open(f"{os.environ['FWLOG']}.{os.environ.get('RANK', '0')}", 'a') as f: f.write(f'{x.shape[0]}\n')
        return super().forward(x)

if __name__ == '__main__':
    store, shard_size = sys.argv[1], int(sys.argv[2]); paths = sys.argv[3:]
    init_distributed()
    extract_to_store(SlowNet(), paths, store, image_size=40, scales=(1, 0.5), shard_size=shard_size,
                     batch_size=2, device='cpu', progress=False)
'''

def make_images(d, n=13, corrupt=(5,)):
    "n tiny JPEGs in two orientations (40x30 and 30x40); the indices in `corrupt` are not images."
    from PIL import Image
    rng = np.random.default_rng(0); d = Path(d); d.mkdir(parents=True, exist_ok=True); paths = []
    for i in range(n):
        p = d/f'im{i:02d}.jpg'; paths.append(str(p))
        if i in corrupt: p.write_bytes(b'not a jpeg'); continue
        h, w = (30, 40) if i % 3 else (40, 30)
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(p, quality=90)
    return paths

def write_script(d):
    s = Path(d)/'run_extract.py'; s.write_text(SCRIPT); return s

def env(**kw):
    return {**os.environ, 'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1', **{k: str(v) for k, v in kw.items()}}

def store_files(store):
    "name -> bytes of every committed file of a store (arrays and markers; the manifest separately)."
    return {p.name: p.read_bytes() for p in sorted(Path(store).iterdir()) if p.suffix in ('.npy',) or p.name.startswith('shard-')}
