"""Drug-combination synergy: Bliss, HSA, Loewe, ZIP, combination index, CSS/RI.

Public API::

    from kinresist.synergy import read_blocks, score_blocks
    scores = score_blocks(read_blocks("plate.csv"), mode="exact")  # or "synergyfinder"

See docs/synergy.md for the methods and docs/formats.md for the outputs.
"""

from kinresist.synergy.block import Block, BlockStack, stack_blocks
from kinresist.synergy.engine import METHODS, BlockScores, StackScores, score_blocks, score_stack
from kinresist.synergy.io import blocks_from_frame, read_blocks, read_long_table, read_matrix

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
