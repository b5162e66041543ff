#!/bin/bash
# The prepared GPU run of issue 12 (one call of the device tool; ~5 min on an H100/H200). Writes JSON under
# benchmarks/results/ (copied to $OUT when set). Not yet run: no GPU was lent to the session that wrote it.
set -x
cd "$(dirname "$0")/.."; export PYTHONPATH=$PWD
P=${PYTHON:-python3}
$P -c "import torch; print(torch.__version__, torch.cuda.get_device_name(0))"
$P benchmarks/machine.py   # the matrix product's GFLOP/s (fp32, bf16): the ceiling the numbers below are read against
# ResNet-101 at 1024x768: classic loop, soi fp32, soi bf16 + channels-last, + torch.compile, + nvJPEG decode; 1 and 3 scales
$P benchmarks/extract.py --device cuda --n 512 --workers 8 --compile --gpu-decode --scale-sets 1 1,0.7071,0.5
# ResNet-SOI at the thesis scales
$P benchmarks/extract.py --device cuda --n 512 --workers 8 --compile --model resnet101-soi --scale-sets 1 1,1.4142,0.7071
# exact search 70 x 1M x 2048 on the GPU (fp32 vs bf16 candidates + fp32 re-scoring)
$P benchmarks/search.py --device cuda --skip-naive --skip-faiss --skip-ivf
[ -n "$OUT" ] && cp benchmarks/results/*cuda*.json "$OUT"/
