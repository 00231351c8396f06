"""The floor for the Hugging Face benchmark: a plain TRL script, as a user would write it by hand.

Loads the model and tokenizer, builds the same conversational DPO (or SFT) dataset agent-ft builds from the
session and prefs, trains the same steps with the same LoRA and trainer settings, saves the adapter (with LoRA),
merges it and saves the model and tokenizer: the files agent-ft writes to a run folder.
Usage: python benchmarks/hf_plain_trl.py ROWS.json MODEL_DIR OUT_DIR STEPS [full]
"""

from __future__ import annotations

import json
import sys
import tempfile

import torch
from datasets import Dataset
from peft import LoraConfig
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import DPOConfig, DPOTrainer


def main() -> None:
    rows_path, model_dir, out_dir, steps = sys.argv[1:5]
    full = len(sys.argv) > 5 and sys.argv[5] == "full"
    with open(rows_path, encoding="utf-8") as fh:
        rows = json.load(fh)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype="auto")
    data = [
        {"prompt": r["prompt"], "chosen": [{"role": "assistant", "content": r["chosen"]}],
         "rejected": [{"role": "assistant", "content": r["rejected"]}]}
        for r in rows
    ]
    with tempfile.TemporaryDirectory() as tmp:
        args = DPOConfig(
            output_dir=tmp, max_steps=int(steps), learning_rate=5e-4, per_device_train_batch_size=4, seed=0,
            report_to="none", save_strategy="no", logging_steps=1, bf16=False, fp16=False,
            use_cpu=not torch.cuda.is_available(),
        )
        peft_config = None if full else LoraConfig(
            task_type="CAUSAL_LM", r=16, lora_alpha=32, lora_dropout=0.0, target_modules="all-linear"
        )
        trainer = DPOTrainer(model=model, args=args, train_dataset=Dataset.from_list(data), processing_class=tokenizer,
                             peft_config=peft_config)
        trainer.train()
    trained = trainer.accelerator.unwrap_model(trainer.model)
    if peft_config is not None:  # the adapter in PEFT's format too, as agent-ft keeps it
        trained.save_pretrained(f"{out_dir}/adapter")
        tokenizer.save_pretrained(f"{out_dir}/adapter")
        trained = trained.merge_and_unload()
    trained.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)


if __name__ == "__main__":
    main()
