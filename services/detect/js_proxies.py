"""Model-access relays in JavaScript/TypeScript server code, found lexically.

No parser: comments are blanked (strings kept, line numbers kept), then SDK constructors,
provider method calls and ``fetch``/``axios`` requests are read off balanced argument text.
Only server code relays: a file with no server interface (Express, Next.js route, Hono…)
runs in the visitor's browser, where a literal key is a credential leak, not a relay.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from services.detect.providers import DEFAULT_KEY_ENV, JS_CLIENTS
from services.detect.relays import (
    Relay,
    best_source,
    default_base,
    http_relay_for_url,
    literal_credential,
    relay_for_url,
)

_TOKENS = re.compile(r"//[^\n]*|/\*.*?\*/|'(?:\\.|[^'\\\n])*'|\"(?:\\.|[^\"\\\n])*\"|`(?:\\.|[^`\\])*`", re.DOTALL)
_INTERFACES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"""require\(\s*['"]express['"]\s*\)|from\s+['"]express['"]"""), "express"),
    (
        re.compile(
            r"""from\s+['"]next/server['"]|export\s+(?:async\s+)?function\s+(?:GET|POST|PUT|PATCH)\b|"""
            r"""export\s+default\s+(?:async\s+)?function\s+handler\b|NextApiRequest"""
        ),
        "nextjs",
    ),
    (re.compile(r"""from\s+['"]hono['"]|require\(\s*['"]hono['"]\s*\)"""), "hono"),
    (re.compile(r"""from\s+['"]fastify['"]|require\(\s*['"]fastify['"]\s*\)"""), "fastify"),
    (re.compile(r"""from\s+['"]koa['"]|require\(\s*['"]koa['"]\s*\)"""), "koa"),
    (re.compile(r"""\bhttp\.createServer\(|\bcreateServer\(|\bDeno\.serve\(|\bBun\.serve\("""), "node-http"),
    (re.compile(r"""export\s+default\s*\{\s*async\s+fetch\b"""), "workers"),
    (re.compile(r"""from\s+['"]@sveltejs/kit['"]|RequestHandler\b"""), "sveltekit"),
)
_CONST = re.compile(r"\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::\s*[\w<>\[\]|\s]+)?=\s*")
_CLIENT = re.compile(
    r"\b(?:new\s+("
    + "|".join(k for k in JS_CLIENTS if not k.startswith("create"))
    + r")|("
    + "|".join(k for k in JS_CLIENTS if k.startswith("create"))
    + r"))\s*\("
)
_AI_SDK_IMPORT = re.compile(r"""import\s*\{([^}]*)\}\s*from\s*['"]@ai-sdk/(openai|anthropic|google|groq|mistral)['"]""")
_SDK_CALLS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"\.chat\.completions\.(?:create|stream|parse)\s*\("), "", "/chat/completions"),
    (re.compile(r"\.responses\.(?:create|stream)\s*\("), "", "/responses"),
    (re.compile(r"\.images\.generate\s*\("), "", "/images/generations"),
    (re.compile(r"\.videos\.create\s*\("), "", "/videos"),
    (re.compile(r"\.embeddings\.create\s*\("), "", "/embeddings"),
    (re.compile(r"\.messages\.(?:create|stream)\s*\("), "anthropic", "/messages"),
    (re.compile(r"\.(?:models\.)?generateContent(?:Stream)?\s*\("), "google", "/models/{model}:generateContent"),
    (re.compile(r"\.chat\.(?:complete|stream)\s*\("), "mistral", "/chat/completions"),
    (re.compile(r"\.chat(?:Stream)?\s*\("), "cohere", "/chat"),
    (re.compile(r"\.run\s*\("), "replicate", "/predictions"),
    (re.compile(r"\.(?:chatCompletion|chatCompletionStream)\s*\("), "huggingface", "/v1/chat/completions"),
    (re.compile(r"\.(?:textGeneration|textToImage|textToSpeech)\s*\("), "huggingface", "/models/{model}"),
    (re.compile(r"\.textToSpeech\.(?:convert|stream)\s*\("), "elevenlabs", "/text-to-speech/{voice}"),
    (re.compile(r"\b(?:generateText|streamText|generateObject|streamObject|generateImage)\s*\("), "ai-sdk", ""),
)
_HTTP = re.compile(
    r"(?<![\w.$])(?:fetch|axios(?:\.(?:post|get|put|patch|request))?|got(?:\.post)?|ky(?:\.post)?"
    r"|\$fetch|ofetch|superagent\.post)\s*\("
)
_PROXY = re.compile(r"\b(?:createProxyMiddleware|legacyCreateProxyMiddleware|createProxyServer)\s*\(")
_TARGET_PROP = re.compile(r"""\btarget['"]?\s*:\s*""")
_SET_HEADER = re.compile(
    r"""\.set(?:Header)?\(\s*['"](?:authorization|x-api-key|api-key|xi-api-key|x-goog-api-key)['"]\s*,\s*""", re.I
)
_MODEL_ASSIGN = re.compile(r"""\.model\s*=\s*""")
_MOUNT = re.compile(r"""\.use\(\s*(['"`])(/[^'"`]*)\1\s*,\s*$""")
_API_ROOTS = ("", "/v1", "/v1beta", "/openai/v1")
"""Mount points of a whole-API pass-through: it relays every public endpoint, none in particular."""
_HEADER = re.compile(r"""['"]?(authorization|x-api-key|api-key|xi-api-key|x-goog-api-key)['"]?\s*:\s*""", re.I)
_MODEL = re.compile(r"""\bmodel(?:Id|Name)?['"]?\s*:\s*""")
_KEY_PROP = re.compile(r"""\b(?:apiKey|api_key|auth|token|accessToken)\s*:\s*""")
_BASE_PROP = re.compile(r"""\b(?:baseURL|baseUrl|base_url|endpoint)\s*:\s*""")
_AI_SDK_BASE = {
    "openai": "/chat/completions",
    "anthropic": "/messages",
    "google": "/models/{model}:generateContent",
    "groq": "/chat/completions",
    "mistral": "/chat/completions",
}


