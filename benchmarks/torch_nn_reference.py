"""PyTorch reference timings for the layers in bench_nn.cpp (same shapes, float32, CPU).

Run with Debian's interpreter, which imports python3-torch:
    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 benchmarks/torch_nn_reference.py [threads...]
Prints the median wall time of 20 timed runs (after 5 warm-up runs) per benchmark and thread count.
"""
import statistics
import sys
import time

import torch


def median_ms(fn, warmup=5, runs=20):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def timed(module, x, backward):
    """Forward (under no_grad), or forward + backward with a fixed output gradient, as bench_nn.cpp."""
    with torch.no_grad():
        gy = torch.randn_like(module(x))

    def run():
        if not backward:
            with torch.no_grad():
                module(x)
            return
        module.zero_grad(set_to_none=True)
        x.grad = None
        module(x).backward(gy)
    return run


def conv_case(cin, cout, hw, backward):
    # W2: the first conv sees the images (no input gradient), the second activations.
    x = torch.randn(64, cin, hw, hw, requires_grad=backward and cin > 1)
    return timed(torch.nn.Conv2d(cin, cout, 3, padding=1), x, backward)


def layer_case(layer, backward):
    return timed(layer, torch.randn(64, 32, 28, 28, requires_grad=backward), backward)


def main():
    threads = [int(a) for a in sys.argv[1:]] or [1, 2]
    torch.manual_seed(0)
    cases = [
        ("Conv2d 1->32 28x28 forward", conv_case(1, 32, 28, False)),
        ("Conv2d 32->64 14x14 forward", conv_case(32, 64, 14, False)),
        ("Conv2d 1->32 28x28 forward+backward", conv_case(1, 32, 28, True)),
        ("Conv2d 32->64 14x14 forward+backward", conv_case(32, 64, 14, True)),
        ("MaxPool2d(2) forward", layer_case(torch.nn.MaxPool2d(2), False)),
        ("MaxPool2d(2) forward+backward", layer_case(torch.nn.MaxPool2d(2), True)),
        ("BatchNorm2d(32) train forward", layer_case(torch.nn.BatchNorm2d(32), False)),
        ("BatchNorm2d(32) train forward+backward", layer_case(torch.nn.BatchNorm2d(32), True)),
    ]
    print("torch", torch.__version__, "backends:", torch.backends.mkldnn.is_available() and "mkldnn" or "no mkldnn")
    for t in threads:
        torch.set_num_threads(t)
        for name, fn in cases:
            print(f"{t} thread(s)  {name:42s} {median_ms(fn):9.3f} ms")


if __name__ == "__main__":
    main()
