"""The one prompt loader: versioned Jinja templates and the reflection-prompt library.

Every file under `prompts/` starts with a header between `---` lines:

    ---
    version: 1
    variables: first_name, goal_title
    ---

A template may use only the variables its header declares, and rendering it needs
exactly those variables. Reflection files declare a competency instead and list their
prompts as `- <id>: <text>` items.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

import jinja2
from jinja2 import meta, nodes

TEMPLATE_SUFFIX = ".j2"
REFLECTION_SUFFIX = ".md"
TEMPLATE_HEADER_KEYS = frozenset({"version", "variables", "description"})
REFLECTION_HEADER_KEYS = frozenset({"version", "competency", "title", "aliases"})
VARIABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
REFLECTION_ID = re.compile(r"^[a-z]+(?:-[a-z]+)*-\d{2}$")
REFLECTION_ITEM = re.compile(r"^- ([^:\s]+):\s*(.*)$")

# Autoescape stays off: prompts are plain text for a model or a Slack message, not HTML.
# StrictUndefined turns any reference to a missing value into an error instead of "".
_ENVIRONMENT = jinja2.Environment(
    undefined=jinja2.StrictUndefined,
    autoescape=False,
    keep_trailing_newline=False,
    trim_blocks=True,
    lstrip_blocks=True,
)


class PromptError(Exception):
    """A prompt file is malformed, or was rendered with the wrong variables."""


@dataclass(frozen=True, slots=True)
class PromptTemplate:
    name: str
    version: str
    variables: frozenset[str]
    template: jinja2.Template

    @property
    def versioned_name(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True, slots=True)
class RenderedPrompt:
    """A rendered template: its whole text and the text of each `{% block %}` it defines."""

    name: str
    version: str
    text: str
    blocks: Mapping[str, str]

    @property
    def versioned_name(self) -> str:
        return f"{self.name}@{self.version}"


# --- headers ---------------------------------------------------------------------------


def split_header(
    *, name: str, source: str, allowed_keys: frozenset[str]
) -> tuple[dict[str, str], str]:
    """Split a prompt file into its `---` header (as key/value pairs) and its body."""
    lines = source.splitlines()
    if not lines or lines[0].strip() != "---":
        raise PromptError(f"prompt {name!r} must start with a '---' header")
    try:
        end = next(i for i, line in enumerate(lines[1:], start=1) if line.strip() == "---")
    except StopIteration:
        raise PromptError(f"prompt {name!r} has no closing '---' header line") from None
    header: dict[str, str] = {}
    for line in lines[1:end]:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        key = key.strip()
        if not sep or key not in allowed_keys:
            raise PromptError(f"prompt {name!r} has an unknown header line: {line.strip()!r}")
        if key in header:
            raise PromptError(f"prompt {name!r} declares {key!r} twice")
        header[key] = value.strip()
    if not header.get("version"):
        raise PromptError(f"prompt {name!r} must declare a version")
    return header, "\n".join(lines[end + 1 :])


def _declared_variables(*, name: str, value: str) -> frozenset[str]:
    declared = [part.strip() for part in value.split(",") if part.strip()]
    bad = [variable for variable in declared if not VARIABLE_NAME.match(variable)]
    if bad:
        raise PromptError(f"prompt {name!r} declares invalid variable names: {', '.join(bad)}")
    return frozenset(declared)


# --- templates -------------------------------------------------------------------------


def parse_template(*, name: str, source: str) -> PromptTemplate:
    """Compile a template file, refusing one that uses a variable its header does not declare."""
    header, body = split_header(name=name, source=source, allowed_keys=TEMPLATE_HEADER_KEYS)
    if "variables" not in header:
        raise PromptError(f"prompt {name!r} must declare its variables (may be empty)")
    variables = _declared_variables(name=name, value=header["variables"])
    try:
        tree = _ENVIRONMENT.parse(body)
        template = _ENVIRONMENT.from_string(body)
    except jinja2.TemplateSyntaxError as exc:
        raise PromptError(f"prompt {name!r} line {exc.lineno}: {exc.message}") from exc
    undeclared = sorted(meta.find_undeclared_variables(tree) - variables - _top_level_names(tree))
    if undeclared:
        raise PromptError(f"prompt {name!r} uses undeclared variables: {', '.join(undeclared)}")
    return PromptTemplate(
        name=name, version=header["version"], variables=variables, template=template
    )


def _top_level_names(tree: nodes.Template) -> frozenset[str]:
    # Jinja's analysis reports a top-level macro used inside a block as undeclared.
    return frozenset(node.name for node in tree.body if isinstance(node, nodes.Macro))


def _prompt_file(relative: str) -> Traversable:
    node = files("prompts")
    for part in relative.split("/"):
        node = node / part
    return node


@cache
def load_template(name: str) -> PromptTemplate:
    """Load `prompts/<name>.j2` once, e.g. `load_template("nudges/system")`."""
    if not re.fullmatch(r"[a-z0-9_]+(?:/[a-z0-9_]+)*", name):
        raise PromptError(f"invalid prompt name {name!r}")
    path = _prompt_file(name + TEMPLATE_SUFFIX)
    if not path.is_file():
        raise PromptError(f"no prompt file prompts/{name}{TEMPLATE_SUFFIX}")
    return parse_template(name=name, source=path.read_text(encoding="utf-8"))


def render_template(*, template: PromptTemplate, variables: Mapping[str, object]) -> RenderedPrompt:
    """Render with exactly the declared variables; anything missing or extra is an error."""
    missing = sorted(template.variables - variables.keys())
    extra = sorted(variables.keys() - template.variables)
    if missing or extra:
        problems = []
        if missing:
            problems.append(f"missing {', '.join(missing)}")
        if extra:
            problems.append(f"undeclared {', '.join(extra)}")
        raise PromptError(f"prompt {template.versioned_name}: {'; '.join(problems)}")
    try:
        context = template.template.new_context(dict(variables))
        # Rendering the whole template first defines its top-level macros for the blocks.
        text = "".join(template.template.root_render_func(context))
        blocks = {
            name: "".join(render(context)) for name, render in template.template.blocks.items()
        }
    except jinja2.UndefinedError as exc:
        raise PromptError(f"prompt {template.versioned_name}: {exc.message}") from exc
    return RenderedPrompt(name=template.name, version=template.version, text=text, blocks=blocks)


def render_prompt(*, name: str, variables: Mapping[str, object]) -> RenderedPrompt:
    """Load and render one prompt file from `prompts/`."""
    return render_template(template=load_template(name), variables=variables)


# --- the reflection-prompt library -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reflection:
    id: str
    text: str
    competency: str


@dataclass(frozen=True, slots=True)
class Competency:
    key: str
    title: str
    aliases: frozenset[str]

    def matches(self, name: str) -> bool:
        wanted = normalise_competency(name)
        return wanted == self.key or wanted in self.aliases


@dataclass(frozen=True, slots=True)
class ReflectionLibrary:
    competencies: tuple[Competency, ...]
    reflections: tuple[Reflection, ...]

    def competency_keys(self, names: Iterable[str]) -> frozenset[str]:
        """The library's competency keys that any of `names` (free text from goals) refers to."""
        names = list(names)
        return frozenset(c.key for c in self.competencies if any(c.matches(n) for n in names))


