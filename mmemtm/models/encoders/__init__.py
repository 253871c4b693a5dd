from .rnn_sentence_encoder import GloveRNNSentenceEncoder

__all__ = ['GloveRNNSentenceEncoder']
