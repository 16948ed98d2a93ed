"""Tiny random models of the Hub architectures, built in the tests (the Hub is unreachable
here). Each gets a small tokenizer trained on CORPUS, is saved to a directory, and is then
loaded through the same loader as its Hub id (the operator local-directory source)."""
from __future__ import annotations

from pathlib import Path

CORPUS = [
    "The weather today is lovely and we go for a walk in the park.",
    "I love this product, it works great and the service was excellent.",
    "This was the worst meal I have ever had, terrible and cold.",
    "The team won the football match in the final minute.",
    "Stocks fell sharply after the central bank raised interest rates.",
    "今天的天气很好，适合出去散步。",
    "Attention is all you need. Transformers use self-attention.",
    "Hello world! 🙂 Emoji and ünïcödé text are tokenized too.",
] * 20


def _byte_level_tokenizer(vocab_size: int = 400):
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(CORPUS, vocab_size=vocab_size, min_frequency=1,
                            special_tokens=["<|endoftext|>"])
    return PreTrainedTokenizerFast(
        tokenizer_object=bpe._tokenizer,
        bos_token="<|endoftext|>", eos_token="<|endoftext|>", unk_token="<|endoftext|>",
    )


def _wordpiece_tokenizer(vocab_size: int = 400):
    import tempfile

    from tokenizers import BertWordPieceTokenizer
    from transformers import BertTokenizerFast

    wp = BertWordPieceTokenizer(lowercase=True)
    wp.train_from_iterator(CORPUS, vocab_size=vocab_size, min_frequency=1)
    with tempfile.TemporaryDirectory() as tmp:
        wp.save_model(tmp)
        return BertTokenizerFast(vocab_file=str(Path(tmp) / "vocab.txt"), do_lower_case=True)


def make_tiny_gpt2(path: Path, n_positions: int = 64, seed: int = 0) -> Path:
    """Random GPT-2 (2 layers x 2 heads, 32-d, context ``n_positions``) + byte-level BPE."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    tok = _byte_level_tokenizer()
    cfg = GPT2Config(vocab_size=len(tok), n_positions=n_positions, n_embd=32, n_layer=2, n_head=2,
                     bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    model = GPT2LMHeadModel(cfg).eval()
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


def make_tiny_bert(path: Path, head: str | None = None, labels: tuple[str, ...] = (), seed: int = 0) -> Path:
    """Random BERT-family model (2 layers x 2 heads, 32-d) + WordPiece.

    head: None (bare encoder, ``BertModel``), "distilbert-cls" (DistilBERT sequence
    classifier with ``labels``), or "nli" (BERT sequence classifier with
    contradiction/neutral/entailment labels, like the MNLI models).
    """
    import torch
    from transformers import (
        BertConfig,
        BertForSequenceClassification,
        BertModel,
        DistilBertConfig,
        DistilBertForSequenceClassification,
    )

    torch.manual_seed(seed)
    tok = _wordpiece_tokenizer()
    if head is None:
        model = BertModel(BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2,
                                     num_attention_heads=2, intermediate_size=64,
                                     max_position_embeddings=128))
    elif head == "distilbert-cls":
        labels = labels or ("NEGATIVE", "POSITIVE")
        model = DistilBertForSequenceClassification(DistilBertConfig(
            vocab_size=len(tok), dim=32, n_layers=2, n_heads=2, hidden_dim=64,
            max_position_embeddings=128, num_labels=len(labels),
            id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)}))
    elif head == "nli":
        labels = labels or ("contradiction", "neutral", "entailment")
        model = BertForSequenceClassification(BertConfig(
            vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
            intermediate_size=64, max_position_embeddings=128, num_labels=len(labels),
            id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)}))
    else:
        raise ValueError(head)
    model.eval()
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path
