from .char_cnn import CharCNN
from .dual_attention_encoder import DualAttentionEncoder
from .query_embedding import QueryEmbedding
from .query_video_encoder import QueryVideoEncoder
from .rnn_sentence_encoder import GloveRNNSentenceEncoder
from .shared_encoder import SharedEncoder
from .video_projection import VideoProjection

__all__ = [
    'CharCNN', 'DualAttentionEncoder', 'GloveRNNSentenceEncoder', 'QueryEmbedding',
    'QueryVideoEncoder', 'SharedEncoder', 'VideoProjection'
]
