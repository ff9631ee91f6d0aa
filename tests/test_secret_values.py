"""Secret forms, whole-text and streaming redaction, and finding secrets line by line."""

from __future__ import annotations

import base64
import json
import urllib.parse

import pytest

from engine.secrets.values import Redactor, Secret, secret_forms

CANARY = "canary-Zx9!q/w+3é"
SECRET = Secret("NPM_TOKEN", CANARY)


@pytest.mark.parametrize(
    "encoded",
    [
        CANARY,
        urllib.parse.quote(CANARY, safe=""),
        urllib.parse.quote(CANARY),
        urllib.parse.quote_plus(CANARY),
        json.dumps(CANARY)[1:-1],
        json.dumps(CANARY, ensure_ascii=False)[1:-1],
        *(
            encode(prefix + CANARY.encode() + b"tail").decode()
            for prefix in (b"", b"a", b"ab")
            for encode in (base64.b64encode, base64.urlsafe_b64encode)
        ),
    ],
)
def test_every_form_of_a_secret_is_redacted_and_no_trace_of_it_stays(encoded: str) -> None:
    redacted = Redactor([SECRET]).redact_text(f"before {encoded} after")
    assert "***NPM_TOKEN***" in redacted
    assert not any(form.decode() in redacted for form in secret_forms(CANARY))


def test_a_secret_split_across_chunks_is_redacted_in_a_stream() -> None:
    data = f"one {CANARY}\ntwo {CANARY}".encode()
    for size in (1, 2, 3, 7):
        stream = Redactor([SECRET]).stream()
        chunks = [stream.feed(data[i : i + size]) for i in range(0, len(data), size)]
        out = b"".join(chunks) + stream.flush()
        assert out == b"one ***NPM_TOKEN***\ntwo ***NPM_TOKEN***"


def test_a_stream_holds_back_only_what_could_begin_a_secret() -> None:
    stream = Redactor([SECRET]).stream()
    assert stream.feed(b"progress 10%\r") == b"progress 10%\r"
    assert stream.feed(b"ok can") == b"ok "
    assert stream.flush() == b"can"


def test_hits_name_the_secret_and_the_line() -> None:
    redactor = Redactor([SECRET, Secret("PYPI", "pypi-AgEIcHlwaS5vcmc")])
    hits = redactor.hits(f"a\n//registry/:_authToken={CANARY}\nx pypi-AgEIcHlwaS5vcmc\n")
    assert [(hit.name, hit.line) for hit in hits] == [("NPM_TOKEN", 2), ("PYPI", 3)]


def test_no_secrets_change_nothing() -> None:
    redactor = Redactor([])
    assert not redactor
    assert redactor.redact_text("a\x00b") == "a\x00b"
    assert redactor.stream().feed(b"abc") == b"abc"
    assert repr(SECRET) == "Secret(name='NPM_TOKEN', value='***')"
