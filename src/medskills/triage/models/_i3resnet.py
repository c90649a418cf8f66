"""Our definition of the inflated 3-D ResNet (I3ResNet) whose key layout matches the Astra weights.

Facts from report §F.2: input ``[B, 1, Z, X, Y]`` replicated to 3 channels; stem conv (3, 7, 7)
stride (1, 2, 2) padding (1, 3, 3), BatchNorm, ReLU, max-pool 3 / stride 2 / padding 1; bottleneck
layers with 1x1x1, 3x3x3 (stride in all three axes) and 1x1x1 convs, expansion 4, strided 1x1x1
downsample; global average pooling gives the embedding.
"""

from __future__ import annotations

from typing import Any

from medskills.triage.pack_manifest import I3ResNetArchitecture

__all__ = ["build_i3resnet"]

_EXPANSION = 4


def build_i3resnet(architecture: I3ResNetArchitecture) -> Any:
    """Build the encoder (``torch.nn.Module``); ``forward`` returns the pooled ``[B, D]`` embedding."""
    from torch import nn

    class Bottleneck(nn.Module):
        def __init__(self, in_channels: int, width: int, stride: int, has_downsample: bool) -> None:
            super().__init__()
            out_channels = width * _EXPANSION
            self.conv1 = nn.Conv3d(in_channels, width, 1, bias=False)
            self.bn1 = nn.BatchNorm3d(width)
            self.conv2 = nn.Conv3d(width, width, 3, stride=stride, padding=1, bias=False)
            self.bn2 = nn.BatchNorm3d(width)
            self.conv3 = nn.Conv3d(width, out_channels, 1, bias=False)
            self.bn3 = nn.BatchNorm3d(out_channels)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = (
                nn.Sequential(
                    nn.Conv3d(in_channels, out_channels, 1, stride=stride, bias=False), nn.BatchNorm3d(out_channels)
                )
                if has_downsample
                else None
            )

        def forward(self, x: Any) -> Any:
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.relu(self.bn2(self.conv2(out)))
            return self.relu(self.bn3(self.conv3(out)) + identity)

    class I3ResNet(nn.Module):
        # set by name in __init__ (the checkpoint keys are layer1..layer4)
        layer1: nn.Sequential
        layer2: nn.Sequential
        layer3: nn.Sequential
        layer4: nn.Sequential

        def __init__(self) -> None:
            super().__init__()
            base = architecture.base_channels
            self.conv1 = nn.Conv3d(3, base, (3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3), bias=False)
            self.bn1 = nn.BatchNorm3d(base)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool3d(3, stride=2, padding=1)
            in_channels = base
            for index, blocks in enumerate(architecture.blocks_per_layer):
                width = base * 2**index
                stride = 1 if index == 0 else 2
                layer = []
                for block in range(blocks):
                    layer.append(Bottleneck(in_channels, width, stride if block == 0 else 1, block == 0))
                    in_channels = width * _EXPANSION
                setattr(self, f"layer{index + 1}", nn.Sequential(*layer))

        def feature_map(self, x: Any) -> Any:
            x = x.expand(-1, 3, -1, -1, -1)
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            return self.layer4(self.layer3(self.layer2(self.layer1(x))))

        def forward(self, x: Any) -> Any:
            return self.feature_map(x).mean(dim=(2, 3, 4))

    return I3ResNet()
