"""SOA attention at extraction (no gradient): scaled_dot_product_attention against soi's blocked explicit form
(soi.attention.soa_blocked, what SOABlock runs for CPU inference) and the plain explicit form, in float32 and in
bf16 autocast, at the feature-map sizes of one 1024x768 image at the thesis' scales (1, sqrt 2, 1/sqrt 2) for
ResNet-SOI's two blocks (layer3: 1024 channels, m = 256; layer4: 2048 channels, m = 1024). Inputs are random
non-negative f, g (they follow a ReLU) and random h; the error is the largest |z - z_float64| over the map.

    python benchmarks/soa_inference.py [--device cpu] [--repeat 5]

Prints one table and writes benchmarks/results/soa_inference_<device>.json (rendered into RESULTS.md).
"""
import argparse, json, os, platform, sys, time
from pathlib import Path
import torch

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--device', default='cpu'); p.add_argument('--repeat', type=int, default=5)
    p.add_argument('--width', type=int, default=1024); p.add_argument('--height', type=int, default=768)
    p.add_argument('--json'); a = p.parse_args(argv)
    from soi.attention import soa_sdpa, soa_blocked, soa_explicit
    dev = torch.device(a.device); sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)
    impls = {'sdpa': soa_sdpa, 'blocked': soa_blocked, 'explicit': lambda f, g, h: soa_explicit(f, g, h)[0]}
    rows = []
    for scale in (1.0, 1.4142, 0.7071):
        H, W = round(a.height * scale), round(a.width * scale)
        for layer, m, stride in (('layer3', 256, 16), ('layer4', 1024, 32)):
            N = -(-H // stride) * -(-W // stride)
            g0 = torch.Generator().manual_seed(0)
            f, g, h = torch.randn(1, m, N, generator=g0).relu(), torch.randn(1, m, N, generator=g0).relu(), torch.randn(1, m, N, generator=g0)
            ref = soa_explicit(f.double(), g.double(), h.double())[0]
            f, g, h = f.to(dev), g.to(dev), h.to(dev)
            for prec in ('fp32', 'bf16'):
                r = dict(scale=scale, layer=layer, positions=N, m=m, precision=prec)
                for name, fn in impls.items():
                    with torch.inference_mode(), torch.autocast(dev.type, dtype=torch.bfloat16, enabled=prec == 'bf16'):
                        z = fn(f, g, h); sync(); ts = []
                        for _ in range(a.repeat):
                            t = time.perf_counter(); fn(f, g, h); sync(); ts.append(time.perf_counter() - t)
                    r[f'{name}_ms'] = round(1e3 * sorted(ts)[len(ts) // 2], 2)
                    r[f'{name}_err'] = float((z.double().cpu() - ref).abs().max())
                r['sdpa_over_blocked'] = round(r['sdpa_ms'] / r['blocked_ms'], 2)
                rows.append(r); print(r, flush=True)
    tot = {prec: {k: sum(r[f'{k}_ms'] for r in rows if r['precision'] == prec) for k in impls} for prec in ('fp32', 'bf16')}
    cpu = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), platform.processor()) \
          if os.path.exists('/proc/cpuinfo') else platform.processor()
    name = torch.cuda.get_device_name(dev) if dev.type == 'cuda' else f'{cpu}, {torch.get_num_threads()} torch threads'
    notes = ' '.join(f"All six maps of one image, {prec}: SDPA {t['sdpa']:.0f} ms, blocked {t['blocked']:.0f} ms, explicit "
                     f"{t['explicit']:.0f} ms." for prec, t in tot.items())
    print(notes)
    res = dict(title=f'SOA attention at extraction ({dev.type}): SDPA vs blocked explicit', machine=name, torch=torch.__version__,
               date=time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()), load=round(os.getloadavg()[0], 2),
               command='python benchmarks/soa_inference.py ' + ' '.join(sys.argv[1:] if argv is None else argv),
               notes=notes, rows=rows)
    path = Path(a.json) if a.json else Path(__file__).resolve().parent/'results'/f'soa_inference_{dev.type}.json'
    path.parent.mkdir(parents=True, exist_ok=True); path.write_text(json.dumps(res, indent=1)); print('wrote', path)

if __name__ == '__main__':
    main()
