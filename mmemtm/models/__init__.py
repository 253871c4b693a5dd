from .data_preprocessors import *  # noqa: F401,F403
from .encoders import *  # noqa: F401,F403
from .grounders import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .teachers import *  # noqa: F401,F403
from .utils import *  # noqa: F401,F403
