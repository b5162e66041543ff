"""Extraction throughput: the classic one-image-at-a-time fp32 loop, soi in fp32 and soi at its chosen precision,
side by side in one run, with img/s, the ratio to the loop and the cosine of every descriptor to fp32.

    python benchmarks/extract.py --device cpu --n 4                              # ResNet-101, 1 and 3 scales (minutes)
    python benchmarks/extract.py --device cpu --n 4 --precision fp32             # the same with fp32 forced (no bf16)
    python benchmarks/extract.py --device cpu --n 2 --model resnet101-soi --scale-sets 1,1.4142,0.7071
    python benchmarks/extract.py --device cpu --n 200 --skip-classic --compile --scale-sets 1
    python benchmarks/extract.py --device cuda --n 512 --compile --gpu-decode     # GPU: all of it (not run here yet)

Methods (each warmed up on one image first, then timed over --n images):
(a) classic loop: cirtorch's extract_vectors + extract_ss/extract_ms: a DataLoader with batch size 1, PIL + ToTensor +
    Normalize, float32, one forward per image and scale, descriptors copied to the CPU one by one;
(b) soi fp32: soi.extract.extract_features(precision='fp32'): images bucketed by size into batches (soi's default
    batch shape for the device unless --batch-size), uint8 transfer, normalisation on the device;
(c) soi at the chosen precision: precision=--precision ('auto': bf16 autocast + channels-last on CUDA and on CPUs with
    AMX / AVX-512 BF16, fp32 elsewhere; see soi.config.resolve_precision); skipped when it is fp32 (= b);
(d) with --compile: (c) + torch.compile (compile time reported apart, from the warm-up);
(e) with --gpu-decode: (c) with JPEG decoding by torchvision.io.decode_jpeg on the device (nvJPEG on CUDA,
    libjpeg-turbo on CPU) instead of PIL in DataLoader workers. How its descriptors differ from the PIL path: the
    decoders use different IDCT and chroma-upsampling code, so pixels differ by a few grey levels (printed as
    'PIL vs decode_jpeg' for the CPU decoder) and the descriptors by the cosine printed in the row (against the PIL
    fp32 loop); and decode_jpeg neither applies the EXIF orientation nor downscales to --image-size as
    soi.data.load_image does, so it is equivalent only for upright images no larger than image_size (true here;
    a production GPU path would add the EXIF transpose and a resize on the device).
Network: random weights (speed does not depend on them); torchvision ResNet-101 + GeM + L2 by default, or a soi.model
name (--model resnet101-soi: ResNet-101 + SOA blocks + GeM; the SOA output convolutions get small random weights so
the attention changes the descriptor and its bf16 error is measured). Images: synthetic JPEGs of --width x --height.
On a shared machine, wall-clock img/s depends on the other jobs; the CPU seconds of this process do much less
(use --workers 0 so decoding is counted too, and --threads 1 so no thread spins waiting for a busy core): both are
printed, with the ratio to the classic loop for each.
Ceiling: the network's FLOPs per image (torch's FLOP counter) and this machine's GFLOP/s for the best square matrix
product in fp32 and bf16 (benchmarks/machine.py) are printed first; every row then shows its GFLOP/s (bf16 rows also
their share of the bf16 matrix product), and with bf16 each scale set ends with the ratio to the classic loop that a
network running at the bf16 matrix product's speed would reach (what the unit allows; --no-ceiling skips this). The
fp32 matrix product is no ceiling: torch's fp32 GEMM on some CPUs (MKL on AMD) is slower than oneDNN's fp32
convolutions, so fp32 networks can exceed it.
Results: printed, and written as JSON (--json, default benchmarks/results/extract_<device>_<model>_<precision>.json)
for tools/render_results.py (RESULTS.md).
"""
import argparse, json, os, platform, sys, tempfile, time
from pathlib import Path
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
RESULTS = Path(__file__).resolve().parent / 'results'

