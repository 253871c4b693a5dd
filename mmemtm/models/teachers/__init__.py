from .seqpan import SeqPANGrounder

__all__ = ['SeqPANGrounder']
