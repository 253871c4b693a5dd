# Trivial baseline: learned relative start/end positions, blind to video and sentence.
model = dict(
    type='SpanPriorGrounder',
    num_bins=100,
    topk=5,
    data_preprocessor=dict(type='GroundingDataPreprocessor', max_vlen=None))
