"""`agent-ft update` with the Hugging Face client against a plain TRL script, and peak RSS of full vs LoRA.

A benchmark model (a random-weight Qwen2 built by tests/hf/tiny_model.py, larger than the tests' one) answers a
question with `agent-ft record`; the prefs tie one pair to that answer and give the rest explicit prompts. Then,
interleaved and each in a fresh process:

* ``plain``: benchmarks/hf_plain_trl.py on the same rows, model, steps, LoRA and trainer settings (load, train,
  merge, save);
* ``agent-ft``: ``agent-ft update --session ... --prefs ... --config ...`` (which also imports autogen, replays the
  session, ties the pairs, scores every pair before and after training and publishes the checkpoint atomically);
* ``autogen``: ``python -c "import autogen"``, the import the target allows on top of the plain script.

Peak RSS is each child's own (``wait4``). Medians of ``--repeat`` runs. agent-ft's modules are byte-compiled first
(``compileall``), as the libraries in site-packages are.

    python -m benchmarks.hf_bench --steps 20 --repeat 3 [--no-rss]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests" / "hf"))

QUESTIONS = [
    ("What is the capital of France?", "The capital of France is Paris.", "Berlin."),
    ("At what temperature does water boil?", "Water boils at 100 degrees Celsius at sea level.", "Cold."),
    ("Tell me a joke.", "Why did the chicken cross the road? To get to the other side.", "No."),
    ("How are you today?", "I am fine, thank you.", "The quick brown fox."),
    ("What is 2+2?", "2+2 is 4.", "5."),
    ("Say hello.", "Hello!", "Goodbye."),
    ("Name a fox.", "The quick brown fox.", "The lazy dog."),
]


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MB) of one child process (its own, from wait4);
    its output is discarded, a failure raises. On a shared machine CPU seconds are the steadier comparison."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=REPO)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd[:4])}... failed:\n{err.decode(errors='replace')[-3000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    from tiny_model import build_tiny_model

    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--no-rss", action="store_true", help="skip the full fine-tuning runs that measure peak RSS")
    parser.add_argument("--threads", action="store_true",
                        help="instead: agent-ft update with OMP_NUM_THREADS=1, =2, and 2 processes of 1 thread (same global batch)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="agent-ft-hf-bench-"))
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false", NO_COLOR="1")
    # Both sides import compiled bytecode, as an installed package does: with PYTHONDONTWRITEBYTECODE set, agent-ft's
    # ~100 modules (a source checkout) were compiled again in every run (~0.2 s), the libraries' never.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "agent_ft_cli")], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    try:
        model = build_tiny_model(work / "model", hidden_size=args.hidden, layers=args.layers, heads=8)
        bin_dir = Path(sys.executable).parent
        config = work / "hf.yaml"
        cfg = (REPO / "configs" / "hf-dpo.yaml").read_text(encoding="utf-8")
        config.write_text(cfg.replace("max_new_tokens: 128", "max_new_tokens: 16"), encoding="utf-8")
        env.update(HF_MODEL=str(model), HF_OUTPUT_DIR=str(work / "ckpt"))
        session = work / "chat.jsonl"
        reply = subprocess.run(
            [str(bin_dir / "agent-ft"), "record", "--config", str(config), "-m", "What is the capital of Australia?",
             "-o", str(session), "-q"], capture_output=True, text=True, env=env, check=True,
        ).stdout.strip()
        prefs = [["The capital of Australia is Canberra.", reply]]
        prefs += [{"prompt": q, "chosen": c, "rejected": r} for q, c, r in QUESTIONS]
        (work / "prefs.json").write_text(json.dumps(prefs), encoding="utf-8")
        rows = [{"prompt": [{"role": "user", "content": "What is the capital of Australia?"}],
                 "chosen": "The capital of Australia is Canberra.", "rejected": reply}]
        rows += [{"prompt": [{"role": "user", "content": q}], "chosen": c, "rejected": r} for q, c, r in QUESTIONS]
        (work / "rows.json").write_text(json.dumps(rows), encoding="utf-8")

        update = [str(bin_dir / "agent-ft"), "update", "--session", str(session), "--prefs", str(work / "prefs.json"),
                  "--config", str(config), "--json", "--kwarg", f"max_steps={args.steps}"]
        plain = [sys.executable, str(HERE / "hf_plain_trl.py"), str(work / "rows.json"), str(model), str(work / "plain-out"),
                 str(args.steps)]
        autogen = [sys.executable, "-c", "import autogen"]
        if args.threads:
            return threads(update, env, work, args.repeat)
        times: dict[str, list[float]] = {"plain": [], "agent-ft": [], "autogen": []}
        cpu: dict[str, list[float]] = {"plain": [], "agent-ft": [], "autogen": []}
        rss: dict[str, list[float]] = {"plain LoRA": [], "agent-ft LoRA": [], "plain full": [], "agent-ft full": []}
        load_before = os.getloadavg()[0]
        for _ in range(args.repeat):
            shutil.rmtree(work / "ckpt", ignore_errors=True)  # every run starts from the same base model
            for name, cmd in (("plain", plain), ("agent-ft", update), ("autogen", autogen)):
                wall, used, peak = run(cmd, env)
                times[name].append(wall)
                cpu[name].append(used)
                if name != "autogen":
                    rss[f"{name} LoRA"].append(peak)
                shutil.rmtree(work / "ckpt", ignore_errors=True)
            if args.no_rss:
                continue
            rss["plain full"].append(run([*plain, "full"], env)[2])
            rss["agent-ft full"].append(run([*update, "--client-arg", "lora=false", "--kwarg", "learning_rate=1e-5"], env)[2])
            shutil.rmtree(work / "ckpt", ignore_errors=True)
        med = {k: statistics.median(v) for k, v in times.items()}
        mcpu = {k: statistics.median(v) for k, v in cpu.items()}
        print(f"model: Qwen2 hidden {args.hidden}, {args.layers} layers; {len(rows)} pairs; {args.steps} DPO steps; "
              f"medians of {args.repeat}; python {sys.version.split()[0]}; load average {load_before:.1f} before, "
              f"{os.getloadavg()[0]:.1f} after; {os.cpu_count()} cores")
        print("| run | wall s | CPU s |")
        print("|---|---|---|")
        for k, v in med.items():
            print(f"| {k} | {v:.2f} | {mcpu[k]:.2f} |")
        for label, m in (("wall", med), ("CPU", mcpu)):
            print(f"{label}: agent-ft / plain TRL {m['agent-ft'] / m['plain']:.3f}x; "
                  f"agent-ft / (plain TRL + import autogen) {m['agent-ft'] / (m['plain'] + m['autogen']):.3f}x")
        print("| peak RSS | MB |")
        print("|---|---|")
        for k, v in rss.items():
            if v:
                print(f"| {k} | {statistics.median(v):.0f} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def threads(update: list[str], env: dict[str, str], work: Path, repeat: int) -> None:
    """torch's CPU threads: one process of 1 or 2 threads, or 2 data-parallel processes of 1 thread each (gloo), all
    at a global batch of 4 for the same steps. Medians of ``repeat``."""
    launcher = Path(sys.executable).parent / "accelerate"
    two = [str(launcher), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
           "--dynamo_backend", "no", "--main_process_port", "29517", "-m", "agent_ft_cli", *update[1:],
           "--kwarg", "per_device_train_batch_size=2"]
    runs = {"1 process, OMP_NUM_THREADS=1": (update, "1"), "1 process, OMP_NUM_THREADS=2": (update, "2"),
            "2 processes, OMP_NUM_THREADS=1": (two, "1")}
    results: dict[str, list[tuple[float, float]]] = {k: [] for k in runs}
    for _ in range(repeat):
        for name, (cmd, n) in runs.items():
            shutil.rmtree(work / "ckpt", ignore_errors=True)
            wall, used, _ = run(cmd, {**env, "OMP_NUM_THREADS": n})
            results[name].append((wall, used))
    print(f"load average before: {os.getloadavg()[0]:.1f}; cores: {os.cpu_count()}")
    print("| run | wall s | CPU s |")
    print("|---|---|---|")
    for name, rs in results.items():
        print(f"| {name} | {statistics.median(w for w, _ in rs):.2f} | {statistics.median(c for _, c in rs):.2f} |")


if __name__ == "__main__":
    main()