def normalise_competency(name: str) -> str:
    """'Giving Feedback', 'giving-feedback' and 'giving_feedback' all become 'giving_feedback'."""
    return "_".join(re.findall(r"[a-z0-9]+", name.casefold()))


def parse_reflections(*, name: str, source: str) -> tuple[Competency, list[Reflection]]:
    """Parse one competency file: a header, then `- <id>: <text>` items (indented continues)."""
    header, body = split_header(name=name, source=source, allowed_keys=REFLECTION_HEADER_KEYS)
    key = normalise_competency(header.get("competency", ""))
    if not key or not header.get("title"):
        raise PromptError(f"reflections {name!r} must declare a competency and a title")
    aliases = frozenset(
        normalise_competency(alias)
        for alias in header.get("aliases", "").split(",")
        if alias.strip()
    )
    items: list[list[str]] = []
    for line in body.splitlines():
        item = REFLECTION_ITEM.match(line)
        if item:
            items.append([item.group(1), item.group(2).strip()])
        elif line.startswith((" ", "\t")) and line.strip() and items:
            items[-1][1] = f"{items[-1][1]} {line.strip()}".strip()
        elif line.strip() and not line.startswith("#"):
            raise PromptError(f"reflections {name!r}: unexpected line {line.strip()!r}")
    reflections = []
    for prompt_id, text in items:
        if not REFLECTION_ID.match(prompt_id) or not text:
            raise PromptError(f"reflections {name!r}: bad prompt {prompt_id!r}")
        reflections.append(Reflection(id=prompt_id, text=text, competency=key))
    competency = Competency(key=key, title=header["title"], aliases=aliases)
    return competency, reflections


def build_library(*, sources: Mapping[str, str]) -> ReflectionLibrary:
    """Assemble a library from competency files (name -> text); ids must be unique."""
    competencies: list[Competency] = []
    reflections: list[Reflection] = []
    for name in sorted(sources):
        competency, items = parse_reflections(name=name, source=sources[name])
        competencies.append(competency)
        reflections.extend(items)
    duplicates = [prompt_id for prompt_id, n in Counter(r.id for r in reflections).items() if n > 1]
    if duplicates:
        raise PromptError(f"duplicate reflection ids: {', '.join(sorted(duplicates))}")
    return ReflectionLibrary(competencies=tuple(competencies), reflections=tuple(reflections))


@cache
def load_reflection_library() -> ReflectionLibrary:
    """Load every `prompts/reflections/*.md` file once."""
    folder = _prompt_file("reflections")
    sources = {
        entry.name.removesuffix(REFLECTION_SUFFIX): entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.is_file() and entry.name.endswith(REFLECTION_SUFFIX)
    }
    return build_library(sources=sources)


def pick_reflection(
    *,
    library: ReflectionLibrary,
    used_ids: Collection[str],
    preferred_competencies: Iterable[str],
    seed: int | str,
) -> Reflection | None:
    """An unused prompt, from the leader's goal competencies while any remain; None if all used."""
    used = set(used_ids)
    unused = [r for r in library.reflections if r.id not in used]
    preferred = library.competency_keys(preferred_competencies)
    pool = [r for r in unused if r.competency in preferred] or unused
    if not pool:
        return None
    rng = random.Random(seed)
    # Choose the competency first, so a competency with more prompts is not picked more often.
    competency = rng.choice(sorted({r.competency for r in pool}))
    return rng.choice(sorted((r for r in pool if r.competency == competency), key=lambda r: r.id))
