"""Our definition of the CT-CLIP image tower (CTViT encoder + latent projection).

Module names and tensor shapes follow the published CT-CLIP checkpoint layout (see
``tests/unit/triage/models/data/ctclip_published_layout.json``), so ``CT_VocabFine_v2.pt`` loads into
it. Only the inference path is defined: patch embedding, factorised spatial/temporal transformers
with position-generating convolutions, cosine-similarity codebook lookup, depth-mean, projection.
This module imports torch at the top; import it only inside functions that run models.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange
from einops.layers.torch import Rearrange
from torch import nn

from medskills.triage.pack_manifest import CTViTArchitecture

__all__ = ["IGNORED_AT_INFERENCE", "CTCLIPImageTower"]

# Checkpoint entries that exist in the published layout but are not used for inference.
IGNORED_AT_INFERENCE = (
    "visual_transformer.vq._codebook.initted",
    "visual_transformer.vq._codebook.cluster_size",
    "visual_transformer.vq._codebook.embed_avg",
    "to_visual_latent_extra.",
    "to_text_latent_extra.",
)


class BiasFreeLayerNorm(nn.Module):
    """LayerNorm with a learned gain and a fixed zero bias kept as a (saved) buffer."""

    beta: torch.Tensor

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(dim))
        self.register_buffer("beta", torch.zeros(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, x.shape[-1:], self.gamma, self.beta)


class PositionGenerator(nn.Module):
    """Depthwise 3x3x3 convolution over the token grid, causal along the first (depth) axis."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dsconv = nn.Conv3d(dim, dim, 3, groups=dim)

    def forward(self, x: torch.Tensor, grid_shape: tuple[int, int, int, int]) -> torch.Tensor:
        original = x.shape
        grid = x.reshape(*grid_shape, -1).permute(0, 4, 1, 2, 3)
        grid = self.dsconv(F.pad(grid, (1, 1, 1, 1, 2, 0)))
        out: torch.Tensor = grid.permute(0, 2, 3, 4, 1).reshape(original)
        return out


class CosineAttention(nn.Module):
    """Self-attention on l2-normalised queries/keys with learned per-dimension scales, scale 8.

    As in the original (``transformer_maskgit/attention.py``), only the queries see the layer norm:
    keys and values are projected from the block input *before* ``norm``. ``context_norm`` and the
    empty ``null_kv`` exist for the checkpoint layout; self-attention never uses them.
    """

    def __init__(self, dim: int, *, dim_head: int, heads: int) -> None:
        super().__init__()
        inner = dim_head * heads
        self.heads = heads
        self.norm = BiasFreeLayerNorm(dim)
        self.context_norm = BiasFreeLayerNorm(dim)
        self.null_kv = nn.Parameter(torch.zeros(heads, 0, dim_head))
        self.to_q = nn.Linear(dim, inner, bias=False)
        self.to_kv = nn.Linear(dim, inner * 2, bias=False)
        self.q_scale = nn.Parameter(torch.ones(dim_head))
        self.k_scale = nn.Parameter(torch.ones(dim_head))
        self.to_out = nn.Linear(inner, dim, bias=False)

    def forward(self, x: torch.Tensor, attn_bias: torch.Tensor | None = None) -> torch.Tensor:
        keys, values = self.to_kv(x).chunk(2, dim=-1)
        q, k, v = (rearrange(t, "b n (h d) -> b h n d", h=self.heads) for t in (self.to_q(self.norm(x)), keys, values))
        q = F.normalize(q, dim=-1) * self.q_scale
        k = F.normalize(k, dim=-1) * self.k_scale
        similarity = torch.einsum("bhid,bhjd->bhij", q, k) * 8.0
        if attn_bias is not None:
            similarity = similarity + attn_bias
        out = torch.einsum("bhij,bhjd->bhid", similarity.softmax(dim=-1), v)
        projected: torch.Tensor = self.to_out(rearrange(out, "b h n d -> b n (h d)"))
        return projected


