"""Does a Go text/template parse? The same answer Prometheus and Alertmanager give.

Prometheus expands alert labels and annotations, and Alertmanager its notification
templates, with Go's text/template; a template that does not parse makes promtool
or amtool refuse the whole file. ``validate`` must refuse it first, quickly and
without those binaries, so this module follows the grammar of Go's
text/template/parse package (its lexer's tokens, then the parser's rules for
actions, pipelines, commands, operands, variables and control structures) and
knows which functions each program defines. tests/test_gotemplate.py checks its
verdicts against the real promtool on generated templates.

Only parsing is checked; what a template does when it runs (a missing label, a
failed query) is Prometheus' business at evaluation time, as it is promtool's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

GO_BUILTINS = frozenset(
    [
        "and",
        "call",
        "html",
        "index",
        "slice",
        "js",
        "len",
        "not",
        "or",
        "print",
        "printf",
        "println",
        "urlquery",
        "eq",
        "ge",
        "gt",
        "le",
        "lt",
        "ne",
    ]
)
# Defined by Prometheus' template package for alert labels and annotations (2.42 and 3.x;
# checked with both promtools), and the variables it declares before the user's text.
PROMETHEUS_FUNCTIONS = GO_BUILTINS | frozenset(
    [
        "query",
        "first",
        "label",
        "value",
        "sortByLabel",
        "strvalue",
        "humanize",
        "humanize1024",
        "humanizeDuration",
        "humanizePercentage",
        "humanizeTimestamp",
        "toTime",
        "title",
        "toUpper",
        "toLower",
        "match",
        "reReplaceAll",
        "safeHtml",
        "stripPort",
        "stripDomain",
        "graphLink",
        "tableLink",
        "args",
        "externalURL",
        "pathPrefix",
        "parseDuration",
    ]
)
PROMETHEUS_VARIABLES = ("$", "$labels", "$externalLabels", "$externalURL", "$value")
# Defined by Alertmanager's notification templates (0.25 has the first line; later
# releases added the second, checked with amtool 0.25 and 0.33).
ALERTMANAGER_FUNCTIONS = GO_BUILTINS | frozenset(
    [
        "toUpper",
        "toLower",
        "title",
        "join",
        "match",
        "safeHtml",
        "reReplaceAll",
        "stringSlice",
        "trimSpace",
        "safeUrl",
        "urlUnescape",
        "date",
        "tz",
        "since",
        "humanizeDuration",
        "list",
        "dict",
        "append",
        "toJson",
    ]
)

_KEYWORDS = frozenset(
    [
        "if",
        "else",
        "end",
        "range",
        "with",
        "define",
        "template",
        "block",
        "break",
        "continue",
        "true",
        "false",
        "nil",
    ]
)
_SPACE = " \t\r\n"
_NUMBER = re.compile(
    r"[+-]?(?:0[xX][0-9a-fA-F_]*(?:\.[0-9a-fA-F_]*)?(?:[pP][+-]?\d+)?"
    r"|0[bB][01_]+|0[oO][0-7_]+"
    r"|(?:\d[\d_]*)?\.?\d*(?:[eE][+-]?\d+)?)i?"
)
_GO_NUMBER = re.compile(
    r"[+-]?(?:0[xX](?:_?[0-9a-fA-F])+(?:\.[0-9a-fA-F]*)?(?:[pP][+-]?\d+)?"
    r"|0[xX]\.[0-9a-fA-F]+[pP][+-]?\d+"
    r"|0[bB](?:_?[01])+|0[oO](?:_?[0-7])+"
    r"|\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?(?:[eE][+-]?\d+)?"
    r"|\.\d(?:_?\d)*(?:[eE][+-]?\d+)?)i?"
)
_ESCAPE = re.compile(r"\\(?:[abfnrtv\\]|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3})")


class TemplateError(ValueError):
    """The template does not parse; the message says why, and where in the text."""


@dataclass(frozen=True)
class _Token:
    kind: str  # space, pipe, lparen, rparen, comma, declare, assign, string, raw, char,
    # number, bool, nil, dot, field, variable, identifier, keyword
    text: str


def check(text: str, functions: frozenset[str], variables: Iterable[str] = ("$",)) -> None:
    """Raise TemplateError unless ``text`` parses as a Go template with these functions
    and these variables already declared."""
    if "{{" not in text:
        return
    _Parser(functions, variables).parse(text)


def _lex_action(text: str, start: int) -> tuple[list[_Token], int]:
    """The tokens of one action starting after ``{{`` (and a left trim marker); the index
    just past its closing ``}}``."""
    tokens: list[_Token] = []
    i = start
    depth = 0
    while True:
        if i >= len(text):
            raise TemplateError("unclosed action")
        if text.startswith("}}", i):
            if depth:
                raise TemplateError("unclosed left paren")
            return tokens, i + 2
        c = text[i]
        if c in _SPACE:
            j = i
            while j < len(text) and text[j] in _SPACE:
                j += 1
            if text.startswith("-}}", j):
                if depth:
                    raise TemplateError("unclosed left paren")
                return tokens, j + 3
            tokens.append(_Token("space", " "))
            i = j
        elif c == "|":
            tokens.append(_Token("pipe", c))
            i += 1
        elif c == "(":
            depth += 1
            tokens.append(_Token("lparen", c))
            i += 1
        elif c == ")":
            depth -= 1
            if depth < 0:
                raise TemplateError("unexpected right paren")
            tokens.append(_Token("rparen", c))
            i += 1
        elif c == ",":
            tokens.append(_Token("comma", c))
            i += 1
        elif text.startswith(":=", i):
            tokens.append(_Token("declare", ":="))
            i += 2
        elif c == "=":
            tokens.append(_Token("assign", c))
            i += 1
        elif c == '"':
            i = _quoted(text, i, '"', "unterminated quoted string", tokens, "string")
        elif c == "'":
            i = _quoted(text, i, "'", "unterminated character constant", tokens, "char")
        elif c == "`":
            end = text.find("`", i + 1)
            if end < 0:
                raise TemplateError("unterminated raw quoted string")
            tokens.append(_Token("raw", text[i : end + 1]))
            i = end + 1
        elif c == "$":
            j = _word_end(text, i + 1)
            tokens.append(_Token("variable", text[i:j]))
            i = j
        elif c == "." and (i + 1 >= len(text) or not text[i + 1].isdigit()):
            j = _word_end(text, i + 1)
            tokens.append(_Token("field" if j > i + 1 else "dot", text[i:j]))
            i = j
        elif c.isdigit() or (
            c in "+-." and i + 1 < len(text) and (text[i + 1].isdigit() or text[i + 1] == ".")
        ):
            match = _NUMBER.match(text, i)
            assert match is not None
            j = match.end()
            if j < len(text) and (text[j].isalnum() or text[j] == "_"):
                raise TemplateError(f"bad number syntax: {text[i : j + 1]!r}")
            if not _GO_NUMBER.fullmatch(text[i:j]):
                raise TemplateError(f"bad number syntax: {text[i:j]!r}")
            tokens.append(_Token("number", text[i:j]))
            i = j
        elif c.isalpha() or c == "_":
            j = _word_end(text, i)
            word = text[i:j]
            if word in ("true", "false"):
                kind = "bool"
            elif word == "nil":
                kind = "nil"
            elif word in _KEYWORDS:
                kind = "keyword"
            else:
                kind = "identifier"
            tokens.append(_Token(kind, word))
            i = j
        else:
            raise TemplateError(f"bad character U+{ord(c):04X} {c!r}")


def _quoted(
    text: str, i: int, quote: str, unterminated: str, tokens: list[_Token], kind: str
) -> int:
    j = i + 1
    while True:
        if j >= len(text) or text[j] == "\n":
            raise TemplateError(unterminated)
        if text[j] == "\\":
            j += 2
            continue
        if text[j] == quote:
            break
        j += 1
    body = text[i + 1 : j]
    escapes = re.sub(_ESCAPE, "", body.replace("\\" + quote, ""))
    if "\\" in escapes:
        raise TemplateError(f"invalid syntax in {text[i : j + 1]!r}")
    if kind == "char" and len(re.sub(_ESCAPE, "x", body.replace("\\'", "x"))) != 1:
        raise TemplateError(f"malformed character constant: {text[i : j + 1]}")
    tokens.append(_Token(kind, text[i : j + 1]))
    return j + 1


def _word_end(text: str, i: int) -> int:
    while i < len(text) and (text[i].isalnum() or text[i] == "_"):
        i += 1
    return i


class _Parser:
    def __init__(self, functions: frozenset[str], variables: Iterable[str]) -> None:
        self.functions = functions
        self.scopes: list[set[str]] = [set(variables)]
        self.stack: list[str] = []  # open if/with/range/define/block

    def parse(self, text: str) -> None:
        i = 0
        while True:
            start = text.find("{{", i)
            if start < 0:
                break
            j = start + 2
            if text.startswith("-", j) and j + 1 < len(text) and text[j + 1] in _SPACE:
                j += 2
            if text.startswith("/*", j):
                i = self._comment(text, j)
                continue
            tokens, i = _lex_action(text, j)
            self._action(tokens)
        if self.stack:
            raise TemplateError(
                f"unexpected EOF: {{{{{self.stack[-1]}}}}} is not closed by {{{{end}}}}"
            )

    def _comment(self, text: str, j: int) -> int:
        end = text.find("*/", j + 2)
        if end < 0:
            raise TemplateError("unclosed comment")
        k = end + 2
        if text.startswith("}}", k):
            return k + 2
        if text.startswith(" -}}", k):
            return k + 4
        raise TemplateError("comment ends before closing delimiter")

    # --- actions -------------------------------------------------------------------------------

    def _action(self, tokens: list[_Token]) -> None:
        words = [t for t in tokens if t.kind != "space"]
        if not words:
            raise TemplateError("missing value for command")
        head = words[0]
        if head.kind != "keyword":
            self._pipeline(tokens, "command")
            return
        rest = _after_first(tokens)
        keyword = head.text
        if keyword in ("if", "with", "range"):
            self.scopes.append(set())
            self._pipeline(rest, keyword, range_=keyword == "range")
            self.stack.append(keyword)
        elif keyword == "else":
            if not self.stack or self.stack[-1] not in ("if", "with", "range"):
                raise TemplateError("unexpected {{else}}")
            others = [t for t in rest if t.kind != "space"]
            if others and others[0].text in ("if", "with") and self.stack[-1] in ("if", "with"):
                self._pipeline(_after_first(rest), others[0].text)
            elif others:
                raise TemplateError(f"unexpected {others[0].text!r} in else")
        elif keyword == "end":
            if [t for t in rest if t.kind != "space"]:
                raise TemplateError("unexpected token in end")
            if not self.stack:
                raise TemplateError("unexpected {{end}}")
            closed = self.stack.pop()
            if closed in ("if", "with", "range", "block") or closed == "define":
                self.scopes.pop()
        elif keyword in ("define", "block"):
            if keyword == "define" and self.stack:
                raise TemplateError("unexpected <define> in command")
            others = [t for t in rest if t.kind != "space"]
            if not others or others[0].kind not in ("string", "raw"):
                raise TemplateError(f"{keyword} needs a template name in quotes")
            if keyword == "define" and len(others) > 1:
                raise TemplateError("unexpected token after the name in define")
            if keyword == "block":
                self._optional_pipeline(_after_first(rest), "block")
            self.scopes.append({"$"} if keyword == "define" else set())
            self.stack.append(keyword)
        elif keyword == "template":
            others = [t for t in rest if t.kind != "space"]
            if not others or others[0].kind not in ("string", "raw"):
                raise TemplateError("template needs a template name in quotes")
            self._optional_pipeline(_after_first(rest), "template")
        elif keyword in ("break", "continue"):
            if "range" not in self.stack:
                raise TemplateError(f"{{{{{keyword}}}}} outside {{{{range}}}}")
            if [t for t in rest if t.kind != "space"]:
                raise TemplateError(f"unexpected token in {{{{{keyword}}}}}")
        else:
            self._pipeline(tokens, "command")

    def _optional_pipeline(self, tokens: list[_Token], context: str) -> None:
        if [t for t in tokens if t.kind != "space"]:
            self._pipeline(tokens, context)

    # --- pipelines -----------------------------------------------------------------------------

    def _pipeline(self, tokens: list[_Token], context: str, range_: bool = False) -> None:
        words = [t for t in tokens if t.kind != "space"]
        if not words:
            raise TemplateError(f"missing value for {context}")
        declared = self._declaration(words, range_)
        words = words[declared:]
        if not words:
            raise TemplateError(f"missing value for {context}")
        stages = _split(tokens_without_declaration(tokens, declared), "pipe")
        if len(stages) > 1 and not [t for t in stages[-1] if t.kind != "space"]:
            stages.pop()  # Go's parser accepts a pipe just before the end of the action
        for number, stage in enumerate(stages, start=1):
            self._command(stage, number)

    def _declaration(self, words: list[_Token], range_: bool) -> int:
        """How many leading tokens declare or assign variables (``$x :=``, ``$i, $e :=``)."""
        if (
            len(words) >= 2
            and words[0].kind == "variable"
            and words[1].kind in ("declare", "assign")
        ):
            self._bind(words[0], words[1])
            return 2
        if (
            range_
            and len(words) >= 4
            and words[0].kind == "variable"
            and words[1].kind == "comma"
            and words[2].kind == "variable"
            and words[3].kind in ("declare", "assign")
        ):
            self._bind(words[0], words[3])
            self._bind(words[2], words[3])
            return 4
        if len(words) >= 2 and words[0].kind == "variable" and words[1].kind == "comma":
            raise TemplateError("too many declarations in command")
        return 0

    def _bind(self, variable: _Token, op: _Token) -> None:
        name = variable.text
        if op.kind == "assign":
            self._defined(name)
        else:
            self.scopes[-1].add(name)

    def _defined(self, name: str) -> None:
        if not any(name in scope for scope in self.scopes):
            raise TemplateError(f'undefined variable "{name}"')

    def _command(self, tokens: list[_Token], stage: int) -> None:
        operands = _operands(tokens)
        if not operands:
            raise TemplateError("missing value for command")
        for index, operand in enumerate(operands):
            first = operand[0]
            if (
                index == 0
                and stage > 1
                and first.kind in ("bool", "number", "string", "raw", "char", "nil", "dot")
            ):
                raise TemplateError(f"non executable command in pipeline stage {stage}")
            self._operand(operand)

    def _operand(self, tokens: list[_Token]) -> None:
        first = tokens[0]
        if first.kind == "lparen":
            self._pipeline(tokens[1 : _closing(tokens)], "parenthesized pipeline")
            chain = tokens[_closing(tokens) + 1 :]
        else:
            chain = tokens[1:]
            if first.kind == "variable":
                self._defined(first.text)
            elif first.kind == "identifier":
                if first.text not in self.functions:
                    raise TemplateError(f'function "{first.text}" not defined')
            elif first.kind == "keyword":
                raise TemplateError(f"unexpected <{first.text}> in operand")
            elif first.kind in ("pipe", "rparen", "comma", "declare", "assign"):
                raise TemplateError(f"unexpected {first.text!r} in operand")
        for link in chain:
            if link.kind != "field":
                raise TemplateError(f"unexpected {link.text!r} in operand")
            if first.kind in ("bool", "string", "raw", "char", "number", "nil", "dot"):
                raise TemplateError(f"unexpected . after term {first.text!r}")


def tokens_without_declaration(tokens: list[_Token], declared: int) -> list[_Token]:
    """``tokens`` after the first ``declared`` non-space tokens."""
    seen = 0
    for i, token in enumerate(tokens):
        if seen == declared:
            return tokens[i:]
        if token.kind != "space":
            seen += 1
    return []


def _after_first(tokens: list[_Token]) -> list[_Token]:
    return tokens_without_declaration(tokens, 1)


def _split(tokens: list[_Token], kind: str) -> list[list[_Token]]:
    """Split at ``kind`` tokens outside parentheses."""
    parts: list[list[_Token]] = [[]]
    depth = 0
    for token in tokens:
        depth += token.kind == "lparen"
        depth -= token.kind == "rparen"
        if token.kind == kind and depth == 0:
            parts.append([])
        else:
            parts[-1].append(token)
    return parts


def _operands(tokens: list[_Token]) -> list[list[_Token]]:
    """A command's operands: split at spaces outside parentheses; a field chain stays joined."""
    operands: list[list[_Token]] = []
    current: list[_Token] = []
    depth = 0
    for token in tokens:
        if token.kind == "space" and depth == 0:
            if current:
                operands.append(current)
            current = []
            continue
        depth += token.kind == "lparen"
        depth -= token.kind == "rparen"
        current.append(token)
    if current:
        operands.append(current)
    return operands


def _closing(tokens: list[_Token]) -> int:
    depth = 0
    for i, token in enumerate(tokens):
        depth += token.kind == "lparen"
        depth -= token.kind == "rparen"
        if depth == 0:
            return i
    raise TemplateError("unclosed left paren")
