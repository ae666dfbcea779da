"""Drug-combination synergy: Bliss, HSA, Loewe, ZIP, combination index, CSS/RI.

Public API::

    from kinresist.synergy import read_blocks, score_blocks
    scores = score_blocks(read_blocks("plate.csv"), mode="exact")  # or "synergyfinder"

See docs/synergy.md for the methods and docs/formats.md for the outputs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kinresist._lazy import lazy_module_attrs

if TYPE_CHECKING:
    from kinresist.synergy.block import Block, BlockStack, stack_blocks
    from kinresist.synergy.engine import (
        METHODS,
        BlockScores,
        StackScores,
        score_blocks,
        score_stack,
    )
    from kinresist.synergy.io import blocks_from_frame, read_blocks, read_long_table, read_matrix

_LAZY = {
    "Block": "kinresist.synergy.block",
    "BlockStack": "kinresist.synergy.block",
    "stack_blocks": "kinresist.synergy.block",
    "METHODS": "kinresist.synergy.engine",
    "BlockScores": "kinresist.synergy.engine",
    "StackScores": "kinresist.synergy.engine",
    "score_blocks": "kinresist.synergy.engine",
    "score_stack": "kinresist.synergy.engine",
    "blocks_from_frame": "kinresist.synergy.io",
    "read_blocks": "kinresist.synergy.io",
    "read_long_table": "kinresist.synergy.io",
    "read_matrix": "kinresist.synergy.io",
}
__getattr__, __dir__ = lazy_module_attrs(__name__, _LAZY)

__all__ = [
    "METHODS",
    "Block",
    "BlockScores",
    "BlockStack",
    "StackScores",
    "blocks_from_frame",
    "read_blocks",
    "read_long_table",
    "read_matrix",
    "score_blocks",
    "score_stack",
    "stack_blocks",
]