class ResNetGeM(nn.Module):
    "torchvision ResNet trunk + GeM (p=3) + L2: the stand-in when soi.model is not asked for."
    def __init__(self, arch='resnet101'):
        super().__init__()
        import torchvision
        r = getattr(torchvision.models, arch)(weights=None)
        self.features = nn.Sequential(*list(r.children())[:-2])
        self.meta = dict(name=f'{arch}-gem', config=dict(arch=arch, pool='gem'), mean=MEAN, std=STD, outputdim=r.fc.in_features)
    def forward(self, x):
        v = self.features(x).clamp(min=1e-6).pow(3).mean((2, 3)).pow(1 / 3)   # GeM, p = 3: (N, 2048)
        return v / v.norm(dim=1, keepdim=True)

def make_net(name):
    if name.startswith('torchvision-'): return ResNetGeM(name.split('-')[1])
    from soi.model import create_model
    from soi.attention import SOABlock
    net = create_model(name)
    for m in net.modules():   # SOA blocks start as the identity; give them a say so their bf16 error counts
        if isinstance(m, SOABlock): nn.init.normal_(m.v.weight, std=0.02)
    return net

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
    net.eval().to(device).to(memory_format=torch.contiguous_format)
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

def device_decode(net, paths, scales, device, precision, compile=False):
    "soi's forward on images decoded by torchvision.io.decode_jpeg on `device` (nvJPEG on CUDA), one batch per image."
    from torchvision.io import decode_jpeg, read_file, ImageReadMode
    from soi.extract import normalize_images, multiscale, prepare_net, plan_precision
    plan = plan_precision(device, precision)
    fwd = prepare_net(net, plan['device'], plan['channels_last'], compile, fold_bn=True); out = []   # as extract_features
    with torch.inference_mode():
        for p in paths:
            x = decode_jpeg(read_file(str(p)), mode=ImageReadMode.RGB, device=plan['device'])[None]   # (1, 3, H, W) uint8
            x = normalize_images(x, net.meta['mean'], net.meta['std'])
            if plan['channels_last']: x = x.contiguous(memory_format=torch.channels_last)
            with torch.autocast(plan['device'].type, dtype=torch.bfloat16, enabled=plan['amp']):
                out.append(multiscale(fwd, x, scales).float().cpu())
    return torch.cat(out).numpy()

def decode_difference(paths):
    "Pixel difference between PIL's and torchvision.io.decode_jpeg's (CPU, libjpeg-turbo) decoding of the same files."
    from PIL import Image
    from torchvision.io import decode_jpeg, read_file, ImageReadMode
    d = [np.abs(np.asarray(Image.open(p).convert('RGB'), np.int16) -
                decode_jpeg(read_file(str(p)), mode=ImageReadMode.RGB).permute(1, 2, 0).numpy().astype(np.int16)) for p in paths]
    return dict(max_abs=int(max(x.max() for x in d)), mean_abs=float(np.mean([x.mean() for x in d])))

def timed(fn, device):
    "(result, wall s, CPU s of this process): on a shared CPU the CPU seconds (with --workers 0, every thread of the work)"
    if device.type == 'cuda': torch.cuda.synchronize()
    t, c = time.perf_counter(), time.process_time(); out = fn()
    if device.type == 'cuda': torch.cuda.synchronize()
    return out, time.perf_counter() - t, time.process_time() - c

def gflop_per_image(net, width, height, scales):
    "GFLOP of the network's forward passes for one width x height image at `scales` (torch's FLOP counter, fp32)."
    from torch.utils.flop_counter import FlopCounterMode
    total = 0
    with torch.no_grad():
        for s in scales:
            x = torch.zeros(1, 3, int(height * s + 0.5), int(width * s + 0.5))
            with FlopCounterMode(display=False) as f: net.eval()(x)
            total += f.get_total_flops()
    return total / 1e9

