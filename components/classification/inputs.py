"""Classification inputs: labels, hypothesis template, text batches, and the notices about them.

Checks and cleans what the user gives (comma-separated labels, a hypothesis template with one
``{}``, a batch of texts) before any model runs, and words nothing: notices and errors are
``classification.msg.*`` :class:`components.messages.Message` codes
(``locales/<lang>/classification.toml``). Caps are this module's constants; the template
default follows the transformers ``zero-shot-classification`` pipeline (Yin et al. 2019).
"""
from __future__ import annotations

from components.messages import Message
from components.textio import InputError

MAX_LABELS = 20
"""Cap on labels (zero-shot) and classes (train your own): bounded memory and a readable chart."""
MAX_LABEL_CHARS = 100
"""Longest label accepted (a label is a short name, and the NLI hypothesis must fit the model)."""
MAX_TEXTS = 500
"""Cap on texts per batch (zero-shot and classify-new-text); the rest are dropped with a notice."""
MAX_TEXT_CHARS = 20_000
"""Characters of one text kept before tokenizing (the rest is cut with a notice). The encoders
read at most 256 (MiniLM) / 512-1024 (NLI) tokens, i.e. a few thousand characters of prose, so
the cut changes nothing the model sees in practice and bounds tokenizer time for 100 000-character
pastes."""
MAX_TEMPLATE_CHARS = 300
"""Longest hypothesis template (one short sentence)."""
DEFAULT_TEMPLATE = "This text is about {}."
"""Hypothesis template; the transformers pipeline default is "This example is {}."."""
SLOT = "{}"
"""The template placeholder, passed into messages as a value (``{slot}``)."""


class ClassificationInputError(InputError):
    """Input the classifiers cannot use; ``message`` is a ``classification.msg.*`` code."""


def notice(name: str, **params) -> Message:
    """Message ``classification.msg.<name>`` with ``params``."""
    return Message(f"classification.msg.{name}", params)


def and_more(n_named: int) -> Message | str:
    """``classification.msg.and_more`` counting the affected texts past the first 10, or ``""``."""
    # the first 10 affected texts are named; the rest are counted
    return notice("and_more", n=n_named - 10) if n_named > 10 else ""


def quoted(items) -> str:
    """Items as a comma-separated list of their ``repr`` (quoted, so blanks and commas show)."""
    return ", ".join(repr(str(i)) for i in items)


def parse_labels(raw: str, max_labels: int = MAX_LABELS) -> tuple[list[str], list[Message]]:
    """Labels from a comma-separated string.

    Trims each label, drops blanks (",,", trailing commas) and case-insensitive duplicates
    (the first spelling is kept), keeps at most ``max_labels``.

    Returns:
        (labels in input order, notices about what was dropped).

    Raises:
        InputError: no label left, or a label longer than ``MAX_LABEL_CHARS`` characters.
    """
    parts = [p.strip() for p in (raw or "").split(",")]
    notices: list[Message] = []
    labels: list[str] = []
    seen: set[str] = set()
    duplicates: list[str] = []
    blanks = sum(1 for p in parts if not p)
    for part in parts:
        if not part:
            continue
        folded = part.casefold()
        if folded in seen:
            duplicates.append(part)
            continue
        seen.add(folded)
        labels.append(part)
    if not labels:
        raise ClassificationInputError("classification.msg.no_labels")
    too_long = [l for l in labels if len(l) > MAX_LABEL_CHARS]
    if too_long:
        raise ClassificationInputError("classification.msg.label_too_long", max=MAX_LABEL_CHARS, n=len(too_long[0]))
    if blanks and len(parts) > 1:
        notices.append(notice("empty_labels", n=blanks))
    if duplicates:
        notices.append(notice("duplicate_labels", labels=quoted(duplicates)))
    if len(labels) > max_labels:
        notices.append(notice("too_many_labels", n=len(labels), max=max_labels,
                           dropped=quoted(labels[max_labels:])))
        labels = labels[:max_labels]
    return labels, notices


