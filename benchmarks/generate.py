"""Synthetic agent-ft sessions of any size, written through the project's real writers.

A session holds one assistant/user conversation recorded from both sides, as ``save_session`` writes it: the
assistant's view (``assistant.chat_messages[user]``) and then the user proxy's view (``user.chat_messages[assistant]``),
with roles flipped the way autogen flips them. About one exchange in seven goes through a tool call (an assistant
message with ``tool_calls`` and ``content: null``, then a ``tool`` message with ``tool_responses``); a few user
turns are empty auto-replies; some text is non-ASCII. Message sizes follow a long-tailed distribution (user turns
~200 characters, assistant turns ~600, the odd one several KB), which gives ~500 bytes per line on average, so
200,000 messages make a file of ~100 MB.

Two writers, same records:

* ``save_session`` (default): real autogen agents whose ``chat_messages`` are filled directly, then
  :func:`agent_ft_cli.save_session`. Holds the whole conversation in memory (~1.3 GB for 1M messages).
* ``stream``: :func:`agent_ft_cli.session.write_records` (same layout as save_session) with the header from the same agents and generators for
  the two views, so memory stays flat whatever the size.

``--messages`` counts message records in the file (both views), so the updated thread holds half of them.

    python -m benchmarks.generate --messages 200000 --out /tmp/agent-ft-bench/s200k.jsonl
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

Message = dict[str, Any]

CLIENT_SPEC = "benchmarks.noop_client:NoopClient"

_WORDS = (
    "the a of to and in is that for it as with was on be by at this are from or have an they which one you were "
    "all we there can has more if will would about their out up into so some what time than other its only new "
    "model agent tool call result value error config session message thread update preference reply user data "
    "temperature function return list dict string number file path line json stream memory token batch learning "
    "rate gradient loss score reward policy value sample episode train evaluate test assert check run build "
    "café naïve résumé über straße 你好 世界 数据 模型 こんにちは データ привет данные 🙂 ✓ → ≈ °C"
).split()


def _corpus(rng: random.Random, size: int = 1 << 20) -> str:
    words: list[str] = []
    n = 0
    while n < size:
        w = rng.choice(_WORDS)
        if rng.random() < 0.06:
            w += rng.choice((".", ",", ":", "?", ".\n", ".\n\n"))
        words.append(w)
        n += len(w) + 1
    return " ".join(words)


class _Text:
    """Slices of a fixed random corpus: cheap, varied, long-tailed lengths."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.corpus = _corpus(rng)

    def __call__(self, mean: int) -> str:
        rng = self.rng
        length = int(rng.lognormvariate(0, 0.8) * mean * 0.64) + 1
        length = min(length, 32_000)
        start = rng.randrange(0, len(self.corpus) - length)
        return self.corpus[start : start + length]


def assistant_view(n: int, seed: int = 0) -> Iterator[Message]:
    """The assistant's view of the conversation: ``n`` messages (``assistant.chat_messages[user]``)."""
    rng = random.Random(seed)
    text = _Text(rng)
    i = 0
    call = 0
    while True:
        content = "" if rng.random() < 0.04 else text(200)
        yield {"content": content, "role": "user", "name": "user"}
        i += 1
        if i >= n:
            return
        if rng.random() < 0.15 and i + 2 < n:
            call += 1
            call_id = f"call_{seed:02d}{call:09d}"
            args = '{"query": "' + text(40).replace('"', "'").replace("\\", "/").replace("\n", " ") + '", "limit": 10}'
            yield {
                "tool_calls": [
                    {"id": call_id, "type": "function", "function": {"name": "search_notes", "arguments": args}}
                ],
                "content": None,
                "role": "assistant",
            }
            out = text(400)
            yield {
                "content": out,
                "tool_responses": [{"tool_call_id": call_id, "role": "tool", "content": out}],
                "role": "tool",
                "name": "user",
            }
            i += 2
        yield {"content": text(600), "role": "assistant", "name": "assistant"}
        i += 1
        if i >= n:
            return


