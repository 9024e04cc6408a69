"""The rules of each data format, one module per format; the slow path
(:meth:`..filecheck.FileCheck.slow`) sends each decoded line to its format's ``check``.

- :mod:`.chat`: supervised chat data, and the message rules DPO and RFT share;
- :mod:`.tools`: tool and function definitions, tool calls;
- :mod:`.vision`: content parts and images;
- :mod:`.completion`: prompt/completion (babbage-002, davinci-002);
- :mod:`.preference`: preference pairs (DPO);
- :mod:`.reinforcement`: prompts and grader fields (RFT).

Each ``check(chk, obj, line)`` reports findings to ``chk`` (:class:`.common.Checker`) and returns
the example's :class:`.common.Example` for the statistics, or None when the line is no example.
"""

from __future__ import annotations

from . import chat, completion, preference, reinforcement

#: data format (:meth:`..formats.ModelSpec.format_for`) -> the check of one line
CHECKS = {
    "chat": chat.check,
    "completion": completion.check,
    "dpo": preference.check,
    "rft": reinforcement.check,
}
