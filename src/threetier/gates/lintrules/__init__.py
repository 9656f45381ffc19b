"""The project's own cfn-lint rules (E9xxx errors, W9xxx warnings), one rule class per file.

`threetier lint` hands this folder to cfn-lint as `append_rules`. cfn-lint then
imports every file here whose name starts with a letter or a digit 1-9 *by its
path*, not as part of this package (cfnlint.helpers.load_plugins), and registers
each CloudFormationLintRule subclass it finds among the module's members. Hence:

- shared code lives in modules whose names start with `_` (`_helpers`, `_clock`),
  which the loader skips, and rule files import them as `threetier.gates.lintrules._x`;
- no shared module defines a CloudFormationLintRule subclass, and no rule file
  imports another rule file: an imported rule class would be registered again,
  and cfn-lint refuses a duplicate rule id (DuplicateRuleError).

The docs/lint-rules.md section "What the lint gate knows beyond cfn-lint" lists the rules and the
AWS documentation behind each.
"""

from pathlib import Path

RULES_DIR = Path(__file__).resolve().parent