def flip(message: Message) -> Message:
    """The same message as the user proxy holds it (autogen flips user/assistant on text messages)."""
    if message.get("tool_calls") or message.get("role") == "tool":
        return dict(message)
    flipped = dict(message)
    flipped["role"] = "assistant" if message["role"] == "user" else "user"
    return flipped


def user_view(n: int, seed: int = 0) -> Iterator[Message]:
    return (flip(m) for m in assistant_view(n, seed))


def make_agents() -> tuple[Any, Any]:
    """A real assistant (with the no-op client registered) and user proxy, as a recording would have them."""
    import logging

    import autogen

    from .noop_client import NoopClient

    logging.getLogger("autogen.oai.client").setLevel(logging.WARNING)
    assistant = autogen.AssistantAgent(
        "assistant",
        system_message="You answer questions about the user's notes; use search_notes when you need them.",
        llm_config={"config_list": [{"model": "noop", "model_client_cls": "NoopClient", "api_key": "sk-bench-SECRET"}]},
    )
    assistant.register_model_client(model_client_cls=NoopClient)
    user = autogen.UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False)
    return assistant, user


def generate(path: Path | str, messages: int, *, seed: int = 0, writer: str = "save_session") -> dict[str, Any]:
    """Write a session of ``messages`` message records (both views) to ``path``; returns a small summary."""
    from agent_ft_cli import save_session
    from agent_ft_cli import session as fmt
    from agent_ft_cli.classic.recorder import describe_agent

    if messages < 2 or messages % 2:
        raise ValueError("messages must be an even number >= 2 (half in each view)")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    per_view = messages // 2
    t0 = time.perf_counter()
    assistant, user = make_agents()
    if writer == "save_session":
        a_view = list(assistant_view(per_view, seed))
        assistant.chat_messages[user].extend(a_view)
        user.chat_messages[assistant].extend(flip(m) for m in a_view)
        del a_view
        save_session(path, assistant, user)
    elif writer == "stream":
        import autogen

        header = fmt.make_header(
            [describe_agent(assistant), describe_agent(user)], autogen_version=getattr(autogen, "__version__", None)
        )
        pairs = zip(assistant_view(per_view, seed), user_view(per_view, seed), strict=True)  # the layout save_session writes
        fmt.write_records(
            path,
            header,
            (
                rec
                for mine, theirs in pairs
                for rec in (fmt.message_record("assistant", "user", mine), fmt.message_record("user", "assistant", theirs))
            ),
        )
    else:
        raise ValueError(f"unknown writer {writer!r}; use save_session or stream")
    return {
        "path": str(path),
        "messages": messages,
        "thread": per_view,
        "bytes": path.stat().st_size,
        "seconds": round(time.perf_counter() - t0, 2),
        "writer": writer,
    }


def ensure(path: Path | str, messages: int, *, seed: int = 0, writer: str = "save_session") -> Path:
    """Generate ``path`` unless a session with the same parameters is already there (a ``.params`` file beside it)."""
    path = Path(path)
    stamp = path.with_name(path.name + ".params")
    params = f"messages={messages} seed={seed} writer={writer} v=2"
    if path.exists() and stamp.exists() and stamp.read_text() == params:
        return path
    # in a child process: a big generation would otherwise leave this process (and the peak RSS that children
    # forked from it inherit on Linux) hundreds of MB large
    import subprocess

    argv = [sys.executable, "-m", "benchmarks.generate", "-n", str(messages), "-o", str(path), "--seed", str(seed)]
    subprocess.run([*argv, "--writer", writer], check=True, cwd=Path(__file__).resolve().parent.parent)
    stamp.write_text(params)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.generate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", "-n", type=int, required=True, help="message records in the file (both views)")
    ap.add_argument("--out", "-o", required=True, help="session file to write (keep it outside the repo)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--writer", choices=("save_session", "stream"), default="save_session")
    args = ap.parse_args(argv)
    info = generate(args.out, args.messages, seed=args.seed, writer=args.writer)
    print(
        f"{info['path']}: {info['messages']} messages ({info['thread']} per view), "
        f"{info['bytes'] / 1e6:.1f} MB in {info['seconds']} s via {info['writer']}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
