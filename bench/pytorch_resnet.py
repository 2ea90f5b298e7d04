"""The same ResNet GAN step as `facegan bench --model resnet`, in PyTorch on the CPU: the
baseline for the ratio.

The networks of facegan's ResNet at its defaults (trainer/src/resnet/, shared/src/resnet/):
generator 128 -> 4x4x128 -> residual up-blocks 128, 64, 32, 16 (BatchNorm, ReLU, nearest
doubling, 3x3 convs; 1x1 shortcut where the width changes) -> BatchNorm, ReLU, 3x3 conv, Tanh;
discriminator of spectrally normalised residual down-blocks 32, 64, 128, 256 (3x3 conv, 2x2
average pool, 3x3 conv; pooled 1x1 shortcut), ReLU, sum, linear. Hinge loss, Adam 1e-4 (G) /
4e-4 (D) with betas (0, 0.9); real and fake images through D as one batch; D's weights frozen
during G's step (facegan scores with an untracked copy). Prints one JSON line.
"""
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from pytorch_timing import arguments, report


class UpBlock(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.norm1, self.norm2 = nn.BatchNorm2d(c_in), nn.BatchNorm2d(c_out)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.shortcut = nn.Conv2d(c_in, c_out, 1, bias=False) if c_in != c_out else None

    def forward(self, x):
        h = F.interpolate(F.relu(self.norm1(x)), scale_factor=2, mode="nearest")
        h = self.conv2(F.relu(self.norm2(self.conv1(h))))
        skip = self.shortcut(x) if self.shortcut is not None else x
        return h + F.interpolate(skip, scale_factor=2, mode="nearest")


class Generator(nn.Module):
    def __init__(self, latent=128, width=16):
        super().__init__()
        widths = [width * 8, width * 4, width * 2, width]
        self.project = nn.ConvTranspose2d(latent, widths[0], 4, bias=False)
        blocks, c_in = [], widths[0]
        for c_out in widths:
            blocks.append(UpBlock(c_in, c_out))
            c_in = c_out
        self.blocks = nn.Sequential(*blocks)
        self.norm = nn.BatchNorm2d(c_in)
        self.output = nn.Conv2d(c_in, 3, 3, 1, 1)

    def forward(self, z):
        return torch.tanh(self.output(F.relu(self.norm(self.blocks(self.project(z))))))


class DownBlock(nn.Module):
    def __init__(self, c_in, c_out, first):
        super().__init__()
        self.first = first
        self.conv1 = spectral_norm(nn.Conv2d(c_in, c_out, 3, 1, 1))
        self.conv2 = spectral_norm(nn.Conv2d(c_out, c_out, 3, 1, 1))
        self.shortcut = spectral_norm(nn.Conv2d(c_in, c_out, 1))

    def forward(self, x):
        h = x if self.first else F.relu(x)
        h = F.avg_pool2d(self.conv1(h), 2)
        h = self.conv2(F.relu(h))
        return h + self.shortcut(F.avg_pool2d(x, 2))


class Discriminator(nn.Module):
    def __init__(self, width=32):
        super().__init__()
        widths = [width, width * 2, width * 4, width * 8]
        blocks, c_in = [], 3
        for i, c_out in enumerate(widths):
            blocks.append(DownBlock(c_in, c_out, i == 0))
            c_in = c_out
        self.blocks = nn.Sequential(*blocks)
        self.output = spectral_norm(nn.Linear(c_in, 1))

    def forward(self, x):
        return self.output(F.relu(self.blocks(x)).sum(dim=(2, 3))).flatten()


def main():
    args = arguments()
    g, d = Generator(), Discriminator()
    opt_g = torch.optim.Adam(g.parameters(), lr=1e-4, betas=(0.0, 0.9))
    opt_d = torch.optim.Adam(d.parameters(), lr=4e-4, betas=(0.0, 0.9))
    n = args.batch_size
    real = torch.rand(n, 3, 64, 64) * 2 - 1

    def step():
        fake = g(torch.randn(n, 128, 1, 1))
        opt_d.zero_grad()
        logits = d(torch.cat([real, fake.detach()]))
        real_logits, fake_logits = logits[:n], logits[n:]
        loss_d = F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()
        loss_d.backward()
        opt_d.step()
        # Read what facegan reads each step, so both pay the same synchronisation.
        _ = (loss_d.item(), real_logits.mean().item(), fake_logits.mean().item())
        opt_g.zero_grad()
        d.requires_grad_(False)
        loss_g = -d(fake).mean()
        loss_g.backward()
        d.requires_grad_(True)
        opt_g.step()
        _ = loss_g.item()

    report(step, g, 128, args)


if __name__ == "__main__":
    main()