class GatedGELU(nn.Module):
    """Split the last axis in two halves and gate the first with GELU of the second."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        value, gate = x.chunk(2, dim=-1)
        return F.gelu(gate) * value


def _feed_forward(dim: int) -> nn.Sequential:
    inner = int(4 * (2 / 3) * dim)
    return nn.Sequential(
        nn.LayerNorm(dim),
        nn.Linear(dim, inner * 2, bias=False),
        GatedGELU(),
        nn.Dropout(0.0),
        nn.Linear(inner, dim, bias=False),
    )


class TransformerBlock(nn.ModuleList):
    """[position generator, attention, (no cross-attention), feed-forward], each added to its input.

    The empty cross-attention slot is an ``nn.Identity`` (no parameters), so the checkpoint keys keep
    their indices 0, 1 and 3 inside the block.
    """

    def __init__(self, dim: int, *, dim_head: int, heads: int) -> None:
        super().__init__(
            [PositionGenerator(dim), CosineAttention(dim, dim_head=dim_head, heads=heads), nn.Identity(), _feed_forward(dim)]
        )

    def forward(
        self, x: torch.Tensor, grid_shape: tuple[int, int, int, int], attn_bias: torch.Tensor | None = None
    ) -> torch.Tensor:
        position, attention, _, feed_forward = self
        x = position(x, grid_shape) + x
        x = attention(x, attn_bias) + x
        out: torch.Tensor = feed_forward(x) + x
        return out


class FactorisedTransformer(nn.Module):
    """``depth`` transformer blocks, then a norm."""

    def __init__(self, dim: int, *, depth: int, dim_head: int, heads: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(TransformerBlock(dim, dim_head=dim_head, heads=heads) for _ in range(depth))
        self.norm_out = BiasFreeLayerNorm(dim)

    def forward(
        self, x: torch.Tensor, grid_shape: tuple[int, int, int, int], attn_bias: torch.Tensor | None = None
    ) -> torch.Tensor:
        for block in self.layers:
            x = block(x, grid_shape, attn_bias)
        normalised: torch.Tensor = self.norm_out(x)
        return normalised


class ContinuousPositionBias(nn.Module):
    """Per-head attention bias from log-scaled relative (row, column) offsets through a small MLP."""

    def __init__(self, dim: int, *, heads: int) -> None:
        super().__init__()
        self.net = nn.ModuleList(
            [
                nn.Sequential(nn.Linear(2, dim), nn.LeakyReLU(0.1)),
                nn.Sequential(nn.Linear(dim, dim), nn.LeakyReLU(0.1)),
                nn.Linear(dim, heads),
            ]
        )

    def forward(self, rows: int, columns: int) -> torch.Tensor:
        grid = torch.stack(torch.meshgrid(torch.arange(rows), torch.arange(columns), indexing="ij")).flatten(1).T
        relative = (grid[:, None, :] - grid[None, :, :]).float()
        bias = torch.sign(relative) * torch.log(relative.abs() + 1)
        for layer in self.net:
            bias = layer(bias)
        return bias.permute(2, 0, 1)


class CosineCodebook(nn.Module):
    """Holds the codebook ``embed`` [1, K, D]; lookup by maximum cosine similarity."""

    embed: torch.Tensor

    def __init__(self, dim: int, codebook_size: int) -> None:
        super().__init__()
        self.register_buffer("embed", torch.zeros(1, codebook_size, dim))


class VectorQuantizer(nn.Module):
    """Replaces each token with its nearest codebook entry (cosine similarity), as
    ``vector_quantize_pytorch`` 1.1.2 ``CosineSimCodebook`` does at inference: the similarity uses the
    l2-normalised codebook, the returned entry is the stored (unnormalised) one."""

    _codebook: CosineCodebook

    def __init__(self, dim: int, codebook_size: int) -> None:
        super().__init__()
        self._codebook = CosineCodebook(dim, codebook_size)

    def nearest(self, tokens: torch.Tensor) -> torch.Tensor:
        """Index of the nearest codebook entry of each token ``[..., D]`` -> ``[...]``."""
        embed = self._codebook.embed[0]
        return (F.normalize(tokens, dim=-1) @ F.normalize(embed, dim=-1).T).argmax(dim=-1)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self._codebook.embed[0][self.nearest(tokens)]


class CTViTEncoder(nn.Module):
    """CTViT encoder path: patches -> spatial then temporal transformer -> codebook tokens [B, T, H, W, D]."""

    def __init__(self, architecture: CTViTArchitecture) -> None:
        super().__init__()
        a = architecture
        patch, depth_patch = a.patch_size, a.temporal_patch_size
        self.grid_size = a.image_size // patch
        self.spatial_rel_pos_bias = ContinuousPositionBias(a.dim, heads=a.heads)
        self.to_patch_emb_first_frame = nn.Sequential(
            Rearrange("b c 1 (h p1) (w p2) -> b 1 h w (c p1 p2)", p1=patch, p2=patch),
            nn.LayerNorm(patch * patch),
            nn.Linear(patch * patch, a.dim),
            nn.LayerNorm(a.dim),
        )
        self.to_patch_emb = nn.Sequential(
            Rearrange("b c (t pt) (h p1) (w p2) -> b t h w (c pt p1 p2)", p1=patch, p2=patch, pt=depth_patch),
            nn.LayerNorm(patch * patch * depth_patch),
            nn.Linear(patch * patch * depth_patch, a.dim),
            nn.LayerNorm(a.dim),
        )
        self.enc_spatial_transformer = FactorisedTransformer(
            a.dim, depth=a.spatial_depth, dim_head=a.dim_head, heads=a.heads
        )
        self.enc_temporal_transformer = FactorisedTransformer(
            a.dim, depth=a.temporal_depth, dim_head=a.dim_head, heads=a.heads
        )
        self.vq = VectorQuantizer(a.dim, a.codebook_size)
        self.to_pixels_first_frame = nn.Sequential(
            nn.Linear(a.dim, patch * patch), Rearrange("b 1 h w (c p1 p2) -> b c 1 (h p1) (w p2)", p1=patch, p2=patch)
        )
        self.to_pixels = nn.Sequential(
            nn.Linear(a.dim, patch * patch * depth_patch),
            Rearrange("b t h w (c pt p1 p2) -> b c (t pt) (h p1) (w p2)", p1=patch, p2=patch, pt=depth_patch),
        )

    def encode(self, volume: torch.Tensor) -> torch.Tensor:
        """Continuous tokens ``[B, T, H, W, D]`` before quantisation."""
        tokens = self.to_patch_emb(volume)
        b, t, h, w, _ = tokens.shape
        grid_shape = (b, t, h, w)
        spatial = rearrange(tokens, "b t h w d -> (b t) (h w) d")
        spatial = self.enc_spatial_transformer(spatial, grid_shape, self.spatial_rel_pos_bias(h, w))
        temporal = rearrange(spatial, "(b t) (h w) d -> (b h w) t d", b=b, h=h, w=w)
        temporal = self.enc_temporal_transformer(temporal, grid_shape)
        grid_tokens: torch.Tensor = rearrange(temporal, "(b h w) t d -> b t h w d", b=b, h=h, w=w)
        return grid_tokens

    def forward(self, volume: torch.Tensor) -> torch.Tensor:
        quantised: torch.Tensor = self.vq(self.encode(volume))
        return quantised


class CTCLIPImageTower(nn.Module):
    """``visual_transformer`` + ``to_visual_latent``: volume [B, 1, D, H, W] -> l2-normalised latent [B, L]."""

    def __init__(self, architecture: CTViTArchitecture) -> None:
        super().__init__()
        self.visual_transformer = CTViTEncoder(architecture)
        self.to_visual_latent = nn.Linear(architecture.dim_image, architecture.dim_latent, bias=False)

    def forward(self, volume: torch.Tensor) -> torch.Tensor:
        tokens = self.visual_transformer(volume).mean(dim=1)
        return F.normalize(self.to_visual_latent(tokens.flatten(1)), dim=-1)
