"""LiteMedSAM's image encoder: the TinyViT-5M variant that turns a 3x256x256 slice into a 256x64x64 embedding.

Written from the architecture of the checkpoint (``lite_medsam.pth``); module and parameter names
follow the checkpoint's keys so it loads with ``strict=True``. Inference only: no drop-path, no
gradient checkpointing. MONAI's transformer blocks name their parameters differently (``MLPBlock``
has ``linear1``/``linear2``, ``SABlock`` a fused ``qkv`` without TinyViT's relative-position
biases), so the blocks are plain torch modules.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["LayerNorm2d", "TinyViTEncoder"]

_EMBED_DIMS = (64, 128, 160, 320)
_DEPTHS = (2, 2, 6, 2)
_NUM_HEADS = (2, 4, 5, 10)
_WINDOW_SIZES = (7, 7, 14, 7)
_IMAGE_SIZE = 256
_EMBEDDING_SIZE = 64
_NECK_CHANNELS = 256


def conv_bn(in_channels: int, out_channels: int, kernel_size: int = 1, stride: int = 1, groups: int = 1) -> nn.Sequential:
    """A bias-free convolution followed by batch norm, named ``c`` and ``bn`` as in the checkpoint."""
    return nn.Sequential(OrderedDict(
        c=nn.Conv2d(in_channels, out_channels, kernel_size, stride, kernel_size // 2, groups=groups, bias=False),
        bn=nn.BatchNorm2d(out_channels)))


class LayerNorm2d(nn.Module):
    """Layer norm over the channel axis of an NCHW tensor (SAM's ``LayerNorm2d``, eps 1e-6)."""

    def __init__(self, channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(1, keepdim=True)
        variance = (x - mean).pow(2).mean(1, keepdim=True)
        normalised = (x - mean) / torch.sqrt(variance + self.eps)
        return self.weight[:, None, None] * normalised + self.bias[:, None, None]


class PatchEmbed(nn.Module):
    """Two 1x1 conv-BN layers: LiteMedSAM keeps the full 256x256 resolution in its first stage."""

    def __init__(self, in_channels: int, embed_dim: int) -> None:
        super().__init__()
        self.seq = nn.Sequential(conv_bn(in_channels, embed_dim // 2), nn.GELU(), conv_bn(embed_dim // 2, embed_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.seq(x)  # type: ignore[no-any-return]


class MBConv(nn.Module):
    """Inverted residual: 1x1 expand, 3x3 depthwise, 1x1 project, residual, GELU."""

    def __init__(self, channels: int, expand_ratio: float = 4.0) -> None:
        super().__init__()
        hidden = int(channels * expand_ratio)
        self.conv1 = conv_bn(channels, hidden)
        self.conv2 = conv_bn(hidden, hidden, kernel_size=3, groups=hidden)
        self.conv3 = conv_bn(hidden, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.gelu(self.conv2(F.gelu(self.conv1(x))))
        return F.gelu(self.conv3(y) + x)


class PatchMerging(nn.Module):
    """Down-sampling between stages; the last merge (to 320 channels) keeps the 64x64 grid."""

    def __init__(self, resolution: int, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.resolution = resolution
        stride = 1 if out_channels == _EMBED_DIMS[-1] else 2
        self.conv1 = conv_bn(in_channels, out_channels)
        self.conv2 = conv_bn(out_channels, out_channels, kernel_size=3, stride=stride, groups=out_channels)
        self.conv3 = conv_bn(out_channels, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 3:
            x = x.view(x.shape[0], self.resolution, self.resolution, -1).permute(0, 3, 1, 2)
        x = self.conv3(F.gelu(self.conv2(F.gelu(self.conv1(x)))))
        return x.flatten(2).transpose(1, 2)


class WindowAttention(nn.Module):
    """Multi-head self-attention inside a window, with a learned bias per head and per 2D offset."""

    bias_indices: torch.Tensor

    def __init__(self, dim: int, num_heads: int, window_size: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.norm = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        points = list(itertools.product(range(window_size), range(window_size)))
        offsets: dict[tuple[int, int], int] = {}
        indices = [offsets.setdefault((abs(a[0] - b[0]), abs(a[1] - b[1])), len(offsets)) for a in points for b in points]
        self.attention_biases = nn.Parameter(torch.zeros(num_heads, len(offsets)))
        self.register_buffer("bias_indices", torch.tensor(indices).view(len(points), len(points)), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, tokens, _ = x.shape
        qkv = self.qkv(self.norm(x)).view(batch, tokens, self.num_heads, 3 * self.head_dim).permute(0, 2, 1, 3)
        q, k, v = qkv.split(self.head_dim, dim=3)
        bias = self.attention_biases[:, self.bias_indices]
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        return self.proj(out.transpose(1, 2).reshape(batch, tokens, -1))  # type: ignore[no-any-return]


class Mlp(nn.Module):
    """Pre-norm feed-forward block (LayerNorm, Linear, GELU, Linear)."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(self.norm(x))))  # type: ignore[no-any-return]


class TinyViTBlock(nn.Module):
    """Windowed attention (zero-padded to whole windows), a 3x3 depthwise conv, then the MLP."""

    def __init__(self, dim: int, resolution: int, num_heads: int, window_size: int) -> None:
        super().__init__()
        self.resolution = resolution
        self.window_size = window_size
        self.attn = WindowAttention(dim, num_heads, window_size)
        self.mlp = Mlp(dim, 4 * dim)
        self.local_conv = conv_bn(dim, dim, kernel_size=3, groups=dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, tokens, channels = x.shape
        size, window = self.resolution, self.window_size
        pad = (window - size % window) % window
        grid = F.pad(x.view(batch, size, size, channels), (0, 0, 0, pad, 0, pad))
        count = (size + pad) // window
        windows = grid.view(batch, count, window, count, window, channels).transpose(2, 3)
        attended = self.attn(windows.reshape(batch * count * count, window * window, channels))
        attended = attended.view(batch, count, count, window, window, channels).transpose(2, 3)
        attended = attended.reshape(batch, size + pad, size + pad, channels)[:, :size, :size]
        x = x + attended.reshape(batch, tokens, channels)
        x = self.local_conv(x.transpose(1, 2).reshape(batch, channels, size, size))
        x = x.view(batch, channels, tokens).transpose(1, 2)
        result: torch.Tensor = x + self.mlp(x)
        return result


class Stage(nn.Module):
    """One encoder stage: its blocks, then the optional patch merging (module names ``blocks``, ``downsample``)."""

    def __init__(self, blocks: list[nn.Module], downsample: PatchMerging | None) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return x if self.downsample is None else self.downsample(x)


class TinyViTEncoder(nn.Module):
    """3x256x256 slice (values in [0, 1]) -> 256x64x64 image embedding."""

    def __init__(self) -> None:
        super().__init__()
        self.patch_embed = PatchEmbed(3, _EMBED_DIMS[0])
        resolutions = (_IMAGE_SIZE, _IMAGE_SIZE // 2, _IMAGE_SIZE // 4, _IMAGE_SIZE // 4)
        stages: list[nn.Module] = []
        for index, (dim, depth, resolution) in enumerate(zip(_EMBED_DIMS, _DEPTHS, resolutions, strict=True)):
            merge = PatchMerging(resolution, dim, _EMBED_DIMS[index + 1]) if index + 1 < len(_EMBED_DIMS) else None
            blocks: list[nn.Module] = (
                [MBConv(dim) for _ in range(depth)] if index == 0
                else [TinyViTBlock(dim, resolution, _NUM_HEADS[index], _WINDOW_SIZES[index]) for _ in range(depth)])
            stages.append(Stage(blocks, merge))
        self.layers = nn.ModuleList(stages)
        self.neck = nn.Sequential(
            nn.Conv2d(_EMBED_DIMS[-1], _NECK_CHANNELS, kernel_size=1, bias=False), LayerNorm2d(_NECK_CHANNELS),
            nn.Conv2d(_NECK_CHANNELS, _NECK_CHANNELS, kernel_size=3, padding=1, bias=False), LayerNorm2d(_NECK_CHANNELS))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(image)
        for stage in self.layers:
            x = stage(x)
        x = x.view(x.shape[0], _EMBEDDING_SIZE, _EMBEDDING_SIZE, -1).permute(0, 3, 1, 2)
        return self.neck(x)  # type: ignore[no-any-return]
