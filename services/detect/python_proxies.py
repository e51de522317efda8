"""Model-access relays in Python app code, found with ``ast``.

A relay is a call to a model provider (an SDK client method, or an HTTP request to a provider
host or an overridden ``base_url``) made with a credential the app holds (environment
variable / Space secret, ``st.secrets``, or a literal) in an app with a public interface.
A key the visitor types in (a function parameter fed by a textbox) is not a relay.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from services.detect.providers import (
    CALL_PATHS,
    CREDENTIAL_HEADERS,
    CREDENTIAL_PARAMS,
    DEFAULT_KEY_ENV,
    HTTP_METHODS,
    PY_CLIENTS,
    PY_MODULES,
    ClientClass,
)
from services.detect.relays import (
    Relay,
    best_source,
    default_base,
    http_relay_for_url,
    literal_credential,
    relay_for_url,
)

INTERFACES: dict[str, str] = {
    "gradio": "gradio",
    "streamlit": "streamlit",
    "fastapi": "fastapi",
    "flask": "flask",
    "chainlit": "chainlit",
    "django": "django",
    "starlette": "starlette",
    "quart": "quart",
    "sanic": "sanic",
    "tornado": "tornado",
    "aiohttp.web": "aiohttp",
    "fasthtml": "fasthtml",
    "panel": "panel",
    "shiny": "shiny",
    "nicegui": "nicegui",
    "solara": "solara",
    "dash": "dash",
    "mesop": "mesop",
    "litserve": "litserve",
}
_ENV_CALLS = frozenset(
    {
        "os.getenv",
        "os.environ.get",
        "os.environ.setdefault",
        "decouple.config",
        "environs.Env",
        "dotenv.get_key",
        "os.environ.__getitem__",
    }
)
_SECRET_CALLS = frozenset({"streamlit.secrets.get", "google.colab.userdata.get"})
_CHOICE_WIDGETS = frozenset({"Dropdown", "Radio", "selectbox", "radio", "select_slider", "CheckboxGroup"})
_MAX_DEPTH = 6

Scope = ast.AST
"""The function (or module) whose local assignments a name is looked up in."""
_SCOPE_TYPES = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda})
_CALL_METHODS = frozenset(suffix[-1] for suffix, _, _ in CALL_PATHS)


@dataclass
class _Client:
    provider: str
    spec: ClientClass
    key: ast.expr | None
    base: ast.expr | None
    models: list[ast.expr]
    scope: Scope
    node: ast.Call


@dataclass
class _ModuleConfig:
    key: ast.expr | None = None
    base: ast.expr | None = None
    scope: Scope | None = None


@dataclass
class PythonAnalysis:
    relays: list[Relay] = field(default_factory=list)
    interface: str | None = None


def analyze_python(source: str) -> PythonAnalysis:
    """Relays and the public interface of one Python module; empty when it does not parse."""
    pruned = prune_irrelevant_blocks(source)
    for text in (pruned, source) if pruned is not source else (source,):
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        try:
            return _Analyzer(tree).run()
        except RecursionError:
            return PythonAnalysis()
    return PythonAnalysis()


_BLOCK_START = re.compile(r"(?:async[ \t]+def|def|class)[ \t]|@")
_CONTINUATION = re.compile(r"[ \t]|#|[)\]}]|$")
_RELEVANT = re.compile(
    r"api_key|api_token|token\s*=|environ|getenv|secrets|userdata|[Aa]uthorization|api-key|headers|base_url|"
    r"\.create\(|\.parse\(|\.stream\(|generate_|\.complete\(|\.chat|\.run\(|\.post\(|\.request\(|requests|httpx|"
    r"aiohttp|urlopen|Request\(|Client\(|OpenAI|Anthropic|Groq|Mistral|[Cc]ohere|genai|GenerativeModel|replicate|"
    r"Together|ElevenLabs|Chat[A-Z]|Dropdown|selectbox|Radio|text_generation|text_to_|configure\(|self\.\w*client"
)


def prune_irrelevant_blocks(source: str) -> str:
    """Blank out top-level ``def``/``class`` blocks that cannot take part in a relay (line numbers kept).

    Parsing is most of the cost of relay detection, and most of a large module is helpers that
    never touch a provider, a credential or a model picker. Module-level statements are always
    kept (imports, constants, UI wiring). If the pruned text does not parse, the caller parses
    the original.
    """
    lines = source.split("\n")
    keep = [True] * len(lines)
    index = 0
    while index < len(lines):
        if not _BLOCK_START.match(lines[index]):
            index += 1
            continue
        end = index + 1
        while end < len(lines) and (_CONTINUATION.match(lines[end]) or _BLOCK_START.match(lines[end - 1])):
            end += 1
        if not _RELEVANT.search("\n".join(lines[index:end])):
            keep[index:end] = [False] * (end - index)
        index = end
    if all(keep):
        return source
    return "\n".join(line if kept else "" for line, kept in zip(lines, keep, strict=True))


class _Analyzer:
    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.aliases: dict[str, str] = {}
        self.interface: str | None = None
        self.assignments: dict[Scope, dict[str, list[ast.expr]]] = defaultdict(lambda: defaultdict(list))
        self.self_attrs: dict[str, list[ast.expr]] = defaultdict(list)
        self.clients: dict[str, list[_Client]] = defaultdict(list)
        self.all_clients: list[_Client] = []
        self.module_config: dict[str, _ModuleConfig] = defaultdict(_ModuleConfig)
        self.choices: list[str] = []
        self.functions: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = defaultdict(list)
        self.calls: list[ast.Call] = []
        self.assigns: list[ast.Assign | ast.AnnAssign] = []
        self.imports: list[ast.Import | ast.ImportFrom] = []
        self.scopes: dict[ast.AST, Scope] = {}
        self.parents: dict[ast.AST, ast.AST] = {}
        self._index()

    def _index(self) -> None:
        """One pass over the tree: the nodes the analysis needs, each with its scope (calls: their parent)."""
        stack: list[tuple[ast.AST, Scope]] = [(self.tree, self.tree)]
        while stack:
            node, scope = stack.pop()
            kind = type(node)
            if kind is ast.Call:
                self.calls.append(node)  # type: ignore[arg-type]
                self.scopes[node] = scope
            elif kind is ast.Assign or kind is ast.AnnAssign:
                self.assigns.append(node)  # type: ignore[arg-type]
                self.scopes[node] = scope
            elif kind is ast.Import or kind is ast.ImportFrom:
                self.imports.append(node)  # type: ignore[arg-type]
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self.functions[node.name].append(node)
            inner = node if kind in _SCOPE_TYPES else scope
            for name in node._fields:
                value = getattr(node, name, None)
                if type(value) is list:
                    for item in value:
                        if isinstance(item, ast.AST):
                            stack.append((item, inner))
                            if type(item) is ast.Call:
                                self.parents[item] = node
                elif isinstance(value, ast.AST):
                    stack.append((value, inner))
                    if type(value) is ast.Call:
                        self.parents[value] = node
        order = _source_order
        self.calls.sort(key=order)
        self.assigns.sort(key=order)
        self.imports.sort(key=order)

    # ---- collection -------------------------------------------------------------------
    def run(self) -> PythonAnalysis:
        self._collect_imports()
        self._collect_assignments()
        self._collect_clients_and_choices()
        relays: list[Relay] = []
        for call in self.calls:
            relay = self._sdk_call(call) or self._http_call(call)
            if relay is not None:
                relays.append(relay)
        for client in self.all_clients:
            if client.spec.calls_on_construction:
                relay = self._relay_from_client(client, client.node, (), self._path_for_client(client))
                if relay is not None:
                    relays.append(relay)
        return PythonAnalysis(relays, self.interface)

    def _collect_imports(self) -> None:
        for node in self.imports:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    self.aliases[alias.asname or alias.name.split(".", 1)[0]] = (
                        alias.name if alias.asname else alias.name.split(".", 1)[0]
                    )
                    self._note_interface(alias.name)
            elif isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                    self._note_interface(f"{node.module}.{alias.name}")

    def _note_interface(self, module: str) -> None:
        if self.interface is not None:
            return
        for name, interface in INTERFACES.items():
            if module == name or module.startswith(name + "."):
                self.interface = interface
                return

    def _collect_assignments(self) -> None:
        for node in self.assigns:
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                targets, value = [node.target], node.value
            else:
                continue
            scope = self._scope_of(node)
            for target in targets:
                if isinstance(target, ast.Name):
                    self.assignments[scope][target.id].append(value)
                elif isinstance(target, ast.Attribute):
                    if isinstance(target.value, ast.Name) and target.value.id == "self":
                        self.self_attrs[target.attr].append(value)
                    root = self._qualified(target.value)
                    if root in PY_MODULES:
                        config = self.module_config[PY_MODULES[root]]
                        if target.attr == "api_key":
                            config.key, config.scope = value, scope
                        elif target.attr in ("api_base", "base_url"):
                            config.base = value

    def _collect_clients_and_choices(self) -> None:
        for node in self.calls:
            name = self._qualified(node.func)
            last = name.rsplit(".", 1)[-1]
            if last in _CHOICE_WIDGETS:
                self._collect_choices(node)
            if last == "configure" and self._module_provider(name) == "google":
                config = self.module_config["google"]
                config.key, config.scope = _kwarg(node, "api_key"), self._scope_of(node)
            client = self._client(node, name)
            if client is None:
                continue
            self.all_clients.append(client)
            parent = self.parents.get(node)
            if isinstance(parent, ast.Assign | ast.AnnAssign):
                targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
                for target in targets:
                    self.clients[_target_name(target)].append(client)
            elif isinstance(parent, ast.withitem) and parent.optional_vars is not None:
                self.clients[_target_name(parent.optional_vars)].append(client)

    def _collect_choices(self, call: ast.Call) -> None:
        """Choices of a model picker (a dropdown labelled, named or filled with "model…")."""
        choices = _kwarg(call, "choices") or _kwarg(call, "options") or (call.args[0] if call.args else None)
        if choices is None:
            return
        label = _kwarg(call, "label")
        parent = self.parents.get(call)
        hints = [
            ast.unparse(choices),
            ast.unparse(label) if label is not None else "",
            ast.unparse(call.args[1]) if len(call.args) > 1 else "",
            " ".join(_target_name(t) for t in parent.targets) if isinstance(parent, ast.Assign) else "",
        ]
        if any("model" in hint.lower() for hint in hints):
            self.choices.extend(self._strings(choices, self._scope_of(call), 0))

    def _client(self, call: ast.Call, name: str) -> _Client | None:
        last = name.rsplit(".", 1)[-1]
        spec = PY_CLIENTS.get(last)
        if spec is None or "." not in name:
            return None
        module_provider = self._module_provider(name)
        provider = spec.provider or (module_provider or "")
        if not provider or (module_provider is None and not name.startswith(("langchain", "llama_index"))):
            return None
        key = next((v for a in spec.key_args if (v := _kwarg(call, a)) is not None), None)
        if key is None and last in ("Client", "ClientV2", "AsyncClient") and call.args:
            key = call.args[0]
        base = next((v for a in spec.base_args if (v := _kwarg(call, a)) is not None), None)
        models = [v for a in spec.model_args if (v := _kwarg(call, a)) is not None]
        if last == "GenerativeModel" and call.args:
            models.append(call.args[0])
        return _Client(provider, spec, key, base, models, self._scope_of(call), call)

    def _module_provider(self, qualified: str) -> str | None:
        best: str | None = None
        for module in PY_MODULES:
            if (qualified == module or qualified.startswith(module + ".")) and (
                best is None or len(module) > len(best)
            ):
                best = module
        return PY_MODULES[best] if best is not None else None

    # ---- SDK calls ----------------------------------------------------------------------
    def _sdk_call(self, call: ast.Call) -> Relay | None:
        chain = _attribute_chain(call.func)
        if chain is None or len(chain[1]) == 0:
            return None
        root, attrs = chain
        if attrs[-1] not in _CALL_METHODS:
            return None
        client = self._client_for_root(root, attrs)
        if client is None:
            return None
        for suffix, family, path in CALL_PATHS:
            if tuple(attrs[-len(suffix) :]) == suffix and (family == "" or family == client.provider):
                if family == "" and client.provider in ("anthropic", "google", "cohere", "replicate", "elevenlabs"):
                    continue
                return self._relay_from_client(client, call, attrs, path)
        return None

    def _client_for_root(self, root: ast.expr, attrs: list[str]) -> _Client | None:
        if isinstance(root, ast.Call):
            made = next((c for c in self.all_clients if c.node is root), None)
            if made is not None:
                return made
            return None
        name = _target_name(root)
        if name in self.clients:
            return self.clients[name][-1]
        qualified = self._qualified(root)
        provider = self._module_provider(qualified) if qualified else None
        if provider is not None and qualified in PY_MODULES:
            spec = ClientClass(provider)
            config = self.module_config.get(provider, _ModuleConfig())
            return _Client(
                provider,
                spec,
                config.key,
                config.base,
                [],
                config.scope or self.tree,
                ast.Call(func=root, args=[], keywords=[]),
            )
        # A client built elsewhere in this file and passed around: link by method family.
        candidates = [c for c in self.all_clients if not c.spec.calls_on_construction]
        return candidates[-1] if len(candidates) == 1 or len({c.provider for c in candidates}) == 1 else None

    def _path_for_client(self, client: _Client) -> str:
        if client.provider == "anthropic":
            return "/messages"
        if client.provider == "google":
            return "/models/{model}:generateContent"
        return "/chat/completions"

    def _relay_from_client(
        self, client: _Client, call: ast.Call, attrs: tuple[str, ...] | list[str], path: str
    ) -> Relay | None:
        source = self._client_credential(client)
        if source is None:
            return None
        scope = self._scope_of(call)
        model_exprs = [v for a in ("model", "model_name", "model_id") if (v := _kwarg(call, a)) is not None]
        if not model_exprs and list(attrs[-1:]) == ["run"] and call.args:
            model_exprs.append(call.args[0])
        if not model_exprs and list(attrs[-1:]) in (["text_generation"], ["text_to_image"]) and len(call.args) > 1:
            model_exprs.append(call.args[1])
        models = [m for e in model_exprs for m in self._strings(e, scope, 0)]
        models += [m for e in client.models for m in self._strings(e, client.scope, 0)]
        base = self._string(client.base, client.scope, 0) if client.base is not None else None
        if client.provider == "azure_openai":
            base = (base or "https://{resource}.openai.azure.com").rstrip("/") + "/openai/deployments/{deployment}"
        elif client.provider == "huggingface" and path.startswith("/models/"):
            base = "https://router.huggingface.co/hf-inference"
        elif base is None or "://" not in base:
            base = default_base(client.provider)
        return relay_for_url(base.rstrip("/") + path, client.provider, source, call.lineno, call.col_offset + 1, models)

    def _client_credential(self, client: _Client) -> str | None:
        if client.key is not None:
            return self._credential(client.key, client.scope, 0)
        if client.spec.key_args == () and client.provider == "google":
            config = self.module_config.get("google")
            if config is not None and config.key is not None:
                return self._credential(config.key, config.scope or self.tree, 0)
        if client.provider == "huggingface":
            return None  # InferenceClient() without a token may run anonymously
        return "env" if client.provider in DEFAULT_KEY_ENV else None

    # ---- HTTP calls -------------------------------------------------------------------------
    def _http_call(self, call: ast.Call) -> Relay | None:
        func = call.func
        last = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if last not in HTTP_METHODS and last not in ("Request", "urlopen"):
            return None
        name = self._qualified(func)
        method = name.rsplit(".", 1)[-1] if name else (func.attr if isinstance(func, ast.Attribute) else "")
        url_expr: ast.expr | None
        if method == "request" or name in ("urllib.request.Request", "urllib.request.urlopen"):
            url_expr = _kwarg(call, "url")
            if url_expr is None and call.args:
                url_expr = call.args[0] if name.startswith("urllib") else call.args[min(1, len(call.args) - 1)]
        elif method in HTTP_METHODS and isinstance(func, ast.Attribute):
            url_expr = _kwarg(call, "url") or (call.args[0] if call.args else None)
        else:
            return None
        if url_expr is None:
            return None
        scope = self._scope_of(call)
        url = self._string(url_expr, scope, 0)
        if url is None or "://" not in url:
            return None
        source = self._http_credential(call, url_expr, scope)
        if source is None:
            return None
        models: list[str] = []
        for payload_name in ("json", "data", "body"):
            payload = self._dict(_kwarg(call, payload_name), scope, 0)
            if payload is not None:
                for key, value in _dict_items(payload):
                    if key in ("model", "model_name", "version"):
                        models.extend(self._strings(value, scope, 0))
        for formatted in _formatted_values(url_expr):
            if "model" in ast.unparse(formatted).lower():
                models.extend(self._strings(formatted, scope, 0))
        return http_relay_for_url(url.split("?", 1)[0], source, call.lineno, call.col_offset + 1, models)

    def _http_credential(self, call: ast.Call, url_expr: ast.expr, scope: Scope) -> str | None:
        sources: list[str | None] = []
        headers = self._dict(_kwarg(call, "headers"), scope, 0)
        if headers is not None:
            sources += [
                self._credential(v, scope, 0) for k, v in _dict_items(headers) if k.lower() in CREDENTIAL_HEADERS
            ]
        params = self._dict(_kwarg(call, "params"), scope, 0)
        if params is not None:
            sources += [self._credential(v, scope, 0) for k, v in _dict_items(params) if k.lower() in CREDENTIAL_PARAMS]
        auth = _kwarg(call, "auth")
        if auth is not None:
            sources.append(self._credential(auth, scope, 0))
        for formatted in _formatted_values(url_expr):
            if any(w in ast.unparse(formatted).lower() for w in ("key", "token", "secret")):
                sources.append(self._credential(formatted, scope, 0))
        return best_source(sources)

    # ---- value resolution -------------------------------------------------------------------
    def _credential(self, expr: ast.expr, scope: Scope, depth: int) -> str | None:
        """env | secret | hardcoded | user (typed in by the visitor) | None (unknown or a dummy)."""
        if depth > _MAX_DEPTH:
            return None
        depth += 1
        if isinstance(expr, ast.Constant):
            return literal_credential(expr.value)
        if isinstance(expr, ast.JoinedStr):
            parts: list[str | None] = []
            for value in expr.values:
                if isinstance(value, ast.FormattedValue):
                    parts.append(self._credential(value.value, scope, depth))
                elif isinstance(value, ast.Constant):
                    parts.append(literal_credential(str(value.value).replace("Bearer ", "").strip()))
            return best_source(parts)
        if isinstance(expr, ast.BinOp):
            return best_source([self._credential(expr.left, scope, depth), self._credential(expr.right, scope, depth)])
        if isinstance(expr, ast.BoolOp):
            return best_source([self._credential(v, scope, depth) for v in expr.values])
        if isinstance(expr, ast.IfExp):
            return best_source([self._credential(expr.body, scope, depth), self._credential(expr.orelse, scope, depth)])
        if isinstance(expr, ast.Tuple):
            return best_source([self._credential(v, scope, depth) for v in expr.elts])
        if isinstance(expr, ast.Call):
            name = self._qualified(expr.func)
            if name in _ENV_CALLS or name.endswith(("environ.get", ".getenv")) or name == "getenv":
                return "env"
            if name in _SECRET_CALLS or name.startswith("streamlit.secrets"):
                return "secret"
            if name.endswith(("strip", "format")) and isinstance(expr.func, ast.Attribute):
                return self._credential(expr.func.value, scope, depth)
            return None
        if isinstance(expr, ast.Subscript | ast.Attribute):
            name = self._qualified(expr.value if isinstance(expr, ast.Subscript) else expr)
            target = self._qualified(expr.value) if isinstance(expr, ast.Subscript) else name
            if target.startswith("os.environ") or target == "environ":
                return "env"
            if target.startswith("streamlit.secrets") or name.startswith("streamlit.secrets"):
                return "secret"
            if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "self":
                return best_source([self._credential(v, scope, depth) for v in self.self_attrs.get(expr.attr, [])])
            return None
        if isinstance(expr, ast.Name):
            values = self._lookup(expr.id, scope)
            found = best_source([self._credential(v, s, depth) for v, s in values or []])
            if found is None and self._is_parameter(expr.id, scope):
                return "user"
            return found
        return None

    def _lookup(self, name: str, scope: Scope) -> list[tuple[ast.expr, Scope]] | None:
        """Assignments to ``name`` visible from ``scope``: its own first, then the module's."""
        local = self.assignments.get(scope, {}).get(name)
        if local:
            return [(v, scope) for v in local]
        if scope is not self.tree and self._is_parameter(name, scope):
            default = self._parameter_default(name, scope)
            return None if default is None else [(default, self.tree)]
        module = self.assignments.get(self.tree, {}).get(name)
        return [(v, self.tree) for v in module] if module else None

    def _is_parameter(self, name: str, scope: Scope) -> bool:
        if not isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            return False
        args = scope.args
        return any(a.arg == name for a in (*args.posonlyargs, *args.args, *args.kwonlyargs))

    def _parameter_default(self, name: str, scope: Scope) -> ast.expr | None:
        if not isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            return None
        args = scope.args
        positional = [*args.posonlyargs, *args.args]
        pairs = list(zip(positional[len(positional) - len(args.defaults) :], args.defaults, strict=True))
        pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None]
        return next((d for a, d in pairs if a.arg == name), None)

    def _string(self, expr: ast.expr | None, scope: Scope, depth: int) -> str | None:
        """The string an expression evaluates to, with ``{placeholders}`` for what cannot be known."""
        if expr is None or depth > _MAX_DEPTH:
            return None
        depth += 1
        if isinstance(expr, ast.Constant):
            return expr.value if isinstance(expr.value, str) else None
        if isinstance(expr, ast.JoinedStr):
            out = []
            for value in expr.values:
                if isinstance(value, ast.Constant):
                    out.append(str(value.value))
                elif isinstance(value, ast.FormattedValue):
                    resolved = self._string(value.value, scope, depth)
                    out.append(resolved if resolved is not None else "{" + _placeholder(value.value) + "}")
            return "".join(out)
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            left, right = self._string(expr.left, scope, depth), self._string(expr.right, scope, depth)
            if left is None and right is None:
                return None
            return (left if left is not None else "{" + _placeholder(expr.left) + "}") + (
                right if right is not None else "{" + _placeholder(expr.right) + "}"
            )
        if isinstance(expr, ast.Name):
            values = self._lookup(expr.id, scope)
            if values:
                return self._string(values[-1][0], values[-1][1], depth)
            return None
        if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "self":
            values_ = self.self_attrs.get(expr.attr)
            return self._string(values_[-1], scope, depth) if values_ else None
        if isinstance(expr, ast.Call):
            name = self._qualified(expr.func)
            if (name.endswith(("getenv", "environ.get")) or name == "decouple.config") and len(expr.args) > 1:
                return self._string(expr.args[1], scope, depth)
            default = _kwarg(expr, "default")
            if name.endswith(("getenv", "environ.get")) and default is not None:
                return self._string(default, scope, depth)
            if isinstance(expr.func, ast.Attribute) and expr.func.attr in ("rstrip", "strip", "format"):
                return self._string(expr.func.value, scope, depth)
        if isinstance(expr, ast.BoolOp):
            for value in expr.values:
                resolved = self._string(value, scope, depth)
                if resolved is not None:
                    return resolved
        return None

    def _strings(self, expr: ast.expr, scope: Scope, depth: int) -> list[str]:
        """Every string an expression may take: literals, constants, list items, defaults, dropdown choices."""
        if depth > _MAX_DEPTH:
            return []
        depth += 1
        if isinstance(expr, ast.Constant):
            return [expr.value] if isinstance(expr.value, str) and expr.value.strip() else []
        if isinstance(expr, ast.List | ast.Tuple | ast.Set):
            return [s for e in expr.elts for s in self._strings(e, scope, depth)]
        if isinstance(expr, ast.Dict):
            return [s for k in expr.keys if k is not None for s in self._strings(k, scope, depth)]
        if isinstance(expr, ast.IfExp):
            return self._strings(expr.body, scope, depth) + self._strings(expr.orelse, scope, depth)
        if isinstance(expr, ast.BoolOp):
            return [s for v in expr.values for s in self._strings(v, scope, depth)]
        if isinstance(expr, ast.Subscript):
            return self._strings(expr.value, scope, depth)
        if isinstance(expr, ast.Name):
            values = self._lookup(expr.id, scope)
            if values is None:
                return list(self.choices) if self._is_parameter(expr.id, scope) else []
            found = [s for v, s_ in values for s in self._strings(v, s_, depth)]
            if self._is_parameter(expr.id, scope):
                found += self.choices
            return found
        if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "self":
            return [s for v in self.self_attrs.get(expr.attr, []) for s in self._strings(v, scope, depth)]
        resolved = self._string(expr, scope, depth)
        return [resolved] if resolved else []

    def _dict(self, expr: ast.expr | None, scope: Scope, depth: int) -> ast.Dict | None:
        if expr is None or depth > _MAX_DEPTH:
            return None
        if isinstance(expr, ast.Dict):
            return expr
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):
            for function in self.functions.get(expr.func.id, []):
                for returned in (n for n in ast.walk(function) if isinstance(n, ast.Return) and n.value is not None):
                    found = self._dict(returned.value, function, depth + 1)
                    if found is not None:
                        return found
        if isinstance(expr, ast.Name):
            values = self._lookup(expr.id, scope)
            if values:
                return self._dict(values[-1][0], values[-1][1], depth + 1)
        if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "self":
            values_ = self.self_attrs.get(expr.attr)
            return self._dict(values_[-1], scope, depth + 1) if values_ else None
        return None

    # ---- helpers ------------------------------------------------------------------------------
    def _scope_of(self, node: ast.AST) -> Scope:
        return self.scopes.get(node, self.tree)

    def _qualified(self, expr: ast.AST) -> str:
        """``st.secrets`` -> ``streamlit.secrets``; ``OpenAI`` -> ``openai.OpenAI``; "" if not a dotted name."""
        parts: list[str] = []
        while isinstance(expr, ast.Attribute):
            parts.append(expr.attr)
            expr = expr.value
        if not isinstance(expr, ast.Name):
            return ""
        parts.append(self.aliases.get(expr.id, expr.id))
        return ".".join(reversed(parts))