def check_template(template: str) -> str:
    """Validate a hypothesis template: it must contain ``{}`` exactly once and be at most
    ``MAX_TEMPLATE_CHARS`` characters long.

    Returns:
        the template unchanged.

    Raises:
        InputError: no ``{}``, more than one, other braces that ``str.format`` would
            misread (e.g. ``{label}``), or too long.
    """
    template = template or ""
    if len(template) > MAX_TEMPLATE_CHARS:
        raise ClassificationInputError("classification.msg.template_too_long", n=len(template), max=MAX_TEMPLATE_CHARS)
    count = template.count(SLOT)
    if count == 0:
        raise ClassificationInputError("classification.msg.template_no_slot", slot=SLOT, example=DEFAULT_TEMPLATE)
    if count > 1:
        raise ClassificationInputError("classification.msg.template_twice", slot=SLOT, n=count)
    rest = template.replace(SLOT, "")
    if "{" in rest or "}" in rest:
        raise ClassificationInputError("classification.msg.template_braces", slot=SLOT)
    return template


def hypothesis(template: str, label: str) -> str:
    """``template`` with ``label`` in its placeholder (``str.format``)."""
    return template.format(label)


def cap_batch(items: list, max_texts: int = MAX_TEXTS) -> tuple[list, list[Message]]:
    """The first ``max_texts`` items of a batch, with a notice when more were given."""
    if len(items) <= max_texts:
        return list(items), []
    return list(items[:max_texts]), [notice("texts_capped", n=len(items), max=max_texts)]


def clip_chars(texts: list[str], max_chars: int = MAX_TEXT_CHARS) -> tuple[list[str], list[Message]]:
    """Cut every text to its first ``max_chars`` characters (before tokenizing).

    Returns:
        (texts, notices naming the cut texts by 1-based position).
    """
    over = [i for i, t in enumerate(texts) if len(t) > max_chars]
    if not over:
        return list(texts), []
    named = [notice("named_chars", i=i + 1, preview=preview(texts[i]), n=len(texts[i])) for i in over[:10]]
    return ([t[:max_chars] for t in texts],
            [notice("text_clipped", n=len(over), max=max_chars, named=named, more=and_more(len(over)))])


def clean_texts(texts: list[str], max_texts: int = MAX_TEXTS) -> tuple[list[str], list[Message]]:
    """Drop empty/whitespace texts, cap the count (``max_texts``) and each text's length
    (``MAX_TEXT_CHARS``).

    Returns:
        (texts stripped of surrounding whitespace, notices).

    Raises:
        InputError: nothing but blank text.
    """
    texts = [str(t) for t in texts]
    kept = [t.strip() for t in texts if t.strip()]
    if not kept:
        raise ClassificationInputError("classification.msg.text_empty")
    notices = []
    if len(kept) < len(texts):
        notices.append(notice("texts_blank", n=len(texts) - len(kept)))
    kept, capped = cap_batch(kept, max_texts)
    kept, clipped = clip_chars(kept, MAX_TEXT_CHARS)
    return kept, notices + capped + clipped


def preview(text: str, n: int = 40) -> str:
    """``text`` on one line (white space folded), cut to ``n`` characters with "…"."""
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= n else one_line[: n - 1] + "…"


def truncation_notice(lengths: list[int], texts: list[str], limit: int, what: str | Message) -> list[Message]:
    """``[classification.msg.truncated]`` naming the texts whose token ``lengths`` exceed ``limit``
    (the first 10 by 1-based position), or ``[]``; ``what``: the model (or pair) that cuts them."""
    over = [i for i, n in enumerate(lengths) if n > limit]
    if not over:
        return []
    named = [notice("named_tokens", i=i + 1, preview=preview(texts[i]), n=lengths[i]) for i in over[:10]]
    return [notice("truncated", n=len(over), limit=limit, model=what, named=named, more=and_more(len(over)))]
