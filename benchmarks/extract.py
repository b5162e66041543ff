"""Extraction throughput: the classic one-image-at-a-time loop against soi's batched extraction.

    python benchmarks/extract.py --device cuda --n 512              # GPU: ResNet-101 at 1024x768
    python benchmarks/extract.py --device cpu --n 4                 # CPU: a few images (minutes)

(a) classic: cirtorch's extract_vectors/extract_ms: a DataLoader with batch size 1, PIL + ToTensor + Normalize,
    float32, one forward per image and scale, descriptors copied to the CPU one by one;
(b) soi: soi.extract.extract_features: images bucketed by size into batches, uint8 transfer, normalisation on
    the device, channels-last + bfloat16 autocast on CUDA (float32 on CPU), optionally torch.compile.
Both run the same network (ResNet-101 + GeM + L2, random weights: speed does not depend on the weights) on the
same synthetic JPEGs (--width x --height), single scale and 3 scales (1, 1/sqrt(2), 1/2). Prints img/s.
"""
import argparse, json, os, platform, sys, tempfile, time
from pathlib import Path
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F

SCALES3 = (1, 2**-0.5, 0.5)
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]

class ResNetGeM(nn.Module):
    "torchvision ResNet trunk + GeM (p=3) + L2: the stand-in when soi.model is not asked for."
    def __init__(self, arch='resnet101'):
        super().__init__()
        import torchvision
        r = getattr(torchvision.models, arch)(weights=None)
        self.features = nn.Sequential(*list(r.children())[:-2])
        self.meta = dict(name=f'{arch}-gem', config=dict(arch=arch, pool='gem'), mean=MEAN, std=STD, outputdim=2048)
    def forward(self, x):
        v = self.features(x).clamp(min=1e-6).pow(3).mean((2, 3)).pow(1 / 3)   # GeM, p = 3: (N, 2048)
        return v / (v.norm(dim=1, keepdim=True) + 1e-6)

def make_net(name):
    if name.startswith('torchvision-'): return ResNetGeM(name.split('-')[1])
    from soi.model import create_model
    return create_model(name)

def make_images(d, n, w, h, seed=0):
    "n random-texture JPEGs of w x h (quality 90): decode cost like a photo of that size."
    from PIL import Image
    rng = np.random.default_rng(seed); paths = []
    for i in range(n):
        base = rng.integers(0, 256, (h // 16 + 1, w // 16 + 1, 3), dtype=np.uint8)
        a = np.kron(base, np.ones((16, 16, 1), np.uint8))[:h, :w] // 2 + rng.integers(0, 64, (h, w, 3), dtype=np.uint8)
        p = Path(d)/f'{i:05d}.jpg'; Image.fromarray(a).save(p, quality=90); paths.append(p)
    return paths

def classic(net, paths, image_size, scales, device, workers):
    "cirtorch's extract_vectors + extract_ss/extract_ms, batch size 1, float32."
    from torchvision import transforms
    from soi.data import load_image
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize(MEAN, STD)])
    class DS(torch.utils.data.Dataset):
        def __len__(self): return len(paths)
        def __getitem__(self, i): return tf(load_image(paths[i], image_size))
    loader = torch.utils.data.DataLoader(DS(), batch_size=1, shuffle=False, num_workers=workers,
                                         pin_memory=device.type == 'cuda')
    net.eval().to(device)
    vecs = torch.zeros(net.meta['outputdim'], len(paths))
    with torch.no_grad():
        for i, x in enumerate(loader):
            x = x.to(device)
            if len(scales) == 1: vecs[:, i] = net(x).cpu().data.squeeze()
            else:
                v = torch.zeros(net.meta['outputdim'])
                for s in scales:
                    xs = x.clone() if s == 1 else F.interpolate(x, scale_factor=s, mode='bilinear', align_corners=False)
                    v += net(xs).pow(1).cpu().data.squeeze()
                v /= len(scales); v /= v.norm(); vecs[:, i] = v
    return vecs.T.numpy()

