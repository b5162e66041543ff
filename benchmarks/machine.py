"""What this machine's matrix units can do: the GFLOP/s of the best square matrix product (1024^3, 2048^3 or 4096^3)
per dtype, the ceiling that
extraction (benchmarks/extract.py) and exact search (benchmarks/search.py) are compared against.

    python benchmarks/machine.py              # fp32 and bf16 on the CPU (and on CUDA when there is one)
"""
import sys, time
import torch

def gemm_gflops(dtype=torch.bfloat16, device='cpu', n:int=4096, repeat:int=5) -> float:
    "GFLOP/s of an n x n x n matrix product in `dtype` on `device` (best of `repeat` after one warm-up)."
    dev = torch.device(device)
    a, b = torch.randn(n, n, device=dev).to(dtype), torch.randn(n, n, device=dev).to(dtype)
    sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)
    a @ b; sync(); best = float('inf')
    for _ in range(repeat):
        t = time.perf_counter(); a @ b; sync(); best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best / 1e9

def peaks(device='cpu', sizes=(1024, 2048, 4096)) -> dict:
    "{'fp32': GFLOP/s, 'bf16': GFLOP/s}: the best square matrix product of `sizes` on `device` (the unit's usable peak)."
    return {k: round(max(gemm_gflops(dt, device, n) for n in sizes), 1) for k, dt in (('fp32', torch.float32), ('bf16', torch.bfloat16))}

if __name__ == '__main__':
    for d in ['cpu'] + (['cuda'] if torch.cuda.is_available() else []):
        print(d, f'{torch.get_num_threads()} threads' if d == 'cpu' else torch.cuda.get_device_name(0), peaks(d))
    sys.exit(0)
