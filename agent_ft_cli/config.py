"""YAML pair configs: two agents, which one is updated, and optionally the client that powers it.

::

    agents:
      assistant:
        class: AssistantAgent            # short autogen name or an import path "pkg.mod:Class"
        system_message: You are a helpful assistant.
        human_input_mode: NEVER
        llm_config:
          config_list:
            - model: local-model
              model_client_cls: LocalLearningClient
              api_key: ${MY_API_KEY}      # ${VAR} or ${VAR:-default}; $$ for a literal $
      user:
        class: UserProxyAgent
        code_execution_config: false
        max_consecutive_auto_reply: 0
    update: assistant                    # the agent whose model is updated
    peer: user                           # whose thread with it is used
    client:
      path: agent_ft_cli.local:LocalLearningClient
      args: {state_path: .agent-ft/local-model.json}
    chat:
      initiator: user                    # who sends the first message in `agent-ft record` (default: the peer)
      max_turns: 1

Loaded with ``yaml.safe_load`` only (a ``!!python/...`` tag is refused, never executed). ``${VAR}`` is expanded in
string values after parsing, so an environment value can never change the structure. Unknown keys and wrong
types are errors that name the key path.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError
from .redact import REDACTED, is_secret_key, remember_secrets, scrub_known

KNOWN_CLASSES = ("ConversableAgent", "AssistantAgent", "UserProxyAgent")
HUMAN_INPUT_MODES = ("ALWAYS", "TERMINATE", "NEVER")

_AGENT_KEYS: dict[str, tuple[type, ...]] = {
    "class": (str,),
    "system_message": (str, type(None)),
    "human_input_mode": (str,),
    "llm_config": (dict, bool, type(None)),
    "description": (str, type(None)),
    "max_consecutive_auto_reply": (int, type(None)),
    "code_execution_config": (dict, bool),
    "default_auto_reply": (str, dict),
    "kwargs": (dict,),
}
_TOP_KEYS = {"version", "agents", "update", "peer", "client", "chat"}
_CLIENT_KEYS: dict[str, tuple[type, ...]] = {"path": (str,), "args": (dict,)}
_CHAT_KEYS: dict[str, tuple[type, ...]] = {"initiator": (str,), "max_turns": (int, type(None)), "clear_history": (bool,), "silent": (bool,)}

_ENV = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-(.*?))?\}")


@dataclass
class AgentConfig:
    """An agent to build: from a config's ``agents:`` entry, or from a session header's definition
    (:meth:`from_definition`); :meth:`definition` is the way back. The two are the one mapping between them."""

    name: str
    cls: str = "ConversableAgent"
    system_message: str | None = None
    human_input_mode: str = "NEVER"
    llm_config: dict[str, Any] | bool | None = False
    description: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_definition(cls, d: Mapping[str, Any]) -> AgentConfig:
        """The agent a session header defines (:class:`~agent_ft_cli.types.AgentDefinition`)."""
        return cls(
            name=d["name"],
            cls=d.get("class") or "ConversableAgent",
            system_message=d.get("system_message"),
            human_input_mode=d.get("human_input_mode") or "NEVER",
            llm_config=d.get("llm_config") or False,
            description=d.get("description"),
        )

    def definition(self) -> dict[str, Any]:
        """The agent as a session header defines it (for pair inference)."""
        return {"name": self.name, "class": self.cls, "llm_config": self.llm_config, "system_message": self.system_message}


@dataclass
class PairConfig:
    agents: dict[str, AgentConfig]
    update: str | None = None
    peer: str | None = None
    client_path: str | None = None
    client_args: dict[str, Any] = field(default_factory=dict)
    chat: dict[str, Any] = field(default_factory=dict)
    source: Path | None = None

    def header_agents(self) -> list[dict[str, Any]]:
        """The agents as session-header definitions (for pair inference)."""
        return [a.definition() for a in self.agents.values()]


def _type_name(types: tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", bool: "true/false", dict: "a mapping", list: "a list"}
    return " or ".join(names.get(t, "null") for t in types)


def _check_type(where: str, key: str, value: Any, types: tuple[type, ...]) -> None:
    ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types and int in types)
    if not ok:
        shown = "" if is_secret_key(key.rsplit(".", 1)[-1]) else f" {value!r}"
        raise ConfigError(f"{where}: key '{key}' must be {_type_name(types)}, got {type(value).__name__}{shown}")


def expand_env(value: Any, where: str, key_path: str = "") -> Any:
    """Expand ``${VAR}`` / ``${VAR:-default}`` in every string of a parsed YAML tree."""
    if isinstance(value, str):

        def sub(m: re.Match[str]) -> str:
            if m.group(0) == "$$":
                return "$"
            var, default = m.group(1), m.group(2)
            got = os.environ.get(var)
            if got is None or (got == "" and default is not None):
                if default is not None:
                    return default
                raise ConfigError(
                    f"{where}: key '{key_path}' uses ${{{var}}}, which is not set; export {var} or write "
                    f"${{{var}:-default}}"
                )
            return got

        return _ENV.sub(sub, value)
    if isinstance(value, dict):
        return {k: expand_env(v, where, f"{key_path}.{k}" if key_path else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_env(v, where, f"{key_path}[{i}]") for i, v in enumerate(value)]
    return value


MAX_YAML_VALUES = 1_000_000


def _expanded_size(value: Any, memo: dict[int, int]) -> int:
    """How many values the tree holds once YAML aliases are expanded (each shared node counted where it is used),
    computed once per distinct node."""
    if not isinstance(value, (dict, list)):
        return 1
    known = memo.get(id(value))
    if known is None:
        memo[id(value)] = 1  # a node that contains itself counts once
        children = value.values() if isinstance(value, dict) else value
        known = memo[id(value)] = 1 + sum(_expanded_size(v, memo) for v in children)
    return known


def parse_yaml(text: str, where: str) -> Any:
    """``yaml.safe_load`` with errors that give the line and column; a document whose aliases expand to more than
    :data:`MAX_YAML_VALUES` values (a "billion laughs") is refused."""
    try:
        data = yaml.safe_load(text)
        if _expanded_size(data, {}) > MAX_YAML_VALUES:
            raise ConfigError(
                f"{where}: YAML aliases expand to more than {MAX_YAML_VALUES:,} values; write the data out instead"
            )
        return data
    except RecursionError:
        raise ConfigError(f"{where}: YAML nested too deeply to read") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        pos = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        if isinstance(e, yaml.constructor.ConstructorError):
            raise ConfigError(
                f"{where}{pos}: {_safe_problem(str(e.problem), text, e)} (tags such as !!python/... are refused; "
                "YAML is loaded safely)"
            ) from None
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError(f"{where}{pos}: invalid YAML: {_safe_problem(problem, text, e)}") from None


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_SECRET_LINE = re.compile(r"^[\s\-{,]*[\"']?([A-Za-z0-9_.\-]+)[\"']?\s*:")


def _safe_problem(problem: str, text: str, error: Any) -> str:
    """A YAML error's problem, safe to print: what it quotes from a line that holds a secret-named key (``api_key:
    *sk-...`` gives "found undefined alias 'sk-...'") is replaced, and so is anything that looks like a credential."""
    lines = text.splitlines()
    near: set[int] = set()
    for attr in ("problem_mark", "context_mark"):
        mark = getattr(error, attr, None)
        if mark is not None:
            near.update({mark.line - 1, mark.line})
    for i in near:
        if 0 <= i < len(lines):
            m = _SECRET_LINE.match(lines[i])
            if m and is_secret_key(m.group(1)):
                problem = _QUOTED.sub(lambda q: f"{q.group(0)[0]}{REDACTED}{q.group(0)[0]}", problem)
                break
    return scrub_known(problem)


@contextlib.contextmanager
def errors_name(source: Path | None) -> Iterator[None]:
    """Prefix a :class:`ConfigError` raised inside (building agents from the config, say) with the config's path."""
    try:
        yield
    except ConfigError as e:
        if source is None or e.message.startswith(str(source)):
            raise
        raise ConfigError(f"{source}: {e.message}", hint=e.hint) from e.__cause__


