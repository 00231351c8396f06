"""A tiny causal LM built on the spot: no hub, no download.

A byte-level BPE tokenizer trained with the ``tokenizers`` library on a small corpus, a ChatML chat template, and a
Qwen2 model of a few layers with random weights (fixed seed), saved with ``save_pretrained`` so every code path
loads it exactly as it would load a real model folder. Used by tests/hf and benchmarks/.
"""

from __future__ import annotations

from pathlib import Path

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
    "{% if m['content'] is string %}{{ m['content'] }}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

CORPUS = [
    "What is the capital of Australia? The capital of Australia is Canberra.",
    "I don't know the answer to that yet.",
    "Water boils at 100 degrees Celsius at sea level.",
    "Tell me a joke. Why did the chicken cross the road? To get to the other side.",
    "The quick brown fox jumps over the lazy dog. Paris is the capital of France.",
    "You are a concise assistant. Answer in one sentence. Hello, how are you today?",
    "system user assistant tool function 0123456789 +-*/=()[]{}.,;:!?'\"",
]


def build_tiny_model(
    folder: Path,
    *,
    hidden_size: int = 32,
    layers: int = 2,
    heads: int = 4,
    vocab_size: int = 400,
    chat_template: bool = True,
    seed: int = 0,
) -> Path:
    """Write a tokenizer and a random-weight Qwen2 model to ``folder``; return it."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    folder.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=SPECIAL, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(CORPUS * 4, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>", bos_token=None, unk_token=None
    )
    if chat_template:
        fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(folder)
    torch.manual_seed(seed)
    config = Qwen2Config(
        vocab_size=len(fast),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=512,
        eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
        bos_token_id=None,
        tie_word_embeddings=False,
        initializer_range=0.2,
    )
    model = Qwen2ForCausalLM(config)
    # Like a chat model, it never writes the padding or turn-opening tokens in a reply; it stops at <|im_end|>.
    model.generation_config.suppress_tokens = [fast.pad_token_id, fast.convert_tokens_to_ids("<|im_start|>")]
    model.generation_config.eos_token_id = fast.eos_token_id
    model.save_pretrained(folder)
    return folder