@dataclass
class JsAnalysis:
    relays: list[Relay] = field(default_factory=list)
    interface: str | None = None


@dataclass
class _Client:
    provider: str
    key_source: str | None
    base: str | None
    offset: int
    variable: str | None


def analyze_js(source: str) -> JsAnalysis:
    code = _blank_comments(source)
    interface = next((name for pattern, name in _INTERFACES if pattern.search(code)), None)
    consts = _constants(code)
    clients = _clients(code, consts)
    relays: list[Relay] = []
    for pattern, family, path in _SDK_CALLS:
        for match in pattern.finditer(code):
            args = _balanced(code, match.end() - 1)
            relay = _sdk_relay(code, match.start(), args, family, path, clients, consts)
            if relay is not None:
                relays.append(relay)
    for match in _HTTP.finditer(code):
        relay = _http_relay(code, match.start(), _balanced(code, match.end() - 1), consts)
        if relay is not None:
            relays.append(relay)
    for match in _PROXY.finditer(code):
        relay = _proxy_relay(code, match.start(), _balanced(code, match.end() - 1), consts)
        if relay is not None:
            relays.append(relay)
    return JsAnalysis(relays, interface)


def _blank_comments(source: str) -> str:
    def blank(match: re.Match[str]) -> str:
        text = match.group(0)
        return re.sub(r"[^\n]", " ", text) if text.startswith(("//", "/*")) else text

    return _TOKENS.sub(blank, source)


def _balanced(code: str, open_at: int) -> str:
    """Text between the bracket at ``open_at`` and its partner (strings respected, capped at 20 kB)."""
    closing = {"(": ")", "{": "}", "[": "]"}
    stack: list[str] = []
    i, end = open_at, min(len(code), open_at + 20_000)
    while i < end:
        char = code[i]
        if char in "'\"`":
            string = _TOKENS.match(code, i)
            i = string.end() if string else i + 1
            continue
        if char in closing:
            stack.append(closing[char])
        elif stack and char == stack[-1]:
            stack.pop()
            if not stack:
                return code[open_at + 1 : i]
        i += 1
    return code[open_at + 1 : end]


def _expression(text: str, start: int) -> str:
    """The expression starting at ``start``, up to a top-level ``,`` ``;`` ``}`` ``)`` or newline."""
    depth, i = 0, start
    while i < len(text):
        char = text[i]
        if char in "'\"`":
            string = _TOKENS.match(text, i)
            i = string.end() if string else i + 1
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and (char in ",;" or (char == "\n" and text[start:i].strip())):
            break
        i += 1
    return text[start:i].strip()


def _constants(code: str) -> dict[str, str]:
    return {m.group(1): _expression(code, m.end()) for m in _CONST.finditer(code)}


