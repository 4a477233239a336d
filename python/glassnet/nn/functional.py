"""glassnet.nn.functional: the stateless ops behind the layers, as torch.nn.functional.

Each family lives in its own file under _functional/; this module gathers them."""
from ._functional.activation import *  # noqa: F401,F403
from ._functional.conv import *  # noqa: F401,F403
from ._functional.dropout import *  # noqa: F401,F403
from ._functional.embedding import *  # noqa: F401,F403
from ._functional.linear import *  # noqa: F401,F403
from ._functional.loss import *  # noqa: F401,F403
from ._functional.norm import *  # noqa: F401,F403
from ._functional.pooling import *  # noqa: F401,F403
from ._functional.attention import *  # noqa: F401,F403
