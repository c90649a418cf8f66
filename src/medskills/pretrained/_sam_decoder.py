"""LiteMedSAM's prompt encoder and mask decoder (SAM's, at 256x256 input and a 64x64 embedding).

Module and parameter names follow the checkpoint so it loads with ``strict=True``. Only box prompts
are encoded: the checkpoint's point and mask-prompt parameters are loaded (strict) but not used.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from medskills.pretrained._tinyvit import LayerNorm2d, TinyViTEncoder

__all__ = ["LiteMedSamNetwork", "MaskDecoder", "PromptEncoder"]

EMBED_DIM = 256
_EMBEDDING_SIZE = 64
_INPUT_SIZE = 256
_MASK_TOKENS = 4


class PositionEmbeddingRandom(nn.Module):
    """SAM's Fourier position encoding of (x, y) in [0, 1] through a fixed random Gaussian matrix."""

    positional_encoding_gaussian_matrix: torch.Tensor

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.register_buffer("positional_encoding_gaussian_matrix", torch.zeros(2, num_features))

    def encode(self, coords: torch.Tensor) -> torch.Tensor:
        projected = 2 * math.pi * ((2 * coords - 1) @ self.positional_encoding_gaussian_matrix)
        return torch.cat([torch.sin(projected), torch.cos(projected)], dim=-1)

    def dense(self, size: int) -> torch.Tensor:
        """Encoding of every cell centre of a ``size`` x ``size`` grid, shape (1, C, size, size)."""
        centres = (torch.arange(size, dtype=torch.float32) + 0.5) / size
        y, x = torch.meshgrid(centres, centres, indexing="ij")
        return self.encode(torch.stack([x, y], dim=-1)).permute(2, 0, 1).unsqueeze(0)