def _string(expr: str, consts: dict[str, str], depth: int = 0) -> str | None:
    expr = expr.strip()
    if depth > 5 or not expr:
        return None
    if len(expr) >= 2 and expr[0] in "'\"`" and expr[-1] == expr[0]:
        body = expr[1:-1]
        if expr[0] == "`":
            body = re.sub(
                r"\$\{([^}]*)\}", lambda m: _string(m.group(1), consts, depth + 1) or "{" + m.group(1) + "}", body
            )
        return body
    if re.fullmatch(r"[A-Za-z_$][\w$]*", expr) and expr in consts:
        return _string(consts[expr], consts, depth + 1)
    for operator in ("||", "??"):
        if operator in expr:
            return next((s for part in expr.split(operator) if (s := _string(part, consts, depth + 1))), None)
    plus = [p for p in expr.split("+")]
    if len(plus) > 1:
        parts = [_string(p, consts, depth + 1) for p in plus]
        return "".join(p if p is not None else "{}" for p in parts) if any(parts) else None
    return None


def _strings(expr: str, consts: dict[str, str], depth: int = 0) -> list[str]:
    expr = expr.strip()
    if depth > 5 or not expr:
        return []
    if expr.startswith("[") and expr.endswith("]"):
        return [s for item in re.findall(r"""(['"`])([^'"`]+)\1""", expr) for s in [item[1]]]
    if re.fullmatch(r"[A-Za-z_$][\w$]*", expr) and expr in consts:
        return _strings(consts[expr], consts, depth + 1)
    value = _string(expr, consts, depth)
    return [value] if value and "{" not in value else []


def _credential(expr: str, consts: dict[str, str], depth: int = 0) -> str | None:
    expr = expr.strip()
    if depth > 5 or not expr:
        return None
    if "import.meta.env" in expr:
        return None  # bundled into the browser build: a leak for the credential detector, not a relay
    if re.search(r"process\.env|Deno\.env|\benv\.[A-Z_]|\benv\[|Bun\.env", expr):
        return "env"
    if re.search(r"\breq(?:uest)?\.(?:body|headers|query|json)|\bbody\.|searchParams|\bargs\.", expr):
        return "user"
    if len(expr) >= 2 and expr[0] in "'\"`" and expr[-1] == expr[0]:
        inner = [_credential(m.group(1), consts, depth + 1) for m in re.finditer(r"\$\{([^}]*)\}", expr)]
        literal = re.sub(r"\$\{[^}]*\}", "", expr[1:-1]).replace("Bearer ", "").strip()
        return best_source([*inner, literal_credential(literal)])
    if re.fullmatch(r"[A-Za-z_$][\w$]*", expr):
        return _credential(consts[expr], consts, depth + 1) if expr in consts else None
    parts = re.split(r"\|\||\?\?|\+|\?|:", expr)
    if len(parts) > 1:
        return best_source([_credential(p, consts, depth + 1) for p in parts])
    return None


def _prop(args: str, pattern: re.Pattern[str]) -> str | None:
    match = pattern.search(args)
    return _expression(args, match.end()) if match else None


def _clients(code: str, consts: dict[str, str]) -> list[_Client]:
    clients: list[_Client] = []
    for match in _CLIENT.finditer(code):
        name = match.group(1) or match.group(2)
        provider = JS_CLIENTS[name]
        args = _balanced(code, match.end() - 1)
        key_expr = _prop(args, _KEY_PROP)
        if key_expr is None and name in ("GoogleGenerativeAI",) and args.strip() and not args.strip().startswith("{"):
            key_expr = _expression(args, len(args) - len(args.lstrip()))
        if key_expr is not None:
            key_source = _credential(key_expr, consts)
        else:
            key_source = "env" if provider in DEFAULT_KEY_ENV else None
        base_expr = _prop(args, _BASE_PROP)
        base = _string(base_expr, consts) if base_expr else None
        before = code[max(0, match.start() - 80) : match.start()]
        variable = re.search(r"([A-Za-z_$][\w$.]*)\s*=\s*(?:await\s+)?$", before)
        clients.append(_Client(provider, key_source, base, match.start(), variable.group(1) if variable else None))
    for match in _AI_SDK_IMPORT.finditer(code):
        provider = match.group(2)
        for name in re.findall(r"[A-Za-z_$][\w$]*", match.group(1)):
            if name == provider:
                clients.append(_Client(provider, "env", None, match.start(), name))
    return clients


