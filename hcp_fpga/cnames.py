"""Names and strings that end up in generated C++ or on a compiler command line.

hls4ml writes layer, input and output names verbatim into ``myproject.h/.cpp`` and the Python
bridge; a name carrying a newline and a ``#include`` or a call would become code. Every such name is
either a plain C identifier already or is mapped to one (``safe_c_names``); a path that the C
library must know (the weights folder) reaches the compiler only as a C string literal in a file
(``c_string_literal``), never as a macro pasted on a command line.
"""

from __future__ import annotations

import re
from typing import Iterable

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# C and C++ keywords and a few names the generated code itself declares: a layer called 'int' or
# 'input_t' would compile into nonsense even though it is an identifier ('input' hls4ml itself reserves).
RESERVED = frozenset("""
alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t char16_t char32_t class
compl concept const consteval constexpr constinit const_cast continue co_await co_return co_yield decltype default
delete do double dynamic_cast else enum explicit export extern false float for friend goto if inline int long
mutable namespace new noexcept not not_eq nullptr operator or or_eq private protected public register
reinterpret_cast requires return short signed sizeof static static_assert static_cast struct switch template this
thread_local throw true try typedef typeid typename union unsigned using virtual void volatile wchar_t while xor
xor_eq restrict main std nnet hls input_t result_t config myproject input
""".split())

# hls4ml derives further identifiers from a layer name (``<name>_input``, ``layer<N>_out``, ...);
# keep names short enough that those stay readable and within any compiler's limits.
MAX_NAME_LENGTH = 64


def is_safe_c_name(name: object) -> bool:
    """True if ``name`` can be written into C++ as it is: an identifier, not reserved, not too long."""
    return (
        isinstance(name, str)
        and bool(_IDENTIFIER.match(name))
        and name not in RESERVED
        and len(name) <= MAX_NAME_LENGTH
        and "__" not in name  # reserved for the implementation in C++
    )


def _sanitize(name: str) -> str:
    base = re.sub(r"[^A-Za-z0-9_]", "_", str(name))[:MAX_NAME_LENGTH - 8].strip("_")
    base = re.sub(r"_+", "_", base)
    if not base or not (base[0].isalpha()):
        base = f"layer_{base}".rstrip("_")
    if base in RESERVED:
        base = f"{base}_layer"
    return base


def safe_c_names(names: Iterable[str]) -> dict[str, str]:
    """A mapping original -> safe name for every name that is not a safe C name already.

    Safe names stay; unsafe ones get a sanitized form, made unique against all the others (and the
    safe names), so the mapping is one-to-one. Empty if every name is safe.
    """
    names = list(names)
    taken = {n for n in names if is_safe_c_name(n)}
    mapping: dict[str, str] = {}
    for name in names:
        if name in taken or name in mapping:
            continue
        base = _sanitize(name)
        candidate, i = base, 1
        while candidate in taken or not is_safe_c_name(candidate):
            i += 1
            candidate = f"{base}_{i}"
        mapping[name] = candidate
        taken.add(candidate)
    return mapping


def c_string_literal(text: str) -> str:
    """``text`` as a C string literal that means exactly those bytes, whatever they are: every byte
    outside a small safe set is an octal escape, so quotes, backslashes, newlines and trigraphs
    cannot end the literal or start a directive."""
    safe = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-+ ")
    return '"' + "".join(chr(b) if b in safe else f"\\{b:03o}" for b in text.encode("utf-8")) + '"'