def cosine(a, b): return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--n', type=int, default=None, help='images (default 512 on CUDA, 4 on CPU)')
    p.add_argument('--width', type=int, default=1024); p.add_argument('--height', type=int, default=768)
    p.add_argument('--model', default='torchvision-resnet101', help="'torchvision-resnet101' or a soi.model name")
    p.add_argument('--scale-sets', nargs='+', default=['1', '1,0.7071,0.5'],
                   help="scale sets to time, comma-separated factors each (thesis: 1,1.4142,0.7071)")
    p.add_argument('--precision', default='auto', choices=['auto', 'fp32', 'bf16'], help="soi's chosen precision (c)")
    p.add_argument('--batch-size', type=int, default=None, help="soi's images per batch (default: soi's per device)")
    p.add_argument('--workers', type=int, default=min(8, os.cpu_count() or 1))
    p.add_argument('--compile', action='store_true', help='also time (c) with torch.compile')
    p.add_argument('--gpu-decode', action='store_true', help='also time (c) with torchvision.io.decode_jpeg on the device')
    p.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    p.add_argument('--skip-classic', action='store_true'); p.add_argument('--skip-fp32', action='store_true')
    p.add_argument('--no-ceiling', action='store_true', help="skip the FLOP count and the machine's matrix-product GFLOP/s")
    p.add_argument('--json', help='write the numbers here (default: benchmarks/results/extract_<device>_<model>_<precision>.json)')
    a = p.parse_args(argv)
    from soi.extract import extract_features, plan_precision
    from soi.config import cpu_bf16
    if a.threads: torch.set_num_threads(a.threads)
    dev = torch.device(a.device); n = a.n or (512 if dev.type == 'cuda' else 4)
    image_size = max(a.width, a.height); sets = [tuple(float(s) for s in x.split(',')) for x in a.scale_sets]
    torch.manual_seed(0); net = make_net(a.model)
    chosen = plan_precision(dev, a.precision)['precision']
    if dev.type == 'cuda': name = torch.cuda.get_device_name(dev)
    else:
        cpu = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), platform.processor()) \
              if os.path.exists('/proc/cpuinfo') else platform.processor()
        name = f"{cpu}, {torch.get_num_threads()} torch threads, bf16 units: {'yes' if cpu_bf16() else 'no'}"
    load0 = os.getloadavg()[0]
    print(f'device: {name}; torch {torch.__version__}; {a.model} at {a.width}x{a.height}; n={n}; chosen precision '
          f'{chosen}; workers {a.workers}; load {load0:.2f}', flush=True)
    rows, extra, notes = [], {}, []
    if not a.no_ceiling:   # what the matrix units allow: the network's FLOPs against one large matrix product per dtype
        from machine import peaks
        extra['gemm_gflops'] = pk = peaks(dev.type)
        extra['gflop_per_image'] = flop = {','.join(f'{s:g}' for s in st): round(gflop_per_image(net, a.width, a.height, st), 2) for st in sets}
        notes.append(f"Matrix product (best of 1024^3 to 4096^3, benchmarks/machine.py): {pk['fp32']:.0f} GFLOP/s fp32, {pk['bf16']:.0f} GFLOP/s bf16 "
                     f"({dev.type}); network " + ', '.join(f'{v:.1f} GFLOP/img at scales {k}' for k, v in flop.items()) + '.')
        print(notes[-1], flush=True)
    with tempfile.TemporaryDirectory() as d:
        paths = make_images(d, n, a.width, a.height); warm = paths[:1]
        def soi(prec, compile=False, imgs=paths):
            if not plan_precision(dev, prec)['channels_last']: net.to(memory_format=torch.contiguous_format)
            return lambda scales: extract_features(net, imgs, image_size, scales, batch_size=a.batch_size, workers=a.workers,
                                                   device=dev, compile=compile, progress=False, precision=prec)
        methods = [] if a.skip_classic else [('classic loop (fp32, batch 1)', 'fp32',
                                              lambda s, imgs=paths: classic(net, imgs, image_size, s, dev, a.workers))]
        if not a.skip_fp32: methods.append(('soi fp32', 'fp32', lambda s, imgs=paths: soi('fp32', imgs=imgs)(s)))
        if chosen != 'fp32' or a.skip_fp32:
            methods.append((f'soi {chosen}' + (' + channels-last' if chosen == 'bf16' else ''), chosen,
                            lambda s, imgs=paths: soi(chosen, imgs=imgs)(s)))
        if a.compile:
            methods.append((f'soi {chosen} + torch.compile', chosen, lambda s, imgs=paths: soi(chosen, True, imgs)(s)))
        if a.gpu_decode:
            methods.append((f'soi {chosen}, decode_jpeg on {dev.type}', chosen,
                            lambda s, imgs=paths: device_decode(net, imgs, s, dev, chosen)))
        for scales in sets:
            out, base, basec, ref = {}, None, None, None
            key = ','.join(f'{s:g}' for s in scales)                  # the scale set, as in gflop_per_image
            for label, prec, fn in methods:
                _, tw, _ = timed(lambda: fn(scales, warm), dev)   # warm-up: oneDNN/cuDNN kernels, compilation
                X, t, c = timed(lambda: fn(scales), dev); out[label] = X
                if label.startswith('classic'): base, basec = n / t, n / c
                if prec == 'fp32' and ref is None: ref = X
                r = dict(method=label, precision=prec, scales=list(scales), n=n, seconds=round(t, 3), img_per_s=round(n / t, 3),
                         warmup_s=round(tw, 1), load=round(os.getloadavg()[0], 2), cpu_s=round(c, 3), img_per_cpu_s=round(n / c, 4))
                if base: r['x_classic'], r['x_classic_cpu'] = round(n / t / base, 2), round(n / c / basec, 2)
                if ref is not None: cs = cosine(X, ref); r['cos_fp32_min'], r['cos_fp32_mean'] = float(cs.min()), float(cs.mean())
                if 'gemm_gflops' in extra:       # achieved GFLOP/s; in bf16 also its share of the bf16 matrix product
                    r['gflops'] = round(n / t * extra['gflop_per_image'][key], 1)
                    if prec == 'bf16': r['of_gemm'] = round(r['gflops'] / extra['gemm_gflops']['bf16'], 3)
                rows.append(r)
                ceil = (f" | {r['gflops']:6.0f} GFLOP/s" + (f" = {100 * r['of_gemm']:3.0f} % of bf16 matmul" if 'of_gemm' in r else '')) \
                       if 'gflops' in r else ''
                print(f"{label:42s} scales {key:14s} {n / t:8.3f} img/s "
                      f"x{r.get('x_classic', float('nan')):5.2f}  | {n / c:8.4f} img/CPU-s x{r.get('x_classic_cpu', float('nan')):5.2f} | "
                      f"cos to fp32 min {r.get('cos_fp32_min', float('nan')):.6f}{ceil}  ({t:.1f} s, {c:.1f} CPU s; warm-up {tw:.1f} s; "
                      f"load {r['load']})", flush=True)
            if base and 'gemm_gflops' in extra and chosen == 'bf16':
                notes.append(f"Ceiling at scales {key}: a network running at the {chosen} matrix "
                             f"product's speed would be x{extra['gemm_gflops'][chosen] / (base * extra['gflop_per_image'][key]):.2f} "
                             "the classic loop.")
                print(' ', notes[-1], flush=True)
        if a.gpu_decode: extra['decode_difference_cpu'] = decode_difference(paths[:8])
    res = dict(device=name, device_type=dev.type, model=a.model, size=[a.width, a.height], n=n, precision_asked=a.precision,
               chosen=chosen, torch=torch.__version__, date=time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()),
               load_start=round(load0, 2), command='python benchmarks/extract.py ' + ' '.join(sys.argv[1:] if argv is None else argv),
               rows=rows, notes=' '.join(notes) or None, **extra)
    path = Path(a.json) if a.json else RESULTS / f"extract_{dev.type}_{a.model}_{a.precision}{'_compile' if a.compile else ''}.json"
    path.parent.mkdir(parents=True, exist_ok=True); path.write_text(json.dumps(res, indent=1)); print('wrote', path)
    return 0

if __name__ == '__main__':
    sys.exit(main())