def _sdk_relay(
    code: str, start: int, args: str, family: str, path: str, clients: list[_Client], consts: dict[str, str]
) -> Relay | None:
    receiver = re.search(r"([A-Za-z_$][\w$.]*)\s*$", code[max(0, start - 80) : start])
    receiver_name = receiver.group(1) if receiver else ""
    models_expr = _prop(args, _MODEL)
    if family == "ai-sdk":
        factory = re.match(r"\s*([A-Za-z_$][\w$]*)\s*\(\s*(.*)\)\s*$", models_expr or "", re.DOTALL)
        if factory is None:
            return None
        client = next((c for c in reversed(clients) if c.variable == factory.group(1)), None)
        if client is None:
            return None
        path = _AI_SDK_BASE.get(client.provider, "/chat/completions")
        models = _strings(factory.group(2).split(",")[0], consts)
    else:
        candidates = [c for c in clients if c.offset < start and (family in ("", c.provider))]
        if family == "":
            candidates = [c for c in candidates if c.provider not in ("anthropic", "google", "cohere", "replicate")]
        named = [c for c in candidates if c.variable and receiver_name.split(".")[-1] == c.variable.split(".")[-1]]
        pool = named or candidates
        if not pool:
            return None
        client = pool[-1]
        models = _strings(models_expr, consts) if models_expr else []
        if family == "replicate" and not models:
            first = _expression(args, len(args) - len(args.lstrip()))
            models = _strings(first, consts)
    if client.key_source not in ("env", "secret", "hardcoded"):
        return None
    base = client.base if client.base and "://" in client.base else default_base(client.provider)
    if client.provider == "openai-compatible" and not (client.base and "://" in client.base):
        return None
    line, column = _position(code, start)
    return relay_for_url(base.rstrip("/") + path, client.provider, client.key_source, line, column, models)


def _http_relay(code: str, start: int, args: str, consts: dict[str, str]) -> Relay | None:
    url_expr = _expression(args, len(args) - len(args.lstrip()))
    url = _string(url_expr, consts)
    if url is None or "://" not in url:
        return None
    headers_text = args
    headers_ref = re.search(r"\bheaders\s*(?::\s*([A-Za-z_$][\w$]*))?\s*[,}\n]", args)
    if headers_ref:
        name = headers_ref.group(1) or "headers"
        declared = re.search(r"\b(?:const|let|var)\s+" + re.escape(name) + r"\s*(?::[^=]+)?=\s*\{", code)
        if declared:
            headers_text += _balanced(code, declared.end() - 1)
    sources = [_credential(_expression(headers_text, m.end()), consts) for m in _HEADER.finditer(headers_text)]
    sources += [_credential(m.group(1), consts) for m in re.finditer(r"[?&](?:key|api_key)=\$\{([^}]*)\}", url_expr)]
    source = best_source(sources)
    if source not in ("env", "secret", "hardcoded"):
        return None
    models_expr = _prop(args, _MODEL)
    models = _strings(models_expr, consts) if models_expr else []
    line, column = _position(code, start)
    return http_relay_for_url(url.split("?", 1)[0], source, line, column, models)


def _proxy_relay(code: str, start: int, args: str, consts: dict[str, str]) -> Relay | None:
    """A reverse proxy (http-proxy-middleware, http-proxy) to a provider that adds the app's own key."""
    target_expr = _prop(args, _TARGET_PROP)
    target = _string(target_expr, consts) if target_expr else None
    if target is None or "://" not in target:
        return None
    headers = (*_SET_HEADER.finditer(args), *_HEADER.finditer(args))
    source = best_source([_credential(_expression(args, m.end()), consts) for m in headers])
    if source not in ("env", "secret", "hardcoded"):
        return None
    mount = _MOUNT.search(code[max(0, start - 200) : start])
    url = target.rstrip("/") + (mount.group(2) if mount and urlsplit(target).path in ("", "/") else "")
    models = [m for a in _MODEL_ASSIGN.finditer(code) for m in _strings(_expression(code, a.end()), consts)]
    line, column = _position(code, start)
    relay = relay_for_url(url, None, source, line, column, models)
    if relay is not None and relay.path in _API_ROOTS:
        relay.documented = True
    return relay


def _position(code: str, offset: int) -> tuple[int, int]:
    line_start = code.rfind("\n", 0, offset) + 1
    return code.count("\n", 0, offset) + 1, offset - line_start + 1