class PromptEncoder(nn.Module):
    """Boxes in the 256x256 input frame -> sparse corner tokens; no mask prompt -> the learned dense token."""

    def __init__(self) -> None:
        super().__init__()
        self.pe_layer = PositionEmbeddingRandom(EMBED_DIM // 2)
        self.point_embeddings = nn.ModuleList(nn.Embedding(1, EMBED_DIM) for _ in range(4))
        self.not_a_point_embed = nn.Embedding(1, EMBED_DIM)
        self.mask_downscaling = nn.Sequential(
            nn.Conv2d(1, 4, kernel_size=2, stride=2), LayerNorm2d(4), nn.GELU(),
            nn.Conv2d(4, 16, kernel_size=2, stride=2), LayerNorm2d(16), nn.GELU(),
            nn.Conv2d(16, EMBED_DIM, kernel_size=1))
        self.no_mask_embed = nn.Embedding(1, EMBED_DIM)

    def encode_boxes(self, boxes_xyxy: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 4) boxes as x0, y0, x1, y1 pixels -> sparse (B, 2, C) and dense (B, C, 64, 64) embeddings."""
        corners = (boxes_xyxy + 0.5).reshape(-1, 2, 2) / _INPUT_SIZE
        sparse = self.pe_layer.encode(corners)
        corner_embeddings = [embedding.weight[0] for embedding in self.point_embeddings[2:4]
                             if isinstance(embedding, nn.Embedding)]  # the two box-corner embeddings
        sparse = sparse + torch.stack(corner_embeddings)
        dense = self.no_mask_embed.weight.reshape(1, -1, 1, 1).expand(
            boxes_xyxy.shape[0], -1, _EMBEDDING_SIZE, _EMBEDDING_SIZE)
        return sparse, dense

    def dense_positional_encoding(self) -> torch.Tensor:
        return self.pe_layer.dense(_EMBEDDING_SIZE)


class Attention(nn.Module):
    """Multi-head attention with the projections shrunk by ``downsample_rate``."""

    def __init__(self, dim: int, num_heads: int, downsample_rate: int = 1) -> None:
        super().__init__()
        internal = dim // downsample_rate
        self.num_heads = num_heads
        self.q_proj = nn.Linear(dim, internal)
        self.k_proj = nn.Linear(dim, internal)
        self.v_proj = nn.Linear(dim, internal)
        self.out_proj = nn.Linear(internal, dim)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        batch, tokens, channels = x.shape
        return x.reshape(batch, tokens, self.num_heads, channels // self.num_heads).transpose(1, 2)

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        out = F.scaled_dot_product_attention(self._heads(self.q_proj(q)), self._heads(self.k_proj(k)),
                                             self._heads(self.v_proj(v)))
        batch, _, tokens, _ = out.shape
        return self.out_proj(out.transpose(1, 2).reshape(batch, tokens, -1))  # type: ignore[no-any-return]


class MLPBlock(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.lin1 = nn.Linear(dim, hidden)
        self.lin2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin2(F.relu(self.lin1(x)))  # type: ignore[no-any-return]


class TwoWayAttentionBlock(nn.Module):
    """Token self-attention, tokens->image, MLP, image->tokens; each followed by a residual and LayerNorm."""

    def __init__(self, *, skip_first_layer_pe: bool) -> None:
        super().__init__()
        self.self_attn = Attention(EMBED_DIM, 8)
        self.norm1 = nn.LayerNorm(EMBED_DIM)
        self.cross_attn_token_to_image = Attention(EMBED_DIM, 8, downsample_rate=2)
        self.norm2 = nn.LayerNorm(EMBED_DIM)
        self.mlp = MLPBlock(EMBED_DIM, 2048)
        self.norm3 = nn.LayerNorm(EMBED_DIM)
        self.norm4 = nn.LayerNorm(EMBED_DIM)
        self.cross_attn_image_to_token = Attention(EMBED_DIM, 8, downsample_rate=2)
        self.skip_first_layer_pe = skip_first_layer_pe

    def forward(self, queries: torch.Tensor, keys: torch.Tensor, query_pe: torch.Tensor,
                key_pe: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.skip_first_layer_pe:
            queries = self.self_attn(queries, queries, queries)
        else:
            q = queries + query_pe
            queries = queries + self.self_attn(q, q, queries)
        queries = self.norm1(queries)
        queries = self.norm2(queries + self.cross_attn_token_to_image(queries + query_pe, keys + key_pe, keys))
        queries = self.norm3(queries + self.mlp(queries))
        keys = self.norm4(keys + self.cross_attn_image_to_token(keys + key_pe, queries + query_pe, queries))
        return queries, keys


class TwoWayTransformer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.ModuleList(TwoWayAttentionBlock(skip_first_layer_pe=index == 0) for index in range(2))
        self.final_attn_token_to_image = Attention(EMBED_DIM, 8, downsample_rate=2)
        self.norm_final_attn = nn.LayerNorm(EMBED_DIM)

    def forward(self, image: torch.Tensor, image_pe: torch.Tensor,
                tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        keys = image.flatten(2).permute(0, 2, 1)
        key_pe = image_pe.flatten(2).permute(0, 2, 1)
        queries = tokens
        for layer in self.layers:
            queries, keys = layer(queries, keys, tokens, key_pe)
        queries = queries + self.final_attn_token_to_image(queries + tokens, keys + key_pe, keys)
        return self.norm_final_attn(queries), keys


class MLP(nn.Module):
    """Linear layers with ReLU between them (SAM's hypernetwork and IoU head)."""

    def __init__(self, input_dim: int, hidden_dim: int, output_dim: int, num_layers: int) -> None:
        super().__init__()
        sizes = [input_dim] + [hidden_dim] * (num_layers - 1)
        self.layers = nn.ModuleList(
            nn.Linear(n, k) for n, k in zip(sizes, sizes[1:] + [output_dim], strict=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers[:-1]:
            x = F.relu(layer(x))
        return self.layers[-1](x)  # type: ignore[no-any-return]


class MaskDecoder(nn.Module):
    """Image embedding + box tokens -> the single-mask output: 256x256 logits and the predicted IoU.

    SAM's three multimask heads are in the checkpoint but LiteMedSAM uses only the first mask token.
    """

    def __init__(self) -> None:
        super().__init__()
        self.transformer = TwoWayTransformer()
        self.iou_token = nn.Embedding(1, EMBED_DIM)
        self.mask_tokens = nn.Embedding(_MASK_TOKENS, EMBED_DIM)
        self.output_upscaling = nn.Sequential(
            nn.ConvTranspose2d(EMBED_DIM, EMBED_DIM // 4, kernel_size=2, stride=2), LayerNorm2d(EMBED_DIM // 4),
            nn.GELU(), nn.ConvTranspose2d(EMBED_DIM // 4, EMBED_DIM // 8, kernel_size=2, stride=2), nn.GELU())
        self.output_hypernetworks_mlps = nn.ModuleList(
            MLP(EMBED_DIM, EMBED_DIM, EMBED_DIM // 8, 3) for _ in range(_MASK_TOKENS))
        self.iou_prediction_head = MLP(EMBED_DIM, 256, _MASK_TOKENS, 3)

    def forward(self, image_embedding: torch.Tensor, image_pe: torch.Tensor, sparse: torch.Tensor,
                dense: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One image embedding (1, C, 64, 64), B prompts -> logits (B, 1, 256, 256) and IoU (B,)."""
        batch = sparse.shape[0]
        output_tokens = torch.cat([self.iou_token.weight, self.mask_tokens.weight]).unsqueeze(0).expand(batch, -1, -1)
        tokens = torch.cat([output_tokens, sparse], dim=1)
        source = image_embedding.expand(batch, -1, -1, -1) + dense
        positional = image_pe.expand(batch, -1, -1, -1)
        _, channels, height, width = source.shape
        hidden, source = self.transformer(source, positional, tokens)
        upscaled = self.output_upscaling(source.transpose(1, 2).reshape(batch, channels, height, width))
        hyper = self.output_hypernetworks_mlps[0](hidden[:, 1, :]).unsqueeze(1)
        _, up_channels, up_height, up_width = upscaled.shape
        logits = (hyper @ upscaled.view(batch, up_channels, up_height * up_width)).view(batch, 1, up_height, up_width)
        iou = self.iou_prediction_head(hidden[:, 0, :])[:, 0]
        return logits, iou


class LiteMedSamNetwork(nn.Module):
    """The three parts under the checkpoint's top-level names."""

    def __init__(self) -> None:
        super().__init__()
        self.image_encoder = TinyViTEncoder()
        self.mask_decoder = MaskDecoder()
        self.prompt_encoder = PromptEncoder()