def timed(fn, device):
    if device.type == 'cuda': torch.cuda.synchronize()
    t = time.perf_counter(); out = fn()
    if device.type == 'cuda': torch.cuda.synchronize()
    return out, time.perf_counter() - t

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--n', type=int, default=None, help='images (default 512 on CUDA, 4 on CPU)')
    p.add_argument('--width', type=int, default=1024); p.add_argument('--height', type=int, default=768)
    p.add_argument('--model', default='torchvision-resnet101', help="'torchvision-resnet101' or a soi.model name")
    p.add_argument('--batch-size', type=int, default=32)
    p.add_argument('--workers', type=int, default=min(8, os.cpu_count() or 1))
    p.add_argument('--compile', action='store_true', help='also time soi with torch.compile')
    p.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    p.add_argument('--skip-classic', action='store_true')
    p.add_argument('--json', help='also write the numbers to this JSON file')
    a = p.parse_args(argv)
    from soi.extract import extract_features
    if a.threads: torch.set_num_threads(a.threads)
    dev = torch.device(a.device); n = a.n or (512 if dev.type == 'cuda' else 4)
    image_size = max(a.width, a.height)
    torch.manual_seed(0); net = make_net(a.model)
    name = torch.cuda.get_device_name(dev) if dev.type == 'cuda' else f'{platform.processor() or platform.machine()} CPU, {torch.get_num_threads()} threads'
    print(f'device: {name}; torch {torch.__version__}; {a.model} at {a.width}x{a.height}; n={n}; '
          f'batch {a.batch_size}; workers {a.workers}', flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as d:
        paths = make_images(d, n, a.width, a.height); warm = paths[:1 if dev.type == 'cpu' else 8]
        def soi(scales, compile=False):
            return extract_features(net, paths, image_size, scales, batch_size=a.batch_size, workers=a.workers,
                                    device=dev, compile=compile, progress=False)
        runs = [] if a.skip_classic else [('classic loop (fp32, batch 1)', s, lambda s=s: classic(net, paths, image_size, s, dev, a.workers)) for s in ((1,), SCALES3)]
        amp = 'bf16 autocast, channels-last' if dev.type == 'cuda' else 'fp32'
        runs += [(f'soi batched ({amp})', s, lambda s=s: soi(s)) for s in ((1,), SCALES3)]
        if a.compile: runs += [(f'soi batched + torch.compile ({amp})', s, lambda s=s: soi(s, True)) for s in ((1,), SCALES3)]
        out = {}
        for label, scales, fn in runs:
            # warm-up (cudnn autotuning, compilation) on a few images, not timed
            if 'classic' in label: classic(net, warm, image_size, scales, dev, 0)
            else: extract_features(net, warm, image_size, scales, batch_size=a.batch_size, device=dev,
                                   compile='compile' in label, progress=False)
            X, t = timed(fn, dev); out[(label, len(scales))] = X
            rows.append(dict(method=label, scales=len(scales), n=n, seconds=round(t, 3), img_per_s=round(n / t, 2)))
            print(f'{label:45s} {len(scales)} scale(s): {n / t:9.2f} img/s  ({t:.1f} s)', flush=True)
        # the two pipelines compute the same descriptors (up to bf16 on CUDA)
        for k in (1, 3):
            c, s = out.get(('classic loop (fp32, batch 1)', k)), out.get((f'soi batched ({amp})', k))
            if c is not None and s is not None:
                cos = (c * s).sum(1) / np.linalg.norm(c, axis=1) / np.linalg.norm(s, axis=1)
                print(f'  {k} scale(s): cosine classic vs soi, min {cos.min():.6f}')
    if a.json: Path(a.json).write_text(json.dumps(dict(device=name, model=a.model, size=[a.width, a.height], rows=rows), indent=1))
    return 0

if __name__ == '__main__':
    sys.exit(main())