def load_config(path: str | os.PathLike[str], *, on_text: Callable[[str], None] | None = None) -> PairConfig:
    """Read and validate a YAML pair config (``on_text`` gets its text as read: a run record hashes it)."""
    from .errors import UsageError
    from .fsutil import read_text

    p = Path(path)
    if str(path) == "-":  # stdin carries a session or preference data in the commands that read one
        raise UsageError("config '-': a config is not read from stdin; give the YAML file's path")
    text = read_text(p, noun="config file", error=ConfigError, kind="a YAML file")
    if on_text is not None:
        on_text(text)
    data = parse_yaml(text, str(p))
    cfg = config_from_dict(data, str(p))
    cfg.source = p
    return cfg


def config_from_dict(data: Any, where: str = "config") -> PairConfig:
    """Validate an already-parsed config mapping; secret values never appear in its error messages."""
    remember_secrets(data)
    try:
        return _config_from_dict(data, where)
    except ConfigError as e:
        raise ConfigError(scrub_known(e.message), hint=e.hint) from None
    except RecursionError:
        raise ConfigError(f"{where}: config nested too deeply to read") from None


def _config_from_dict(data: Any, where: str) -> PairConfig:
    if data is None:
        raise ConfigError(f"{where}: config is empty; it needs at least an 'agents' mapping")
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: the config must be a mapping with an 'agents' key, got {type(data).__name__}")
    unknown = sorted(set(map(str, data)) - _TOP_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key '{unknown[0]}'; allowed: {', '.join(sorted(_TOP_KEYS))}")
    data = expand_env(data, where)
    remember_secrets(data)
    version = data.get("version", 1)
    if version != 1:
        raise ConfigError(f"{where}: key 'version' must be 1, got {version!r}")
    agents_raw = data.get("agents")
    if not isinstance(agents_raw, dict) or not agents_raw:
        raise ConfigError(f"{where}: key 'agents' must be a mapping of agent name to its settings")
    agents: dict[str, AgentConfig] = {}
    for name, spec in agents_raw.items():
        agents[str(name)] = _agent(where, str(name), spec)
    update = data.get("update")
    peer = data.get("peer")
    for key, value in (("update", update), ("peer", peer)):
        if value is not None:
            _check_type(where, key, value, (str,))
            if value not in agents:
                raise ConfigError(f"{where}: key '{key}' names agent {value!r}, not defined under 'agents' ({', '.join(agents)})")
    if update is not None and update == peer:
        raise ConfigError(f"{where}: keys 'update' and 'peer' name the same agent {update!r}")
    client_path, client_args = None, {}
    if "client" in data:
        client = data["client"]
        if isinstance(client, str):
            client_path = client
        elif isinstance(client, dict):
            _check_keys(where, "client", client, _CLIENT_KEYS)
            client_path = client.get("path")
            client_args = dict(client.get("args") or {})
        else:
            raise ConfigError(f"{where}: key 'client' must be an import path string or a mapping with 'path' and 'args'")
    chat = data.get("chat") or {}
    if not isinstance(chat, dict):
        raise ConfigError(f"{where}: key 'chat' must be a mapping")
    _check_keys(where, "chat", chat, _CHAT_KEYS)
    if "initiator" in chat and chat["initiator"] not in agents:
        raise ConfigError(f"{where}: key 'chat.initiator' names agent {chat['initiator']!r}, not defined under 'agents'")
    return PairConfig(
        agents=agents,
        update=update,
        peer=peer,
        client_path=client_path,
        client_args=client_args,
        chat=dict(chat),
    )


def _check_keys(where: str, prefix: str, mapping: dict[str, Any], allowed: dict[str, tuple[type, ...]]) -> None:
    for key, value in mapping.items():
        if key not in allowed:
            raise ConfigError(f"{where}: unknown key '{prefix}.{key}'; allowed: {', '.join(allowed)}")
        _check_type(where, f"{prefix}.{key}", value, allowed[key])


# Keys of an llm_config (or one config_list entry) that autogen needs as text; anything else there is checked by
# autogen itself when the agents are built. Checked here so that `validate` and `update` refuse the same configs.
_LLM_STRING_KEYS = ("api_key", "base_url", "model", "api_type", "api_version", "model_client_cls")


def _check_llm_strings(where: str, prefix: str, mapping: dict[str, Any]) -> None:
    """Worded as autogen's own (pydantic) refusal that ``update`` printed when it built the agents, never with the
    value (it may be a secret)."""
    for key in _LLM_STRING_KEYS:
        value = mapping.get(key)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{where}: {prefix}.{key}: Input should be a valid string (got {type(value).__name__})")


def _agent(where: str, name: str, spec: Any) -> AgentConfig:
    prefix = f"agents.{name}"
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        raise ConfigError(f"{where}: key '{prefix}' must be a mapping of agent settings, got {type(spec).__name__}")
    _check_keys(where, prefix, spec, _AGENT_KEYS)
    cls = spec.get("class", "ConversableAgent")
    if ":" not in cls and "." not in cls and cls not in KNOWN_CLASSES:
        raise ConfigError(
            f"{where}: key '{prefix}.class': unknown agent class {cls!r}; use one of {', '.join(KNOWN_CLASSES)} "
            "or an import path such as 'mypkg.agents:MyAgent'"
        )
    mode = spec.get("human_input_mode", "NEVER")
    if mode not in HUMAN_INPUT_MODES:
        raise ConfigError(f"{where}: key '{prefix}.human_input_mode' must be one of {', '.join(HUMAN_INPUT_MODES)}")
    llm_config = spec.get("llm_config", False)
    if llm_config is True:
        raise ConfigError(f"{where}: key '{prefix}.llm_config' must be a mapping with 'config_list' or false")
    if isinstance(llm_config, dict):
        entries = llm_config.get("config_list")
        if entries is not None and (
            not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries)
        ):
            raise ConfigError(f"{where}: key '{prefix}.llm_config.config_list' must be a list of mappings")
        _check_llm_strings(where, f"{prefix}.llm_config", llm_config)
        for i, entry in enumerate(entries or []):
            _check_llm_strings(where, f"{prefix}.llm_config.config_list[{i}]", entry)
    extra = {k: spec[k] for k in ("max_consecutive_auto_reply", "code_execution_config", "default_auto_reply") if k in spec}
    extra.update(spec.get("kwargs") or {})
    return AgentConfig(
        name=name,
        cls=cls,
        system_message=spec.get("system_message"),
        human_input_mode=mode,
        llm_config=llm_config,
        description=spec.get("description"),
        extra=extra,
    )
