"""The same DCGAN-64 step as `facegan bench`, in PyTorch on the CPU: the baseline for the ratio.

Architecture and step follow PyTorch's own DCGAN example (generator 100 -> 512 -> 256 -> 128
-> 64 -> 3, discriminator mirrored, no conv biases, BatchNorm, Adam 2e-4 / (0.5, 0.999)),
with BCE-with-logits like facegan. Prints one JSON line.
"""
import torch
from torch import nn

from pytorch_timing import arguments, report


def generator(nz=100, ngf=64):
    return nn.Sequential(
        nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
        nn.ConvTranspose2d(ngf, 3, 4, 2, 1, bias=False), nn.Tanh(),
    )


def discriminator(ndf=64):
    return nn.Sequential(
        nn.Conv2d(3, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True),
        nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, True),
        nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4), nn.LeakyReLU(0.2, True),
        nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 8), nn.LeakyReLU(0.2, True),
        nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False), nn.Flatten(0),
    )


def main():
    args = arguments()
    g, d = generator(), discriminator()
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    n = args.batch_size
    real = torch.rand(n, 3, 64, 64) * 2 - 1
    ones, zeros = torch.ones(n), torch.zeros(n)

    def step():
        fake = g(torch.randn(n, 100, 1, 1))
        opt_d.zero_grad()
        real_logits, fake_logits = d(real), d(fake.detach())
        loss_d = bce(real_logits, ones) + bce(fake_logits, zeros)
        loss_d.backward()
        opt_d.step()
        # Read what facegan reads each step, so both pay the same synchronisation.
        _ = (loss_d.item(), torch.sigmoid(real_logits).mean().item(), torch.sigmoid(fake_logits).mean().item())
        opt_g.zero_grad()
        loss_g = bce(d(fake), ones)
        loss_g.backward()
        opt_g.step()
        _ = loss_g.item()

    report(step, g, 100, args)


if __name__ == "__main__":
    main()
