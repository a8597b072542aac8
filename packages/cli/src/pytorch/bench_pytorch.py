# The PyTorch CPU baseline of `mnist-sym-wasm bench`: the question's CNN (conv 5x5 1->32, ReLU,
# max-pool 2x2, conv 5x5 32->64, ReLU, max-pool 2x2, fc 3136->1024, ReLU, fc 1024->10), the seed's
# init (weights 0, biases 0.1), Adam(lr 1e-4, eps 1e-8), batch 50, timed like the engine: median of
# `samples` training steps after `warmup`, then forward throughput over `eval_images` images in
# chunks of 1000. Random pixels and labels: the timing does not depend on the values.
# Usage: python3 bench_pytorch.py THREADS SAMPLES WARMUP EVAL_IMAGES; prints one JSON object.
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class SeedNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 5, padding=2)
        self.conv2 = nn.Conv2d(32, 64, 5, padding=2)
        self.fc1 = nn.Linear(7 * 7 * 64, 1024)
        self.fc2 = nn.Linear(1024, 10)
        for layer in (self.conv1, self.conv2, self.fc1, self.fc2):
            nn.init.zeros_(layer.weight)
            nn.init.constant_(layer.bias, 0.1)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(x.flatten(1)))
        return self.fc2(x)


def main():
    threads, samples, warmup, eval_images = (int(a) for a in sys.argv[1:5])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = SeedNet()
    opt = torch.optim.Adam(net.parameters(), lr=1e-4, eps=1e-8)
    x = torch.rand(50, 1, 28, 28)
    y = torch.randint(0, 10, (50,))
    step_ms = []
    for i in range(warmup + samples):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        if i >= warmup:
            step_ms.append((time.perf_counter() - t0) * 1000)
    images_per_second = None
    if eval_images > 0:
        data = torch.rand(min(eval_images, 1000), 1, 28, 28)
        with torch.no_grad():
            net(data)  # warm-up
            t0 = time.perf_counter()
            done = 0
            while done < eval_images:
                n = min(1000, eval_images - done)
                net(data[:n]).argmax(1)
                done += n
            images_per_second = eval_images / (time.perf_counter() - t0)
    print(json.dumps({
        "version": torch.__version__,
        "threads": torch.get_num_threads(),
        "stepMs": step_ms,
        "evalImagesPerSecond": images_per_second,
    }))


main()
