"""Hardened XML parsing: entity declarations refused, no files or network read."""

from __future__ import annotations

import pytest

from hub.errors import ConnectorError
from hub.sdk import parse_xml

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<lolz>&lol9;</lolz>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE foo [ <!ELEMENT foo ANY > <!ENTITY xxe SYSTEM "file:///etc/passwd" > ]>
<foo>&xxe;</foo>"""


@pytest.mark.parametrize("document", [BILLION_LAUGHS, XXE], ids=["billion-laughs", "xxe"])
def test_entity_declarations_are_refused(document):
    with pytest.raises(ConnectorError, match="refused XML with entity declarations") as caught:
        parse_xml(document, source="https://repo.example/oai")
    assert not caught.value.retryable and "repo.example" in caught.value.message


@pytest.mark.parametrize("document", [BILLION_LAUGHS, XXE], ids=["billion-laughs", "xxe"])
def test_entity_declarations_are_refused_in_utf16(document):
    encoded = document.replace(b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="UTF-16"?>')
    with pytest.raises(ConnectorError, match="refused XML with entity declarations"):
        parse_xml(encoded.decode().encode("utf-16"))


def test_external_dtd_is_not_loaded_and_no_file_content_leaks():
    root = parse_xml(b'<!DOCTYPE foo SYSTEM "file:///etc/passwd"><foo>plain</foo>')
    assert root.text == "plain"


def test_plain_document_parses_with_namespaces():
    root = parse_xml(b'<a xmlns="urn:x"><b>1</b><b>2</b></a>')
    assert [b.text for b in root.findall("{urn:x}b")] == ["1", "2"]


def test_malformed_xml_is_a_connector_error():
    with pytest.raises(ConnectorError, match="invalid XML"):
        parse_xml(b"<a><b></a>")


def test_text_is_refused():
    with pytest.raises(TypeError):
        parse_xml("<a/>")  # type: ignore[arg-type]
