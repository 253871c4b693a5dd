from .char_cnn import CharCNN
from .conv_block import ConvBlock
from .dual_attention_encoder import DualAttentionEncoder
from .query_embedding import QueryEmbedding
from .query_video_encoder import QueryVideoEncoder
from .shared_encoder import SharedEncoder
from .video_projection import VideoProjection

__all__ = [
    'CharCNN', 'ConvBlock', 'DualAttentionEncoder', 'QueryEmbedding', 'QueryVideoEncoder',
    'SharedEncoder', 'VideoProjection'
]
