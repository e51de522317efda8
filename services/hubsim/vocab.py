"""Word lists that give synthetic owners, Space names and card fields a realistic look."""

from __future__ import annotations

FIRST_NAMES: tuple[str, ...] = (
    "alex", "maria", "sam", "priya", "omar", "yuki", "lena", "carlos", "wei", "fatima", "john", "anna",
    "ravi", "sofia", "kenji", "amir", "elena", "david", "mei", "lucas", "nina", "tom", "aisha", "ivan",
    "julia", "hassan", "chloe", "diego", "sara", "ben", "linh", "arjun", "emma", "felix", "hana", "max",
    "noah", "olga", "pedro", "rosa", "theo", "uma", "victor", "zoe", "kai", "leo", "mila", "yusuf",
)
LAST_NAMES: tuple[str, ...] = (
    "smith", "chen", "kumar", "garcia", "mueller", "tanaka", "ivanova", "rossi", "nguyen", "kim", "silva",
    "patel", "cohen", "dubois", "okafor", "jensen", "novak", "haddad", "lopez", "wang", "singh", "ali",
    "martin", "sato", "costa", "schmidt", "moreau", "park", "ahmed", "fischer",
)
HANDLE_WORDS: tuple[str, ...] = (
    "ml", "ai", "dev", "data", "neural", "pixel", "code", "deep", "byte", "quantum", "vision", "prompt",
    "tensor", "cloud", "open", "lab", "hacker", "ninja", "wizard", "builder", "maker", "geek", "llm",
)
ORG_NAMES: tuple[str, ...] = (
    "acme-ai", "deepfield", "nlp-lab", "openvision", "tinyml-group", "edu-ai", "visionworks", "langtech",
    "civic-ai", "robotics-club", "bio-ml", "finml", "speechlab", "genart-collective", "agentsmith-labs",
    "uni-nlp", "datacraft", "medvision", "climate-ai", "edge-inference",
)

EMOJIS: tuple[str, ...] = (
    "🤖", "🚀", "🔥", "🎨", "🖼️", "📊", "💬", "🎙️", "🧠", "📚", "⚡", "🐢", "🦙", "🌍", "🎵", "📝", "🔍", "💻",
)
COLORS: tuple[str, ...] = ("red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray")
LICENSES: tuple[str, ...] = ("mit", "apache-2.0", "openrail", "cc-by-4.0", "gpl-3.0", "other")
NAME_SUFFIXES: tuple[str, ...] = ("", "", "", "-demo", "-app", "-v2", "-test", "2", "-space", "-playground")
