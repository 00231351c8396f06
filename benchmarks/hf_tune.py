"""Which DPO defaults make the taught pair move and leave the others alone (configs/hf-dpo.yaml, #22.13).

On a random-weight Qwen2 of a real model's shape in miniature (tests/hf/tiny_model.py; ``--hidden``, ``--layers``),
for each learning rate: a fresh client, one taught pair (the question the agent answered, the recorded answer
rejected), the shipped config's other settings (beta 0.1, LoRA r 16 / alpha 32 all-linear, 3 epochs of one batch),
and the per-token margin (``HFClient.score``) of the taught pair and of 5 unrelated pairs, before and after.
Prints, per setting, the taught pair's gain, the mean absolute shift of the unrelated pairs, their ratio, the final
``reward_margin`` and loss.

    OMP_NUM_THREADS=1 python -m benchmarks.hf_tune --lrs 1e-4,5e-4,1e-3,2e-3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "hf"))

QUESTION = "What is the capital of Australia?"
TAUGHT = ("The capital of Australia is Canberra.", "I don't know the answer to that yet.")
UNRELATED = [
    ("What is the capital of France?", "The capital of France is Paris.", "Berlin."),
    ("At what temperature does water boil?", "Water boils at 100 degrees Celsius at sea level.", "Cold."),
    ("Tell me a joke.", "Why did the chicken cross the road? To get to the other side.", "No."),
    ("How are you today?", "I am fine, thank you.", "The quick brown fox."),
    ("Name a fox.", "The quick brown fox.", "The lazy dog."),
]


def margins(client, pairs):  # type: ignore[no-untyped-def]
    out = []
    for q, c, r in pairs:
        sc, sr = client.score([{"role": "user", "content": q}], [c, r])
        out.append(sc - sr)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--lrs", default="1e-4,5e-4,1e-3,2e-3")
    parser.add_argument("--beta", type=float, default=0.1)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    from tiny_model import build_tiny_model

    from agent_ft_cli.hf import HFClient

    with tempfile.TemporaryDirectory() as tmp:
        model = build_tiny_model(Path(tmp) / "model", hidden_size=args.hidden, layers=args.layers, heads=4, vocab_size=400)
        thread = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": TAUGHT[1]}]
        taught = [(QUESTION, *TAUGHT)]
        print(f"model: Qwen2 hidden {args.hidden}, {args.layers} layers; beta {args.beta}, {args.epochs} epochs, LoRA r16")
        print("lr       taught_gain  unrelated_shift  ratio   reward_margin  last_loss  seconds")
        for lr in [float(x) for x in args.lrs.split(",")]:
            client = HFClient({"model": str(model)}, output_dir=Path(tmp) / f"ckpt-{lr}", max_new_tokens=8)
            t0, u0 = margins(client, taught)[0], margins(client, UNRELATED)
            start = time.monotonic()
            stats = client.update_model([list(TAUGHT)], thread, learning_rate=lr, beta=args.beta,
                                        num_train_epochs=args.epochs, per_device_train_batch_size=4, seed=0)
            t1, u1 = margins(client, taught)[0], margins(client, UNRELATED)
            gain = t1 - t0
            shift = statistics.mean(abs(b - a) for a, b in zip(u0, u1, strict=True))
            loss = stats["history"][-1]["loss"] if stats["history"] else float("nan")
            print(f"{lr:<8g} {gain:>11.3f}  {shift:>15.3f}  {gain / shift if shift else float('inf'):>5.1f}  "
                  f"{stats['reward_margin']:>13.3f}  {loss:>9.4f}  {time.monotonic() - start:>7.1f}")


if __name__ == "__main__":
    main()