def _source_order(node: ast.AST) -> tuple[int, int]:
    return getattr(node, "lineno", 0), getattr(node, "col_offset", 0)


def _kwarg(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _target_name(target: ast.AST) -> str:
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
        return f"{target.value.id}.{target.attr}"
    return ""


def _attribute_chain(func: ast.expr) -> tuple[ast.expr, list[str]] | None:
    """``client.chat.completions.create`` -> (Name client, [chat, completions, create])."""
    attrs: list[str] = []
    while isinstance(func, ast.Attribute):
        attrs.append(func.attr)
        func = func.value
        if isinstance(func, ast.Name) and func.id == "self" and attrs:
            return ast.Attribute(value=func, attr=attrs.pop(), ctx=ast.Load()), list(reversed(attrs))
    return func, list(reversed(attrs))


def _dict_items(node: ast.Dict) -> Iterator[tuple[str, ast.expr]]:
    for key, value in zip(node.keys, node.values, strict=True):
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            yield key.value, value


def _formatted_values(expr: ast.expr) -> list[ast.expr]:
    if isinstance(expr, ast.JoinedStr):
        return [v.value for v in expr.values if isinstance(v, ast.FormattedValue)]
    if isinstance(expr, ast.BinOp):
        return [e for e in (expr.left, expr.right) if not isinstance(e, ast.Constant)]
    return []


def _placeholder(expr: ast.expr) -> str:
    text = ast.unparse(expr)
    return text if len(text) <= 40 else text[:40]
