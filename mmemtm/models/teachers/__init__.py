from .seqpan import SeqPANGrounder  # noqa: F401
