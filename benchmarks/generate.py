"""Synthetic agent-ft sessions of any size and shape, written through the project's real writers.

Shapes (``--shape``; every thread of a session holds the same number of messages, laid out record by record, round
after round over the threads, as ``save_session`` and a live ``SessionRecorder`` write them):

* ``mixed`` (default): one assistant/user conversation recorded from both sides, the assistant's view
  (``assistant.chat_messages[user]``) and the user proxy's (``user.chat_messages[assistant]``, roles flipped the way
  autogen flips them). About one exchange in seven goes through a tool call (an assistant message with
  ``tool_calls`` and ``content: null``, then a ``tool`` message with ``tool_responses``); a few user turns are empty
  auto-replies; some text is non-ASCII. Long-tailed sizes (user turns ~200 characters, assistant turns ~600, the
  odd one several KB): ~510 bytes a line, so 200,000 messages make ~100 MB.
* ``uniform-interleaved``: the same two views of a plain text chat whose messages are all ~300 characters
  (~400-byte lines): the most lines per MB, where per-line costs show.
* ``group-chat``: six agents through a ``GroupChatManager``; every member's thread with the manager and the
  manager's thread with every member (12 threads, each holding every turn), so the updated thread is 1/12 of the
  lines.
* ``long-messages``: two views of a chat of few, long messages (10-100 KB each).

Two writers, same records:

* ``save_session`` (default): real autogen agents whose ``chat_messages`` are filled directly, then
  :func:`agent_ft_cli.save_session`. Holds the whole conversation in memory (~1.3 GB for 1M messages).
* ``stream``: :func:`agent_ft_cli.session.write_records` with the header from the same agents and generators for
  the threads, in the layout save_session writes, so memory stays flat whatever the size.

``--messages`` counts message records in the file (all threads), ``--size`` asks for about that many MB.

    python -m benchmarks.generate --messages 200000 --out /tmp/agent-ft-bench/s200k.jsonl
    python -m benchmarks.generate --shape group-chat --size 100 --writer stream --out /tmp/agent-ft-bench/g.jsonl
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
import time
from collections.abc import Callable, Iterator
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


# ---------------------------------------------------------------------------------------------------------------
# shapes: who talks to whom, and how long the messages are


def uniform_view(n: int, seed: int = 0, size: int = 300) -> Iterator[Message]:
    """The assistant's view of a plain text chat whose messages are all about ``size`` characters (±10%)."""
    rng = random.Random(seed)
    corpus = _corpus(rng)
    for i in range(n):
        length = rng.randint(size * 9 // 10, size * 11 // 10)
        start = rng.randrange(0, len(corpus) - length)
        mine = i % 2 == 1
        yield {"content": corpus[start : start + length], "role": "assistant" if mine else "user", "name": "assistant" if mine else "user"}


def long_view(n: int, seed: int = 0) -> Iterator[Message]:
    """The assistant's view of a chat of long messages: 10-100 KB each (log-uniform)."""
    rng = random.Random(seed)
    corpus = _corpus(rng, 1 << 18)
    for i in range(n):
        length = int(10_000 * 10 ** rng.random())
        parts, have = [], 0
        while have < length:  # the corpus is 256 KB: a long message is a few slices of it
            take = min(length - have, 50_000)
            start = rng.randrange(0, len(corpus) - take)
            parts.append(corpus[start : start + take])
            have += take
        mine = i % 2 == 1
        yield {"content": "".join(parts), "role": "assistant" if mine else "user", "name": "assistant" if mine else "user"}


GROUP_PEERS = 6


def group_turns(n: int, seed: int = 0, peers: int = GROUP_PEERS) -> Iterator[tuple[int, str]]:
    """``n`` turns of a group chat: (speaker index, content), long-tailed sizes, the speaker never twice in a row."""
    rng = random.Random(seed)
    text = _Text(rng)
    last = -1
    for _ in range(n):
        speaker = rng.randrange(peers - 1)
        speaker += speaker >= last >= 0
        last = speaker
        yield speaker, text(300)


def group_view(turns: list[tuple[int, str]], names: list[str], owner: str, manager_side: bool) -> Iterator[Message]:
    """One thread of a group chat run by a manager, as autogen fills it: ``owner.chat_messages[manager]`` (every
    turn; the owner's own turns as ``assistant``) or, with ``manager_side``, ``manager.chat_messages[owner]`` (the
    owner's turns as ``user``, the turns the manager broadcast to it as ``assistant``)."""
    for speaker, content in turns:
        own = names[speaker] == owner
        role = ("user" if own else "assistant") if manager_side else ("assistant" if own else "user")
        yield {"content": content, "role": role, "name": names[speaker]}


def _two_agent(view: Callable[[int, int], Iterator[Message]]) -> Callable[[int, int], tuple[list[Any], list[Thread]]]:
    def threads(per_thread: int, seed: int) -> tuple[list[Any], list[Thread]]:
        assistant, user = make_agents()
        return [assistant, user], [
            (assistant, user, lambda: view(per_thread, seed)),
            (user, assistant, lambda: (flip(m) for m in view(per_thread, seed))),
        ]

    return threads


def _group_chat(per_thread: int, seed: int) -> tuple[list[Any], list[Thread]]:
    import autogen

    assistant, _ = make_agents()
    names = ["assistant", *(f"peer{i}" for i in range(1, GROUP_PEERS))]
    members = [assistant, *(autogen.ConversableAgent(n, llm_config=False, human_input_mode="NEVER") for n in names[1:])]
    manager = autogen.GroupChatManager(autogen.GroupChat(agents=members, messages=[]), llm_config=False)
    turns = list(group_turns(per_thread, seed, len(names)))  # (one thread's worth: ~1/12 of the file)
    threads: list[Thread] = []
    for agent in members:  # save_session(path, *members, manager) writes the members' threads, then the manager's
        threads.append((agent, manager, lambda o=agent.name: group_view(turns, names, o, False)))
    for agent in members:
        threads.append((manager, agent, lambda o=agent.name: group_view(turns, names, o, True)))
    return [*members, manager], threads


def _one_thread(per_thread: int, seed: int) -> tuple[list[Any], list[Thread]]:
    assistant, user = make_agents()  # save_session(path, assistant): the assistant's view of its chat only
    return [assistant], [(assistant, user, lambda: assistant_view(per_thread, seed))]


SEVERAL_PEERS = 3


def _several_peers(per_thread: int, seed: int) -> tuple[list[Any], list[Thread]]:
    import autogen

    assistant, user = make_agents()
    users = [user, *(autogen.UserProxyAgent(f"user{i}", human_input_mode="NEVER", code_execution_config=False)
                     for i in range(2, SEVERAL_PEERS + 1))]
    threads: list[Thread] = []
    for i, u in enumerate(users):  # save_session(path, assistant, *users): the assistant's threads, then the users'
        threads.append((assistant, u, lambda i=i: assistant_view(per_thread, seed + i)))
    for i, u in enumerate(users):
        threads.append((u, assistant, lambda i=i: (flip(m) for m in assistant_view(per_thread, seed + i))))
    return [assistant, *users], threads


def _sequential(names: list[tuple[str, str]], views: list[Iterator[Message]]) -> Iterator[dict[str, Any]]:
    """The threads one after the other, as ``write_session`` writes threads given as iterators."""
    from agent_ft_cli import session as fmt

    for (agent, peer), view in zip(names, views, strict=True):
        yield from (fmt.message_record(agent, peer, m) for m in view)


CHAT = 8  # messages of each view per short chat


def _short_chats(names: list[tuple[str, str]], views: list[Iterator[Message]]) -> Iterator[dict[str, Any]]:
    """A long-running service's recording: per chat a ``clear`` of each view (one chat in five replaces its history
    in place: ``"rewrite": true``), then the views' ``CHAT`` messages record by record."""
    from agent_ft_cli import session as fmt

    rounds = zip(*views, strict=True)
    for chat in itertools.count():
        batch = list(itertools.islice(rounds, CHAT))
        if not batch:
            return
        for agent, peer in names:
            yield fmt.clear_record(agent, peer, rewrite=chat % 5 == 4)
        for row in batch:
            yield from (fmt.message_record(a, p, m) for (a, p), m in zip(names, row, strict=True))


Thread = tuple[Any, Any, Callable[[], Iterator[Message]]]
"""(agent, peer, a fresh iterator over ``agent.chat_messages[peer]``)."""

LAYOUTS: dict[str, Callable[[list[tuple[str, str]], list[Iterator[Message]]], Iterator[dict[str, Any]]]] = {
    # shapes whose records are not the round-robin save_session writes for equal threads; written by write_records
    "sequential": _sequential,
    "short-chats": _short_chats,
}

SHAPES: dict[str, tuple[Callable[[int, int], tuple[list[Any], list[Thread]]], int, str]] = {
    # name: (agents and threads, bytes per message record (about), what it is)
    "mixed": (
        _two_agent(assistant_view),
        510,
        "assistant/user, both views, long-tailed sizes (~200/600 chars), ~15% of exchanges through a tool call",
    ),
    "uniform-interleaved": (
        _two_agent(uniform_view),
        400,
        "assistant/user, both views, every message ~300 characters (~400-byte lines), plain text",
    ),
    "group-chat": (
        _group_chat,
        400,
        f"{GROUP_PEERS} agents through a GroupChatManager, every agent's thread and the manager's ({2 * GROUP_PEERS} threads)",
    ),
    "long-messages": (
        _two_agent(long_view),
        40_000,
        "assistant/user, both views, few messages of 10-100 KB each",
    ),
    "two-threads": (
        _two_agent(lambda n, seed: uniform_view(n, seed, 740)),
        935,
        "issue #21's shape: assistant/user, both views, ~740-character messages (200k messages ~187 MB)",
    ),
    "sequential": (
        _two_agent(lambda n, seed: uniform_view(n, seed, 740)),
        935,
        "as two-threads, but the assistant's whole thread first, then the user's (write_session of iterators)",
    ),
    "one-thread": (_one_thread, 510, "the assistant's view only (save_session(path, assistant)), mixed sizes"),
    "short-chats": (
        _two_agent(assistant_view),
        480,
        f"assistant/user, both views, a clear of each before every chat of {CHAT} messages, one in five a rewrite",
    ),
    "several-peers": (
        _several_peers,
        510,
        f"one assistant with {SEVERAL_PEERS} user proxies, both views of each chat ({2 * SEVERAL_PEERS} threads)",
    ),
}
DEFAULT_SHAPE = "mixed"


def messages_for(shape: str, megabytes: float) -> int:
    """About how many message records make a session of ``megabytes`` MB in ``shape`` (a whole number of rounds)."""
    _, per_record, _ = SHAPES[shape]
    rounds = {"group-chat": 2 * GROUP_PEERS, "one-thread": 1, "several-peers": 2 * SEVERAL_PEERS}.get(shape, 2)
    if shape == "short-chats":
        rounds *= CHAT
    return max(rounds, round(megabytes * 1e6 / per_record / rounds) * rounds)


def generate(
    path: Path | str, messages: int, *, seed: int = 0, writer: str = "save_session", shape: str = DEFAULT_SHAPE
) -> dict[str, Any]:
    """Write a session of ``messages`` message records (all threads) in ``shape`` to ``path``; returns a summary.

    Every thread holds the same number of messages (``messages`` must divide evenly among them)."""
    from agent_ft_cli import save_session
    from agent_ft_cli import session as fmt
    from agent_ft_cli.classic.recorder import describe_agent

    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; use one of {', '.join(SHAPES)}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    build, _, _ = SHAPES[shape]
    _, probe = build(1, seed)
    if messages < len(probe) or messages % len(probe):
        raise ValueError(f"messages must be a multiple of {len(probe)} (the threads of shape {shape}), at least that")
    per_thread = messages // len(probe)
    agents, threads = build(per_thread, seed)
    if shape == "sequential" and writer == "save_session":  # write_session's own layout for threads as iterators
        import autogen

        header = fmt.make_header([describe_agent(a) for a in agents], autogen_version=getattr(autogen, "__version__", None))
        fmt.write_session(path, header, [(a.name, p.name, view()) for a, p, view in threads])
    elif shape in LAYOUTS or writer == "stream":
        import autogen

        header = fmt.make_header([describe_agent(a) for a in agents], autogen_version=getattr(autogen, "__version__", None))
        names = [(agent.name, peer.name) for agent, peer, _ in threads]
        views = [view() for _, _, view in threads]
        if shape in LAYOUTS:
            records = LAYOUTS[shape](names, views)
        else:  # the layout save_session writes (equal threads, end-aligned: round-robin), flat memory
            rounds = zip(*views, strict=True)
            records = (fmt.message_record(a, p, m) for row in rounds for (a, p), m in zip(names, row, strict=True))
        fmt.write_records(path, header, records)
    elif writer == "save_session":
        for agent, peer, view in threads:
            agent.chat_messages[peer].extend(view())
        save_session(path, *agents)
    else:
        raise ValueError(f"unknown writer {writer!r}; use save_session or stream")
    return {
        "path": str(path),
        "shape": shape,
        "messages": messages,
        "threads": len(threads),
        "thread": per_thread,
        "bytes": path.stat().st_size,
        "seconds": round(time.perf_counter() - t0, 2),
        "writer": writer,
    }


def ensure(
    path: Path | str, messages: int, *, seed: int = 0, writer: str = "save_session", shape: str = DEFAULT_SHAPE
) -> Path:
    """Generate ``path`` unless a session with the same parameters is already there (a ``.params`` file beside it)."""
    path = Path(path)
    stamp = path.with_name(path.name + ".params")
    params = f"messages={messages} seed={seed} writer={writer} shape={shape} v=3"
    if path.exists() and stamp.exists() and stamp.read_text() == params:
        return path
    # in a child process: a big generation would otherwise leave this process (and the peak RSS that children
    # forked from it inherit on Linux) hundreds of MB large
    import subprocess

    argv = [sys.executable, "-m", "benchmarks.generate", "-n", str(messages), "-o", str(path), "--seed", str(seed)]
    subprocess.run([*argv, "--writer", writer, "--shape", shape], check=True, cwd=Path(__file__).resolve().parent.parent)
    stamp.write_text(params)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.generate", description=__doc__.split("\n\n")[0])
    size = ap.add_mutually_exclusive_group(required=True)
    size.add_argument("--messages", "-n", type=int, help="message records in the file (all threads)")
    size.add_argument("--size", type=float, help="about this many MB (the shape's message count for it)")
    ap.add_argument("--shape", choices=list(SHAPES), default=DEFAULT_SHAPE, help="who talks to whom, message sizes")
    ap.add_argument("--out", "-o", required=True, help="session file to write (keep it outside the repo)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--writer", choices=("save_session", "stream"), default="save_session")
    args = ap.parse_args(argv)
    messages = args.messages if args.messages is not None else messages_for(args.shape, args.size)
    info = generate(args.out, messages, seed=args.seed, writer=args.writer, shape=args.shape)
    print(
        f"{info['path']}: {info['shape']}, {info['messages']} messages ({info['thread']} in each of "
        f"{info['threads']} threads), "
        f"{info['bytes'] / 1e6:.1f} MB in {info['seconds']} s via {info['writer']}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
