"""Values from the data, the config or other users, made inert before they go into Streamlit Markdown.

Streamlit renders labels, captions, titles and messages as Markdown (CommonMark, GitHub tables,
``:color[...]`` directives, ``$`` maths, ``:emoji:`` short codes). A category value such as
```` `x` ![](http://evil/track.png) ```` would close a code span and load an external image. Every
value that is not a literal of our own goes through :func:`text` or :func:`code` first.
"""

import re
from typing import Any

# Characters that open code, HTML, links, images, bold, tables, Streamlit directives (``:red[..]``) or maths
# (``$``). Newlines are folded, so line-start syntax (headings, lists, quotes) cannot start; ``_`` is left
# alone (at worst it italicises, and identifiers such as DRIFTSCOPE_CONFIG stay readable in the source).
_SPECIAL = re.compile(r"([\\`*\[\]()<>!|~${}])")
_BACKTICKS = re.compile(r"`+")


def text(value: Any) -> str:
    r"""``value`` as Markdown that renders as its literal text: special characters escaped, one line.

    Examples
    --------
    >>> print(text("credit-default 1.0"))
    credit-default 1.0
    >>> print(text("a*b* ![x](http://e/i.png) <b>"))
    a\*b\* \!\[x\]\(http://e/i.png\) \<b\>
    >>> text("line\nbreak")
    'line break'
    """
    return _SPECIAL.sub(r"\\\1", " ".join(str(value).splitlines()))


def code(value: Any) -> str:
    """``value`` as an inline code span it cannot leave: fenced by more backticks than it contains.

    CommonMark takes a code span's content literally and ends it only at a backtick run of the same
    length, so the fence is one longer than the longest run inside; spaces pad a value that starts or
    ends with a backtick (they are stripped when rendered).

    Examples
    --------
    >>> code("region")
    '`region`'
    >>> code("x` ![](http://e/i.png) `")
    '`` x` ![](http://e/i.png) ` ``'
    """
    content = " ".join(str(value).splitlines())
    longest = max((len(run) for run in _BACKTICKS.findall(content)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if content.startswith("`") or content.endswith("`") or longest else ""
    return f"{fence}{pad}{content}{pad}{fence}"
