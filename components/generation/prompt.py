"""The prompt as the model reads it: modes, tokenisation and the context-length clamp.

Responsibility: :data:`COMPLETE` / :data:`CHAT` modes, :func:`build_prompt_text` (the chat
template applied to one user message), :func:`prepare_inputs` (plain-text tokenisation of the
user's text -- never control tokens -- and the cut to fit the context window and
:data:`~components.generation.settings.MAX_PROMPT_TOKENS`), :class:`PreparedPrompt`, the errors a
prompt raises, and :func:`eos_token_ids` (the ids ``model.generate`` stops on). Sources: the
tokenizer's chat template (transformers ``apply_chat_template``, via
:func:`components.tokens.encode_chat`). Only the tokenizer runs here, never the model.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from components.generation.settings import MAX_PROMPT_TOKENS, Notice
from components.loading import LoadedModel
from components.tokens import encode_chat

COMPLETE = "complete"
CHAT = "chat"
MODES = (COMPLETE, CHAT)


class EmptyPromptError(ValueError):
    """The prompt is empty or whitespace only."""


class NoChatTemplateError(ValueError):
    """Chat mode was asked of a model without a chat template (not instruction-tuned)."""


@dataclass
class PreparedPrompt:
    """Tokenised model input.

    Attributes:
        text: the exact string tokenised (after the chat template, if any).
        input_ids: (1, seq) long tensor.
        attention_mask: (1, seq) long tensor of ones.
        prompt_tokens: seq.
        dropped_tokens: tokens cut from the left to fit the context (0 if none).
        max_new_tokens: tokens that will be generated at most (possibly clamped).
        notices: :data:`Notice` s about changes made (keys under ``generation.notice``).
    """

    text: str
    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    prompt_tokens: int
    dropped_tokens: int
    max_new_tokens: int
    notices: list[Notice] = field(default_factory=list)


def _check_mode(loaded: LoadedModel, mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    if mode == CHAT and not getattr(loaded.tokenizer, "chat_template", None):
        raise NoChatTemplateError(
            f"{loaded.spec.display_name} has no chat template (it is not instruction-tuned): "
            "use 'Complete text' mode."
        )


def _encode(loaded: LoadedModel, prompt: str, mode: str) -> tuple[list[int], tuple[int, int], str]:
    """(input_ids, (start, end) token span of the user's text, rendered text). The user's
    text is always tokenised as plain text (:func:`components.tokens.encode_plain`): typing
    ``<|im_end|>`` cannot close the user turn; only the chat template's own markup yields
    control tokens."""
    _check_mode(loaded, mode)
    tok = loaded.tokenizer
    with loaded.tokenizer_lock:
        if mode == COMPLETE:
            ids = list(tok(prompt, add_special_tokens=True, split_special_tokens=True,
                           verbose=False)["input_ids"])
            return ids, (0, len(ids)), prompt
        ids, spans, text = encode_chat(tok, [{"role": "user", "content": prompt}], add_generation_prompt=True)
    return ids, spans[0], text


def build_prompt_text(loaded: LoadedModel, prompt: str, mode: str) -> str:
    """The string the model sees: the prompt itself, or the chat template applied to one
    user message (with the assistant turn opened) in ``"chat"`` mode. Control-token
    look-alikes in ``prompt`` stay plain text in the ids (see :func:`prepare_inputs`).

    Raises:
        NoChatTemplateError: chat mode on a model without a chat template.
        ValueError: unknown mode.
    """
    return _encode(loaded, prompt, mode)[2]


def prepare_inputs(loaded: LoadedModel, prompt: str, mode: str, max_new_tokens: int,
                   max_prompt_tokens: int = MAX_PROMPT_TOKENS) -> PreparedPrompt:
    """Tokenise ``prompt`` for generation and fit it into the model's context window.

    The user's text is tokenised as plain text (``<|im_end|>`` typed by a person is ordinary
    pieces, never the control token); in chat mode only the chat template's markup yields
    special tokens (:func:`components.tokens.encode_chat`).

    Policy when prompt + ``max_new_tokens`` exceed the context length ``n_ctx``:
    ``max_new_tokens`` is kept (it is the user's output length) unless it alone needs more
    than half the window, in which case it is clamped to ``n_ctx // 2``. The prompt is then
    cut to ``min(n_ctx - max_new_tokens, max_prompt_tokens)`` tokens (compute cap,
    :data:`MAX_PROMPT_TOKENS`):

    * complete mode: from the left (oldest tokens first) -- the model continues the end of
      the text, so the end is the context that matters;
    * chat mode: only the user's message is cut, in its middle -- the template's turns
      (system turn, user header, end of turn, assistant header) are kept so the model still
      sees a well-formed conversation and answers, and both the start of the message (where
      an instruction like "Summarise this." usually is) and its end (a closing question) stay.

    Only the tokenizer runs here (fast even for 100 000 characters), never the model.

    Args:
        prompt: the user's text (any characters; NUL and control characters are kept).
        mode: :data:`COMPLETE` or :data:`CHAT`.
        max_new_tokens: tokens the caller wants to generate.
        max_prompt_tokens: prompt tokens kept at most (>= 1).

    Raises:
        EmptyPromptError: ``prompt`` is empty or whitespace only.
        NoChatTemplateError / ValueError: see :func:`build_prompt_text`.
    """
    if not prompt or not prompt.strip():
        raise EmptyPromptError("The prompt is empty: type some text for the model to continue.")
    ids, (start, end), text = _encode(loaded, prompt, mode)
    n_ctx = loaded.context_length
    notices: list[Notice] = []
    if max_new_tokens > n_ctx // 2 and len(ids) + max_new_tokens > n_ctx:
        notices.append(("generation.notice.new_tokens_clamped",
                        {"asked": max_new_tokens, "model": loaded.spec.display_name, "n_ctx": n_ctx,
                         "cap": n_ctx // 2}))
        max_new_tokens = n_ctx // 2
    keep = max(1, min(n_ctx - max_new_tokens, int(max_prompt_tokens)))
    total = len(ids)
    dropped = max(0, total - keep)
    window = len(ids) + max_new_tokens > n_ctx and keep == n_ctx - max_new_tokens
    if dropped and mode == CHAT and end - start > dropped:
        content = end - start - dropped           # user tokens kept: half from each end
        head = start + (content + 1) // 2
        tail = end - content // 2
        ids = ids[:head] + ids[tail:]
        with loaded.tokenizer_lock:
            text = loaded.tokenizer.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)
        notices.append(("generation.notice.chat_cut",
                        {"total": total, "cap": keep, "dropped": dropped, "kept": content,
                         "user": end - start}))
    elif dropped:
        ids = ids[dropped:]
        if mode == CHAT:
            with loaded.tokenizer_lock:
                text = loaded.tokenizer.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)
        if window:
            notices.append(("generation.notice.context_cut",
                            {"total": total, "new": max_new_tokens, "n_ctx": n_ctx, "dropped": dropped}))
        else:
            notices.append(("generation.notice.prompt_cap", {"total": total, "cap": keep, "dropped": dropped}))
    input_ids = torch.tensor([ids], dtype=torch.long)  # (1, seq)
    return PreparedPrompt(
        text=text,
        input_ids=input_ids,
        attention_mask=torch.ones_like(input_ids),
        prompt_tokens=len(ids),
        dropped_tokens=dropped,
        max_new_tokens=max_new_tokens,
        notices=notices,
    )


def eos_token_ids(loaded: LoadedModel) -> set[int]:
    """Ids that end generation: the model's ``generation_config.eos_token_id`` (one id or a
    list), else the tokenizer's ``eos_token_id`` -- what ``model.generate`` stops on."""
    eos = loaded.model.generation_config.eos_token_id
    if eos is None:
        eos = loaded.tokenizer.eos_token_id
    return {int(e) for e in (eos if isinstance(eos, list) else [eos]) if e is not None}
