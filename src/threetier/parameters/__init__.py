"""Every template parameter, defined once, one module per part of the stack.

The root stack and the nested stacks add the same definitions with `use`, so a
parameter has one type, default, constraint and label wherever it appears, and
the CLI validation and the docs read the same objects. `from threetier import
parameters as P` gives them all: P.DB_ENGINE is defined in parameters/data.py.

Beside the definitions: paramfile (parameters/ENV.json), validate (the CLI's
checks), evaluate (Conditions and Rules offline), rules and conditions (the
templates' Rules and Conditions).
"""

from threetier.parameters.app import *  # noqa: F401,F403
from threetier.parameters.backup import *  # noqa: F401,F403
from threetier.parameters.data import *  # noqa: F401,F403
from threetier.parameters.edge import *  # noqa: F401,F403
from threetier.parameters.iam import *  # noqa: F401,F403
from threetier.parameters.monitoring import *  # noqa: F401,F403
from threetier.parameters.network import *  # noqa: F401,F403
from threetier.parameters.param import *  # noqa: F401,F403
from threetier.parameters.project import *  # noqa: F401,F403
from threetier.parameters.root import *  # noqa: F401,F403
from threetier.parameters.security import *  # noqa: F401,F403
from threetier.parameters.wired import *  # noqa: F401,F403
